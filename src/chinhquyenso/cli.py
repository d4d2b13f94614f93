"""`cqs` — the operators' command: Django management commands under dashed names, with Vietnamese help.

`cqs help` (or `cqs`, `cqs --help`) lists the project's commands, each with the first sentence of its
own `help` — generated, so the list cannot fall behind the commands; `cqs help --django` lists the
commands Django and its add-ons provide (`migrate`, `createsuperuser`, …); `cqs help LỆNH` is
`cqs LỆNH --help`. Every other `cqs seed-demo …` runs `manage.py seed_demo …`.
"""

import os
import sys
import textwrap

PROJECT_APP_PREFIX = "chinhquyenso."
HELP_ARGS = (["help"], ["--help"], ["-h"], [])


def command_name(name: str) -> str:
    return name.replace("_", "-")


def commands() -> dict[str, str]:
    """Every management command (underscore name) → the app that provides it."""
    import django
    from django.core.management import get_commands

    django.setup()
    return get_commands()


def project_commands() -> dict[str, object]:
    """The project's commands, dashed name → command instance, sorted by name."""
    from django.core.management import load_command_class

    return {
        command_name(name): load_command_class(app, name)
        for name, app in sorted(commands().items())
        if app.startswith(PROJECT_APP_PREFIX)
    }


def _entry(name: str, text: str, width: int = 100) -> str:
    lines = textwrap.wrap(text, width - 26) or [""]
    first = f"  {name:<22}  {lines[0]}" if len(name) <= 22 else f"  {name}\n{'':26}{lines[0]}"
    return "\n".join([first, *(f"{'':26}{line}" for line in lines[1:])])


def help_text() -> str:
    import argparse

    from chinhquyenso.core.management.base import summary

    out = [
        "cách dùng: cqs LỆNH [tham số]",
        "",
        "Hướng dẫn chi tiết của một lệnh: cqs LỆNH --help (hoặc cqs help LỆNH).",
        "",
        "Các lệnh của Chính quyền số:",
    ]
    for name, command in project_commands().items():
        out.append(_entry(name, summary(command)))
        # Commands with sub-commands (`cqs report build`) list each one, with its own help.
        parser = command.create_parser("cqs", name)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    out.append(_entry(f"  {name} {choice.dest}", choice.help or ""))
    out += ["", "Các lệnh của Django (migrate, createsuperuser, collectstatic, check, …): cqs help --django"]
    return "\n".join(out)


def django_help_text() -> str:
    by_app: dict[str, list[str]] = {}
    for name, app in sorted(commands().items()):
        if not app.startswith(PROJECT_APP_PREFIX):
            by_app.setdefault(app.rpartition(".")[2], []).append(name)
    out = ["Các lệnh của Django và các thành phần đi kèm (hướng dẫn: cqs LỆNH --help, tiếng Anh):"]
    for app, names in sorted(by_app.items()):
        out += ["", f"[{app}]", *textwrap.wrap(", ".join(names), 98, initial_indent="  ", subsequent_indent="  ")]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chinhquyenso.settings")
    if argv[:1] == ["demo"]:
        # The demo serves plain http://127.0.0.1, where browsers drop Secure cookies.
        os.environ.setdefault("CQS_INSECURE_COOKIES", "1")
        # Links in the demo's e-mails and notices point at the demo server (a production site sets its own).
        os.environ.setdefault("CQS_SITE_URL", "http://127.0.0.1:8000")
    if argv in HELP_ARGS:
        print(help_text())
        return
    if argv == ["help", "--django"]:
        print(django_help_text())
        return
    if argv[:1] == ["help"] and len(argv) == 2:
        argv = [argv[1], "--help"]
    if argv and not argv[0].startswith("-"):
        argv[0] = argv[0].replace("-", "_")  # cqs seed-demo → seed_demo
        # An unknown name gets a Vietnamese answer; with --settings/--pythonpath Django must load them first.
        custom = any(a.startswith(("--settings", "--pythonpath")) for a in argv)
        known = {} if custom else commands()
        if known and argv[0] not in known:
            import difflib

            close = difflib.get_close_matches(command_name(argv[0]), [command_name(n) for n in known], n=3)
            hint = f" Có phải ý bạn là: {', '.join(close)}?" if close else ""
            print(f"Không có lệnh «{command_name(argv[0])}».{hint} Xem danh sách lệnh: cqs help", file=sys.stderr)
            raise SystemExit(1)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cqs", *argv])


if __name__ == "__main__":
    main()

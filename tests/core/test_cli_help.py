"""`cqs help` and every command's `--help`: complete, Vietnamese, named as in docs/operations.md."""

import argparse
import re
from pathlib import Path

import pytest

from chinhquyenso.cli import commands, main, project_commands

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
ENGLISH = ("usage:", "options:", "positional arguments", "show this help", "show program's", "verbosity level")


def _parsers(parser):
    """The parser and every sub-parser under it (`cqs report build`)."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_cqs_help_lists_every_project_command_by_its_dashed_name(capsys):
    names = project_commands()
    assert {"kpi", "index766", "report", "load-indicators", "rebuild-facts", "load-feedback-categories"} <= set(names)
    for argv in ([], ["help"], ["--help"]):
        main(argv)
        out = capsys.readouterr().out
        listed = set(re.findall(r"^  (\S+)", out, re.MULTILINE))
        assert set(names) <= listed, argv
        assert "cqs help --django" in out and not any(word in out.lower() for word in ENGLISH)
    main(["help"])
    out = capsys.readouterr().out
    # Sub-commands are listed with their own help.
    assert re.search(r"^    report build\s+\S", out, re.MULTILINE)
    assert re.search(r"^    report check\s+\S", out, re.MULTILINE)


def test_cqs_help_django_lists_the_other_commands(capsys):
    main(["help", "--django"])
    out = capsys.readouterr().out
    assert "migrate" in out and "createsuperuser" in out and "seed_demo" not in out


@pytest.mark.parametrize("name", sorted(project_commands()))
def test_command_help_is_vietnamese_and_every_argument_is_explained(name):
    command = project_commands()[name]
    parser = command.create_parser("manage.py", name.replace("-", "_"))
    text = parser.format_help()
    assert text.startswith(f"cách dùng: cqs {name}"), text[:80]
    assert not [word for word in ENGLISH if word in text.lower()], text
    assert "tùy chọn:" in text
    for sub in _parsers(parser):
        sub_text = sub.format_help()
        assert not [word for word in ENGLISH if word in sub_text.lower()], sub_text
        missing = [a.option_strings or a.dest for a in sub._actions if not a.help]
        assert not missing, f"cqs {name}: tham số chưa có hướng dẫn {missing}"


def test_unknown_command_answers_in_vietnamese(capsys):
    with pytest.raises(SystemExit):
        main(["seed-dem"])
    assert "Không có lệnh «seed-dem»" in capsys.readouterr().err


def _documented_commands() -> set[str]:
    section = OPERATIONS.read_text(encoding="utf-8").split("## Các lệnh `cqs`", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `cqs ")]
    return {name for row in rows for name in re.findall(r"`cqs ([a-z0-9-]+)", row.split(" | ")[0])}


def test_operations_guide_lists_every_command():
    documented = _documented_commands()
    project = set(project_commands())
    assert project - documented == set(), "thiếu trong docs/operations.md"
    # Whatever else the table names is a real command (Django's migrate, createsuperuser, …).
    assert documented - project <= {n.replace("_", "-") for n in commands()}

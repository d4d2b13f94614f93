"""`cqs <lệnh> --help` and a wrong command line answer in Vietnamese, for every
command `cqs help` lists and every sub-command: no English from argparse
("usage:", "error:", "the following arguments are required", "invalid
choice", "unrecognized arguments", …) around the Vietnamese texts."""

import argparse
import os
import re

import pytest
from django.core.management import call_command

from chinhquyenso.cli import main, project_commands
from chinhquyenso.core.management.base import CommandError

ENGLISH = (
    "usage:",
    "error:",
    "Error:",
    "the following arguments",
    "are required",
    "invalid choice",
    "choose from",
    "unrecognized arguments",
    "expected one argument",
    "expected at",
    "invalid int value",
    "invalid float value",
    "argument ",
    "not allowed with",
    "ambiguous option",
    "unknown parser",
    "positional arguments",
    "options:",
    "show this help",
    "show program's",
)


# A value's name argparse makes from the English option name: "--period PERIOD", "file".
ENGLISH_VALUE_NAME = re.compile(r"--[a-z-]+ ([A-Z][A-Z_]+)\b|^ {2}([a-z_]+) {2,}", re.M)


def _english(text: str) -> list[str]:
    found = [phrase for phrase in ENGLISH if phrase in text]
    return found + [m.group(0).strip() for m in ENGLISH_VALUE_NAME.finditer(text) if (m.group(1) or m.group(2))]


def _parsers(parser, prefix):
    """(argv prefix, parser) for the command and each of its sub-commands (`cqs report build`)."""
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, [*prefix, name])


def _wrong_lines(name: str) -> list[list[str]]:
    """Command lines argparse refuses, one for each kind of mistake the command allows."""
    parser = project_commands()[name].create_parser("cqs", name.replace("-", "_"))
    lines = []
    for prefix, sub in _parsers(parser, [name]):
        lines.append([*prefix, "--khong-co-tuy-chon"])  # unrecognized arguments
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                lines.append([*prefix, "khong-co-lenh-con"])  # invalid choice of a sub-command
                continue
            if not action.option_strings or action.nargs == 0 or action.dest in ("help", "version"):
                continue
            option = action.option_strings[-1]
            if action.nargs is None:
                lines.append([*prefix, option])  # expected one argument
            if action.choices is not None:
                lines.append([*prefix, option, "khong-hop-le"])  # invalid choice
            elif action.type in (int, float):
                lines.append([*prefix, option, "abc"])  # invalid int value
    return lines


@pytest.fixture(autouse=True)
def own_environment(monkeypatch):
    # `cqs demo …` sets variables for the demo server; keep them out of the other tests.
    monkeypatch.setattr(os, "environ", os.environ.copy())


@pytest.mark.parametrize("name", sorted(project_commands()))
def test_help_through_cqs_is_vietnamese(name, capsys):
    parser = project_commands()[name].create_parser("cqs", name.replace("-", "_"))
    for prefix, _sub in _parsers(parser, [name]):
        with pytest.raises(SystemExit) as exit_:
            main([*prefix, "--help"])
        out = capsys.readouterr().out
        assert exit_.value.code in (0, None)
        assert out.startswith(f"cách dùng: cqs {' '.join(prefix)}"), out[:80]
        assert not _english(out), (prefix, _english(out))


@pytest.mark.parametrize("name", sorted(project_commands()))
def test_wrong_command_line_is_answered_in_vietnamese(name, capsys):
    for argv in _wrong_lines(name):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        captured = capsys.readouterr()
        assert exit_.value.code == 2, argv
        assert f"cqs {argv[0]}" in captured.err and ": lỗi: " in captured.err, (argv, captured.err)
        assert captured.err.startswith("cách dùng: cqs "), (argv, captured.err)
        assert not _english(captured.err + captured.out), (argv, captured.err)


def test_the_messages_name_the_mistake(capsys):
    def error_of(argv):
        with pytest.raises(SystemExit):
            main(argv)
        return capsys.readouterr().err.strip().splitlines()[-1]

    assert error_of(["kpi", "--khong-co"]) == "cqs kpi: lỗi: không hiểu tham số: --khong-co"
    assert error_of(["report"]).startswith("cqs report: lỗi: thiếu tham số bắt buộc: {build,")
    assert "không có lựa chọn “nope”; chọn một trong: “build”" in error_of(["report", "nope"])
    assert error_of(["kpi", "--verbosity", "9"]) == (
        "cqs kpi: lỗi: tham số -v/--verbosity: không có lựa chọn 9; chọn một trong: 0, 1, 2, 3"
    )
    assert error_of(["demo", "--addr"]) == "cqs demo: lỗi: tham số --addr: cần một giá trị"


def test_call_command_errors_are_vietnamese_too():
    with pytest.raises(CommandError) as caught:
        call_command("kpi", "--khong-co")
    assert str(caught.value) == "Lỗi: không hiểu tham số: --khong-co"

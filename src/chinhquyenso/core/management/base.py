"""The base of every `cqs` command: its `--help` is Vietnamese and named as operators type it.

Django builds each command's parser with English texts of its own ("Show program's version number…",
not wrapped in gettext, so activating the `vi` locale changes nothing) and argparse adds more ("usage:",
"options:", "show this help message and exit") from its own gettext domain, which has no Vietnamese
catalog. Rather than translate per command, `BaseCommand.create_parser` renames the command to its
dashed form (`cqs seed-demo`, as in the docs) and rewrites those fixed texts once, on the parser and on
any sub-parser a command adds (`cqs report build`). argparse's error messages ("the following arguments
are required", "invalid choice", …) reach `ArgumentParser.error` already formatted in English: the parser
class set here reads them back with the msgid's pattern (ARGPARSE_ERRORS) and answers in Vietnamese,
"cqs kpi: lỗi: không hiểu tham số: --x". `cqs help` (chinhquyenso.cli) lists the commands.
"""

import argparse
import re
import sys

from django.core.management.base import BaseCommand as DjangoBaseCommand
from django.core.management.base import CommandError, CommandParser, DjangoHelpFormatter

__all__ = ["BaseCommand", "CommandError", "VietnameseCommandParser", "summary", "translate_error"]

# Help of the options Django and argparse add to every command, keyed by `dest`.
DEFAULT_OPTION_HELP = {
    "help": "In hướng dẫn này rồi thoát.",
    "version": "In số phiên bản rồi thoát.",
    "verbosity": "Mức chi tiết khi in: 0 tối thiểu, 1 bình thường, 2 chi tiết, 3 rất chi tiết.",
    "settings": "Mô-đun cấu hình Python, ví dụ chinhquyenso.settings; mặc định theo biến DJANGO_SETTINGS_MODULE.",
    "pythonpath": "Thư mục thêm vào đường dẫn tìm mô-đun Python.",
    "traceback": "In toàn bộ vết lỗi (traceback) khi lệnh báo lỗi.",
    "no_color": "Không tô màu kết quả in ra.",
    "force_color": "Luôn tô màu kết quả in ra.",
    "skip_checks": "Bỏ qua bước kiểm tra cấu hình hệ thống.",
}

# A value's name in the usage line, by `dest`: "--period KỲ", "tệp", not argparse's "--period PERIOD",
# "file" made from the English option name. Options without an entry show GIÁ_TRỊ.
VALUE_NAMES = {
    "settings": "MÔ_ĐUN",
    "pythonpath": "THƯ_MỤC",
    "period": "KỲ",
    "agency": "CƠ_QUAN",
    "commune": "XÃ",
    "from": "TỪ_NGÀY",
    "to": "ĐẾN_NGÀY",
    "until": "ĐẾN_NGÀY",
    "dossiers": "SỐ_HỒ_SƠ",
    "seed": "SỐ",
    "workers": "SỐ_TIẾN_TRÌNH",
    "max_requests": "SỐ_YÊU_CẦU",
    "timeout": "GIÂY",
    "graceful_timeout": "GIÂY",
    "interval": "GIÂY",
    "user": "TÊN_ĐĂNG_NHẬP",
    "ip": "ĐỊA_CHỈ_IP",
    "forwarded_allow_ips": "ĐỊA_CHỈ_IP",
    "bind": "ĐỊA_CHỈ:CỔNG",
    "addr": "ĐỊA_CHỈ:CỔNG",
    "contact": "LIÊN_HỆ",
    "images": "THƯ_MỤC",
    "errors": "TỆP",
    "report": "TỆP",
    "out": "TỆP",
    "file": "tệp",
    "dest": "thư_mục_đích",
    "src": "thư_mục",
    "name": "tên",
    "username": "tên_đăng_nhập",
    "template": "mẫu",
}


class VietnameseHelpFormatter(DjangoHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "cách dùng: " if prefix is None else prefix)


# argparse's own error messages (its gettext msgids, Python 3.11–3.13) → Vietnamese. Every error of a
# command line passes through ArgumentParser.error already formatted in English, so the parser below
# reads the values back out of it with the msgid's pattern and writes them into the Vietnamese text.
ARGPARSE_ERRORS = {
    "argument %(argument_name)s: %(message)s": "tham số {argument_name}: {message}",
    "the following arguments are required: %s": "thiếu tham số bắt buộc: {0}",
    "unrecognized arguments: %s": "không hiểu tham số: {0}",
    "invalid choice: %(value)r (choose from %(choices)s)": "không có lựa chọn {value}; chọn một trong: {choices}",
    "invalid %(type)s value: %(value)r": "giá trị {value} không hợp lệ{type}",
    "expected one argument": "cần một giá trị",
    "expected at most one argument": "cần nhiều nhất một giá trị",
    "expected at least one argument": "cần ít nhất một giá trị",
    "expected %s argument": "cần {0} giá trị",
    "expected %s arguments": "cần {0} giá trị",
    "not allowed with argument %s": "không dùng cùng với tham số {0}",
    "ignored explicit argument %r": "tùy chọn này không nhận giá trị {0}",
    "one of the arguments %s is required": "cần một trong các tham số {0}",
    "ambiguous option: %(option)s could match %(matches)s": "tùy chọn {option} chưa rõ, có thể là: {matches}",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "không có lệnh con {parser_name}; chọn một trong: {choices}",
    "can't open '%(filename)s': %(error)s": "không mở được tệp “{filename}”: {error}",
    "unexpected option string: %s": "tùy chọn không mong đợi: {0}",
    "cannot have multiple subparser arguments": "chỉ được có một nhóm lệnh con",
}
TYPE_NAMES = {"int": " (cần một số nguyên)", "float": " (cần một số)"}
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sr]|%[sr]")


def _pattern(msgid: str) -> re.Pattern:
    parts, start, index = [], 0, 0
    for found in _PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[start : found.start()]))
        name = found.group(1) or f"_{index}"
        index += not found.group(1)
        parts.append(f"(?P<{name}>.*?)")
        start = found.end()
    return re.compile("".join(parts) + re.escape(msgid[start:]) + r"\Z", re.S)


_ERRORS = [(_pattern(msgid), text) for msgid, text in ARGPARSE_ERRORS.items()]


def _quoted(value: str) -> str:
    """'abc' (Python's repr) → “abc”, also inside lists: 'build', 'check' → “build”, “check”."""
    return re.sub(r"'([^']*)'", r"“\1”", value)


def translate_error(message: str) -> str:
    """An argparse error message in Vietnamese; a message that is not argparse's
    (a command's own, already Vietnamese) is returned as it is."""
    for pattern, text in _ERRORS:
        found = pattern.match(message)
        if found is None:
            continue
        values = {name: _quoted(value) for name, value in found.groupdict().items()}
        if "message" in values:
            values["message"] = translate_error(found.group("message"))
        if "type" in values:
            values["type"] = TYPE_NAMES.get(found.group("type"), "")
        positional = [values.pop(f"_{i}") for i in range(len(values)) if f"_{i}" in values]
        return text.format(*positional, **values)
    return message


class VietnameseCommandParser(CommandParser):
    """Django's CommandParser whose errors are Vietnamese: "cqs kpi: lỗi: thiếu tham số bắt buộc: …"
    on the command line, CommandError("Lỗi: …") from call_command."""

    def error(self, message):
        message = translate_error(str(message))
        if self.called_from_command_line:
            self.print_usage(sys.stderr)
            self.exit(2, f"{self.prog}: lỗi: {message}\n")
        raise CommandError(f"Lỗi: {message}")


def localize(parser: argparse.ArgumentParser) -> None:
    """Vietnamese section titles, default-option help and errors, recursively into sub-parsers."""
    if isinstance(parser, CommandParser) and not isinstance(parser, VietnameseCommandParser):
        # Django builds a plain CommandParser (its class is not a parameter); only error() differs.
        parser.__class__ = VietnameseCommandParser
    parser.formatter_class = VietnameseHelpFormatter
    parser._positionals.title = "tham số"
    parser._optionals.title = "tùy chọn"
    for action in parser._actions:
        if action.dest in DEFAULT_OPTION_HELP and action.option_strings:
            action.help = DEFAULT_OPTION_HELP[action.dest]
        takes_value = action.nargs != 0 and not isinstance(action, argparse._SubParsersAction)
        if takes_value and action.choices is None and (action.metavar is None or action.dest in VALUE_NAMES):
            action.metavar = VALUE_NAMES.get(action.dest, "GIÁ_TRỊ" if action.option_strings else action.dest)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                localize(sub)


def summary(command: DjangoBaseCommand) -> str:
    """The first sentence of a command's help: its line in `cqs help`."""
    text = " ".join(str(command.help).split())
    head, dot, _ = text.partition(". ")
    return head + dot.strip() if dot else text


class BaseCommand(DjangoBaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", VietnameseHelpFormatter)
        # Always `cqs <dashed-name>`: sub-parsers take their prog from this one (`cqs report build`).
        parser = super().create_parser("cqs", subcommand.replace("_", "-"), **kwargs)
        localize(parser)
        return parser

"""The base of every `cqs` command: its `--help` is Vietnamese and named as operators type it.

Django builds each command's parser with English texts of its own ("Show program's version number…",
not wrapped in gettext, so activating the `vi` locale changes nothing) and argparse adds more ("usage:",
"options:", "show this help message and exit") from its own gettext domain, which has no Vietnamese
catalog. Rather than translate per command, `BaseCommand.create_parser` renames the command to its
dashed form (`cqs seed-demo`, as in the docs) and rewrites those fixed texts once, on the parser and on
any sub-parser a command adds (`cqs report build`). `cqs help` (chinhquyenso.cli) lists the commands.
"""

import argparse

from django.core.management.base import BaseCommand as DjangoBaseCommand
from django.core.management.base import CommandError, DjangoHelpFormatter

__all__ = ["BaseCommand", "CommandError", "summary"]

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


class VietnameseHelpFormatter(DjangoHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "cách dùng: " if prefix is None else prefix)


def localize(parser: argparse.ArgumentParser) -> None:
    """Vietnamese section titles and default-option help, recursively into sub-parsers."""
    parser.formatter_class = VietnameseHelpFormatter
    parser._positionals.title = "tham số"
    parser._optionals.title = "tùy chọn"
    for action in parser._actions:
        if action.dest in DEFAULT_OPTION_HELP and action.option_strings:
            action.help = DEFAULT_OPTION_HELP[action.dest]
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

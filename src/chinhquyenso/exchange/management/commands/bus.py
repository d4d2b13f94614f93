"""`cqs bus …`: the data bus from the command line (docs/data-bus.md, docs/operations.md).

Each subcommand lives in exchange.bus.commands.<name>: `add(actions)` adds its argparse subparser,
`run(command, options)` carries it out (raising CommandError with a Vietnamese message)."""

from importlib import import_module

from chinhquyenso.core.management.base import BaseCommand

SUBCOMMANDS = ("services", "registry", "log", "replay")


def _module(name: str):
    return import_module(f"chinhquyenso.exchange.bus.commands.{name}")


class Command(BaseCommand):
    help = (
        "Trục liên thông (LGSP): liệt kê dịch vụ (services), nạp, xuất, nhập danh mục có chữ ký (registry), "
        "tìm và kiểm tra nhật ký thông điệp (log), gửi lại một lời gọi lỗi (replay)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(
            dest="bus_action", metavar="{" + ",".join(SUBCOMMANDS) + "}", required=True, help="Việc cần làm:"
        )
        for name in SUBCOMMANDS:
            _module(name).add(actions)

    def handle(self, *args, bus_action, **options):
        return _module(bus_action).run(self, options)

"""`cqs opendata …`: the open-data portal from the command line.

    cqs opendata refresh [--only KHÓA ...]

Subcommands are argparse subparsers, each with a `handle_<name>` method."""

from chinhquyenso.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Cổng dữ liệu mở: làm mới các bộ dữ liệu sinh tự động từ dữ liệu của hệ thống (refresh)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="{refresh}", required=True, help="Việc cần làm:")
        refresh = actions.add_parser(
            "refresh",
            help="Làm mới các bộ dữ liệu mở sinh tự động (như tác vụ hằng ngày refresh_open_data).",
            description="Tạo (công bố) các bộ dữ liệu trong danh mục opendata/data/live_datasets.json còn thiếu "
            "và sinh lại bảng số liệu của chúng; bảng không đổi thì không ghi lại.",
        )
        refresh.add_argument(
            "--only",
            nargs="+",
            default=None,
            metavar="KHÓA",
            help="Chỉ làm mới các bộ dữ liệu của các bộ sinh này, ví dụ thong-ke-ho-so thu-tuc-hanh-chinh",
        )

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def handle_refresh(self, *, only=None, **options):
        from chinhquyenso.opendata import live

        unknown = sorted(set(only or []) - set(live.GENERATORS))
        if unknown:
            from django.core.management.base import CommandError

            raise CommandError(
                f"Không có bộ sinh dữ liệu {', '.join(unknown)}; các bộ sinh: {', '.join(live.GENERATORS)}."
            )
        done = live.refresh_live_datasets(only=only)
        for key in done["refreshed"]:
            self.stdout.write(f"Đã làm mới: {key}")
        for reason in done["skipped"]:
            self.stdout.write(f"Bỏ qua: {reason}")

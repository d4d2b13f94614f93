"""`cqs load-indicators [FILE]`: create the indicator registry from data."""

from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.indicators.services import DEFAULT_REGISTRY, load_registry


class Command(BaseCommand):
    help = "Nạp sổ đăng ký chỉ tiêu (chỉ tiêu, công thức, chỉ tiêu kế hoạch, Bộ chỉ số 766, tiêu chí CQĐT); không ghi đè chỉnh sửa của tỉnh."

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            nargs="?",
            default=str(DEFAULT_REGISTRY),
            help="Tệp JSON (mặc định: sổ đăng ký có sẵn của hệ thống).",
        )

    def handle(self, *args, file, **options):
        created = load_registry(file)
        self.stdout.write("Đã nạp: " + ", ".join(f"{k} {v}" for k, v in created.items()))

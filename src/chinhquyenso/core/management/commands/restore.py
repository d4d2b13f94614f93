from pathlib import Path

from django.core.management.base import CommandError

from chinhquyenso.core import backup
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Khôi phục từ bản sao lưu của `cqs backup`: kiểm tra SHA-256 từng phần trước, rồi khôi phục cơ sở dữ liệu, "
        "tệp và khóa, chạy migrate, rebuild-facts và kiểm tra chuỗi kiểm toán. Dừng web và worker trước khi chạy."
    )

    def add_arguments(self, parser):
        parser.add_argument("src", help="Thư mục bản sao lưu.")
        parser.add_argument("--force", action="store_true", help="Ghi đè khi nơi khôi phục đang có dữ liệu.")

    def handle(self, *args, src, force, **options):
        try:
            result = backup.restore(Path(src), force=force, log=self.stdout.write)
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(f"Đã khôi phục trong {result['seconds']} giây."))

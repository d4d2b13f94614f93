from pathlib import Path

from django.core.management.base import CommandError

from chinhquyenso.core import backup
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Sao lưu cơ sở dữ liệu (SQLite: sao chép trực tuyến; PostgreSQL: pg_dump), thư mục tệp đã tải lên "
        "và các khóa vào thư mục DEST, kèm manifest.json (SHA-256 từng phần). Chạy được khi hệ thống đang phục vụ."
    )

    def add_arguments(self, parser):
        parser.add_argument("dest", help="Thư mục mới sẽ chứa bản sao lưu (chưa có, hoặc rỗng).")

    def handle(self, *args, dest, **options):
        try:
            manifest = backup.backup(Path(dest))
        except DomainError as error:
            raise CommandError(error.message) from None
        for name, part in manifest["parts"].items():
            self.stdout.write(f"{name}: {part['size']} byte, sha256 {part['sha256'][:16]}…")
        for name in manifest["keys_in_environment"]:
            self.stdout.write(
                self.style.WARNING(f"{name} đặt qua biến môi trường, không có trong bản sao: hãy tự giữ.")
            )
        self.stdout.write(self.style.SUCCESS(f"Đã sao lưu vào {dest} trong {manifest['seconds']} giây."))

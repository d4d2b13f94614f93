"""`cqs import-catalog FILE`: load the TTHC catalog from JSON or XLSX, all or nothing."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from chinhquyenso.core.errors import os_reason
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.procedures.catalog_io import CatalogImportError, import_catalog


class Command(BaseCommand):
    help = (
        "Nhập danh mục thủ tục hành chính từ tệp JSON hoặc XLSX. Toàn bộ tệp được kiểm tra trước; "
        "có lỗi thì liệt kê hết và không ghi gì (mã thoát 1)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Tệp .json hoặc .xlsx (nhận dạng theo nội dung tệp).")
        parser.add_argument("--user", help="Tên đăng nhập của người thực hiện, ghi vào nhật ký kiểm toán.")
        parser.add_argument("--dry-run", action="store_true", help="Chỉ kiểm tra tệp, không ghi gì.")

    def handle(self, *args, file, user=None, dry_run=False, **options):
        try:
            content = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"Không đọc được tệp {file}: {os_reason(exc)}.") from exc
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"Không có người dùng “{user}”.")
        try:
            summary = import_catalog(actor=actor, content=content, dry_run=dry_run)
        except CatalogImportError as exc:
            for issue in exc.errors:
                self.stderr.write(f"- {issue}")
            raise CommandError(exc.message, returncode=1) from exc
        self.stdout.write(summary.as_text())

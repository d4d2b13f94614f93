"""`cqs export-catalog FILE.json|FILE.xlsx`: write the TTHC catalog in the import format."""

from pathlib import Path

from django.core.management.base import CommandError

from chinhquyenso.core.errors import os_reason
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.core.text import format_number
from chinhquyenso.procedures.catalog_io import render_catalog
from chinhquyenso.procedures.selectors import catalog_entries


class Command(BaseCommand):
    help = "Xuất danh mục thủ tục hành chính ra tệp JSON hoặc XLSX (định dạng theo đuôi tệp), nhập lại được bằng import-catalog."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Tệp đích, đuôi .json hoặc .xlsx.")

    def handle(self, *args, file, **options):
        path = Path(file)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("json", "xlsx"):
            raise CommandError("Tên tệp phải có đuôi .json hoặc .xlsx.")
        entries = catalog_entries()
        try:
            path.write_bytes(render_catalog(entries, fmt))
        except OSError as exc:
            raise CommandError(f"Không ghi được tệp {file}: {os_reason(exc)}.") from exc
        self.stdout.write(f"Đã xuất {format_number(len(entries))} thủ tục ra {file}.")

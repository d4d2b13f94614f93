"""cqs import-dossiers FILE.jsonl [--report rejected.csv] — see docs/import-dossiers.md."""

import csv
import sys
import time
from pathlib import Path

from django.core.management.base import CommandError

from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.core.text import format_number
from chinhquyenso.dossiers import importer


class Command(BaseCommand):
    help = "Nhập hồ sơ lịch sử từ hệ thống một cửa cũ (JSON Lines, mỗi dòng một hồ sơ); chạy lại không nhập trùng."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Tệp .jsonl, mỗi dòng một hồ sơ (xem docs/import-dossiers.md).")
        parser.add_argument("--report", metavar="CSV", help="Ghi các dòng bị từ chối kèm lý do ra tệp CSV.")

    def handle(self, *args, file, report=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Không tìm thấy tệp {file}.")
        report_handle = open(report, "w", newline="", encoding="utf-8-sig") if report else None
        writer = csv.writer(report_handle) if report_handle else None
        if writer:
            writer.writerow(["dong", "truong", "ly_do", "noi_dung"])

        def on_reject(rejection):
            self.stderr.write(str(rejection))
            if writer:
                writer.writerow([rejection.line, rejection.field, rejection.reason, rejection.raw])

        def on_progress(stats):
            self.stdout.write(
                f"Đã đọc {format_number(stats.lines)} dòng: nhập {format_number(stats.imported)}, "
                f"bỏ qua {format_number(stats.skipped)}, từ chối {format_number(stats.rejected)}."
            )

        started = time.monotonic()
        try:
            stats = importer.import_file(path, on_reject=on_reject, on_progress=on_progress, keep_rejections=False)
        except Exception as error:
            # Each bad line is reported and skipped inside the import; this is the file or the database failing.
            raise CommandError(
                f"Lượt nhập bị dừng do lỗi hệ thống ({type(error).__name__}); các hồ sơ đã nhập được giữ nguyên, "
                "chạy lại thì các hồ sơ đã có được bỏ qua."
            ) from None
        finally:
            if report_handle:
                report_handle.close()
        elapsed = max(time.monotonic() - started, 1e-9)
        conflicts = f" (trong đó {format_number(stats.conflicts)} xung đột mã hồ sơ)" if stats.conflicts else ""
        self.stdout.write(
            f"Hoàn tất {format_number(stats.lines)} dòng trong {format_number(elapsed, 1)} giây "
            f"({format_number(stats.lines / elapsed)} dòng/giây).\n"
            f"Đã nhập: {format_number(stats.imported)} hồ sơ; đã có, bỏ qua: {format_number(stats.skipped)}; "
            f"bị từ chối: {format_number(stats.rejected)}{conflicts}."
        )
        if report:
            self.stdout.write(f"Danh sách dòng bị từ chối: {report}")
        if stats.rejected:
            # The good lines are already committed; the exit code tells scripts to look at the report.
            sys.exit(1)

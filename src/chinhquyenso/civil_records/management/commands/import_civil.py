"""cqs import-civil FILE --type birth|death|marriage --commune CODE [--errors OUT.xlsx] [--json] — docs/civil_records.md."""

import json
import sys
import time
from pathlib import Path

from django.core.management.base import CommandError

from chinhquyenso.civil_records import importer, services, workbook
from chinhquyenso.civil_records.models import ImportBatch, RecordType
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.core.text import format_number

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Nhập danh sách sổ hộ tịch cũ (CSV hoặc XLSX) của một xã; dòng lỗi không làm dừng cả lô, "
        "chạy lại không nhập trùng."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help="Tệp CSV (UTF-8, UTF-16 hoặc Windows-1258) hoặc XLSX; dòng đầu là tiêu đề cột."
        )
        parser.add_argument(
            "--type",
            required=True,
            choices=RecordType.values,
            dest="record_type",
            help="Loại sổ: birth (khai sinh), death (khai tử), marriage (kết hôn).",
        )
        parser.add_argument(
            "--commune",
            required=True,
            help="Mã nội bộ, mã định danh điện tử hoặc tên của UBND xã đăng ký (đơn vị hiện hành hoặc đã sáp nhập).",
        )
        parser.add_argument(
            "--errors", metavar="OUT.xlsx", help="Ghi sổ tính lỗi: các dòng có vấn đề, ô lỗi tô màu, cột thông báo."
        )
        parser.add_argument(
            "--images", metavar="DIR", help="Thư mục chứa ảnh trang sổ được nêu trong cột “Ảnh trang sổ”."
        )
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="In kết quả dạng JSON (imported, flagged, rejected, skipped_existing…).",
        )

    def handle(self, *args, file, record_type, commune, errors=None, images=None, as_json=False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Không tìm thấy tệp {file}.")
        if images and not Path(images).is_dir():
            raise CommandError(f"Không tìm thấy thư mục ảnh {images}.")
        try:
            agency = services.find_commune(commune)
        except DomainError as error:
            raise CommandError(error.message) from None
        batch = services.create_batch(record_type=record_type, commune=agency, file_name=path.name)
        started = time.monotonic()
        progress = _Progress(self.stderr, started, quiet=as_json)
        batch = importer.run_batch(batch, path, images_dir=images, on_progress=progress)
        progress.done()
        if errors and batch.status == ImportBatch.Status.DONE:
            try:
                workbook.write(batch, path, errors)
            except (DomainError, OSError) as error:
                reason = error.message if isinstance(error, DomainError) else "không ghi được tệp"
                raise CommandError(
                    f"Đã nhập xong lượt {batch.pk} nhưng không tạo được sổ tính lỗi {errors}: {reason}"
                ) from None
        result = importer.summary(batch)
        result["seconds"] = round(time.monotonic() - started, 2)
        if errors:
            result["errors_workbook"] = errors if batch.status == ImportBatch.Status.DONE else None
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            self._report(batch, result, errors)
        if batch.status == ImportBatch.Status.FAILED:
            sys.exit(2)

    def _report(self, batch, result, errors):
        if batch.status == ImportBatch.Status.FAILED:
            self.stderr.write(f"Không nhập được: {batch.message}")
            return
        rate = result["rows"] / max(result["seconds"], 1e-9)
        self.stdout.write(
            f"Đã đọc {format_number(result['rows'])} dòng ({batch.file_format.upper()}, {batch.encoding}) trong "
            f"{format_number(result['seconds'], 1)} giây ({format_number(rate)} dòng/giây).\n"
            f"Đã nhập: {format_number(result['imported'])} (trong đó {format_number(result['flagged'])} cần rà soát); "
            f"bị từ chối: {format_number(result['rejected'])}; đã có, bỏ qua: {format_number(result['skipped_existing'])}."
        )
        for problem in batch.problems.filter(severity="error")[:20]:
            self.stderr.write(f"Dòng {problem.row}, cột {', '.join(problem.columns) or '—'}: {problem.message}")
        if errors:
            self.stdout.write(f"Sổ tính lỗi: {errors}")


class _Progress:
    """A bar redrawn in place on a terminal; one line per 5 % otherwise (logs, CI)."""

    def __init__(self, stream, started: float, quiet: bool):
        self.stream, self.started, self.quiet = stream, started, quiet
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last_step = -1

    def __call__(self, batch: ImportBatch):
        if self.quiet:
            return
        fraction = batch.progress_permille / 1000
        rate = batch.rows_read / max(time.monotonic() - self.started, 1e-9)
        filled = int(BAR_WIDTH * fraction)
        line = (
            f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {format_number(100 * fraction)}% "
            f"{format_number(batch.rows_read)} dòng, {format_number(rate)} dòng/giây"
        )
        if self.tty:
            self.stream.write("\r" + line, ending="")
            self.stream.flush()
        elif int(fraction * 20) > self.last_step:
            self.last_step = int(fraction * 20)
            self.stream.write(line)

    def done(self):
        if self.tty and not self.quiet:
            self.stream.write("")

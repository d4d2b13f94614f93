"""Import a register list (CSV or XLSX) into civil records, streaming.

The file is read one row at a time and written in chunks of CHUNK rows, each
chunk in one transaction together with its problems, its audit record and the
batch's counters and checkpoint — so memory does not grow with the file, a
crash loses at most one chunk, and running the batch again resumes after the
checkpoint. Nothing aborts the batch: a row that cannot be used is reported
and skipped; every other row is stored, with flags for what is doubtful.

A row whose identity (commune + type + book + number + year, the file's own
key, or failing both its content) is already stored is skipped, so importing
a corrected file, or the corrected error workbook, never duplicates a record.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Callable

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from chinhquyenso.civil_records.fields import KINDS
from chinhquyenso.civil_records.models import CivilRecord, ImportBatch, ImportProblem, RecordScan, ReviewState
from chinhquyenso.civil_records.reading import open_source
from chinhquyenso.civil_records.validation import CleanRow, Problem, RowValidator
from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import fold

log = logging.getLogger(__name__)
CHUNK = 2000


class _Chunk:
    def __init__(self):
        self.rows: list[CleanRow] = []
        self.last_row = 0


def run_batch(batch: ImportBatch, path: str | os.PathLike, *, images_dir: str | os.PathLike | None = None,
              on_progress: Callable[[ImportBatch], None] | None = None, chunk_size: int = CHUNK) -> ImportBatch:
    """Import the file at `path` into `batch` (created by services.create_batch)."""
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING,
                                                   started_at=batch.started_at or timezone.now())
    batch.refresh_from_db()
    try:
        source = open_source(path)
    except DomainError as error:
        return _fail(batch, error.message)
    try:
        validator = RowValidator(KINDS[batch.record_type], source.headers)
        if not validator.usable:
            kind = validator.kind
            names = ", ".join(f"“{kind.field(key).label}”" for key in kind.subject_fields)
            return _fail(batch, f"Tệp không có cột {names} và không có cột “Số đăng ký”: không nhận ra được bản ghi nào. "
                                f"Dòng đầu phải là tiêu đề cột theo mẫu sổ {kind.label.lower()}.")
        ImportBatch.objects.filter(pk=batch.pk).update(file_format=source.format, encoding=source.encoding,
                                                       rows_total=source.total_rows)
        if batch.checkpoint_row == 0 and validator.header_problems:
            with transaction.atomic():
                ImportProblem.objects.bulk_create(_problem(batch, 1, p) for p in validator.header_problems)
        scans = Path(images_dir) if images_dir else None
        chunk = _Chunk()
        for number, cells in source.rows:
            if number <= batch.checkpoint_row:
                continue
            row = validator.validate(number, cells)
            chunk.last_row = number
            if not row.blank:
                if scans is not None and row.scans:
                    _check_scans(row, scans, validator)
                chunk.rows.append(row)
            if len(chunk.rows) >= chunk_size:
                _flush(batch, chunk, source.fraction(), scans)
                chunk = _Chunk()
                if on_progress:
                    on_progress(batch)
        _flush(batch, chunk, 1.0, scans)
    finally:
        source.close()
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.DONE, finished_at=timezone.now(),
                                                   progress_permille=1000)
    batch.refresh_from_db()
    if on_progress:
        on_progress(batch)
    return batch


def _fail(batch: ImportBatch, message: str) -> ImportBatch:
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.FAILED, message=message, finished_at=timezone.now())
    batch.refresh_from_db()
    return batch


def _check_scans(row: CleanRow, folder: Path, validator: RowValidator):
    missing = [name for name in row.scans if not (folder / Path(name).name).is_file()]
    if missing:
        header = validator.header_for("scans")
        row.flags.append(["scans", "missing_scan", f"Không tìm thấy tệp ảnh: {', '.join(missing)}."])
        row.problems.append(Problem(header, "; ".join(row.scans), "missing_scan",
                                    f"Không tìm thấy tệp ảnh: {', '.join(missing)}.", "flag", "scans"))


def _problem(batch: ImportBatch, row: int, problem: Problem) -> ImportProblem:
    return ImportProblem(batch=batch, row=row, column=problem.column[:255], value=problem.value, code=problem.code,
                         severity=problem.severity, message=problem.message)


def _record(batch: ImportBatch, row: CleanRow) -> CivilRecord:
    return CivilRecord(
        record_type=batch.record_type, commune_id=batch.commune_id, book=row.book, number=row.register_number,
        year=row.year, identity_key=row.identity_key, registered_on=row.registered_on, event_from=row.event_from,
        event_to=row.event_to, subject_name=row.subject_name, spouse_name=row.spouse_name,
        names_folded=f"{fold(row.subject_name)} | {fold(row.spouse_name)}" if row.spouse_name else fold(row.subject_name),
        sex=row.sex, verbatim=row.verbatim, data=row.data, flags=row.flags,
        review_state=ReviewState.FLAGGED if row.flags else ReviewState.CLEAN, batch=batch, source_row=row.number)


def _flush(batch: ImportBatch, chunk: _Chunk, fraction: float | None, scans: Path | None):
    try:
        _write_chunk(batch, chunk, fraction, scans)
    except IntegrityError:
        # Another import stored one of these identities between our check and our insert: redo the
        # chunk, whose existence check now sees it. The failed transaction left nothing behind.
        log.info("civil import batch %s: concurrent insert, retrying chunk ending at row %s", batch.pk, chunk.last_row)
        _write_chunk(batch, chunk, fraction, scans)


def _write_chunk(batch: ImportBatch, chunk: _Chunk, fraction: float | None, scans: Path | None):
    problems: list[ImportProblem] = []
    new: dict[str, CleanRow] = {}
    rejected = skipped = 0
    for row in chunk.rows:
        if row.rejected:
            rejected += 1
            problems.extend(_problem(batch, row.number, p) for p in row.problems)
        elif row.identity_key in new:
            skipped += 1
            problems.append(_problem(batch, row.number, Problem(
                "", "", "duplicate_in_file", f"Trùng với dòng {new[row.identity_key].number} của tệp (cùng quyển, số, năm "
                "hoặc cùng mã); không nhập lại.", "notice")))
        else:
            new[row.identity_key] = row
    with transaction.atomic():
        existing = (CivilRecord.objects.filter(commune_id=batch.commune_id, record_type=batch.record_type,
                                               identity_key__in=list(new))
                    .values_list("identity_key", "verbatim", "batch_id", "source_row"))
        for key, verbatim, batch_id, source_row in existing:
            row = new.pop(key)
            skipped += 1
            if verbatim != row.verbatim:
                where = f"dòng {source_row} của lượt nhập số {batch_id}" if batch_id else "trước đây"
                problems.append(_problem(batch, row.number, Problem(
                    "", "", "existing_differs", f"Bản ghi này đã có (nhập từ {where}) với nội dung khác; không ghi đè. "
                    "Sửa bản ghi đã có trong màn hình rà soát.", "notice")))
        records = [_record(batch, row) for row in new.values()]
        _insert(records)
        for row in new.values():
            problems.extend(_problem(batch, row.number, p) for p in row.problems)
        ImportProblem.objects.bulk_create(problems, batch_size=1000)
        if scans is not None:
            _attach_scans(batch, [row for row in new.values() if row.scans], scans)
        flagged = sum(1 for row in new.values() if row.flags)
        ImportBatch.objects.filter(pk=batch.pk).update(
            checkpoint_row=chunk.last_row, rows_read=F("rows_read") + len(chunk.rows), imported=F("imported") + len(records),
            flagged=F("flagged") + flagged, rejected=F("rejected") + rejected,
            skipped_existing=F("skipped_existing") + skipped,
            progress_permille=int(1000 * fraction) if fraction is not None else F("progress_permille"))
        if chunk.rows:
            # Counts and row numbers only: the audit trail carries no personal data.
            audit.record(actor=batch.created_by or batch.actor_label, action="civil.import", obj=batch,
                         agency_id=batch.commune_id,
                         after={"rows": [chunk.rows[0].number, chunk.last_row], "imported": len(records),
                                "flagged": flagged, "rejected": rejected, "skipped_existing": skipped})
    batch.refresh_from_db()


def _insert(records: list[CivilRecord]):
    CivilRecord.objects.bulk_create(records, batch_size=500)


def _attach_scans(batch: ImportBatch, rows: list[CleanRow], folder: Path):
    from chinhquyenso.core.uploads import store_upload

    ids = dict(CivilRecord.objects.filter(commune_id=batch.commune_id, record_type=batch.record_type,
                                          identity_key__in=[r.identity_key for r in rows]).values_list("identity_key", "id"))
    for row in rows:
        for page, name in enumerate(row.scans, 1):
            path = folder / Path(name).name
            if not path.is_file():
                continue
            try:
                stored = store_upload(path.read_bytes(), original_name=path.name, field="scans")
            except DomainError as error:
                ImportProblem.objects.create(batch=batch, row=row.number, column="scans", value=name, code="bad_scan",
                                             severity=ImportProblem.Severity.NOTICE, message=f"Tệp ảnh {name}: {error.message}")
                continue
            RecordScan.objects.get_or_create(record_id=ids[row.identity_key], file=stored, defaults={"page": page})


def summary(batch: ImportBatch) -> dict:
    """The counts a script reads (`cqs import-civil --json`)."""
    return {"batch": batch.pk, "status": batch.status, "file": batch.file_name, "format": batch.file_format,
            "encoding": batch.encoding, "rows": batch.rows_read, "imported": batch.imported, "flagged": batch.flagged,
            "rejected": batch.rejected, "skipped_existing": batch.skipped_existing,
            "problems": batch.problems.count(), "message": batch.message}


def elapsed(batch: ImportBatch) -> dt.timedelta | None:
    if batch.started_at and batch.finished_at:
        return batch.finished_at - batch.started_at
    return None

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

import contextlib
import gc
import itertools
import json
import logging
import multiprocessing
import os
import queue
import traceback
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from chinhquyenso.civil_records.fields import KINDS
from chinhquyenso.civil_records.models import CivilRecord, ImportBatch, ImportProblem, RecordScan, ReviewState
from chinhquyenso.civil_records.reading import local_path, open_source
from chinhquyenso.civil_records.validation import (
    CleanRow,
    FileEnd,
    Problem,
    ProcessFailure,
    RowValidator,
    chunks,
    validation_process,
)
from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import format_number
from chinhquyenso.org.selectors import versions

log = logging.getLogger(__name__)
CHUNK = 2000
ANALYZE_FIRST = 2000  # records imported when PostgreSQL's statistics are first refreshed (_refresh_statistics)
# Files from this size up are validated in worker processes (default_workers).
PARALLEL_MIN_BYTES = 8 * 1024 * 1024


def default_workers(size: int) -> int:
    """Validation processes for a file of `size` bytes: none (in this process)
    for small files, where starting processes costs more than it saves."""
    configured = settings.CQS.get("CIVIL_IMPORT_WORKERS")
    if configured is not None:
        return int(configured)
    if size < PARALLEL_MIN_BYTES:
        return 0
    return max(1, min(4, (os.cpu_count() or 1) - 1))


def run_batch(
    batch: ImportBatch,
    file,
    *,
    images_dir: str | os.PathLike | None = None,
    on_progress: Callable[[ImportBatch], None] | None = None,
    chunk_size: int = CHUNK,
    workers: int | None = None,
) -> ImportBatch:
    """Import `file` — a path, or the batch's upload kept by a storage (`batch.file`)
    — into `batch` (created by services.create_batch). `workers` validation
    processes (default: default_workers) validate chunks while this process
    writes the ones before.

    Whatever stops the import ends the batch "failed" with a reason the officer
    sees, instead of leaving it "running" for ever; the chunks written stay, and
    so does the checkpoint: running the batch again resumes after it. Only an
    interruption of the process itself (the worker stopped) leaves the batch
    running, to be resumed."""
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.RUNNING,
        started_at=batch.started_at or timezone.now(),
        message="",  # a batch run again after a failure no longer shows it
        finished_at=None,
    )
    batch.refresh_from_db()
    try:
        with contextlib.ExitStack() as stack:
            source = open_source(file)
            stack.callback(source.close)
            validator = RowValidator(KINDS[batch.record_type], source.headers)
            if not validator.usable:
                kind = validator.kind
                names = ", ".join(f"“{kind.field(key).label}”" for key in kind.subject_fields)
                return _fail(
                    batch,
                    f"Tệp không có cột {names} và không có cột “Số đăng ký”: không nhận ra được bản ghi nào. "
                    f"Dòng đầu phải là tiêu đề cột theo mẫu sổ {kind.label.lower()}.",
                )
            ImportBatch.objects.filter(pk=batch.pk).update(
                file_format=source.format, encoding=source.encoding, rows_total=source.total_rows
            )
            if batch.checkpoint_row == 0 and validator.header_problems:
                with transaction.atomic():
                    _insert(
                        ImportProblem,
                        PROBLEM_COLUMNS,
                        [_problem_values(batch, 1, p) for p in validator.header_problems],
                    )
            scans = Path(images_dir) if images_dir else None
            workers = default_workers(source.size) if workers is None else workers
            # Validation processes open the file themselves, by a path on this machine.
            path = stack.enter_context(local_path(file)) if workers > 0 else None
            ended = {"legacy_lines": 0}
            validated = stack.enter_context(
                contextlib.closing(_validated_chunks(source, path, validator, batch, chunk_size, workers, ended))
            )
            with _without_cycle_collection():
                for last_row, fraction, rows in validated:
                    if scans is not None:
                        for row in rows:
                            if row.scans:
                                _check_scans(row, scans, validator)
                    imported_before = batch.imported
                    _flush(batch, rows, last_row, fraction, scans)
                    _refresh_statistics(imported_before, batch.imported)
                    if on_progress:
                        on_progress(batch)
            if ended["legacy_lines"]:
                _note_legacy_lines(batch, ended["legacy_lines"])
    except DomainError as error:
        return _fail(batch, error.message)
    except Exception as error:
        log_without_content(error, "civil import batch %s stopped after row %s", batch.pk, batch.checkpoint_row)
        return _fail(batch, _unexpected_failure(batch, error))
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.DONE, finished_at=timezone.now(), progress_permille=1000
    )
    batch.refresh_from_db()
    if on_progress:
        on_progress(batch)
    return batch


@contextlib.contextmanager
def _without_cycle_collection():
    """Pause Python's cycle collector while importing. A chunk's rows, cells and
    problems are freed by reference counting when the next chunk replaces them;
    the collector would instead re-scan every cached cell again and again (a
    quarter of the import's time on a million rows). Collected once at the end."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect()


def _validated_chunks(
    source, path, validator: RowValidator, batch: ImportBatch, chunk_size: int, workers: int, ended=None
):
    """(last row number, fraction of the file read, validated non-blank rows) per chunk, in file order;
    at the end, `ended["legacy_lines"]` (when given): the lines of a UTF-8 file read as Windows-1258.

    With workers, validation runs in that many processes (spawned: they share
    no database connection), each reading the file itself and validating every
    workers-th chunk, at most two chunks ahead — memory stays bounded however
    large the file — while this process writes."""
    ended = {} if ended is None else ended
    if workers <= 0:
        for last, fraction, rows in chunks(source, batch.checkpoint_row, chunk_size):
            yield last, fraction, validator.validate(rows)
        ended["legacy_lines"] = source.legacy_lines()
        return
    context = multiprocessing.get_context("spawn")
    outputs = [context.Queue(maxsize=2) for _ in range(workers)]
    processes = [
        context.Process(
            target=validation_process,
            daemon=True,
            args=(
                output,
                os.fspath(path),
                batch.record_type,
                validator.today,
                batch.checkpoint_row,
                chunk_size,
                share,
                workers,
            ),
        )
        for share, output in enumerate(outputs)
    ]
    for process in processes:
        process.start()
    try:
        for share in itertools.cycle(range(workers)):
            item = _next_result(outputs[share], processes[share])
            if isinstance(item, FileEnd):  # this process has no more chunks, so no process has
                ended["legacy_lines"] = item.legacy_lines
                return
            yield item
    finally:
        for process in processes:
            process.terminate()
            process.join()


def _next_result(results, process):
    while True:
        try:
            item = results.get(timeout=1)
        except queue.Empty:
            if not process.is_alive():
                raise RuntimeError(f"Tiến trình kiểm tra dữ liệu dừng bất thường (mã {process.exitcode}).") from None
            continue
        if isinstance(item, ProcessFailure):
            if item.message:  # the file refused (a limit): said as the reader says it
                raise DomainError(item.message, "file")
            # Its last line (the error) first: the first line is what the batch's reason shows.
            error = item.traceback.strip().splitlines()[-1]
            raise RuntimeError(f"Tiến trình kiểm tra dữ liệu gặp lỗi ({error}):\n{item.traceback}")
        return item


def log_without_content(error: BaseException, message: str, *args) -> None:
    """Log an unexpected error by its class and where it happened, never its text: an error's
    text may quote a row of the file (a person's name), and logs are read by more people."""
    log.error(
        message + ": %s\n%s", *args, type(error).__name__, "".join(traceback.format_tb(error.__traceback__)).rstrip()
    )


def _note_legacy_lines(batch: ImportBatch, count: int) -> None:
    """Say that a UTF-8 list held rows in Windows-1258 — read as written, nothing lost."""
    ImportBatch.objects.filter(pk=batch.pk).update(encoding="UTF-8 + Windows-1258")
    message = (
        f"{format_number(count)} dòng không lưu theo UTF-8 như dòng tiêu đề mà theo bảng mã Windows-1258; "
        "các dòng này đã được đọc theo Windows-1258, không mất ký tự nào."
    )
    with transaction.atomic():
        _insert(
            ImportProblem,
            PROBLEM_COLUMNS,
            [_problem_values(batch, 1, Problem("", "", "legacy_encoding", message, ImportProblem.Severity.NOTICE))],
        )


def _unexpected_failure(batch: ImportBatch, error: Exception) -> str:
    """The reason shown for an error nobody foresaw (a bug, the database, the storage): its
    type and first line, for whoever fixes it, and what the officer can do. Rows are named
    by number only, never by their content (personal data)."""
    lines = str(error).strip().splitlines()
    cause = f"{type(error).__name__}: {lines[0][:300]}" if lines else type(error).__name__
    done = (
        f"Các dòng đến dòng {batch.checkpoint_row} đã xử lý xong, kết quả được giữ nguyên."
        if batch.checkpoint_row
        else "Chưa dòng nào được xử lý xong."
    )
    return (
        f"Lượt nhập bị dừng do lỗi hệ thống ({cause}). {done} Nhập lại tệp thì các bản ghi đã có được bỏ qua, "
        "không bị trùng; nếu lỗi lặp lại, hãy báo quản trị hệ thống."
    )


def _fail(batch: ImportBatch, message: str) -> ImportBatch:
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.FAILED, message=message, finished_at=timezone.now()
    )
    batch.refresh_from_db()
    return batch


def _check_scans(row: CleanRow, folder: Path, validator: RowValidator):
    missing = [name for name in row.scans if not (folder / Path(name).name).is_file()]
    if missing:
        row.flag(
            "scans",
            validator.header_for("scans"),
            "; ".join(row.scans),
            "missing_scan",
            f"Không tìm thấy tệp ảnh: {', '.join(missing)}.",
        )
        verbatim, data, _ = row.encoded
        row.encoded = (verbatim, data, json.dumps(row.flags, ensure_ascii=False))


RECORD_COLUMNS = (
    "record_type",
    "commune_id",
    "book",
    "number",
    "year",
    "identity_key",
    "registered_on",
    "event_from",
    "event_to",
    "subject_name",
    "spouse_name",
    "names_folded",
    "sex",
    "verbatim",
    "data",
    "flags",
    "review_state",
    "batch_id",
    "source_row",
    "created_at",
    "updated_at",
)
PROBLEM_COLUMNS = ("batch_id", "row", "column", "other_columns", "value", "code", "severity", "message")
NO_OTHER_COLUMNS = "[]"


def _record_values(batch: ImportBatch, row: CleanRow, now) -> tuple:
    verbatim, data, flags = row.encoded
    return (
        batch.record_type,
        batch.commune_id,
        row.book,
        row.register_number,
        row.year,
        row.identity_key,
        _iso(row.registered_on),
        _iso(row.event_from),
        _iso(row.event_to),
        row.subject_name,
        row.spouse_name,
        row.names_folded,
        row.sex,
        verbatim,
        data,
        flags,
        ReviewState.FLAGGED if row.flags else ReviewState.CLEAN,
        batch.pk,
        row.number,
        now,
        now,
    )


def _iso(day) -> str | None:
    return None if day is None else day.isoformat()


def _problem_values(batch: ImportBatch, row: int, problem: Problem) -> tuple:
    others = (
        json.dumps([c[:255] for c in problem.other_columns], ensure_ascii=False)
        if problem.other_columns
        else NO_OTHER_COLUMNS
    )
    return (
        batch.pk,
        row,
        problem.column[:255],
        others,
        problem.value,
        problem.code,
        problem.severity,
        problem.message,
    )


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert many rows the database's fastest way: COPY on PostgreSQL,
    executemany on SQLite (the ORM's bulk_create spends most of its time
    building model instances and SQL, not in the database). Values must be
    ready for the database: dates as ISO text, timestamps adapted."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c.removesuffix("_id")).column) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", rows)


def _flush(batch: ImportBatch, rows: list[CleanRow], last_row: int, fraction: float | None, scans: Path | None):
    try:
        _write_chunk(batch, rows, last_row, fraction, scans)
    except IntegrityError:
        # Another import stored one of these identities between our check and our insert: redo the
        # chunk, whose existence check now sees it. The failed transaction left nothing behind.
        log.info("civil import batch %s: concurrent insert, retrying chunk ending at row %s", batch.pk, last_row)
        _write_chunk(batch, rows, last_row, fraction, scans)


def _write_chunk(batch: ImportBatch, rows: list[CleanRow], last_row: int, fraction: float | None, scans: Path | None):
    problems: list[tuple] = []
    new: dict[str, CleanRow] = {}
    rejected = skipped = 0
    for row in rows:
        if row.rejected:
            rejected += 1
            problems.extend(_problem_values(batch, row.number, p) for p in row.problems)
        elif row.identity_key in new:
            skipped += 1
            problems.append(
                _problem_values(
                    batch,
                    row.number,
                    Problem(
                        "",
                        "",
                        "duplicate_in_file",
                        f"Trùng với dòng {new[row.identity_key].number} của tệp (cùng quyển, số, năm "
                        "hoặc cùng mã); không nhập lại.",
                        "notice",
                    ),
                )
            )
        else:
            new[row.identity_key] = row
    with transaction.atomic():
        for key, verbatim, batch_id, source_row in _stored(batch, list(new)):
            row = new.pop(key)
            skipped += 1
            if batch_id == batch.pk:
                problems.append(
                    _problem_values(
                        batch,
                        row.number,
                        Problem(
                            "",
                            "",
                            "duplicate_in_file",
                            f"Trùng với dòng {source_row} của tệp (cùng quyển, số, năm hoặc cùng mã); không nhập lại.",
                            "notice",
                        ),
                    )
                )
            elif json.loads(verbatim) != json.loads(row.encoded[0]):
                where = f"dòng {source_row} của lượt nhập số {batch_id}" if batch_id else "trước đây"
                problems.append(
                    _problem_values(
                        batch,
                        row.number,
                        Problem(
                            "",
                            "",
                            "existing_differs",
                            f"Bản ghi này đã có (nhập từ {where}) với nội dung khác; không ghi đè. "
                            "Sửa bản ghi đã có trong màn hình rà soát.",
                            "notice",
                        ),
                    )
                )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        records = [_record_values(batch, row, now) for row in new.values()]
        _insert(CivilRecord, RECORD_COLUMNS, records)
        for row in new.values():
            problems.extend(_problem_values(batch, row.number, p) for p in row.problems)
        _insert(ImportProblem, PROBLEM_COLUMNS, problems)
        if scans is not None:
            _attach_scans(batch, [row for row in new.values() if row.scans], scans)
        flagged = sum(1 for row in new.values() if row.flags)
        ImportBatch.objects.filter(pk=batch.pk).update(
            checkpoint_row=last_row,
            rows_read=F("rows_read") + len(rows),
            imported=F("imported") + len(records),
            flagged=F("flagged") + flagged,
            rejected=F("rejected") + rejected,
            skipped_existing=F("skipped_existing") + skipped,
            progress_permille=int(1000 * fraction) if fraction is not None else F("progress_permille"),
        )
        if rows:
            # Counts and row numbers only: the audit trail carries no personal data.
            audit.record(
                actor=batch.created_by or batch.actor_label,
                action="civil.import",
                obj=batch,
                agency_id=batch.commune_id,
                after={
                    "rows": [rows[0].number, last_row],
                    "imported": len(records),
                    "flagged": flagged,
                    "rejected": rejected,
                    "skipped_existing": skipped,
                },
            )
    batch.refresh_from_db()


def _stored(batch: ImportBatch, identity_keys: list[str]) -> list[tuple]:
    """(identity key, verbatim JSON text, batch, source row) of the keys already stored for the
    batch's commune and record type. Raw SQL: the ORM spends longer building a 2,000-value IN
    list than the database spends answering it."""
    if not identity_keys:
        return []
    table = CivilRecord._meta.db_table
    communes = _commune_versions(batch)
    commune_marks = ", ".join(["%s"] * len(communes))
    marks = ", ".join(["%s"] * len(identity_keys))
    verbatim = "verbatim::text" if connection.vendor == "postgresql" else "verbatim"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT identity_key, {verbatim}, batch_id, source_row FROM {table} "
            f"WHERE commune_id IN ({commune_marks}) AND record_type = %s AND identity_key IN ({marks})",
            [*communes, batch.record_type, *identity_keys],
        )
        return cursor.fetchall()


def _commune_versions(batch: ImportBatch) -> list[int]:
    """Every version of the batch's commune (org.selectors.versions): a record's identity is
    the commune, not the version row the import resolved to, so importing a file again after
    a rename or a move, or by another of the commune's identifiers, finds what is stored.
    Computed once per batch, not per chunk."""
    if getattr(batch, "_commune_versions", None) is None:
        batch._commune_versions = [v.pk for v in versions(batch.commune)]
    return batch._commune_versions


def _refresh_statistics(before: int, after: int) -> None:
    """Let PostgreSQL's planner see the records table grow. A table filled by an
    import was never analyzed: the planner then reads a commune's records through
    another index instead of probing the identity index, and every chunk's check
    for stored identities scans all the commune's records (a million-row import
    slowed down fourfold). ANALYZE samples a fixed number of rows, so a handful of
    them — each time this import's records pass 2,000 × 4ⁿ — cost a few seconds."""
    if connection.vendor != "postgresql":
        return  # SQLite prefers the unique index for a full equality match without statistics
    mark = ANALYZE_FIRST
    while mark <= after:
        if before < mark:
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(CivilRecord._meta.db_table)}")
            return
        mark *= 4


def _attach_scans(batch: ImportBatch, rows: list[CleanRow], folder: Path):
    from chinhquyenso.core.uploads import store_upload

    ids = dict(
        CivilRecord.objects.filter(
            commune_id=batch.commune_id, record_type=batch.record_type, identity_key__in=[r.identity_key for r in rows]
        ).values_list("identity_key", "id")
    )
    for row in rows:
        for page, name in enumerate(row.scans, 1):
            path = folder / Path(name).name
            if not path.is_file():
                continue
            try:
                stored = store_upload(path.read_bytes(), original_name=path.name, field="scans")
            except DomainError as error:
                ImportProblem.objects.create(
                    batch=batch,
                    row=row.number,
                    column=KINDS[batch.record_type].field("scans").label,
                    value=name,
                    code="bad_scan",
                    severity=ImportProblem.Severity.NOTICE,
                    message=f"Tệp ảnh {name}: {error.message}",
                )
                continue
            RecordScan.objects.get_or_create(record_id=ids[row.identity_key], file=stored, defaults={"page": page})


def summary(batch: ImportBatch) -> dict:
    """The counts a script reads (`cqs import-civil --json`)."""
    return {
        "batch": batch.pk,
        "status": batch.status,
        "file": batch.file_name,
        "format": batch.file_format,
        "encoding": batch.encoding,
        "rows": batch.rows_read,
        "imported": batch.imported,
        "flagged": batch.flagged,
        "rejected": batch.rejected,
        "skipped_existing": batch.skipped_existing,
        "problems": batch.problems.count(),
        "message": batch.message,
    }

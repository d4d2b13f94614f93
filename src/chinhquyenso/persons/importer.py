"""Import a health-records export (CSV or XLSX) into the master person index, streaming.

The file is read with the civil-records reader (civil_records.reading.open_source: CSV in UTF-8,
UTF-16 or Windows-1258, XLSX; bounded memory, a row that cannot be split costs only itself) and
written in chunks of CHUNK rows, each chunk in one transaction with its problems and the batch's
counters: a crash loses at most one chunk, and importing the file again skips every record already
stored (a health record is identified by its facility and its record id: `source_id` =
"<facility code or folded name>/<record id>", unique with source "health").

Each row is read column by column with persons.normalize. A problem in a required column
(record id, facility, name) rejects the row; a problem in an optional column (sex, date of birth,
ID number, health-insurance card, phone, address, date of the last visit) keeps the row with that
field left blank, and the problem is listed with the row number and the column: a record with a
mistyped phone still links by its name, birth and ID. Messages are Vietnamese and name the
column as the file writes it; they go to ImportProblem, never to logs or the audit trail (personal
data). The audit trail gets one "persons.import" record per batch, with counts only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import tempfile
import traceback
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from chinhquyenso.civil_records.fields import header_key
from chinhquyenso.civil_records.reading import open_source
from chinhquyenso.civil_records.validation.cells import as_text
from chinhquyenso.civil_records.validation.results import BadRow
from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import drop_unstorable, fold, format_number, nfc
from chinhquyenso.persons import access
from chinhquyenso.persons.models import PERSON_FIELDS, ImportBatch, ImportProblem, Source, SourceRecord
from chinhquyenso.persons.sources import CommuneResolver

log = logging.getLogger(__name__)

CHUNK = 2000
CLI_ACTOR = "cqs persons import-health"

# The template's columns: key → the header written in the template (docs/persons.md, import_template.csv).
HEADERS: list[tuple[str, str]] = [
    ("record_id", "Mã hồ sơ"),
    ("facility", "Cơ sở khám chữa bệnh"),
    ("facility_code", "Mã cơ sở khám chữa bệnh"),
    ("full_name", "Họ và tên"),
    ("sex", "Giới tính"),
    ("birth", "Ngày sinh"),
    ("id_number", "Số CMND/CCCD"),
    ("insurance_number", "Số thẻ BHYT"),
    ("phone", "Điện thoại"),
    ("address", "Địa chỉ"),
    ("recorded_on", "Ngày khám gần nhất"),
]
LABELS = dict(HEADERS)
# Other spellings seen in exports, compared as civil_records.fields.header_key compares them
# (no diacritics, case or punctuation).
ALIASES: dict[str, tuple[str, ...]] = {
    "record_id": (
        "ma ho so suc khoe",
        "ma hssk",
        "so ho so",
        "ma benh an",
        "so benh an",
        "ma benh nhan",
        "ma nguoi benh",
        "ma bn",
        "ma ban ghi",
    ),
    "facility": (
        "co so kcb",
        "ten co so kham chua benh",
        "ten co so kcb",
        "co so y te",
        "ten co so y te",
        "noi kham",
        "benh vien",
        "co so",
    ),
    "facility_code": ("ma co so kcb", "ma cskcb", "ma kcb", "ma co so y te", "ma co so"),
    "full_name": ("ho ten", "ho va ten nguoi benh", "ho ten nguoi benh", "ho ten benh nhan", "ten benh nhan"),
    "sex": ("gioi", "phai", "nam/nu", "gioi tinh nam/nu"),
    "birth": ("ngay thang nam sinh", "ngay, thang, nam sinh", "nam sinh", "sinh ngay"),
    "id_number": (
        "so cmnd",
        "so cccd",
        "cmnd",
        "cccd",
        "cmnd/cccd",
        "so cccd/cmnd",
        "so dinh danh",
        "so dinh danh ca nhan",
        "so giay to tuy than",
    ),
    "insurance_number": ("the bhyt", "ma the bhyt", "so bhyt", "bhyt", "ma the", "so the bao hiem y te"),
    "phone": ("so dien thoai", "sdt", "so dt", "dien thoai lien he", "di dong"),
    "address": ("dia chi thuong tru", "dia chi lien he", "noi o", "noi cu tru", "cho o"),
    "recorded_on": ("ngay kham", "ngay kham cuoi", "lan kham gan nhat", "ngay kham benh", "ngay cap nhat"),
}
REQUIRED = ("record_id", "full_name")  # and a facility: its name or its code
MAX_RECORD_ID = 60
# How long a stored field may be (SourceRecord's columns).
MAX_LENGTH = {"facility": 200, "full_name": 200, "address": 300, "birth_text": 40}


def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for key, label in HEADERS:
        index.setdefault(header_key(label), key)
    for key, aliases in ALIASES.items():
        for alias in aliases:
            index.setdefault(header_key(alias), key)
    return index


HEADER_INDEX = _header_index()


@dataclass
class Columns:
    """The file's header row: field key → (column index, header as written); unknown columns kept verbatim."""

    by_field: dict[str, tuple[int, str]] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)  # every column's header as written ("Cột N" when blank)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, message) for row 1

    @classmethod
    def read(cls, raw_headers: list) -> Columns:
        columns = cls()
        for position, raw in enumerate(raw_headers):
            header = nfc(as_text(raw)) if raw is not None else ""
            if not header:
                columns.headers.append(f"Cột {position + 1}")
                continue
            if header in columns.headers:  # a second column of the same title keeps its own text
                header = f"{header} (cột {position + 1})"
            columns.headers.append(header)
            key = HEADER_INDEX.get(header_key(header))
            if key is None:
                columns.problems.append(
                    (
                        header,
                        f"Cột “{header}” không thuộc mẫu danh sách hồ sơ sức khỏe; nội dung được lưu nguyên văn "
                        "nhưng không dùng để so khớp.",
                    )
                )
            elif key in columns.by_field:
                first = columns.by_field[key][1]
                columns.problems.append((header, f"Cột “{header}” trùng với cột “{first}”; chỉ dùng cột “{first}”."))
            else:
                columns.by_field[key] = (position, header)
        return columns

    def missing(self) -> list[str]:
        """The required columns the file lacks, by their template header."""
        missing = [LABELS[key] for key in REQUIRED if key not in self.by_field]
        if "facility" not in self.by_field and "facility_code" not in self.by_field:
            missing.insert(1, LABELS["facility"])
        return missing

    def header(self, key: str) -> str:
        return self.by_field[key][1] if key in self.by_field else LABELS[key]


@dataclass
class Row:
    """One row read: the SourceRecord's fields, or a rejection; the problems either way."""

    number: int
    values: dict = field(default_factory=dict)
    verbatim: dict = field(default_factory=dict)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (column, value, message)
    rejected: bool = False
    source_id: str = ""

    def problem(self, column: str, value, message: str) -> None:
        self.problems.append((column, "" if value is None else str(value)[:500], message))


# ---------------------------------------------------------------- reading one row


def _numeric(raw) -> bool:
    """A number a spreadsheet stored instead of the text (an ID or a phone that lost its leading zero):
    given to the normalizer as the number, which restores the zero."""
    return isinstance(raw, (int, float)) and not isinstance(raw, bool)


class RowReader:
    """Reads the rows of one file (built once from its header row)."""

    def __init__(self, columns: Columns, *, today: dt.date):
        from chinhquyenso.persons import normalize

        self.columns = columns
        self.today = today
        self.normalize = normalize
        self._ids = {k: v[0] for k, v in columns.by_field.items()}

    def read(self, number: int, cells) -> Row | None:
        """Row `number` of the file (None: a blank row)."""
        row = Row(number)
        if cells.__class__ is BadRow:
            row.rejected = True
            row.problem("", cells.text[:200], cells.message)
            return row
        texts: dict[str, str] = {}
        raws: dict[str, object] = {}
        for position, raw in enumerate(cells):
            if raw is None:
                continue
            text = raw if raw.__class__ is str else as_text(raw)
            if not text or text.isspace():
                continue
            header = self.columns.headers[position] if position < len(self.columns.headers) else f"Cột {position + 1}"
            storable = drop_unstorable(text)
            if len(storable) != len(text):
                row.problem(
                    header,
                    " ".join(storable.split()),
                    f"Cột “{header}” có ký tự điều khiển hoặc ký tự không hợp lệ; các ký tự này đã được bỏ đi.",
                )
            if not storable.isascii() and not unicodedata.is_normalized("NFC", storable):
                storable = unicodedata.normalize("NFC", storable)
            clean = " ".join(storable.split())
            if not clean:
                continue
            if "\ufffd" in clean:
                row.problem(
                    header,
                    clean,
                    f"Cột “{header}” có ký tự không đọc được (tệp lưu sai bảng mã?); cần đối chiếu hồ sơ gốc.",
                )
            row.verbatim[header] = clean
            raws[position] = raw
            texts[position] = clean
        if not row.verbatim:
            return None
        ids = self._ids
        value = {key: texts.get(index, "") for key, index in ids.items()}
        raw_of = {key: raws.get(index) for key, index in ids.items()}
        header = self.columns.header
        self._required(row, value, header)
        if row.rejected:
            return row
        values = row.values
        values["full_name"] = value["full_name"]
        values["facility"] = value.get("facility") or value.get("facility_code", "")
        self._optional(row, value, raw_of, header)
        return row

    def _required(self, row: Row, value: dict, header) -> None:
        for key in ("record_id", "facility", "full_name"):
            text = value.get(key, "")
            if key == "facility":
                text = text or value.get("facility_code", "")
                label = header("facility") if "facility" in self.columns.by_field else header("facility_code")
            else:
                label = header(key)
            if not text:
                row.rejected = True
                row.problem(label, "", f"Cột “{label}” bắt buộc phải có giá trị; dòng không được nhập.")
                continue
            limit = MAX_RECORD_ID if key == "record_id" else MAX_LENGTH[key]
            if len(text) > limit:
                row.rejected = True
                row.problem(
                    label,
                    text,
                    f"Cột “{label}” dài quá {limit} ký tự; dòng không được nhập.",
                )
            elif key == "full_name" and not any(ch.isalpha() for ch in text):
                row.rejected = True
                row.problem(
                    label, text, f"Cột “{label}” không có chữ cái nào, không phải họ tên; dòng không được nhập."
                )
        if not row.rejected:
            row.source_id = source_id(value.get("facility_code") or value["facility"], value["record_id"])

    def _optional(self, row: Row, value: dict, raw_of: dict, header) -> None:
        values, normalize = row.values, self.normalize

        def kept(key: str, func, text_or_raw):
            try:
                return func(text_or_raw)
            except ValueError as error:
                label = header(key)
                row.problem(
                    label, value.get(key, ""), f"Cột “{label}”: {_sentence(error)} Trường này để trống khi nhập."
                )
                return None

        if value.get("sex"):
            values["sex"] = kept("sex", normalize.normalize_sex, value["sex"]) or ""
        if value.get("birth"):
            raw = raw_of.get("birth")
            birth = kept(
                "birth", normalize.parse_birth, raw if isinstance(raw, (dt.date, dt.datetime)) else value["birth"]
            )
            if birth is not None and birth.year is not None:
                values["birth_text"] = value["birth"][: MAX_LENGTH["birth_text"]]
                values["birth_year"], values["birth_month"], values["birth_day"] = birth.year, birth.month, birth.day
        if value.get("id_number"):
            raw = raw_of.get("id_number")
            values["id_number"] = (
                kept("id_number", normalize.normalize_id, raw if _numeric(raw) else value["id_number"]) or ""
            )
        if value.get("insurance_number"):
            card = "".join(value["insurance_number"].replace("-", " ").replace(".", " ").split()).upper()
            code = kept("insurance_number", normalize.insurance_code, card)
            if code is not None and len(card) > 15:
                code = None
                label = header("insurance_number")
                row.problem(
                    label,
                    value["insurance_number"],
                    f"Cột “{label}”: số thẻ dài quá 15 ký tự. Trường này để trống khi nhập.",
                )
            values["insurance_number"] = card if code else ""
        if value.get("phone"):
            raw = raw_of.get("phone")
            values["phone"] = kept("phone", normalize.normalize_phone, raw if _numeric(raw) else value["phone"]) or ""
        if value.get("address"):
            address = value["address"]
            if len(address) > MAX_LENGTH["address"]:
                label = header("address")
                row.problem(
                    label,
                    address,
                    f"Cột “{label}” dài quá {MAX_LENGTH['address']} ký tự; chỉ lưu {MAX_LENGTH['address']} ký tự đầu.",
                )
                address = address[: MAX_LENGTH["address"]]
            values["address"] = address
        if value.get("recorded_on"):
            raw = raw_of.get("recorded_on")
            values["recorded_on"] = kept(
                "recorded_on", self._visit_day, raw if isinstance(raw, (dt.date, dt.datetime)) else value["recorded_on"]
            )
        self._id_agreement(row, values, header)

    def _visit_day(self, value) -> dt.date:
        """The date of the last visit: a whole day, not in the future."""
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            day = value
        else:
            try:
                # Any day: the future is refused below, with its own message.
                parsed = self.normalize.parse_birth(value, today=dt.date.max)
            except ValueError:
                raise ValueError(
                    "Ngày không đọc được hoặc không có thật; ghi theo dạng ngày/tháng/năm, ví dụ 25/03/2024."
                ) from None
            if not (parsed.year and parsed.month and parsed.day):
                raise ValueError("Cần ghi đủ ngày, tháng, năm, ví dụ 25/03/2024.")
            day = dt.date(parsed.year, parsed.month, parsed.day)
        if day > self.today:
            raise ValueError(f"Ngày {day:%d/%m/%Y} chưa tới.")
        return day

    def _birth(self, value):
        return self.normalize.parse_birth(value, today=self.today)

    def _id_agreement(self, row: Row, values: dict, header) -> None:
        """A 12-digit citizen ID whose century/sex digit or birth-year digits disagree with the row:
        kept (either may be the mistake), and said, for the officer who reviews the record."""
        number = values.get("id_number", "")
        if len(number) != 12:
            return
        agrees = self.normalize.id_agrees(number, values.get("sex", ""), values.get("birth_year"))
        if agrees is False:
            label = header("id_number")
            row.problem(
                label,
                number,
                f"Cột “{label}”: số CCCD không khớp với giới tính hoặc năm sinh ghi trên dòng "
                "(chữ số thứ 4 đến thứ 6); vẫn nhập cả hai, cần đối chiếu.",
            )


def _sentence(error: ValueError) -> str:
    """A normalizer's message as a sentence of its own (ending with a full stop)."""
    text = str(error).strip() or "giá trị không hợp lệ"
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def source_id(facility: str, record_id: str) -> str:
    """ "<facility code or folded name>/<record id>", at most 100 characters: a long facility name
    is replaced by its hash so that two facilities never share an identity."""
    facility_key = fold(facility)
    if len(facility_key) + 1 + len(record_id) > 100:
        facility_key = "#" + hashlib.sha256(facility_key.encode()).hexdigest()[:20]
    return f"{facility_key}/{record_id}"


# ---------------------------------------------------------------- the batch


@contextlib.contextmanager
def _readable(file):
    """What open_source reads: a path, or a FieldFile kept by a storage. An upload that is neither
    (a Django UploadedFile) is read from its temporary file, or copied to one."""
    if isinstance(file, (str, os.PathLike)) or hasattr(file, "storage"):
        yield file
        return
    path = getattr(file, "temporary_file_path", None)
    if path is not None:
        yield path()
        return
    with tempfile.NamedTemporaryFile(prefix="cqs-health-", suffix=".bin") as copy:
        if hasattr(file, "seek"):
            file.seek(0)
        chunks = file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(1 << 20), b"")
        for chunk in chunks:
            copy.write(chunk)
        copy.flush()
        yield copy.name


def _file_name(file, given: str | None) -> str:
    name = given or (os.fspath(file) if isinstance(file, (str, os.PathLike)) else getattr(file, "name", "") or "")
    return nfc(os.path.basename(name))[:255] or "tệp không tên"


def import_health(
    file,
    *,
    actor,
    file_name: str | None = None,
    chunk_size: int = CHUNK,
    on_progress: Callable[[ImportBatch, float | None], None] | None = None,
) -> ImportBatch:
    """Import a health-records file (a path, a FieldFile or a Django upload) and return the finished
    batch: "done", or "failed" with the reason (file unreadable, required columns missing, or an
    unexpected error after the chunks already written, which stay). `actor`: the officer (who needs
    persons.review_links), or None for the operator's command line."""
    if getattr(actor, "pk", None):
        access.require_review(actor)
    user = actor if getattr(actor, "pk", None) else None
    batch = ImportBatch.objects.create(
        file_name=_file_name(file, file_name),
        created_by=user,
        actor_label="" if user else str(actor or CLI_ACTOR)[:150],
    )
    try:
        with contextlib.ExitStack() as stack:
            readable = stack.enter_context(_readable(file))
            source = open_source(readable)
            stack.callback(source.close)
            columns = Columns.read(source.headers)
            missing = columns.missing()
            if missing:
                names = ", ".join(f"“{name}”" for name in missing)
                return _finish(
                    batch,
                    actor,
                    ImportBatch.Status.FAILED,
                    f"Tệp thiếu cột bắt buộc {names}. Dòng đầu phải là tiêu đề cột theo mẫu danh sách hồ sơ "
                    "sức khỏe (Mã hồ sơ, Cơ sở khám chữa bệnh, Họ và tên, …).",
                )
            if columns.problems:
                ImportProblem.objects.bulk_create(
                    ImportProblem(batch=batch, row=1, column=column[:255], value=column, message=message)
                    for column, message in columns.problems
                )
            today = timezone.localdate()
            reader = RowReader(columns, today=today)
            resolver = CommuneResolver()
            chunk: list[Row] = []
            for number, cells in source.rows:
                row = reader.read(number, cells)
                if row is None:
                    continue
                chunk.append(row)
                if len(chunk) >= chunk_size:
                    _flush(batch, chunk, resolver, today, source.fraction(), on_progress)
                    chunk = []
            _flush(batch, chunk, resolver, today, 1.0, on_progress)
    except DomainError as error:
        return _finish(batch, actor, ImportBatch.Status.FAILED, error.message)
    except Exception as error:
        # Class and place only: an error's text may quote a row (a person's name).
        log.error(
            "health import batch %s stopped: %s\n%s",
            batch.pk,
            type(error).__name__,
            "".join(traceback.format_tb(error.__traceback__)).rstrip(),
        )
        batch.refresh_from_db()
        return _finish(batch, actor, ImportBatch.Status.FAILED, _unexpected(batch, error))
    return _finish(batch, actor, ImportBatch.Status.DONE, "")


def _unexpected(batch: ImportBatch, error: Exception) -> str:
    done = (
        f"{format_number(batch.rows_read)} dòng đầu đã xử lý xong, kết quả được giữ nguyên."
        if batch.rows_read
        else "Chưa dòng nào được xử lý xong."
    )
    return (
        f"Lượt nhập bị dừng do lỗi hệ thống ({type(error).__name__}). {done} Nhập lại tệp thì các hồ sơ đã có "
        "được bỏ qua, không bị trùng; nếu lỗi lặp lại, hãy báo quản trị hệ thống."
    )


def _finish(batch: ImportBatch, actor, status: str, message: str) -> ImportBatch:
    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch.pk).update(status=status, message=message, finished_at=timezone.now())
        batch.refresh_from_db()
        # Counts only: the audit trail carries no personal data.
        audit.record(
            actor=actor or CLI_ACTOR,
            action="persons.import",
            obj=batch,
            after={
                "status": batch.status,
                "rows": batch.rows_read,
                "imported": batch.imported,
                "rejected": batch.rejected,
                "skipped_existing": batch.skipped_existing,
            },
        )
    return batch


def _flush(batch, rows, resolver, today, fraction, on_progress):
    try:
        _write_chunk(batch, rows, resolver, today)
    except IntegrityError:
        # Another import stored one of these records between our check and our insert: redo the
        # chunk, whose check now sees it. The failed transaction left nothing behind.
        log.info("health import batch %s: concurrent insert, retrying a chunk", batch.pk)
        _write_chunk(batch, rows, resolver, today)
    if on_progress is not None:
        batch.refresh_from_db()
        on_progress(batch, fraction)


COMPARED = tuple(name for name in PERSON_FIELDS if name != "commune_id")  # the commune is derived, not read


def _write_chunk(batch: ImportBatch, rows: list[Row], resolver, today: dt.date) -> None:
    problems: list[ImportProblem] = []
    new: dict[str, Row] = {}
    rejected = skipped = 0
    for row in rows:
        if row.rejected:
            rejected += 1
        elif row.source_id in new:
            skipped += 1
            row.problem(
                "",
                "",
                f"Trùng với dòng {new[row.source_id].number} của tệp (cùng cơ sở khám chữa bệnh và mã hồ sơ); "
                "không nhập lại.",
            )
        else:
            new[row.source_id] = row
    with transaction.atomic():
        stored = SourceRecord.objects.filter(source=Source.HEALTH, source_id__in=list(new)).values(
            "source_id", "batch_id", "source_row", *COMPARED
        )
        for existing in stored:
            row = new.pop(existing["source_id"])
            skipped += 1
            if existing["batch_id"] == batch.pk:
                row.problem(
                    "",
                    "",
                    f"Trùng với dòng {existing['source_row']} của tệp (cùng cơ sở khám chữa bệnh và mã hồ sơ); "
                    "không nhập lại.",
                )
            elif any((row.values.get(key) or _blank(key)) != existing[key] for key in COMPARED):
                where = f"lượt nhập số {existing['batch_id']}" if existing["batch_id"] else "trước đây"
                row.problem(
                    "",
                    "",
                    f"Hồ sơ này đã được nhập ({where}) với nội dung khác; không ghi đè.",
                )
        records = []
        for row in new.values():
            values = row.values
            records.append(
                SourceRecord(
                    source=Source.HEALTH,
                    source_id=row.source_id,
                    batch=batch,
                    source_row=row.number,
                    commune_id=resolver.resolve(values.get("address", "")),
                    recorded_on=values.pop("recorded_on", None) or today,
                    verified=False,
                    data=row.verbatim,
                    name_folded=fold(values.get("full_name", "")),
                    **values,
                )
            )
        SourceRecord.objects.bulk_create(records, batch_size=500)
        for row in rows:
            problems.extend(
                ImportProblem(batch=batch, row=row.number, column=column[:255], value=value, message=message)
                for column, value, message in row.problems
            )
        ImportProblem.objects.bulk_create(problems, batch_size=500)
        ImportBatch.objects.filter(pk=batch.pk).update(
            rows_read=F("rows_read") + len(rows),
            imported=F("imported") + len(records),
            rejected=F("rejected") + rejected,
            skipped_existing=F("skipped_existing") + skipped,
        )


def _blank(key: str):
    return None if key.startswith("birth_") else ""


def summary(batch: ImportBatch, *, problems: int = 10) -> dict:
    """The counts a script reads (`cqs persons import-health --json`), with the first problems."""
    return {
        "batch": batch.pk,
        "status": batch.status,
        "file": batch.file_name,
        "rows": batch.rows_read,
        "imported": batch.imported,
        "rejected": batch.rejected,
        "skipped_existing": batch.skipped_existing,
        "problems": batch.problems.count(),
        "first_problems": [
            {"row": p.row, "column": p.column, "message": p.message} for p in batch.problems.all()[:problems]
        ],
        "message": batch.message,
    }

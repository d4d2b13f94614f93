"""Writes on civil records: import batches, reviews, scanned pages. Each in a
transaction, each audited without personal data (codes, fields, counts)."""

from __future__ import annotations

from django.core.files import File
from django.db import transaction

from chinhquyenso.civil_records import dates, printing, selectors
from chinhquyenso.civil_records.fields import DATE, KINDS, SEX, YEAR, YEAR_OR_DATE
from chinhquyenso.civil_records.models import CivilRecord, FieldReview, ImportBatch, RecordScan, RecordType, ReviewState
from chinhquyenso.civil_records.reading import SNIFF_BYTES, detect_encoding, detect_format
from chinhquyenso.civil_records.validation import SEXES
from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.text import fold, nfc
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.org.selectors import resolve_agency

CLI_ACTOR = "cqs import-civil"


def _check_type(record_type: str) -> str:
    if record_type not in RecordType.values:
        raise DomainError("Loại sổ phải là khai sinh (birth), khai tử (death) hoặc kết hôn (marriage).", "type")
    return record_type


def find_commune(identifier: str) -> Agency:
    """The registering commune named by key, electronic code or name, as it stands on the
    import date (org.selectors.resolve_agency); a commune merged away keeps its own
    registers, so it resolves to its last version. Which version is picked does not change
    a record's identity: the importer checks every version of the commune."""
    agency = resolve_agency(identifier, field="commune", noun="xã, phường")
    if agency.kind != AgencyKind.COMMUNE_COMMITTEE:
        raise DomainError(
            f"“{agency.name}” không phải UBND cấp xã: sổ hộ tịch được nhập theo nơi đăng ký cấp xã.", "commune"
        )
    return agency


def create_batch(*, record_type: str, commune: Agency, file_name: str, actor=None, upload=None) -> ImportBatch:
    """A batch waiting to run. `upload` (a file object, web imports) is checked
    by content and kept with the batch; the CLI passes its path to run_batch instead."""
    _check_type(record_type)
    if getattr(actor, "pk", None):
        selectors.require_manage(actor, commune)
    if upload is not None:
        head = upload.read(SNIFF_BYTES)
        upload.seek(0)
        if not head:
            raise DomainError("Tệp rỗng.", "file")
        if detect_format(head) == "csv":
            detect_encoding(head)  # raises for binary content
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            record_type=record_type,
            commune=commune,
            file_name=nfc(file_name)[:255],
            created_by=actor if getattr(actor, "pk", None) else None,
            actor_label=CLI_ACTOR if not getattr(actor, "pk", None) else "",
        )
        if upload is not None:
            batch.file.save(f"{batch.pk}.bin", File(upload), save=True)
        audit.record(
            actor=actor or CLI_ACTOR,
            action="civil.batch_created",
            obj=batch,
            agency_id=commune.pk,
            after={"type": record_type, "file": batch.file_name},
        )
    return batch


def enqueue_batch(batch: ImportBatch) -> None:
    from chinhquyenso.civil_records.tasks import run_import

    transaction.on_commit(lambda: run_import.enqueue(batch.pk))


# ---------------------------------------------------------------- review


def _normalize(record: CivilRecord, field: str, value: str):
    """The normalized value an officer typed for `field`, checked like an imported one."""
    kind = KINDS[record.record_type].field(field).kind
    value = nfc(value)
    if not value:
        return None
    if kind == YEAR:
        if not value.isdigit() or not dates.EARLIEST_YEAR <= int(value) <= 2100:
            raise DomainError("Năm phải là số có bốn chữ số, ví dụ 1968.", field)
        return int(value)
    if kind in (DATE, YEAR_OR_DATE):
        parsed = dates.parse(value)
        problems = [reason for code, reason in parsed.flags if code not in ("partial_date", "lunar_date")]
        if not parsed.value or problems:
            raise DomainError(
                problems[0] if problems else "Ngày không hợp lệ; ghi dd/mm/yyyy, mm/yyyy hoặc yyyy.", field
            )
        return parsed.value
    if kind == SEX:
        if fold(value) not in SEXES:
            raise DomainError("Giới tính phải là Nam hoặc Nữ.", field)
        return SEXES[fold(value)]
    return value


def _apply_columns(record: CivilRecord):
    """Keep the searchable columns in step with `data` after a correction."""
    kind = KINDS[record.record_type]
    data = record.data
    names = [data.get(key, "") for key in kind.subject_fields] + [""]
    record.subject_name, record.spouse_name = names[0], names[1]
    record.names_folded = f"{fold(names[0])} | {fold(names[1])}" if names[1] else fold(names[0])
    record.book, record.number = data.get("book", ""), data.get("number", "")
    record.sex = data.get("sex", "")
    record.year = data.get("year") or record.year
    if data.get("registered_on"):
        parsed = dates.parse(data["registered_on"])
        record.registered_on = parsed.exact
    event = data.get(kind.event_field)
    if event:
        parsed = dates.parse(event)
        record.event_from, record.event_to = parsed.start, parsed.end
    if not data.get("key") and record.number and record.year:
        # A corrected book, number or year is the record's identity: a later import of the row matches it.
        identity = f"s:{fold(record.book)}|{fold(record.number)}|{record.year}"
        taken = (
            CivilRecord.objects.filter(
                commune_id=record.commune_id, record_type=record.record_type, identity_key=identity
            )
            .exclude(pk=record.pk)
            .exists()
        )
        if taken:
            raise DomainError("Đã có bản ghi khác cùng quyển số, số đăng ký và năm này trong sổ của xã.", "value")
        record.identity_key = identity


def _close_flags(record: CivilRecord, field: str) -> list:
    closed = [flag for flag in record.flags if flag[0] == field]
    record.flags = [flag for flag in record.flags if flag[0] != field]
    record.review_state = ReviewState.FLAGGED if record.flags else ReviewState.REVIEWED
    return closed


def review_field(
    *, actor, record: CivilRecord, field: str, action: str, value: str = "", note: str = ""
) -> CivilRecord:
    """Confirm a flagged field as the register has it, or correct its normalized
    value. The verbatim text stays; the review is kept in the record's history."""
    selectors.require_manage(actor, record.commune)
    kind = KINDS[record.record_type]
    if field not in kind.by_key:
        raise DomainError("Trường không thuộc mẫu sổ này.", "field")
    if action not in FieldReview.Action.values:
        raise DomainError("Thao tác phải là xác nhận hoặc sửa.", "action")
    new_value = _normalize(record, field, value) if action == FieldReview.Action.CORRECTED else None
    if action == FieldReview.Action.CORRECTED and new_value is None:
        raise DomainError("Nhập giá trị đúng để sửa, hoặc chọn “Xác nhận đúng như sổ”.", "value")
    if field == "key" or (action == FieldReview.Action.CONFIRMED and not any(f[0] == field for f in record.flags)):
        raise DomainError("Trường này không có điểm cần rà soát.", "field")
    with transaction.atomic():
        record = CivilRecord.objects.select_for_update().get(pk=record.pk)
        old_value = record.data.get(field)
        closed = _close_flags(record, field)
        if action == FieldReview.Action.CORRECTED:
            record.data = {**record.data, field: new_value}
            _apply_columns(record)
        record.save()
        header = selectors.verbatim_value(record, field)
        FieldReview.objects.create(
            record=record,
            field=field,
            action=action,
            flag_code=",".join(f[1] for f in closed),
            flag_reason=" ".join(f[2] for f in closed),
            verbatim=header,
            old_value=old_value,
            new_value=new_value,
            note=nfc(note),
            actor=actor,
        )
        audit.record(
            actor=actor,
            action=f"civil.field_{action}",
            obj=record,
            agency_id=record.commune_id,
            after={"field": field, "flags": [f[1] for f in closed], "state": record.review_state},
        )
    return record


def confirm_book(
    *, actor, commune: Agency, record_type: str, book: str, year: int | None, flag_code: str, note: str = ""
) -> int:
    """Confirm one kind of flag on every record of a register book at once
    (say, every "no father's name" of a 1968 birth book). Returns how many
    records changed."""
    selectors.require_manage(actor, commune)
    _check_type(record_type)
    if not flag_code:
        raise DomainError("Chọn loại điểm cần xác nhận.", "flag_code")
    changed = 0
    with transaction.atomic():
        records = selectors.book_records(commune, record_type, book, year).filter(review_state=ReviewState.FLAGGED)
        for record in records.select_for_update().iterator(chunk_size=500):
            matching = [flag for flag in record.flags if flag[1] == flag_code]
            if not matching:
                continue
            record.flags = [flag for flag in record.flags if flag[1] != flag_code]
            record.review_state = ReviewState.FLAGGED if record.flags else ReviewState.REVIEWED
            record.save(update_fields=["flags", "review_state", "updated_at"])
            FieldReview.objects.bulk_create(
                FieldReview(
                    record=record,
                    field=flag[0],
                    action=FieldReview.Action.CONFIRMED,
                    flag_code=flag[1],
                    flag_reason=flag[2],
                    verbatim=selectors.verbatim_value(record, flag[0]),
                    old_value=record.data.get(flag[0]),
                    note=nfc(note) or "Xác nhận cả quyển",
                    actor=actor,
                )
                for flag in matching
            )
            changed += 1
        audit.record(
            actor=actor,
            action="civil.book_confirmed",
            object_type="civil_records.Book",
            object_id=f"{commune.pk}/{record_type}/{book}/{year or ''}",
            agency_id=commune.pk,
            after={"flag": flag_code, "records": changed},
        )
    return changed


def attach_scan(*, actor, record: CivilRecord, data: bytes, original_name: str = "") -> RecordScan:
    """Add a scanned page (JPEG, PNG or PDF, checked by content) to a record."""
    selectors.require_manage(actor, record.commune)
    with transaction.atomic():
        stored = store_upload(data, original_name=original_name, field="scan", user=actor)
        page = record.scans.count() + 1
        scan, created = RecordScan.objects.get_or_create(record=record, file=stored, defaults={"page": page})
        if created:
            audit.record(
                actor=actor,
                action="civil.scan_added",
                obj=record,
                agency_id=record.commune_id,
                after={"page": scan.page, "sha256": stored.sha256},
            )
    return scan


def issue_extract(*, actor, record: CivilRecord, signer: str, signer_title: str) -> bytes:
    """The extract copy (trích lục) as PDF; who printed which record is audited
    (an extract discloses a person's civil status), the names are not."""
    if not selectors.visible_records(actor).filter(pk=record.pk).exists():
        raise PermissionDenied("Bạn không có quyền in bản trích lục của bản ghi này.")
    pdf = printing.extract_pdf(record, signer=nfc(signer), signer_title=nfc(signer_title))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="civil.extract_issued",
            obj=record,
            agency_id=record.commune_id,
            after={"type": record.record_type, "book": record.book, "number": record.number, "year": record.year},
        )
    return pdf

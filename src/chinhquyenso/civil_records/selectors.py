"""Reads of civil records, always scoped by the acting officer.

A commune's officers (and the officers of the commune that succeeded it after
a merger) see its records; import, review and scanned pages need the
specialist (công chức tư pháp – hộ tịch), leader or agency-administrator role;
counter officers search and print extract copies. The province administrator
(Sở Tư pháp's digitization campaign) and auditors see every commune; auditors
change nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from chinhquyenso.accounts.models import GlobalRole, Role
from chinhquyenso.accounts.selectors import agency_ids, sees_whole_province
from chinhquyenso.civil_records.fields import KINDS
from chinhquyenso.civil_records.models import CivilRecord, ImportBatch, ImportProblem, ReviewState
from chinhquyenso.core.errors import NotFound, PermissionDenied
from chinhquyenso.core.text import fold
from chinhquyenso.org.models import Agency
from chinhquyenso.org.selectors import version_chains, versions, with_predecessors

MANAGING_ROLES = [Role.SPECIALIST, Role.LEADER, Role.AGENCY_ADMIN]


def commune_ids(user, *, manage: bool = False) -> set[int] | None:
    """Communes whose records `user` may read (or, manage=True, change);
    None means every commune."""
    if not getattr(user, "pk", None) or getattr(user, "is_citizen", False):
        return set()
    if getattr(user, "global_role", "") == GlobalRole.PROVINCE_ADMIN or (sees_whole_province(user) and not manage):
        return None
    return with_predecessors(agency_ids(user, MANAGING_ROLES if manage else None))


def keeps_registers(user) -> bool:
    """Whether the civil-records pages are for `user`: officers of a commune that keeps registers,
    and those who see the whole province."""
    return sees_whole_province(user) or communes_for(user).exists()


def can_manage(user, commune: Agency) -> bool:
    ids = commune_ids(user, manage=True)
    return ids is None or commune.pk in ids


def require_manage(user, commune: Agency) -> None:
    if not can_manage(user, commune):
        raise PermissionDenied("Bạn không có quyền nhập hoặc rà soát sổ hộ tịch của nơi đăng ký này.")


def visible_records(user) -> QuerySet[CivilRecord]:
    ids = commune_ids(user)
    if ids is None:
        return CivilRecord.objects.all()
    return CivilRecord.objects.filter(commune_id__in=ids)


def visible_batches(user) -> QuerySet[ImportBatch]:
    ids = commune_ids(user)
    batches = ImportBatch.objects.select_related("commune")
    return batches if ids is None else batches.filter(commune_id__in=ids)


def communes_for(user, *, manage: bool = False) -> QuerySet[Agency]:
    """Communes to choose from in the import and search forms."""
    from chinhquyenso.org.models import AgencyKind

    communes = Agency.objects.filter(kind=AgencyKind.COMMUNE_COMMITTEE).order_by("name")
    ids = commune_ids(user, manage=manage)
    return communes if ids is None else communes.filter(pk__in=ids)


@dataclass(frozen=True)
class Unit:
    """A registering commune as the "Nơi đăng ký" lists offer it: once, whatever the number of
    its versions (org.selectors.versions: renamed, moved, re-created under a new parent)."""

    pk: int  # the version chosen in the forms: the one valid today, else the last one
    label: str  # its name now, with its former names; a unit that no longer exists, with its last day
    current: bool
    version_ids: frozenset[int]  # every version the officer sees: the unit's records are on any of them


def _unit(chain: list[Agency]) -> Unit:
    last = chain[-1]
    notes = []
    former = list(dict.fromkeys(v.name for v in chain[:-1] if v.name != last.name))
    if former:
        notes.append(f"trước đây: {', '.join(former)}")
    if last.valid_to is not None:  # its last day: valid_to is the first day it no longer exists
        notes.append(f"đến {last.valid_to - dt.timedelta(days=1):%d/%m/%Y}")
    label = f"{last.name} ({'; '.join(notes)})" if notes else last.name
    return Unit(last.pk, label, last.valid_to is None, frozenset(v.pk for v in chain))


def commune_units(user, *, manage: bool = False) -> list[Unit]:
    """The communes of communes_for, each once: those that exist today first, then those
    merged, split or dissolved (under their historical names), each group by name."""
    agencies = list(communes_for(user, manage=manage))
    visible = {agency.pk for agency in agencies}
    units = [_unit([v for v in chain if v.pk in visible]) for chain in version_chains(agencies)]
    return sorted(units, key=lambda unit: (not unit.current, fold(unit.label)))


def same_commune(commune_id: int) -> list[int]:
    """Every version of the commune `commune_id` is a version of: choosing a commune finds the
    records registered under any of its names."""
    agency = Agency.objects.filter(pk=commune_id).first()
    return [v.pk for v in versions(agency)] if agency else [commune_id]


def get_record(user, pk: int) -> CivilRecord:
    record = visible_records(user).select_related("commune", "batch").filter(pk=pk).first()
    if record is None:
        raise NotFound("Không tìm thấy bản ghi hộ tịch.", "record")
    return record


def get_batch(user, pk: int) -> ImportBatch:
    batch = visible_batches(user).filter(pk=pk).first()
    if batch is None:
        raise NotFound("Không tìm thấy lượt nhập.", "batch")
    return batch


def batch_problems(batch: ImportBatch, *, severity: str = "") -> QuerySet[ImportProblem]:
    problems = batch.problems.all()
    return problems.filter(severity=severity) if severity else problems


def search(
    user,
    *,
    q: str = "",
    record_type: str = "",
    commune_id: int | None = None,
    book: str = "",
    number: str = "",
    year: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[CivilRecord]:
    """Records matching every word of `q` in the subject's (or spouses') name,
    compared without diacritics, case or tone placement; the event date range
    overlaps [date_from, date_to] (a record dated only "1968" matches May 1968)."""
    records = visible_records(user)
    for word in fold(q).split()[:6]:
        records = records.filter(names_folded__contains=word)
    if record_type:
        records = records.filter(record_type=record_type)
    if commune_id:
        records = records.filter(commune_id__in=same_commune(commune_id))
    if book:
        records = records.filter(book__iexact=book.strip())
    if number:
        records = records.filter(number__iexact=number.strip())
    if year:
        records = records.filter(year=year)
    if date_from:
        records = records.filter(event_to__gte=date_from)
    if date_to:
        records = records.filter(event_from__lte=date_to)
    return records.select_related("commune").order_by("commune__name", "year", "book", "id")


def _flagged(user, commune_id: int | None, record_type: str, book: str) -> QuerySet[CivilRecord]:
    records = visible_records(user).filter(review_state=ReviewState.FLAGGED)
    if commune_id:
        records = records.filter(commune_id__in=same_commune(commune_id))
    if record_type:
        records = records.filter(record_type=record_type)
    if book:
        records = records.filter(book=book)
    return records


def review_queue(
    user, *, commune_id: int | None = None, record_type: str = "", book: str = "", flag_code: str = ""
) -> QuerySet[CivilRecord]:
    records = _flagged(user, commune_id, record_type, book)
    if flag_code:
        records = records.filter(flags__icontains=f'"{flag_code}"')
    return records.select_related("commune").order_by(
        "commune__name", "record_type", "year", "book", "source_row", "id"
    )


def flagged_books(user, *, commune_id: int | None = None, record_type: str = "", book: str = "") -> list[dict]:
    """Books with records to review, per commune: what the bulk actions act on."""
    return list(
        _flagged(user, commune_id, record_type, book)
        .values("commune_id", "commune__name", "record_type", "book", "year")
        .annotate(count=Count("id"))
        .order_by("commune__name", "record_type", "year", "book")
    )


def book_records(commune: Agency, record_type: str, book: str, year: int | None) -> QuerySet[CivilRecord]:
    records = CivilRecord.objects.filter(commune=commune, record_type=record_type, book=book)
    return records.filter(year=year) if year else records


def verbatim_value(record: CivilRecord, field: str) -> str:
    """What the register says for `field`, as imported (matched by the file's header)."""
    from chinhquyenso.civil_records.fields import header_index, header_key

    index = header_index(KINDS[record.record_type])
    for header, value in record.verbatim.items():
        if index.get(header_key(header)) == field:
            return value
    return ""


def field_rows(record: CivilRecord) -> list[dict]:
    """Each field of the record's form: label, verbatim, normalized value, open flags, whether reviewed."""
    kind = KINDS[record.record_type]
    reviewed = set(record.reviews.values_list("field", flat=True))
    flags: dict[str, list] = {}
    for field, code, reason in record.flags:
        flags.setdefault(field, []).append({"code": code, "reason": reason})
    rows = []
    for field in kind.fields:
        value = record.data.get(field.key)
        written = verbatim_value(record, field.key)
        if value is None and not written and field.key not in flags:
            continue
        rows.append(
            {
                "key": field.key,
                "label": field.label,
                "verbatim": written,
                "value": "; ".join(value) if isinstance(value, list) else ("" if value is None else str(value)),
                "flags": flags.get(field.key, []),
                "reviewed": field.key in reviewed,
            }
        )
    return rows

"""The platform's own sources of person records, mirrored into SourceRecord: the civil-status
registers (source "civil") and dossier applicants (source "applicant"); and the commune an address
names, as it is today.

`sync_all` creates a SourceRecord for each person a source holds and updates it in place when the
source changed: the record's own fields mirror the source, its link to a Person is never touched,
and nothing is deleted (a person's records stay even when the source row goes). It reads and
writes in chunks (a few queries per thousand records, each chunk in one transaction).

* Civil-status records (civil_records.CivilRecord): a birth record gives its subject
  (source_id "<record pk>"), a death record the deceased ("<pk>"), a marriage record both spouses
  ("<pk>/husband", "<pk>/wife"). Name, sex (a spouse's from the column), date of birth (exact, month
  or year, as the register has it), the residence written on the register where there is one; the
  commune is that residence's commune today, or else the registering commune's current successor.
  `verified`: the register is an official source, so a record is verified unless it still has open
  review flags (review_state "flagged"); `recorded_on`: the registration date (else the event date).
* Dossier applicants (dossiers.Dossier): one record per distinct applicant ID number
  (source_id = the 9- or 12-digit number), with the details of the applicant's latest dossier
  (name, phone, address); `verified` = that dossier's applicant_verified (checked against the
  population database), `recorded_on` = its submission day. Identity numbers that are not a
  person's (a company's tax code) are skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from django.db import transaction
from django.utils import timezone

from chinhquyenso.core import audit
from chinhquyenso.core.text import fold, nfc
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.org.selectors import _address_words, _unit_names, successor_links
from chinhquyenso.persons import access
from chinhquyenso.persons.models import PERSON_FIELDS, Source, SourceRecord

CHUNK = 2000
SYNC_ACTOR = "cqs persons sync"
# The fields a synced SourceRecord mirrors from its source (updated in place when the source changes).
MIRRORED = (*PERSON_FIELDS, "name_folded", "birth_text", "recorded_on", "verified", "data")
BLANK = {"birth_year": None, "birth_month": None, "birth_day": None, "commune_id": None, "recorded_on": None}


# ---------------------------------------------------------------- an address → its commune today


class CommuneResolver:
    """The current commune an address names, by org.selectors.agency_for_address's rule (the most
    specific name wins; a commune merged away gives its successor; two equally good matches give
    None), with the communes and successions read once (two queries) and each distinct address
    worked out once: an import or a sync of millions of records resolves in memory.

    Addresses are matched by their word sequences (every run of up to N words looked up in a table of
    commune names), not by trying every commune name on every address."""

    MEMO_LIMIT = 200_000  # distinct addresses remembered; memory stays bounded on any file

    def __init__(self, day: dt.date | None = None):
        self.day = day or timezone.localdate()
        self._loaded = False
        self._memo: dict[str, int | None] = {}

    def _load(self) -> None:
        day = self.day
        self._valid: dict[int, tuple[dt.date, dt.date | None]] = {}
        self._qualified: dict[str, list[int]] = {}
        self._bare: dict[str, list[int]] = {}
        self.communes: set[int] = set()
        longest = 1
        for agency in Agency.objects.only("id", "kind", "name_folded", "valid_from", "valid_to"):
            self._valid[agency.pk] = (agency.valid_from, agency.valid_to)
            if agency.kind != AgencyKind.COMMUNE_COMMITTEE:
                continue
            self.communes.add(agency.pk)
            if agency.valid_from > day:
                continue
            qualified, bare = _unit_names(agency)
            self._qualified.setdefault(qualified, []).append(agency.pk)
            if bare != qualified:
                self._bare.setdefault(bare, []).append(agency.pk)
            longest = max(longest, len(qualified.split()))
        self._longest = longest
        self._next: dict[int, int | None] = successor_links()
        self._current: dict[int, int | None] = {}
        self._loaded = True

    def _valid_on_day(self, agency_id: int) -> bool:
        start, end = self._valid[agency_id]
        return start <= self.day and (end is None or self.day < end)

    def is_commune(self, agency_id: int | None) -> bool:
        if not self._loaded:
            self._load()
        return agency_id in self.communes

    def current(self, agency_id: int | None) -> int | None:
        """The version valid on the resolver's day that took over `agency_id`'s work (itself when valid)."""
        if agency_id is None:
            return None
        if not self._loaded:
            self._load()
        if agency_id in self._current:
            return self._current[agency_id]
        seen: set[int] = set()
        agency = agency_id
        while agency is not None and agency not in seen and agency in self._valid and not self._valid_on_day(agency):
            seen.add(agency)
            if self._valid[agency][0] > self.day:
                agency = None
                break
            agency = self._next.get(agency)
        result = agency if agency in self._valid else None
        self._current[agency_id] = result
        return result

    def resolve(self, address: str | None) -> int | None:
        """The id of the commune-level committee valid today that `address` names, or None."""
        if not address:
            return None
        if address in self._memo:
            return self._memo[address]
        if not self._loaded:
            self._load()
        result = self._match(address)
        if len(self._memo) >= self.MEMO_LIMIT:
            self._memo.clear()
        self._memo[address] = result
        return result

    def _match(self, address: str) -> int | None:
        tokens = _address_words(address).split()
        if not tokens:
            return None
        scores: dict[int, tuple[int, int]] = {}
        for size in range(1, min(self._longest, len(tokens)) + 1):
            for start in range(len(tokens) - size + 1):
                phrase = " ".join(tokens[start : start + size])
                for table, rank in ((self._qualified, 2), (self._bare, 1)):
                    for agency in table.get(phrase, ()):
                        score = (rank, len(phrase))
                        if score > scores.get(agency, (0, 0)):
                            scores[agency] = score
        if not scores:
            return None
        by_score: dict[tuple[int, int], set[int]] = {}
        for agency, score in scores.items():
            by_score.setdefault(score, set()).add(agency)
        for score in sorted(by_score, reverse=True):
            matched = by_score[score]
            resolved = {a for a in matched if self._valid_on_day(a)}
            if not resolved:
                resolved = {self.current(a) for a in matched} - {None}
            if len(resolved) == 1:
                return resolved.pop()
            if len(resolved) > 1:
                return None
        return None


def resolve_commune(address: str, *, resolver: CommuneResolver | None = None) -> int | None:
    """The current commune id for `address` (see CommuneResolver). Pass one `resolver` for a batch
    of addresses: it reads the communes once and remembers each address."""
    return (resolver or CommuneResolver()).resolve(address)


# ---------------------------------------------------------------- the sync


def sync_all(*, actor=None, chunk_size: int = CHUNK) -> dict:
    """Create or update the SourceRecords of the civil-status registers and of dossier applicants;
    counts per source ({"civil": {"created", "updated", "unchanged", "skipped"}, "applicant": {…}})
    and in all ("created", "updated"). `actor`: an officer (who needs persons.review_links), or None
    for the operator's command line and the linking run's own sync."""
    if getattr(actor, "pk", None):
        access.require_review(actor)
    resolver = CommuneResolver()
    counts = {
        Source.CIVIL.value: _sync(Source.CIVIL, _civil_entries(resolver, chunk_size), chunk_size),
        Source.APPLICANT.value: _sync(Source.APPLICANT, _applicant_entries(resolver, chunk_size), chunk_size),
    }
    by_source = (counts[Source.CIVIL.value], counts[Source.APPLICANT.value])
    counts["created"] = sum(c["created"] for c in by_source)
    counts["updated"] = sum(c["updated"] for c in by_source)
    with transaction.atomic():
        audit.record(
            actor=actor or SYNC_ACTOR,
            action="persons.sync",
            object_type="persons.SourceRecord",
            after={"civil": counts["civil"], "applicant": counts["applicant"]},
        )
    return counts


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _sync(source: str, entries: Iterable[dict | None], chunk_size: int) -> dict:
    """Write `entries` (dicts of source_id plus the MIRRORED fields; None for a source row that names
    nobody) as SourceRecords of `source`, chunk by chunk."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    for chunk in _chunks(entries, chunk_size):
        wanted: dict[str, dict] = {}
        for entry in chunk:
            if entry is None:
                counts["skipped"] += 1
            else:
                wanted[entry["source_id"]] = {**entry, "name_folded": fold(entry.get("full_name", ""))}
        if not wanted:
            continue
        with transaction.atomic():
            existing = SourceRecord.objects.filter(source=source, source_id__in=list(wanted)).only(
                "id", "source_id", *(name.removesuffix("_id") if name == "commune_id" else name for name in MIRRORED)
            )
            changed = []
            for record in existing:
                entry = wanted.pop(record.source_id)
                differs = False
                for name in MIRRORED:
                    value = entry.get(name, BLANK.get(name, ""))
                    if getattr(record, name) != value:
                        setattr(record, name, value)
                        differs = True
                if differs:
                    changed.append(record)
                else:
                    counts["unchanged"] += 1
            if changed:
                SourceRecord.objects.bulk_update(changed, MIRRORED, batch_size=500)
            SourceRecord.objects.bulk_create(
                [
                    SourceRecord(
                        source=source,
                        **{name: entry.get(name, BLANK.get(name, "")) for name in MIRRORED},
                        source_id=entry["source_id"],
                    )
                    for entry in wanted.values()
                ],
                batch_size=500,
            )
        counts["updated"] += len(changed)
        counts["created"] += len(wanted)
    return counts


def _normalized(func, value, default=""):
    """A persons.normalize result, or `default` where the source's value is unreadable (a source
    record mirrors what it can read; the source keeps the value as written)."""
    if value in (None, ""):
        return default
    try:
        return func(value)
    except ValueError:
        return default


def _birth_fields(text: str | None) -> dict:
    """The date of birth a register stores ("1968-05-12", "1968-05" or "1968") as SourceRecord's fields."""
    if not text:
        return {}
    parts = str(text).split("-")
    try:
        numbers = [int(part) for part in parts[:3]]
    except ValueError:
        return {}
    year, month, day = (numbers + [None, None])[:3]
    return {"birth_text": str(text)[:40], "birth_year": year, "birth_month": month, "birth_day": day}


# The people a register record names: role → (name field or column, sex, birth field, residence field).
CIVIL_PEOPLE = {
    "birth": [("", "subject_name", None, "born_on", None)],
    "death": [("", "subject_name", None, "born_on", "residence")],
    "marriage": [
        ("husband", "subject_name", "nam", "husband_born", "husband_residence"),
        ("wife", "spouse_name", "nu", "wife_born", "wife_residence"),
    ],
}


def _civil_entries(resolver: CommuneResolver, chunk_size: int) -> Iterator[dict | None]:
    from chinhquyenso.civil_records.models import CivilRecord, ReviewState
    from chinhquyenso.persons import normalize

    columns = (
        "pk",
        "record_type",
        "commune_id",
        "subject_name",
        "spouse_name",
        "sex",
        "data",
        "review_state",
        "registered_on",
        "event_from",
        "book",
        "number",
        "year",
    )
    last = 0
    while True:
        page = list(CivilRecord.objects.filter(pk__gt=last).order_by("pk").values(*columns)[:chunk_size])
        if not page:
            return
        last = page[-1]["pk"]
        for record in page:
            data = record["data"] or {}
            for role, name_column, sex, born_field, residence_field in CIVIL_PEOPLE.get(record["record_type"], ()):
                name = nfc(record[name_column])[:200]
                if not name:
                    yield None
                    continue
                address = nfc(data.get(residence_field) or "")[:300] if residence_field else ""
                commune = resolver.resolve(address) if address else None
                entry = {
                    "source_id": f"{record['pk']}/{role}" if role else str(record["pk"]),
                    "full_name": name,
                    "sex": sex or _normalized(normalize.normalize_sex, record["sex"] or data.get("sex")),
                    "address": address,
                    "commune_id": commune or resolver.current(record["commune_id"]),
                    "recorded_on": record["registered_on"] or record["event_from"],
                    "verified": record["review_state"] != ReviewState.FLAGGED,
                    "data": {
                        "record_type": record["record_type"],
                        "role": role or "subject",
                        "book": record["book"],
                        "number": record["number"],
                        "year": record["year"],
                        "commune_id": record["commune_id"],
                    },
                    **_birth_fields(data.get(born_field)),
                }
                yield entry


def _applicant_entries(resolver: CommuneResolver, chunk_size: int) -> Iterator[dict | None]:
    from chinhquyenso.dossiers.models import Dossier
    from chinhquyenso.persons import normalize

    columns = (
        "pk",
        "code",
        "applicant_identity",
        "applicant_name",
        "applicant_phone",
        "applicant_address",
        "applicant_verified",
        "submitted_at",
        "receiving_agency_id",
    )
    # One pass over the dossiers, each applicant's latest first: the first row of each ID number is
    # the one kept (streamed, chunk_size rows per fetch).
    dossiers = (
        Dossier.objects.order_by("applicant_identity", "-submitted_at", "-pk")
        .values(*columns)
        .iterator(chunk_size=chunk_size)
    )
    previous = None
    for dossier in dossiers:
        identity = dossier["applicant_identity"]
        if identity == previous:
            continue
        previous = identity
        number = _normalized(normalize.normalize_id, identity)
        name = nfc(dossier["applicant_name"])[:200]
        if not number or not name:
            yield None  # not a person's ID number (a company's tax code), or no name
            continue
        address = nfc(dossier["applicant_address"])[:300]
        commune = resolver.resolve(address)
        if commune is None and resolver.is_commune(dossier["receiving_agency_id"]):
            commune = resolver.current(dossier["receiving_agency_id"])
        yield {
            "source_id": number,
            "full_name": name,
            "id_number": number,
            "phone": _normalized(normalize.normalize_phone, dossier["applicant_phone"]),
            "address": address,
            "commune_id": commune,
            "recorded_on": timezone.localtime(dossier["submitted_at"]).date(),
            "verified": dossier["applicant_verified"],
            "data": {"dossier": dossier["code"]},
        }

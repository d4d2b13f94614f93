"""Reads of the master person index for the officers' pages, the reports, the "possible same person"
links and the indicator. Who may read is checked by the views (persons.access); these functions take
already-permitted callers and keep each page to a few queries, whatever the number of records
(the seed's 2.5 million health records: counts are aggregated in the database, never in Python)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, F, FloatField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Abs, Cast

from chinhquyenso.core.text import fold
from chinhquyenso.persons.models import (
    CandidatePair,
    ClusterChange,
    Decision,
    ImportBatch,
    LinkModel,
    LinkRun,
    PairDecision,
    Person,
    Source,
    SourceRecord,
)

RECENT_RUNS = 5
RECENT_MODELS = 5
RECENT_BATCHES = 20
HISTORY_RUNS = 20  # run changes shown on a person's page
HISTORY_MANUAL_SCANNED = 500  # recent merges, splits and unmerges looked through for a person's page
SEARCH_LIMIT = 50


# ---------------------------------------------------------------- counts


@dataclass
class Counts:
    """Records and the distinct persons among them: a record not linked yet counts as its own person."""

    records: int
    persons: int

    @property
    def duplicates(self) -> int:
        return self.records - self.persons

    @property
    def per_person(self) -> float | None:
        return self.records / self.persons if self.persons else None

    @property
    def duplicate_share(self) -> float | None:
        return self.duplicates * 100 / self.records if self.records else None


def _counts(records) -> Counts:
    row = records.aggregate(
        records=Count("pk"),
        linked=Count("person", distinct=True),
        unlinked=Count("pk", filter=Q(person__isnull=True)),
    )
    return Counts(row["records"], row["linked"] + row["unlinked"])


def counts(source: str | None = None) -> Counts:
    records = SourceRecord.objects.all()
    if source:
        records = records.filter(source=source)
    return _counts(records)


def counts_by_source() -> list[tuple[str, str, Counts]]:
    """(source code, Vietnamese name, counts) for every source, in the order of `Source`."""
    rows = {
        row["source"]: row
        for row in SourceRecord.objects.values("source").annotate(
            records=Count("pk"),
            linked=Count("person", distinct=True),
            unlinked=Count("pk", filter=Q(person__isnull=True)),
        )
    }
    result = []
    for code, label in Source.choices:
        row = rows.get(code, {"records": 0, "linked": 0, "unlinked": 0})
        result.append((code, label, Counts(row["records"], row["linked"] + row["unlinked"])))
    return result


def health_counts_until(end) -> Counts:
    """Health records created up to the end of a local date, and the distinct persons among them (the
    indicator "records per person")."""
    return _counts(SourceRecord.objects.filter(source=Source.HEALTH, created_at__date__lte=end))


@dataclass
class FacilityRow:
    facility: str
    counts: Counts


def facility_report() -> tuple[list[FacilityRow], Counts]:
    """Health records per facility (records, distinct persons, duplicate records = records − persons)
    and the province's total, where a person recorded at two facilities counts once."""
    health = SourceRecord.objects.filter(source=Source.HEALTH)
    rows = [
        FacilityRow(row["facility"], Counts(row["records"], row["linked"] + row["unlinked"]))
        for row in health.values("facility")
        .annotate(
            records=Count("pk"),
            linked=Count("person", distinct=True),
            unlinked=Count("pk", filter=Q(person__isnull=True)),
        )
        .order_by("facility")
    ]
    rows.sort(key=lambda r: (-r.counts.duplicates, r.facility))
    return rows, _counts(health)


# ---------------------------------------------------------------- runs, models, imports


def latest_runs(limit: int = RECENT_RUNS) -> list[LinkRun]:
    return list(LinkRun.objects.select_related("model", "created_by")[:limit])


def latest_models(limit: int = RECENT_MODELS) -> list[LinkModel]:
    return list(LinkModel.objects.select_related("created_by")[:limit])


def latest_done_run() -> LinkRun | None:
    return LinkRun.objects.filter(status=LinkRun.Status.DONE).select_related("model").first()


def recent_batches(limit: int = RECENT_BATCHES) -> list[ImportBatch]:
    return list(ImportBatch.objects.select_related("created_by")[:limit])


def get_batch(pk: int) -> ImportBatch | None:
    return ImportBatch.objects.select_related("created_by").filter(pk=pk).first()


# ---------------------------------------------------------------- review queue

QUEUE_OPEN = "open"  # no decision yet
QUEUE_UNSURE = "unsure"  # the decision in force is "unsure"


def _decisions():
    return PairDecision.objects.filter(left=OuterRef("left"), right=OuterRef("right"))


def _decision_in_force():
    """The pair's latest decision: the one in force."""
    return Subquery(_decisions().order_by("-at", "-pk").values("decision")[:1])


def review_queue(run: LinkRun | None, which: str = QUEUE_OPEN):
    """The run's pairs in the uncertain zone: without a decision (`open`), or whose decision in force
    is "unsure"; the most uncertain first (a probability nearest 50%), then by weight."""
    if run is None:
        return CandidatePair.objects.none()
    pairs = CandidatePair.objects.filter(run=run)
    if which == QUEUE_UNSURE:
        pairs = pairs.annotate(in_force=_decision_in_force()).filter(in_force=Decision.UNSURE)
    else:
        pairs = pairs.annotate(decided=Exists(_decisions())).filter(decided=False)
    return pairs.annotate(
        doubt=Abs(Cast(F("match_probability"), FloatField()) - Value(0.5, output_field=FloatField()))
    ).order_by("doubt", "-match_weight", "pk")


def queue_size(run: LinkRun | None) -> int:
    return review_queue(run).count() if run else 0


def get_pair(pk: int) -> CandidatePair | None:
    return (
        CandidatePair.objects.select_related(
            "run__model", "left__commune", "right__commune", "left__person", "right__person"
        )
        .filter(pk=pk)
        .first()
    )


def pair_decisions(pair: CandidatePair) -> list[PairDecision]:
    return list(PairDecision.objects.filter(left=pair.left_id, right=pair.right_id).select_related("actor"))


def next_pair(run: LinkRun | None, *, after: int | None = None) -> CandidatePair | None:
    """The first pair of the open queue, other than `after`."""
    pairs = review_queue(run)
    if after:
        pairs = pairs.exclude(pk=after)
    return pairs.first()


# ---------------------------------------------------------------- persons and records


def get_person(code: str) -> Person | None:
    return Person.objects.filter(code=code).first()


def person_records(person: Person) -> list[SourceRecord]:
    return list(person.records.select_related("commune", "batch").order_by("source", "-recorded_on", "pk"))


def person_history(person: Person, record_ids: list[int]) -> list[ClusterChange]:
    """Changes that moved the person's records, or moved records into or out of the person: the runs
    that touched its current records (the latest HISTORY_RUNS), and the recent merges, splits and
    unmerges that name the person or its records."""
    keys = [str(pk) for pk in record_ids]
    found: dict[int, ClusterChange] = {}
    if keys:
        runs = (
            ClusterChange.objects.filter(kind=ClusterChange.Kind.RUN)
            .filter(Q(after__has_any_keys=keys) | Q(before__has_any_keys=keys))
            .select_related("actor", "run", "undone_by")
        )
        for change in runs[:HISTORY_RUNS]:
            found[change.pk] = change
    manual = ClusterChange.objects.exclude(kind=ClusterChange.Kind.RUN).select_related("actor", "run", "undone_by")
    wanted = set(keys)
    for change in manual[:HISTORY_MANUAL_SCANNED]:
        moved = {**(change.before or {}), **(change.after or {})}
        values = set((change.before or {}).values()) | set((change.after or {}).values())
        if wanted & set(moved) or person.pk in values or str(person.pk) in values or person.code in values:
            found[change.pk] = change
    return sorted(found.values(), key=lambda c: (c.at, c.pk), reverse=True)


def persons_by_ids(ids) -> dict[int, Person]:
    return {p.pk: p for p in Person.objects.filter(pk__in=[int(i) for i in ids if i is not None])}


def search_records(*, id_number: str = "", name: str = "", limit: int = SEARCH_LIMIT) -> list[SourceRecord]:
    """Records by ID number (exact: 9 or 12 digits, the old or the new card) or by name (the words as
    typed, in any case, with or without diacritics), each with its person."""
    records = SourceRecord.objects.select_related("person", "commune")
    if id_number:
        records = records.filter(id_number=id_number)
    if name:
        for word in fold(name).split():
            records = records.filter(name_folded__contains=word)
    return list(records.order_by("full_name", "source", "pk")[:limit])

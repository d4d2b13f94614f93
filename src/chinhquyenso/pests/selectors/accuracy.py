"""How well the deployed identification model does, measured on the experts' confirmations — the
seeds' per-species table ("many species recognised 0–45 % of the time"), computed instead of guessed.

The unit is the confirmed photo: a photo an expert labelled (an organism, or "none" for no pest or
disease) that the model had scored (`IdentificationPhoto.top`, the model's own top 3 for that photo).
Photos sent in while no model was configured have no prediction and are counted apart
(`not_measured`). Everything is per model version (Identification.model_version: the model file's name
and the first 12 hex digits of its SHA-256), since a new model is a new measurement. For each species
(true class, the expert's label):

- confirmed: photos labelled with it;
- top-1 correct: of those, photos whose best class was it; top-3 correct: photos where it was among the
  three best;
- abstained: of those, photos of requests where the service did not answer (below the threshold) and
  sent the photos to an expert;
- recall = top-1 correct / confirmed (how often a photo of the species is recognised).

For each predicted class: predicted = confirmed photos whose best class was it, precision = top-1
correct / predicted (how often the model is right when it says so). Ratios come from their stored
numerator and denominator and print the Vietnamese way (41,5%); "—" when the denominator is 0. The
period filters on the confirmation time (labelled_at), local dates inclusive."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q

from chinhquyenso.core.calendar import LOCAL_TZ
from chinhquyenso.core.text import format_ratio
from chinhquyenso.pests.identify import NONE
from chinhquyenso.pests.models import IdentificationPhoto
from chinhquyenso.pests.selectors.identification import names


@dataclass
class SpeciesRow:
    code: str
    name: str
    confirmed: int = 0
    top1: int = 0
    top3: int = 0
    abstained: int = 0
    predicted: int = 0  # confirmed photos the model put first as this class

    @property
    def recall(self) -> str:
        return format_ratio(self.top1, self.confirmed, 1)

    @property
    def top3_rate(self) -> str:
        return format_ratio(self.top3, self.confirmed, 1)

    @property
    def precision(self) -> str:
        return format_ratio(self.top1, self.predicted, 1)


@dataclass
class AccuracyTable:
    model_version: str
    rows: list[SpeciesRow] = field(default_factory=list)
    photos: int = 0
    top1: int = 0
    top3: int = 0
    abstained: int = 0

    @property
    def accuracy(self) -> str:
        return format_ratio(self.top1, self.photos, 1)

    @property
    def top3_rate(self) -> str:
        return format_ratio(self.top3, self.photos, 1)

    @property
    def abstained_rate(self) -> str:
        return format_ratio(self.abstained, self.photos, 1)


def _bounds(start: dt.date | None, end: dt.date | None) -> Q:
    q = Q(labelled_at__isnull=False) & (Q(label__isnull=False) | Q(label_none=True))
    if start is not None:
        q &= Q(labelled_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=LOCAL_TZ))
    if end is not None:
        q &= Q(labelled_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ))
    return q


def _confirmed(start, end, model_version=None):
    rows = IdentificationPhoto.objects.filter(_bounds(start, end))
    if model_version:
        rows = rows.filter(identification__model_version=model_version)
    return rows.values_list(
        "top", "label__code", "label_none", "identification__model_version", "identification__abstained"
    ).order_by("pk")


def accuracy_tables(
    *, start: dt.date | None = None, end: dt.date | None = None, model_version: str | None = None
) -> tuple[list[AccuracyTable], int]:
    """One table per model version (most photos first) and the number of confirmed photos without a
    prediction (not measured)."""
    tables: dict[str, AccuracyTable] = {}
    species: dict[str, dict[str, SpeciesRow]] = {}
    not_measured = 0
    for top, label, label_none, version, abstained in _confirmed(start, end, model_version).iterator(chunk_size=2000):
        truth = NONE if label_none else label
        if not top or not version:
            not_measured += 1
            continue
        ranked = [entry.get("organism") for entry in top]
        table = tables.setdefault(version, AccuracyTable(version))
        rows = species.setdefault(version, {})
        row = rows.setdefault(truth, SpeciesRow(truth, ""))
        predicted = rows.setdefault(ranked[0], SpeciesRow(ranked[0], ""))
        predicted.predicted += 1
        row.confirmed += 1
        table.photos += 1
        if ranked[0] == truth:
            row.top1 += 1
            table.top1 += 1
        if truth in ranked[:3]:
            row.top3 += 1
            table.top3 += 1
        if abstained:
            row.abstained += 1
            table.abstained += 1
    labels = names(code for rows in species.values() for code in rows)
    for version, table in tables.items():
        for row in species[version].values():
            row.name = labels.get(row.code, row.code)
        table.rows = sorted(species[version].values(), key=lambda r: (-r.confirmed, r.name))
    return sorted(tables.values(), key=lambda t: (-t.photos, t.model_version)), not_measured


def accuracy_summary(start: dt.date, end: dt.date) -> dict:
    """The figures of the indicator "identification accuracy from confirmations" over start..end (local
    dates of the confirmations, inclusive), all model versions together, and per version:
    {"photos", "top1", "top3", "abstained", "not_measured", "by_version": {version: {"photos", "top1",
    "top3", "abstained"}}}. Accuracy = top1 / photos (no value when photos is 0)."""
    tables, not_measured = accuracy_tables(start=start, end=end)
    total = {"photos": 0, "top1": 0, "top3": 0, "abstained": 0}
    by_version = {}
    for table in tables:
        figures = {"photos": table.photos, "top1": table.top1, "top3": table.top3, "abstained": table.abstained}
        by_version[table.model_version] = figures
        for key, value in figures.items():
            total[key] += value
    return {**total, "not_measured": not_measured, "by_version": by_version}

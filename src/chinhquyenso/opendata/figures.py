"""How many of the province's agencies publish open data on a given day — seed 001's "số lượng CQNN cấp
tỉnh, cấp huyện, cấp xã cung cấp dữ liệu mở là 179/188" — with the agencies behind both numbers and the
datasets late against their update frequency.

The definition is data (opendata/data/publishing.json):
- denominator: agencies valid on `day` whose kind is in "counted_kinds", inside the tree of the
  province's People's Committee of that day ("within_province_tree": a neighbouring province's agencies
  the platform also knows, before a merger, are not the province's);
- numerator: those with at least one dataset public at the end of `day`. The status on `day` is read
  from the datasets' version history (DatasetVersion), not their current status, so a past period's
  figure does not change when a dataset is withdrawn later;
- a public dataset of an agency that has since been merged or renamed counts for the agency that took
  over its open work (the indicators' rule, indicators.selectors.units_at): the successor keeps
  providing what its predecessor published, and a dissolved agency without successor counts for no one.

Late datasets: public on `day`, with a frequency that has a period (FREQUENCY_DAYS) and data last
updated more than that many days before the end of `day`."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from chinhquyenso.core.calendar import LOCAL_TZ
from chinhquyenso.indicators.periods import Period
from chinhquyenso.indicators.selectors import units_at
from chinhquyenso.opendata.models import FREQUENCY_DAYS, Dataset, DatasetStatus, DatasetVersion
from chinhquyenso.org.models import Agency, AgencyKind

PUBLISHING_FILE = Path(__file__).parent / "data" / "publishing.json"


@cache
def publishing_rule() -> dict:
    return json.loads(PUBLISHING_FILE.read_text(encoding="utf-8"))


@dataclass
class AgencyRow:
    agency: Agency
    counted: bool  # in the denominator
    publishes: bool  # at least one public dataset (its own or a predecessor's)
    public_datasets: int = 0
    late_datasets: list[Dataset] = field(default_factory=list)


@dataclass
class PublishingFigures:
    day: dt.date
    numerator: int
    denominator: int
    rows: list[AgencyRow]

    @property
    def counted(self) -> list[AgencyRow]:
        return [row for row in self.rows if row.counted]

    @property
    def publishing(self) -> list[AgencyRow]:
        return [row for row in self.rows if row.counted and row.publishes]

    @property
    def not_publishing(self) -> list[AgencyRow]:
        return [row for row in self.rows if row.counted and not row.publishes]

    @property
    def late_datasets(self) -> list[Dataset]:
        return [dataset for row in self.rows for dataset in row.late_datasets]


def _day_end(day: dt.date) -> dt.datetime:
    """The first moment after `day`, local time."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ)


def counted_agencies(day: dt.date) -> list[Agency]:
    """The agencies of the denominator on `day`, in tree order (kind, then name)."""
    rule = publishing_rule()
    valid = list(Agency.objects.valid_on(day).order_by("id"))
    kinds = set(rule["counted_kinds"])
    chosen = [a for a in valid if a.kind in kinds]
    if rule.get("within_province_tree", True):
        roots = [a for a in valid if a.kind == AgencyKind.PROVINCE_COMMITTEE and a.parent_id is None]
        if roots:
            # The province's committee is the first one recorded (exchange.bus.registry picks it the
            # same way): neighbours the platform knows come later, for a merger.
            children: dict[int, list[int]] = {}
            for agency in valid:
                children.setdefault(agency.parent_id, []).append(agency.id)
            inside, stack = set(), [roots[0].id]
            while stack:
                current = stack.pop()
                if current not in inside:
                    inside.add(current)
                    stack.extend(children.get(current, []))
            chosen = [a for a in chosen if a.id in inside]
    order = {kind: index for index, kind in enumerate(rule["counted_kinds"])}
    return sorted(chosen, key=lambda a: (order.get(a.kind, 99), a.name, a.id))


def public_on(day: dt.date) -> list[Dataset]:
    """Datasets public at the end of `day`, by their version history (the status their last version
    up to then recorded); one with no version at all by its current status and publication time."""
    end = _day_end(day)
    status_then = Subquery(
        DatasetVersion.objects.filter(dataset=OuterRef("pk"), at__lt=end).order_by("-number").values("status")[:1]
    )
    any_version = DatasetVersion.objects.filter(dataset=OuterRef("pk"))
    rows = (
        Dataset.objects.annotate(status_then=status_then, versioned=Subquery(any_version.values("pk")[:1]))
        .select_related("agency")
        .order_by("agency_id", "name")
    )
    out = []
    for dataset in rows:
        if dataset.versioned is not None:
            public = dataset.status_then == DatasetStatus.PUBLIC
        else:
            public = dataset.status == DatasetStatus.PUBLIC and (
                dataset.published_at is not None and dataset.published_at < end
            )
        if public:
            out.append(dataset)
    return out


def is_late(dataset: Dataset, day: dt.date) -> bool:
    """Its data older than its frequency allows at the end of `day`. A dataset whose data changed after
    `day` cannot say how old it was then (only the last change is kept): not counted late."""
    days = FREQUENCY_DAYS.get(dataset.frequency)
    if days is None:
        return False
    end = _day_end(day)
    updated = dataset.data_updated_at or dataset.published_at
    if updated is None:
        return True
    if updated >= end:
        return False
    return end - updated > dt.timedelta(days=days)


def publishing_figures(day: dt.date | None = None) -> PublishingFigures:
    """The publishing figure on `day` (today by default): every counted agency (counted=True), and any
    other agency with a public dataset (the province's committee publishing the live datasets)."""
    day = day or timezone.localdate()
    counted = counted_agencies(day)
    _, unit_of = units_at(Period("range", day, day))
    per_unit: dict[int, list[Dataset]] = {}
    for dataset in public_on(day):
        unit = unit_of.get(dataset.agency_id)
        if unit is not None:
            per_unit.setdefault(unit, []).append(dataset)
    rows = []
    for agency in counted:
        datasets = per_unit.pop(agency.id, [])
        rows.append(
            AgencyRow(
                agency=agency,
                counted=True,
                publishes=bool(datasets),
                public_datasets=len(datasets),
                late_datasets=[d for d in datasets if is_late(d, day)],
            )
        )
    others = Agency.objects.in_bulk(list(per_unit))
    for unit_id, datasets in sorted(per_unit.items(), key=lambda item: others[item[0]].name):
        rows.append(
            AgencyRow(
                agency=others[unit_id],
                counted=False,
                publishes=True,
                public_datasets=len(datasets),
                late_datasets=[d for d in datasets if is_late(d, day)],
            )
        )
    numerator = sum(1 for row in rows if row.counted and row.publishes)
    return PublishingFigures(day=day, numerator=numerator, denominator=len(counted), rows=rows)

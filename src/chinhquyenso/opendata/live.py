"""Live datasets: open data the platform generates from its own records and refreshes every day (job
`refresh_open_data`, `cqs opendata refresh`).

The catalog is data (opendata/data/live_datasets.json): each entry names its generator (GENERATORS
below), the dataset's metadata, its publisher (an agency code, or "province_committee": the province's
current People's Committee) and its temporal coverage. The province's decision listing its open-data
catalog (seed 002: Quyết định 1336/QĐ-UBND ngày 18/8/2023) is the approval of these datasets, so they
are created public directly, as the system (services.datasets.publish_generated); a dataset someone
withdrew stays withdrawn and is not regenerated.

Generators publish aggregates only, never a person's row. Counts derived from personal data
(dossiers — a dossier is a person's —, citizen feedback) go through `suppress`:
- primary suppression: a count between 1 and CQS["OPENDATA_SMALL_CELL"]-1 is left empty and the row's
  "Ghi chú" says "<5" and which columns;
- complementary suppression: no table publishes a total row or column, and the parts published beside
  a whole (online ⊂ received, on time ⊂ finished) never add up to it, so a hidden cell cannot be
  recomputed from a total; the one thing a published part and its whole reveal is their difference
  (received offline = received − online), so a part is hidden too when that difference is itself
  small;
- derived figures (the quarterly rates, the 766 score and its group scores) are published only where
  every monthly count they are computed from passes the rule, so they carry nothing the counts table
  hides; any other indicator value counted over people (its count unit is not in the entry's
  "counts_not_about_people") only where its numerator, denominator and their difference pass it.

Pest surveillance densities are insects counted in traps and officers' field surveys: no person's
data, so no small-cell rule; only the means are published, never a survey (which names its officer).
Their publisher is the agency issuing the province's weekly pest bulletin, found from the stations'
data ("pest_bulletin_issuer"). An entry without "licence" takes the province's default licence, and
follows it when the province changes it."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from chinhquyenso.core.calendar import LOCAL_TZ
from chinhquyenso.indicators.models import DossierMonthFact, Indicator
from chinhquyenso.indicators.periods import Period, quarter, shift_month
from chinhquyenso.opendata.figures import publishing_figures
from chinhquyenso.opendata.models import Dataset, DatasetStatus
from chinhquyenso.org.models import Agency, AgencyKind

CATALOG_FILE = Path(__file__).parent / "data" / "live_datasets.json"


class Table(NamedTuple):
    """One generated table: its resource key within the dataset, name, header and rows."""

    key: str
    name: str
    header: list[str]
    rows: list[list]


@dataclass(frozen=True)
class Generator:
    title: str
    build: Callable[[dt.date, dt.date], list[Table]]


@cache
def catalog() -> list[dict]:
    return json.loads(CATALOG_FILE.read_text(encoding="utf-8"))["datasets"]


# ------------------------------------------------------------------ small cells

NOTE = "Ghi chú"


def small_cell() -> int:
    return int(settings.CQS["OPENDATA_SMALL_CELL"])


def suppress(
    values: Mapping[str, int], parts: Mapping[str, str], labels: Mapping[str, str]
) -> tuple[dict[str, int | None], str]:
    """The counts of one row with small cells hidden (None), and the row's note. `parts`: part → the
    whole it is part of, both published in the row."""
    limit = small_cell()
    out: dict[str, int | None] = {name: int(value or 0) for name, value in values.items()}
    primary = [name for name, value in out.items() if 0 < value < limit]
    for name in primary:
        out[name] = None
    secondary = []
    for part, whole in parts.items():
        if out[part] is not None and out[whole] is not None and 0 < out[whole] - out[part] < limit:
            out[part] = None
            secondary.append(part)
    notes = []
    if primary:
        notes.append(f"<{limit}: " + ", ".join(labels[name] for name in primary))
    if secondary:
        notes.append("để trống để không suy ra ô nhỏ hơn " + f"{limit}: " + ", ".join(labels[n] for n in secondary))
    return out, "; ".join(notes)


def _cell(value):
    return "" if value is None else value


def _rate(numerator: int, denominator: int) -> str:
    if not denominator:
        return ""
    value = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return str(value)


# ------------------------------------------------------------------ procedures


def build_procedures(start: dt.date, end: dt.date) -> list[Table]:
    """The procedures in force, with the agencies handling them on `end`."""
    from chinhquyenso.procedures.models import Procedure, ProcedureAgency, ServiceLevel

    levels = {"province": "Cấp tỉnh", "district": "Cấp huyện", "commune": "Cấp xã"}
    service = dict(ServiceLevel.choices)
    handling: dict[int, list[str]] = defaultdict(list)
    assignments = (
        ProcedureAgency.objects.filter(valid_from__lte=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=end))
        .filter(agency__valid_from__lte=end)
        .filter(Q(agency__valid_to__isnull=True) | Q(agency__valid_to__gt=end))
        .values_list("procedure_id", "agency__name")
        .order_by("procedure_id", "agency__name")
    )
    for procedure_id, agency_name in assignments:
        if agency_name not in handling[procedure_id]:
            handling[procedure_id].append(agency_name)
    header = [
        "Mã thủ tục",
        "Tên thủ tục",
        "Lĩnh vực",
        "Mức độ dịch vụ công trực tuyến",
        "Cấp thực hiện",
        "Phí (đồng)",
        "Lệ phí (đồng)",
        "Thời hạn giải quyết (ngày làm việc)",
        "Cơ quan giải quyết",
    ]
    rows = [
        [
            procedure.code,
            procedure.name,
            procedure.field.name,
            service.get(procedure.service_level, procedure.service_level),
            ", ".join(levels.get(level, level) for level in procedure.levels),
            procedure.fee,
            procedure.charge,
            procedure.processing_days,
            "; ".join(handling.get(procedure.id, [])),
        ]
        for procedure in Procedure.objects.filter(is_active=True).select_related("field").order_by("code")
    ]
    return [Table("danh-muc", "Danh mục thủ tục hành chính", header, rows)]


# ------------------------------------------------------------------ dossiers

DOSSIER_COUNTS = {
    "received": "Hồ sơ tiếp nhận",
    "received_online": "Tiếp nhận trực tuyến",
    "received_digitized": "Tiếp nhận đã số hóa",
    "finished": "Hồ sơ đã giải quyết",
    "finished_in_time": "Giải quyết đúng hạn",
    "finished_electronic": "Trả kết quả điện tử",
}
DOSSIER_PARTS = {
    "received_online": "received",
    "received_digitized": "received",
    "finished_in_time": "finished",
    "finished_electronic": "finished",
}


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def dossier_months(start: dt.date, end: dt.date) -> dict[tuple[int, dt.date], dict[str, int]]:
    """{(receiving agency version id, first day of month): counts} from the indicators' monthly facts
    (never the dossier table), summed over service levels; months overlapping start..end."""
    from chinhquyenso.indicators.services import refresh_facts

    refresh_facts()  # the facts' read-repair: dossiers changed since the worker's last pass
    rows = (
        DossierMonthFact.objects.filter(month__gte=_month_start(start), month__lte=end)
        .values("agency_id", "month")
        .annotate(
            received=Sum("received"),
            received_online=Sum("received_online"),
            received_digitized=Sum("received_digitized"),
            finished=Sum("finished"),
            finished_early=Sum("finished_early"),
            finished_on_time=Sum("finished_on_time"),
            finished_electronic=Sum("finished_electronic"),
        )
        .order_by()
    )
    out = {}
    for row in rows:
        counts = {
            "received": row["received"] or 0,
            "received_online": row["received_online"] or 0,
            "received_digitized": row["received_digitized"] or 0,
            "finished": row["finished"] or 0,
            "finished_in_time": (row["finished_early"] or 0) + (row["finished_on_time"] or 0),
            "finished_electronic": row["finished_electronic"] or 0,
        }
        if any(counts.values()):
            out[(row["agency_id"], row["month"])] = counts
    return out


def _agencies(ids) -> dict[int, Agency]:
    return Agency.objects.in_bulk(list(ids))


def build_dossiers(start: dt.date, end: dt.date) -> list[Table]:
    months = dossier_months(start, end)
    agencies = _agencies({agency_id for agency_id, _ in months})
    header = ["Mã cơ quan", "Cơ quan tiếp nhận", "Tháng", *DOSSIER_COUNTS.values(), NOTE]
    rows = []
    for (agency_id, month), counts in sorted(
        months.items(), key=lambda item: (item[0][1], agencies[item[0][0]].name, item[0][0])
    ):
        published, note = suppress(counts, DOSSIER_PARTS, DOSSIER_COUNTS)
        agency = agencies[agency_id]
        rows.append([agency.code, agency.name, f"{month:%Y-%m}", *(_cell(published[n]) for n in DOSSIER_COUNTS), note])
    return [Table("theo-thang", "Hồ sơ theo cơ quan và tháng", header, rows)]


# ------------------------------------------------------------------ feedback

FEEDBACK_COUNTS = {
    "received": "Phản ánh tiếp nhận",
    "resolved": "Đã xử lý xong",
    "resolved_on_time": "Xử lý đúng hạn",
}
FEEDBACK_PARTS = {"resolved_on_time": "resolved"}


def feedback_months(start: dt.date, end: dt.date) -> dict[tuple[int, int | None, dt.date], dict[str, int]]:
    """{(category id, area (commune) id or None, month): counts}: reports received in the month and
    reports resolved in it (merged and split ones are counted in the reports they became)."""
    from chinhquyenso.feedback.models import Feedback
    from chinhquyenso.feedback.selectors import COUNTED

    begin = dt.datetime.combine(_month_start(start), dt.time.min, tzinfo=LOCAL_TZ)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ)
    base = Feedback.objects.filter(COUNTED)
    out: dict = defaultdict(lambda: dict.fromkeys(FEEDBACK_COUNTS, 0))
    received = (
        base.filter(received_at__gte=begin, received_at__lt=after)
        .annotate(m=TruncMonth("received_at", tzinfo=LOCAL_TZ))
        .values("category_id", "area_id", "m")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in received:
        out[(row["category_id"], row["area_id"], _as_date(row["m"]))]["received"] += row["n"]
    resolved = (
        base.filter(resolved_at__gte=begin, resolved_at__lt=after)
        .annotate(m=TruncMonth("resolved_at", tzinfo=LOCAL_TZ))
        .values("category_id", "area_id", "m")
        .annotate(n=Count("id"), on_time=Count("id", filter=Q(on_time=True)))
        .order_by()
    )
    for row in resolved:
        counts = out[(row["category_id"], row["area_id"], _as_date(row["m"]))]
        counts["resolved"] += row["n"]
        counts["resolved_on_time"] += row["on_time"]
    return dict(out)


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(LOCAL_TZ).date() if value.tzinfo else value.date()
    return value


def build_feedback(start: dt.date, end: dt.date) -> list[Table]:
    from chinhquyenso.feedback.models import Category

    months = feedback_months(start, end)
    categories = Category.objects.in_bulk({category for category, _, _ in months})
    areas = _agencies({area for _, area, _ in months if area is not None})
    header = ["Mã lĩnh vực", "Lĩnh vực", "Mã địa bàn", "Địa bàn", "Tháng", *FEEDBACK_COUNTS.values(), NOTE]
    rows = []

    def order(item):
        (category, area, month), _ = item
        return (month, categories[category].name, areas[area].name if area in areas else "", area or 0)

    for (category, area, month), counts in sorted(months.items(), key=order):
        published, note = suppress(counts, FEEDBACK_PARTS, FEEDBACK_COUNTS)
        place = areas.get(area)
        rows.append(
            [
                categories[category].code,
                categories[category].name,
                place.code if place else "",
                place.name if place else "Chưa xác định địa bàn",
                f"{month:%Y-%m}",
                *(_cell(published[n]) for n in FEEDBACK_COUNTS),
                note,
            ]
        )
    return [Table("theo-thang", "Phản ánh, kiến nghị theo lĩnh vực, địa bàn và tháng", header, rows)]


# ------------------------------------------------------------------ digital government indicators

RATES = {
    "Tỷ lệ hồ sơ tiếp nhận trực tuyến (%)": ("received_online", "received"),
    "Tỷ lệ hồ sơ giải quyết đúng hạn (%)": ("finished_in_time", "finished"),
    "Tỷ lệ hồ sơ tiếp nhận đã số hóa (%)": ("received_digitized", "received"),
    "Tỷ lệ hồ sơ trả kết quả điện tử (%)": ("finished_electronic", "finished"),
}
INDEX766 = "Điểm Bộ chỉ số 766"
EGOV_COMPLETE = "Hoàn thiện chính quyền điện tử (tháng cuối quý)"


def quarters(start: dt.date, end: dt.date) -> list[Period]:
    out, (year, month) = [], (start.year, start.month - (start.month - 1) % 3)
    while dt.date(year, month, 1) <= end:
        out.append(quarter(year, (month - 1) // 3 + 1))
        year, month = shift_month(year, month, 3)
    return out


def entry_of(generator: str) -> dict:
    """The catalog entry of a generator (its settings: which indicators to publish…)."""
    return next((entry for entry in catalog() if entry["generator"] == generator), {})


def reveals_small_cell(value, exempt_units) -> bool:
    """Whether publishing an indicator value would reveal a count between 1 and the limit − 1: its
    numerator, its denominator or (for a share) their difference. Values counted over things that are
    not people (the catalog entry's "counts_not_about_people": procedures, documents, agencies…)
    are exempt; anything else counted is treated as personal."""
    if value is None or value.value is None or value.count_unit in exempt_units:
        return False
    limit = small_cell()
    parts = [value.numerator, value.denominator]
    if value.value_type == Indicator.ValueType.RATIO and None not in parts:
        parts.append(value.denominator - value.numerator)
    return any(part is not None and 0 < part < limit for part in parts)


def _number(value) -> str:
    """An indicator value as a plain cell: a rounded number (decimal point), "Có"/"Không" for a
    yes-or-no indicator; "" without a value."""
    if value is None or value.value is None:
        return ""
    if value.value_type == Indicator.ValueType.BOOLEAN:
        return "Có" if value.value else "Không"
    return str(value.rounded)


def _points(points: Decimal) -> str:
    return str(points.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def build_indicators(start: dt.date, end: dt.date) -> list[Table]:
    """Per agency (as it stood at the quarter's end: its predecessors' data count for it) and
    quarter: the 766 score and the score of each of its groups, four dossier rates, the
    e-government criteria (assessed on the quarter's last month, as indicators.assessments does)
    and the other indicators the catalog entry lists; and one province-wide table. A dossier rate,
    the 766 score and its groups are published only where every monthly count they are made of
    passes the small-cell rule (so they reveal nothing the counts table hides); any value counted
    over people is published only when its own numerator, denominator and difference pass it."""
    from chinhquyenso.indicators.assessments import (
        egov_completion,
        index766,
        index766_codes,
        rule_groups,
        score_index766,
    )
    from chinhquyenso.indicators.models import EGovCriterion
    from chinhquyenso.indicators.selectors import PROVINCE, active_indicators, compute, units_at

    settings_ = entry_of("chi-so-chuyen-doi-so")
    exempt = set(settings_.get("counts_not_about_people", []))
    agency_codes = list(settings_.get("agency_indicators", []))
    province_codes = list(settings_.get("province_indicators", []))
    periods = quarters(start, end)
    months = dossier_months(periods[0].start, periods[-1].end) if periods else {}
    groups = rule_groups()
    codes = index766_codes() | set(agency_codes) | set(province_codes)
    names = {indicator.code: indicator for indicator in active_indicators(codes)}
    agency_codes = [code for code in agency_codes if code in names]
    province_codes = [code for code in province_codes if code in names]
    limit = small_cell()
    criteria = list(EGovCriterion.objects.filter(is_active=True).select_related("indicator").order_by("id"))

    def titled(indicator) -> str:
        return (
            f"{indicator.name} (%)"
            if indicator.unit == "%"
            else f"{indicator.name} ({indicator.unit})".replace(" ()", "")
        )

    header = [
        "Mã cơ quan",
        "Cơ quan",
        "Quý",
        INDEX766,
        *RATES,
        *(f"Điểm nhóm {group.name} (tối đa {_points(group.max_points)})" for group in groups),
        *(f"{criterion.name} (tháng cuối quý)" for criterion in criteria),
        *([EGOV_COMPLETE] if criteria else []),
        *(titled(names[code]) for code in agency_codes),
        NOTE,
    ]
    rows = []
    province_header = ["Quý", "Mã chỉ số", "Chỉ số", "Giá trị", "Đơn vị", "Tử số", "Mẫu số", NOTE]
    province_rows = []
    for period in periods:
        computation = compute(period, codes=codes) if codes else None
        completion = {a.unit.id: a for a in egov_completion(computation).agencies} if computation and criteria else {}
        in_quarter: dict[int, list[dict]] = defaultdict(list)
        for (agency_id, month), counts in months.items():
            if period.start <= month <= period.end:
                in_quarter[agency_id].append(counts)
        units = computation.units if computation else units_at(period)[0]
        for unit in sorted(units.values(), key=lambda u: (u.name, u.id)):
            cells = [counts for version in unit.versions for counts in in_quarter.get(version, [])]
            own = computation.own.get(unit.id, {}) if computation else {}
            extras = [own.get(code) for code in agency_codes]
            assessed = completion.get(unit.id)
            if not cells and assessed is None and all(value is None or value.value is None for value in extras):
                continue
            sums = {name: sum(c[name] for c in cells) for name in DOSSIER_COUNTS}
            # A column is "clean" when none of its monthly cells (nor any part's complement) was hidden.
            hidden = set()
            for counts in cells:
                published, _ = suppress(counts, DOSSIER_PARTS, DOSSIER_COUNTS)
                hidden |= {name for name, value in published.items() if value is None}
            rates = []
            for numerator, denominator in RATES.values():
                rates.append("" if {numerator, denominator} & hidden else _rate(sums[numerator], sums[denominator]))
            notes = []
            score, group_points = "", [""] * len(groups)
            if groups and computation:
                # The agency's own figures (a district without its communes), as the counts table has them.
                result = score_index766(groups, own, unit.name)
                # A group with a value counted over few people stays empty, and so does the total (it and
                # the other groups would give the group back).
                small = [g for g in result.groups if any(reveals_small_cell(r.value, exempt) for r in g.rules)]
                if not hidden and result.scored_max:
                    score = "" if small else _points(result.points)
                    group_points = [_points(g.points) if g.scored_max and g not in small else "" for g in result.groups]
                if small and not hidden:
                    notes.append(
                        "Để trống điểm "
                        + ", ".join(f"nhóm {g.group.name}" for g in small)
                        + f" và tổng điểm: số đếm nhỏ hơn {limit}"
                    )
            if hidden:
                notes.append(f"Để trống: có số đếm theo tháng nhỏ hơn {limit} trong số liệu dùng để tính")
            criteria_cells, complete = [""] * len(criteria), ""
            if assessed is not None:
                by_code = {r.criterion.code: r for r in assessed.results}
                small = [r for r in assessed.results if reveals_small_cell(r.value, exempt)]
                for index, criterion in enumerate(criteria):
                    found = by_code.get(criterion.code)
                    if found is not None and found not in small:
                        criteria_cells[index] = _number(found.value)
                complete = "" if small else ("Có" if assessed.complete else "Không")
                if small:
                    notes.append(f"Tiêu chí chính quyền điện tử để trống: số đếm nhỏ hơn {limit}")
            extra_cells = []
            for value in extras:
                if reveals_small_cell(value, exempt):
                    extra_cells.append("")
                    notes.append(f"{value.name}: để trống, số đếm nhỏ hơn {limit}")
                else:
                    extra_cells.append(_number(value))
            rows.append(
                [
                    unit.code,
                    unit.name,
                    period.code,
                    score,
                    *rates,
                    *group_points,
                    *criteria_cells,
                    *([complete] if criteria else []),
                    *extra_cells,
                    "; ".join(notes),
                ]
            )
        if computation is None:
            continue
        if groups:
            whole = index766(computation, PROVINCE)
            clean = not any(reveals_small_cell(r.value, exempt) for g in whole.groups for r in g.rules)
            province_rows.append(
                [period.code, "index766", INDEX766, _points(whole.points) if clean else "", "điểm", "", "", ""]
            )
            for group in whole.groups:
                value = _points(group.points) if clean and group.scored_max else ""
                province_rows.append(
                    [
                        period.code,
                        f"index766:{group.group.code}",
                        f"Điểm nhóm {group.group.name}",
                        value,
                        "điểm",
                        "",
                        "",
                        "",
                    ]
                )
        for code in province_codes:
            value = computation.get(code)
            if value is None:
                continue
            indicator = names[code]
            if reveals_small_cell(value, exempt):
                cells, note = ["", "", ""], f"Để trống: số đếm nhỏ hơn {limit}"
            else:
                plain = [
                    None if n is None else format(n.normalize(), "f") for n in (value.numerator, value.denominator)
                ]
                cells, note = [_number(value), plain[0] or "", plain[1] or ""], ""
            province_rows.append(
                [period.code, code, indicator.name, cells[0], indicator.unit, cells[1], cells[2], note]
            )
    return [
        Table("theo-quy", "Chỉ số chính quyền số theo cơ quan và quý", header, rows),
        Table("toan-tinh-theo-quy", "Chỉ số chính quyền số của toàn tỉnh theo quý", province_header, province_rows),
    ]


# ------------------------------------------------------------------ pest surveillance densities

PEST_SOURCES = {"trap": "Bẫy đèn", "survey": "Điều tra đồng ruộng"}
PEST_MEASURES = {
    "per_trap_night": "Mật độ bẫy đèn",
    "per_m2": "Mật độ điều tra",
    "infestation_pct": "Tỷ lệ hại",
}


def finished_weeks(start: dt.date, end: dt.date) -> tuple[dt.date, int]:
    """(the Monday of `start`'s week, how many whole weeks Monday–Sunday from it have ended by `end`):
    the week of the pests' bulletin; the current week is published once its last night is over."""
    first = start - dt.timedelta(days=start.weekday())
    last_sunday = end - dt.timedelta(days=end.weekday() + 1)
    return first, max(0, (last_sunday - first).days // 7 + 1)


def pest_week_figures(coverage, first: dt.date, weeks: int) -> list:
    """pests' Figures of each week from `first` for one area: the counts and surveys the area covers
    night by night (pests' Coverage), in three GROUP BY queries over the whole span."""
    from chinhquyenso.pests.models import SurveyObservation, TrapCount
    from chinhquyenso.pests.selectors.densities import Figures

    out = [Figures() for _ in range(weeks)]
    last = first + dt.timedelta(days=7 * weeks - 1)

    def week(day: dt.date) -> Figures:
        return out[(day - first).days // 7]

    q = coverage.trap_q(first, last)
    if q is not None:
        counts = TrapCount.objects.filter(q)
        # A trap-night is a (station, night) with an accepted count: the stations counted on each night.
        for night, stations in (
            counts.values("night").annotate(n=Count("station", distinct=True)).values_list("night", "n")
        ):
            week(night).trap_nights += stations
        for night, trap_class, total in (
            counts.values("night", "trap_class_id")
            .annotate(total=Sum("count"))
            .values_list("night", "trap_class_id", "total")
        ):
            totals = week(night).trap_totals
            totals[trap_class] = totals.get(trap_class, 0) + (total or 0)
    observations = (
        SurveyObservation.objects.filter(coverage.survey_q(first, last, prefix="survey__"))
        .values("survey__surveyed_on", "organism_id")
        .annotate(
            density=Sum("density_per_m2"),
            density_n=Count("density_per_m2"),
            infestation=Sum("infestation_pct"),
            infestation_n=Count("infestation_pct"),
        )
        .order_by()
    )
    for row in observations:
        sums = week(row["survey__surveyed_on"]).survey.setdefault(row["organism_id"], [0, 0, 0, 0])
        for index, name in enumerate(("density", "density_n", "infestation", "infestation_n")):
            sums[index] += row[name] or 0
    return out


def pest_areas(end: dt.date) -> list[Agency]:
    """The province's committee, then its districts as they stand on `end` (a district covers its
    predecessors' communes too: pests.selectors.densities.area_of)."""
    committees = Agency.objects.filter(kind__in=[AgencyKind.PROVINCE_COMMITTEE, AgencyKind.DISTRICT_COMMITTEE])
    current = committees.valid_on(end)
    return list(current.filter(kind=AgencyKind.PROVINCE_COMMITTEE, parent__isnull=True).order_by("id")[:1]) + list(
        current.filter(kind=AgencyKind.DISTRICT_COMMITTEE).order_by("name", "id")
    )


def build_pest_densities(start: dt.date, end: dt.date) -> list[Table]:
    """Per area (the province, each district), week (Monday–Sunday, as the weekly bulletin) and trap
    class or surveyed organism: the densities the surveillance pages, the bulletin and
    /api/pests/densities show (pests.selectors.densities: trap density = accepted counts ÷
    trap-nights; survey density and infestation = means over the surveys that recorded them). Trap
    counts are insects, not people; surveys are published only as these means and the number of
    surveys behind each — never a survey, its officer or its field."""
    from chinhquyenso.pests.models import Measure, Organism, TrapClass
    from chinhquyenso.pests.selectors.densities import CommuneHistory, Coverage, area_of

    header = [
        "Mã địa bàn",
        "Địa bàn",
        "Tuần từ ngày",
        "Đến ngày",
        "Nguồn số liệu",
        "Mã sinh vật",
        "Sinh vật",
        "Thiên địch",
        "Chỉ tiêu",
        "Giá trị",
        "Đơn vị",
        "Tổng số con vào bẫy",
        "Số đêm-bẫy",
        "Số phiếu điều tra",
    ]
    first, weeks = finished_weeks(start, end)
    if not weeks:
        return [Table("theo-tuan", "Mật độ sinh vật gây hại theo địa bàn và tuần", header, [])]
    history = CommuneHistory()
    by_area = [(area, pest_week_figures(Coverage(area_of(area), history), first, weeks)) for area in pest_areas(end)]
    classes = TrapClass.objects.select_related("organism").in_bulk()
    organisms = Organism.objects.in_bulk()
    rows = []
    for index in range(weeks):
        monday = first + dt.timedelta(days=7 * index)
        sunday = monday + dt.timedelta(days=6)
        for area, figures in by_area:
            week = figures[index]
            place = [area.code, area.name, monday.isoformat(), sunday.isoformat()]
            for pk in sorted(week.trap_totals, key=lambda pk: classes[pk].code):
                trap_class = classes[pk]
                enemy = bool(trap_class.organism_id and trap_class.organism.is_natural_enemy)
                rows.append(
                    [
                        *place,
                        PEST_SOURCES["trap"],
                        trap_class.code,
                        trap_class.name,
                        "Có" if enemy else "Không",
                        PEST_MEASURES[Measure.PER_TRAP_NIGHT],
                        str(week.trap_value(pk)),
                        Measure.PER_TRAP_NIGHT.label,
                        week.trap_totals[pk],
                        week.trap_nights,
                        "",
                    ]
                )
            for pk in sorted(week.survey, key=lambda pk: organisms[pk].code):
                organism = organisms[pk]
                density_n, infestation_n = week.survey[pk][1], week.survey[pk][3]
                for measure, surveys in ((Measure.PER_M2, density_n), (Measure.INFESTATION_PCT, infestation_n)):
                    value = week.survey_value(pk, measure)
                    if value is None:
                        continue
                    rows.append(
                        [
                            *place,
                            PEST_SOURCES["survey"],
                            organism.code,
                            organism.name,
                            "Có" if organism.is_natural_enemy else "Không",
                            PEST_MEASURES[measure],
                            str(value),
                            "%" if measure == Measure.INFESTATION_PCT else measure.label,
                            "",
                            "",
                            surveys,
                        ]
                    )
    return [Table("theo-tuan", "Mật độ sinh vật gây hại theo địa bàn và tuần", header, rows)]


# ------------------------------------------------------------------ publishing figures


def build_publishing(start: dt.date, end: dt.date) -> list[Table]:
    figures = publishing_figures(end)
    kinds = dict(AgencyKind.choices)
    header = [
        "Mã cơ quan",
        "Cơ quan",
        "Loại cơ quan",
        "Tính vào tỷ lệ cung cấp dữ liệu mở",
        "Có dữ liệu mở đang công bố",
        "Số bộ dữ liệu đang công bố",
        "Số bộ dữ liệu chậm cập nhật",
    ]
    rows = [
        [
            row.agency.code,
            row.agency.name,
            kinds.get(row.agency.kind, row.agency.kind),
            "Có" if row.counted else "Không",
            "Có" if row.publishes else "Không",
            row.public_datasets,
            len(row.late_datasets),
        ]
        for row in figures.rows
    ]
    return [Table("theo-co-quan", "Tình hình cung cấp dữ liệu mở theo cơ quan", header, rows)]


GENERATORS: dict[str, Generator] = {
    "thu-tuc-hanh-chinh": Generator("Danh mục thủ tục hành chính", build_procedures),
    "thong-ke-ho-so": Generator("Thống kê hồ sơ thủ tục hành chính", build_dossiers),
    "thong-ke-phan-anh": Generator("Thống kê phản ánh, kiến nghị", build_feedback),
    "chi-so-chuyen-doi-so": Generator("Chỉ số chính quyền số và Bộ chỉ số 766", build_indicators),
    "cong-bo-du-lieu-mo": Generator("Tình hình cung cấp dữ liệu mở", build_publishing),
    "mat-do-sinh-vat-gay-hai": Generator("Mật độ sinh vật gây hại theo địa bàn và tuần", build_pest_densities),
}


# ------------------------------------------------------------------ refreshing


def coverage(rule, today: dt.date) -> tuple[dt.date | None, dt.date]:
    """(first day, last day) an entry's data covers on `today`: "snapshot" → (None, today);
    {"months": n} → the n months up to and including the current one. The dataset's metadata
    records the first day only (its end is "to date"): a metadata change writes a version, and a
    daily one would bury the real ones."""
    if rule == "snapshot":
        return None, today
    year, month = shift_month(today.year, today.month, -(int(rule["months"]) - 1))
    return dt.date(year, month, 1), today


def publisher(rule: str, today: dt.date | None = None) -> Agency | None:
    """The agency named by code (its current version); "province_committee": the province's current
    committee; "pest_bulletin_issuer": the agency that issues the province's weekly pest bulletin
    (pests.services.bulletins.issuers_for — the plant-protection agency following every trap and
    survey point, from the stations' data), None until a station has one."""
    current = Agency.objects.current().order_by("id")
    if rule == "province_committee":
        return current.filter(kind=AgencyKind.PROVINCE_COMMITTEE, parent__isnull=True).first()
    if rule == "pest_bulletin_issuer":
        from chinhquyenso.pests.services.bulletins import issuers_for

        province = current.filter(kind=AgencyKind.PROVINCE_COMMITTEE, parent__isnull=True).first()
        issuers = issuers_for(province, today or timezone.localdate()) if province else []
        return issuers[0] if issuers else None
    return current.filter(code=rule).first()


def refresh_live_datasets(today: dt.date | None = None, only: list[str] | None = None) -> dict:
    """Create (public) or update every live dataset of the catalog and regenerate its tables; a
    table is rewritten only when its bytes changed (put_generated). Returns what was done."""
    from chinhquyenso.opendata.services.datasets import publish_generated
    from chinhquyenso.opendata.services.resources import put_generated

    today = today or timezone.localdate()
    done = {"refreshed": [], "skipped": []}
    for entry in catalog():
        key = entry["generator"]
        if only and key not in only:
            continue
        agency = publisher(entry["publisher"], today)
        if agency is None:
            done["skipped"].append(f"{key}: không có cơ quan công bố")
            continue
        start, end = coverage(entry["temporal"], today)
        fields = {
            "title": entry["title"],
            "name": entry["name"],
            "description": entry["description"],
            "themes": entry["themes"],
            "tags": entry["tags"],
            # None: the province's default licence (Licence.is_default, the province's choice as data).
            "licence": entry.get("licence"),
            "frequency": entry["frequency"],
            "temporal_start": start,
            "spatial": f"Tỉnh {settings.CQS['PROVINCE_NAME']}",
        }
        dataset = publish_generated(agency=agency, generator=key, fields=fields)
        if dataset.status == DatasetStatus.WITHDRAWN:
            done["skipped"].append(f"{key}: đã rút")
            continue
        for table in GENERATORS[key].build(start or end, end):
            put_generated(dataset, key=table.key, name=table.name, header=table.header, rows=table.rows)
        done["refreshed"].append(key)
    return done


def live_datasets() -> list[Dataset]:
    return list(Dataset.objects.exclude(generator="").order_by("name"))

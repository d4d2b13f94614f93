"""Reads: indicator values per agency and for the province, for any period.

Values are computed from the pre-aggregated dossier facts (kept current by
services.refresh_facts, run first here as a read-repair), the live open
dossiers, the catalog, and approved reported values. Agencies are taken as
they stood at the period's end: the dossiers of an agency merged or renamed
before that day count for its successor, so a past period gives the same
numbers whatever happened later."""

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from chinhquyenso.core.calendar import LOCAL_TZ
from chinhquyenso.core.registry import INDICATOR_MEASURES
from chinhquyenso.core.text import format_number
from chinhquyenso.indicators.formulas import FACT_MEASURES, SERVICE_SCOPES, compile_expression
from chinhquyenso.indicators.models import (
    DossierFact,
    DossierMonthFact,
    FormulaVersion,
    Indicator,
    ProcedureMonthFact,
    ReportedValue,
    StaleDossier,
)
from chinhquyenso.indicators.periods import Period
from chinhquyenso.org.models import LEVEL_OF_KIND, Agency, Succession
from chinhquyenso.procedures.models import ProcedureAgency, ServiceLevel

PROVINCE = 0  # key of the whole-province values

# ------------------------------------------------------------------ values


@dataclass(frozen=True)
class IndicatorValue:
    code: str
    name: str
    unit: str
    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None  # None: nothing to measure (denominator 0, nothing reported) or no data
    decimals: int = 1
    formula_version: int | None = None
    value_type: str = "ratio"
    # dossiers lacking an input of the formula (FormulaVersion.missing), left
    # out of numerator and denominator; None: the formula needs no such input
    missing: Decimal | None = None
    count_unit: str = ""  # unit of numerator and denominator (Indicator.count_unit)

    @property
    def no_data(self) -> bool:
        """No value because every dossier to measure lacks an input."""
        return self.value is None and bool(self.missing)

    @property
    def display(self) -> str:
        """41,5% · 513.808 · 3,2 ngày · Có — "không có số liệu" when every
        dossier lacks an input, "—" when there is nothing to measure."""
        if self.value is None:
            return NO_DATA if self.missing else "—"
        if self.value_type == Indicator.ValueType.BOOLEAN:
            # one agency's answer, or how many of those reporting answered yes
            return ("Có" if self.numerator else "Không") if self.denominator == 1 else self.fraction
        number = format_number(
            self.rounded, self.decimals if self.value != self.value.to_integral() or self.unit == "%" else 0
        )
        return f"{number}%" if self.unit == "%" else f"{number} {self.unit}".rstrip()

    @property
    def rounded(self) -> Decimal | None:
        if self.value is None:
            return None
        return self.value.quantize(Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_UP)

    @property
    def fraction(self) -> str:
        """Numerator and denominator with their units: "16/17 cơ quan",
        "32,5 ngày / 10 hồ sơ"; "" without a denominator."""
        if self.denominator is None or self.numerator is None:
            return ""
        numerator, denominator = _plain_number(self.numerator), _plain_number(self.denominator)
        if self.value_type == Indicator.ValueType.RATIO or self.value_type == Indicator.ValueType.BOOLEAN:
            return f"{numerator}/{denominator} {self.count_unit}".rstrip()
        return f"{numerator} {self.unit} / {denominator} {self.count_unit}".replace("  ", " ").strip()

    @property
    def missing_text(self) -> str:
        """ "3 hồ sơ thiếu dữ liệu, không tính" — or "" when nothing is missing."""
        if not self.missing:
            return ""
        return f"{_plain_number(self.missing)} hồ sơ thiếu dữ liệu, không tính"

    def as_dict(self) -> dict:
        def plain(number):
            return None if number is None else float(number)

        return {
            "code": self.code,
            "name": self.name,
            "unit": self.unit,
            "count_unit": self.count_unit,
            "numerator": plain(self.numerator),
            "denominator": plain(self.denominator),
            "value": plain(self.rounded),
            "display": self.display,
            "fraction": self.fraction,
            "missing": None if self.missing is None else int(self.missing),
            "formula_version": self.formula_version,
        }


NO_DATA = "không có số liệu"


def _plain_number(number: Decimal) -> str:
    """16 → '16'; 32.5 → '32,5'; 513808 → '513.808'."""
    if number == number.to_integral():
        return format_number(number, 0)
    return format_number(number, 2).rstrip("0")


# ------------------------------------------------------------------ agencies


@dataclass
class Unit:
    """An agency as it stood at the period's end, with the versions (its
    predecessors) whose data count for it."""

    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    versions: set[int] = field(default_factory=set)
    children: list[int] = field(default_factory=list)

    @property
    def level(self) -> str:
        return LEVEL_OF_KIND[self.kind]


def units_at(period: Period) -> tuple[dict[int, Unit], dict[int, int]]:
    """(units by id, agency version id → unit id) for the period's end."""
    end = period.end
    agencies = {
        row["id"]: row
        for row in Agency.objects.values("id", "code", "name", "kind", "parent_id", "valid_from", "valid_to")
    }

    def valid(row) -> bool:
        return row["valid_from"] <= end and (row["valid_to"] is None or row["valid_to"] > end)

    successor = dict(
        Succession.objects.filter(
            takes_open_work=True, successor__isnull=False, reorganization__effective_date__lte=end
        )
        .exclude(reorganization__kind="transfer_procedure")
        .order_by("reorganization__effective_date", "id")
        .values_list("source_id", "successor_id")
    )

    def unit_of(agency_id: int) -> int:
        current, seen = agency_id, set()
        while not valid(agencies[current]) and current in successor and current not in seen:
            seen.add(current)
            current = successor[current]
        return current if valid(agencies[current]) else agency_id

    mapping = {agency_id: unit_of(agency_id) for agency_id in agencies}
    units: dict[int, Unit] = {}
    for agency_id, unit_id in mapping.items():
        row = agencies[unit_id]
        if unit_id not in units:
            if not valid(row) and (row["valid_to"] is not None and row["valid_to"] <= period.start):
                continue  # closed, without successor, before the period began
            units[unit_id] = Unit(
                id=unit_id,
                code=row["code"],
                name=row["name"],
                kind=row["kind"],
                parent_id=mapping.get(row["parent_id"]) if row["parent_id"] else None,
            )
        units[unit_id].versions.add(agency_id)
    for unit in units.values():
        if unit.parent_id not in units:
            unit.parent_id = None
        else:
            units[unit.parent_id].children.append(unit.id)
    mapping = {agency_id: unit_id for agency_id, unit_id in mapping.items() if unit_id in units}
    return units, mapping


# ------------------------------------------------------------------ measures


def _refresh() -> None:
    if StaleDossier.objects.exists():
        from chinhquyenso.indicators.services import refresh_facts

        refresh_facts()  # read-repair: changes since the worker's last pass


def _whole_months(period: Period) -> tuple[dt.date, dt.date] | None:
    """First days of the first and last whole months inside the period."""
    first = (
        period.start if period.start.day == 1 else (period.start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    )
    after = period.end + dt.timedelta(days=1)
    last_end = after.replace(day=1)  # first day after the last whole month
    if first >= last_end:
        return None
    return first, (last_end - dt.timedelta(days=1)).replace(day=1)


def _fact_measures(period: Period, agency_filter=None) -> dict[int, dict[str, Decimal]]:
    """Fact sums per agency version, with the online-service variants: whole
    months from the monthly facts, the days before and after them from the
    daily ones."""
    columns = [name if name != "processing_days" else "processing_seconds" for name in FACT_MEASURES]
    months = _whole_months(period)
    sources = []
    if months is None:
        sources.append(DossierFact.objects.filter(day__range=(period.start, period.end)))
    else:
        sources.append(DossierMonthFact.objects.filter(month__range=months))
        if period.start < months[0]:
            sources.append(DossierFact.objects.filter(day__gte=period.start, day__lt=months[0]))
        after_months = (months[1] + dt.timedelta(days=32)).replace(day=1)
        if after_months <= period.end:
            sources.append(DossierFact.objects.filter(day__gte=after_months, day__lte=period.end))
    out: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for rows in sources:
        if agency_filter is not None:
            rows = rows.filter(agency_id__in=agency_filter)
        rows = rows.values("agency_id", "service_level").annotate(**{c: Sum(c) for c in columns}).order_by()
        for row in rows:
            level = row.pop("service_level")
            measures = out[row.pop("agency_id")]
            row["processing_days"] = Decimal(row.pop("processing_seconds") or 0) / 86400
            for name, number in row.items():
                measures[name] += number or 0
                for scope, levels in SERVICE_SCOPES.items():
                    if level in levels:
                        measures[f"{name}__{scope}"] += number or 0
    return out


# Dossiers open at a moment T: open now, or finished since T, or withdrawn since
# T — three index-driven parts instead of one OR over the whole table. Each
# names its (partial) index for SQLite, whose statistics cannot tell how few
# rows have no finishing time; PostgreSQL's planner sees that by itself.
OPEN_AT_PARTS = [
    ("dossier_open_received_idx", "finished_at IS NULL AND closed_at IS NULL", False),
    ("dossier_finished_at_idx", "finished_at >= %(end)s", True),
    ("dossier_withdrawn_idx", "finished_at IS NULL AND closed_at >= %(end)s", True),
]


def _open_measures(period: Period, agency_filter=None) -> dict[int, dict[str, Decimal]]:
    """Dossiers accepted and not finished at the period's end (now, if the
    period is not over), split by whether their deadline had passed."""
    now = timezone.now()
    end = min(dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ), now)
    params = {"end": connection.ops.adapt_datetimefield_value(end)}
    agencies = ""
    if agency_filter is not None:
        params.update({f"a{i}": agency_id for i, agency_id in enumerate(agency_filter)})
        agencies = f"AND receiving_agency_id IN ({', '.join(f'%(a{i})s' for i in range(len(agency_filter)))})"
    out: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    with connection.cursor() as cursor:
        for index, condition, only_past in OPEN_AT_PARTS:
            if only_past and end >= now:
                continue
            hint = f"INDEXED BY {index}" if connection.vendor == "sqlite" else ""
            cursor.execute(
                f"SELECT receiving_agency_id, COUNT(*), SUM(CASE WHEN due_at < %(end)s THEN 1 ELSE 0 END) "
                f"FROM dossiers_dossier {hint} WHERE {condition} AND accepted_at < %(end)s {agencies} "
                f"GROUP BY receiving_agency_id",
                params or None,
            )
            for agency_id, total, overdue in cursor.fetchall():
                measures = out[agency_id]
                measures["open_total"] += total
                measures["open_overdue"] += overdue or 0
                measures["open_in_time"] += total - (overdue or 0)
        # Deadlines moved after the end (a Mẫu 04 reschedule in October, a
        # restart after a supplement): the dossier was in time or overdue
        # against the deadline in force at the end — the one before the first
        # such move. Few rows, read through DeadlineChange's index on `at`.
        cursor.execute(
            "SELECT d.receiving_agency_id, c.dossier_id, "
            "CASE WHEN d.due_at < %(end)s THEN 1 ELSE 0 END, CASE WHEN c.due_before < %(end)s THEN 1 ELSE 0 END "
            "FROM indicators_deadlinechange c JOIN dossiers_dossier d ON d.id = c.dossier_id "
            "WHERE c.at >= %(end)s AND d.accepted_at < %(end)s "
            "AND (d.finished_at >= %(end)s OR (d.finished_at IS NULL AND (d.closed_at IS NULL OR d.closed_at >= %(end)s))) "
            f"{agencies.replace('receiving_agency_id', 'd.receiving_agency_id')} "
            "ORDER BY c.dossier_id, c.at, c.id",
            params,
        )
        seen = set()
        for agency_id, dossier_id, overdue_now, overdue_then in cursor.fetchall():
            if dossier_id in seen:
                continue
            seen.add(dossier_id)
            if overdue_now != overdue_then:
                measures = out[agency_id]
                measures["open_overdue"] += overdue_then - overdue_now
                measures["open_in_time"] += overdue_now - overdue_then
    return out


def _registered_measures(period: Period, wanted: str) -> dict[int | None, dict[str, Decimal]]:
    """Measures other apps compute (core.registry.INDICATOR_MEASURES, e.g.
    citizen feedback per handling agency version), only from the sources an
    indicator asks for; key None: counted for the province only (reports
    still in the IOC queue)."""
    out: dict[int | None, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    names = set(re.findall(r"\w+", wanted))
    for source in INDICATOR_MEASURES.values():
        if names.isdisjoint(source.labels):
            continue
        for agency_id, measures in source.compute(period.start, period.end).items():
            for name, number in measures.items():
                out[agency_id][name] += Decimal(number)
    return out


@dataclass
class ServiceSets:
    """Procedures (ids) behind the catalog measures of an agency: those it
    handled in the period (any service level), those of them offered online
    (partly or fully), those with a fee or charge, and those that received an
    online dossier in the period."""

    handled: set = field(default_factory=set)
    online: set = field(default_factory=set)
    fee: set = field(default_factory=set)
    used: set = field(default_factory=set)

    def update(self, other: "ServiceSets") -> None:
        self.handled |= other.handled
        self.online |= other.online
        self.fee |= other.fee
        self.used |= other.used

    def copy(self) -> "ServiceSets":
        return ServiceSets(set(self.handled), set(self.online), set(self.fee), set(self.used))


ONLINE_LEVELS = (ServiceLevel.PARTLY_ONLINE, ServiceLevel.FULL_ONLINE)


def _service_sets(period: Period, agency_filter=None) -> dict[int, ServiceSets]:
    """Per agency version: the procedures assigned to it during the period
    (any service level), split into offered online and fee-bearing, and those
    with at least one online dossier."""
    sets: dict[int, ServiceSets] = defaultdict(ServiceSets)
    assignments = ProcedureAgency.objects.filter(valid_from__lte=period.end).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=period.start)
    )
    if agency_filter is not None:
        assignments = assignments.filter(agency_id__in=agency_filter)
    rows = assignments.values_list(
        "agency_id", "procedure_id", "procedure__service_level", "procedure__fee", "procedure__charge"
    )
    for agency_id, procedure_id, level, fee, charge in rows:
        found = sets[agency_id]
        found.handled.add(procedure_id)
        if level in ONLINE_LEVELS:
            found.online.add(procedure_id)
        if fee > 0 or charge > 0:
            found.fee.add(procedure_id)
    # Month resolution: a range that cuts a month counts that whole month here.
    facts = ProcedureMonthFact.objects.filter(
        month__range=(period.start.replace(day=1), period.end), received_online__gt=0
    )
    if agency_filter is not None:
        facts = facts.filter(agency_id__in=agency_filter)
    for agency_id, procedure_id in facts.values_list("agency_id", "procedure_id").distinct():
        sets[agency_id].used.add(procedure_id)
    return sets


def _add(into: dict, measures: dict) -> None:
    for name, number in measures.items():
        into[name] += number


def _with_sets(measures: dict, sets: ServiceSets) -> dict:
    measures = dict(measures)
    measures["procedures_handled"] = Decimal(len(sets.handled))
    measures["services_online"] = Decimal(len(sets.online))
    # A service counts as used only where it is offered online, so the
    # numerator never exceeds the denominator.
    measures["services_with_online_dossier"] = Decimal(len(sets.online & sets.used))
    measures["fee_procedures_handled"] = Decimal(len(sets.fee))
    # Every dossier can record an online payment (dossiers.services.record_payment),
    # so a fee-bearing procedure offered online is one integrated with online payment.
    measures["fee_procedures_online"] = Decimal(len(sets.fee & sets.online))
    return measures


# ------------------------------------------------------------------ computation


@dataclass
class Computation:
    """Every indicator for every unit of the period: `values[unit id][code]`
    counts the unit and its subordinates; `own[unit id][code]` the unit alone;
    `values[PROVINCE]` the whole province."""

    period: Period
    units: dict[int, Unit]
    values: dict[int, dict[str, IndicatorValue]]
    own: dict[int, dict[str, IndicatorValue]]
    indicators: list[Indicator]
    # what the values were computed from, to evaluate over other sets of units
    own_measures: dict = field(default_factory=dict, repr=False)
    own_sets: dict = field(default_factory=dict, repr=False)
    reported: dict = field(default_factory=dict, repr=False)
    formulas: dict = field(default_factory=dict, repr=False)
    # assessments made over these figures, made once (indicators.assessments)
    assessments: dict = field(default_factory=dict, repr=False)

    def get(self, code: str, unit_id: int = PROVINCE) -> IndicatorValue | None:
        return self.values.get(unit_id, {}).get(code)

    def value_over(self, code: str, unit_ids) -> IndicatorValue:
        """One indicator over an arbitrary set of units (e.g. an agency with
        only those subordinates that are not assessed on their own)."""
        indicator = next(i for i in self.indicators if i.code == code)
        if indicator.source == Indicator.Source.REPORTED:
            sums = defaultdict(Decimal)
            for unit_id in unit_ids:
                _add(sums, self.reported.get(code, {}).get(unit_id, {}))
            return _reported_value(indicator, sums)
        measures, sets = defaultdict(Decimal), ServiceSets()
        for unit_id in unit_ids:
            _add(measures, self.own_measures.get(unit_id, {}))
            sets.update(self.own_sets.get(unit_id, ServiceSets()))
        return _evaluate(indicator, self.formulas.get(code), _with_sets(measures, sets))

    def applicable(self, unit_id: int = PROVINCE) -> list[Indicator]:
        """The indicators defined for the period's kind and the unit's level
        (an empty list in the registry means every kind or level)."""
        level = None if unit_id == PROVINCE else self.units[unit_id].level
        return [
            i
            for i in self.indicators
            if (not i.period_kinds or self.period.kind in i.period_kinds)
            and (level is None or not i.agency_levels or level in i.agency_levels)
        ]

    def roots(self) -> list[Unit]:
        return sorted((u for u in self.units.values() if u.parent_id is None), key=lambda u: (u.kind, u.name))


def formula_for(indicator: Indicator, period: Period) -> FormulaVersion | None:
    """The version in force at the period's end (the first one for periods
    before any version)."""
    versions = sorted(indicator.formulas.all(), key=lambda f: (f.valid_from, f.version))
    chosen = None
    for version in versions:
        if version.valid_from <= period.end:
            chosen = version
    return chosen or (versions[0] if versions else None)


def _evaluate(indicator: Indicator, formula: FormulaVersion | None, measures: dict) -> IndicatorValue:
    """The formula over the measures. A formula with a `missing` measure is
    written over the dossiers that have its input (e.g. paid_online /
    (with_fee - payment_method_unknown)): the count lacking it comes along,
    and when no dossier has the input there is no value."""
    numerator = denominator = value = missing = None
    if formula is not None:
        if formula.missing:
            missing = compile_expression(formula.missing, "missing")(measures)
        numerator = compile_expression(formula.numerator, "numerator")(measures)
        if formula.denominator:
            denominator = compile_expression(formula.denominator, "denominator")(measures)
            value = numerator * formula.scale / denominator if denominator else None
        else:
            value = numerator * formula.scale
    return IndicatorValue(
        code=indicator.code,
        name=indicator.name,
        unit=indicator.unit,
        numerator=numerator,
        denominator=denominator,
        value=value,
        decimals=indicator.decimals,
        formula_version=formula.version if formula else None,
        value_type=indicator.value_type,
        missing=missing,
        count_unit=indicator.count_unit,
    )


def _reported(indicators: list[Indicator], period: Period, mapping: dict[int, int]) -> dict[str, dict[int, dict]]:
    """Approved reported values inside the period, per indicator and unit:
    {'numerator', 'denominator', 'value', 'count'}."""
    by_code = {i.code: i for i in indicators if i.source == Indicator.Source.REPORTED}
    if not by_code:
        return {}
    rows = (
        ReportedValue.objects.filter(
            indicator__code__in=by_code, period_start__gte=period.start, period_end__lte=period.end
        )
        .values("indicator__code", "agency_id", "period_end", "value", "numerator", "denominator")
        .order_by("period_end")
    )
    latest: dict[tuple, list] = {}
    for row in rows:
        indicator = by_code[row["indicator__code"]]
        key = (indicator.code, row["agency_id"])
        if indicator.aggregation == Indicator.Aggregation.LATEST or indicator.value_type == Indicator.ValueType.BOOLEAN:
            latest[key] = [row]
        else:
            latest.setdefault(key, []).append(row)
    out: dict[str, dict[int, dict]] = defaultdict(lambda: defaultdict(lambda: defaultdict(Decimal)))
    for (code, agency_id), picked in latest.items():
        unit_id = mapping.get(agency_id)
        if unit_id is None:
            continue
        sums = out[code][unit_id]
        for row in picked:
            sums["value"] += row["value"] or 0
            sums["numerator"] += row["numerator"] or 0
            sums["denominator"] += row["denominator"] or 0
            sums["count"] += 1
    return out


def _reported_value(indicator: Indicator, sums: dict | None) -> IndicatorValue:
    numerator = denominator = value = None
    if sums and sums["count"]:
        if indicator.value_type == Indicator.ValueType.RATIO:
            numerator, denominator = sums["numerator"], sums["denominator"]
            value = numerator * 100 / denominator if denominator else None
        elif indicator.value_type == Indicator.ValueType.BOOLEAN:
            numerator, denominator = sums["value"], sums["count"]
            value = numerator * 100 / denominator
        else:
            numerator = value = sums["value"]
    return IndicatorValue(
        code=indicator.code,
        name=indicator.name,
        unit=indicator.unit,
        numerator=numerator,
        denominator=denominator,
        value=value,
        decimals=indicator.decimals,
        value_type=indicator.value_type,
        count_unit=indicator.count_unit,
    )


def active_indicators(codes=None) -> list[Indicator]:
    rows = Indicator.objects.filter(is_active=True).prefetch_related("formulas")
    if codes:
        rows = rows.filter(code__in=list(codes))
    return list(rows)


def compute(period: Period, codes=None) -> Computation:
    """Every active indicator (or `codes`) for every agency and the province."""
    _refresh()
    indicators = active_indicators(codes)
    units, mapping = units_at(period)
    own_measures: dict[int, dict] = defaultdict(lambda: defaultdict(Decimal))
    formulas = {i.code: formula_for(i, period) for i in indicators}
    # Other apps' measures only when an indicator asked for reads them (the dashboard's tiles may not).
    wanted = " ".join(f"{f.numerator} {f.denominator}" for f in formulas.values() if f)
    registered = _registered_measures(period, wanted)
    province_only = registered.pop(None, {})
    for source in (_fact_measures(period), _open_measures(period), registered):
        for agency_id, measures in source.items():
            if agency_id in mapping:
                _add(own_measures[mapping[agency_id]], measures)
    service_sets = _service_sets(period)
    own_sets: dict[int, ServiceSets] = defaultdict(ServiceSets)
    for agency_id, unit_id in mapping.items():
        if agency_id in service_sets:
            own_sets[unit_id].update(service_sets[agency_id])

    total_measures: dict[int, dict] = {}
    total_sets: dict[int, ServiceSets] = {}

    def roll(unit_id: int):
        if unit_id in total_measures:
            return
        measures, sets = defaultdict(Decimal, own_measures.get(unit_id, {})), own_sets[unit_id].copy()
        for child in units[unit_id].children:
            roll(child)
            _add(measures, total_measures[child])
            sets.update(total_sets[child])
        total_measures[unit_id], total_sets[unit_id] = measures, sets

    province, province_sets = defaultdict(Decimal, province_only), ServiceSets()
    for unit_id in units:
        roll(unit_id)
        if units[unit_id].parent_id is None:
            _add(province, total_measures[unit_id])
            province_sets.update(total_sets[unit_id])

    # Every unit's measures, with the service counts, built once for all indicators.
    own_full = {u: _with_sets(own_measures.get(u, {}), own_sets[u]) for u in units}
    total_full = {u: _with_sets(total_measures[u], total_sets[u]) for u in units}
    province_full = _with_sets(province, province_sets)
    reported = _reported(indicators, period, mapping)
    values: dict[int, dict[str, IndicatorValue]] = {}
    own: dict[int, dict[str, IndicatorValue]] = {}
    for indicator in indicators:
        if indicator.source == Indicator.Source.REPORTED:
            per_unit = reported.get(indicator.code, {})
            if not per_unit:  # nothing reported in the period: one empty value serves every unit
                empty = _reported_value(indicator, None)
                for unit_id in units:
                    own.setdefault(unit_id, {})[indicator.code] = values.setdefault(unit_id, {})[indicator.code] = empty
                values.setdefault(PROVINCE, {})[indicator.code] = empty
                continue
            totals: dict[int, dict] = {}

            def roll_reported(unit_id: int, per_unit=per_unit, totals=totals):
                if unit_id not in totals:
                    sums = defaultdict(Decimal, per_unit.get(unit_id, {}))
                    for child in units[unit_id].children:
                        _add(sums, roll_reported(child))
                    totals[unit_id] = sums
                return totals[unit_id]

            province_sums = defaultdict(Decimal)
            for unit_id in units:
                roll_reported(unit_id)
                if units[unit_id].parent_id is None:
                    _add(province_sums, totals[unit_id])
            for unit_id in units:
                own.setdefault(unit_id, {})[indicator.code] = _reported_value(indicator, per_unit.get(unit_id))
                values.setdefault(unit_id, {})[indicator.code] = _reported_value(indicator, totals[unit_id])
            values.setdefault(PROVINCE, {})[indicator.code] = _reported_value(indicator, province_sums)
            continue
        formula = formulas[indicator.code]
        for unit_id in units:
            own.setdefault(unit_id, {})[indicator.code] = _evaluate(indicator, formula, own_full[unit_id])
            values.setdefault(unit_id, {})[indicator.code] = _evaluate(indicator, formula, total_full[unit_id])
        values.setdefault(PROVINCE, {})[indicator.code] = _evaluate(indicator, formula, province_full)
    computation = Computation(
        period=period,
        units=units,
        values=values,
        own=own,
        indicators=indicators,
        own_measures=own_measures,
        own_sets=own_sets,
        reported=reported,
        formulas=formulas,
    )
    from chinhquyenso.indicators.assessments import fill_assessed  # assessments read computations

    fill_assessed(computation)
    for indicator in indicators:  # assessed values carry the indicator's unit too
        if indicator.source == Indicator.Source.ASSESSMENT and indicator.count_unit:
            for table in (*values.values(), *own.values()):
                found = table.get(indicator.code)
                if found is not None and not found.count_unit:
                    table[indicator.code] = replace(found, count_unit=indicator.count_unit)
    return computation


def find_unit(computation: Computation, code: str) -> Unit | None:
    """The unit for an agency code (any of its versions' codes)."""
    agency = Agency.objects.filter(code=code).values_list("id", flat=True).first()
    if agency is None:
        return None
    for unit in computation.units.values():
        if agency in unit.versions:
            return unit
    return None


@dataclass(frozen=True)
class Scope:
    """What a figure covers: the province, one agency alone, or an agency with
    its subordinates (as they stood at the period's end)."""

    unit_id: int
    name: str
    with_subordinates: bool
    units: list[Unit]

    def values(self, computation: Computation) -> dict[str, IndicatorValue]:
        table = computation.values if self.unit_id == PROVINCE or self.with_subordinates else computation.own
        return table.get(self.unit_id, {})

    def as_dict(self) -> dict:
        return {
            "with_subordinates": self.with_subordinates,
            "agencies": [{"code": u.code, "name": u.name} for u in self.units],
        }


def scope_of(computation: Computation, code: str = "", *, with_subordinates: bool = False) -> Scope | None:
    """The scope for an agency code (none: the whole province, every agency),
    None when no agency has that code in the period."""
    if not code:
        units = sorted(computation.units.values(), key=lambda u: (u.kind, u.name))
        return Scope(PROVINCE, "Toàn tỉnh", True, units)
    unit = find_unit(computation, code)
    if unit is None:
        return None
    covered = [unit]
    if with_subordinates:
        stack = list(unit.children)
        while stack:
            child = computation.units[stack.pop(0)]
            covered.append(child)
            stack.extend(child.children)
    return Scope(unit.id, unit.name, with_subordinates, covered)


def subtree_versions(computation: Computation, unit_id: int) -> set[int]:
    """Agency versions whose data count for a unit and its subordinates."""
    unit = computation.units[unit_id]
    versions = set(unit.versions)
    for child in unit.children:
        versions |= subtree_versions(computation, child)
    return versions


def breakdown(period: Period, *, by: str, agencies: set[int] | None = None, codes=None) -> dict:
    """Fact-based indicators grouped by "month" (key (year, month)) or
    "procedure" (key procedure id; whole months), over the given agency
    versions (all when None). Open-dossier and catalog measures are not split
    this way; indicators needing them come out empty."""
    _refresh()
    indicators = [i for i in active_indicators(codes) if i.source == Indicator.Source.COMPUTED]
    columns = [name if name != "processing_days" else "processing_seconds" for name in FACT_MEASURES]
    if by == "month" and _whole_months(period) == (period.start, period.end.replace(day=1)):
        rows = DossierMonthFact.objects.filter(month__range=(period.start, period.end))
        group, level = ["month"], "service_level"
    elif by == "month":
        rows = DossierFact.objects.filter(day__range=(period.start, period.end))
        group, level = ["day__year", "day__month"], "service_level"
    else:
        rows = ProcedureMonthFact.objects.filter(month__range=(period.start.replace(day=1), period.end))
        group, level = ["procedure_id"], "procedure__service_level"
    if agencies is not None:
        rows = rows.filter(agency_id__in=agencies)
    rows = rows.values(*group, level).annotate(**{c: Sum(c) for c in columns}).order_by()
    measures: dict = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        service_level = row.pop(level)
        if group == ["month"]:
            first = row.pop("month")
            group_key = (first.year, first.month)
        else:
            group_key = tuple(row.pop(g) for g in group) if by == "month" else row.pop("procedure_id")
        row["processing_days"] = Decimal(row.pop("processing_seconds") or 0) / 86400
        for name, number in row.items():
            measures[group_key][name] += number or 0
            for scope, levels in SERVICE_SCOPES.items():
                if service_level in levels:
                    measures[group_key][f"{name}__{scope}"] += number or 0
    formulas = {i.code: formula_for(i, period) for i in indicators}
    return {
        group_key: {i.code: _evaluate(i, formulas[i.code], values) for i in indicators}
        for group_key, values in measures.items()
    }

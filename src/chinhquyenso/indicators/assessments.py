"""Assessments over computed values: the QĐ 766 service-quality index, the
e-government completion criteria (seed 002) and the year's DX targets
("Phụ lục kết quả thực hiện mục tiêu chuyển đổi số"). Rules, thresholds and
targets are rows the province edits; nothing here names an agency."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from chinhquyenso.core.text import format_number
from chinhquyenso.indicators.models import EGovCriterion, Index766Group, Index766Rule, Indicator, Target
from chinhquyenso.indicators.periods import Period, month
from chinhquyenso.indicators.selectors import PROVINCE, Computation, IndicatorValue, Unit, compute
from chinhquyenso.org.models import LEVEL_OF_KIND, Level

TWO_PLACES = Decimal("0.01")


def _meets(value: Decimal, comparison: str, threshold: Decimal) -> bool:
    return value >= threshold if comparison == Target.Comparison.AT_LEAST else value <= threshold


# ------------------------------------------------------------------ 766


@dataclass
class RuleScore:
    rule: Index766Rule
    value: IndicatorValue | None
    points: Decimal | None  # None: no data to score

    @property
    def explanation(self) -> str:
        rule = self.rule
        if rule.method == Index766Rule.Method.STEPS:
            return "; ".join(
                f"≥ {format_number(Decimal(str(low)), 0)}%: {format_number(Decimal(str(p)), 2)} điểm"
                for low, p in rule.steps
            )
        threshold = format_number(rule.threshold, 0)
        if rule.method == Index766Rule.Method.THRESHOLD:
            return f"đủ điểm khi ≥ {threshold}%, không đạt 0 điểm"
        return f"đủ điểm khi ≥ {threshold}%, dưới ngưỡng tính theo tỷ lệ"


@dataclass
class GroupScore:
    group: Index766Group
    rules: list[RuleScore]

    @property
    def points(self) -> Decimal:
        return sum((r.points for r in self.rules if r.points is not None), Decimal(0))

    @property
    def scored_max(self) -> Decimal:
        return sum((r.rule.max_points for r in self.rules if r.points is not None), Decimal(0))


@dataclass
class Index766:
    unit_name: str
    groups: list[GroupScore]

    @property
    def points(self) -> Decimal:
        return sum((g.points for g in self.groups), Decimal(0))

    @property
    def max_points(self) -> Decimal:
        return sum((g.group.max_points for g in self.groups), Decimal(0))

    @property
    def scored_max(self) -> Decimal:
        return sum((g.scored_max for g in self.groups), Decimal(0))

    @property
    def missing(self) -> list[RuleScore]:
        return [r for g in self.groups for r in g.rules if r.points is None]


def score_rule(rule: Index766Rule, value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    if rule.method == Index766Rule.Method.STEPS:
        for low, points in rule.steps:
            if value >= Decimal(str(low)):
                return Decimal(str(points)).quantize(TWO_PLACES)
        return Decimal(0)
    threshold = rule.threshold or Decimal(0)
    if value >= threshold:
        return rule.max_points
    if rule.method == Index766Rule.Method.THRESHOLD or threshold <= 0:
        return Decimal(0)
    return (rule.max_points * max(value, Decimal(0)) / threshold).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def rule_groups() -> list[Index766Group]:
    """The 766 groups with their rules, read once for scoring many agencies."""
    return list(Index766Group.objects.prefetch_related("rules__indicator").order_by("order"))


def score_index766(groups: list[Index766Group], values: dict[str, IndicatorValue], unit_name: str = "") -> Index766:
    """Score each rule from the value of its indicator in `values`."""
    return Index766(
        unit_name=unit_name,
        groups=[
            GroupScore(
                group=group,
                rules=[
                    RuleScore(
                        rule=rule,
                        value=values.get(rule.indicator.code),
                        points=score_rule(
                            rule, values[rule.indicator.code].rounded if values.get(rule.indicator.code) else None
                        ),
                    )
                    for rule in group.rules.all()
                ],
            )
            for group in groups
        ],
    )


def index766(computation: Computation, unit_id: int = PROVINCE) -> Index766:
    name = "Toàn tỉnh" if unit_id == PROVINCE else computation.units[unit_id].name
    return score_index766(rule_groups(), computation.values.get(unit_id, {}), name)


def _points_text(value: Decimal) -> str:
    return format_number(value, 0 if value == value.to_integral() else 2)


def index766_coverage(scored_max: Decimal, max_points: Decimal) -> str:
    """ "tính trên 72/100 điểm có số liệu" when some rules had no data to
    score; "" when every rule was scored. The one wording of the coverage:
    the dashboard tile, reports, `cqs index766`."""
    if scored_max >= max_points:
        return ""
    return f"tính trên {_points_text(scored_max)}/{_points_text(max_points)} điểm có số liệu"


def index766_summary(result: Index766) -> str:
    """ "61,80/100 điểm (tính trên 72/100 điểm có số liệu)": the score as a
    report prints it, never without its coverage."""
    text = f"{format_number(result.points, 2)}/{_points_text(result.max_points)} điểm"
    coverage = index766_coverage(result.scored_max, result.max_points)
    return f"{text} ({coverage})" if coverage else text


def index766_dict(result: Index766, period) -> dict:
    """The index as plain data (API, `cqs index766 --json`, report snapshots)."""
    return {
        "period": period.code,
        "agency": result.unit_name,
        "points": float(result.points),
        "max_points": float(result.max_points),
        "scored_max": float(result.scored_max),
        "coverage": index766_coverage(result.scored_max, result.max_points),
        "summary": index766_summary(result),
        "groups": [
            {
                "name": g.group.name,
                "points": float(g.points),
                "max_points": float(g.group.max_points),
                "rules": [
                    {
                        "code": r.rule.code,
                        "name": r.rule.name,
                        "indicator": r.rule.indicator.code,
                        "points": None if r.points is None else float(r.points),
                        "max_points": float(r.rule.max_points),
                        "rule": r.explanation,
                        "source": r.rule.source,
                        "data": r.value.as_dict() if r.value else None,
                    }
                    for r in g.rules
                ],
            }
            for g in result.groups
        ],
    }


def index766_codes() -> set[str]:
    return set(Index766Rule.objects.values_list("indicator__code", flat=True))


# ------------------------------------------------- e-government completion


@dataclass
class CriterionResult:
    criterion: EGovCriterion
    value: IndicatorValue | None
    meets: bool
    computed: bool = False  # the value is the criterion's computed_indicator, not the reported one

    @property
    def source(self) -> str:
        return "tính từ hệ thống" if self.computed else "cơ quan báo cáo"

    @property
    def gap(self) -> str:
        """How far from the threshold, in the indicator's unit ("thiếu 12,5%")."""
        if self.meets:
            return ""
        if self.value is None or self.value.value is None:
            return "chưa có số liệu"
        if self.criterion.indicator.value_type == Indicator.ValueType.BOOLEAN:
            return "chưa có"
        distance = abs(self.criterion.threshold - self.value.rounded)
        unit = "%" if self.value.unit == "%" else f" {self.value.unit}"
        return (
            f"{'thiếu' if self.criterion.comparison == Target.Comparison.AT_LEAST else 'vượt'} "
            f"{format_number(distance, self.value.decimals)}{unit}"
        )


@dataclass
class AgencyCompletion:
    unit: Unit
    results: list[CriterionResult]

    @property
    def complete(self) -> bool:
        return all(r.meets for r in self.results)

    @property
    def missed(self) -> list[CriterionResult]:
        return [r for r in self.results if not r.meets]


@dataclass
class LevelSummary:
    level: str
    label: str
    agencies: list[AgencyCompletion] = field(default_factory=list)

    @property
    def noun(self) -> str:
        """The label inside a sentence: "cơ quan cấp tỉnh", "UBND cấp huyện"
        (an abbreviation keeps its capitals)."""
        first, _, rest = self.label.partition(" ")
        return f"{first.lower() if not first.isupper() else first} {rest}".strip()

    @property
    def complete(self) -> int:
        return sum(a.complete for a in self.agencies)

    @property
    def rate(self) -> IndicatorValue:
        return _share(self.complete, len(self.agencies))


@dataclass
class EGovCompletion:
    criteria: list[EGovCriterion]
    levels: list[LevelSummary]
    period: Period | None = None  # the month assessed (assessed_period)
    computation: Computation | None = field(default=None, repr=False)  # the figures it was assessed on

    @property
    def agencies(self) -> list[AgencyCompletion]:
        return [a for level in self.levels for a in level.agencies]

    @property
    def rate(self) -> IndicatorValue:
        return _share(sum(a.complete for a in self.agencies), len(self.agencies))


def _share(part: int, whole: int) -> IndicatorValue:
    return IndicatorValue(
        code="egov_completion_rate",
        name="Tỷ lệ cơ quan hoàn thiện chính quyền điện tử",
        unit="%",
        numerator=Decimal(part),
        denominator=Decimal(whole),
        value=Decimal(part) * 100 / whole if whole else None,
        decimals=1,
    )


def assessed_period(period: Period) -> Period:
    """The one period e-government completion is assessed over, for any
    period asked: its last month (cut to the period where it ends or starts
    inside that month). The criteria are assessed monthly, "tính đến tháng
    03/2025 … so với tháng 02/2025" (seed 002), so a quarter's, 9 months' or
    year's completion is the state in its last month, not a blend of months
    (a certificate lost in August is not made up for by July)."""
    last = month(period.end.year, period.end.month)
    start = max(last.start, period.start)
    if (start, period.end) == (last.start, last.end):
        return last
    return Period("range", start, period.end)


def egov_completion(computation: Computation) -> EGovCompletion:
    """E-government completion for the period of `computation`, assessed
    over assessed_period() — the one computation every surface calls (report,
    `cqs kpi`, both APIs, the dashboard). Each agency is assessed on its own
    data and that of its subordinates not assessed on their own (a district
    with its communes; UBND tỉnh without the departments, which are assessed
    themselves)."""
    cached = computation.assessments.get("egov")
    if cached is not None:
        return cached
    result = _assess_egov(computation)
    computation.assessments["egov"] = result
    return result


def _assess_egov(computation: Computation) -> EGovCompletion:
    criteria = list(EGovCriterion.objects.filter(is_active=True).select_related("indicator", "computed_indicator"))
    levels = {
        level: LevelSummary(level=level, label=label)
        for level, label in (
            (Level.PROVINCE, "Cơ quan cấp tỉnh"),
            (Level.DISTRICT, "UBND cấp huyện"),
            (Level.COMMUNE, "UBND cấp xã"),
        )
    }
    period = assessed_period(computation.period)
    codes = {c.indicator.code for c in criteria} | {c.computed_indicator.code for c in criteria if c.computed_indicator}
    if codes and (
        (period.start, period.end) != (computation.period.start, computation.period.end)
        or not codes <= {i.code for i in computation.indicators}
    ):
        computation = compute(period, codes=codes)
    kinds = {kind for c in criteria for kind in c.agency_kinds}
    assessed = {u.id for u in computation.units.values() if not kinds or u.kind in kinds} if criteria else set()

    def scope(unit_id: int) -> set[int]:
        ids = {unit_id}
        for child in computation.units[unit_id].children:
            if child not in assessed:
                ids |= scope(child)
        return ids

    for unit in sorted(computation.units.values(), key=lambda u: u.name):
        applicable = [c for c in criteria if not c.agency_kinds or unit.kind in c.agency_kinds]
        if not applicable:
            continue
        results, units = [], scope(unit.id)
        for criterion in applicable:
            value, computed = None, False
            if criterion.computed_indicator:
                value = computation.value_over(criterion.computed_indicator.code, units)
                computed = value is not None and value.value is not None
            if not computed:
                value = computation.value_over(criterion.indicator.code, units)
            meets = bool(
                value and value.value is not None and _meets(value.rounded, criterion.comparison, criterion.threshold)
            )
            results.append(CriterionResult(criterion=criterion, value=value, meets=meets, computed=computed))
        levels[LEVEL_OF_KIND[unit.kind]].agencies.append(AgencyCompletion(unit=unit, results=results))
    return EGovCompletion(
        criteria=criteria,
        levels=[level for level in levels.values() if level.agencies],
        period=period,
        computation=computation,
    )


def fill_assessed(computation: Computation) -> None:
    """Put the e-government completion share into the computation, for the
    province and for each unit over its assessed subordinates."""
    wanted = [i for i in computation.indicators if i.code == "egov_completion_rate"]
    if not wanted:
        return
    completion = egov_completion(computation)
    complete = {a.unit.id: a.complete for a in completion.agencies}

    def tally(unit_id: int) -> tuple[int, int]:
        done, total = (int(complete[unit_id]), 1) if unit_id in complete else (0, 0)
        for child in computation.units[unit_id].children:
            d, t = tally(child)
            done, total = done + d, total + t
        return done, total

    for unit_id in computation.units:
        computation.values[unit_id]["egov_completion_rate"] = _share(*tally(unit_id))
        computation.own[unit_id]["egov_completion_rate"] = _share(
            *((int(complete[unit_id]), 1) if unit_id in complete else (0, 0))
        )
    computation.values[0]["egov_completion_rate"] = completion.rate


# ------------------------------------------------------------------ targets


@dataclass
class TargetResult:
    target: Target
    achieved: IndicatorValue | None

    @property
    def status(self) -> str:
        """đạt / vượt / chưa đạt / chưa có số liệu."""
        if self.achieved is None or self.achieved.value is None:
            return "chưa có số liệu"
        value, plan = self.achieved.rounded, self.target.value
        if value == plan:
            return "đạt"
        if _meets(value, self.target.comparison, plan):
            return "vượt"
        return "chưa đạt"

    @property
    def plan_display(self) -> str:
        sign = "≥" if self.target.comparison == Target.Comparison.AT_LEAST else "≤"
        unit = self.target.indicator.unit
        number = format_number(self.target.value, 0 if self.target.value == self.target.value.to_integral() else 1)
        return f"{sign} {number}{'%' if unit == '%' else ' ' + unit}".rstrip()


def target_results(computation: Computation, year: int | None = None) -> list[TargetResult]:
    year = year or computation.period.end.year
    rows = Target.objects.filter(year=year, agency__isnull=True).select_related("indicator").order_by("order")
    return [TargetResult(target=t, achieved=computation.get(t.indicator.code)) for t in rows]

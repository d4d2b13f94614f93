"""Reads for the IOC dashboard ("Điều hành"), scoped by the acting user.

Who sees what: the province administrator and auditors see the province and
every agency; a leader (Role.LEADER) sees the agencies they lead, as those
stood at the period's end (the predecessors merged into their agency count
too), with every subordinate; everyone else is refused.

Figures come from chinhquyenso.indicators: compute() for the period and the
one before, one breakdown(by="month") for the 12-month trend, one
breakdown(by="procedure") per agency page. Each result is kept for
CACHE_SECONDS (dashboard.cache), so figures are at most that old: a province
changes dossiers every few seconds, so a key that changed with every change
would almost never be hit.
Overdue-dossier counts and lists are read live through
dossiers.selectors.visible_dossiers, never from the cache."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone

from chinhquyenso.accounts.models import Role
from chinhquyenso.accounts.selectors import agency_ids, is_ioc_operator, is_province_admin, sees_whole_province
from chinhquyenso.core.calendar import calendar_for, local_date
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.registry import DASHBOARD_TILES
from chinhquyenso.core.text import fold, format_number
from chinhquyenso.dashboard.cache import cached
from chinhquyenso.dossiers.models import OPEN_STATUSES, Dossier, Status
from chinhquyenso.dossiers.selectors import visible_dossiers
from chinhquyenso.indicators import assessments
from chinhquyenso.indicators.models import EGovCriterion, Indicator
from chinhquyenso.indicators.periods import Period, month, parse_period, quarter, shift_month
from chinhquyenso.indicators.selectors import (
    PROVINCE,
    Computation,
    IndicatorValue,
    Unit,
    breakdown,
    compute,
    find_unit,
    subtree_versions,
)
from chinhquyenso.org.models import Level
from chinhquyenso.org.selectors import with_predecessors
from chinhquyenso.procedures.models import Procedure

FORBIDDEN = (
    "Trang Điều hành chỉ dành cho lãnh đạo cơ quan, quản trị tỉnh, điều phối viên IOC và cán bộ kiểm tra, giám sát. "
    "Nếu bạn là lãnh đạo, hãy đề nghị quản trị cơ quan phân công vai trò «Lãnh đạo»."
)
OUT_OF_SCOPE = "Bạn chỉ xem được số liệu của cơ quan mình và các cơ quan trực thuộc."
PERIOD_KINDS = ("month", "quarter", "half_year", "nine_months", "year")

# Headline tiles: indicator code → short label (the indicator's full name is shown as help text).
TILES = [
    ("received", "Hồ sơ tiếp nhận"),
    ("online_rate_all", "Nộp trực tuyến"),
    ("on_time_rate", "Giải quyết đúng hạn"),
    ("digitization_rate", "Số hóa khi tiếp nhận"),
]
INDEX766 = "index766"
# What agencies can be ranked by; INDEX766 is the 766 score, the others indicator codes.
RANKABLE = [
    INDEX766,
    "online_rate_all",
    "on_time_rate",
    "digitization_rate",
    "electronic_result_rate",
    "online_payment_rate",
    "late_rate",
    "received",
]
UNIT_COLUMNS = ["received", "online_rate_all", "on_time_rate"]
TREND_CODES = ["received", "received_online", "received_counter", "received_post", "online_rate_all", "on_time_rate"]
PROCEDURE_CODES = ["received", "online_rate_all", "on_time_rate", "late_rate"]
LEVEL_LABELS = {Level.PROVINCE: "Cơ quan cấp tỉnh", Level.DISTRICT: "UBND cấp huyện", Level.COMMUNE: "UBND cấp xã"}
LEVEL_PEERS = {Level.PROVINCE: "cơ quan cấp tỉnh", Level.DISTRICT: "UBND cấp huyện", Level.COMMUNE: "UBND cấp xã"}
SHOWN_AT_EACH_END = 5  # a ranking longer than twice this shows its top and bottom only


# ---------------------------------------------------------------- who sees what


def _sees_every_agency(user) -> bool:
    # IOC operators staff the province's operations centre, which this dashboard is: they watch every agency.
    return sees_whole_province(user) or is_province_admin(user) or is_ioc_operator(user)


def can_view(user) -> bool:
    if not getattr(user, "pk", None) or getattr(user, "is_citizen", True):
        return False
    return _sees_every_agency(user) or bool(agency_ids(user, [Role.LEADER]))


@dataclass(frozen=True)
class Scope:
    user: object
    whole_province: bool
    led: frozenset[int] = frozenset()  # agencies the user leads, with every agency they succeeded

    def units(self, computation: Computation) -> set[int] | None:
        """Units this user may see in a computation (None: all)."""
        if self.whole_province:
            return None
        seen: set[int] = set()
        for unit in computation.units.values():
            if unit.versions & self.led:
                seen |= subtree(computation, unit.id)
        return seen

    def top_units(self, computation: Computation) -> list[Unit]:
        seen = self.units(computation)
        if seen is None:
            return computation.roots()
        return sorted(
            (computation.units[u] for u in seen if computation.units[u].parent_id not in seen), key=lambda u: u.name
        )


def scope_for(user) -> Scope:
    if not can_view(user):
        raise PermissionDenied(FORBIDDEN)
    if _sees_every_agency(user):
        return Scope(user, True)
    return Scope(user, False, frozenset(with_predecessors(agency_ids(user, [Role.LEADER]))))


def subtree(computation: Computation, unit_id: int) -> set[int]:
    ids = {unit_id}
    for child in computation.units[unit_id].children:
        ids |= subtree(computation, child)
    return ids


# ---------------------------------------------------------------- periods


def today() -> dt.date:
    return local_date(timezone.now())


def default_period(day: dt.date | None = None) -> Period:
    """The last complete quarter: a leader opening the page compares two
    whole quarters (the current one is a choice in the period list, compared
    like with like: see Comparison)."""
    day = day or today()
    return quarter(day.year, (day.month - 1) // 3 + 1).previous()


def setting(name: str, default):
    return settings.CQS.get(name, default)


def min_volume() -> int:
    """Units with fewer dossiers than this in the period are not ranked (CQS["DASHBOARD_RANKING_MIN_DOSSIERS"])."""
    return int(setting("DASHBOARD_RANKING_MIN_DOSSIERS", 10))


@dataclass(frozen=True)
class Comparison:
    """What the period is compared with: the whole previous period when this
    one is over; when it is not, the same number of elapsed working days at
    the start of the previous one (a part of a quarter against a whole
    quarter would always look worse)."""

    period: Period  # what the previous figures cover
    whole: Period  # the previous period, whole
    elapsed: int | None = None  # working days elapsed of an unfinished period (None: the period is over)
    until: dt.date | None = None  # the unfinished period's figures run to this day

    @property
    def partial(self) -> bool:
        return self.elapsed is not None

    @property
    def label(self) -> str:
        """ "quý IV năm 2024", or "cùng 47 ngày làm việc đầu quý III năm 2026" (after "so với")."""
        if not self.partial:
            return self.whole.label
        return f"cùng {self.elapsed} ngày làm việc đầu {self.whole.label}"

    @property
    def short(self) -> str:
        """The tiles' "Kỳ trước" label."""
        return f"{self.elapsed} ngày làm việc đầu kỳ trước" if self.partial else "Kỳ trước"


def comparison_for(period: Period, day: dt.date | None = None) -> Comparison:
    day = day or today()
    whole = period.previous()
    if not (period.start <= day <= period.end):
        return Comparison(whole, whole)
    calendar = calendar_for(whole.start, day, days_after=0)
    elapsed = calendar.working_days_between(period.start - dt.timedelta(days=1), day)
    # The previous period's first `elapsed` working days (and the days off that follow them, as today's may).
    cutoff = whole.start - dt.timedelta(days=1)
    if elapsed:
        cutoff = calendar.add_working_days(cutoff, elapsed)
        following = calendar.next_working_day(cutoff)
        cutoff = following - dt.timedelta(days=1) if not calendar.is_working_day(day) else cutoff
    cutoff = min(cutoff, whole.end)
    return Comparison(Period("range", whole.start, max(cutoff, whole.start)), whole, elapsed, day)


def read_period(text: str | None) -> Period:
    """The period of `ky` / `period` (default: the current quarter)."""
    if not (text or "").strip():
        return default_period()
    period = parse_period(text)
    if period.kind not in PERIOD_KINDS:
        raise DomainError("Hãy chọn kỳ theo tháng, quý, 6 tháng, 9 tháng hoặc năm (ví dụ 2025-Q1).", field="period")
    if period.start > today():
        raise DomainError(f"Kỳ {period.label} chưa bắt đầu.", field="period")
    return period


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def period_choices(years: int = 3) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(group label, [(code, label)])] for the period chooser, newest year first,
    periods that have begun only."""
    now = today()
    groups = []
    for year in range(now.year, now.year - years, -1):
        codes = (
            [f"{year}", f"{year}-9M", f"{year}-H2", f"{year}-H1"]
            + [f"{year}-Q{q}" for q in (4, 3, 2, 1)]
            + [f"{year}-M{m:02d}" for m in range(12, 0, -1)]
        )
        periods = [parse_period(code) for code in codes]
        groups.append((f"Năm {year}", [(p.code, capitalized(p.label)) for p in periods if p.start <= now]))
    return groups


# ---------------------------------------------------------------- cached figures


def dashboard_codes(part: str = "page") -> list[str]:
    """The indicators a computation is made of, by what it serves: the page
    (tiles, ranking, agencies), the previous period (tiles and the 766 score
    only), e-government completion (its criteria only). Fewer codes, less to
    evaluate for every agency."""
    criteria = set(EGovCriterion.objects.filter(is_active=True).values_list("indicator__code", flat=True))
    if part == "egov":
        return sorted(criteria)
    wanted = {code for code, _ in TILES} | set(section_codes()) | assessments.index766_codes()
    if part == "page":
        wanted |= set(RANKABLE) | set(UNIT_COLUMNS) | criteria
    return sorted(wanted - {INDEX766})


def computation_for(period: Period, part: str = "page") -> Computation:
    return cached(
        # the sections' codes: an app registering a section gets a computation that has them
        ("computation", part, period.kind, period.start, period.end, section_codes()),
        lambda: compute(period, codes=dashboard_codes(part)),
    )


def _versions_key(versions: set[int] | None):
    return None if versions is None else hashlib.sha256(repr(sorted(versions)).encode()).hexdigest()


def breakdown_for(period: Period, by: str, versions: set[int] | None, codes: list[str]) -> dict:
    return cached(
        ("breakdown", by, period.start, period.end, _versions_key(versions), tuple(codes)),
        lambda: breakdown(period, by=by, agencies=versions, codes=codes),
    )


# ---------------------------------------------------------------- context


@dataclass
class Context:
    """One request's view: who asks, the period, the agency (None: the
    province), the period's computation."""

    scope: Scope
    period: Period
    computation: Computation
    unit: Unit | None
    allowed: set[int] | None  # units the user may see (None: all)
    _previous: Computation | None = field(default=None, repr=False)
    _comparison: Comparison | None = field(default=None, repr=False)

    @property
    def unit_id(self) -> int:
        return self.unit.id if self.unit else PROVINCE

    @property
    def versions(self) -> set[int] | None:
        """Agency versions counted for the view (None: all)."""
        return subtree_versions(self.computation, self.unit.id) if self.unit else None

    @property
    def units_in_view(self) -> set[int]:
        return subtree(self.computation, self.unit.id) if self.unit else set(self.computation.units)

    @property
    def comparison(self) -> Comparison:
        if self._comparison is None:
            self._comparison = comparison_for(self.period)
        return self._comparison

    @property
    def previous_period(self) -> Period:
        """What the previous figures cover: the whole previous period, or its
        first working days as many as have elapsed of this one."""
        return self.comparison.period

    @property
    def previous(self) -> Computation:
        if self._previous is None:
            comparison = self.comparison
            if comparison.partial and not comparison.elapsed:
                self._previous = None  # nothing elapsed yet: nothing to compare
            else:
                self._previous = computation_for(self.previous_period, "previous")
        return self._previous

    def previous_values(self) -> dict[str, IndicatorValue] | None:
        """The same agency's values in the previous period: over its
        predecessors when it was formed by a merger since (None when it did
        not exist then)."""
        previous = self.previous
        if previous is None:
            return None
        if self.unit is None:
            return previous.values.get(PROVINCE, {})
        matches = [u.id for u in previous.units.values() if u.versions & self.unit.versions]
        if len(matches) == 1:
            return previous.values.get(matches[0], {})
        if not matches:
            return None
        ids = set().union(*(subtree(previous, m) for m in matches))
        return {i.code: previous.value_over(i.code, ids) for i in previous.indicators}

    @property
    def title(self) -> str:
        return self.unit.name if self.unit else "Toàn tỉnh"

    def breadcrumbs(self) -> list[Unit]:
        """Agencies above this one that the user may open, top first."""
        trail, unit = [], self.unit
        while unit is not None and unit.parent_id is not None:
            unit = self.computation.units[unit.parent_id]
            if self.allowed is None or unit.id in self.allowed:
                trail.append(unit)
        return trail[::-1]

    def others(self) -> list[Unit]:
        """A leader of several agencies: the other agencies they may open."""
        if self.scope.whole_province:
            return []
        return [u for u in self.scope.top_units(self.computation) if not self.unit or u.id != self.unit.id]


def context(user, period_text: str | None = None, agency_code: str | None = None) -> Context:
    scope = scope_for(user)
    period = read_period(period_text)
    computation = computation_for(period)
    allowed = scope.units(computation)
    if agency_code:
        unit = find_unit(computation, agency_code)
        if unit is None:
            raise NotFound(f"Không có cơ quan mã «{agency_code}» trong {period.label}.", field="agency")
        if allowed is not None and unit.id not in allowed:
            raise PermissionDenied(OUT_OF_SCOPE, field="agency")
    elif scope.whole_province:
        unit = None
    else:
        tops = scope.top_units(computation)
        if not tops:
            raise NotFound(
                f"Trong {period.label}, cơ quan của bạn chưa hoạt động nên chưa có số liệu; hãy chọn kỳ khác.",
                field="period",
            )
        unit = tops[0]
    return Context(scope=scope, period=period, computation=computation, unit=unit, allowed=allowed)


# ---------------------------------------------------------------- numbers


def number_text(value: Decimal | int | None, decimals: int | None = None) -> str:
    """Vietnamese number, decimals only where needed (62,5 · 62,25 · 60)."""
    if value is None:
        return "—"
    value = Decimal(value)
    if decimals is None:
        decimals = 0 if value == value.to_integral() else (1 if value * 10 == (value * 10).to_integral() else 2)
    return format_number(value, decimals)


def fraction_text(value: IndicatorValue | None) -> str:
    """ "123/456" for ratios, "" otherwise."""
    if value is None or value.denominator is None or value.value_type != Indicator.ValueType.RATIO:
        return ""
    return f"{number_text(value.numerator)}/{number_text(value.denominator)}"


@dataclass(frozen=True)
class Change:
    """The current value against the previous period's, in the tile's unit:
    percentage points for rates, dossiers for counts, points for the 766 score."""

    difference: Decimal
    unit: str  # "điểm phần trăm", "hồ sơ", "điểm"
    higher_is_better: bool
    relative: Decimal | None = None  # counts: change in per cent of the previous value
    decimals: int | None = None  # as the values are written (None: as needed)

    @property
    def direction(self) -> str:
        return "up" if self.difference > 0 else "down" if self.difference < 0 else "same"

    @property
    def better(self) -> bool | None:
        if self.difference == 0:
            return None
        return (self.difference > 0) == self.higher_is_better

    @property
    def text(self) -> str:
        if self.difference == 0:
            return "= không đổi"
        arrow, verb = ("▲", "tăng") if self.difference > 0 else ("▼", "giảm")
        text = f"{arrow} {verb} {number_text(abs(self.difference), self.decimals)} {self.unit}"
        if self.relative is not None:
            sign = "+" if self.relative > 0 else "−"
            text += f" ({sign}{number_text(abs(self.relative), 1)}%)"
        return text

    @property
    def verdict(self) -> str:
        return {True: "tốt hơn", False: "kém hơn", None: ""}[self.better]


@dataclass
class Tile:
    key: str
    label: str
    name: str  # the indicator's full name
    current: IndicatorValue | None
    previous: IndicatorValue | None
    higher_is_better: bool = True
    note: str = ""
    noun: str = "hồ sơ"  # what a ratio's numerator and denominator count
    previous_label: str = "Kỳ trước"  # what the previous value covers (Comparison.short)

    @property
    def is_score(self) -> bool:
        return self.key == INDEX766

    @property
    def display(self) -> str:
        if self.current is None or self.current.value is None:
            return self.current.display if getattr(self.current, "no_data", False) else "—"
        if self.is_score:
            return f"{number_text(self.current.rounded)}/100"
        return self.current.display

    @property
    def previous_display(self) -> str:
        if self.previous is None or self.previous.value is None:
            return "—"
        return f"{number_text(self.previous.rounded)}/100" if self.is_score else self.previous.display

    @property
    def detail(self) -> str:
        if self.is_score:
            return "điểm" + (f" ({self.note})" if self.note else "")
        fraction = fraction_text(self.current)
        return f"{fraction} {self.noun}".rstrip() if fraction else ""

    @property
    def change(self) -> Change | None:
        if not (self.current and self.previous) or self.current.value is None or self.previous.value is None:
            return None
        difference = self.current.rounded - self.previous.rounded
        if self.is_score:
            return Change(difference, "điểm", True)
        if self.current.unit == "%":
            return Change(difference, "điểm phần trăm", self.higher_is_better, decimals=self.current.decimals)
        relative = difference * 100 / self.previous.rounded if self.previous.rounded else None
        return Change(difference, self.current.unit, self.higher_is_better, relative, decimals=self.current.decimals)


def _score_value(index: assessments.Index766) -> IndicatorValue:
    scored = index.scored_max
    return IndicatorValue(
        code=INDEX766,
        name="Điểm Bộ chỉ số 766 (phục vụ người dân, doanh nghiệp)",
        unit="điểm",
        numerator=index.points,
        denominator=scored,
        value=index.points if scored else None,
        decimals=2,
        value_type=Indicator.ValueType.DECIMAL,
    )


def score_note(score: IndicatorValue) -> str:
    """The 766 score's coverage, worded once (assessments.index766_coverage)."""
    if not score.denominator:
        return ""
    return assessments.index766_coverage(score.denominator, Decimal(100))


def _tiles(ctx: Context, specs, noun: str = "hồ sơ") -> list[Tile]:
    """A tile per (indicator code, label); `noun` what the ratios count."""
    current, before = ctx.computation.values.get(ctx.unit_id, {}), ctx.previous_values()
    indicators = {i.code: i for i in ctx.computation.indicators}
    out = []
    for code, label in specs:
        indicator = indicators.get(code)
        out.append(
            Tile(
                key=code,
                label=label,
                name=indicator.name if indicator else label,
                current=current.get(code),
                previous=before.get(code) if before is not None else None,
                higher_is_better=indicator.higher_is_better if indicator else True,
                noun=noun,
                previous_label=ctx.comparison.short,
            )
        )
    return out


def tiles(ctx: Context) -> list[Tile]:
    current, before = ctx.computation.values.get(ctx.unit_id, {}), ctx.previous_values()
    out = _tiles(ctx, TILES)
    groups = assessments.rule_groups()
    score = score766(groups, current)
    out.append(
        Tile(
            key=INDEX766,
            label="Điểm Bộ chỉ số 766",
            name=score.name,
            current=score,
            previous=score766(groups, before) if before is not None else None,
            note=score_note(score),
            previous_label=ctx.comparison.short,
        )
    )
    return out


# ---------------------------------------------------------------- sections registered by apps


def section_codes() -> tuple[str, ...]:
    """The indicators of every section registered in core.registry.DASHBOARD_TILES."""
    return tuple(code for section in DASHBOARD_TILES.values() for code, _ in section.tiles)


@dataclass
class Section:
    """A section an app registered (core.registry.TileSection): its tiles for the view."""

    key: str
    title: str
    tiles: list[Tile]
    definitions: list[tuple[str, str, str]]  # (tile label, numerator label, denominator label) of ratios

    @property
    def anchor(self) -> str:
        """The heading's id: the title's first phrase, folded ("Phản ánh, kiến nghị" → "phan-anh")."""
        return re.sub(r"[^a-z0-9]+", "-", fold(self.title.split(",")[0])).strip("-") or self.key


def sections(ctx: Context) -> list[Section]:
    """Every section registered in core.registry.DASHBOARD_TILES, in registration
    order: one tile per indicator, as the headline tiles (value, previous value,
    change), counting what the section says it counts."""
    indicators = {i.code: i for i in ctx.computation.indicators}
    out = []
    for key, section in DASHBOARD_TILES.items():
        if section.live is not None:
            # Live figures are the province's as they stand now: on the province's page only.
            live = section.live(ctx.scope.user) if ctx.unit is None else None
            if live:
                out.append(Section(key, section.title, list(live), []))
            continue
        definitions = [
            (label, i.numerator_label, i.denominator_label)
            for code, label in section.tiles
            if (i := indicators.get(code)) is not None and i.is_ratio and i.numerator_label and i.denominator_label
        ]
        out.append(Section(key, section.title, _tiles(ctx, section.tiles, noun=section.counts), definitions))
    return out


# ---------------------------------------------------------------- 12-month trend


@dataclass
class Trend:
    period: Period  # the 12 months shown
    months: list[tuple[int, int]]
    online: list[int]
    counter: list[int]
    post: list[int]
    online_rate: list[IndicatorValue | None]
    on_time_rate: list[IndicatorValue | None]

    @property
    def received(self) -> list[int]:
        return [a + b + c for a, b, c in zip(self.online, self.counter, self.post)]


def trend(ctx: Context) -> Trend:
    """The 12 months up to the period's end (to this month, for a period not
    over yet, so months still to come are not drawn as zeros)."""
    end = min(ctx.period.end, today())
    last = month(end.year, end.month)
    first = month(*shift_month(end.year, end.month, -11))
    span = Period("range", first.start, last.end)
    data = breakdown_for(span, "month", ctx.versions, TREND_CODES)
    months = [(p.start.year, p.start.month) for p in span.months()]

    def count(key, code) -> int:
        value = data.get(key, {}).get(code)
        return int(value.value) if value and value.value is not None else 0

    return Trend(
        period=span,
        months=months,
        online=[count(k, "received_online") for k in months],
        counter=[count(k, "received_counter") for k in months],
        post=[count(k, "received_post") for k in months],
        online_rate=[data.get(k, {}).get("online_rate_all") for k in months],
        on_time_rate=[data.get(k, {}).get("on_time_rate") for k in months],
    )


# ---------------------------------------------------------------- overdue (live)


# The condition of the partial index on open dossiers, written out with its
# literal values: SQLite uses a partial index only when the query repeats its
# condition, and not with bound parameters (a full scan otherwise: 10× slower
# at 20,000 dossiers). PostgreSQL infers it from status = … anyway.
OPEN_INDEX_CONDITION = '"dossiers_dossier"."status" IN ({})'.format(", ".join(f"'{s}'" for s in OPEN_STATUSES))


def overdue_dossiers(
    ctx: Context, procedure_id: int | None = None, now: dt.datetime | None = None
) -> QuerySet[Dossier]:
    """Dossiers being processed past their due time, received by the view's
    agencies, most overdue first. Paused dossiers wait for the citizen and
    are not overdue (as in the back office).

    The view's agencies are the ones context() let the user open: a leader
    supervises the agencies under theirs, so a district leader sees the
    communes' overdue dossiers here even though the back office (which is
    for acting on dossiers) does not open them."""
    now = now or timezone.now()
    if ctx.versions is None and not ctx.scope.whole_province:
        return Dossier.objects.none()
    rows = Dossier.objects.extra(where=[OPEN_INDEX_CONDITION]).filter(status=Status.IN_PROCESS, due_at__lt=now)
    if ctx.versions is not None:
        rows = rows.filter(receiving_agency_id__in=ctx.versions)
    if procedure_id is not None:
        rows = rows.filter(procedure_id=procedure_id)
    return rows


def overdue_by_unit(ctx: Context, now: dt.datetime | None = None) -> tuple[dict[int, int], dict[int, int]]:
    """(with subordinates, alone) counts of overdue dossiers per unit."""
    unit_of = {version: unit.id for unit in ctx.computation.units.values() for version in unit.versions}
    own: dict[int, int] = defaultdict(int)
    rows = overdue_dossiers(ctx, now=now).values("receiving_agency_id").annotate(n=Count("id")).order_by()
    for row in rows:
        if row["receiving_agency_id"] in unit_of:
            own[unit_of[row["receiving_agency_id"]]] += row["n"]
    total: dict[int, int] = {}

    def roll(unit_id: int) -> int:
        if unit_id not in total:
            total[unit_id] = own.get(unit_id, 0) + sum(roll(c) for c in ctx.computation.units[unit_id].children)
        return total[unit_id]

    for unit_id in ctx.computation.units:
        roll(unit_id)
    return total, dict(own)


@dataclass
class OverdueRow:
    dossier: Dossier
    days: int  # working days past the due date (0: due earlier today); due soon: working days left
    openable: bool  # the back office lets this user open it (their own agencies, not those they supervise)

    @property
    def handler(self) -> str:
        """The named specialist, else the agency holding the dossier."""
        assignee = self.dossier.assignee
        if assignee is not None:
            return assignee.full_name or assignee.username
        return self.dossier.current_agency.name

    @property
    def step(self) -> str:
        return getattr(self.dossier, "step_name", None) or "—"


def overdue_rows(
    ctx: Context, procedure_id: int | None = None, *, offset: int = 0, limit: int = 50, due_soon: bool = False
) -> tuple[list[OverdueRow], int]:
    """A page of overdue dossiers (due_soon: of dossiers due soon, see
    dashboard.urgent) and how many there are in all."""
    from django.db.models import OuterRef, Subquery

    from chinhquyenso.dashboard import urgent
    from chinhquyenso.procedures.models import ProcessStep

    now = timezone.now()
    rows = urgent.due_soon_dossiers(ctx, procedure_id, now) if due_soon else overdue_dossiers(ctx, procedure_id, now)
    total = rows.count()
    step = ProcessStep.objects.filter(procedure=OuterRef("procedure_id"), order=OuterRef("current_step")).values(
        "name"
    )[:1]
    page = list(
        rows.select_related("procedure", "receiving_agency", "current_agency", "assignee")
        .annotate(step_name=Subquery(step))
        .only(
            "code",
            "accepted_at",
            "due_at",
            "submitted_at",
            "current_step",
            "procedure__code",
            "procedure__name",
            "receiving_agency__code",
            "receiving_agency__name",
            "current_agency__name",
            "assignee__full_name",
            "assignee__username",
        )
        .order_by("due_at", "id")[offset : offset + limit]
    )
    if not page:
        return [], total
    day = local_date(now)
    if due_soon:
        calendar = calendar_for(now, page[-1].due_at, days_after=0)
    else:
        calendar = calendar_for(page[0].due_at, now, days_after=0)
    openable = set(visible_dossiers(ctx.scope.user).filter(pk__in=[d.pk for d in page]).values_list("pk", flat=True))
    out = []
    for d in page:
        due = local_date(d.due_at)
        days = calendar.working_days_between(day, due) if due_soon else calendar.working_days_between(due, day)
        out.append(OverdueRow(d, days, d.pk in openable))
    return out, total


# ---------------------------------------------------------------- agencies below


@dataclass
class UnitRow:
    unit: Unit
    values: dict[str, IndicatorValue | None]
    overdue: int
    alone: bool = False  # the agency's own figures, without its subordinates

    @property
    def has_children(self) -> bool:
        return bool(self.unit.children)


def unit_rows(ctx: Context, overdue: tuple[dict[int, int], dict[int, int]]) -> list[UnitRow]:
    """The drill-down table: the agencies one level below the view, with
    their subordinates counted; the agency itself first, on its own."""
    c, (total, own) = ctx.computation, overdue
    if ctx.unit is None:
        roots = c.roots() if ctx.allowed is None else ctx.scope.top_units(c)
        # A province with one root (UBND tỉnh over everything) opens on what is under it.
        parent = roots[0] if len(roots) == 1 and roots[0].children else None
        children = [c.units[i] for i in parent.children] if parent else roots
    else:
        parent, children = ctx.unit, [c.units[i] for i in ctx.unit.children]
    if ctx.allowed is not None:
        children = [u for u in children if u.id in ctx.allowed]
    rows = []
    if parent is not None and children:
        rows.append(
            UnitRow(
                parent, {k: c.own.get(parent.id, {}).get(k) for k in UNIT_COLUMNS}, own.get(parent.id, 0), alone=True
            )
        )
    for unit in sorted(children, key=lambda u: (u.level != Level.PROVINCE, u.name)):
        rows.append(UnitRow(unit, {k: c.get(k, unit.id) for k in UNIT_COLUMNS}, total.get(unit.id, 0)))
    return rows


# How the agencies' table can be sorted: ?sap_xep= value → (column label, key of a row).
def _rate(code):
    def key(row: UnitRow):
        value = row.values.get(code)
        return None if value is None or value.value is None else value.rounded

    return key


UNIT_SORTS = {
    "ten": ("Cơ quan", lambda r: fold(r.unit.name)),
    "tiep-nhan": ("Tiếp nhận", lambda r: r.values.get("received").numerator if r.values.get("received") else None),
    "truc-tuyen": ("Trực tuyến", _rate("online_rate_all")),
    "dung-han": ("Đúng hạn", _rate("on_time_rate")),
    "qua-han": ("Quá hạn", lambda r: r.overdue),
}
DEFAULT_UNIT_SORT = ("qua-han", "giam")  # the most overdue first
UNITS_SHOWN = 10  # the agencies' table shows this many rows until "Xem tất cả"


def read_unit_sort(key: str | None, direction: str | None) -> tuple[str, str]:
    """(column, "tang" | "giam") from ?sap_xep=&chieu=; unknown values fall back to the default."""
    if key not in UNIT_SORTS:
        return DEFAULT_UNIT_SORT
    return key, direction if direction in ("tang", "giam") else ("tang" if key == "ten" else "giam")


def sort_units(rows: list[UnitRow], key: str, direction: str) -> list[UnitRow]:
    """The agency itself (its own figures) first, then the others by the
    column; rows without a value last whichever the direction; equal values
    by name."""
    alone = [r for r in rows if r.alone]
    others = sorted((r for r in rows if not r.alone), key=lambda r: fold(r.unit.name))
    value = UNIT_SORTS[key][1]
    known = [r for r in others if value(r) is not None]
    unknown = [r for r in others if value(r) is None]
    known.sort(key=value, reverse=direction == "giam")  # stable: equal values keep the names' order
    return alone + known + unknown


# ---------------------------------------------------------------- procedures


@dataclass
class ProcedureRow:
    procedure: Procedure
    values: dict[str, IndicatorValue | None]
    overdue: int

    @property
    def received(self) -> int:
        value = self.values.get("received")
        return int(value.value) if value and value.value is not None else 0

    @property
    def late(self) -> int:
        value = self.values.get("late_rate")
        return int(value.numerator) if value and value.numerator is not None else 0


def procedure_rows(ctx: Context, procedure_id: int | None = None) -> list[ProcedureRow]:
    """Procedures of the agency (with subordinates) that received or finished
    dossiers in the period or have overdue ones now; most overdue, then
    most received first."""
    versions = ctx.versions
    data = breakdown_for(ctx.period, "procedure", versions, PROCEDURE_CODES)
    rows = overdue_dossiers(ctx, procedure_id)
    overdue = dict(rows.values_list("procedure_id").annotate(n=Count("id")).order_by())
    ids = set(data) | set(overdue)
    if procedure_id is not None:
        ids &= {procedure_id}
    procedures = Procedure.objects.filter(pk__in=ids).only("code", "name")
    out = [
        ProcedureRow(p, {k: data.get(p.pk, {}).get(k) for k in PROCEDURE_CODES}, overdue.get(p.pk, 0))
        for p in procedures
    ]
    return sorted(out, key=lambda r: (-r.overdue, -r.received, r.procedure.name))


def get_procedure(code: str) -> Procedure:
    procedure = Procedure.objects.filter(code=code).only("code", "name").first()
    if procedure is None:
        raise NotFound(f"Không có thủ tục mã «{code}».", field="procedure")
    return procedure


# ---------------------------------------------------------------- ranking


@dataclass
class RankRow:
    rank: int
    unit: Unit
    value: IndicatorValue
    volume: int | None = None  # dossiers the value is over (None: not known)
    tied: bool = False  # another unit has the same rank

    @property
    def display(self) -> str:
        if self.value.code == INDEX766:
            return f"{number_text(self.value.rounded)} điểm"
        return self.value.display

    @property
    def detail(self) -> str:
        if self.value.code == INDEX766:
            return f"trên {number_text(self.value.denominator)} điểm có số liệu"
        return fraction_text(self.value)


@dataclass
class RankGroup:
    level: str
    label: str
    rows: list[RankRow]
    missing: list[Unit]  # no value in the period (nothing to measure)
    too_few: list[RankRow] = field(default_factory=list)  # fewer dossiers than min_volume(): listed, not ranked
    show_all: bool = False

    @property
    def count(self) -> int:
        return len(self.rows) + len(self.missing) + len(self.too_few)

    @property
    def shortened(self) -> bool:
        return not self.show_all and len(self.rows) > 2 * SHOWN_AT_EACH_END

    @property
    def top(self) -> list[RankRow]:
        return self.rows[:SHOWN_AT_EACH_END] if self.shortened else self.rows

    @property
    def bottom(self) -> list[RankRow]:
        return self.rows[-SHOWN_AT_EACH_END:] if self.shortened else []

    @property
    def hidden(self) -> int:
        return len(self.rows) - 2 * SHOWN_AT_EACH_END if self.shortened else 0


@dataclass
class Position:
    """A leader's agency among every agency of its level in the province
    (its rank only: the others' figures stay out of reach). rank None: too
    few dossiers to be ranked."""

    unit: Unit
    rank: int | None
    of: int
    label: str


@dataclass
class Ranking:
    code: str
    name: str
    higher_is_better: bool
    groups: list[RankGroup]
    position: Position | None = None
    min_volume: int = 0
    volume_noun: str = "hồ sơ"  # what the minimum counts ("hồ sơ đã giải quyết")


def rank_choices(computation: Computation) -> list[tuple[str, str]]:
    names = {i.code: i.name for i in computation.indicators}
    return [
        (code, "Điểm Bộ chỉ số 766" if code == INDEX766 else names[code])
        for code in RANKABLE
        if code == INDEX766 or code in names
    ]


def score766(groups: list, values: dict[str, IndicatorValue]) -> IndicatorValue:
    """The 766 score over given values (an agency's own), with the rules read once for all agencies."""
    return _score_value(assessments.score_index766(groups, values))


def _ranked(
    values: list[tuple[Unit, IndicatorValue | None, int | None]], higher_is_better: bool, minimum: int = 0
) -> tuple[list[RankRow], list[Unit], list[RankRow]]:
    """(ranked rows, units without a value, rows with fewer than `minimum`
    dossiers). Equal values share a rank (1, 2, 2, 4); among equals the
    larger volume is listed first."""
    scored = [(u, v, n) for u, v, n in values if v is not None and v.value is not None]
    missing = sorted((u for u, v, _ in values if v is None or v.value is None), key=lambda u: u.name)
    too_few = sorted(
        (RankRow(0, u, v, n) for u, v, n in scored if n is not None and n < minimum),
        key=lambda r: (-(r.volume or 0), r.unit.name),
    )
    scored = [(u, v, n) for u, v, n in scored if n is None or n >= minimum]
    sign = -1 if higher_is_better else 1
    scored.sort(key=lambda row: (sign * row[1].rounded, -(row[2] or 0), row[0].name))
    rows, previous, rank = [], None, 0
    for position, (unit, value, volume) in enumerate(scored, start=1):
        if value.rounded != previous:
            rank, previous = position, value.rounded
        rows.append(RankRow(rank, unit, value, volume))
    ranks = defaultdict(int)
    for row in rows:
        ranks[row.rank] += 1
    for row in rows:
        row.tied = ranks[row.rank] > 1
    return rows, missing, too_few


def ranking(ctx: Context, code: str | None, show_all: bool = False) -> Ranking:
    """Agencies of the view ranked by one indicator, each level apart, on
    their own figures (a district without its communes: they are ranked
    among communes). A unit with fewer than min_volume() dossiers behind the
    value (a ratio's denominator; received dossiers for counts and the 766
    score) is listed apart, not ranked: one dossier on time is not 100%."""
    c = ctx.computation
    choices = dict(rank_choices(c))
    code = code if code in choices else (RANKABLE[1] if RANKABLE[1] in choices else next(iter(choices), INDEX766))
    indicator = next((i for i in c.indicators if i.code == code), None)
    higher_is_better = indicator.higher_is_better if indicator else True
    groups_766 = assessments.rule_groups() if code == INDEX766 else None
    ratio = indicator is not None and indicator.value_type == Indicator.ValueType.RATIO
    minimum = min_volume()

    def value_of(unit_id: int) -> tuple[IndicatorValue | None, int | None]:
        own = c.own.get(unit_id, {})
        value = score766(groups_766, own) if groups_766 is not None else own.get(code)
        if ratio:
            volume = value.denominator if value is not None and value.denominator is not None else None
        else:
            received = own.get("received")
            volume = received.value if received is not None and received.value is not None else 0
        return value, None if volume is None else int(volume)

    in_view = ctx.units_in_view if ctx.allowed is None else ctx.units_in_view & ctx.allowed
    by_level: dict[str, list] = defaultdict(list)
    for unit_id in in_view:
        unit = c.units[unit_id]
        by_level[unit.level].append((unit, *value_of(unit_id)))
    groups = []
    for level, label in LEVEL_LABELS.items():
        if len(by_level.get(level, ())) >= 2:
            rows, missing, too_few = _ranked(by_level[level], higher_is_better, minimum)
            groups.append(RankGroup(level, label, rows, missing, too_few, show_all))
    position = None
    if not ctx.scope.whole_province and ctx.unit is not None:
        level = ctx.unit.level
        peers = [(u, *value_of(u.id)) for u in c.units.values() if u.level == level]
        rows, _, too_few = _ranked(peers, higher_is_better, minimum)
        mine = next((r for r in rows if r.unit.id == ctx.unit.id), None)
        if mine is not None and len(rows) > 1:
            position = Position(ctx.unit, mine.rank, len(rows), LEVEL_PEERS[level])
        elif any(r.unit.id == ctx.unit.id for r in too_few):
            position = Position(ctx.unit, None, len(rows), LEVEL_PEERS[level])
    noun = "hồ sơ"
    if ratio and indicator.denominator_label:
        noun = indicator.denominator_label
    return Ranking(
        code=code,
        name=choices.get(code, code),
        higher_is_better=higher_is_better,
        groups=groups,
        position=position,
        min_volume=minimum,
        volume_noun=noun,
    )


# ---------------------------------------------------------------- e-government completion


@dataclass
class EGov:
    period: Period  # the month of the period's end
    criteria: list
    levels: list  # assessments.LevelSummary, restricted to the view

    @property
    def agencies(self) -> list:
        return [a for level in self.levels for a in level.agencies]

    @property
    def criteria_rows(self) -> list[tuple]:
        """(criterion, its threshold as written: "≥ 90%", "phải có")."""
        out = []
        for c in self.criteria:
            if c.indicator.value_type == Indicator.ValueType.BOOLEAN:
                text = "phải có"
            else:
                unit = "%" if c.indicator.unit == "%" else f" {c.indicator.unit}"
                text = f"{'≤' if c.comparison == 'lte' else '≥'} {number_text(c.threshold.normalize())}{unit}"
            out.append((c, text))
        return out

    @property
    def tables(self) -> list:
        """[(level, [(agency, [result or None (not applicable) per criterion])])] for the page."""
        return [
            (
                level,
                [
                    (a, [{r.criterion.code: r for r in a.results}.get(c.code) for c in self.criteria])
                    for a in level.agencies
                ],
            )
            for level in self.levels
        ]


def egov(ctx: Context) -> EGov:
    """E-government completion of the agencies in view: assessments.egov_completion,
    the same figure as the reports, `cqs kpi` and /api/indicators (the
    period's last month, assessments.assessed_period)."""
    last = assessments.assessed_period(ctx.period)
    computation = (
        ctx.computation
        if (last.start, last.end) == (ctx.period.start, ctx.period.end)
        else computation_for(last, "egov")
    )
    completion = cached(("egov", last.start, last.end), lambda: assessments.egov_completion(computation))
    computation = completion.computation or computation
    keep = (
        subtree(computation, ctx.unit.id) if ctx.unit and ctx.unit.id in computation.units else set(computation.units)
    )
    if ctx.allowed is not None:
        keep &= ctx.allowed
    levels = [
        assessments.LevelSummary(
            level=level.level, label=level.label, agencies=[a for a in level.agencies if a.unit.id in keep]
        )
        for level in completion.levels
    ]
    return EGov(
        period=completion.period or last,
        criteria=completion.criteria,
        levels=[level for level in levels if level.agencies],
    )


# ---------------------------------------------------------------- reporting compliance (LRIS)


def lris_selectors():
    """LRIS's selectors when that app is installed, else None (the section is
    then left out)."""
    if not apps.is_installed("chinhquyenso.lris"):
        return None
    try:
        from chinhquyenso.lris import selectors
    except ImportError:
        return None
    return selectors if hasattr(selectors, "compliance") else None


def compliance(ctx: Context) -> list | None:
    """Reporting rate and on-time rate of every active form assigned for a
    period inside this one, over the agencies in view that the user may
    see; None without LRIS."""
    lris = lris_selectors()
    if lris is None:
        return None
    out = []
    for form in lris.active_forms():
        for period in lris.assignment_periods(form):
            if ctx.period.start <= period.start and period.end <= ctx.period.end:
                found = lris.compliance(form, period.start, period.end, user=ctx.scope.user, agencies=ctx.versions)
                if found.expected:
                    out.append(found)
    return sorted(out, key=lambda c: (c.form_name, c.period_start))


# ---------------------------------------------------------------- distributions


def open_by_status(ctx: Context) -> list[tuple[str, int]]:
    """Open dossiers of the view now, by status (live), in the statuses' order."""
    if ctx.versions is None and not ctx.scope.whole_province:
        return []
    rows = Dossier.objects.extra(where=[OPEN_INDEX_CONDITION])
    if ctx.versions is not None:
        rows = rows.filter(receiving_agency_id__in=ctx.versions)
    counts = dict(rows.values_list("status").annotate(n=Count("id")).order_by())
    return [(Status(s).label, counts.get(s, 0)) for s in OPEN_STATUSES]


ON_TIME_BINS = [
    (Decimal(0), "dưới 50%"),
    (Decimal(50), "50–70%"),
    (Decimal(70), "70–85%"),
    (Decimal(85), "85–95%"),
    (Decimal(95), "95–100%"),
]


def on_time_histogram(ctx: Context) -> tuple[list[tuple[str, int]], int]:
    """([(bin, agencies)], agencies left out for too few dossiers): the
    agencies of the view (their own figures) by on-time rate."""
    c = ctx.computation
    ids = ctx.units_in_view if ctx.allowed is None else ctx.units_in_view & ctx.allowed
    counts = [0] * len(ON_TIME_BINS)
    left_out, minimum = 0, min_volume()
    for unit_id in ids:
        value = c.own.get(unit_id, {}).get("on_time_rate")
        if value is None or value.value is None:
            continue
        if (value.denominator or 0) < minimum:
            left_out += 1
            continue
        index = max(i for i, (bound, _) in enumerate(ON_TIME_BINS) if value.rounded >= bound)
        counts[index] += 1
    return [(label, n) for (_, label), n in zip(ON_TIME_BINS, counts)], left_out

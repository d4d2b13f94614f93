"""Densities of crop pests per area and period: what the surveillance pages, the map, the weekly
bulletin and the densities API read. Reads only.

Definitions (docs/pests.md says the same for the users):

- **trap density** of a trap class (con/bẫy/đêm) = the sum of the accepted counts of that class
  (TrapCount.accepted; flagged and rejected messages never count) ÷ the trap-nights of the area
  and period, where a trap-night is a (station, night) with at least one accepted count of any
  class — a night a trap reported, whatever it caught. Several messages of one night (hourly
  reports) add up within that one trap-night. A night is TrapCount.night (the local date on which
  the night began).
- **survey density** of an organism (con/m²) = the mean of `density_per_m2` over the surveys of the
  area and period that recorded it; **infestation** (%) = the mean of `infestation_pct` likewise.
  A survey that left a value empty is not counted in that mean (0 means "looked, found none").
- **trend**: the same figure over the previous period of equal length (the days just before) —
  up, down or the same, with the change in per cent when the earlier value is not zero.
- **same period of previous seasons**: the season (vụ) the period starts in, then the seasons of
  the same kind of earlier years, each at the same day offset from its own start and the same
  length (the 10th–16th day of Hè Thu 2026 is compared with the 10th–16th day of Hè Thu 2025…).
- **natural-enemy ratio**: over the surveys of the area and period that recorded a density, the
  natural enemies' con/m² (organisms marked is_natural_enemy, summed) ÷ the pests' con/m² (summed);
  "1 : 20" reads one natural enemy for twenty pests.

Areas follow the org history ("Agencies and reorganizations" in docs/architecture.md):

- a **commune** covers every version of that commune and every commune it succeeded: a station
  placed in an old commune counts for the commune that absorbed it (its earlier nights too, so a
  merged commune compares with its predecessors' earlier seasons); a survey likewise by its commune;
- a **district** covers, night by night, the stations whose commune *at that night* was a commune
  version whose parent is the district (any version of it, or a district it succeeded): a commune
  that moved to another district or merged into a commune outside it stops counting from that day,
  so a past period's figures stay the same after a reorganization;
- the **province** (a province committee) covers every station and survey.

Queries are SQL aggregates over TrapCount's (night, station, trap_class) index: one GROUP BY per
period for the trap classes, one for the trap-nights, one for the surveys."""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum

from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.org.selectors import successor_links, versions, with_predecessors
from chinhquyenso.pests.models import (
    Alert,
    Measure,
    Organism,
    Season,
    Station,
    Survey,
    SurveyObservation,
    TrapClass,
    TrapCount,
)

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
TRAP_KINDS = (Station.Kind.SMART_TRAP, Station.Kind.LIGHT_TRAP)
PREVIOUS_SEASONS = 3  # how many earlier seasons of the same kind a density is compared with

AREA_LEVELS = {
    AgencyKind.COMMUNE_COMMITTEE: "commune",
    AgencyKind.DISTRICT_COMMITTEE: "district",
    AgencyKind.PROVINCE_COMMITTEE: "province",
}
LEVEL_NAMES = {"commune": "xã, phường", "district": "huyện", "province": "tỉnh"}
TREND_LABELS = {"up": "Tăng", "down": "Giảm", "same": "Không đổi", "no_previous": "Kỳ trước chưa có số liệu"}
AREA_MESSAGE = "Địa bàn phải là một xã, phường, một huyện hoặc tỉnh (UBND)."


def per(total, count) -> Decimal | None:
    """total ÷ count to two decimals (half up); None when nothing was counted."""
    if not count:
        return None
    return (Decimal(total) / Decimal(count)).quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- who sees which areas


def visible_communes(user) -> frozenset[int] | None:
    """The commune versions `user` sees the surveillance of: None = every one (the province
    administrator and auditors; holders of `pests.survey_pests` in a district or province agency —
    the plant-protection stations and sub-department), else the communes of a commune officer's
    memberships with those they succeeded (pests.access.scope_communes), with or without the
    grant. An empty set: nothing (an officer of another agency without the grant)."""
    from chinhquyenso.accounts.selectors import sees_whole_province
    from chinhquyenso.pests import access

    if not getattr(user, "is_authenticated", False) or getattr(user, "is_citizen", True):
        return frozenset()
    if sees_whole_province(user):
        return None
    scope = access.scope_communes(user)
    if scope is not None:
        return frozenset(scope)
    return None if access.can_survey(user) else frozenset()


def sees_surveillance(user) -> bool:
    """Whether the surveillance pages are for `user` at all."""
    communes = visible_communes(user)
    return communes is None or bool(communes)


def may_see_area(user, area: Agency) -> bool:
    """user=None: the public's read (the densities API), any area."""
    if user is None:
        return True
    communes = visible_communes(user)
    if communes is None:
        return True
    return area.kind == AgencyKind.COMMUNE_COMMITTEE and area.pk in communes


def require_area(user, area: Agency) -> None:
    if not may_see_area(user, area):
        # Outside the scope reads as unknown (as everywhere), never "forbidden".
        raise NotFound("Không tìm thấy địa bàn này trong phạm vi bạn được xem.", "area")


# ---------------------------------------------------------------- areas and the org history


class CommuneHistory:
    """Agencies' validity and parents and the open-work successions, read once (two queries), so
    following hundreds of stations through reorganizations costs nothing more."""

    def __init__(self):
        self.agencies: dict[int, tuple[dt.date, dt.date | None, int | None, str]] = {
            pk: (start, end, parent, kind)
            for pk, start, end, parent, kind in Agency.objects.values_list(
                "id", "valid_from", "valid_to", "parent_id", "kind"
            )
        }
        self.following: dict[int, int | None] = successor_links()

    def valid_on(self, pk: int, day: dt.date) -> bool:
        start, end, _, _ = self.agencies[pk]
        return start <= day and (end is None or day < end)

    def parent(self, pk: int) -> int | None:
        return self.agencies[pk][2] if pk in self.agencies else None

    def successor_on(self, pk: int | None, day: dt.date) -> int | None:
        """The version valid on `day` that took over `pk`'s work (itself when valid then; itself
        too for a day before it began — a record dated before its commune's version)."""
        seen = set()
        while pk is not None and pk in self.agencies and pk not in seen and not self.valid_on(pk, day):
            seen.add(pk)
            if self.agencies[pk][0] > day:
                return pk
            pk = self.following.get(pk)
        return pk

    def segments(self, pk: int) -> list[tuple[int, dt.date | None, dt.date | None]]:
        """(commune version, first day, first day after) of a place over time, starting with the
        version it was recorded in (open start) and following its successors."""
        out: list[tuple[int, dt.date | None, dt.date | None]] = []
        start: dt.date | None = None
        seen: set[int] = set()
        while pk is not None and pk in self.agencies and pk not in seen:
            seen.add(pk)
            end = self.agencies[pk][1]
            out.append((pk, start, end))
            if end is None:
                break
            following = self.successor_on(pk, end)
            if following == pk:
                break
            pk, start = following, end
        return out


@dataclass(frozen=True)
class Area:
    agency: Agency
    level: str  # commune | district | province
    communes: frozenset[int] | None  # the commune versions it covers; None: every one
    parents: frozenset[int] = frozenset()  # a district's versions and predecessors


def area_of(agency: Agency) -> Area:
    level = AREA_LEVELS.get(agency.kind)
    if level is None:
        raise DomainError(AREA_MESSAGE, "area")
    if level == "province":
        return Area(agency, level, None)
    ids = with_predecessors({version.pk for version in versions(agency)})
    if level == "commune":
        return Area(agency, level, frozenset(ids))
    communes = Agency.objects.filter(kind=AgencyKind.COMMUNE_COMMITTEE, parent_id__in=ids).values_list("id", flat=True)
    return Area(agency, level, frozenset(communes), frozenset(ids))


def resolve_area(code: str, *, at: dt.date | None = None, field: str = "area") -> Agency:
    """An area named by its code (internal key, electronic code or exact name) as it stood on `at`."""
    from chinhquyenso.org.selectors import resolve_agency

    agency = resolve_agency(code, at, field=field, noun="địa bàn")
    if agency.kind not in AREA_LEVELS:
        raise DomainError(AREA_MESSAGE, field)
    return agency


class Coverage:
    """Which trap counts and surveys an area covers (see the module's docstring)."""

    def __init__(self, area: Area, history: CommuneHistory | None = None):
        self.area = area
        self.history = history
        self.groups: dict[tuple[dt.date | None, dt.date | None], set[int]] | None = None
        if area.communes is None:
            return
        self.history = history = history or CommuneHistory()
        groups: dict[tuple[dt.date | None, dt.date | None], set[int]] = defaultdict(set)
        for station, commune in Station.objects.filter(kind__in=TRAP_KINDS).values_list("id", "commune_id"):
            for version, start, end in history.segments(commune):
                if version in area.communes:
                    groups[(start, end)].add(station)
        self.groups = dict(groups)

    def trap_q(self, start: dt.date, end: dt.date) -> Q | None:
        """The accepted counts of the area's traps on the nights start..end; None: nothing."""
        base = Q(night__gte=start, night__lte=end, accepted=True)
        if self.groups is None:
            return base
        parts = []
        for (first, after), stations in self.groups.items():
            if (first is not None and first > end) or (after is not None and after <= start):
                continue
            part = Q(station_id__in=sorted(stations))
            if first is not None and first > start:
                part &= Q(night__gte=first)
            if after is not None and after <= end:
                part &= Q(night__lt=after)
            parts.append(part)
        if not parts:
            return None
        return base & functools.reduce(operator.or_, parts)

    def survey_q(self, start: dt.date, end: dt.date, prefix: str = "") -> Q:
        q = Q(**{f"{prefix}surveyed_on__gte": start, f"{prefix}surveyed_on__lte": end})
        if self.area.communes is not None:
            q &= Q(**{f"{prefix}commune_id__in": sorted(self.area.communes)})
        return q


# ---------------------------------------------------------------- periods


def check_period(start: dt.date, end: dt.date, *, field: str = "to") -> None:
    if end < start:
        raise DomainError("Ngày kết thúc phải từ ngày bắt đầu trở về sau.", field)


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of equal length just before."""
    length = (end - start).days + 1
    return start - dt.timedelta(days=length), start - dt.timedelta(days=1)


def season_of(day: dt.date) -> Season | None:
    """The season `day` falls in (the latest-starting one if seasons overlap)."""
    return Season.objects.filter(starts_on__lte=day, ends_on__gte=day).order_by("-starts_on").first()


def same_period_of_previous_seasons(
    start: dt.date, end: dt.date, count: int = PREVIOUS_SEASONS
) -> list[tuple[Season, dt.date, dt.date]]:
    """(season, start, end) in the `count` latest earlier seasons of the kind `start` falls in, at
    the same day offset from each season's start; [] when `start` is in no season."""
    season = season_of(start)
    if season is None:
        return []
    offset = (start - season.starts_on).days
    length = (end - start).days
    earlier = Season.objects.filter(kind=season.kind, starts_on__lt=season.starts_on).order_by("-starts_on")[:count]
    out = []
    for other in earlier:
        first = other.starts_on + dt.timedelta(days=offset)
        out.append((other, first, first + dt.timedelta(days=length)))
    return out


# ---------------------------------------------------------------- figures of one period


@dataclass
class Figures:
    trap_nights: int = 0
    trap_totals: dict[int, int] = field(default_factory=dict)  # trap class id → sum of counts
    trap_stations: dict[int, set[int]] = field(default_factory=dict)  # trap class id → stations (detail)
    # organism id → [sum of density, surveys with density, sum of infestation, surveys with infestation]
    survey: dict[int, list] = field(default_factory=dict)
    survey_ids: dict[tuple[int, str], set[int]] = field(default_factory=dict)  # (organism, measure) → surveys

    def trap_value(self, trap_class: int) -> Decimal | None:
        if not self.trap_nights:
            return None
        return per(self.trap_totals.get(trap_class, 0), self.trap_nights)

    def survey_value(self, organism: int, measure: str) -> Decimal | None:
        row = self.survey.get(organism)
        if row is None:
            return None
        total, count = (row[0], row[1]) if measure == Measure.PER_M2 else (row[2], row[3])
        return per(total or 0, count)


def figures(coverage: Coverage, start: dt.date, end: dt.date, *, detail: bool = False) -> Figures:
    out = Figures()
    q = coverage.trap_q(start, end)
    if q is not None:
        counts = TrapCount.objects.filter(q)
        out.trap_nights = counts.values("station_id", "night").distinct().count()
        if detail:
            for row in counts.values("trap_class_id", "station_id").annotate(total=Sum("count")).order_by():
                out.trap_totals[row["trap_class_id"]] = out.trap_totals.get(row["trap_class_id"], 0) + row["total"]
                out.trap_stations.setdefault(row["trap_class_id"], set()).add(row["station_id"])
        else:
            for row in counts.values("trap_class_id").annotate(total=Sum("count")).order_by():
                out.trap_totals[row["trap_class_id"]] = row["total"]
    observations = SurveyObservation.objects.filter(coverage.survey_q(start, end, prefix="survey__"))
    rows = observations.values("organism_id").annotate(
        density=Sum("density_per_m2"),
        density_n=Count("density_per_m2"),
        infestation=Sum("infestation_pct"),
        infestation_n=Count("infestation_pct"),
    )
    for row in rows.order_by():
        out.survey[row["organism_id"]] = [row["density"], row["density_n"], row["infestation"], row["infestation_n"]]
    if detail and out.survey:
        for organism, survey, density, infestation in observations.values_list(
            "organism_id", "survey_id", "density_per_m2", "infestation_pct"
        ):
            if density is not None:
                out.survey_ids.setdefault((organism, Measure.PER_M2), set()).add(survey)
            if infestation is not None:
                out.survey_ids.setdefault((organism, Measure.INFESTATION_PCT), set()).add(survey)
    return out


# ---------------------------------------------------------------- densities


@dataclass
class Comparison:
    label: str  # "Kỳ trước", "Vụ Hè Thu 2025"
    start: dt.date
    end: dt.date
    value: Decimal | None
    season: Season | None = None


@dataclass
class Density:
    source: str  # "trap" | "survey"
    measure: str  # Measure: per_trap_night, per_m2, infestation_pct
    organism: Organism | None
    trap_class: TrapClass | None
    value: Decimal | None
    total: int  # trap: the sum of counts; survey: the surveys that recorded it
    trap_nights: int  # trap: the area's trap-nights (the denominator)
    stations: list[int]  # station ids with counts of the class
    surveys: list[int]  # survey ids that recorded the value
    previous: Comparison
    seasons: list[Comparison]

    @property
    def unit(self) -> str:
        return Measure(self.measure).label

    @property
    def name(self) -> str:
        if self.organism is not None:
            return self.organism.name
        return self.trap_class.name if self.trap_class is not None else ""

    @property
    def is_natural_enemy(self) -> bool:
        return bool(self.organism is not None and self.organism.is_natural_enemy)

    @property
    def trend(self) -> str | None:
        return trend(self.value, self.previous.value)[0]

    @property
    def trend_label(self) -> str:
        return TREND_LABELS.get(self.trend or "", "")

    @property
    def change_percent(self) -> Decimal | None:
        return trend(self.value, self.previous.value)[1]


def trend(value: Decimal | None, previous: Decimal | None) -> tuple[str | None, Decimal | None]:
    """(direction, change in per cent): None without a value now; "no_previous" without one then;
    the change only when the earlier value is not zero."""
    if value is None:
        return None, None
    if previous is None:
        return "no_previous", None
    direction = "up" if value > previous else "down" if value < previous else "same"
    if not previous:
        return direction, None
    return direction, ((value - previous) * 100 / previous).quantize(TENTH, rounding=ROUND_HALF_UP)


def densities(
    *, area: Agency, start: dt.date, end: dt.date, user=None, organism: Organism | None = None
) -> list[Density]:
    """Every trap class and every surveyed organism of the area in start..end (both inclusive)
    with its density, the data behind it, its trend against the previous equal period and the
    same period of the previous seasons. `user`: the surveillance pages' reader (scoped;
    None: the public read of the API). `organism`: only that organism (and its trap classes)."""
    check_period(start, end)
    require_area(user, area)
    coverage = Coverage(area_of(area))
    now = figures(coverage, start, end, detail=True)
    earlier_start, earlier_end = previous_period(start, end)
    earlier = figures(coverage, earlier_start, earlier_end)
    seasons = [
        (season, first, last, figures(coverage, first, last))
        for season, first, last in same_period_of_previous_seasons(start, end)
    ]

    classes = {c.pk: c for c in TrapClass.objects.select_related("organism").filter(pk__in=set(now.trap_totals))}
    organisms = Organism.objects.in_bulk(set(now.survey) | {c.organism_id for c in classes.values() if c.organism_id})
    out: list[Density] = []

    def compare(value_of) -> tuple[Comparison, list[Comparison]]:
        previous = Comparison("Kỳ trước", earlier_start, earlier_end, value_of(earlier))
        return previous, [
            Comparison(str(season), first, last, value_of(data), season) for season, first, last, data in seasons
        ]

    for pk, trap_class in classes.items():
        if organism is not None and trap_class.organism_id != organism.pk:
            continue
        previous, past = compare(lambda data, pk=pk: data.trap_value(pk))
        out.append(
            Density(
                source="trap",
                measure=Measure.PER_TRAP_NIGHT,
                organism=organisms.get(trap_class.organism_id),
                trap_class=trap_class,
                value=now.trap_value(pk),
                total=now.trap_totals.get(pk, 0),
                trap_nights=now.trap_nights,
                stations=sorted(now.trap_stations.get(pk, ())),
                surveys=[],
                previous=previous,
                seasons=past,
            )
        )
    for pk in now.survey:
        if organism is not None and pk != organism.pk:
            continue
        for measure in (Measure.PER_M2, Measure.INFESTATION_PCT):
            value = now.survey_value(pk, measure)
            if value is None:
                continue
            previous, past = compare(lambda data, pk=pk, measure=measure: data.survey_value(pk, measure))
            ids = sorted(now.survey_ids.get((pk, measure), ()))
            out.append(
                Density(
                    source="survey",
                    measure=measure,
                    organism=organisms.get(pk),
                    trap_class=None,
                    value=value,
                    total=len(ids),
                    trap_nights=0,
                    stations=[],
                    surveys=ids,
                    previous=previous,
                    seasons=past,
                )
            )
    out.sort(key=lambda d: (d.source != "trap", d.is_natural_enemy, -(d.value or 0), d.name))
    return out


# ---------------------------------------------------------------- the data behind the trap densities


@dataclass
class StationFigures:
    station: Station
    commune: Agency  # the commune version the station was in at the period's end
    nights: int  # trap-nights in the period
    counts: dict[str, int]  # trap class code → sum of accepted counts


def trap_stations(*, area: Agency, start: dt.date, end: dt.date, user=None) -> list[StationFigures]:
    """The area's traps that reported in start..end, with their trap-nights and counts per class."""
    check_period(start, end)
    require_area(user, area)
    coverage = Coverage(area_of(area))
    q = coverage.trap_q(start, end)
    if q is None:
        return []
    counts = TrapCount.objects.filter(q)
    nights = dict(counts.values("station_id").annotate(n=Count("night", distinct=True)).values_list("station_id", "n"))
    per_class: dict[int, dict[int, int]] = defaultdict(dict)
    for station, trap_class, total in (
        counts.values("station_id", "trap_class_id")
        .annotate(total=Sum("count"))
        .values_list("station_id", "trap_class_id", "total")
    ):
        per_class[station][trap_class] = total
    codes = dict(TrapClass.objects.values_list("id", "code"))
    history = coverage.history or CommuneHistory()
    stations = Station.objects.filter(pk__in=nights).order_by("code")
    communes = Agency.objects.in_bulk({history.successor_on(s.commune_id, end) or s.commune_id for s in stations})
    return [
        StationFigures(
            station=s,
            commune=communes[history.successor_on(s.commune_id, end) or s.commune_id],
            nights=nights[s.pk],
            counts={codes[c]: total for c, total in sorted(per_class[s.pk].items(), key=lambda i: codes[i[0]])},
        )
        for s in stations
    ]


def surveys_in(*, area: Agency, start: dt.date, end: dt.date, user=None):
    """The area's surveys in start..end, newest first, with their observations (a queryset)."""
    check_period(start, end)
    require_area(user, area)
    coverage = Coverage(area_of(area))
    return (
        Survey.objects.filter(coverage.survey_q(start, end))
        .select_related("commune", "crop", "station")
        .prefetch_related("observations__organism")
        .order_by("-surveyed_on", "-id")
    )


# ---------------------------------------------------------------- natural enemies


@dataclass
class EnemyRatio:
    surveys: int  # surveys that recorded a density (con/m²)
    enemies_per_m2: Decimal | None  # mean over those surveys
    pests_per_m2: Decimal | None
    ratio: Decimal | None  # enemies ÷ pests

    @property
    def text(self) -> str:
        """ "1 : 20" — one natural enemy for twenty pests; "" when it cannot be said."""
        if not self.enemies_per_m2 or not self.pests_per_m2:
            return ""
        from chinhquyenso.core.text import format_number

        pests = (self.pests_per_m2 / self.enemies_per_m2).quantize(TENTH, rounding=ROUND_HALF_UP)
        return f"1 : {format_number(float(pests), 0 if pests == pests.to_integral() else 1)}"


def natural_enemy_ratio(
    *, area: Agency, start: dt.date, end: dt.date, user=None, pest: Organism | None = None
) -> EnemyRatio:
    """Natural enemies to pests from the surveys (con/m²); `pest`: against that one pest only."""
    check_period(start, end)
    require_area(user, area)
    coverage = Coverage(area_of(area))
    observations = SurveyObservation.objects.filter(
        coverage.survey_q(start, end, prefix="survey__"), density_per_m2__isnull=False
    )
    pests = Q(organism__is_natural_enemy=False)
    if pest is not None:
        pests &= Q(organism=pest)
    observations = observations.filter(Q(organism__is_natural_enemy=True) | pests)
    totals = observations.aggregate(
        enemies=Sum("density_per_m2", filter=Q(organism__is_natural_enemy=True)),
        pests=Sum("density_per_m2", filter=pests),
        surveys=Count("survey", distinct=True),
    )
    surveys = totals["surveys"] or 0
    enemies = per(totals["enemies"] or 0, surveys)
    pest_mean = per(totals["pests"] or 0, surveys)
    ratio = None
    if totals["pests"]:
        ratio = (Decimal(totals["enemies"] or 0) / Decimal(totals["pests"])).quantize(
            Decimal("0.001"), rounding=ROUND_HALF_UP
        )
    return EnemyRatio(surveys=surveys, enemies_per_m2=enemies, pests_per_m2=pest_mean, ratio=ratio)


# ---------------------------------------------------------------- per commune: the map, the bulletin


LEVEL_ORDER = {"none": 0, "below": 1, "warn": 2, "action": 3}
MAP_KINDS = {"none": "other", "below": "low", "warn": "medium", "action": "high"}
LEVEL_LABELS = {
    "none": "Chưa có số liệu",
    "below": "Dưới ngưỡng cảnh báo",
    "warn": "Đến ngưỡng cảnh báo",
    "action": "Đến ngưỡng phòng trừ",
}


@dataclass
class CommuneDensity:
    commune: Agency  # the version valid at the period's end (a merged commune's successor)
    latitude: Decimal | None  # the mean of its stations' points (else of its surveys')
    longitude: Decimal | None
    stations: int = 0  # traps that reported
    trap_nights: int = 0
    total: int = 0  # counts of the organism's classes (with an organism)
    trap_value: Decimal | None = None  # con/bẫy/đêm of the organism
    surveys: int = 0
    density: Decimal | None = None  # con/m² of the organism
    infestation: Decimal | None = None  # % of the organism
    alerts: list[Alert] = field(default_factory=list)
    level: str = "none"  # none | below | warn | action: the highest alert level of the period

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]

    @property
    def kind(self) -> str:
        return MAP_KINDS[self.level]


def _mean(values) -> Decimal | None:
    values = [Decimal(v) for v in values if v is not None]
    if not values:
        return None
    return (sum(values) / len(values)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def by_commune(
    *, area: Agency, start: dt.date, end: dt.date, user=None, organism: Organism | None = None
) -> list[CommuneDensity]:
    """One row per commune of the area as it stood at the period's end: its traps' trap-nights,
    with an organism its trap density and survey means, and its level — the highest level of the
    alerts of the period there (of that organism), "below" when data came in without an alert,
    "none" without data. Data of a commune since merged away is shown on its successor."""
    check_period(start, end)
    require_area(user, area)
    spec = area_of(area)
    history = CommuneHistory()
    coverage = Coverage(spec, history)

    def at_end(pk: int) -> int:
        return history.successor_on(pk, end) or pk

    communes = Agency.objects.filter(kind=AgencyKind.COMMUNE_COMMITTEE)
    if spec.level == "commune":
        listed = {at_end(area.pk)}
    else:
        if spec.level == "district":
            communes = communes.filter(parent_id__in=spec.parents)
        listed = set(communes.valid_on(end).values_list("id", flat=True))
    rows: dict[int, CommuneDensity] = {}

    def row(pk: int) -> CommuneDensity:
        if pk not in rows:
            rows[pk] = CommuneDensity(commune=None, latitude=None, longitude=None)
        return rows[pk]

    for pk in listed:
        row(pk)
    classes = list(organism.trap_classes.values_list("id", flat=True)) if organism is not None else []
    q = coverage.trap_q(start, end)
    if q is not None:
        aggregates = {"nights": Count("night", distinct=True)}
        if classes:
            aggregates["total"] = Sum("count", filter=Q(trap_class_id__in=classes))
        stations = dict(Station.objects.values_list("id", "commune_id"))
        for item in TrapCount.objects.filter(q).values("station_id").annotate(**aggregates).order_by():
            target = row(at_end(stations[item["station_id"]]))
            target.stations += 1
            target.trap_nights += item["nights"]
            target.total += item.get("total") or 0
    observations = SurveyObservation.objects.filter(coverage.survey_q(start, end, prefix="survey__"))
    surveys = Survey.objects.filter(coverage.survey_q(start, end))
    for commune, count in surveys.values("commune_id").annotate(n=Count("id")).values_list("commune_id", "n"):
        row(at_end(commune)).surveys += count
    if organism is not None:
        sums: dict[int, list] = defaultdict(lambda: [0, 0, 0, 0])
        for commune, density, infestation in observations.filter(organism=organism).values_list(
            "survey__commune_id", "density_per_m2", "infestation_pct"
        ):
            acc = sums[at_end(commune)]
            if density is not None:
                acc[0] += density
                acc[1] += 1
            if infestation is not None:
                acc[2] += infestation
                acc[3] += 1
        for pk, (density, n_density, infestation, n_infestation) in sums.items():
            row(pk).density = per(density, n_density)
            row(pk).infestation = per(infestation, n_infestation)
    for item in rows.values():
        if classes and item.trap_nights:
            item.trap_value = per(item.total, item.trap_nights)

    alerts = Alert.objects.filter(period_start__lte=end, period_end__gte=start).select_related("organism", "threshold")
    if organism is not None:
        alerts = alerts.filter(organism=organism)
    for alert in alerts.order_by("-created_at"):
        pk = at_end(alert.commune_id)
        if pk in rows:
            rows[pk].alerts.append(alert)

    points: dict[int, list] = defaultdict(list)
    for commune, latitude, longitude in Station.objects.filter(
        latitude__isnull=False, longitude__isnull=False
    ).values_list("commune_id", "latitude", "longitude"):
        points[at_end(commune)].append((latitude, longitude))
    unplaced = [pk for pk in rows if pk not in points]
    if unplaced:
        for commune, latitude, longitude in surveys.filter(latitude__isnull=False, longitude__isnull=False).values_list(
            "commune_id", "latitude", "longitude"
        ):
            if at_end(commune) in unplaced:
                points[at_end(commune)].append((latitude, longitude))
    agencies = Agency.objects.in_bulk(list(rows))
    for pk, item in rows.items():
        item.commune = agencies[pk]
        if points.get(pk):
            item.latitude = _mean(p[0] for p in points[pk])
            item.longitude = _mean(p[1] for p in points[pk])
        level = "below" if (item.trap_nights or item.surveys) else "none"
        for alert in item.alerts:
            if LEVEL_ORDER[alert.level] > LEVEL_ORDER[level]:
                level = alert.level
        item.level = level
    return sorted(rows.values(), key=lambda r: (-LEVEL_ORDER[r.level], r.commune.name))


# ---------------------------------------------------------------- weeks: the trend chart


@dataclass
class Week:
    start: dt.date
    end: dt.date
    trap_value: Decimal | None
    density: Decimal | None
    infestation: Decimal | None
    season_trap_value: Decimal | None = None  # the same week of the previous season of the kind
    season_density: Decimal | None = None


def _weekly(coverage: Coverage, organism: Organism, first: dt.date, weeks: int) -> list[tuple]:
    """(trap value, density, infestation) of `weeks` weeks from `first`: two queries."""
    last = first + dt.timedelta(days=7 * weeks - 1)
    classes = list(organism.trap_classes.values_list("id", flat=True))
    traps = [[0, 0] for _ in range(weeks)]  # [sum of counts, trap-nights]
    q = coverage.trap_q(first, last)
    if q is not None:
        rows = (
            TrapCount.objects.filter(q)
            .values("night")
            .annotate(
                total=Sum("count", filter=Q(trap_class_id__in=classes or [0])), stations=Count("station", distinct=True)
            )
            .order_by()
        )
        for item in rows:
            index = (item["night"] - first).days // 7
            traps[index][0] += item["total"] or 0
            traps[index][1] += item["stations"]
    surveys = [[0, 0, 0, 0] for _ in range(weeks)]
    for day, density, infestation in SurveyObservation.objects.filter(
        coverage.survey_q(first, last, prefix="survey__"), organism=organism
    ).values_list("survey__surveyed_on", "density_per_m2", "infestation_pct"):
        acc = surveys[(day - first).days // 7]
        if density is not None:
            acc[0] += density
            acc[1] += 1
        if infestation is not None:
            acc[2] += infestation
            acc[3] += 1
    return [(per(t[0], t[1]) if classes else None, per(s[0], s[1]), per(s[2], s[3])) for t, s in zip(traps, surveys)]


def weekly(*, area: Agency, organism: Organism, end: dt.date, weeks: int = 12, user=None) -> list[Week]:
    """The organism's weekly figures in the area: `weeks` weeks of seven days ending on `end`, with
    the same weeks of the previous season of the same kind (by day offset from its start)."""
    require_area(user, area)
    coverage = Coverage(area_of(area))
    first = end - dt.timedelta(days=7 * weeks - 1)
    now = _weekly(coverage, organism, first, weeks)
    before = [(None, None, None)] * weeks
    earlier = same_period_of_previous_seasons(first, end, count=1)
    if earlier:
        before = _weekly(coverage, organism, earlier[0][1], weeks)
    out = []
    for index, ((trap, density, infestation), (past_trap, past_density, _)) in enumerate(zip(now, before)):
        start = first + dt.timedelta(days=7 * index)
        out.append(Week(start, start + dt.timedelta(days=6), trap, density, infestation, past_trap, past_density))
    return out


# ---------------------------------------------------------------- surveys and places an officer works on


def visible_surveys(user):
    """The surveys `user` sees: every one for the plant-protection officers, their communes' for
    commune officers."""
    communes = visible_communes(user)
    surveys = Survey.objects.select_related("commune", "crop", "station", "officer")
    return surveys if communes is None else surveys.filter(commune_id__in=communes)


def get_survey(user, pk: int) -> Survey:
    survey = visible_surveys(user).filter(pk=pk).prefetch_related("observations__organism").first()
    if survey is None:
        raise NotFound("Không tìm thấy phiếu điều tra này (hoặc nó không thuộc phạm vi bạn được xem).")
    return survey


def communes_for(user, day: dt.date | None = None) -> list[tuple[str, list[Agency]]]:
    """The communes valid on `day` that `user` sees, grouped under their parent's name (for a select)."""
    from django.utils import timezone

    day = day or timezone.localdate()
    communes = visible_communes(user)
    rows = Agency.objects.filter(kind=AgencyKind.COMMUNE_COMMITTEE).valid_on(day).select_related("parent")
    if communes is not None:
        rows = rows.filter(pk__in=communes)
    groups: dict[str, list[Agency]] = {}
    for commune in rows.order_by("parent__name", "name"):
        groups.setdefault(commune.parent.name if commune.parent else "", []).append(commune)
    return list(groups.items())


def areas_for(user, day: dt.date | None = None) -> list[Agency]:
    """The areas `user` may choose on the surveillance pages: the province and its districts for
    the plant-protection officers, then the communes they see."""
    from django.utils import timezone

    day = day or timezone.localdate()
    out: list[Agency] = []
    if visible_communes(user) is None:
        out += list(Agency.objects.filter(kind=AgencyKind.PROVINCE_COMMITTEE).valid_on(day).order_by("name")) + list(
            Agency.objects.filter(kind=AgencyKind.DISTRICT_COMMITTEE).valid_on(day).order_by("name")
        )
    for _, communes in communes_for(user, day):
        out += communes
    return out


def survey_points(user):
    """The active fixed survey points in the communes `user` sees."""
    communes = visible_communes(user)
    points = Station.objects.filter(kind=Station.Kind.SURVEY_POINT, active=True).select_related("commune", "crop")
    if communes is not None:
        points = points.filter(commune_id__in=communes)
    return points.order_by("name")

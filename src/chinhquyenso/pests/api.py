"""Crop-pest densities as JSON: `GET /api/pests/densities?area=<agency code>&from=YYYY-MM-DD&to=YYYY-MM-DD`.

Decision: open to anyone, without signing in, like open data. Trap counts and survey densities are
observations of insects and fields, not personal data: the answer names stations (a code, a name,
a point, the commune) and surveys (date, commune, crop, stage, figures) — never the officer who
surveyed, nor the free-text note, nor a device's credentials. What keeps the read cheap is its
bounds: one area named by its code (a commune, a district or the province), a period of at most
MAX_DAYS days, and at most MAX_SURVEYS surveys listed (the densities count them all). An area
code that names nothing is a 400 naming `area`, like any other bad parameter."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema
from pydantic import Field

from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.core.params import EARLIEST_DATE, LATEST_DATE, check_date
from chinhquyenso.pests.selectors import densities as selectors

router = Router()

MAX_DAYS = 400
MAX_SURVEYS = 500


DATE_RANGE = f"từ {EARLIEST_DATE} đến {LATEST_DATE}"


class DensityQuery(Schema):
    area: str = Field(
        ...,
        min_length=1,
        max_length=60,
        description="mã địa bàn: mã nội bộ hoặc mã định danh điện tử của UBND xã, phường, huyện hoặc tỉnh",
    )
    # Plain dates here, checked by check_bounds: a date outside 1900–2199 or a period too long breaks a rule
    # the schema cannot state for a query string, answered 400 naming the field, like the other GET APIs.
    start: dt.date = Field(..., alias="from", description=f"ngày đầu kỳ (đêm bẫy), YYYY-MM-DD, {DATE_RANGE}")
    end: dt.date = Field(
        ..., alias="to", description=f"ngày cuối kỳ, YYYY-MM-DD, {DATE_RANGE}; kỳ dài tối đa {MAX_DAYS} ngày"
    )


class AreaOut(Schema):
    code: str
    name: str
    level: str = Field(description="commune, district hoặc province")
    electronic_code: str


class ComparisonOut(Schema):
    label: str
    season: str | None = Field(description="mã vụ (với các vụ trước)")
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")
    value: float | None


class DensityOut(Schema):
    source: str = Field(description="trap: bẫy đèn; survey: điều tra đồng ruộng")
    measure: str = Field(description="per_trap_night (con/bẫy/đêm), per_m2 (con/m²), infestation_pct (%)")
    unit: str
    trap_class: str | None
    trap_class_name: str | None
    organism: str | None
    organism_name: str | None
    natural_enemy: bool
    value: float | None
    total: int = Field(description="bẫy: tổng số con đếm được; điều tra: số phiếu có số liệu")
    trap_nights: int = Field(description="bẫy: số đêm-bẫy có tin nhắn (mẫu số)")
    stations: list[str] = Field(description="mã các trạm có số đếm của lớp")
    surveys: list[int] = Field(description="mã các phiếu điều tra có số liệu")
    trend: str | None = Field(description="up, down, same, no_previous (so với kỳ trước cùng độ dài)")
    change_percent: float | None
    previous: ComparisonOut
    seasons: list[ComparisonOut] = Field(description="cùng kỳ các vụ trước cùng loại vụ")


class StationOut(Schema):
    code: str
    name: str
    kind: str
    commune: str = Field(description="mã xã, phường của trạm ở cuối kỳ")
    commune_name: str
    latitude: float | None
    longitude: float | None
    nights: int
    counts: dict[str, int] = Field(description="mã lớp → tổng số con trong kỳ")


class ObservationOut(Schema):
    organism: str
    density_per_m2: float | None
    infestation_pct: float | None
    stage_of_pest: str


class SurveyOut(Schema):
    id: int
    surveyed_on: dt.date
    commune: str
    commune_name: str
    station: str | None
    crop: str
    stage: str
    latitude: float | None
    longitude: float | None
    observations: list[ObservationOut]


class EnemiesOut(Schema):
    surveys: int
    enemies_per_m2: float | None
    pests_per_m2: float | None
    ratio: float | None = Field(description="thiên địch ÷ sâu hại (con/m²)")
    text: str


class DensitiesOut(Schema):
    area: AreaOut
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")
    trap_nights: int
    densities: list[DensityOut]
    stations: list[StationOut]
    surveys: list[SurveyOut]
    surveys_total: int
    natural_enemies: EnemiesOut


def _number(value) -> float | None:
    return None if value is None else float(value)


def _comparison(c: selectors.Comparison) -> dict:
    return {
        "label": c.label,
        "season": c.season.code if c.season is not None else None,
        "from": c.start,
        "to": c.end,
        "value": _number(c.value),
    }


def check_bounds(start: dt.date, end: dt.date) -> None:
    check_date(start, "from")
    check_date(end, "to")
    if end < start:
        raise DomainError("Ngày cuối kỳ (to) phải từ ngày đầu kỳ (from) trở về sau.", "to")
    if (end - start).days + 1 > MAX_DAYS:
        raise DomainError(f"Kỳ dài tối đa {MAX_DAYS} ngày; hãy chia thành nhiều kỳ.", "to")


@router.get(
    "/densities",
    response=DensitiesOut,
    by_alias=True,
    summary="Mật độ sinh vật gây hại của một địa bàn trong một kỳ, kèm số liệu căn cứ",
    description="Mật độ bẫy đèn (con/bẫy/đêm) theo lớp nhận dạng và mật độ điều tra (con/m², % hại) theo sinh vật, "
    "xu hướng so với kỳ trước cùng độ dài và cùng kỳ các vụ trước, tỷ lệ thiên địch, các trạm (số đêm-bẫy, số đếm) "
    "và phiếu điều tra làm căn cứ. Dữ liệu mở, không cần đăng nhập; kỳ tối đa "
    f"{MAX_DAYS} ngày, liệt kê tối đa {MAX_SURVEYS} phiếu gần nhất.",
)
def densities(request, query: Query[DensityQuery]):
    check_bounds(query.start, query.end)
    try:
        area = selectors.resolve_area(query.area, at=query.end)
    except NotFound as error:  # a query parameter, not a resource of the path: a 400 naming it
        raise DomainError(error.message, "area") from None
    level = selectors.area_of(area).level
    rows = selectors.densities(area=area, start=query.start, end=query.end)
    stations = selectors.trap_stations(area=area, start=query.start, end=query.end)
    codes = {s.station.pk: s.station.code for s in stations}
    surveys = selectors.surveys_in(area=area, start=query.start, end=query.end)
    listed = list(surveys[:MAX_SURVEYS])
    enemies = selectors.natural_enemy_ratio(area=area, start=query.start, end=query.end)
    return {
        "area": {"code": area.code, "name": area.name, "level": level, "electronic_code": area.electronic_code},
        "from": query.start,
        "to": query.end,
        "trap_nights": sum(s.nights for s in stations),
        "densities": [
            {
                "source": d.source,
                "measure": d.measure,
                "unit": d.unit,
                "trap_class": d.trap_class.code if d.trap_class else None,
                "trap_class_name": d.trap_class.name if d.trap_class else None,
                "organism": d.organism.code if d.organism else None,
                "organism_name": d.organism.name if d.organism else None,
                "natural_enemy": d.is_natural_enemy,
                "value": _number(d.value),
                "total": d.total,
                "trap_nights": d.trap_nights,
                "stations": [codes[pk] for pk in d.stations if pk in codes],
                "surveys": d.surveys,
                "trend": d.trend,
                "change_percent": _number(d.change_percent),
                "previous": _comparison(d.previous),
                "seasons": [_comparison(c) for c in d.seasons],
            }
            for d in rows
        ],
        "stations": [
            {
                "code": s.station.code,
                "name": s.station.name,
                "kind": s.station.kind,
                "commune": s.commune.code,
                "commune_name": s.commune.name,
                "latitude": _number(s.station.latitude),
                "longitude": _number(s.station.longitude),
                "nights": s.nights,
                "counts": s.counts,
            }
            for s in stations
        ],
        "surveys": [
            {
                "id": s.pk,
                "surveyed_on": s.surveyed_on,
                "commune": s.commune.code,
                "commune_name": s.commune.name,
                "station": s.station.code if s.station else None,
                "crop": s.crop.code,
                "stage": s.stage,
                "latitude": _number(s.latitude),
                "longitude": _number(s.longitude),
                "observations": [
                    {
                        "organism": o.organism.code,
                        "density_per_m2": _number(o.density_per_m2),
                        "infestation_pct": _number(o.infestation_pct),
                        "stage_of_pest": o.stage_of_pest,
                    }
                    for o in s.observations.all()
                ],
            }
            for s in listed
        ],
        "surveys_total": len(listed) if len(listed) < MAX_SURVEYS else surveys.count(),
        "natural_enemies": {
            "surveys": enemies.surveys,
            "enemies_per_m2": _number(enemies.enemies_per_m2),
            "pests_per_m2": _number(enemies.pests_per_m2),
            "ratio": _number(enemies.ratio),
            "text": enemies.text,
        },
    }

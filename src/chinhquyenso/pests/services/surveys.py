"""Field surveys (phiếu điều tra đồng ruộng) sent by plant-protection officers, often from a phone in
the field with a poor connection: the form carries a client id (a UUID made when the form opened), so
a form sent twice — a retry after a dropped connection, a double tap, the offline queue sending again
when the network returns — is stored once and the second send gets the first survey back.

`submit(actor=, data=)` takes the form's values as text (the page's POST, or JSON):

    client_id      UUID (required)
    station        code of a fixed survey point or trap (optional: then its commune, crop and point)
    commune        code of the commune (required without a station)
    latitude, longitude   decimal degrees (optional, both or neither)
    crop           crop code (required without a station)
    stage          growth stage code of that crop (required)
    surveyed_on    YYYY-MM-DD, not after today (required)
    area_ha        hectares the survey stands for (optional, 0–100,000)
    note           text (optional, ≤ 2,000 characters)
    observations   [{"organism": code, "density_per_m2": "…", "infestation_pct": "…", "stage_of_pest": "…"}]
                   density 0–100,000 con/m², infestation 0–100 %, two decimals; an empty value is
                   "not counted"; at least one value in the survey (0 = looked, found none)

Every refusal is a DomainError in Vietnamese naming the field (`observations.<organism>.density_per_m2`
for a value of one organism)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from chinhquyenso.core import audit, params
from chinhquyenso.core.errors import Conflict, DomainError
from chinhquyenso.core.text import drop_unstorable, nfc, nfc_lines
from chinhquyenso.core.workflow import caller_of, idempotent
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.org.selectors import resolve_agency, successor_on
from chinhquyenso.pests import access
from chinhquyenso.pests.models import Crop, Organism, Station, Survey, SurveyObservation

MAX_DENSITY = Decimal(100_000)  # con/m²
MAX_PERCENT = Decimal(100)
MAX_AREA_HA = Decimal(100_000)
MAX_NOTE = 2_000
MAX_OBSERVATIONS = 200
CENT = Decimal("0.01")
OPERATION = "pests.survey"


def _text(data: dict, name: str, limit: int = 200) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float, Decimal)):
        raise DomainError(f"Trường “{name}” phải là chuỗi ký tự.", name)
    text = drop_unstorable(nfc(str(value))).strip()
    if len(text) > limit:
        raise DomainError(f"Trường “{name}” dài quá {limit} ký tự.", name)
    return text


def _cents(value: Decimal | None) -> str:
    return "" if value is None else str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def parse(data: dict) -> dict:
    """The form's values → their canonical form (codes, ISO date, decimals to two places): what the
    idempotency compares, so "1200", "1200,0" and "1200.00" are the same form. Checks formats and
    bounds only; what needs the database is checked by `validate`."""
    if not isinstance(data, dict):
        raise DomainError("Dữ liệu phiếu điều tra phải là một đối tượng JSON.", "body")
    raw_id = _text(data, "client_id", 60)
    try:
        client_id = str(uuid.UUID(raw_id)) if raw_id else ""
    except ValueError:
        raise DomainError("Mã phiếu trên máy (client_id) không đúng dạng UUID.", "client_id") from None
    if not client_id:
        raise DomainError("Thiếu mã phiếu trên máy (client_id); hãy mở lại trang phiếu điều tra.", "client_id")
    surveyed_on = params.date(data.get("surveyed_on"), "surveyed_on")
    if surveyed_on is None:
        raise DomainError("Chưa nhập ngày điều tra.", "surveyed_on")
    latitude = params.decimal(data.get("latitude"), "latitude", minimum=-90, maximum=90)
    longitude = params.decimal(data.get("longitude"), "longitude", minimum=-180, maximum=180)
    if (latitude is None) != (longitude is None):
        field = "longitude" if longitude is None else "latitude"
        raise DomainError("Tọa độ cần cả vĩ độ và kinh độ (hoặc bỏ trống cả hai).", field)
    if latitude is not None:
        params.point(latitude, longitude, (0, 0, 0, 0))
    area = params.decimal(data.get("area_ha"), "area_ha", minimum=0, maximum=MAX_AREA_HA)
    note = nfc_lines(drop_unstorable(str(data.get("note") or ""))).strip()
    if len(note) > MAX_NOTE:
        raise DomainError(f"Ghi chú dài quá {MAX_NOTE} ký tự.", "note")

    observations = data.get("observations") or []
    if not isinstance(observations, list):
        raise DomainError("Trường “observations” phải là danh sách.", "observations")
    if len(observations) > MAX_OBSERVATIONS:
        raise DomainError(f"Phiếu có quá {MAX_OBSERVATIONS} dòng kết quả.", "observations")
    rows: dict[str, dict] = {}
    for item in observations:
        if not isinstance(item, dict):
            raise DomainError("Mỗi dòng kết quả điều tra phải là một đối tượng JSON.", "observations")
        code = _text(item, "organism", 40)
        if not code:
            raise DomainError("Một dòng kết quả chưa nêu sinh vật.", "observations")
        prefix = f"observations.{code}"
        density = params.decimal(item.get("density_per_m2"), f"{prefix}.density_per_m2", minimum=0, maximum=MAX_DENSITY)
        infestation = params.decimal(
            item.get("infestation_pct"), f"{prefix}.infestation_pct", minimum=0, maximum=MAX_PERCENT
        )
        pest_stage = _text(item, "stage_of_pest", 60)
        if density is None and infestation is None:
            if pest_stage:
                raise DomainError(
                    "Đã ghi tuổi, pha phát triển nhưng chưa nhập mật độ hoặc tỷ lệ hại.", f"{prefix}.density_per_m2"
                )
            continue  # a row left empty: not surveyed
        if code in rows:
            raise DomainError("Một sinh vật được ghi hai lần trong phiếu.", prefix)
        rows[code] = {
            "organism": code,
            "density_per_m2": _cents(density),
            "infestation_pct": _cents(infestation),
            "stage_of_pest": pest_stage,
        }
    if not rows:
        raise DomainError(
            "Phiếu chưa có kết quả: nhập mật độ hoặc tỷ lệ hại của ít nhất một sinh vật (ghi 0 nếu không thấy).",
            "observations",
        )
    return {
        "client_id": client_id,
        "station": _text(data, "station", 60),
        "commune": _text(data, "commune", 60),
        "latitude": "" if latitude is None else str(latitude.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)),
        "longitude": "" if longitude is None else str(longitude.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)),
        "crop": _text(data, "crop", 30),
        "stage": _text(data, "stage", 40),
        "surveyed_on": surveyed_on.isoformat(),
        "area_ha": _cents(area),
        "note": note,
        "observations": [rows[code] for code in sorted(rows)],
    }


@dataclass
class Checked:
    station: Station | None
    commune: Agency
    crop: Crop
    organisms: dict[str, Organism]


def survey_communes(actor) -> set[int] | None:
    """The communes `actor` may survey: None = any (the plant-protection stations' and
    sub-department's officers), else their communes (a commune officer with the grant)."""
    return access.scope_communes(actor)


def validate(actor, form: dict) -> Checked:
    """What the canonical form names, checked against the database and the officer's scope."""
    access.require_survey(actor)
    access.refuse_read_only(actor)
    day = dt.date.fromisoformat(form["surveyed_on"])
    if day > timezone.localdate():
        raise DomainError("Ngày điều tra không được sau hôm nay.", "surveyed_on")
    station = None
    if form["station"]:
        station = Station.objects.select_related("crop", "commune").filter(code=form["station"]).first()
        if station is None:
            raise DomainError(f"Không có điểm điều tra mã “{form['station']}”.", "station")
    if form["commune"]:
        commune = resolve_agency(form["commune"], day, field="commune", noun="xã, phường")
    elif station is not None:
        commune = successor_on(station.commune, day) or station.commune
    else:
        raise DomainError("Chưa chọn xã, phường (hoặc điểm điều tra).", "commune")
    if commune.kind != AgencyKind.COMMUNE_COMMITTEE:
        raise DomainError("Nơi điều tra phải là một xã, phường.", "commune")
    if not commune.is_valid_on(day):
        raise DomainError(f"{commune.name} không còn hoặc chưa hoạt động vào ngày điều tra.", "commune")
    scope = survey_communes(actor)
    if scope is not None and commune.pk not in scope:
        raise DomainError(f"{commune.name} không thuộc địa bàn bạn được giao điều tra.", "commune")
    crop_code = form["crop"] or (station.crop.code if station is not None else "")
    crop = Crop.objects.filter(code=crop_code).first() if crop_code else None
    if crop is None:
        raise DomainError("Chưa chọn cây trồng, hoặc cây trồng không có trong danh mục.", "crop")
    stages = {stage.get("code") for stage in crop.stages}
    if not form["stage"]:
        raise DomainError("Chưa chọn giai đoạn sinh trưởng.", "stage")
    if form["stage"] not in stages:
        raise DomainError(f"Giai đoạn sinh trưởng không có trong danh mục của cây {crop.name.lower()}.", "stage")
    codes = [row["organism"] for row in form["observations"]]
    organisms = {o.code: o for o in Organism.objects.filter(code__in=codes, active=True).prefetch_related("crops")}
    for code in codes:
        organism = organisms.get(code)
        if organism is None:
            raise DomainError(f"Không có sinh vật mã “{code}” trong danh mục.", f"observations.{code}")
        if not organism.is_natural_enemy and crop not in organism.crops.all():
            raise DomainError(
                f"{organism.name} không gây hại cây {crop.name.lower()} trong danh mục.", f"observations.{code}"
            )
    return Checked(station=station, commune=commune, crop=crop, organisms=organisms)


def submit(*, actor, data: dict) -> Survey:
    """Store a survey once per client id: the same form again returns the first survey (marked
    `replayed`); the same client id with other content is refused (409)."""
    form = parse(data)
    previous = Survey.objects.filter(client_id=form["client_id"]).first()
    if previous is not None and previous.officer_id != getattr(actor, "pk", None):
        raise Conflict("Mã phiếu này đã được dùng cho một phiếu khác; hãy mở phiếu mới.", "client_id")

    def create(checked: Checked) -> Survey:
        survey = Survey.objects.create(
            client_id=form["client_id"],
            station=checked.station,
            commune=checked.commune,
            latitude=Decimal(form["latitude"]) if form["latitude"] else getattr(checked.station, "latitude", None),
            longitude=Decimal(form["longitude"]) if form["longitude"] else getattr(checked.station, "longitude", None),
            crop=checked.crop,
            stage=form["stage"],
            surveyed_on=dt.date.fromisoformat(form["surveyed_on"]),
            area_ha=Decimal(form["area_ha"]) if form["area_ha"] else None,
            note=form["note"],
            officer=actor,
        )
        SurveyObservation.objects.bulk_create(
            [
                SurveyObservation(
                    survey=survey,
                    organism=checked.organisms[row["organism"]],
                    density_per_m2=Decimal(row["density_per_m2"]) if row["density_per_m2"] else None,
                    infestation_pct=Decimal(row["infestation_pct"]) if row["infestation_pct"] else None,
                    stage_of_pest=row["stage_of_pest"],
                )
                for row in form["observations"]
            ]
        )
        audit.record(
            actor=actor,
            action="pests.survey.submit",
            obj=survey,
            agency_id=checked.commune.pk,
            after={
                "commune": checked.commune.pk,
                "station": getattr(checked.station, "pk", None),
                "crop": checked.crop.code,
                "stage": survey.stage,
                "surveyed_on": survey.surveyed_on.isoformat(),
                "observations": len(form["observations"]),
            },
        )
        return survey

    try:
        return idempotent(
            OPERATION,
            key=form["client_id"],
            caller=caller_of(actor),
            payload=form,
            prepare=lambda: validate(actor, form),
            create=create,
        )
    except Conflict as error:
        if error.field != "Idempotency-Key":
            raise
        raise Conflict(
            "Phiếu này đã được gửi trước đó với nội dung khác; nội dung đã lưu được giữ nguyên. "
            "Nếu cần sửa, hãy mở phiếu mới.",
            "client_id",
        ) from None


def form_data(post, organisms) -> dict:
    """A page's POST → `submit`'s data: the observation of organism <code> comes from the fields
    mat_do_<code>, ty_le_<code> and tuoi_<code>."""
    data = {
        name: post.get(name, "")
        for name in (
            "client_id",
            "station",
            "commune",
            "latitude",
            "longitude",
            "crop",
            "stage",
            "surveyed_on",
            "area_ha",
            "note",
        )
    }
    data["observations"] = [
        {
            "organism": organism.code,
            "density_per_m2": post.get(f"mat_do_{organism.code}", ""),
            "infestation_pct": post.get(f"ty_le_{organism.code}", ""),
            "stage_of_pest": post.get(f"tuoi_{organism.code}", ""),
        }
        for organism in organisms
    ]
    return data

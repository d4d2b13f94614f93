"""A small hand-computed surveillance dataset (tests/pests/test_densities.py, test_api.py): trap counts
written directly (the ingest path is tested apart; its age limit would refuse a year-old night) and
surveys through the survey service.

    district "huyện Chợ Mới": xã Kiến An (A), xã Kiến Thành (B) and xã Long Điền A (C) — B and C merged
    into xã Kiến Thành (N, same district) on 01/7/2025; district "huyện Thoại Sơn": xã Vọng Thê (E).
    Traps: S1 in A, S2 placed in B (before the merger), S3 in N, S4 in E (all light traps, rice).

Nights of the period 07–13/7/2025 (Hè Thu 2025, day 97–103 of the season), class rầy nâu (ray-nau):
    S1: 07/7 100 (+ sâu cuốn lá nhỏ 10), 08/7 300; a flagged message 09/7 5000 (never counts)
    S2: 07/7 50, 09/7 100 + 50 (two hourly messages, one trap-night)
    S3: 10/7 200
    S4: 07/7 1000
  → district: 5 trap-nights, rầy nâu 800 → 160,00; sâu cuốn lá nhỏ 10 → 2,00
  → province: 6 trap-nights, rầy nâu 1800 → 300,00; sâu cuốn lá nhỏ 10 → 1,67
  → commune N (with B, C): 3 trap-nights, 400 → 133,33; commune A: 2, 400 → 200,00; old B: nothing
Previous period 30/6–06/7/2025: S2 30/6 40 (in B then), 02/7 60; S1 01/7 20
  → district 3 trap-nights, 120 → 40,00 (trend: up, +300,0 %); commune N: 100/2 → 50,00
Hè Thu 2024, 07–13/7/2024: S1 07/7 40, 08/7 0; S2 08/7 80
  → district 3 trap-nights, 120 → 40,00; commune N 80/1 → 80,00
Surveys of the period: A 08/7 rầy nâu 1000 con/m², nhện sói 50, đạo ôn 2 %; N 10/7 rầy nâu 2000 con/m²
and 5 %, nhện sói 30; E 09/7 rầy nâu 9000.
  → district: rầy nâu 1500,00 con/m² (2 surveys), 5,00 % (1); nhện sói 40,00; đạo ôn 2,00 %
  → natural enemies (district): 80 ÷ 3000 → ratio 0,027, "1 : 37,5"; 40,00 and 1500,00 con/m²
"""

from __future__ import annotations

import datetime as dt
import itertools
import types
import uuid
from zoneinfo import ZoneInfo

from chinhquyenso.org import services as org
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.pests.models import Crop, Station, TrapClass, TrapCount, TrapMessage
from chinhquyenso.pests.services import surveys

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MERGED_ON = dt.date(2025, 7, 1)
START, END = dt.date(2025, 7, 7), dt.date(2025, 7, 13)
_numbers = itertools.count(1)


def station(code: str, commune: Agency, **fields) -> Station:
    return Station.objects.create(
        code=code,
        kind=fields.pop("kind", Station.Kind.LIGHT_TRAP),
        name=fields.pop("name", f"Bẫy đèn {code}"),
        commune=commune,
        crop=fields.pop("crop", None) or Crop.objects.get(code="lua"),
        latitude=fields.pop("latitude", "10.550000"),
        longitude=fields.pop("longitude", "105.400000"),
        **fields,
    )


def counts(trap: Station, night: dt.date, values: dict[str, int], *, accepted: bool = True) -> TrapMessage:
    """One message of `trap` for `night` with counts per class code, stored as the ingest stores it."""
    start = dt.datetime.combine(night, dt.time(18), tzinfo=VN)
    message = TrapMessage.objects.create(
        station=trap,
        message_id=f"{trap.code}-{night:%Y%m%d}-{next(_numbers)}",
        window_start=start,
        window_end=start + dt.timedelta(hours=12),
        received_at=start + dt.timedelta(hours=12, minutes=5),
        transport="csv",
        status=TrapMessage.Status.ACCEPTED if accepted else TrapMessage.Status.FLAGGED,
        payload_sha256="0" * 64,
    )
    for code, count in values.items():
        TrapCount.objects.create(
            message=message,
            station=trap,
            trap_class=TrapClass.objects.get(code=code),
            night=night,
            count=count,
            accepted=accepted,
        )
    return message


def survey(officer, commune: Agency, day: dt.date, observations: dict[str, tuple], *, stage="lam-dong", **data):
    """observations: organism code → (density per m², infestation %) ("" for none)."""
    return surveys.submit(
        actor=officer,
        data={
            "client_id": str(uuid.uuid4()),
            "commune": commune.code,
            "crop": "lua",
            "stage": stage,
            "surveyed_on": day.isoformat(),
            "observations": [
                {"organism": code, "density_per_m2": density, "infestation_pct": infestation}
                for code, (density, infestation) in observations.items()
            ],
            **data,
        },
    )


def build(pest_area, admin_user, officer) -> types.SimpleNamespace:
    area = pest_area
    merged = org.merge(
        actor=admin_user,
        sources=[Agency.objects.get(pk=area.commune_b.pk), Agency.objects.get(pk=area.commune_c.pk)],
        name="UBND xã Kiến Thành",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=area.district,
        effective_date=MERGED_ON,
        electronic_code="000.07.09.H01",
    )
    other_district = org.create_agency(
        actor=admin_user,
        name="UBND huyện Thoại Sơn",
        kind=AgencyKind.DISTRICT_COMMITTEE,
        parent=area.province,
        code="ubnd-thoai-son",
        electronic_code="000.00.08.H01",
    )
    other = org.create_agency(
        actor=admin_user,
        name="UBND xã Vọng Thê",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=other_district,
        code="xa-vong-the",
        electronic_code="000.08.01.H01",
    )
    s1 = station("bd-a", area.commune_a, latitude="10.500000", longitude="105.400000")
    s2 = station("bd-b", area.commune_b, latitude="10.600000", longitude="105.500000")
    s3 = station("bd-n", merged, latitude="10.620000", longitude="105.520000")
    s4 = station("bd-e", other, latitude="10.300000", longitude="105.200000")
    d = dt.date
    # the period
    counts(s1, d(2025, 7, 7), {"ray-nau": 100, "sau-cuon-la-nho": 10})
    counts(s1, d(2025, 7, 8), {"ray-nau": 300})
    counts(s1, d(2025, 7, 9), {"ray-nau": 5000}, accepted=False)
    counts(s2, d(2025, 7, 7), {"ray-nau": 50})
    counts(s2, d(2025, 7, 9), {"ray-nau": 100})
    counts(s2, d(2025, 7, 9), {"ray-nau": 50})
    counts(s3, d(2025, 7, 10), {"ray-nau": 200})
    counts(s4, d(2025, 7, 7), {"ray-nau": 1000})
    # the previous period
    counts(s2, d(2025, 6, 30), {"ray-nau": 40})
    counts(s2, d(2025, 7, 2), {"ray-nau": 60})
    counts(s1, d(2025, 7, 1), {"ray-nau": 20})
    # Hè Thu 2024
    counts(s1, d(2024, 7, 7), {"ray-nau": 40})
    counts(s1, d(2024, 7, 8), {"ray-nau": 0})
    counts(s2, d(2024, 7, 8), {"ray-nau": 80})
    # surveys
    survey(
        officer, area.commune_a, d(2025, 7, 8), {"ray-nau": ("1000", ""), "nhen-soi": ("50", ""), "dao-on": ("", "2")}
    )
    survey(officer, merged, d(2025, 7, 10), {"ray-nau": ("2000", "5"), "nhen-soi": ("30", "")})
    survey(officer, other, d(2025, 7, 9), {"ray-nau": ("9000", "")})
    return types.SimpleNamespace(
        area=area,
        merged=merged,
        other_district=other_district,
        other=other,
        s1=s1,
        s2=s2,
        s3=s3,
        s4=s4,
        old_b=Agency.objects.get(pk=area.commune_b.pk),
    )

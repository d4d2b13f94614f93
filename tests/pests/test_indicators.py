"""The pest surveillance indicators (indicators/data/registry.json, measures in pests/indicators.py) and
their section on the operations dashboard: traps online at the period's end, survey points surveyed in
every week, alerts issued, identification accuracy from the experts' confirmations — each counted for
the commune the station or alert is in and rolled up to the district and the province."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from chinhquyenso.core.calendar import LOCAL_TZ
from chinhquyenso.core.registry import DASHBOARD_TILES, INDICATOR_MEASURES
from chinhquyenso.core.uploads import store_generated
from chinhquyenso.indicators.formulas import measure_names
from chinhquyenso.indicators.periods import Period
from chinhquyenso.indicators.selectors import PROVINCE, compute
from chinhquyenso.indicators.services import DEFAULT_REGISTRY
from chinhquyenso.pests import indicators
from chinhquyenso.pests.models import (
    Alert,
    Crop,
    Identification,
    IdentificationPhoto,
    Organism,
    Station,
    Survey,
    Threshold,
)
from chinhquyenso.pests.services.ingest import ingest
from chinhquyenso.pests.simulate import trap_payload

pytestmark = pytest.mark.django_db

CODES = list(indicators.CODES)
# The last day of the previous month: a whole past month, as the dashboard's "ky=YYYY-Mmm" reads it.
END = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
START = END.replace(day=1)
MIDNIGHT = dt.datetime.combine(END + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ)


def value(code, unit=PROVINCE, start=START, end=END):
    return compute(Period("range", start, end), codes=[code]).get(code, unit)


def created(station, moment):
    Station.objects.filter(pk=station.pk).update(created_at=moment)


def test_registrations_and_the_registry_rows():
    source = INDICATOR_MEASURES.get("pests")
    assert source.compute is indicators.indicator_measures and set(source.labels) == set(indicators.MEASURES)
    section = DASHBOARD_TILES.get("pests")
    assert section is indicators.TILES and [code for code, _ in section.tiles] == CODES
    rows = {row["code"]: row for row in json.loads(DEFAULT_REGISTRY.read_text(encoding="utf-8"))["indicators"]}
    names = measure_names()
    for code in CODES:
        formula = rows[code]["formula"]
        for part in (formula["numerator"], formula["denominator"]):
            assert all(name in indicators.MEASURES and name in names for name in re.findall(r"\w+", part))
    assert indicators.surveys_per_week() == 1  # QCVN 01-38:2010, every 7 days (pests/data/indicators.json)


# ---------------------------------------------------------------- traps online


@pytest.fixture
def traps(make_trap, pest_area):
    """Six stations around the end of the period (see the test)."""
    made = {
        "heard": make_trap("bd-a", pest_area.commune_a),
        "silent": make_trap("bd-b", pest_area.commune_b),
        "refused": make_trap("bd-c1", pest_area.commune_c),
        "flagged": make_trap("bd-c2", pest_area.commune_c),
        "inactive": make_trap("bd-c3", pest_area.commune_c, active=False),
        "later": make_trap("bd-c4", pest_area.commune_c),
        "point": make_trap("dd-a", pest_area.commune_a, kind=Station.Kind.SURVEY_POINT),
    }
    for name, (station, _) in made.items():
        created(station, MIDNIGHT - dt.timedelta(days=60 if name != "later" else -1))
    return made


def send(station, secret, night, received_at, counts=None, signature=None):
    from chinhquyenso.pests.services.ingest import sign

    payload = trap_payload(station.device_id, counts or {"ray-nau": 120}, night=night)
    return ingest(
        payload,
        transport="http",
        device_id=station.device_id,
        signature=signature or sign(payload, secret),
        received_at=received_at,
    )


def test_traps_online_counts_active_smart_traps_heard_in_the_silent_hours_before_the_end(traps, registry, pest_area):
    heard, silent, refused, flagged, _, later, _ = (traps[k] for k in traps)
    assert send(*heard, END - dt.timedelta(days=1), MIDNIGHT - dt.timedelta(hours=5)).status == "accepted"
    # 40 hours before the end: longer than CQS_PESTS_SILENT_AFTER_HOURS (36).
    assert send(*silent, END - dt.timedelta(days=2), MIDNIGHT - dt.timedelta(hours=40)).status == "accepted"
    # A message after the end does not make it online for this period.
    assert send(*silent, END, MIDNIGHT + dt.timedelta(hours=7)).status == "accepted"
    # A refused message (bad signature) is no sign of a working trap; a flagged one is.
    bad = send(*refused, END - dt.timedelta(days=1), MIDNIGHT - dt.timedelta(hours=2), signature="0" * 64)
    assert bad.status == "rejected"
    odd = send(*flagged, END - dt.timedelta(days=1), MIDNIGHT - dt.timedelta(hours=3), counts={"la-la": 1})
    assert odd.status == "flagged"
    assert send(*later, END, MIDNIGHT + dt.timedelta(hours=7)).status == "accepted"

    province = value("pests_traps_online")
    assert (province.numerator, province.denominator) == (2, 4)  # heard + flagged of heard, silent, refused, flagged
    assert province.rounded == Decimal("50.0") and province.count_unit == "bẫy"
    assert (
        value("pests_traps_online", pest_area.district.pk).numerator,
        value("pests_traps_online", pest_area.district.pk).denominator,
    ) == (2, 4)
    commune_b = value("pests_traps_online", pest_area.commune_b.pk)
    assert (commune_b.numerator, commune_b.denominator) == (0, 1)
    measures = indicators.indicator_measures(START, END)
    assert measures[pest_area.commune_c.pk]["pests_smart_traps"] == 2  # the inactive and the later trap left out


def test_a_period_not_over_is_read_now(make_trap, registry):
    station, secret = make_trap("bd-now")
    today = timezone.localdate()
    send(station, secret, today - dt.timedelta(days=1), timezone.now() - dt.timedelta(hours=1))
    now = value("pests_traps_online", start=today.replace(day=1), end=today)
    assert (now.numerator, now.denominator) == (1, 1)


# ---------------------------------------------------------------- surveys on time


@pytest.fixture
def weeks():
    """Three whole weeks (Monday–Sunday) ending before this week."""
    last_sunday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday() + 1)
    monday = last_sunday - dt.timedelta(days=20)
    return monday, last_sunday


def survey(point, day, officer, commune):
    return Survey.objects.create(
        client_id=uuid.uuid4(),
        station=point,
        commune=commune,
        crop=Crop.objects.get(code="lua"),
        stage="de-nhanh",
        surveyed_on=day,
        officer=officer,
    )


def test_surveys_on_time_is_point_weeks_with_a_survey_over_point_weeks_due(
    make_trap, pest_area, pest_officer, registry, weeks, monkeypatch
):
    monday, sunday = weeks
    point = lambda code, commune, **kw: make_trap(code, commune, kind=Station.Kind.SURVEY_POINT, **kw)[0]  # noqa: E731
    old = point("dd-a", pest_area.commune_a)
    new = point("dd-b", pest_area.commune_b)
    gone = point("dd-c", pest_area.commune_c, active=False)
    created(old, dt.datetime.combine(monday - dt.timedelta(days=10), dt.time(9), tzinfo=LOCAL_TZ))
    # Set up on the second week's Wednesday: owes the third week only.
    created(new, dt.datetime.combine(monday + dt.timedelta(days=9), dt.time(9), tzinfo=LOCAL_TZ))
    created(gone, dt.datetime.combine(monday - dt.timedelta(days=10), dt.time(9), tzinfo=LOCAL_TZ))
    survey(old, monday + dt.timedelta(days=1), pest_officer, pest_area.commune_a)  # week 1
    survey(old, monday + dt.timedelta(days=15), pest_officer, pest_area.commune_a)  # week 3, twice
    survey(old, monday + dt.timedelta(days=16), pest_officer, pest_area.commune_a)
    survey(new, monday + dt.timedelta(days=20), pest_officer, pest_area.commune_b)  # week 3 (its Sunday)
    survey(None, monday + dt.timedelta(days=8), pest_officer, pest_area.commune_a)  # a field, not a point
    survey(gone, monday + dt.timedelta(days=8), pest_officer, pest_area.commune_c)

    province = value("pests_surveys_on_time", start=monday, end=sunday)
    assert (province.numerator, province.denominator) == (3, 4) and province.rounded == Decimal("75.0")
    commune_a = value("pests_surveys_on_time", pest_area.commune_a.pk, start=monday, end=sunday)
    assert (commune_a.numerator, commune_a.denominator) == (2, 3)
    # A week belongs to the period holding its Sunday: from the second week's Tuesday, weeks 2 and 3.
    later = value("pests_surveys_on_time", start=monday + dt.timedelta(days=8), end=sunday)
    assert (later.numerator, later.denominator) == (2, 3)
    # This week is not over: nothing is due yet.
    this_week = value("pests_surveys_on_time", start=sunday + dt.timedelta(days=1), end=timezone.localdate())
    assert this_week.denominator == 0 and this_week.value is None
    # The number owed per week is data: two a week, and only the old point's third week is done.
    monkeypatch.setattr(indicators, "rules", lambda: {"surveys_on_time": {"surveys_per_point_per_week": 2}})
    strict = value("pests_surveys_on_time", start=monday, end=sunday)
    assert (strict.numerator, strict.denominator) == (1, 4)


# ---------------------------------------------------------------- alerts issued


def test_alerts_issued_in_the_period_per_commune(pest_catalog, pest_area, registry):
    threshold = Threshold.objects.filter(organism__code="ray-nau", measure="per_trap_night").first()

    def alert(commune, at, level="warn"):
        row = Alert.objects.create(
            threshold=threshold,
            organism=threshold.organism,
            commune=commune,
            level=level,
            value=Decimal("6000"),
            period_start=at.date() - dt.timedelta(days=6),
            period_end=at.date(),
            evidence={},
        )
        Alert.objects.filter(pk=row.pk).update(created_at=at)

    inside = dt.datetime.combine(START + dt.timedelta(days=3), dt.time(8), tzinfo=LOCAL_TZ)
    alert(pest_area.commune_a, inside)
    alert(pest_area.commune_a, inside, level="action")
    alert(pest_area.commune_b, MIDNIGHT - dt.timedelta(minutes=1))
    alert(pest_area.commune_b, MIDNIGHT)  # the first moment of the next month
    province = value("pests_alerts_issued")
    assert province.value == 3 and province.display.startswith("3")
    assert value("pests_alerts_issued", pest_area.commune_a.pk).value == 2
    assert value("pests_alerts_issued", pest_area.district.pk).value == 3


# ---------------------------------------------------------------- identification accuracy


def test_identification_accuracy_is_top1_over_confirmed_photos_the_model_scored(pest_catalog, registry, admin_user):
    ray_nau = Organism.objects.get(code="ray-nau")
    inside = dt.datetime.combine(START + dt.timedelta(days=2), dt.time(10), tzinfo=LOCAL_TZ)

    def photo(best, label, *, at=inside, version="mobilenet@0123456789ab"):
        request = Identification.objects.create(
            public_id=uuid.uuid4(),
            status=Identification.Status.CONFIRMED,
            model_version=version if best else "",
            top=[{"organism": best, "confidence": 0.7}] if best else [],
        )
        return IdentificationPhoto.objects.create(
            identification=request,
            file=store_generated(uuid.uuid4().bytes, content_type="image/jpeg", extension="jpg"),
            top=[{"organism": best, "confidence": 0.7}, {"organism": "none", "confidence": 0.2}] if best else [],
            label=ray_nau if label == "ray-nau" else None,
            label_none=label == "none",
            labelled_by=admin_user,
            labelled_at=at,
        )

    photo("ray-nau", "ray-nau")
    photo("ray-nau", "ray-nau")
    photo("dao-on", "ray-nau")  # wrong
    photo("none", "none")
    photo(None, "ray-nau")  # sent while no model was configured: not measured
    photo("dao-on", "ray-nau", at=MIDNIGHT + dt.timedelta(hours=1))  # confirmed next month
    accuracy = value("pests_identification_accuracy")
    assert (accuracy.numerator, accuracy.denominator) == (3, 4) and accuracy.rounded == Decimal("75.0")
    # Nothing confirmed: no value, not 0 %.
    empty = value(
        "pests_identification_accuracy", start=START - dt.timedelta(days=60), end=START - dt.timedelta(days=40)
    )
    assert empty.value is None


# ---------------------------------------------------------------- the dashboard


def test_the_section_on_the_operations_dashboard(traps, registry, admin_user):
    heard = traps["heard"]
    send(*heard, END - dt.timedelta(days=1), MIDNIGHT - dt.timedelta(hours=5))
    client = Client()
    client.force_login(admin_user)
    page = client.get("/dieu-hanh/", {"ky": f"{END:%Y}-M{END:%m}"})
    html = page.content.decode()
    assert '<h2 id="sinh-vat-gay-hai-cay-trong">Sinh vật gây hại cây trồng</h2>' in html
    found = re.search(r'<li class="tile" id="o-pests_traps_online">(.*?)</li>', html, flags=re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()
    assert text.startswith("Bẫy đèn thông minh đang hoạt động 25,0% 1/4")
    for code in CODES:
        assert f'id="o-{code}"' in html

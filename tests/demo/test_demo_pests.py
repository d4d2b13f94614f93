"""`cqs seed-demo`'s crop-pest surveillance (demo.pests): smart traps and survey points in communes of the
demo province, a season of trap data fed to the ingestion service directly (no broker), weekly surveys,
the alerts of the last week with their warnings queued, the province's bulletin, a farmer's photos
waiting for the expert — and the two accounts, printed with the pages they open."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from chinhquyenso.accounts.models import User
from chinhquyenso.demo import pests as demo_pests
from chinhquyenso.demo.services import DEMO_PASSWORD, parse_account_lines
from chinhquyenso.exchange.models import Message
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.pests import access, indicators
from chinhquyenso.pests.models import (
    Alert,
    Bulletin,
    Identification,
    Station,
    Subscription,
    Survey,
    TrapCount,
    TrapMessage,
)
from chinhquyenso.pests.selectors.densities import densities, visible_communes

UNTIL = dt.date(2025, 12, 31)
SEED = 2025


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    test_settings = override_settings(
        MEDIA_ROOT=tmp_path_factory.mktemp("files"),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        AUDIT_CHECKPOINT_DIR=tmp_path_factory.mktemp("audit-checkpoints"),
    )
    with django_db_blocker.unblock(), test_settings:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out, err = StringIO(), StringIO()
            call_command(
                "seed_demo",
                dossiers=0,
                seed=SEED,
                until=UNTIL,
                no_documents=True,
                no_opendata=True,
                no_persons=True,
                stdout=out,
                stderr=err,
            )
            yield {"output": out.getvalue(), "errors": err.getvalue()}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo(seeded, db):
    return seeded


def spec():
    return demo_pests.spec()


def test_stations_in_current_communes_near_their_map_points(demo):
    assert "Không tạo được số liệu giám sát sâu bệnh mẫu" not in demo["errors"], demo["errors"]
    assert "Sâu bệnh (" in demo["output"] and "nạp thẳng, không qua MQTT" in demo["output"]
    data = spec()
    communes = 1 + data["more_communes"]
    traps = Station.objects.filter(kind=Station.Kind.SMART_TRAP)
    points = Station.objects.filter(kind=Station.Kind.SURVEY_POINT)
    assert traps.count() == communes * data["traps_per_commune"]
    assert points.count() == communes * data["points_per_commune"]
    assert not traps.filter(device_secret_hash="").exists()
    for station in Station.objects.select_related("commune", "agency"):
        assert station.commune.kind == AgencyKind.COMMUNE_COMMITTEE and station.commune.valid_to is None
        assert station.agency.name == data["follower"]
        assert 10.0 < station.latitude < 11.0 and 104.5 < station.longitude < 105.8
        # Sown about a month before the last night: đẻ nhánh in the last week.
        assert 26 <= (UNTIL - station.sown_on).days <= 34
    assert Station.objects.filter(commune__name="UBND xã Mỹ Hòa Hưng").count() == 3


def test_a_season_of_trap_data_through_the_ingestion_service(demo):
    data = spec()
    traps = Station.objects.filter(kind=Station.Kind.SMART_TRAP).count()
    messages = TrapMessage.objects.all()
    assert messages.count() == traps * data["nights"]
    assert set(messages.values_list("status", flat=True)) == {TrapMessage.Status.ACCEPTED}
    assert set(messages.values_list("transport", flat=True)) == {"mqtt"}
    nights = TrapCount.objects.order_by("night").values_list("night", flat=True)
    assert nights.first() == UNTIL - dt.timedelta(days=data["nights"] - 1) and nights.last() == UNTIL
    # Every trap reported last night: all traps online at the end of the period.
    assert not Station.objects.filter(kind=Station.Kind.SMART_TRAP, last_message_at__isnull=True).exists()
    measures = indicators.indicator_measures(UNTIL.replace(day=1), UNTIL)
    online = sum(m.get("pests_smart_traps_online", 0) for m in measures.values())
    assert online == traps == sum(m.get("pests_smart_traps", 0) for m in measures.values())


def test_surveys_weekly_with_a_few_weeks_missed(demo):
    points = Station.objects.filter(kind=Station.Kind.SURVEY_POINT).count()
    surveys = Survey.objects.all()
    weeks = spec()["nights"] // 7
    assert points * (weeks - 2) <= surveys.count() < points * (weeks + 1)
    assert set(surveys.values_list("surveyed_on__week_day", flat=True)) == {3}  # Tuesdays
    assert all(survey.observations.count() == 6 for survey in surveys[:5])
    start = UNTIL - dt.timedelta(days=spec()["nights"] - 1)
    measures = indicators.indicator_measures(start, UNTIL)
    done = sum(m.get("pests_survey_weeks_done", 0) for m in measures.values())
    due = sum(m.get("pests_survey_weeks_due", 0) for m in measures.values())
    assert 0.8 < done / due < 1


def test_alerts_of_the_last_week_with_their_warnings_and_the_bulletin(demo):
    hot = Agency.objects.get(name="UBND xã Mỹ Hòa Hưng", valid_to__isnull=True)
    alerts = Alert.objects.all()
    assert alerts.exists() and set(alerts.values_list("commune", flat=True)) == {hot.pk}
    monday = UNTIL - dt.timedelta(days=UNTIL.weekday())
    assert set(alerts.values_list("period_start", flat=True)) == {monday}
    measures = set(alerts.values_list("threshold__measure", flat=True))
    assert measures == {"per_trap_night", "per_m2"}
    assert alerts.filter(organism__code="ray-nau", threshold__measure="per_trap_night", value__gte=5000).exists()
    # Each alert went to the commune's three subscribers and its officers (outbox, not sent yet).
    assert Subscription.objects.filter(commune=hot, active=True).count() == 3
    kinds = set(Message.objects.values_list("kind", flat=True))
    assert {"pests.alert.sms", "pests.alert.chat", "pests.alert.notice"} <= kinds
    assert Message.objects.filter(kind="pests.alert.sms").count() == 2 * alerts.count()
    # The trap density behind it, as the surveillance pages read it.
    rows = densities(area=hot, start=monday, end=UNTIL)
    brown = next(d for d in rows if d.source == "trap" and d.trap_class.code == "ray-nau")
    assert brown.value >= Decimal(5000) and brown.stations
    bulletin = Bulletin.objects.get()
    province = Agency.objects.get(kind=AgencyKind.PROVINCE_COMMITTEE, valid_to__isnull=True)
    assert bulletin.area == province and bulletin.week_start == monday
    assert bulletin.pdf_id and bulletin.docx_id and bulletin.number.startswith("01/")


def test_accounts_and_the_photos_waiting_for_the_expert(demo):
    officer = User.objects.get(username="bvtv.canbo")
    expert = User.objects.get(username="bvtv.chuyengia")
    assert officer.check_password(DEMO_PASSWORD) and expert.check_password(DEMO_PASSWORD)
    assert access.can_survey(officer) and access.can_issue_bulletin(officer) and not access.can_confirm(officer)
    assert access.can_confirm(expert)
    request = Identification.objects.get()
    assert request.sent_to_expert and request.photos.count() == 2
    # The commune's officers see their commune's alerts; the printed accounts say where.
    commune_officer = User.objects.get(username="ubnd-xa-my-hoa-hung.chuyenvien")
    assert Alert.objects.first().commune_id in visible_communes(commune_officer)
    printed = {a.username: a.pages for a in parse_account_lines(demo["output"])}
    assert "/can-bo/sau-benh/giam-sat/" in printed["bvtv.canbo"]
    assert "/can-bo/sau-benh/nhan-dang/" in printed["bvtv.chuyengia"]
    assert "/can-bo/sau-benh/giam-sat/" in printed["ubnd-xa-my-hoa-hung.chuyenvien"]

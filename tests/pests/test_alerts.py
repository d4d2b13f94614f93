"""Alerts (pests.services.alerts): a threshold crossed → one alert per threshold, commune, week and
level with the rule and the data behind it, and its warnings written in the same transaction;
re-evaluation never repeats one, nor do several workers evaluating at once (PostgreSQL, threads);
the stage rule; a merged commune; acknowledge and close (audited, scoped); the pages."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.urls import reverse

from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.exchange.models import Message
from chinhquyenso.org import services as org
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.pests.models import Alert, Crop, Measure, Organism, Threshold
from chinhquyenso.pests.services import alerts, warnings
from tests.pests import surveillance_data as data

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=VN)  # a Wednesday: the week 23–29/11, nights 23 and 24 so far
MONDAY, SUNDAY = dt.date(2026, 11, 23), dt.date(2026, 11, 29)
SOWN = dt.date(2026, 10, 25)  # 30 days before the night of 24/11: đẻ nhánh


@pytest.fixture
def sent(monkeypatch):
    """services.warnings.send_alert replaced: the alerts it was called for, and whether it ran inside
    a transaction (the alert's)."""
    calls = []
    lock = threading.Lock()

    def send_alert(alert):
        with lock:
            calls.append((alert.pk, transaction.get_connection().in_atomic_block))
        return 2

    monkeypatch.setattr(warnings, "send_alert", send_alert)
    return calls


@pytest.fixture
def trap(pest_catalog, pest_area):
    return data.station("bd-kien-an", pest_area.commune_a, sown_on=SOWN)


def test_the_week():
    assert alerts.week_of(NOW) == (MONDAY, SUNDAY, dt.date(2026, 11, 24))
    monday_morning = dt.datetime(2026, 11, 30, 8, 0, tzinfo=VN)  # the night of Sunday 29/11 ends the week
    assert alerts.week_of(monday_morning) == (MONDAY, SUNDAY, SUNDAY)


def test_a_crossing_gives_one_alert_with_its_evidence_and_warnings(trap, pest_area, sent):
    data.counts(trap, dt.date(2026, 11, 23), {"ray-nau": 4000})
    second = data.counts(trap, dt.date(2026, 11, 24), {"ray-nau": 7000, "ray-lung-trang": 100})
    data.counts(trap, dt.date(2026, 11, 22), {"ray-nau": 90000})  # last week's: not this week's
    result = alerts.evaluate(NOW)
    assert result["issued"] == 1 and result["messages"] == 2
    assert (result["from"], result["to"]) == ("2026-11-23", "2026-11-24")
    alert = Alert.objects.get()
    threshold = Threshold.objects.get(organism__code="ray-nau", measure=Measure.PER_TRAP_NIGHT)
    assert (alert.threshold, alert.commune, alert.level, alert.value) == (
        threshold,
        pest_area.commune_a,
        Alert.Level.WARN,
        Decimal("5500.00"),
    )
    assert (alert.period_start, alert.period_end, alert.status) == (MONDAY, SUNDAY, Alert.Status.OPEN)
    evidence = alert.evidence
    assert evidence["rule"]["warn_level"] == "5000.00" and evidence["rule"]["measure"] == "per_trap_night"
    assert evidence["rule"]["source"] == threshold.source and evidence["rule"]["organism_name"] == "Rầy nâu"
    assert (evidence["total"], evidence["trap_nights"], evidence["value"]) == (11000, 2, "5500.00")
    assert evidence["stations"] == [
        {"id": trap.pk, "code": "bd-kien-an", "name": trap.name, "stage": "de-nhanh", "nights": 2, "count": 11000}
    ]
    assert [m["count"] for m in evidence["messages"]] == [4000, 7000]
    assert evidence["messages"][1]["id"] == second.pk
    assert sent == [(alert.pk, True)]  # the warnings were written in the alert's transaction

    # every 15 minutes the job runs again: nothing new
    assert alerts.evaluate(NOW + dt.timedelta(minutes=15))["issued"] == 0
    assert Alert.objects.count() == 1 and len(sent) == 1


def test_reaching_the_action_level_later_in_the_week_is_a_second_alert(trap, sent):
    data.counts(trap, dt.date(2026, 11, 23), {"ray-nau": 4000})
    data.counts(trap, dt.date(2026, 11, 24), {"ray-nau": 7000})
    alerts.evaluate(NOW)
    data.counts(trap, dt.date(2026, 11, 25), {"ray-nau": 50000})
    result = alerts.evaluate(NOW + dt.timedelta(days=1))
    assert result["issued"] == 1
    action = Alert.objects.get(level=Alert.Level.ACTION)
    assert action.value == Decimal("20333.33") and action.period_start == MONDAY
    assert Alert.objects.count() == 2
    assert alerts.evaluate(NOW + dt.timedelta(days=1, hours=1))["issued"] == 0


def test_an_action_alert_first_means_no_warn_alert_that_week(trap, sent):
    data.counts(trap, dt.date(2026, 11, 24), {"ray-nau": 25000})
    alerts.evaluate(NOW)
    assert list(Alert.objects.values_list("level", flat=True)) == [Alert.Level.ACTION]
    data.counts(trap, dt.date(2026, 11, 25), {"ray-nau": 1000})  # the week's mean falls to 13.000: warn level
    assert alerts.evaluate(NOW + dt.timedelta(days=1))["issued"] == 0
    assert Alert.objects.count() == 1


def test_a_stage_threshold_reads_only_traps_at_that_stage(pest_catalog, pest_area, sent):
    rice, hopper = Crop.objects.get(code="lua"), Organism.objects.get(code="ray-lung-trang")
    Threshold.objects.filter(organism=hopper).delete()
    Threshold.objects.create(
        organism=hopper, crop=rice, stage="lam-dong", measure=Measure.PER_TRAP_NIGHT, warn_level=100, source="Thử"
    )
    young = data.station("bd-tre", pest_area.commune_a, sown_on=SOWN)  # đẻ nhánh on 24/11
    older = data.station("bd-gia", pest_area.commune_b, sown_on=SOWN - dt.timedelta(days=20))  # làm đòng
    unknown = data.station("bd-khong-ro", pest_area.commune_c)  # no sowing date: its stage is unknown
    for trap in (young, older, unknown):
        data.counts(trap, dt.date(2026, 11, 24), {"ray-lung-trang": 500})
    alerts.evaluate(NOW)
    alert = Alert.objects.get(organism=hopper)
    assert alert.commune == pest_area.commune_b and alert.evidence["stations"][0]["stage"] == "lam-dong"


def test_survey_thresholds_read_the_weeks_surveys_at_the_stage(pest_catalog, pest_area, pest_officer, sent):
    def survey(commune, day, density, stage="de-nhanh"):
        data.survey(pest_officer, commune, day, {"sau-cuon-la-nho": (density, "")}, stage=stage)

    survey(pest_area.commune_b, dt.date(2026, 11, 23), "60")
    survey(pest_area.commune_b, dt.date(2026, 11, 24), "80")
    survey(pest_area.commune_b, dt.date(2026, 11, 20), "900")  # last week
    survey(pest_area.commune_a, dt.date(2026, 11, 24), "30", stage="lam-dong")  # làm đòng: warn 20, action 40
    survey(pest_area.commune_c, dt.date(2026, 11, 24), "30")  # đẻ nhánh: under 50
    alerts.evaluate(NOW)
    found = {(a.commune_id, a.threshold.stage, a.level, a.value) for a in Alert.objects.select_related("threshold")}
    assert found == {
        (pest_area.commune_b.pk, "de-nhanh", Alert.Level.WARN, Decimal("70.00")),
        (pest_area.commune_a.pk, "lam-dong", Alert.Level.WARN, Decimal("30.00")),
    }
    evidence = Alert.objects.get(commune=pest_area.commune_b).evidence
    assert [s["value"] for s in evidence["surveys"]] == ["60.00", "80.00"]
    assert evidence["surveys_counted"] == 2


def test_a_trap_in_a_merged_commune_alerts_its_successor(trap, pest_area, admin_user, sent):
    old = data.station("bd-cu", pest_area.commune_b, sown_on=SOWN)
    merged = org.merge(
        actor=admin_user,
        sources=[Agency.objects.get(pk=pest_area.commune_b.pk), Agency.objects.get(pk=pest_area.commune_c.pk)],
        name="UBND xã Kiến Thành",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=pest_area.district,
        effective_date=dt.date(2025, 7, 1),
    )
    data.counts(old, dt.date(2026, 11, 24), {"ray-nau": 8000})
    alerts.evaluate(NOW)
    assert Alert.objects.get().commune == merged


def test_no_alert_is_stored_without_its_warnings(trap, monkeypatch):
    def broken(alert):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(warnings, "send_alert", broken)
    data.counts(trap, dt.date(2026, 11, 24), {"ray-nau": 8000})
    with pytest.raises(RuntimeError):
        alerts.evaluate(NOW)
    assert not Alert.objects.exists()


def test_the_real_warnings_reach_the_commune_officer(trap, commune_officer, pest_area):
    data.counts(trap, dt.date(2026, 11, 24), {"ray-nau": 8000})
    result = alerts.evaluate(NOW)
    notice = Message.objects.get(kind="pests.alert.notice", user=commune_officer)
    assert result["messages"] >= 1 and "Rầy nâu" in notice.subject + notice.body
    assert alerts.evaluate(NOW)["messages"] == 0 and Message.objects.filter(kind="pests.alert.notice").count() == 1


# ---------------------------------------------------------------- acknowledge, close


@pytest.fixture
def alert(trap, sent):
    data.counts(trap, dt.date(2026, 11, 24), {"ray-nau": 8000})
    alerts.evaluate(NOW)
    return Alert.objects.get()


def test_acknowledge_then_close_audited(alert, commune_officer):
    alerts.acknowledge(alert, actor=commune_officer)
    assert alert.status == Alert.Status.ACKNOWLEDGED
    with pytest.raises(DomainError) as error:
        alerts.acknowledge(alert, actor=commune_officer)
    assert "Không thể tiếp nhận cảnh báo" in error.value.message
    alerts.close(alert, actor=commune_officer)
    assert alert.status == Alert.Status.CLOSED
    records = list(AuditRecord.objects.filter(action__startswith="pests.alert.").order_by("seq"))
    assert [r.action for r in records] == ["pests.alert.acknowledge", "pests.alert.close"]
    assert records[0].before["status"] == "open" and records[0].after["status"] == "acknowledged"
    assert records[1].agency_id == alert.commune_id


def test_only_officers_of_the_commune_or_the_station_handle_it(alert, admin_user, pest_area, pest_officer):
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import GlobalRole, Role

    elsewhere = accounts.create_officer(
        actor=admin_user,
        username="xa-kien-thanh.cv",
        password="Mat-khau-2025",
        full_name="Phạm Văn Bình",
        memberships=[(pest_area.commune_b, Role.SPECIALIST)],
    )
    with pytest.raises(PermissionDenied):
        alerts.acknowledge(alert, actor=elsewhere)
    auditor = accounts.create_officer(
        actor=admin_user,
        username="thanh-tra",
        password="Mat-khau-2025",
        full_name="Thanh tra",
        global_role=GlobalRole.AUDITOR,
    )
    with pytest.raises(PermissionDenied):
        alerts.close(alert, actor=auditor)
    alerts.close(alert, actor=pest_officer)  # the district's plant-protection station
    assert alert.status == Alert.Status.CLOSED


def test_alert_pages(client, alert, commune_officer, pest_area, admin_user):
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import Role

    client.force_login(commune_officer)
    listing = client.get(reverse("pests:alerts")).content.decode()
    assert "Rầy nâu" in listing and "Kiến An" in listing and "Cảnh báo" in listing
    page = client.get(reverse("pests:alert", args=[alert.pk])).content.decode()
    for words in ("8.000,00", "con/bẫy/đêm", "cảnh báo từ 5.000,00", "bd-kien-an", "Tiếp nhận", "24/11/2026"):
        assert words in page, words
    response = client.post(reverse("pests:alert_acknowledge", args=[alert.pk]))
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
    assert "Tiếp nhận</button>" not in client.get(reverse("pests:alert", args=[alert.pk])).content.decode()
    elsewhere = accounts.create_officer(
        actor=admin_user,
        username="xa-kien-thanh.cv2",
        password="Mat-khau-2025",
        full_name="Võ Thị Hạnh",
        memberships=[(pest_area.commune_b, Role.SPECIALIST)],
    )
    client.force_login(elsewhere)
    assert client.get(reverse("pests:alert", args=[alert.pk])).status_code == 404
    assert client.post(reverse("pests:alert_close", args=[alert.pk])).status_code == 404
    assert "Rầy nâu" not in client.get(reverse("pests:alerts") + "?trang-thai=tat-ca").content.decode()


# ---------------------------------------------------------------- several workers at once (PostgreSQL)


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_issue_each_alert_once(pest_catalog, pest_area, sent):
    if connection.vendor != "postgresql":
        pytest.skip("several connections at once need PostgreSQL; run with DATABASE_URL=postgres://…")
    traps = [
        data.station(f"bd-{n}", commune, sown_on=SOWN)
        for n, commune in enumerate([pest_area.commune_a, pest_area.commune_b, pest_area.commune_c])
    ]
    for trap in traps:
        data.counts(trap, dt.date(2026, 11, 24), {"ray-nau": 25000, "sau-cuon-la-nho": 600})
    workers = 6
    barrier, results, errors = threading.Barrier(workers), [], []

    def worker():
        try:
            barrier.wait()
            results.append(alerts.evaluate(NOW))
        except Exception as error:  # noqa: BLE001 — asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    # 3 communes × (rầy nâu: action; sâu cuốn lá nhỏ: warn, no action level)
    assert Alert.objects.count() == 6
    assert sum(r["issued"] for r in results) == 6
    assert sorted(pk for pk, _ in sent) == sorted(Alert.objects.values_list("pk", flat=True))

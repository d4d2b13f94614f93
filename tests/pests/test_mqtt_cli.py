"""`cqs pests …` against a real broker: simulate-traps publishes what `listen` stores; import-traps,
issue-credentials and export-labels from the command line."""

import datetime as dt
import io
import json
import os
import signal
import threading

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from chinhquyenso.pests import mqtt
from chinhquyenso.pests.models import Station, TrapCount, TrapMessage
from chinhquyenso.pests.services.ingest import ingest, sign
from chinhquyenso.pests.simulate import night_counts, trap_payload

pytestmark = pytest.mark.django_db


def pests(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("pests", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def listening(mosquitto):
    sub = mqtt.Subscriber(mosquitto.url, client_id="cqs-test-cli", username="", password="")
    sub.run(until=lambda: sub.connected, timeout=10)
    sub.run(timeout=0.5)
    yield sub
    sub.close()


def test_simulate_traps_creates_stations_and_publishes_what_the_subscriber_stores(
    pest_catalog, pest_area, mosquitto, listening
):
    out, _ = pests(
        "simulate-traps", "--devices", "4", "--nights", "5", "--url", mosquitto.url, "--create-stations", "--json"
    )
    result = json.loads(out)
    assert (result["devices"], result["messages"], result["created_stations"]) == (4, 20, 4)
    assert result["last_night"] == (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    listening.run(until=lambda: TrapMessage.objects.count() >= 20, timeout=30)
    assert TrapMessage.objects.filter(status="accepted").count() == 20
    assert Station.objects.filter(code__startswith="bd-mo-phong-").count() == 4
    assert {s.commune_id for s in Station.objects.all()} == {c.pk for c in pest_area.communes}
    assert TrapCount.objects.filter(trap_class__code="ray-nau").count() == 20
    # Again with the same seed: the same messages, counted once.
    pests("simulate-traps", "--devices", "4", "--nights", "5", "--url", mosquitto.url)
    listening.run(until=lambda: listening.stats["duplicate"] >= 20, timeout=30)
    assert TrapMessage.objects.count() == 20


def test_simulate_traps_needs_traps_and_a_recent_start(pest_catalog, mosquitto):
    with pytest.raises(CommandError, match="--create-stations"):
        pests("simulate-traps", "--devices", "2", "--nights", "2", "--url", mosquitto.url)
    with pytest.raises(CommandError, match="quá 60 ngày"):
        pests("simulate-traps", "--devices", "2", "--nights", "90", "--url", mosquitto.url, "--create-stations")


def test_night_counts_follow_the_crop():
    import random

    rng = random.Random(5)
    sown = dt.date(2026, 11, 1)

    def mean(day, **kw):
        nights = [
            night_counts(rng, night=sown + dt.timedelta(days=day), sown_on=sown, classes=["ray-nau"], **kw)
            for _ in range(300)
        ]
        return sum(n.get("ray-nau", 0) for n in nights) / len(nights)

    peak, early, late = mean(22), mean(3), mean(95)
    assert 1800 < peak < 3200 and early < 200 and late < 200
    assert mean(22, intensity=3) > 5000  # the demo's outbreak crosses the 5,000 warning
    assert night_counts(rng, night=sown, sown_on=None, classes=["ray-nau", "bo-hung"]).keys() <= {"ray-nau", "bo-hung"}


def test_listen_runs_until_sigterm(smart_trap, mosquitto):
    station, secret = smart_trap
    payload = trap_payload(station.device_id, {"ray-nau": 4}, night=timezone.localdate() - dt.timedelta(days=1))
    # A message waiting for the subscriber's session (it subscribed before, under the configured client id).
    sub = mqtt.Subscriber(mosquitto.url, client_id="cqs-pests-ingest", username="", password="")
    sub.run(until=lambda: sub.connected, timeout=10)
    sub.run(timeout=0.5)
    sub.close()
    from chinhquyenso.pests.simulate import Publisher

    with Publisher(mosquitto.url, "dev") as publisher:
        publisher.send(station.device_id, secret, payload)
    timer = threading.Timer(4, lambda: os.kill(os.getpid(), signal.SIGTERM))
    timer.start()
    previous = signal.getsignal(signal.SIGTERM)
    out, _ = pests("listen", "--url", mosquitto.url)
    timer.join()
    assert signal.getsignal(signal.SIGTERM) == previous
    assert "Nhận 1 tin nhắn: ghi nhận 1" in out and TrapMessage.objects.count() == 1


def test_import_traps(smart_trap, tmp_path):
    path = tmp_path / "so.csv"
    path.write_text("mã trạm,ngày,mã lớp,số lượng\nbd-kien-an-01,01/10/2026,ray-nau,12\n", encoding="utf-8")
    out, _ = pests("import-traps", str(path))
    assert "1 đêm bẫy mới" in out
    out, _ = pests("import-traps", str(path), "--json")
    assert json.loads(out)["duplicates"] == 1
    path.write_text("mã trạm,ngày,mã lớp,số lượng\nbd-kien-an-01,01/10/2026,ray-nau,-1\n", encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        pests("import-traps", str(path))
    assert stop.value.code == 1
    with pytest.raises(CommandError, match="Không tìm thấy tệp"):
        pests("import-traps", str(tmp_path / "khong-co.csv"))


def test_issue_credentials_prints_the_secret_once(smart_trap):
    station, old = smart_trap
    out, err = pests("issue-credentials", station.code)
    secret = out.split("Mã bí mật: ")[1].strip()
    assert "Mã thiết bị: bd-kien-an-01" in out and len(secret) == 64 and "một lần" in err
    payload = trap_payload(station.device_id, {"ray-nau": 1}, night=timezone.localdate() - dt.timedelta(days=1))
    assert ingest(payload, transport="http", signature=sign(payload, secret)).status == "accepted"
    with pytest.raises(CommandError, match="Không có trạm"):
        pests("issue-credentials", "khong-co")


def test_export_labels_calls_the_identification_service(db, tmp_path, monkeypatch):
    from chinhquyenso.pests.services import identification

    calls = []

    def fake(directory, *, actor=None):
        calls.append((str(directory), actor))
        return {
            "directory": str(directory),
            "photos": 3,
            "classes": {"ray-nau": 2, "dao-on": 1},
            "skipped": 0,
            "conflicts": 1,
        }

    monkeypatch.setattr(identification, "export_labels", fake)
    out, _ = pests("export-labels", str(tmp_path / "anh"))
    assert "Đã xuất 3 ảnh, 2 lớp" in out and "Bỏ qua 1 ảnh" in out and calls == [(str(tmp_path / "anh"), None)]
    with pytest.raises(CommandError, match="Không có tài khoản"):
        pests("export-labels", str(tmp_path / "anh"), "--user", "khong-co")

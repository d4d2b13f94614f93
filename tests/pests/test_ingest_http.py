"""POST /api/pests/traps/{device_id}/counts: the HTTP path of the same messages (no session, no CSRF
token: the device's signature authenticates it)."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from chinhquyenso.pests.models import IngestProblem, TrapCount, TrapMessage
from chinhquyenso.pests.services.ingest import sign
from chinhquyenso.pests.simulate import trap_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)


def post(client, device_id, payload: bytes, signature: str | None):
    headers = {"X-Signature": signature} if signature is not None else {}
    return client.post(
        f"/api/pests/traps/{device_id}/counts", data=payload, content_type="application/json", headers=headers
    )


def last_night():
    return timezone.localdate() - dt.timedelta(days=1)


def test_accepted_then_duplicate(client, smart_trap):
    station, secret = smart_trap
    payload = trap_payload(station.device_id, {"ray-nau": 800, "bo-rua-do": 12}, night=last_night())
    response = post(client, station.device_id, payload, sign(payload, secret))
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "accepted", "message_id": f"bd-kien-an-01-{last_night():%Y%m%d}", "reason": ""}
    response = post(client, station.device_id, payload, sign(payload, secret))
    assert (response.status_code, response.json()["status"]) == (200, "duplicate")
    assert TrapMessage.objects.get().transport == "http" and TrapCount.objects.count() == 2


def test_flagged_is_stored_and_said(client, smart_trap):
    station, secret = smart_trap
    payload = trap_payload(station.device_id, {"khong-co": 1}, night=last_night())
    body = post(client, station.device_id, payload, sign(payload, secret)).json()
    assert body["status"] == "flagged" and "khong-co" in body["reason"]


def test_refusals_in_the_api_error_shape(client, smart_trap):
    station, secret = smart_trap
    payload = trap_payload(station.device_id, {"ray-nau": 1}, night=last_night())
    cases = [
        (post(client, station.device_id, payload, "0" * 64), 401, "signature"),
        (post(client, station.device_id, payload, None), 401, "signature"),
        (post(client, "bd-khac", payload, sign(payload, secret)), 401, "device_id"),
    ]
    negative = trap_payload(station.device_id, {"ray-nau": -1}, night=last_night(), message_id="am")
    cases.append((post(client, station.device_id, negative, sign(negative, secret)), 422, "counts.ray-nau"))
    broken = b'{"device_id": "bd-kien-an-01", '
    cases.append((post(client, station.device_id, broken, sign(broken, secret)), 422, "payload"))
    for response, status, field in cases:
        assert response.status_code == status, response.content
        body = response.json()
        assert set(body) == {"detail", "field", "code"} and body["field"] == field and body["detail"]
    assert cases[0][0].json()["code"] == "device_unauthenticated"
    assert IngestProblem.objects.count() == 5 and not TrapMessage.objects.exists()
    # The same message id with other content: 409.
    assert post(client, station.device_id, payload, sign(payload, secret)).status_code == 200
    other = trap_payload(station.device_id, {"ray-nau": 2}, night=last_night())
    response = post(client, station.device_id, other, sign(other, secret))
    assert (response.status_code, response.json()["code"]) == (409, "conflict")


def test_throttled_per_device(client, smart_trap, settings, monkeypatch):
    from chinhquyenso.core import throttle

    monkeypatch.setattr(throttle, "clock", lambda: 1_800_000_000.0)
    settings.CQS = {**settings.CQS, "PESTS_DEVICE_PER_MINUTE": 2}
    station, secret = smart_trap
    statuses = []
    for n in range(3):
        payload = trap_payload(station.device_id, {"ray-nau": n}, night=last_night(), message_id=f"m{n}")
        statuses.append(post(client, station.device_id, payload, sign(payload, secret)).status_code)
    assert statuses == [200, 200, 429]


def test_the_operation_is_documented(client):
    schema = json.loads(client.get("/api/openapi.json").content)
    operation = schema["paths"]["/api/pests/traps/{device_id}/counts"]["post"]
    assert "X-Signature" in json.dumps(operation["parameters"]) and "requestBody" in operation
    assert "security" not in operation

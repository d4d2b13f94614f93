"""Who may call what, through the real `/r1/` endpoint of a live server with generated
certificates: whole-service rights, one-operation rights, no right, an inactive client, an
inactive service; and a token signed by a library we did not write (PyJWT)."""

import time
import uuid

import jwt
import pytest

from chinhquyenso.exchange.bus import keys, security
from chinhquyenso.exchange.models import BusLogEntry

from .registry_support import (
    INACTIVE_SERVICE,
    SERVICE,
    assert_refused,
    log_entry,
    make_bus,
    register_handlers,
    send,
    unregister_handlers,
)


@pytest.fixture
def bus(live_server):
    register_handlers()
    try:
        yield make_bus()
    finally:
        unregister_handlers()


OK = "ok"
# client × (method, path, body) → expected answer
CASES = [
    ("full", "GET", "/items/42", b"", 200),
    ("full", "POST", "/items", '{"name": "Sổ hộ tịch"}'.encode(), 201),
    ("full", "DELETE", "/items/42", b"", 204),
    ("reader", "GET", "/items/42", b"", 200),
    ("reader", "POST", "/items", b'{"name": "x"}', (403, "access_denied")),
    ("reader", "DELETE", "/items/42", b"", (403, "access_denied")),
    ("stranger", "GET", "/items/42", b"", (403, "access_denied")),
    ("stranger", "POST", "/items", b'{"name": "x"}', (403, "access_denied")),
    ("inactive", "GET", "/items/42", b"", (401, "unauthenticated")),
]


@pytest.mark.parametrize(("who", "method", "path", "body", "expected"), CASES)
def test_access_matrix(bus, live_server, who, method, path, body, expected):
    response = send(live_server.url, bus[who], method, path, body=body)
    if isinstance(expected, int):
        assert response.status_code == expected, response.text
        entry = log_entry(response)
        assert entry.outcome == BusLogEntry.Outcome.OK and entry.client == bus[who].id and entry.service == SERVICE
        assert entry.operation == {"GET": "read", "POST": "write", "DELETE": "remove"}[method]
        assert entry.request_body == body.decode()
        if expected == 200:
            assert response.json() == {"id": "42", "client": bus[who].id, "query": ""}
        return
    status, code = expected
    assert_refused(response, status, code)
    entry = log_entry(response)
    assert entry.outcome == BusLogEntry.Outcome.REFUSED


def test_an_inactive_service_is_unknown_even_to_a_client_with_a_right(bus, live_server):
    response = send(live_server.url, bus["full"], "GET", "/items/1", service=INACTIVE_SERVICE)
    assert_refused(response, 404, "unknown_service")


def test_switching_a_client_off_takes_effect_at_once(bus, live_server):
    from chinhquyenso.exchange.models import BusSubsystem

    assert send(live_server.url, bus["full"], "GET", "/items/1").status_code == 200
    subsystem = BusSubsystem.objects.get(code="toan-quyen")
    subsystem.active = False
    subsystem.save()
    assert_refused(send(live_server.url, bus["full"], "GET", "/items/1"), 401, "unauthenticated")


def test_a_token_signed_with_pyjwt_is_accepted(bus, live_server):
    caller = bus["reader"]
    now = int(time.time())
    claims = {
        "iss": caller.id,
        "aud": SERVICE,
        "htm": "GET",
        "htu": "/items/7?lang=vi",
        "bh": security.body_hash(b""),
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(
        claims, caller.key_pem, algorithm="ES256", headers={"x5t#S256": keys.thumbprint(caller.cert_pem)}
    )
    headers = {"X-Road-Client": caller.id, "X-Road-Signature": token}
    response = send(live_server.url, None, "GET", "/items/7", query="lang=vi", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["query"] == "lang=vi"
    assert log_entry(response).client == caller.id

"""The `/r1/` endpoint with bad input: every kind answers its status and the bus's JSON error
body, and leaves an entry in the message log — never a 500, never Django's HTML page."""

import time
import uuid

import httpx
import pytest
from django.conf import settings

from chinhquyenso.exchange.bus import keys, security
from chinhquyenso.exchange.models import BusLogEntry

from .registry_support import (
    PROVIDER,
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


def test_a_good_call_answers_with_its_message_id_and_log_entry(bus, live_server):
    caller = bus["full"]
    headers = {**caller.headers(SERVICE, "POST", "/items", b'{"name": "a"}'), "X-Road-Id": "msg-0001"}
    headers["Idempotency-Key"] = "khoa-1"
    response = send(live_server.url, caller, "POST", "/items", body=b'{"name": "a"}', headers=headers)
    assert response.status_code == 201 and response.json() == {"created": "a"}
    assert response.headers["X-Road-Id"] == "msg-0001"
    entry = log_entry(response)
    assert (entry.message_id, entry.idempotency_key, entry.asynchronous) == ("msg-0001", "khoa-1", False)


def test_malformed_json_and_schema_mismatch_are_invalid_bodies(bus, live_server):
    caller = bus["full"]
    assert_refused(send(live_server.url, caller, "POST", "/items", body=b'{"name": '), 422, "invalid_body")
    body = assert_refused(send(live_server.url, caller, "POST", "/items", body=b'{"nam": "x"}'), 422, "invalid_body")
    assert "lược đồ" in body["detail"]
    assert_refused(send(live_server.url, caller, "POST", "/items", body=b"\xff\xfe{}"), 422, "invalid_body")


def test_unknown_service_and_operation(bus, live_server):
    caller = bus["full"]
    assert_refused(
        send(live_server.url, caller, "GET", "/items/1", service=f"{PROVIDER}/khong-co"), 404, "unknown_service"
    )
    assert_refused(send(live_server.url, caller, "GET", "/khong-co/1"), 404, "unknown_operation")
    assert_refused(send(live_server.url, caller, "PUT", "/items/1", body=b"{}"), 404, "unknown_operation")


@pytest.mark.parametrize(
    "address",
    [
        "VN/GOV/000.00.00.T01",
        "VN/GOV/a b/thu-nghiem/kho/items/1",
        "VN/GOV/%FF%FE/thu-nghiem/kho/items/1",
        "VN//x/y/z/w",
    ],
)
def test_bad_addresses_are_bad_requests(bus, live_server, address):
    response = httpx.get(f"{live_server.url}/r1/{address}", headers={"X-Road-Client": bus["full"].id}, timeout=20)
    body = assert_refused(response, 400, "bad_request")
    assert body["field"] == "path"


def test_unstorable_characters_are_refused_in_the_bus_format(bus, live_server):
    caller = bus["full"]
    assert_refused(send(live_server.url, caller, "POST", "/items", body=b'{"name": "a\\u0000b"}'), 400, "bad_request")
    assert_refused(send(live_server.url, caller, "POST", "/items", body=b'{"name": "a\x00b"}'), 400, "bad_request")
    response = httpx.get(
        f"{live_server.url}/r1/{SERVICE}/items/a%00b", headers={"X-Road-Client": caller.id}, timeout=20
    )
    assert_refused(response, 400, "bad_request")


def test_oversize_bodies(bus, live_server, monkeypatch):
    caller = bus["full"]
    # Over the bus's limit but under Django's DATA_UPLOAD_MAX_MEMORY_SIZE, then over both.
    big = b'{"name": "' + b"x" * settings.CQS["BUS_MAX_BODY_BYTES"] + b'"}'
    body = assert_refused(send(live_server.url, caller, "POST", "/items", body=big), 413, "body_too_large")
    assert body["field"] == "body" and log_entry_body_is_empty(body)
    huge = b'{"name": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b'"}'
    assert_refused(send(live_server.url, caller, "POST", "/items", body=huge), 413, "body_too_large")
    monkeypatch.setitem(settings.CQS, "BUS_MAX_BODY_BYTES", 20)
    assert_refused(
        send(live_server.url, caller, "POST", "/items", body=b'{"name": "long enough"}'), 413, "body_too_large"
    )


def log_entry_body_is_empty(body) -> bool:
    return BusLogEntry.objects.get(seq=body["log_entry"]).request_body == ""


def test_a_replayed_request_is_refused(bus, live_server):
    caller = bus["full"]
    headers = caller.headers(SERVICE, "GET", "/items/1")
    assert send(live_server.url, caller, "GET", "/items/1", headers=headers).status_code == 200
    assert_refused(send(live_server.url, caller, "GET", "/items/1", headers=headers), 409, "replayed")


def _token(caller, **overrides):
    now = int(time.time())
    claims = {
        "iss": caller.id,
        "aud": SERVICE,
        "htm": "GET",
        "htu": "/items/1",
        "bh": security.body_hash(b""),
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return claims


def _sign(claims, key_pem, cert_pem):
    import jwt

    return jwt.encode(claims, key_pem, algorithm="ES256", headers={"x5t#S256": keys.thumbprint(cert_pem)})


@pytest.mark.parametrize(
    ("what", "expected_words"),
    [
        ("no token", "Thiếu mã ký"),
        ("no client header", "X-Road-Client"),
        ("garbage token", "không đúng dạng"),
        ("another key, registered certificate", "Chữ ký"),
        ("unregistered certificate", "không phải chứng thư đã đăng ký"),
        ("unknown client", "không có trong danh mục"),
        ("iss differs from the header", "iss"),
        ("another service", "aud"),
        ("another method", "htm"),
        ("another path", "htu"),
        ("another body", "bh"),
        ("lives too long", "quá dài"),
        ("expired", "hết hạn"),
        ("from the future", "tương lai"),
        ("missing jti", "jti"),
    ],
)
def test_bad_tokens_are_unauthenticated_and_say_why(bus, live_server, what, expected_words):
    caller = bus["full"]
    other_key, other_cert = keys.generate_identity("ke-gia-mao")
    key, cert, client = caller.key_pem, caller.cert_pem, caller.id
    claims = _token(caller)
    now = claims["iat"]
    if what == "another key, registered certificate":
        key = other_key
    elif what == "unregistered certificate":
        key, cert = other_key, other_cert
    elif what == "unknown client":
        client = claims["iss"] = "VN/GOV/000.00.00.T02/khong-ton-tai"
    elif what == "iss differs from the header":
        claims["iss"] = bus["reader"].id
    elif what == "another service":
        claims["aud"] = f"{PROVIDER}/khac"
    elif what == "another method":
        claims["htm"] = "DELETE"
    elif what == "another path":
        claims["htu"] = "/items/2"
    elif what == "another body":
        claims["bh"] = security.body_hash(b"{}")
    elif what == "lives too long":
        claims["exp"] = now + 3600
    elif what == "expired":
        claims["iat"], claims["exp"] = now - 400, now - 200
    elif what == "from the future":
        claims["iat"], claims["exp"] = now + 200, now + 260
    elif what == "missing jti":
        del claims["jti"]
    headers = {"X-Road-Client": client, "X-Road-Signature": _sign(claims, key, cert)}
    if what == "no token":
        del headers["X-Road-Signature"]
    elif what == "no client header":
        del headers["X-Road-Client"]
    elif what == "garbage token":
        headers["X-Road-Signature"] = "khong-phai-jwt"
    response = send(live_server.url, None, "GET", "/items/1", headers=headers)
    body = assert_refused(response, 401, "unauthenticated")
    assert expected_words in body["detail"], body["detail"]
    assert log_entry(response).outcome == BusLogEntry.Outcome.REFUSED


def _expired_identity() -> tuple[str, str]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "het-han")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=10))
        .not_valid_after(now - dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def test_an_expired_certificate_is_refused(bus, live_server):
    from chinhquyenso.exchange.models import BusSubsystem

    key_pem, cert_pem = _expired_identity()
    BusSubsystem.objects.filter(code="toan-quyen").update(certificate=cert_pem)
    from chinhquyenso.exchange.bus import registry

    registry.invalidate()  # a queryset update sends no signal
    caller = bus["full"]
    caller.key_pem, caller.cert_pem = key_pem, cert_pem
    body = assert_refused(send(live_server.url, caller, "GET", "/items/1"), 401, "unauthenticated")
    assert "hết hạn" in body["detail"]


def test_other_methods_and_bad_headers(bus, live_server):
    caller = bus["full"]
    response = httpx.request("OPTIONS", f"{live_server.url}/r1/{SERVICE}/items/1", timeout=20)
    assert_refused(response, 400, "bad_request")
    headers = {**caller.headers(SERVICE, "GET", "/items/1"), "X-Road-Id": "co dau cach"}
    assert_refused(send(live_server.url, caller, "GET", "/items/1", headers=headers), 400, "bad_request")
    headers = {**caller.headers(SERVICE, "GET", "/items/1"), "Idempotency-Key": "x" * 201}
    assert_refused(send(live_server.url, caller, "GET", "/items/1", headers=headers), 400, "bad_request")


def test_the_root_of_the_bus_answers_json(live_server):
    response = httpx.get(f"{live_server.url}/r1/", timeout=20)
    assert response.status_code == 404 and response.headers["content-type"].startswith("application/json")


def test_the_same_token_sent_twice_at_once_gets_through_once(bus, live_server):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("four writers at once: run on PostgreSQL (SQLite serializes writers and may time out)")
    caller = bus["full"]
    headers = caller.headers(SERVICE, "GET", "/items/1")
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: send(live_server.url, caller, "GET", "/items/1", headers=headers), range(4)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    assert BusLogEntry.objects.filter(error_code="replayed").count() == 3


def test_a_failing_local_handler_is_a_logged_502_not_a_500(bus, live_server):
    response = send(live_server.url, bus["full"], "DELETE", "/items/loi")
    assert_refused(response, 502, "remote_error")
    assert log_entry(response).outcome == BusLogEntry.Outcome.REMOTE_ERROR

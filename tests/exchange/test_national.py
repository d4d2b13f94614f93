"""National systems behind adapters: the bus adapters (exchange.national.http, every call through
the data bus) against a real local server speaking our wire format, the in-process simulators'
conventions, and the rule that a failed population lookup never blocks the counter."""

import dataclasses
import datetime as dt
import hashlib
import json
import re
import socket
import threading
import time
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chinhquyenso.exchange.national import national_portal, payment_gateway, population_registry
from chinhquyenso.exchange.national.base import NationalSystemError, Person
from chinhquyenso.exchange.national.http import HttpNationalPortal, HttpPaymentGateway, HttpPopulationRegistry
from chinhquyenso.exchange.national.simulators import (
    SimulatedNationalPortal,
    SimulatedPaymentGateway,
    SimulatedPopulationRegistry,
)
from tests.conftest import vn
from tests.exchange.connectors.busfixtures import connect

LOOKUP = "/persons/lookup"  # the citizen ID travels in the body, never in the URL
CITIZEN = {
    "identity_number": "089201001234",
    "full_name": "Trần Văn Bé",
    "birth_date": "1990-03-15",
    "gender": "Nam",
    "address": "Ấp Long Hòa, xã Kiến An",
}


# -- a local stand-in for the national systems ---------------------------------


@dataclasses.dataclass
class Fault:
    """One scripted answer that replaces the normal one: a status and body, after a delay."""

    status: int = 200
    body: bytes = b""
    delay: float = 0.0


class FakeNational:
    """Speaks the adapter wire format (docs/national-systems.md) from small
    in-memory stores; `fail(method, path, *faults)` scripts the next answers."""

    def __init__(self):
        self.citizens = {CITIZEN["identity_number"]: dict(CITIZEN)}
        self.procedures = [
            {
                "code": "1.001193",
                "name": "Đăng ký khai sinh",
                "field_code": "ho-tich",
                "field_name": "Hộ tịch",
                "service_level": "full_online",
                "processing_days": 3,
            }
        ]
        self.payments = {}  # transaction_ref → {"order_ref", "amount", "status"}
        self.statuses = []
        self.requests = []  # (method, path, headers, body) in arrival order
        self.faults = {}
        self.release = threading.Event()  # set at teardown so delayed answers stop waiting
        self.lock = threading.Lock()

    def fail(self, method, path, *faults):
        self.faults.setdefault((method, path), []).extend(faults)

    def count(self, method, path):
        return sum(1 for m, p, _, _ in self.requests if (m, p) == (method, path))

    def handle(self, method, path, headers, body):
        with self.lock:
            self.requests.append((method, path, headers, body))
            queue = self.faults.get((method, path))
            fault = queue.pop(0) if queue else None
        if fault:
            self.release.wait(fault.delay)
            return fault.status, fault.body
        if method == "POST" and path == LOOKUP:
            person = self.citizens.get(json.loads(body)["identity_number"])
            return (200, person) if person else (404, {"error": "not found"})
        if method == "GET" and path == "/catalog":
            return 200, self.procedures
        if method == "POST" and (m := re.fullmatch(r"/dossiers/([^/]+)/status", path)):
            self.statuses.append({"code": m[1], **json.loads(body)})
            return 204, None
        if method == "POST" and path == "/payments":
            order = json.loads(body)
            ref = (
                "PG" + hashlib.sha256(order["order_ref"].encode()).hexdigest()[:10]
            )  # same order → same ref (idempotent)
            self.payments.setdefault(ref, {**order, "status": "pending"})
            return 200, {"transaction_ref": ref, "pay_url": f"https://paygov.example/pay/{ref}"}
        if method == "GET" and (m := re.fullmatch(r"/payments/([^/]+)", path)):
            payment = self.payments.get(m[1])
            return (200, {"status": payment["status"]}) if payment else (404, {"error": "not found"})
        return 404, {"error": "no such route"}


class _Handler(BaseHTTPRequestHandler):
    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload = self.server.fake.handle(self.command, self.path, dict(self.headers), body)
        data = payload if isinstance(payload, bytes) else (b"" if payload is None else json.dumps(payload).encode())
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout test); nothing to answer

    do_GET = do_POST = _serve

    def log_message(self, *args):
        pass


@pytest.fixture
def national():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.fake = FakeNational()
    server.fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.fake
    server.fake.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def configured(db, settings, national):
    """All three bus adapters, the registry loaded, the providers' addresses at the local server."""
    connect(
        settings,
        POPULATION_BASE_URL=national.url,
        NATIONAL_PORTAL_BASE_URL=national.url + "/",
        PAYMENT_BASE_URL=national.url,
        NATIONAL_TIMEOUT_SECONDS=2,
        NATIONAL_RETRIES=1,
        NATIONAL_BACKOFF_SECONDS=0,
        POPULATION_TOKEN="tok-dan-cu",
    )
    return national


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


# -- population database over HTTP ---------------------------------------------


def test_lookup_returns_the_registered_person_with_token(configured):
    configured.citizens[CITIZEN["identity_number"]]["full_name"] = unicodedata.normalize("NFD", "Trần Văn Bé")
    person = HttpPopulationRegistry().lookup("0892 0100 1234")
    assert person == Person("089201001234", "Trần Văn Bé", dt.date(1990, 3, 15), "Nam", "Ấp Long Hòa, xã Kiến An")
    assert person.full_name == unicodedata.normalize("NFC", person.full_name)
    method, path, headers, body = configured.requests[0]
    assert (method, path, json.loads(body)) == ("POST", LOOKUP, {"identity_number": "089201001234"})
    assert headers["Authorization"] == "Bearer tok-dan-cu"  # the provider's own credentials, passed on
    assert headers["X-Road-Client"].endswith("/mot-cua")


def test_unknown_citizen_is_none_not_an_error(configured):
    assert HttpPopulationRegistry().lookup("089201009999") is None
    assert configured.count("POST", LOOKUP) == 1


def test_no_citizen_id_in_a_url(configured):
    HttpPopulationRegistry().lookup("089201001234")
    HttpPopulationRegistry().lookup("089201009999")
    assert [(m, p) for m, p, _, _ in configured.requests] == [("POST", LOOKUP)] * 2
    assert [json.loads(b)["identity_number"] for _, _, _, b in configured.requests] == ["089201001234", "089201009999"]


def test_what_is_not_an_id_is_not_asked(configured):
    # 12 digits (citizen ID) or 9 (old ID card): anything else has nobody behind it.
    for number in ("12345", "0892010012345", "08920100123a", "../persons"):
        assert HttpPopulationRegistry().lookup(number) is None
    assert configured.requests == []
    assert HttpPopulationRegistry().lookup("089201001") is None  # 9 digits: asked, not found
    assert configured.count("POST", LOOKUP) == 1


def test_server_error_is_retried_once_then_succeeds(configured):
    configured.fail("POST", LOOKUP, Fault(500, b"loi"))
    assert HttpPopulationRegistry().lookup("089201001234").full_name == "Trần Văn Bé"
    assert configured.count("POST", LOOKUP) == 2


def test_server_error_every_time_gives_up_with_vietnamese_message(configured, caplog):
    configured.fail("POST", LOOKUP, *[Fault(502)] * 5)
    with pytest.raises(NationalSystemError) as error:
        HttpPopulationRegistry().lookup("089201001234")
    assert error.value.message == (
        "Cơ sở dữ liệu quốc gia về dân cư đang gặp sự cố (mã lỗi HTTP 502, đã thử 2 lần); hãy thử lại sau."
    )
    assert configured.count("POST", LOOKUP) == 2  # a synchronous call is tried again at most once
    # The logs say what failed, never whose record was asked for.
    assert "remote_error" in caplog.text and "089201001234" not in caplog.text


def test_timeout_maps_to_vietnamese_message(settings, configured):
    settings.CQS = {**settings.CQS, "NATIONAL_TIMEOUT_SECONDS": 0.2, "NATIONAL_RETRIES": 1}
    configured.fail("POST", LOOKUP, Fault(delay=5), Fault(delay=5))
    started = time.monotonic()
    with pytest.raises(NationalSystemError) as error:
        HttpPopulationRegistry().lookup("089201001234")
    assert time.monotonic() - started < 3
    assert error.value.message.startswith("Cơ sở dữ liệu quốc gia về dân cư không phản hồi trong 0,2 giây")
    assert configured.count("POST", LOOKUP) == 2


def test_slow_answer_then_fast_one_succeeds(settings, configured):
    settings.CQS = {**settings.CQS, "NATIONAL_TIMEOUT_SECONDS": 0.2}
    configured.fail("POST", LOOKUP, Fault(delay=5))
    assert HttpPopulationRegistry().lookup("089201001234").identity_number == "089201001234"


@pytest.mark.parametrize(
    "status, words",
    [
        (400, "từ chối yêu cầu (mã lỗi HTTP 400)"),
        (403, "từ chối quyền truy cập (mã lỗi HTTP 403)"),
        (301, "trả lời chuyển hướng (mã HTTP 301)"),
    ],
)
def test_client_errors_and_redirects_are_not_retried(configured, status, words):
    configured.fail("POST", LOOKUP, Fault(status, b'{"error": "x"}'))
    with pytest.raises(NationalSystemError) as error:
        HttpPopulationRegistry().lookup("089201001234")
    assert words in error.value.message
    assert configured.count("POST", LOOKUP) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Bao tri</html>",
        b'["not", "an", "object"]',
        b'{"identity_number": "089201001234"}',
        b'{"identity_number": "089201001234", "full_name": "A", "birth_date": "15/03/1990"}',
    ],
)
def test_malformed_answer_is_an_error(configured, body):
    configured.fail("POST", LOOKUP, Fault(200, body))
    with pytest.raises(NationalSystemError) as error:
        HttpPopulationRegistry().lookup("089201001234")
    assert "trả về dữ liệu không đúng định dạng" in error.value.message


def test_answer_about_another_person_is_rejected(configured):
    configured.fail("POST", LOOKUP, Fault(200, json.dumps({**CITIZEN, "identity_number": "089201005678"}).encode()))
    with pytest.raises(NationalSystemError, match="không khớp"):
        HttpPopulationRegistry().lookup("089201001234")


def test_code_cannot_change_the_route(configured):
    HttpNationalPortal().push_dossier_status(
        dossier_code="../payments", status="accepted", at=vn(2025, 1, 20, 9), agency_code="000.07.01.H01"
    )
    assert configured.requests[0][1] == "/dossiers/..%2Fpayments/status"


def test_connection_refused(db, settings):
    connect(settings, POPULATION_BASE_URL=closed_port_url(), NATIONAL_RETRIES=1, NATIONAL_BACKOFF_SECONDS=0)
    with pytest.raises(NationalSystemError) as error:
        HttpPopulationRegistry().lookup("089201001234")
    assert error.value.message.startswith("Không kết nối được Cơ sở dữ liệu quốc gia về dân cư (đã thử 2 lần)")


@pytest.mark.parametrize(
    "adapter, call, key",
    [
        (HttpPopulationRegistry, lambda a: a.lookup("089201001234"), "CQS_POPULATION_BASE_URL"),
        (HttpNationalPortal, lambda a: a.fetch_catalog(), "CQS_NATIONAL_PORTAL_BASE_URL"),
        (
            HttpPaymentGateway,
            lambda a: a.create_payment(order_ref="X", amount=1000, description="Lệ phí"),
            "CQS_PAYMENT_BASE_URL",
        ),
    ],
)
def test_missing_base_url_says_which_setting(db, settings, adapter, call, key):
    connect(settings, **{key.removeprefix("CQS_"): ""})
    with pytest.raises(NationalSystemError) as error:
        call(adapter())
    assert error.value.message.startswith("Chưa cấu hình địa chỉ kết nối") and key in error.value.message


def test_base_url_without_scheme_is_a_clear_error(db, settings):
    connect(settings, POPULATION_BASE_URL="dancu.gov.vn/api")
    with pytest.raises(NationalSystemError, match="phải bắt đầu bằng http:// hoặc https://"):
        HttpPopulationRegistry().lookup("089201001234")


# -- national portal and payments over HTTP -------------------------------------


def test_portal_catalog_and_status_push(configured):
    catalog = HttpNationalPortal().fetch_catalog()
    assert [(p["code"], p["name"], p["processing_days"]) for p in catalog] == [("1.001193", "Đăng ký khai sinh", 3)]
    HttpNationalPortal().push_dossier_status(
        dossier_code="000.07.01.H01-250120-0001",
        status="accepted",
        at=vn(2025, 1, 20, 9, 30),
        agency_code="000.07.01.H01",
    )
    assert configured.statuses == [
        {
            "code": "000.07.01.H01-250120-0001",
            "status": "accepted",
            "at": "2025-01-20T02:30:00Z",
            "agency_code": "000.07.01.H01",
        }
    ]
    assert configured.requests[0][2].get("Authorization") is None  # no token configured for the portal


def test_portal_catalog_must_be_a_list_of_procedures(configured):
    configured.fail("GET", "/catalog", Fault(200, b'{"procedures": []}'), Fault(200, '[{"name": "Không mã"}]'.encode()))
    for _ in range(2):
        with pytest.raises(NationalSystemError, match="không đúng định dạng"):
            HttpNationalPortal().fetch_catalog()


def test_payment_create_retry_does_not_double_charge(configured):
    configured.fail("POST", "/payments", Fault(503))
    intent = HttpPaymentGateway().create_payment(order_ref="HS-0001", amount=8000, description="Lệ phí khai sinh")
    assert intent.amount == 8000 and intent.pay_url.endswith(intent.transaction_ref)
    assert configured.count("POST", "/payments") == 2
    assert len(configured.payments) == 1
    assert all(h["Idempotency-Key"] == "HS-0001" for m, _, h, _ in configured.requests if m == "POST")
    assert json.loads(configured.requests[-1][3]) == {
        "order_ref": "HS-0001",
        "amount": 8000,
        "description": "Lệ phí khai sinh",
    }
    gateway = HttpPaymentGateway()
    assert gateway.payment_status(intent.transaction_ref) == "pending"
    configured.payments[intent.transaction_ref]["status"] = "paid"
    assert gateway.payment_status(intent.transaction_ref) == "paid"


def test_payment_status_errors(configured):
    with pytest.raises(NationalSystemError, match="không tìm thấy giao dịch"):
        HttpPaymentGateway().payment_status("PG0000000000")
    configured.payments["PG1"] = {"status": "done"}
    with pytest.raises(NationalSystemError, match="không đúng định dạng"):
        HttpPaymentGateway().payment_status("PG1")


def test_factory_follows_settings(settings):
    assert isinstance(population_registry(), SimulatedPopulationRegistry)
    settings.CQS = {
        **settings.CQS,
        "POPULATION_ADAPTER": "http",
        "NATIONAL_PORTAL_ADAPTER": "http",
        "PAYMENT_ADAPTER": "http",
    }
    assert isinstance(population_registry(), HttpPopulationRegistry)
    assert isinstance(national_portal(), HttpNationalPortal)
    assert isinstance(payment_gateway(), HttpPaymentGateway)


# -- simulators' conventions -----------------------------------------------------


def test_simulated_population_conventions(db, citizen):
    registry = SimulatedPopulationRegistry()
    with pytest.raises(NationalSystemError, match="mô phỏng sự cố"):
        registry.lookup("000000123456")
    registered = registry.lookup(citizen.identity_number)
    assert registered.full_name == "Nguyễn Thị Hoà" and registered.gender == "Nữ" and registered.address
    made_up = registry.lookup("089201001234")
    assert made_up == registry.lookup("089201001234") and made_up.full_name and made_up.birth_date
    assert registry.lookup("089201001239") is None
    assert registry.lookup("12345") is None


def test_counter_typed_data_does_not_verify_itself(officers, birth_procedure):
    # The first submission creates an account from the typed name; the second
    # must still be checked against the registry, not against that account.
    assert not counter_submit(officers, identity_number="089201001234", full_name="Người Gõ Tay").applicant_verified
    assert not counter_submit(officers, identity_number="089201001234", full_name="Người Gõ Tay").applicant_verified


def test_simulated_portal(db, birth_procedure):
    portal = SimulatedNationalPortal()
    assert [(p["code"], p["field_name"], p["service_level"]) for p in portal.fetch_catalog()] == [
        ("1.001193", "Hộ tịch", "full_online")
    ]
    portal.push_dossier_status(
        dossier_code="X-1", status="accepted", at=vn(2025, 1, 20, 9), agency_code="000.07.01.H01"
    )
    assert portal.pushed[0]["dossier_code"] == "X-1"
    with pytest.raises(NationalSystemError):
        portal.push_dossier_status(dossier_code="", status="accepted", at=vn(2025, 1, 20, 9), agency_code="x")


def test_simulated_payments():
    gateway = SimulatedPaymentGateway()
    paid = gateway.create_payment(order_ref="HS-1", amount=8000, description="Lệ phí")
    assert paid == gateway.create_payment(order_ref="HS-1", amount=8000, description="Lệ phí")
    assert gateway.payment_status(paid.transaction_ref) == "paid"
    assert (
        gateway.payment_status(
            gateway.create_payment(order_ref="HS-2-pending", amount=1, description="").transaction_ref
        )
        == "pending"
    )
    assert (
        gateway.payment_status(
            gateway.create_payment(order_ref="HS-3-failed", amount=1, description="").transaction_ref
        )
        == "failed"
    )
    with pytest.raises(NationalSystemError, match="không tìm thấy giao dịch"):
        gateway.payment_status("PG123")
    with pytest.raises(ValueError):
        gateway.create_payment(order_ref="HS-4", amount=0, description="")


def test_name_match_ignores_form_but_not_diacritics():
    person = Person("089201001234", "Nguyễn Thị Hoà")
    assert person.matches_name("  nguyễn   thị hòa ")  # new-style tone placement, case, spacing
    assert person.matches_name(unicodedata.normalize("NFD", "NGUYỄN THỊ HOÀ"))
    assert not person.matches_name("Nguyễn Thị Hoa")  # another name
    assert not person.matches_name("Nguyen Thi Hoa")
    assert not person.matches_name("")


# -- the counter never waits on the national database ----------------------------


def counter_submit(officers, **applicant):
    from chinhquyenso.dossiers import services as dossiers

    return dossiers.submit(
        actor=officers["xa_a"]["counter_officer"],
        procedure_code="1.001193",
        channel="counter",
        agency_code="xa-kien-an",
        applicant=applicant,
        at=vn(2025, 1, 20, 9, 30),
    )


def test_outage_does_not_block_counter_submission(officers, birth_procedure):
    dossier = counter_submit(officers, identity_number="000000123456", full_name="Trần Văn Bé")
    assert dossier.pk and dossier.status == "submitted"
    assert dossier.applicant_verified is False


def test_matching_lookup_verifies_applicant(officers, birth_procedure, citizen):
    # Name typed without the accent placement of the register still matches.
    assert counter_submit(
        officers, identity_number=citizen.identity_number, full_name="nguyễn thị hòa"
    ).applicant_verified
    assert not counter_submit(
        officers, identity_number=citizen.identity_number, full_name="Nguyễn Thị Hoa"
    ).applicant_verified


def test_http_lookup_verifies_applicant(settings, configured, officers, birth_procedure):
    settings.CQS = {**settings.CQS, "POPULATION_ADAPTER": "http"}
    assert counter_submit(officers, identity_number="089201001234", full_name="Trần Văn Bé").applicant_verified
    assert not counter_submit(officers, identity_number="089201009999", full_name="Trần Văn Bé").applicant_verified


def test_http_timeout_does_not_block_counter_submission(settings, configured, officers, birth_procedure):
    settings.CQS = {
        **settings.CQS,
        "POPULATION_ADAPTER": "http",
        "NATIONAL_TIMEOUT_SECONDS": 0.2,
        "NATIONAL_RETRIES": 1,
    }
    configured.fail("POST", LOOKUP, Fault(delay=5), Fault(delay=5))
    started = time.monotonic()
    dossier = counter_submit(officers, identity_number="089201001234", full_name="Trần Văn Bé")
    assert time.monotonic() - started < 3
    assert dossier.pk and dossier.applicant_verified is False
    assert configured.count("POST", LOOKUP) == 2


def test_no_national_system_is_called_inside_a_transaction(db):
    """A slow or absent registry must never hold a transaction's locks: the lookup refuses to run there."""
    from django.db import transaction

    from chinhquyenso.exchange.national import find_person

    with pytest.raises(RuntimeError, match="outside a transaction"), transaction.atomic():
        find_person("089012345678")
    person, answered = find_person("089012345678")  # outside any transaction: asked as usual
    assert answered

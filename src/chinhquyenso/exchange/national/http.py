"""The adapters to the national systems over the data bus (production and the demo).

Every request goes through the bus's pipeline (exchange.bus.gateway.call): the registry says where
the provider answers (its address setting: CQS_POPULATION_BASE_URL, CQS_NATIONAL_PORTAL_BASE_URL,
CQS_PAYMENT_BASE_URL — a simulator or the real endpoint), whether our subsystem may call the
operation, and what the request must look like (JSON Schema under exchange/connectors/schemas/);
the bus signs the call, applies the service's timeout and circuit breaker and writes the message
log. What is defined here is *our* adapter contract — a small JSON wire format, documented in
docs/national-systems.md — that a deployment maps onto the real API.

These are synchronous calls made while an officer or a citizen waits: the timeout is short
(CQS_NATIONAL_TIMEOUT_SECONDS, never more than the service's own), a failed call is tried again at
most once (CQS_NATIONAL_RETRIES, 0 or 1), and every failure — the bus's refusals included (access
denied, open circuit, unknown service) — becomes NationalSystemError with a Vietnamese message for
the officer: the caller falls back to "not verified". Log lines name the system, the operation and
the bus's error code only; citizen IDs never appear in a log line."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time

from django.conf import settings

from chinhquyenso.core.text import format_number, nfc
from chinhquyenso.exchange import connectors
from chinhquyenso.exchange.bus import gateway
from chinhquyenso.exchange.bus import registry as bus_registry
from chinhquyenso.exchange.bus.errors import BusError
from chinhquyenso.exchange.national import forbid_inside_transaction
from chinhquyenso.exchange.national.base import (
    PAYMENT_STATUSES,
    NationalSystemError,
    PaymentInfo,
    PaymentIntent,
    Person,
    StatementLine,
)

log = logging.getLogger(__name__)

_NOT_FOUND = object()
# A sync call waits at most this many retries, whatever the setting says: an officer is waiting.
MAX_RETRIES = 1
_RETRIABLE = ("timeout", "unreachable", "remote_error")
# What the population lookup accepts: a 12-digit citizen ID or a 9-digit old ID card number.
_IDENTITY_NUMBER = re.compile(r"[0-9]{9}|[0-9]{12}")


def _seconds(value: float) -> str:
    """5.0 → '5', 0.25 → '0,25' (Vietnamese decimal comma)."""
    text = format_number(value, 2)
    return text.rstrip("0").rstrip(",") if "," in text else text


class _BusAdapter:
    """Shared call/retry/error mapping. Subclasses set the connector, the settings prefix and the name."""

    connector = ""  # key of exchange.connectors.SERVICES
    prefix = ""  # "POPULATION" → CQS["POPULATION_BASE_URL"], CQS["POPULATION_TOKEN"]
    system = ""  # Vietnamese proper name, shown in messages

    def __init__(
        self,
        *,
        timeout: float | None = None,
        retries: int | None = None,
        token: str | None = None,
        backoff: float | None = None,
    ):
        cqs = settings.CQS
        self.timeout = float(cqs.get("NATIONAL_TIMEOUT_SECONDS", 5) if timeout is None else timeout)
        self.retries = min(MAX_RETRIES, max(0, int(cqs.get("NATIONAL_RETRIES", 1) if retries is None else retries)))
        self.token = cqs.get(f"{self.prefix}_TOKEN", "") if token is None else token
        self.backoff = float(cqs.get("NATIONAL_BACKOFF_SECONDS", 0.2) if backoff is None else backoff)

    @property
    def service(self) -> str:
        return connectors.service_id(self.connector)

    @property
    def client(self) -> str:
        return connectors.client_for(self.connector)

    # -- transport -----------------------------------------------------------

    def _request(self, operation: str, *, params=None, json=None, idempotency_key="", not_found_ok=False):
        """JSON body of a 2xx answer (None when empty); _NOT_FOUND for a 404 when not_found_ok."""
        forbid_inside_transaction()
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = gateway.call(
                    client=self.client,
                    service=self.service,
                    operation=operation,
                    params=params,
                    json_body=json,
                    idempotency_key=idempotency_key,
                    timeout=self.timeout,
                    headers=headers,
                )
            except BusError as error:
                log.warning(
                    "%s %s: trục liên thông báo lỗi %s (lần %d/%d)",
                    self.prefix,
                    operation,
                    error.code,
                    attempt,
                    attempts,
                )
                if error.code not in _RETRIABLE or attempt == attempts:
                    raise NationalSystemError(self._message(error, attempt)) from error
            else:
                return self._answer(operation, response, not_found_ok)
            time.sleep(self.backoff)
        raise AssertionError("unreachable")

    def _answer(self, operation: str, response, not_found_ok: bool):
        status = response.status
        if status == 404 and not_found_ok:
            return _NOT_FOUND
        if status in (401, 403):
            log.warning("%s %s: HTTP %d", self.prefix, operation, status)
            raise NationalSystemError(
                f"{self.system} từ chối quyền truy cập (mã lỗi HTTP {status}); hãy kiểm tra mã truy cập "
                f"(CQS_{self.prefix}_TOKEN) đã được cấp."
            )
        if status >= 400:
            log.warning("%s %s: HTTP %d", self.prefix, operation, status)
            raise NationalSystemError(f"{self.system} từ chối yêu cầu (mã lỗi HTTP {status}).")
        if status >= 300:
            # Redirects are not followed: a moved API is a configuration matter, not a success.
            log.warning("%s %s: HTTP %d", self.prefix, operation, status)
            raise NationalSystemError(
                f"{self.system} trả lời chuyển hướng (mã HTTP {status}); "
                f"hãy kiểm tra địa chỉ kết nối CQS_{self.prefix}_BASE_URL."
            )
        try:
            return response.json()
        except BusError:
            raise NationalSystemError(self._malformed()) from None

    def _message(self, error: BusError, attempt: int) -> str:
        """The officer's message for a call the bus could not complete."""
        tried = f", đã thử {attempt} lần" if attempt > 1 else ""
        tried_paren = f" (đã thử {attempt} lần)" if attempt > 1 else ""
        if error.code == "timeout":
            timeout = self._service_timeout()
            return f"{self.system} không phản hồi trong {_seconds(timeout)} giây{tried_paren}; hãy thử lại sau."
        if error.code == "unreachable":
            address = self._address()
            if address and not address.startswith(("http://", "https://")):
                return (
                    f"Địa chỉ kết nối {self.system} (CQS_{self.prefix}_BASE_URL) phải bắt đầu bằng http:// "
                    "hoặc https://; hãy liên hệ quản trị hệ thống."
                )
            if not address:
                return (
                    f"Chưa cấu hình địa chỉ kết nối {self.system} (biến môi trường CQS_{self.prefix}_BASE_URL); "
                    "hãy liên hệ quản trị hệ thống."
                )
            return f"Không kết nối được {self.system}{tried_paren}; hãy kiểm tra đường truyền hoặc thử lại sau."
        if error.code == "remote_error":
            found = re.search(r"HTTP (\d{3})", error.message)
            code = f"mã lỗi HTTP {found[1]}" if found else "lỗi máy chủ"
            return f"{self.system} đang gặp sự cố ({code}{tried}); hãy thử lại sau."
        if error.code == "circuit_open":
            return (
                f"{self.system} tạm ngừng nhận yêu cầu sau nhiều lần lỗi liên tiếp; hệ thống sẽ tự thử lại sau ít phút."
            )
        if error.code == "access_denied":
            return (
                f"Hệ thống chưa được cấp quyền gọi {self.system} trên trục liên thông; hãy liên hệ quản trị hệ thống."
            )
        if error.code in ("unknown_service", "unknown_operation"):
            return (
                f"Trục liên thông chưa đăng ký dịch vụ {self.system} (danh mục dịch vụ chưa được nạp); "
                "hãy liên hệ quản trị hệ thống."
            )
        if error.code in ("invalid_body", "body_too_large", "bad_request"):
            return f"Yêu cầu gửi {self.system} không đúng quy định của trục liên thông: {error.message}"
        return error.message

    def _resolved(self):
        return bus_registry.resolve(self.service)

    def _address(self) -> str:
        resolved = self._resolved()
        return resolved.address if resolved is not None else ""

    def _service_timeout(self) -> float:
        resolved = self._resolved()
        return min(self.timeout, resolved.timeout) if resolved is not None else self.timeout

    def _malformed(self, detail: str = "") -> str:
        return f"{self.system} trả về dữ liệu không đúng định dạng{f' ({detail})' if detail else ''}; hãy báo quản trị hệ thống."

    def _text(self, data: dict, key: str, *, required: bool = False) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise NationalSystemError(self._malformed(f"trường “{key}”"))
        return nfc(value)


class HttpPopulationRegistry(_BusAdapter):
    """Operation `lookup`: POST /persons/lookup {"identity_number"} → 200 person, 404 unknown (a
    read: safe to retry although it is a POST). The ID travels in the body, never in a URL."""

    connector = "population"
    prefix = "POPULATION"
    system = "Cơ sở dữ liệu quốc gia về dân cư"

    def lookup(self, identity_number: str) -> Person | None:
        identity_number = nfc(identity_number or "").replace(" ", "")
        if not _IDENTITY_NUMBER.fullmatch(identity_number):
            # Not a citizen ID (12 digits) nor an old ID card number (9): nobody has it, and the
            # request schema (schemas/population/lookup.request.json) would refuse it anyway.
            return None
        data = self._request("lookup", json={"identity_number": identity_number}, not_found_ok=True)
        if data is _NOT_FOUND:
            return None
        if not isinstance(data, dict):
            raise NationalSystemError(self._malformed())
        # An answer about someone else must never prefill or verify this applicant.
        if self._text(data, "identity_number", required=True) != identity_number:
            raise NationalSystemError(self._malformed("số định danh trả về không khớp"))
        birth_date = None
        if data.get("birth_date"):
            try:
                birth_date = dt.date.fromisoformat(self._text(data, "birth_date"))
            except ValueError:
                raise NationalSystemError(self._malformed("trường “birth_date”")) from None
        return Person(
            identity_number=identity_number,
            full_name=self._text(data, "full_name", required=True),
            birth_date=birth_date,
            gender=self._text(data, "gender"),
            address=self._text(data, "address"),
        )


class HttpNationalPortal(_BusAdapter):
    """Operations `catalog` (GET /catalog) and `dossier-status` (POST /dossiers/{code}/status).
    The status push normally leaves through the outbox (dossiers.national_sync); this synchronous
    form is for tools and tests."""

    connector = "national_portal"
    prefix = "NATIONAL_PORTAL"
    system = "Cổng Dịch vụ công quốc gia"

    def fetch_catalog(self) -> list[dict]:
        data = self._request("catalog")
        if not isinstance(data, list):
            raise NationalSystemError(self._malformed("danh mục phải là một mảng JSON"))
        catalog = []
        for item in data:
            if not isinstance(item, dict):
                raise NationalSystemError(self._malformed("mỗi thủ tục phải là một đối tượng JSON"))
            entry = {key: nfc(value) if isinstance(value, str) else value for key, value in item.items()}
            entry["code"] = self._text(item, "code", required=True)
            entry["name"] = self._text(item, "name", required=True)
            catalog.append(entry)
        return catalog

    def push_dossier_status(
        self, *, dossier_code: str, status: str, at: dt.datetime, agency_code: str, idempotency_key: str = ""
    ) -> None:
        self._request(
            "dossier-status",
            params={"code": dossier_code},
            json=status_body(status=status, at=at, agency_code=agency_code),
            idempotency_key=idempotency_key,
        )


class HttpPaymentGateway(_BusAdapter):
    """Operations `create` (POST /payments), `info` (GET /payments/{ref}), `statement`
    (GET /statements/{yyyy-mm-dd}), called as our subsystem `thanh-toan`.

    The shape is the one the payment simulator speaks (chinhquyenso.payments.simulator,
    docs/national-systems.md); the callback the platform sends back is checked by
    payments.services with base.payment_signature_valid."""

    connector = "payment"
    prefix = "PAYMENT"
    system = "Nền tảng thanh toán trực tuyến (PayGov)"

    def create_payment(
        self, *, order_ref: str, amount: int, description: str, return_url: str = "", callback_url: str = ""
    ) -> PaymentIntent:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise ValueError("amount must be a positive whole number of đồng")
        body = {"order_ref": order_ref, "amount": amount, "description": nfc(description)}
        if return_url:
            body["return_url"] = return_url
        if callback_url:
            body["callback_url"] = callback_url
        # The order reference is the idempotency key: a retried POST (after a
        # timeout) must not create a second payment.
        data = self._request("create", json=body, idempotency_key=order_ref)
        if not isinstance(data, dict):
            raise NationalSystemError(self._malformed())
        if "amount" in data and data["amount"] != amount:
            raise NationalSystemError(self._malformed("số tiền trả về không khớp"))
        return PaymentIntent(
            transaction_ref=self._text(data, "transaction_ref", required=True),
            amount=amount,
            pay_url=self._text(data, "pay_url", required=True),
            qr_payload=self._text(data, "qr_payload"),
        )

    def payment_info(self, transaction_ref: str) -> PaymentInfo:
        data = self._request("info", params={"ref": transaction_ref}, not_found_ok=True)
        if data is _NOT_FOUND:
            raise NationalSystemError(f"{self.system} không tìm thấy giao dịch này.")
        if not isinstance(data, dict) or data.get("status") not in PAYMENT_STATUSES:
            raise NationalSystemError(self._malformed("trường “status”"))
        amount = data.get("amount")
        if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)):
            raise NationalSystemError(self._malformed("trường “amount”"))
        if data.get("transaction_ref") not in (None, transaction_ref):
            raise NationalSystemError(self._malformed("mã giao dịch trả về không khớp"))
        return PaymentInfo(
            transaction_ref=transaction_ref,
            status=data["status"],
            amount=amount,
            order_ref=self._text(data, "order_ref"),
            paid_at=self._moment(data, "paid_at"),
        )

    def payment_status(self, transaction_ref: str) -> str:
        return self.payment_info(transaction_ref).status

    def statement(self, day: dt.date) -> list[StatementLine]:
        data = self._request("statement", params={"day": day.isoformat()})
        rows = data.get("transactions") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise NationalSystemError(self._malformed("sao kê phải có mảng “transactions”"))
        lines = []
        for row in rows:
            if not isinstance(row, dict) or row.get("status") not in PAYMENT_STATUSES:
                raise NationalSystemError(self._malformed("dòng sao kê"))
            amount = row.get("amount")
            if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
                raise NationalSystemError(self._malformed("trường “amount” của sao kê"))
            lines.append(
                StatementLine(
                    transaction_ref=self._text(row, "transaction_ref", required=True),
                    order_ref=self._text(row, "order_ref"),
                    amount=amount,
                    status=row["status"],
                    paid_at=self._moment(row, "paid_at"),
                )
            )
        return lines

    def _moment(self, data: dict, key: str) -> dt.datetime | None:
        text = self._text(data, key)
        if not text:
            return None
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise NationalSystemError(self._malformed(f"trường “{key}”")) from None
        if moment.tzinfo is None:
            raise NationalSystemError(self._malformed(f"trường “{key}” thiếu múi giờ"))
        return moment


def status_body(*, status: str, at: dt.datetime, agency_code: str, **extra) -> dict:
    """The body of a dossier-status push (schemas/national_portal/dossier-status.request.json)."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    return {
        "status": status,
        "at": at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "agency_code": agency_code,
        **{k: v for k, v in extra.items() if v not in (None, "")},
    }


# The names the adapter setting's value `bus` reads best with (the `Http…` names stay for callers).
BusPopulationRegistry = HttpPopulationRegistry
BusNationalPortal = HttpNationalPortal
BusPaymentGateway = HttpPaymentGateway

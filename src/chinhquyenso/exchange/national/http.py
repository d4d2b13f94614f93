"""HTTP adapters to the national systems (production).

The real national APIs (CSDL quốc gia về dân cư, Cổng Dịch vụ công quốc gia,
PayGov) are reached through the national/provincial data exchange bus and
require agreements and credentials; their formats are not public. What is
defined here is *our* adapter contract — a small JSON wire format, documented
in docs/national-systems.md — that a deployment maps onto the real API (with a
gateway on the LGSP, or by changing the request/parse methods below).

Every failure becomes NationalSystemError with a Vietnamese message for the
officer. Connection errors, timeouts and HTTP 5xx are retried a few times with
a short backoff; 4xx never is (asking again would get the same answer).
Log lines name the system and the route only; citizen IDs never appear in a
URL or a log line."""

from __future__ import annotations

import datetime as dt
import logging
import time
from urllib.parse import quote

import httpx
from django.conf import settings

from chinhquyenso.core.text import format_number, nfc
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


def _seconds(value: float) -> str:
    """5.0 → '5', 0.25 → '0,25' (Vietnamese decimal comma)."""
    text = format_number(value, 2)
    return text.rstrip("0").rstrip(",") if "," in text else text


def _segment(value: str) -> str:
    # An ID or code is one path segment: "/" or "?" must not change the route.
    return quote(str(value), safe="")


class _HttpAdapter:
    """Shared request/retry/error mapping. Subclasses set the settings prefix and names."""

    prefix = ""  # "POPULATION" → CQS["POPULATION_BASE_URL"], CQS["POPULATION_TOKEN"]
    system = ""  # Vietnamese proper name, shown in messages

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        token: str | None = None,
        backoff: float | None = None,
    ):
        cqs = settings.CQS
        self.base_url = (cqs.get(f"{self.prefix}_BASE_URL", "") if base_url is None else base_url).strip().rstrip("/")
        self.timeout = float(cqs.get("NATIONAL_TIMEOUT_SECONDS", 5) if timeout is None else timeout)
        self.retries = max(0, int(cqs.get("NATIONAL_RETRIES", 2) if retries is None else retries))
        self.token = cqs.get(f"{self.prefix}_TOKEN", "") if token is None else token
        self.backoff = float(cqs.get("NATIONAL_BACKOFF_SECONDS", 0.2) if backoff is None else backoff)

    # -- transport -----------------------------------------------------------

    def _request(self, method: str, route: str, path: str, *, json=None, headers=None, not_found_ok=False):
        """JSON body of a 2xx answer (None when empty); _NOT_FOUND for a 404 when
        not_found_ok. `route` is the path template, the only thing logged."""
        forbid_inside_transaction()
        if not self.base_url:
            raise NationalSystemError(
                f"Chưa cấu hình địa chỉ kết nối {self.system} (biến môi trường CQS_{self.prefix}_BASE_URL); "
                "hãy liên hệ quản trị hệ thống."
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise NationalSystemError(
                f"Địa chỉ kết nối {self.system} (CQS_{self.prefix}_BASE_URL) phải bắt đầu bằng http:// hoặc https://; "
                "hãy liên hệ quản trị hệ thống."
            )
        all_headers = {"Accept": "application/json", **(headers or {})}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        url = self.base_url + path
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                with httpx.Client(timeout=self.timeout) as client:
                    response = client.request(method, url, json=json, headers=all_headers)
            except httpx.TimeoutException:
                log.warning("%s %s %s: hết thời gian chờ (lần %d/%d)", self.prefix, method, route, attempt, attempts)
                if last:
                    raise NationalSystemError(
                        f"{self.system} không phản hồi trong {_seconds(self.timeout)} giây (đã thử {attempts} lần); "
                        "hãy thử lại sau."
                    ) from None
            except httpx.TransportError as error:
                # Connection refused, DNS failure, reset: the system is unreachable.
                log.warning(
                    "%s %s %s: lỗi kết nối %s (lần %d/%d)",
                    self.prefix,
                    method,
                    route,
                    type(error).__name__,
                    attempt,
                    attempts,
                )
                if last:
                    raise NationalSystemError(
                        f"Không kết nối được {self.system} (đã thử {attempts} lần); "
                        "hãy kiểm tra đường truyền hoặc thử lại sau."
                    ) from None
            else:
                status = response.status_code
                if status >= 500:
                    log.warning("%s %s %s: HTTP %d (lần %d/%d)", self.prefix, method, route, status, attempt, attempts)
                    if last:
                        raise NationalSystemError(
                            f"{self.system} đang gặp sự cố (mã lỗi HTTP {status}, đã thử {attempts} lần); "
                            "hãy thử lại sau."
                        )
                elif status == 404 and not_found_ok:
                    return _NOT_FOUND
                elif status in (401, 403):
                    log.warning("%s %s %s: HTTP %d", self.prefix, method, route, status)
                    raise NationalSystemError(
                        f"{self.system} từ chối quyền truy cập (mã lỗi HTTP {status}); hãy kiểm tra mã truy cập "
                        f"(CQS_{self.prefix}_TOKEN) đã được cấp."
                    )
                elif status >= 400:
                    log.warning("%s %s %s: HTTP %d", self.prefix, method, route, status)
                    raise NationalSystemError(f"{self.system} từ chối yêu cầu (mã lỗi HTTP {status}).")
                elif status >= 300:
                    # Redirects are not followed: a moved API is a configuration matter, not a success.
                    log.warning("%s %s %s: HTTP %d", self.prefix, method, route, status)
                    raise NationalSystemError(
                        f"{self.system} trả lời chuyển hướng (mã HTTP {status}); "
                        f"hãy kiểm tra địa chỉ kết nối CQS_{self.prefix}_BASE_URL."
                    )
                else:
                    return self._json(response)
            time.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _json(self, response: httpx.Response):
        if not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise NationalSystemError(self._malformed()) from None

    def _malformed(self, detail: str = "") -> str:
        return f"{self.system} trả về dữ liệu không đúng định dạng{f' ({detail})' if detail else ''}; hãy báo quản trị hệ thống."

    def _text(self, data: dict, key: str, *, required: bool = False) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise NationalSystemError(self._malformed(f"trường “{key}”"))
        return nfc(value)


class HttpPopulationRegistry(_HttpAdapter):
    """POST {base}/citizens/lookup {"identity_number"} → 200 person, 404 unknown (a read: safe to retry)."""

    prefix = "POPULATION"
    system = "Cơ sở dữ liệu quốc gia về dân cư"

    def lookup(self, identity_number: str) -> Person | None:
        identity_number = nfc(identity_number).replace(" ", "")
        # The ID travels in the body, not the URL: URLs end up in access logs
        # (ours, httpx's, the exchange bus's) and citizen IDs must not.
        data = self._request(
            "POST", "/citizens/lookup", "/citizens/lookup", json={"identity_number": identity_number}, not_found_ok=True
        )
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


class HttpNationalPortal(_HttpAdapter):
    """GET {base}/procedures; POST {base}/dossiers/{code}/status."""

    prefix = "NATIONAL_PORTAL"
    system = "Cổng Dịch vụ công quốc gia"

    def fetch_catalog(self) -> list[dict]:
        data = self._request("GET", "/procedures", "/procedures")
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

    def push_dossier_status(self, *, dossier_code: str, status: str, at: dt.datetime, agency_code: str) -> None:
        if at.tzinfo is None:
            raise ValueError("at must be timezone-aware")
        self._request(
            "POST",
            "/dossiers/{code}/status",
            f"/dossiers/{_segment(dossier_code)}/status",
            json={
                "status": status,
                "at": at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                "agency_code": agency_code,
            },
        )


class HttpPaymentGateway(_HttpAdapter):
    """POST {base}/payments; GET {base}/payments/{transaction_ref}; GET {base}/statements/{yyyy-mm-dd}.

    The shape is the one the payment simulator speaks (chinhquyenso.payments.simulator,
    docs/national-systems.md); the callback the platform sends back is checked by
    payments.services with base.payment_signature_valid."""

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
        data = self._request("POST", "/payments", "/payments", json=body, headers={"Idempotency-Key": order_ref})
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
        data = self._request("GET", "/payments/{ref}", f"/payments/{_segment(transaction_ref)}", not_found_ok=True)
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
        data = self._request("GET", "/statements/{day}", f"/statements/{day.isoformat()}")
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

"""Senders, one per channel, chosen by setting (`CQS["OUTBOX_SENDERS"]`:
channel → dotted path), so an SMS gateway or another mail service is plugged
in without touching any app. A sender is a class with
`send(message) -> None` that raises on failure; it runs in the worker, after
commit, outside any transaction."""

from __future__ import annotations

import logging

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage

from chinhquyenso.core import simulators
from chinhquyenso.core.privacy import mask_personal_data
from chinhquyenso.core.text import nfc

log = logging.getLogger(__name__)


class EmailSender:
    """E-mail through Django's configured backend (SMTP in production)."""

    def send(self, message) -> None:
        body = message.body + (f"\n\n{message.link}" if message.link and message.link not in message.body else "")
        EmailMessage(subject=message.subject, body=body, to=[message.recipient]).send(fail_silently=False)


class ConsoleSmsSender:
    """Development SMS: logs that a message went out and keeps it in `sent`
    (tests read verification codes from there). Not for production: a real
    gateway replaces it by setting (CQS_SMS_SENDER).

    The log line never carries the body by default: a verification code or a
    follow link is a key to someone's report, and logs are read and kept by
    people who must not hold it. A developer who wants to read codes from the
    console sets CQS_SMS_CONSOLE_BODIES=1 (settings.CQS["SMS_CONSOLE_BODIES"]);
    even then the body is shown with phones, ID numbers and e-mails masked,
    except for the code itself."""

    sent: list[tuple[str, str]] = []

    def send(self, message) -> None:
        ConsoleSmsSender.sent.append((message.recipient, message.body))
        masked = "*" * max(0, len(message.recipient) - 3) + message.recipient[-3:]
        if settings.CQS.get("SMS_CONSOLE_BODIES"):
            log.info("SMS (thử nghiệm) tới %s: %s", masked, mask_personal_data(message.body))
        else:
            what = "mã bí mật, không ghi" if message.secret else f"{len(message.body)} ký tự"
            log.info("SMS (thử nghiệm) tới %s: %s, loại %s (%s)", masked, message.pk, message.kind, what)


class InAppSender:
    """An in-app notice is the message row itself: delivering it makes it
    visible in the recipient's list (exchange.selectors.notices_for)."""

    def send(self, message) -> None:
        if message.user_id is None:
            raise ValueError("Thông báo trên hệ thống phải có người nhận.")


# ---------------------------------------------------------------- Zalo Official Account


ZALO_SEND_PATH = "/v3.0/oa/message/cs"  # "gửi tin nhắn tư vấn" (customer-service message), OA API v3
ZALO_TEXT_MAX = 2000  # characters of one text message


class ZaloError(Exception):
    """Zalo did not take the message: the outbox keeps it and tries again, then gives up (dead letter)."""


def _masked_id(user_id: str) -> str:
    return "*" * max(0, len(user_id) - 3) + user_id[-3:]


def _check_text(message) -> None:
    if not message.body.strip():
        raise ZaloError("Tin nhắn Zalo không có nội dung.")
    if len(message.body) > ZALO_TEXT_MAX:
        raise ZaloError(f"Tin nhắn Zalo dài {len(message.body)} ký tự, quá {ZALO_TEXT_MAX} ký tự cho phép.")


class ZaloOASender:
    """A text reply to a Zalo user through the Official Account API (CQS_ZALO_ADAPTER=http):
    `POST {CQS_ZALO_BASE_URL}/v3.0/oa/message/cs` with the header `access_token` and
    `{"recipient": {"user_id": …}, "message": {"text": …}}`. Zalo answers HTTP 200 with
    `{"error": 0, …}` on success and a negative `error` code on failure (an expired token, a user
    who has not written for too long): both are failures here, like a timeout, a refused connection
    or another HTTP status, so the outbox retries with back-off and finally keeps a dead letter.
    No retry inside: one attempt per delivery. The user id is sent in the body, never logged."""

    def __init__(self, *, base_url: str | None = None, access_token: str | None = None, timeout: float | None = None):
        cqs = settings.CQS
        self.base_url = (cqs.get("ZALO_BASE_URL", "") if base_url is None else base_url).strip().rstrip("/")
        self.access_token = cqs.get("ZALO_ACCESS_TOKEN", "") if access_token is None else access_token
        self.timeout = float(cqs.get("ZALO_TIMEOUT_SECONDS", 10) if timeout is None else timeout)

    def send(self, message) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ImproperlyConfigured(
                "Địa chỉ API Zalo OA (CQS_ZALO_BASE_URL) phải bắt đầu bằng http:// hoặc https://."
            )
        if not self.access_token:
            raise ImproperlyConfigured("Chưa cấu hình mã truy cập Zalo OA (CQS_ZALO_ACCESS_TOKEN).")
        _check_text(message)
        payload = {"recipient": {"user_id": message.recipient}, "message": {"text": message.body}}
        headers = {"access_token": self.access_token, "Accept": "application/json"}
        try:
            response = httpx.post(self.base_url + ZALO_SEND_PATH, json=payload, headers=headers, timeout=self.timeout)
        except httpx.TimeoutException:
            raise ZaloError(f"Zalo không phản hồi trong {self.timeout:g} giây.") from None
        except httpx.TransportError as error:
            raise ZaloError(f"Không kết nối được Zalo ({type(error).__name__}).") from None
        if response.status_code != 200:
            raise ZaloError(f"Zalo trả mã lỗi HTTP {response.status_code}.")
        try:
            answer = response.json()
            code = int(answer["error"])
        except (ValueError, TypeError, KeyError):
            raise ZaloError("Zalo trả về dữ liệu không đúng định dạng.") from None
        if code != 0:
            said = mask_personal_data(nfc(str(answer.get("message", ""))))[:200]
            raise ZaloError(f"Zalo từ chối tin nhắn (mã lỗi {code}: {said}).")
        log.info("Zalo OA: đã gửi tin nhắn %s (%s) tới %s", message.pk, message.kind, _masked_id(message.recipient))


class SimulatedZaloSender:
    """Development and demo stand-in (CQS_ZALO_ADAPTER=simulator, the default): nothing leaves the
    machine; the reply is kept in `sent` and logged by length. The same checks as the real sender
    (empty or over ZALO_TEXT_MAX characters). The separate simulator process
    (assistant.channels.zalo_simulator) is reached with the http adapter instead."""

    sent: list[tuple[str, str]] = []

    def send(self, message) -> None:
        _check_text(message)
        SimulatedZaloSender.sent.append((message.recipient, message.body))
        log.info(
            "Zalo (mô phỏng) tới %s: tin nhắn %s (%s), %s ký tự",
            _masked_id(message.recipient),
            message.pk,
            message.kind,
            len(message.body),
        )


class _Misconfigured:
    def __init__(self, error: str):
        self.error = error

    def send(self, message) -> None:
        raise ImproperlyConfigured(self.error)


ZALO_ADAPTERS = {"simulator": SimulatedZaloSender, "http": ZaloOASender}


def zalo_sender():
    """The Zalo sender CQS["ZALO_ADAPTER"] names. A wrong name fails each Zalo message (kept as a
    failure with the reason), not the worker's other channels."""
    adapter = settings.CQS.get("ZALO_ADAPTER", "simulator")
    if adapter not in ZALO_ADAPTERS:
        return _Misconfigured("CQS_ZALO_ADAPTER phải là simulator hoặc http.")
    return ZALO_ADAPTERS[adapter]()


# ---------------------------------------------------------------- SMS gateway (brandname SMS)


SMS_SEND_PATH = "/sms/send"
SMS_MAX_SEGMENTS = 5  # longer texts are refused: a citizen's notice is one or two segments


class SmsError(Exception):
    """The gateway did not take the SMS: the outbox keeps it and tries again, then gives up (dead letter)."""


def international_phone(phone: str) -> str:
    """0912345678 → 84912345678, the form brandname gateways take."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "84" + digits[1:] if digits.startswith("0") else digits


class HttpSmsSender:
    """Brandname SMS through a gateway's HTTP API (CQS_SMS_ADAPTER=http). Vietnamese gateways
    (the carriers' and resellers') each have their own API; this adapter speaks one plain shape and
    a provider's is a small subclass overriding `payload` and `accepted`:

    `POST {CQS_SMS_BASE_URL}/sms/send`, header `Authorization: Bearer {CQS_SMS_TOKEN}`, JSON
    `{"brandname": CQS_SMS_BRANDNAME, "phone": "84912345678", "text": …, "request_id": "cqs-<id>"}`.
    Success: HTTP 200 with `{"code": 0, "message_id": …}`; any other code, HTTP status, timeout or
    refused connection is a failure the outbox retries with back-off. `request_id` is the same on
    every attempt of one message, so a gateway that deduplicates on it never sends twice after a
    timeout. The phone number and text are sent in the body, never logged."""

    def __init__(self, *, base_url: str | None = None, token: str | None = None, timeout: float | None = None):
        cqs = settings.CQS
        port = simulators.DEFAULT_PORTS["SMS_SIMULATOR"]
        default = f"http://127.0.0.1:{port}" if cqs.get("SMS_ADAPTER") == "simulator" else ""
        self.base_url = ((cqs.get("SMS_BASE_URL") or default) if base_url is None else base_url).strip().rstrip("/")
        self.token = cqs.get("SMS_TOKEN", "") if token is None else token
        self.brandname = cqs.get("SMS_BRANDNAME", "") or "DVC"
        self.timeout = float(cqs.get("SMS_TIMEOUT_SECONDS", 10) if timeout is None else timeout)

    def payload(self, message) -> dict:
        return {
            "brandname": self.brandname,
            "phone": international_phone(message.recipient),
            "text": message.body,
            "request_id": f"cqs-{message.pk}",
        }

    def accepted(self, answer) -> tuple[bool, str]:
        try:
            code = int(answer["code"])
        except (TypeError, KeyError, ValueError):
            return False, "Cổng SMS trả về dữ liệu không đúng định dạng."
        if code != 0:
            said = mask_personal_data(nfc(str(answer.get("message", ""))))[:200]
            return False, f"Cổng SMS từ chối tin nhắn (mã lỗi {code}: {said})."
        return True, ""

    def send(self, message) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ImproperlyConfigured("Địa chỉ cổng SMS (CQS_SMS_BASE_URL) phải bắt đầu bằng http:// hoặc https://.")
        if not message.body.strip():
            raise SmsError("Tin nhắn SMS không có nội dung.")
        from chinhquyenso.exchange.consent import sms_segments

        encoding, segments = sms_segments(message.body)
        if segments > SMS_MAX_SEGMENTS:
            raise SmsError(f"Tin nhắn SMS dài {segments} phần ({encoding}), quá {SMS_MAX_SEGMENTS} phần cho phép.")
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = httpx.post(
                self.base_url + SMS_SEND_PATH, json=self.payload(message), headers=headers, timeout=self.timeout
            )
        except httpx.TimeoutException:
            raise SmsError(f"Cổng SMS không phản hồi trong {self.timeout:g} giây.") from None
        except httpx.TransportError as error:
            raise SmsError(f"Không kết nối được cổng SMS ({type(error).__name__}).") from None
        if response.status_code != 200:
            raise SmsError(f"Cổng SMS trả mã lỗi HTTP {response.status_code}.")
        try:
            answer = response.json()
        except ValueError:
            raise SmsError("Cổng SMS trả về dữ liệu không đúng định dạng.") from None
        ok, error = self.accepted(answer)
        if not ok:
            raise SmsError(error)
        log.info(
            "SMS: đã gửi tin nhắn %s (%s, %s phần %s) tới %s",
            message.pk,
            message.kind,
            segments,
            encoding,
            _masked_id(message.recipient),
        )


SMS_ADAPTERS = {"console": ConsoleSmsSender, "http": HttpSmsSender, "simulator": HttpSmsSender}


def sms_sender():
    """The SMS sender CQS["SMS_ADAPTER"] names: console (development: logged, nothing leaves),
    simulator (the local gateway simulator process, exchange.sms_simulator, at CQS_SMS_BASE_URL or
    http://127.0.0.1:8792), http (a real gateway at CQS_SMS_BASE_URL). A wrong name fails each SMS
    (kept as a failure with the reason), not the worker's other channels."""
    adapter = settings.CQS.get("SMS_ADAPTER", "console")
    if adapter not in SMS_ADAPTERS:
        return _Misconfigured("CQS_SMS_ADAPTER phải là console, simulator hoặc http.")
    return SMS_ADAPTERS[adapter]()

"""The Zalo Official Account webhook: checking that Zalo sent an event, and reading a user's text.

Zalo posts each event of the OA as JSON to the webhook address registered for the app:

    {"app_id": "…", "event_name": "user_send_text", "timestamp": "1718000500000",
     "sender": {"id": "<user id for this OA>"}, "recipient": {"id": "<OA id>"},
     "message": {"text": "…", "msg_id": "…"}}

with the header `X-ZEvent-Signature: mac=<hex sha256(app_id + raw body + timestamp + OA secret key)>`
(Zalo's documented scheme: a plain SHA-256 over the concatenation, not an HMAC). `parse` checks, in
order: the channel is configured (CQS_ZALO_APP_ID, CQS_ZALO_SECRET), the body's size, that it is a
JSON object, its app id, the signature over the raw bytes (constant-time), and that its timestamp
(milliseconds) is within MAX_SKEW_SECONDS of now, which bounds replays of a captured request
(a replay inside that window is answered once anyway: the message id is an idempotency key).
Other events (follow, user_send_image, …) are valid but not answered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from django.conf import settings

from chinhquyenso.assistant.channels.services import Incoming

CHANNEL = "zalo"
SIGNATURE_HEADER = "HTTP_X_ZEVENT_SIGNATURE"  # X-ZEvent-Signature
TEXT_EVENT = "user_send_text"
MAX_BODY_BYTES = 64 * 1024  # a text event is well under 4 KB
MAX_SKEW_SECONDS = 300
MAX_ID_LENGTH = 200


class Refused(Exception):
    """The request is not a valid Zalo event: `status` for the answer, `reason` for the log (never
    the user id or the text)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def signature(app_id: str, body: bytes, timestamp: str, secret: str) -> str:
    """The value of X-ZEvent-Signature for `body`."""
    digest = hashlib.sha256(app_id.encode() + body + str(timestamp).encode() + secret.encode()).hexdigest()
    return f"mac={digest}"


def _text_id(value) -> str:
    """An id from the event: a string (or a number Zalo may send unquoted) of 1–MAX_ID_LENGTH characters."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Refused(400, "malformed id")
    text = str(value).strip()
    if not text or len(text) > MAX_ID_LENGTH:
        raise Refused(400, "malformed id")
    return text


def parse(request, *, now: float | None = None) -> Incoming | None:
    """The user's text message in this webhook request, None for another (valid) event; Refused
    when the request did not come from Zalo for this app, is too old, or is malformed."""
    cqs = settings.CQS
    app_id, secret = str(cqs.get("ZALO_APP_ID", "")), str(cqs.get("ZALO_SECRET", ""))
    if not app_id or not secret:
        raise Refused(404, "channel not configured (CQS_ZALO_APP_ID, CQS_ZALO_SECRET)")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused(400, "bad Content-Length") from None
    if declared > MAX_BODY_BYTES:
        raise Refused(413, "body too large")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        raise Refused(413, "body too large")
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "body is not JSON") from None
    if not isinstance(event, dict):
        raise Refused(400, "body is not a JSON object")
    if str(event.get("app_id", "")) != app_id:
        raise Refused(403, "wrong app_id")
    timestamp = event.get("timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, str | int) or not str(timestamp).isdigit():
        raise Refused(403, "missing or malformed timestamp")
    expected = signature(app_id, body, str(timestamp), secret).encode()
    given = request.META.get(SIGNATURE_HEADER, "").strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(given, expected):
        raise Refused(403, "bad signature")
    now = time.time() if now is None else now
    if abs(now - int(timestamp) / 1000) > MAX_SKEW_SECONDS:
        raise Refused(403, "stale timestamp")
    if event.get("event_name") != TEXT_EVENT:
        return None
    sender, message = event.get("sender"), event.get("message")
    if not isinstance(sender, dict) or not isinstance(message, dict) or not isinstance(message.get("text"), str):
        raise Refused(400, "malformed text event")
    return Incoming(
        channel=CHANNEL,
        account=app_id,
        sender=_text_id(sender.get("id")),
        message_id=_text_id(message.get("msg_id")),
        text=message["text"],
    )

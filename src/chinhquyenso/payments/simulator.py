"""A stand-in for the online payment platform (PayGov-style), run as its own process
(standard library only, no Django):

    python -m chinhquyenso.payments.simulator --port 8793 --secret demo-payment-secret \\
        --token demo-payment-token

It prints `PAYMENT_SIMULATOR_URL=http://127.0.0.1:<port>` once it listens (`--port 0`: a free
port). The platform is pointed at it with CQS_PAYMENT_ADAPTER=http, CQS_PAYMENT_BASE_URL=<that URL>,
CQS_PAYMENT_TOKEN=<token> and CQS_PAYMENT_SECRET=<secret> (docs/operations.md, docs/national-systems.md).

This is the simulator's API shape, which the real adapter (exchange.national.http.HttpPaymentGateway)
speaks; the national platform's own API is not public, and a deployment maps it onto this shape.

- `POST /payments` (header `Authorization: Bearer <token>` when --token is set; `Idempotency-Key`)
  `{"order_ref", "amount", "description", "return_url", "callback_url"}` → 200
  `{"transaction_ref", "pay_url", "qr_payload", "amount", "status": "pending"}`. The same order_ref
  gives the same payment (409 if the amount differs).
- `GET /payments/{transaction_ref}` → `{"transaction_ref", "order_ref", "amount", "status", "paid_at"}`,
  404 when unknown. A pending payment older than --minutes is "expired".
- `GET /pay/{transaction_ref}` — the pay page a citizen is sent to: amount, description, buttons
  "Thanh toán" and "Hủy" (a plain form, no JavaScript).
- `POST /pay/{transaction_ref}` (`action=pay|cancel|fail`) — settles the payment, posts the signed
  callback to the callback_url (server to server), then redirects the browser (303) to the return_url.
- Callback: `POST <callback_url>` with body `{"event_id", "order_ref", "transaction_ref", "amount",
  "status", "paid_at"}` and header `X-Payment-Signature: sha256=<HMAC-SHA256 of the body with the
  secret>`. `paid_at` is ISO 8601 with offset.
- `GET /statements/{yyyy-mm-dd}` → `{"date", "transactions": [{"transaction_ref", "order_ref",
  "amount", "status": "paid", "paid_at"}]}`: what was paid that day (Vietnam time, UTC+7).

For tests (not part of the platform's shape):
- `POST /simulate/{transaction_ref}` `{"status": "paid"|"failed"|"cancelled"|"expired", "callback": true,
  "signature": "bad", "amount": 1}` — settle without the browser; `amount` overrides what the
  callback says, `signature: bad` signs with a wrong secret. Answers `{"status": <our HTTP status>,
  "body": <our answer>}` (null when no callback was sent).
- `POST /resend/{transaction_ref}` — post the last callback again byte for byte (a platform retry).
- `GET /callbacks` — every callback sent, oldest first: `{"transaction_ref", "status", "answer"}`.
- `POST /reset` — forget everything.

The signature is computed here independently of the platform's checking code
(exchange.national.base.payment_signature_valid), so a mistake in one does not hide in the other.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import html
import json
import os
import sys
import threading
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from chinhquyenso.core import simulators

VN = dt.timezone(dt.timedelta(hours=7))
STATUSES = ("paid", "failed", "cancelled", "expired")


def _now() -> dt.datetime:
    return dt.datetime.now(VN).replace(microsecond=0)


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


class Platform:
    def __init__(self, *, secret: str, token: str, minutes: int, public_url: str = ""):
        self.secret, self.token, self.minutes = secret, token, minutes
        self.public_url = public_url
        self.lock = threading.Lock()
        self.payments: dict[str, dict] = {}  # transaction_ref → payment
        self.by_order: dict[str, str] = {}
        self.sent: dict[str, tuple[str, bytes, str]] = {}  # ref → (url, body, signature) of the last callback
        self.callbacks: list[dict] = []

    # -- the API -------------------------------------------------------------------

    def authorized(self, header: str) -> bool:
        return not self.token or hmac.compare_digest(header, f"Bearer {self.token}")

    def create(self, payload, token: str) -> tuple[int, dict]:
        if not self.authorized(token):
            return 401, {"error": "unauthorized"}
        if not isinstance(payload, dict):
            return 400, {"error": "body must be a JSON object"}
        order_ref, amount = payload.get("order_ref"), payload.get("amount")
        if not isinstance(order_ref, str) or not order_ref or not isinstance(amount, int) or amount <= 0:
            return 400, {"error": "order_ref and a positive whole amount are required"}
        with self.lock:
            ref = self.by_order.get(order_ref)
            if ref is not None:
                payment = self.payments[ref]
                if payment["amount"] != amount:
                    return 409, {"error": "order_ref already used with another amount"}
            else:
                ref = "PG" + uuid.uuid4().hex[:14].upper()
                payment = {
                    "transaction_ref": ref,
                    "order_ref": order_ref,
                    "amount": amount,
                    "description": str(payload.get("description", ""))[:300],
                    "return_url": str(payload.get("return_url", "")),
                    "callback_url": str(payload.get("callback_url", "")),
                    "status": "pending",
                    "created": _now(),
                    "paid_at": None,
                }
                self.payments[ref] = payment
                self.by_order[order_ref] = ref
        return 200, {
            "transaction_ref": ref,
            "pay_url": f"{self.public_url}/pay/{ref}",
            # The text a VietQR-style code would carry: the platform, the reference and the amount.
            "qr_payload": f"PAYGOV-SIM|{ref}|{amount}",
            "amount": amount,
            "status": "pending",
        }

    def get(self, ref: str) -> dict | None:
        with self.lock:
            payment = self.payments.get(ref)
            if payment is None:
                return None
            if payment["status"] == "pending" and _now() - payment["created"] > dt.timedelta(minutes=self.minutes):
                payment["status"] = "expired"
            return dict(payment)

    @staticmethod
    def public(payment: dict) -> dict:
        return {
            "transaction_ref": payment["transaction_ref"],
            "order_ref": payment["order_ref"],
            "amount": payment["amount"],
            "status": payment["status"],
            "paid_at": payment["paid_at"].isoformat() if payment["paid_at"] else None,
        }

    def statement(self, day: dt.date) -> list[dict]:
        with self.lock:
            payments = list(self.payments.values())
        return [
            self.public(p)
            for p in sorted(payments, key=lambda p: p["paid_at"] or p["created"])
            if p["status"] == "paid" and p["paid_at"] and p["paid_at"].astimezone(VN).date() == day
        ]

    # -- settling and the callback -------------------------------------------------

    def settle(self, ref: str, status: str) -> dict | None:
        with self.lock:
            payment = self.payments.get(ref)
            if payment is None:
                return None
            if payment["status"] == "pending":
                payment["status"] = status
                payment["paid_at"] = _now() if status == "paid" else None
            return dict(payment)

    def sign(self, body: bytes, secret: str) -> str:
        return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    def notify(self, payment: dict, *, amount: int | None = None, bad_signature: bool = False) -> dict:
        url = payment["callback_url"]
        if not url:
            return {"status": None, "body": "no callback_url"}
        event = {**self.public(payment), "event_id": uuid.uuid4().hex}
        if amount is not None:
            event["amount"] = amount
        body = json.dumps(event, ensure_ascii=False).encode()
        signature = self.sign(body, self.secret + "-wrong" if bad_signature else self.secret)
        with self.lock:
            self.sent[payment["transaction_ref"]] = (url, body, signature)
        return self.post(payment["transaction_ref"], url, body, signature)

    def post(self, ref: str, url: str, body: bytes, signature: str) -> dict:
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "X-Payment-Signature": signature},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, answer = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, answer = error.code, error.read().decode("utf-8", "replace")
        except OSError as error:
            status, answer = None, f"{type(error).__name__}: {error}"
        with self.lock:
            self.callbacks.append({"transaction_ref": ref, "status": status, "answer": answer})
        return {"status": status, "body": answer}

    def resend(self, ref: str) -> dict:
        with self.lock:
            stored = self.sent.get(ref)
        if stored is None:
            return {"status": None, "body": "no callback sent"}
        return self.post(ref, *stored)

    def reset(self) -> None:
        with self.lock:
            self.payments.clear()
            self.by_order.clear()
            self.sent.clear()
            self.callbacks.clear()


PAGE = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Nền tảng thanh toán (mô phỏng)</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; background: #f4f6f8; color: #1a1a1a; }}
header {{ background: #0b3d91; color: #fff; padding: .75rem 1rem; }}
main {{ max-width: 32rem; margin: 1rem auto; background: #fff; padding: 1rem 1.25rem; border-radius: 6px; }}
dt {{ font-weight: 600; margin-top: .5rem; }} dd {{ margin: 0; }}
.amount {{ font-size: 1.5rem; font-weight: 700; }}
.note {{ background: #fff4ce; padding: .5rem; border-radius: 4px; }}
button {{ font-size: 1rem; padding: .6rem 1.2rem; margin: .75rem .5rem 0 0; border-radius: 4px; border: 1px solid #0b3d91;
  background: #0b3d91; color: #fff; cursor: pointer; min-height: 44px; }}
button.secondary {{ background: #fff; color: #0b3d91; }}
</style></head>
<body><header><p>Nền tảng thanh toán trực tuyến — <strong>bản mô phỏng để thử nghiệm</strong></p></header>
<main>{body}</main></body></html>"""


class Handler(BaseHTTPRequestHandler):
    platform: Platform

    def _send(self, status: int, data: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _page(self, status: int, title: str, body: str) -> None:
        data = PAGE.format(title=html.escape(title), body=body).encode()
        self._send(status, data, "text/html; charset=utf-8")

    def _raw(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _body(self):
        try:
            return json.loads(self._raw() or b"{}")
        except ValueError:
            return None

    def do_GET(self):
        path = urlsplit(self.path).path
        parts = path.strip("/").split("/")
        if parts[0] in ("payments", "statements") and not self.platform.authorized(
            self.headers.get("Authorization", "")
        ):
            return self._json(401, {"error": "unauthorized"})
        if len(parts) == 2 and parts[0] == "payments":
            payment = self.platform.get(parts[1])
            return (
                self._json(200, self.platform.public(payment)) if payment else self._json(404, {"error": "not found"})
            )
        if len(parts) == 2 and parts[0] == "statements":
            try:
                day = dt.date.fromisoformat(parts[1])
            except ValueError:
                return self._json(400, {"error": "date must be YYYY-MM-DD"})
            return self._json(200, {"date": day.isoformat(), "transactions": self.platform.statement(day)})
        if len(parts) == 2 and parts[0] == "pay":
            return self._pay_page(parts[1])
        if path == "/callbacks":
            with self.platform.lock:
                return self._json(200, list(self.platform.callbacks))
        return self._json(404, {"error": "no such route"})

    def _pay_page(self, ref: str) -> None:
        payment = self.platform.get(ref)
        if payment is None:
            return self._page(404, "Không tìm thấy giao dịch", "<h1>Không tìm thấy giao dịch</h1>")
        facts = (
            f"<dl><dt>Mã giao dịch</dt><dd>{html.escape(ref)}</dd>"
            f"<dt>Nội dung</dt><dd>{html.escape(payment['description'])}</dd>"
            f"<dt>Số tiền</dt><dd class='amount'>{_money(payment['amount'])} đồng</dd></dl>"
        )
        if payment["status"] != "pending":
            label = {"paid": "đã được thanh toán", "cancelled": "đã bị hủy", "failed": "không thành công"}.get(
                payment["status"], "đã hết hạn"
            )
            back = (
                f"<p><a href='{html.escape(payment['return_url'])}'>Quay lại Cổng dịch vụ công</a></p>"
                if payment["return_url"]
                else ""
            )
            return self._page(200, "Giao dịch đã kết thúc", f"<h1>Giao dịch {label}</h1>{facts}{back}")
        body = (
            "<h1>Thanh toán phí, lệ phí</h1>"
            f"{facts}"
            "<p class='note'>Đây là trang mô phỏng: không có tiền thật được chuyển.</p>"
            f"<form method='post' action='/pay/{html.escape(ref)}'>"
            "<button type='submit' name='action' value='pay'>Thanh toán</button>"
            "<button type='submit' name='action' value='cancel' class='secondary'>Hủy</button>"
            "</form>"
        )
        return self._page(200, "Thanh toán phí, lệ phí", body)

    def do_POST(self):
        path = urlsplit(self.path).path
        parts = path.strip("/").split("/")
        if path == "/payments":
            status, answer = self.platform.create(self._body(), self.headers.get("Authorization", ""))
            return self._json(status, answer)
        if len(parts) == 2 and parts[0] == "pay":
            form = parse_qs(self._raw().decode("utf-8", "replace"))
            action = form.get("action", [""])[0]
            status = {"pay": "paid", "cancel": "cancelled", "fail": "failed"}.get(action)
            if status is None:
                return self._page(400, "Yêu cầu không hợp lệ", "<h1>Yêu cầu không hợp lệ</h1>")
            before = self.platform.get(parts[1])
            payment = self.platform.settle(parts[1], status)
            if payment is None:
                return self._page(404, "Không tìm thấy giao dịch", "<h1>Không tìm thấy giao dịch</h1>")
            if before and before["status"] == "pending":
                self.platform.notify(payment)  # server to server, before the browser comes back
            if payment["return_url"]:
                return self._send(303, b"", "text/plain", {"Location": payment["return_url"]})
            return self._pay_page(parts[1])
        if len(parts) == 2 and parts[0] == "simulate":
            request = self._body() or {}
            status = request.get("status", "paid")
            if status not in STATUSES:
                return self._json(400, {"error": f"status must be one of {STATUSES}"})
            payment = self.platform.settle(parts[1], status)
            if payment is None:
                return self._json(404, {"error": "not found"})
            if not request.get("callback", True):
                return self._json(200, {"status": None, "body": None})
            return self._json(
                200,
                self.platform.notify(
                    payment, amount=request.get("amount"), bad_signature=request.get("signature") == "bad"
                ),
            )
        if len(parts) == 2 and parts[0] == "resend":
            return self._json(200, self.platform.resend(parts[1]))
        if path == "/reset":
            self.platform.reset()
            return self._json(200, {"ok": True})
        return self._json(404, {"error": "no such route"})

    def log_message(self, *args):  # references and amounts stay out of the console
        pass


def serve(platform: Platform, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"platform": platform})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="Payment platform simulator (docs/operations.md)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=simulators.DEFAULT_PORTS["PAYMENT_SIMULATOR"], help="0: a free port"
    )
    parser.add_argument("--secret", default=env("CQS_PAYMENT_SECRET", "demo-payment-secret"))
    parser.add_argument("--token", default=env("CQS_PAYMENT_TOKEN", ""))
    parser.add_argument("--minutes", type=int, default=30, help="a pending payment expires after this")
    parser.add_argument("--public-url", default="", help="the address browsers reach the pay page at")
    args = parser.parse_args(argv)
    platform = Platform(secret=args.secret, token=args.token, minutes=args.minutes)
    server = serve(platform, args.host, args.port)
    url = f"http://{args.host}:{server.server_address[1]}"
    platform.public_url = args.public_url.rstrip("/") or url
    simulators.serve_forever(server, "PAYMENT_SIMULATOR", url)


if __name__ == "__main__":
    main(sys.argv[1:])

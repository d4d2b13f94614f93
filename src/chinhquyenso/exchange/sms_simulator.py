"""A stand-in for a brandname SMS gateway, run as its own process (standard library only, no Django):

    python -m chinhquyenso.exchange.sms_simulator --port 8792 --token demo-sms-token

It prints `SMS_SIMULATOR_URL=http://127.0.0.1:<port>` once it listens (`--port 0`: a free port).
The platform is pointed at it with CQS_SMS_ADAPTER=simulator (or http) and CQS_SMS_BASE_URL=<that
URL>, CQS_SMS_TOKEN=<the same token> (docs/operations.md, "Tin nhắn SMS").

What it does:

- `POST /sms/send` — the gateway API the platform's HttpSmsSender speaks: header
  `Authorization: Bearer <token>`, body `{"brandname", "phone", "text", "request_id"}`. Answers
  HTTP 200 `{"code": 0, "message_id", "segments"}`; `{"code": 401}` for a wrong token, `{"code": 2}`
  for a malformed request or a phone that is not a Vietnamese number (84…). The same `request_id`
  twice is sent once (the first answer is given again), as a careful gateway does after a timeout.
- `GET /messages` (`?phone=` to filter, 84… or 0…) — the received SMS as JSON, oldest first.
- `GET /` — the same as an HTML page (a phone's inbox, for the demo).
- `POST /faults` `{"code": 99, "message": "…", "times": 2}` or `{"status": 503, "times": 1}` — the
  next `times` sends fail that way.
- `POST /reset` — forget messages and faults.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from chinhquyenso.core import simulators

SEND_PATH = "/sms/send"
PHONE = re.compile(r"84[0-9]{9,10}")


def segments(text: str) -> int:
    """Segments as a gateway bills them: 160/153 characters for plain ASCII, 70/67 otherwise
    (an approximation of GSM-7: the platform's own count is exchange.consent.sms_segments)."""
    if text.isascii():
        return 1 if len(text) <= 160 else -(-len(text) // 153)
    return 1 if len(text) <= 70 else -(-len(text) // 67)


class Gateway:
    def __init__(self, *, token: str):
        self.token = token
        self.lock = threading.Lock()
        self.messages: list[dict] = []
        self.answers: dict[str, dict] = {}  # request_id → the answer given
        self.faults: list[dict] = []

    def send(self, authorization: str, payload) -> tuple[int, dict]:
        with self.lock:
            if self.faults:
                fault = self.faults[0]
                fault["times"] -= 1
                if fault["times"] <= 0:
                    self.faults.pop(0)
                if "status" in fault:
                    return fault["status"], {"code": -1, "message": "Simulated outage"}
                return 200, {"code": fault["code"], "message": fault.get("message", "Simulated error")}
        if self.token and authorization != f"Bearer {self.token}":
            return 200, {"code": 401, "message": "Invalid token"}
        if not isinstance(payload, dict):
            return 200, {"code": 2, "message": "Body must be a JSON object"}
        phone, text = payload.get("phone"), payload.get("text")
        request_id, brandname = str(payload.get("request_id") or ""), payload.get("brandname")
        if not isinstance(phone, str) or not PHONE.fullmatch(phone):
            return 200, {"code": 2, "message": "Invalid phone"}
        if not isinstance(text, str) or not text.strip() or not isinstance(brandname, str) or not brandname:
            return 200, {"code": 2, "message": "Missing text or brandname"}
        with self.lock:
            if request_id and request_id in self.answers:
                return 200, self.answers[request_id]
            answer = {"code": 0, "message": "Success", "message_id": uuid.uuid4().hex, "segments": segments(text)}
            self.messages.append(
                {
                    "phone": phone,
                    "brandname": brandname,
                    "text": text,
                    "request_id": request_id,
                    "message_id": answer["message_id"],
                    "segments": answer["segments"],
                    "at": time.time(),
                }
            )
            if request_id:
                self.answers[request_id] = answer
        return 200, answer

    def received(self, phone: str | None) -> list[dict]:
        if phone and phone.startswith("0"):
            phone = "84" + phone[1:]
        with self.lock:
            return [m for m in self.messages if not phone or m["phone"] == phone]

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.answers.clear()
            self.faults.clear()


PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Cổng SMS mô phỏng</title></head>
<body><main><h1>Cổng SMS mô phỏng: tin nhắn đã nhận</h1><p>Không có tin nhắn nào rời khỏi máy này.</p>
<table><thead><tr><th scope="col">Số điện thoại</th><th scope="col">Tên thương hiệu</th>
<th scope="col">Nội dung</th><th scope="col">Số phần</th></tr></thead><tbody>{rows}</tbody></table></main></body></html>"""


class Handler(BaseHTTPRequestHandler):
    gateway: Gateway  # set on the server's handler class

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def do_GET(self):
        url = urlsplit(self.path)
        phone = parse_qs(url.query).get("phone", [None])[0]
        if url.path == "/messages":
            return self._json(200, self.gateway.received(phone))
        if url.path == "/":
            rows = "".join(
                f"<tr><td>{html.escape(m['phone'])}</td><td>{html.escape(m['brandname'])}</td>"
                f"<td>{html.escape(m['text'])}</td><td>{m['segments']}</td></tr>"
                for m in self.gateway.received(phone)
            )
            return self._send(200, PAGE.format(rows=rows).encode(), "text/html; charset=utf-8")
        return self._json(404, {"code": 404, "message": "Not found"})

    def do_POST(self):
        path = urlsplit(self.path).path
        payload = self._body()
        if path == SEND_PATH:
            status, answer = self.gateway.send(self.headers.get("Authorization", ""), payload)
            return self._json(status, answer)
        if not isinstance(payload, dict):
            return self._json(400, {"code": 2, "message": "Body must be a JSON object"})
        if path == "/faults":
            fault = {"times": max(1, int(payload.get("times", 1)))}
            if "status" in payload:
                fault["status"] = int(payload["status"])
            else:
                fault["code"], fault["message"] = int(payload.get("code", 99)), str(payload.get("message", ""))
            with self.gateway.lock:
                self.gateway.faults.append(fault)
            return self._json(200, {"ok": True})
        if path == "/reset":
            self.gateway.reset()
            return self._json(200, {"ok": True})
        return self._json(404, {"code": 404, "message": "Not found"})

    def log_message(self, *args):  # phone numbers and texts stay out of the console
        pass


def serve(gateway: Gateway, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"gateway": gateway})
    return ThreadingHTTPServer((host, port), handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Brandname SMS gateway simulator (docs/operations.md)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=simulators.DEFAULT_PORTS["SMS_SIMULATOR"], help="0: a free port")
    parser.add_argument("--token", default=os.environ.get("CQS_SMS_TOKEN", "demo-sms-token"))
    args = parser.parse_args(argv)
    server = serve(Gateway(token=args.token), args.host, args.port)
    simulators.serve_forever(server, "SMS_SIMULATOR")


if __name__ == "__main__":
    main(sys.argv[1:])

"""A stand-in for the Zalo platform, run as its own process (standard library only, no Django):

    python -m chinhquyenso.assistant.channels.zalo_simulator --port 8790 \\
        --webhook http://127.0.0.1:8000/kenh/zalo/webhook/ --app-id demo-app --secret demo-secret \\
        --access-token demo-token

It prints `ZALO_SIMULATOR_URL=http://127.0.0.1:<port>` once it listens (`--port 0`: a free port).
The platform is then pointed at it with CQS_ZALO_ADAPTER=http, CQS_ZALO_BASE_URL=<that URL> and the
same app id, secret and token (docs/national-systems.md, "Zalo Official Account").

What it does:

- `POST /v3.0/oa/message/cs` — the OA "send customer-service message" API: header `access_token`,
  body `{"recipient": {"user_id": …}, "message": {"text": …}}`. Answers HTTP 200 with
  `{"error": 0, "message": "Success", "data": {"message_id", "user_id"}}`, or with Zalo's error
  shape: -216 wrong access token, -201 malformed or a text over 2,000 characters. Received messages
  are kept in memory.
- `GET /messages` (`?user_id=` to filter) — what was received, oldest first.
- `POST /faults` `{"error": -32, "message": "…", "times": 2}` or `{"status": 503, "times": 1}` —
  the next `times` sends fail that way (a Zalo error code in a 200 body, or an HTTP status).
- `POST /simulate` `{"user_id", "text"}` — a user writes to the OA: the simulator builds the
  `user_send_text` event, signs it as Zalo does (`X-ZEvent-Signature: mac=sha256(app_id + body +
  timestamp + secret)`) and posts it to the webhook. Optional: `msg_id` (default: random),
  `timestamp` (milliseconds; default now), `event_name`, `signature` ("bad" signs with a wrong
  secret). `{"resend": msg_id}` posts that event again byte for byte, as Zalo's retry would.
  Answers `{"status": <the platform's HTTP status>, "body": <its answer>, "msg_id": …}`.
- `POST /reset` — forget messages, faults and events.

The signature is computed here independently of the platform's checking code
(assistant.channels.zalo), so a mistake in one does not hide in the other.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from chinhquyenso.core import simulators

SEND_PATH = "/v3.0/oa/message/cs"
TEXT_MAX = 2000
OA_ID = "4368496045530598081"  # the simulated Official Account (recipient.id of events)


class Platform:
    """The simulator's state, shared by the request threads."""

    def __init__(self, *, webhook: str, app_id: str, secret: str, access_token: str):
        self.webhook, self.app_id, self.secret, self.access_token = webhook, app_id, secret, access_token
        self.lock = threading.Lock()
        self.messages: list[dict] = []
        self.faults: list[dict] = []
        self.events: dict[str, tuple[bytes, str]] = {}  # msg_id → (body, signature) as sent

    # -- the OA API ---------------------------------------------------------------

    def send(self, token: str, payload) -> tuple[int, dict]:
        with self.lock:
            if self.faults:
                fault = self.faults[0]
                fault["times"] -= 1
                if fault["times"] <= 0:
                    self.faults.pop(0)
                if "status" in fault:
                    return fault["status"], {"error": -1, "message": "Simulated outage"}
                return 200, {"error": fault["error"], "message": fault.get("message", "Simulated error")}
        if self.access_token and token != self.access_token:
            return 200, {"error": -216, "message": "Access token is invalid"}
        recipient = payload.get("recipient") if isinstance(payload, dict) else None
        message = payload.get("message") if isinstance(payload, dict) else None
        user_id = recipient.get("user_id") if isinstance(recipient, dict) else None
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(user_id, str) or not user_id or not isinstance(text, str) or not text:
            return 200, {"error": -201, "message": "Parameters are invalid"}
        if len(text) > TEXT_MAX:
            return 200, {"error": -201, "message": f"Text is longer than {TEXT_MAX} characters"}
        message_id = uuid.uuid4().hex
        with self.lock:
            self.messages.append({"user_id": user_id, "text": text, "message_id": message_id, "at": time.time()})
        return 200, {"error": 0, "message": "Success", "data": {"message_id": message_id, "user_id": user_id}}

    def received(self, user_id: str | None) -> list[dict]:
        with self.lock:
            return [m for m in self.messages if user_id is None or m["user_id"] == user_id]

    # -- the webhook --------------------------------------------------------------

    def sign(self, body: bytes, timestamp: str, secret: str) -> str:
        return "mac=" + hashlib.sha256(self.app_id.encode() + body + timestamp.encode() + secret.encode()).hexdigest()

    def simulate(self, request: dict) -> dict:
        if "resend" in request:
            with self.lock:
                stored = self.events.get(str(request["resend"]))
            if stored is None:
                return {"status": None, "body": "unknown msg_id"}
            body, signature = stored
            msg_id = str(request["resend"])
        else:
            msg_id = str(request.get("msg_id") or uuid.uuid4().hex)
            timestamp = str(request.get("timestamp") or int(time.time() * 1000))
            event = {
                "app_id": self.app_id,
                "user_id_by_app": "app-" + str(request.get("user_id", "")),
                "event_name": request.get("event_name", "user_send_text"),
                "timestamp": timestamp,
                "sender": {"id": str(request.get("user_id", ""))},
                "recipient": {"id": OA_ID},
                "message": {"text": request.get("text", ""), "msg_id": msg_id},
            }
            body = json.dumps(event, ensure_ascii=False).encode()
            secret = self.secret + "-wrong" if request.get("signature") == "bad" else self.secret
            signature = self.sign(body, timestamp, secret)
            with self.lock:
                self.events[msg_id] = (body, signature)
        post = urllib.request.Request(
            self.webhook,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "X-ZEvent-Signature": signature},
        )
        try:
            with urllib.request.urlopen(post, timeout=30) as response:
                status, answer = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, answer = error.code, error.read().decode("utf-8", "replace")
        except OSError as error:
            status, answer = None, f"{type(error).__name__}: {error}"
        return {"status": status, "body": answer, "msg_id": msg_id}

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.faults.clear()
            self.events.clear()


class Handler(BaseHTTPRequestHandler):
    platform: Platform  # set on the server's handler class

    def _json(self, status: int, payload) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/messages":
            user_id = parse_qs(url.query).get("user_id", [None])[0]
            return self._json(200, self.platform.received(user_id))
        return self._json(404, {"error": -404, "message": "Not found"})

    def do_POST(self):
        path = urlsplit(self.path).path
        payload = self._body()
        if path == SEND_PATH:
            status, answer = self.platform.send(self.headers.get("access_token", ""), payload)
            return self._json(status, answer)
        if not isinstance(payload, dict):
            return self._json(400, {"error": -201, "message": "Body must be a JSON object"})
        if path == "/simulate":
            return self._json(200, self.platform.simulate(payload))
        if path == "/faults":
            fault = {"times": max(1, int(payload.get("times", 1)))}
            if "status" in payload:
                fault["status"] = int(payload["status"])
            else:
                fault["error"], fault["message"] = int(payload.get("error", -32)), str(payload.get("message", ""))
            with self.platform.lock:
                self.platform.faults.append(fault)
            return self._json(200, {"ok": True})
        if path == "/reset":
            self.platform.reset()
            return self._json(200, {"ok": True})
        return self._json(404, {"error": -404, "message": "Not found"})

    def log_message(self, *args):  # user ids and texts stay out of the console
        pass


def serve(platform: Platform, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"platform": platform})
    return ThreadingHTTPServer((host, port), handler)


def main(argv: list[str] | None = None) -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="Zalo Official Account simulator (docs/national-systems.md)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=simulators.DEFAULT_PORTS["ZALO_SIMULATOR"], help="0: a free port")
    parser.add_argument("--webhook", default=env("ZALO_SIMULATOR_WEBHOOK", "http://127.0.0.1:8000/kenh/zalo/webhook/"))
    parser.add_argument("--app-id", default=env("CQS_ZALO_APP_ID", "demo-app"))
    parser.add_argument("--secret", default=env("CQS_ZALO_SECRET", "demo-secret"))
    parser.add_argument("--access-token", default=env("CQS_ZALO_ACCESS_TOKEN", "demo-token"))
    args = parser.parse_args(argv)
    platform = Platform(webhook=args.webhook, app_id=args.app_id, secret=args.secret, access_token=args.access_token)
    server = serve(platform, args.host, args.port)
    simulators.serve_forever(server, "ZALO_SIMULATOR")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Simulators of the national systems reached over the data bus, each run as its own process
(standard library only, no Django), like chinhquyenso.payments.simulator:

    python -m chinhquyenso.exchange.connectors.simulators.population --port 8794 [--people FILE]
    python -m chinhquyenso.exchange.connectors.simulators.national_portal --port 8795 [--catalog FILE]

Each prints `<NAME>_URL=http://127.0.0.1:<port>` once it listens (core.simulators.serve_forever);
tests and `cqs demo` start them with core.simulators.spawn and point the registry's address
setting (CQS_POPULATION_BASE_URL, CQS_NATIONAL_PORTAL_BASE_URL) at them. They log nothing about
the requests they answer (citizen IDs must never reach a log line).

This module holds what they share: the JSON request handler (an `Idempotency-Key` store: the same
key gets the same answer and the work is done once; `POST /_sim/fail` to fail the next requests),
and `made_up_person`, the deterministic person both the population simulator process and the
in-process test convenience (exchange.national.simulators) answer with."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Đặng", "Bùi", "Đỗ"]
GIVEN = [
    "Văn An",
    "Thị Bình",
    "Minh Châu",
    "Thị Diễm",
    "Quốc Huy",
    "Thị Lan",
    "Hoàng Nam",
    "Thị Ngọc",
    "Thanh Tâm",
    "Văn Phúc",
]
# An ID starting with this simulates an outage of the population database.
OUTAGE_PREFIX = "000000"


def _hash(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


def well_formed(identity_number: str) -> bool:
    return identity_number.isdigit() and len(identity_number) == 12


def made_up_person(identity_number: str, *, communes: list[str] | tuple = (), province: str = "") -> dict | None:
    """The deterministic made-up person for a 12-digit ID (same ID → same name, birth date, gender,
    address), as the population database's wire format (schemas/population/lookup.response.json);
    None for IDs ending in 9 or not 12 digits ("not found"). `communes`: the commune names an
    address may name ("xã Kiến An"), `province` the province's name."""
    if not well_formed(identity_number) or identity_number.endswith("9"):
        return None
    return invented_person(identity_number, communes=communes, province=province)


def invented_person(
    identity_number: str, *, communes: list[str] | tuple = (), province: str = "", full_name: str = ""
) -> dict:
    """The made-up details of any ID (no "not found" rule); `full_name` replaces the invented name."""
    h = _hash(identity_number)
    name = full_name or f"{SURNAMES[h % 10]} {GIVEN[(h // 10) % 10]}"
    born = dt.date(1950, 1, 1) + dt.timedelta(days=(h // 100) % (55 * 365))
    commune = communes[(h // 10**8) % len(communes)] if communes else ""
    parts = (f"Tổ {(h // 10**6) % 30 + 1}", commune, f"tỉnh {province}" if province else "")
    return {
        "identity_number": identity_number,
        "full_name": name,
        "birth_date": born.isoformat(),
        "gender": "Nữ" if " Thị " in f" {name} " else "Nam",
        "address": ", ".join(p for p in parts if p),
    }


class JsonFile:
    """A JSON file read again whenever it changes (the demo may rewrite it while the simulator runs)."""

    def __init__(self, path: str, default):
        self.path, self.default = path, default
        self._stamp, self._value = None, default
        self._lock = threading.Lock()

    def value(self):
        if not self.path:
            return self.default
        try:
            stamp = os.stat(self.path).st_mtime_ns
        except OSError:
            return self.default
        with self._lock:
            if stamp != self._stamp:
                try:
                    with open(self.path, encoding="utf-8") as handle:
                        self._value = json.load(handle)
                except (OSError, ValueError):
                    self._value = self.default
                self._stamp = stamp
            return self._value


class State:
    """What a simulator keeps between requests: answers by Idempotency-Key, scripted failures."""

    def __init__(self, *, token: str = ""):
        self.token = token
        self.lock = threading.RLock()  # re-entered by `route` while an Idempotency-Key is being answered
        self.answers: dict[str, tuple[int, object]] = {}  # Idempotency-Key → the first answer
        self.failures: list[dict] = []  # the next requests' scripted answers
        self.requests = 0

    def next_failure(self) -> dict | None:
        with self.lock:
            self.requests += 1
            return self.failures.pop(0) if self.failures else None

    def reset(self) -> None:
        with self.lock:
            self.answers.clear()
            self.failures.clear()
            self.requests = 0


class Handler(BaseHTTPRequestHandler):
    """JSON over HTTP. Subclasses implement `route(method, parts, body) -> (status, payload)`;
    `/_sim/...` is for tests: `POST /_sim/fail {"count": n, "status": 503, "delay": 0}` answers the
    next n requests with that status (after `delay` seconds: a timeout), `GET /_sim/stats`,
    `POST /_sim/reset`."""

    state: State
    protocol_version = "HTTP/1.1"

    def _send(self, status: int, payload) -> None:
        data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the caller gave up waiting (a timeout test)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return ValueError

    def _serve(self) -> None:
        path = urlsplit(self.path).path
        parts = [p for p in path.split("/") if p]
        body = self._body()
        if parts[:1] == ["_sim"]:
            return self._send(*self.simulation(self.command, parts[1:], body))
        failure = self.state.next_failure()
        if failure is not None:
            time.sleep(float(failure.get("delay") or 0))
            return self._send(int(failure.get("status") or 503), {"error": "simulated failure"})
        if self.state.token and self.headers.get("Authorization", "") != f"Bearer {self.state.token}":
            return self._send(401, {"error": "unauthorized"})
        if body is ValueError:
            return self._send(400, {"error": "body is not JSON"})
        key = self.headers.get("Idempotency-Key", "")
        if key and self.command in ("POST", "PUT", "PATCH"):
            with self.state.lock:
                stored = self.state.answers.get(key)
            if stored is not None:
                return self._send(*stored)
            with self.state.lock:  # one request per key does the work; a concurrent retry waits
                stored = self.state.answers.get(key)
                if stored is None:
                    stored = self.route(self.command, parts, body)
                    if stored[0] < 500:
                        self.state.answers[key] = stored
            return self._send(*stored)
        return self._send(*self.route(self.command, parts, body))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def route(self, method: str, parts: list[str], body) -> tuple[int, object]:
        return 404, {"error": "no such route"}

    def simulation(self, method: str, parts: list[str], body) -> tuple[int, object]:
        body = body if isinstance(body, dict) else {}
        if method == "POST" and parts == ["fail"]:
            count = int(body.get("count", 1))
            failure = {"status": int(body.get("status", 503)), "delay": float(body.get("delay", 0))}
            with self.state.lock:
                self.state.failures.extend([failure] * count)
            return 200, {"failing": len(self.state.failures)}
        if method == "GET" and parts == ["stats"]:
            with self.state.lock:
                return 200, {"requests": self.state.requests, "failing": len(self.state.failures)}
        if method == "POST" and parts == ["reset"]:
            self.state.reset()
            return 200, {"ok": True}
        return 404, {"error": "no such route"}

    def log_message(self, *args):  # paths carry citizen IDs: nothing about requests is printed
        pass


def serve(handler: type[Handler], host: str = "127.0.0.1", port: int = 0, **attributes) -> ThreadingHTTPServer:
    bound = type("BoundHandler", (handler,), attributes)
    server = ThreadingHTTPServer((host, port), bound)
    server.daemon_threads = True
    return server

"""A receiver for delivery tests and the delivery benchmark, run as its own process (standard
library only, no Django): it honours idempotency keys and fails some requests on purpose.

    python -m chinhquyenso.exchange.bus.receiver_simulator --port 0 --fail-rate 0.1 --db /tmp/receiver.sqlite

It prints `BUS_RECEIVER_URL=http://127.0.0.1:<port>` once it listens.

- `POST <any path>` with header `Idempotency-Key` and a JSON body: with probability --fail-rate
  it fails transiently (503) — half of those before doing the work, half after doing it (the
  answer is lost on the way: the sender must send again, and the receiver must not do it twice).
  A body with `"poison": true` is refused (422, permanent); `"answer_status": 429` answers that
  status without doing the work. Otherwise the work is done once per key
  (recorded in the SQLite file --db, which survives a restart after SIGKILL: the work and its record
  commit together) and answered 200 `{"key", "n", "first": true|false}`; a repeat gets the stored
  answer with `"first": false`.
- `GET /stats` → `{"requests", "processed", "repeats", "executed_twice", "failed", "refused"}`:
  `executed_twice` counts keys whose work ran more than once (must be 0).
- `GET /keys` → every processed key, `{"keys": [...]}`.
- `POST /config` `{"fail_rate": 0.5, "seed": 1}` — change the failure rate (and reseed).
- `POST /reset` — forget everything.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from chinhquyenso.core import simulators

SCHEMA = """
CREATE TABLE IF NOT EXISTS processed (key TEXT PRIMARY KEY, n INTEGER, answer TEXT);
CREATE TABLE IF NOT EXISTS executions (key TEXT);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER);
"""


class Store:
    def __init__(self, path: str, fail_rate: float, seed: int | None):
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.lock = threading.Lock()
        self.fail_rate = fail_rate
        self.random = random.Random(seed)

    def _count(self, name: str) -> None:
        self.db.execute("INSERT INTO counters VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1", (name,))

    def handle(self, key: str, payload) -> tuple[int, dict]:
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                status, answer = self._handle(key, payload)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            return status, answer

    def _handle(self, key: str, payload) -> tuple[int, dict]:
        self._count("requests")
        if isinstance(payload, dict) and payload.get("poison"):
            self._count("refused")
            return 422, {"detail": "Dữ liệu gửi bị từ chối (thử nghiệm lỗi vĩnh viễn)."}
        if isinstance(payload, dict) and isinstance(payload.get("answer_status"), int):
            self._count("refused")
            return payload["answer_status"], {"detail": f"Trả lời thử nghiệm {payload['answer_status']}."}
        if not key:
            self._count("refused")
            return 400, {"detail": "Thiếu Idempotency-Key."}
        roll = self.random.random()
        if roll < self.fail_rate / 2:
            self._count("failed")
            return 503, {"detail": "Tạm thời không xử lý được (trước khi xử lý)."}
        row = self.db.execute("SELECT answer FROM processed WHERE key = ?", (key,)).fetchone()
        if row is not None:
            self._count("repeats")
            return 200, {**json.loads(row[0]), "first": False}
        n = payload.get("n") if isinstance(payload, dict) else None
        answer = {"key": key, "n": n}
        self.db.execute("INSERT INTO processed VALUES (?, ?, ?)", (key, n, json.dumps(answer)))
        self.db.execute("INSERT INTO executions VALUES (?)", (key,))
        if roll < self.fail_rate:
            self._count("failed")  # the work is done and kept; the answer is "lost"
            return 503, {"detail": "Tạm thời không xử lý được (sau khi xử lý)."}
        return 200, {**answer, "first": True}

    def stats(self) -> dict:
        with self.lock:
            counters = dict(self.db.execute("SELECT name, value FROM counters").fetchall())
            processed = self.db.execute("SELECT count(*) FROM processed").fetchone()[0]
            twice = self.db.execute(
                "SELECT count(*) FROM (SELECT key FROM executions GROUP BY key HAVING count(*) > 1)"
            ).fetchone()[0]
        return {
            "requests": counters.get("requests", 0),
            "processed": processed,
            "repeats": counters.get("repeats", 0),
            "executed_twice": twice,
            "failed": counters.get("failed", 0),
            "refused": counters.get("refused", 0),
        }

    def keys(self) -> list[str]:
        with self.lock:
            return [row[0] for row in self.db.execute("SELECT key FROM processed")]

    def reset(self) -> None:
        with self.lock:
            self.db.executescript("DELETE FROM processed; DELETE FROM executions; DELETE FROM counters;")


def make_handler(store: Store):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are two writes: without TCP_NODELAY, Nagle and delayed ACKs add 40 ms a call.
        disable_nagle_algorithm = True

        def log_message(self, *args):  # quiet
            pass

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def do_GET(self):
            if self.path == "/stats":
                return self._answer(200, store.stats())
            if self.path == "/keys":
                return self._answer(200, {"keys": store.keys()})
            return self._answer(404, {"detail": "Không có đường dẫn này."})

        def do_POST(self):
            raw = self._body()
            if self.path == "/reset":
                store.reset()
                return self._answer(200, {"reset": True})
            if self.path == "/config":
                settings = json.loads(raw or b"{}")
                with store.lock:
                    store.fail_rate = float(settings.get("fail_rate", store.fail_rate))
                    if "seed" in settings:
                        store.random.seed(settings["seed"])
                return self._answer(200, {"fail_rate": store.fail_rate})
            try:
                payload = json.loads(raw or b"null")
            except ValueError:
                return self._answer(400, {"detail": "Nội dung không phải JSON."})
            status, answer = store.handle(self.headers.get("Idempotency-Key", ""), payload)
            return self._answer(status, answer)

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a sender killed mid-request: nothing to report
        super().handle_error(request, client_address)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description="Hệ thống nhận thử nghiệm: chống xử lý trùng, lỗi tạm thời ngẫu nhiên."
    )
    parser.add_argument("--host", default="127.0.0.1", help="Địa chỉ lắng nghe.")
    parser.add_argument("--port", type=int, default=8794, help="Cổng (0: cổng trống bất kỳ).")
    parser.add_argument("--fail-rate", type=float, default=0.1, help="Tỉ lệ yêu cầu lỗi tạm thời (503).")
    parser.add_argument("--seed", type=int, default=None, help="Hạt giống ngẫu nhiên (lặp lại được).")
    parser.add_argument("--db", default=":memory:", help="Tệp SQLite giữ các khóa đã xử lý (giữ qua khởi động lại).")
    options = parser.parse_args(argv)
    store = Store(options.db, options.fail_rate, options.seed)
    server = Server((options.host, options.port), make_handler(store))
    simulators.serve_forever(server, "BUS_RECEIVER")


if __name__ == "__main__":
    main()

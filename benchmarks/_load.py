"""Harness shared by bench_mixed_load.py and fault_injection.py (not a benchmark itself).

It builds a minimal province on a fresh database (`_common.build_province`, plus one counter
officer per counter client and one citizen account per online client, all with passwords),
starts gunicorn as in production (`bench_pages.Server`: `gunicorn chinhquyenso.wsgi:application
--workers 2`, no debug), signs every client in through `POST /api/auth/login`, and runs the
clients in threads for a bounded time:

- "counter": a counter officer receives a dossier for a new applicant each time
  (`POST /api/dossiers`, channel "counter", a fresh citizen ID in `applicant`);
- "online": a citizen submits a dossier online (`POST /api/dossiers`, channel "online").

Every logical request carries a unique `Idempotency-Key` and a unique marker in its form
(`form_data.ma_yeu_cau`). A failed attempt — connection reset (a killed worker), timeout, 5xx,
409 "being processed" — is retried with the same key and body, as a careful client would, for up
to --retry-for seconds. At the end the database is read directly: every acknowledged request
(2xx received) must be there exactly once, no marker may appear twice, and `cqs audit verify`
must pass.
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import re
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

import _common as c
from bench_pages import Server, free_port

PASSWORD = "Mat-khau-tai-tai-2026"
PROCEDURE = "1.001193"
AGENCY = "xa-kien-an"


def parser(description: str):
    p = c.parser(description)
    p.add_argument("--clients", type=int, default=4, help="concurrent clients, half counter, half online (%(default)s)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default %(default)s)")
    p.add_argument("--retry-for", type=float, default=60, help="seconds one request keeps retrying (%(default)s)")
    p.add_argument("--kill-every", type=float, default=3, help="with worker kills: seconds between kills (%(default)s)")
    p.add_argument(
        "--src",
        type=Path,
        default=c.ROOT / "src",
        help="the platform's source to run (default: this checkout's src/); e.g. an older commit "
        "unpacked with `git archive REV | tar -x -C DIR` to compare before/after a change",
    )
    return p


# ---------------------------------------------------------------- platform


class Platform:
    """The fresh database, seeded, and gunicorn serving it."""

    def __init__(self, args, db_name: str):
        self.args = args
        self.env = c.Env(args, db_name)
        self.server: Server | None = None
        self.users: dict[str, list[str]] = {"counter": [], "online": []}

    def setup(self, counters: int, citizens: int) -> None:
        src = str(self.args.src.resolve())
        self.env.start(in_process=False)
        sys.path.insert(0, src)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        self._seed(counters, citizens)
        from django.db import connections

        connections.close_all()
        # The workers run the same source; no debug, cookies over plain http://127.0.0.1.
        os.environ.update(
            PYTHONPATH=src,
            CQS_INSECURE_COOKIES="1",
            CQS_SITE_URL="https://dichvucong.example.gov.vn",
            CQS_SECRET_KEY="load-" + uuid.uuid4().hex,
        )

    def _seed(self, counters: int, citizens: int) -> None:
        from chinhquyenso.accounts import services as accounts
        from chinhquyenso.accounts.models import Role

        province = c.build_province()
        for i in range(counters):
            accounts.create_officer(
                actor=province["admin"],
                username=f"mot-cua.{i}",
                password=PASSWORD,
                full_name=f"Cán bộ một cửa {i}",
                memberships=[(province["agencies"]["xa_a"], Role.COUNTER_OFFICER)],
            )
            self.users["counter"].append(f"mot-cua.{i}")
        for i in range(citizens):
            number = c.citizen_id(90_000_000 + i)
            accounts.create_citizen(identity_number=number, full_name=f"Trần Thị Mai {i}", password=PASSWORD)
            self.users["online"].append(number)

    def start(self, database_url: str | None = None) -> None:
        """gunicorn, optionally pointed at another database URL (the fault proxy)."""
        saved = os.environ.get("DATABASE_URL")
        if database_url:
            os.environ["DATABASE_URL"] = database_url
        self.server = Server(self.env, free_port(), self.args.workers)
        self.server.start()
        if database_url:
            os.environ["DATABASE_URL"] = saved
        self.base_url = f"http://127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        if self.server:
            self.server.stop()

    def finish(self) -> None:
        self.stop()
        self.env.finish()

    def log_errors(self, limit: int = 5) -> list[str]:
        """The distinct errors with a traceback in the gunicorn log (worker kills have none):
        each log entry runs from one timestamped line to the next."""
        if not self.server or not self.server.log.exists():
            return []
        text = self.server.log.read_text(errors="replace")
        seen, out = set(), []
        for entry in re.split(r"(?m)^(?=\[?\d{4}-\d\d-\d\d )", text):
            entry = entry.strip()
            if "Traceback (most recent call last)" in entry and entry.splitlines()[-1] not in seen:
                seen.add(entry.splitlines()[-1])
                out.append(entry)
        return out[:limit]


# ---------------------------------------------------------------- clients


@dataclass
class Request:
    rid: str
    kind: str
    key: str
    attempts: int = 0
    status: int | None = None  # the final answer; None when it gave up
    code: str = ""
    detail: str = ""


@dataclass
class Answer:
    at: float
    kind: str
    status: int  # 0: no HTTP answer (connection reset by a killed worker, timeout)
    retry_after: bool


@dataclass
class Log:
    requests: list[Request] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)


class Client(threading.Thread):
    """One signed-in user sending submissions back to back until the deadline."""

    def __init__(self, platform: Platform, kind: str, index: int, username: str, log: Log):
        super().__init__(daemon=True)
        self.platform, self.kind, self.index, self.log = platform, kind, index, log
        self.deadline = 0.0  # set by run_clients once everyone is signed in
        self.retry_for = platform.args.retry_for
        self.http = httpx.Client(base_url=platform.base_url, timeout=60)
        # Sign-in takes the CSRF token where the platform asks for one (GET /api/auth/csrf).
        self._call(lambda: self.http.get("/api/auth/csrf"))
        credentials = {"username": username, "password": PASSWORD}
        response = self._call(
            lambda: self.http.post(
                "/api/auth/login", json=credentials, headers={"X-CSRFToken": self.http.cookies.get("csrftoken", "")}
            )
        )
        if response is None or response.status_code != 200:
            platform.finish()
            sys.exit(f"sign-in of {username} failed: {response and response.status_code} {response and response.text}")
        self.csrf = self.http.cookies.get("csrftoken", "")

    def _call(self, send, request: Request | None = None):
        """Send until a final answer: retries what a worker kill or an outage causes."""
        give_up = time.monotonic() + self.retry_for
        delay = 0.1
        while True:
            if request:
                request.attempts += 1
            try:
                response = send()
            except httpx.TransportError:
                response = None
            status = response.status_code if response is not None else 0
            retry_after = response is not None and "Retry-After" in response.headers
            self.log.answers.append(Answer(time.monotonic(), self.kind, status, retry_after))
            if status and status < 500 and status != 409:
                return response
            if time.monotonic() > give_up:
                return response
            # Retry-After is the server's advice to people (30 s); the harness caps it to see recovery.
            time.sleep(min(delay, 2.0) * random.uniform(0.5, 1.0))
            delay *= 2

    def body(self, rid: str, n: int) -> dict:
        body = {
            "procedure_code": PROCEDURE,
            "channel": self.kind,
            "agency_code": AGENCY,
            "components": [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}],
            "form_data": {"ten_tre": "Nguyễn Văn Bình", "ngay_sinh": "2025-01-02", "ma_yeu_cau": rid},
        }
        if self.kind == "counter":  # a new applicant at the counter every time
            body["applicant"] = {
                "identity_number": c.citizen_id(self.index * 1_000_000 + n),
                "full_name": "Lê Văn Hùng",
                "phone": "0901234567",
            }
        return body

    def run(self) -> None:
        n = 0
        while time.monotonic() < self.deadline:
            rid = f"{self.kind}-{self.index}-{n}"
            request = Request(rid, self.kind, f"load-{uuid.uuid4()}")
            self.log.requests.append(request)
            body = self.body(rid, n)
            headers = {"Idempotency-Key": request.key, "X-CSRFToken": self.csrf}
            response = self._call(lambda: self.http.post("/api/dossiers", json=body, headers=headers), request)
            if response is not None:
                request.status = response.status_code
                if response.is_success:
                    request.code = response.json()["code"]
                else:
                    request.detail = response.text[:300]
            n += 1
        self.http.close()


class Killer(threading.Thread):
    """SIGKILL a random gunicorn worker every few seconds (gunicorn starts a new one), except
    while `quiet` is set: a request waiting out a database outage must live to answer 503."""

    def __init__(self, server: Server, every: float, stop: threading.Event, quiet: threading.Event):
        super().__init__(daemon=True)
        self.server, self.every, self.stop, self.quiet, self.kills = server, every, stop, quiet, 0

    def run(self) -> None:
        while not self.stop.wait(self.every):
            pids = [] if self.quiet.is_set() else self.server.worker_pids()
            if pids:
                try:
                    os.kill(random.choice(pids), signal.SIGKILL)
                    self.kills += 1
                except ProcessLookupError:
                    pass


def run_clients(platform: Platform, clients: int, seconds: float, kill_every: float | None, during=None, quiet=None):
    """Clients (half counter, half online) for `seconds`; `during(t0)` runs alongside (the faults),
    setting `quiet` to pause the worker kills.
    Returns the log, the elapsed time until the last client finished, and the number of kills."""
    log = Log()
    kinds = ["counter" if i % 2 == 0 else "online" for i in range(clients)]
    threads, count = [], collections.Counter()
    for i, kind in enumerate(kinds):
        username = platform.users[kind][count[kind]]
        threads.append(Client(platform, kind, i, username, log))
        count[kind] += 1
    log.answers.clear()  # the sign-ins are not part of the load
    stop = threading.Event()
    killer = Killer(platform.server, kill_every, stop, quiet or threading.Event()) if kill_every else None
    t0 = time.monotonic()
    for t in threads:
        t.deadline = t0 + seconds
        t.start()
    if killer:
        killer.start()
    if during:
        during(t0)
    for t in threads:
        t.join()
    stop.set()
    return log, time.monotonic() - t0, killer.kills if killer else 0


def counts(kinds: int) -> tuple[int, int]:
    """(counter clients, online clients) for `kinds` clients."""
    return (kinds + 1) // 2, kinds // 2


# ---------------------------------------------------------------- verdict


def check(log: Log) -> dict:
    """Compare what the clients were told with what the database holds."""
    from django.core.management import CommandError, call_command
    from django.db import connections

    from chinhquyenso.dossiers.models import Dossier

    connections.close_all()
    stored = collections.defaultdict(list)
    for code, form in Dossier.objects.values_list("code", "form_data"):
        marker = (form or {}).get("ma_yeu_cau")
        if marker:
            stored[marker].append(code)
    acked = [r for r in log.requests if r.status is not None and 200 <= r.status < 300]
    acked_ids = {r.rid for r in acked}
    lost = [r for r in acked if r.code not in stored.get(r.rid, [])]
    duplicated = [rid for rid, codes in stored.items() if len(codes) > 1]
    rejected = [r for r in log.requests if r.status is not None and not 200 <= r.status < 300]
    gave_up = [r for r in log.requests if r.status is None]
    try:
        call_command("audit", "verify", stdout=open(os.devnull, "w"))
        audit = "ok"
    except CommandError as error:
        audit = f"FAILED: {error}"
    answers = log.answers
    return {
        "sent": len(log.requests),
        "acknowledged": len(acked),
        "lost": lost,
        "duplicated": duplicated,
        "rejected": rejected,  # a final 4xx (or 5xx after --retry-for) for a valid request
        "gave_up": gave_up,
        "stored_unacknowledged": sum(1 for r in log.requests if r.rid in stored and r.rid not in acked_ids),
        "retries": sum(r.attempts - 1 for r in log.requests),
        "resets": sum(1 for a in answers if a.status == 0),
        "http_5xx": sum(1 for a in answers if a.status >= 500 and a.status != 503),
        "http_503": sum(1 for a in answers if a.status == 503),
        "http_503_no_retry_after": sum(1 for a in answers if a.status == 503 and not a.retry_after),
        "http_409": sum(1 for a in answers if a.status == 409),
        "audit": audit,
    }


def violations(result: dict) -> list[str]:
    out = []
    for name in ("lost", "duplicated", "rejected", "gave_up"):
        if result[name]:
            out.append(f"{name}: {len(result[name])}")
    if result["http_5xx"]:
        out.append(f"5xx other than 503: {result['http_5xx']}")
    if result["http_503_no_retry_after"]:
        out.append(f"503 without Retry-After: {result['http_503_no_retry_after']}")
    if result["audit"] != "ok":
        out.append(f"audit: {result['audit']}")
    return out


ROW_HEADERS = [
    "db",
    "faults",
    "sent",
    "acknowledged",
    "lost",
    "duplicated",
    "5xx (not 503)",
    "503",
    "resets",
    "retries",
    "ack/s",
    "audit",
]


def row(db: str, faults: str, result: dict, elapsed: float) -> list:
    return [
        db,
        faults,
        result["sent"],
        result["acknowledged"],
        len(result["lost"]),
        len(result["duplicated"]),
        result["http_5xx"],
        result["http_503"],
        result["resets"],
        result["retries"],
        result["acknowledged"] / elapsed,
        result["audit"],
    ]


def report_failures(platform: Platform, result: dict) -> None:
    """Enough detail to find a failure again: the requests and the server's tracebacks."""
    for name in ("lost", "rejected", "gave_up"):
        for r in result[name][:5]:
            print(f"  {name}: {r.rid} key={r.key} status={r.status} attempts={r.attempts} {r.detail}")
    for rid in result["duplicated"][:5]:
        print(f"  duplicated: {rid}")
    for block in platform.log_errors():
        print("\n--- gunicorn log ---\n" + block)


def print_machine(args) -> None:
    c.print_machine(args.pg_server)
    load = os.getloadavg()
    print(f"Load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")


# ---------------------------------------------------------------- faults


class TcpProxy:
    """A tiny asyncio TCP forwarder in a thread, between gunicorn and PostgreSQL, that can make
    the database unreachable: `refuse()` closes every connection and the listening socket
    (connection refused), `blackhole()` closes every connection and accepts new ones without
    ever answering (the app's connect timeout runs out), `restore()` forwards again."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = free_port()
        self.mode = "forward"
        self.links: set[asyncio.StreamWriter] = set()
        self.server = None
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self._do(self._listen())

    def _do(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, reader, writer) -> None:
        self.links.add(writer)
        if self.mode == "blackhole":
            return  # held open, never answered, closed by restore()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.links.add(up_writer)

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()
                self.links.discard(dst)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def _cut(self) -> None:
        for writer in list(self.links):
            writer.transport.abort()  # RST, as when a database host goes away
        self.links.clear()

    async def _refuse(self) -> None:
        self.server.close()
        await self._cut()

    async def _blackhole(self) -> None:
        self.mode = "blackhole"
        await self._cut()

    async def _restore(self) -> None:
        if self.mode == "blackhole":
            await self._cut()
        self.mode = "forward"
        if not self.server.is_serving():
            await self._listen()

    def refuse(self) -> None:
        self._do(self._refuse())

    def blackhole(self) -> None:
        self._do(self._blackhole())

    def restore(self) -> None:
        self._do(self._restore())

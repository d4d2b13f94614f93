"""Benchmark: the public procedure-search and dossier-tracking pages under gunicorn.

    .venv/bin/python benchmarks/bench_pages.py --backend sqlite
    .venv/bin/python benchmarks/bench_pages.py --backend postgres
    .venv/bin/python benchmarks/bench_pages.py --dossiers 20000 --workers 2 -c 8 --duration 20 --rounds 3

On a fresh database in a temporary CQS_DATA_DIR it runs `cqs migrate` and the
real demo builder `cqs seed-demo --dossiers N`, picks a dossier code from the
database (an open dossier submitted most recently: the one a citizen is most
likely to track), runs `cqs collectstatic`, and starts gunicorn the way
production does:

    gunicorn chinhquyenso.wsgi:application --workers W --bind 127.0.0.1:PORT

(CQS_DEBUG unset, CQS_SECRET_KEY set, CQS_ALLOWED_HOSTS=127.0.0.1,
WhiteNoise serving static files from the same processes). Two pages are
measured over HTTP:

    search    /thu-tuc/?q=dang%20ky%20khai%20sinh   (diacritic-free, as citizens type)
    tracking  /tra-cuu/?ma=<code>

The **limit** for each page is a static file of exactly the same bytes (the
page's own HTML) written to STATIC_ROOT/bench/<name>.html before gunicorn
starts and served by WhiteNoise from the same server: same sockets, same
workers, same response size, no view, no template, no database.

The load generator is in this script: C threads (default 8), each with its own
socket, sending byte-identical HTTP/1.1 requests apart from the path and
reading the responses with a minimal parser (no Accept-Encoding, so both
targets are sent uncompressed). Connections are reused when the server keeps
them open; gunicorn's default sync workers close every connection, so the
client then reconnects and the connect time is part of the latency. Each target
gets a warm-up (default 2 s, not recorded) and then a fixed duration (default
20 s). Every request's latency is recorded; a response that is not a 200 with
the expected body length is an error.

The load generator runs on the same machine and shares its cores with the
server, so the tables give the CPU time per request of the gunicorn processes,
of PostgreSQL's processes and of the load generator (from /proc), and how many
cores everything else on the machine used meanwhile ("other": on a shared
machine, someone else's test run shows up there). Before each target the
script waits (--quiet-wait, default 300 s) until the machine is idle. Every
target is measured --rounds times (default 3, interleaved page / static) and,
per page, the median round of those in which the rest of the machine stayed
idle is reported; all rounds are printed and written to the JSON file in
benchmarks/results/.

On PostgreSQL the script runs ANALYZE after seeding, as autovacuum would
shortly after the demo is built (--no-analyze to measure without statistics).

The number of SQL statements per page is counted in-process (django.test.Client
on the same database, each statement timed) and printed, with the cost of
opening a database connection; --profile also prints the top functions of a
cProfile of 50 in-process requests per page.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import json
import os
import pstats
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import _common as c

SEARCH_PATH = "/thu-tuc/?q=dang%20ky%20khai%20sinh"
SEARCH_EXPECT = "Đăng ký khai sinh"
RESULTS = c.ROOT / "benchmarks" / "results"
CLEAN_CORES = 0.1  # a round counts as undisturbed when everything else used less than this


def args_():
    p = c.parser("Public search and tracking pages under gunicorn, against a static file of the same size.")
    p.add_argument("--dossiers", type=int, default=20_000, help="dossiers for cqs seed-demo (default %(default)s)")
    p.add_argument("--seed", type=int, default=2025, help="seed-demo --seed (default %(default)s)")
    p.add_argument("--until", default=None, help="seed-demo --until (default: its own, yesterday)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default %(default)s)")
    p.add_argument("-c", "--concurrency", type=int, default=8, help="client connections (default %(default)s)")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds per target (default %(default)s)")
    p.add_argument(
        "--warmup", type=float, default=2.0, help="unrecorded seconds before each target (default %(default)s)"
    )
    p.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one)")
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=300.0,
        help="before each target, wait up to this many seconds for the machine to be idle (default %(default)s)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="measure every target this many times and report, per page, the median of the rounds in "
        "which the rest of the machine stayed idle (default %(default)s)",
    )
    p.add_argument(
        "--no-analyze",
        action="store_true",
        help="PostgreSQL: do not ANALYZE after seeding (default: ANALYZE, as autovacuum would)",
    )
    p.add_argument("--profile", action="store_true", help="also cProfile 50 in-process requests per page")
    return p.parse_args()


def tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- HTTP client


class Closed(Exception):
    """The server closed a reused connection before answering."""


def request_bytes(port: int, path: str) -> bytes:
    """The request every target gets; only the path differs."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: cqs-bench-pages\r\n"
        f"Accept: text/html,*/*;q=0.8\r\nAccept-Language: vi\r\n\r\n"
    ).encode("ascii")


def read_response(sock: socket.socket, keep_body: bool = False) -> tuple[int, int, bool, bytes, dict]:
    """(status, body length, server closes the connection, body if asked, headers)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise Closed
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, status = lines[0].split(" ", 2)[:2]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
    if "content-length" in headers:
        want = int(headers["content-length"])
        size = len(body)
        parts = [body] if keep_body else None
        while size < want:
            chunk = sock.recv(min(65536, want - size))
            if not chunk:
                raise OSError("connection closed mid-body")
            size += len(chunk)
            if keep_body:
                parts.append(chunk)
        return int(status), size, close, b"".join(parts) if keep_body else b"", headers
    # No length: the body runs to the end of the connection.
    parts = [body]
    while chunk := sock.recv(65536):
        parts.append(chunk)
    data = b"".join(parts)
    return int(status), len(data), True, data if keep_body else b"", headers


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def fetch(port: int, path: str) -> tuple[int, bytes, dict]:
    with connect(port) as sock:
        sock.sendall(request_bytes(port, path))
        status, _, _, body, headers = read_response(sock, keep_body=True)
    return status, body, headers


def cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def machine_busy() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine, steal seconds) from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def wait_until_quiet(limit_s: float, threshold: float = 0.25) -> float:
    """Wait (at most limit_s) until the rest of the machine uses less than
    `threshold` cores over one second; the server is idle here. Returns the
    last second's busy cores."""
    deadline = time.monotonic() + limit_s
    while True:
        b0, t0 = machine_busy()[0], time.monotonic()
        time.sleep(1)
        busy = (machine_busy()[0] - b0) / (time.monotonic() - t0)
        if busy < threshold or time.monotonic() >= deadline:
            return busy


def database_pids() -> list[int]:
    """The PostgreSQL backends serving this benchmark's database (the gunicorn
    workers keep theirs open); none for SQLite, which runs inside the workers."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return []
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    return {pid: cpu_seconds([pid]) for pid in pids if Path(f"/proc/{pid}").exists()}


def load(
    port: int, path: str, expected_len: int, concurrency: int, warmup: float, duration: float, server_pids: list[int]
) -> dict:
    """C threads hammer one path; requests started before the warm-up ends are not recorded."""
    request = request_bytes(port, path)
    begin = time.perf_counter() + 0.2
    measure_from = begin + warmup
    stop_at = measure_from + duration
    per_thread: list[list[tuple[float, float, bool]]] = [[] for _ in range(concurrency)]
    reconnects = [0] * concurrency

    def worker(k: int) -> None:
        out = per_thread[k]
        sock = None
        while time.perf_counter() < begin:
            time.sleep(0.001)
        while True:
            start = time.perf_counter()
            if start >= stop_at:
                break
            ok = False
            for attempt in (1, 2):
                reused = sock is not None
                try:
                    if sock is None:
                        sock = connect(port)
                        reconnects[k] += 1
                    sock.sendall(request)
                    status, size, close, _, _ = read_response(sock)
                    ok = status == 200 and size == expected_len
                    if close:
                        sock.close()
                        sock = None
                    break
                except (Closed, OSError):
                    if sock is not None:
                        sock.close()
                        sock = None
                    if not (reused and attempt == 1):  # a stale kept-alive socket gets one retry
                        break
            end = time.perf_counter()
            if start >= measure_from:
                out.append((start, end, ok))
        if sock is not None:
            sock.close()

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(concurrency)]
    for t in threads:
        t.start()
    while time.perf_counter() < measure_from:
        time.sleep(0.001)
    db_pids = database_pids()  # after the warm-up: every worker has connected
    cpu_server0, cpu_client0, (busy0, steal0) = cpu_seconds(server_pids), time.process_time(), machine_busy()
    db0 = cpu_by_pid(db_pids)
    while time.perf_counter() < stop_at:
        time.sleep(0.005)
    cpu_server1, cpu_client1, (busy1, steal1) = cpu_seconds(server_pids), time.process_time(), machine_busy()
    db1 = cpu_by_pid(db_pids)
    cpu_db0, cpu_db1 = 0.0, sum(max(0.0, db1[pid] - db0[pid]) for pid in db0.keys() & db1.keys())
    for t in threads:
        t.join()
    records = [r for out in per_thread for r in out]
    done = [r for r in records if r[1] <= stop_at]  # completed inside the window
    good = [end - start for start, end, ok in records if ok]
    errors = sum(1 for r in records if not r[2])
    summary = c.summary_ms(good) if good else {"n": 0, "mean": 0, "p50": 0, "p95": 0, "p99": 0, "max": 0}
    n_window = max(1, len(done))
    return {
        "path": path,
        "bytes": expected_len,
        "requests": len(records),
        "errors": errors,
        "rps": sum(1 for r in done if r[2]) / duration,
        **{k: summary[k] for k in ("mean", "p50", "p95", "p99", "max")},
        "server_cpu_ms_per_req": (cpu_server1 - cpu_server0) / n_window * 1000,
        "client_cpu_ms_per_req": (cpu_client1 - cpu_client0) / n_window * 1000,
        "server_cpu_cores": (cpu_server1 - cpu_server0) / duration,
        "client_cpu_cores": (cpu_client1 - cpu_client0) / duration,
        # Everything else on the machine (other people's tests, the OS) during the window.
        "db_cpu_ms_per_req": (cpu_db1 - cpu_db0) / n_window * 1000,
        "db_cpu_cores": (cpu_db1 - cpu_db0) / duration,
        "other_cpu_cores": max(
            0.0, (busy1 - busy0) - (cpu_server1 - cpu_server0) - (cpu_client1 - cpu_client0) - (cpu_db1 - cpu_db0)
        )
        / duration,
        "steal_cores": (steal1 - steal0) / duration,
        "connections_opened_incl_warmup": sum(reconnects),
    }


# ---------------------------------------------------------------- gunicorn


class Server:
    def __init__(self, env: c.Env, port: int, workers: int):
        self.env, self.port, self.workers = env, port, workers
        self.proc: subprocess.Popen | None = None
        self.log = env.tmp / "gunicorn.log"

    @staticmethod
    def environ() -> dict:
        e = os.environ.copy()
        e.pop("CQS_DEBUG", None)
        e["DJANGO_SETTINGS_MODULE"] = "chinhquyenso.settings"
        e["CQS_ALLOWED_HOSTS"] = "127.0.0.1"
        # A production process refuses to start without the site's address (core.checks, cqs.E001).
        e.setdefault("CQS_SITE_URL", "https://dichvucong.example.gov.vn")
        return e

    def start(self) -> None:
        cmd = [
            tool("gunicorn"),
            "chinhquyenso.wsgi:application",
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
        ]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.env.tmp, env=self.environ(), stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"gunicorn exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                status, _, _ = fetch(self.port, "/")
                if status < 500:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            self.stop()
            sys.exit(f"gunicorn did not answer within 60 s:\n{self.log.read_text()[-3000:]}")
        # Every worker imports the app lazily on its first request; wait until all are up.
        deadline = time.monotonic() + 30
        while len(self.worker_pids()) < self.workers and time.monotonic() < deadline:
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.proc.pid:
                pids.append(int(stat.parent.name))
        return pids

    def pids(self) -> list[int]:
        return [self.proc.pid, *self.worker_pids()] if self.proc else []

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------- in-process checks


def pick_dossier() -> dict:
    """The open dossier submitted last (the one a citizen is most likely to track),
    or the last one of any status."""
    from django.db.models import Count

    from chinhquyenso.dossiers.models import OPEN_STATUSES, Dossier
    from chinhquyenso.procedures.models import Procedure

    dossier = (
        Dossier.objects.filter(status__in=OPEN_STATUSES).order_by("-submitted_at", "-id").first()
        or Dossier.objects.order_by("-submitted_at", "-id").first()
    )
    if dossier is None:
        sys.exit("seed-demo wrote no dossiers")
    by_status = dict(Dossier.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "code": dossier.code,
        "status": dossier.status,
        "procedure": dossier.procedure.name,
        "dossiers": sum(by_status.values()),
        "by_status": by_status,
        "procedures_active": Procedure.objects.filter(is_active=True).count(),
    }


def in_process(paths: dict[str, str], profile: bool) -> dict[str, dict]:
    """SQL statements per page (django.test.Client on the same database), and a cProfile on request."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    out = {}
    for name, path in paths.items():
        for _ in range(3):
            client.get(path)
        captured = []

        def timed(execute, sql, params, many, context):
            t0 = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                captured.append({"sql": sql, "ms": (time.perf_counter() - t0) * 1000})

        with connection.execute_wrapper(timed):
            response = client.get(path)
        t0 = time.perf_counter()
        for _ in range(20):
            client.get(path)
        out[name] = {
            "status": response.status_code,
            "sql_statements": len(captured),
            "sql_ms": sum(q["ms"] for q in captured),
            "in_process_ms": (time.perf_counter() - t0) / 20 * 1000,
            "sql": [f"{q['ms']:.2f} ms  {q['sql'][:240]}" for q in captured],
        }
        if profile:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(50):
                client.get(path)
            prof.disable()
            text = io.StringIO()
            stats = pstats.Stats(prof, stream=text)
            stats.sort_stats("cumulative").print_stats(25)
            stats.sort_stats("tottime").print_stats(15)
            out[name]["profile"] = text.getvalue()
    # A fresh database connection and its first statement: what every request
    # pays when CONN_MAX_AGE is 0 (the SQLite setting), nothing on PostgreSQL
    # where workers keep their connection (CONN_MAX_AGE=60).
    from django.conf import settings

    times = []
    for _ in range(20):
        connection.close()
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM dossiers_dossier WHERE code = %s", ["x"])
            cur.fetchall()
        times.append((time.perf_counter() - t0) * 1000)
    out["_connect"] = {
        "connect_ms": sorted(times)[len(times) // 2],
        "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
    }
    return out


# ---------------------------------------------------------------- main


def run(args, env: c.Env) -> dict:
    os.environ.setdefault("CQS_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["CQS_ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ.pop("CQS_DEBUG", None)
    child_env = os.environ.copy()

    t0 = time.perf_counter()
    subprocess.run([tool("cqs"), "migrate", "-v0"], check=True, env=child_env)
    seed_cmd = [tool("cqs"), "seed-demo", "--dossiers", str(args.dossiers), "--seed", str(args.seed)]
    if args.until:
        seed_cmd += ["--until", args.until]
    result = subprocess.run(seed_cmd, capture_output=True, text=True, env=child_env)
    if result.returncode != 0:
        sys.exit(f"seed-demo failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    seed_s = time.perf_counter() - t0
    seed_summary = next((line for line in result.stdout.splitlines() if line.startswith("Xong trong")), "")
    print(f"migrate + seed-demo --dossiers {args.dossiers:,}: {seed_s:.0f} s  {seed_summary}", flush=True)
    analyzed = None
    if env.backend == "postgres":
        # Production PostgreSQL has autovacuum on and analyzes the new tables within
        # a minute; a benchmark server may have it off. Without statistics the
        # planner guesses one row per table (nested loops, big sorts).
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            autovacuum = conn.execute("SHOW autovacuum").fetchone()[0]
            if not args.no_analyze:
                conn.execute("ANALYZE")
        analyzed = not args.no_analyze
        print(
            f"PostgreSQL autovacuum: {autovacuum}; ANALYZE after seeding: {'yes' if analyzed else 'no (--no-analyze)'}",
            flush=True,
        )

    sys.path.insert(0, str(c.ROOT / "src"))
    import django

    django.setup()
    from django.db import connection, connections

    picked = pick_dossier()
    paths = {"search": SEARCH_PATH, "tracking": f"/tra-cuu/?ma={picked['code']}"}
    expect = {"search": SEARCH_EXPECT, "tracking": picked["code"]}
    checks = in_process(paths, args.profile)
    vendor = connection.vendor
    connections.close_all()

    subprocess.run([tool("cqs"), "collectstatic", "--noinput", "-v0"], check=True, env=child_env)
    static_dir = env.tmp / "static" / "bench"
    static_dir.mkdir(parents=True, exist_ok=True)

    port = args.port or free_port()
    server = Server(env, port, args.workers)
    try:
        # Pass 1: fetch the pages as served, to write static files of the same bytes.
        server.start()
        pages = {}
        for name, path in paths.items():
            status, body, headers = fetch(port, path)
            text = body.decode("utf-8", "replace")
            if status != 200 or expect[name] not in text:
                sys.exit(
                    f"{path}: HTTP {status}, expected text {expect[name]!r} "
                    f"{'found' if expect[name] in text else 'missing'}\n{text[:1000]}"
                )
            sizes = {len(fetch(port, path)[1]) for _ in range(5)}
            if sizes != {len(body)}:
                sys.exit(
                    f"{path}: the page size varies between requests ({sorted(sizes)}), no fixed-size limit possible"
                )
            pages[name] = body
            (static_dir / f"{name}.html").write_bytes(body)
        server.stop()
        # Pass 2: WhiteNoise indexes STATIC_ROOT when the workers start.
        server.start()
        targets = []
        for name, path in paths.items():
            static_path = f"/static/bench/{name}.html"
            for p in (path, static_path):
                status, body, headers = fetch(port, p)
                if status != 200 or len(body) != len(pages[name]):
                    sys.exit(f"{p}: HTTP {status}, {len(body)} bytes (expected 200, {len(pages[name])} bytes)")
            print(
                f"{name}: {path} → 200, {len(pages[name]):,} bytes, contains {expect[name]!r}; "
                f"{static_path} → 200, same size ({headers.get('content-type')})",
                flush=True,
            )
            targets += [(name, "page", path, len(pages[name])), (name, "static", static_path, len(pages[name]))]
        server_pids = server.pids()
        results = []
        for round_ in range(1, args.rounds + 1):
            for name, kind, path, size in targets:
                idle = wait_until_quiet(args.quiet_wait)
                print(f"  round {round_}: load {path} (machine busy before: {idle:.2f} cores) …", flush=True)
                r = load(port, path, size, args.concurrency, args.warmup, args.duration, server_pids)
                results.append({"round": round_, "page": name, "kind": kind, **r})
                print(
                    f"    {r['rps']:.1f} req/s, p95 {r['p95']:.1f} ms, other load {r['other_cpu_cores']:.2f} cores",
                    flush=True,
                )
    finally:
        server.stop()
    return {
        "vendor": vendor,
        "picked": picked,
        "checks": checks,
        "results": results,
        "seed_seconds": seed_s,
        "analyzed": analyzed,
        "seed_summary": seed_summary,
        "port": port,
    }


def report(args, out: dict) -> dict:
    c.print_machine(args.pg_server)
    picked = out["picked"]
    print(
        f"Backend: {out['vendor']}; seed-demo --dossiers {args.dossiers:,} --seed {args.seed}"
        f"{' --until ' + args.until if args.until else ''} → {picked['dossiers']:,} dossiers, "
        f"{picked['procedures_active']:,} active procedures; gunicorn --workers {args.workers} (sync); "
        f"client: {args.concurrency} threads, {args.warmup:g} s warm-up + {args.duration:g} s per target, same machine"
    )
    if out["analyzed"] is not None:
        print(f"PostgreSQL statistics: {'ANALYZE after seeding' if out['analyzed'] else 'none (--no-analyze)'}")
    print(f"Tracked dossier: {picked['code']} ({picked['status']}, {picked['procedure']})\n")
    labels = {"search": "search page", "tracking": "tracking page"}
    ratios = []
    for name in ("search", "tracking"):
        # Of several rounds: the median (by page req/s) of those in which the rest of
        # the machine stayed idle (< 0.1 cores), else the one with the least other load.
        pairs = [
            [
                next(r for r in out["results"] if r["round"] == n and r["page"] == name and r["kind"] == k)
                for k in ("page", "static")
            ]
            for n in range(1, args.rounds + 1)
        ]
        other = lambda pair: max(r["other_cpu_cores"] for r in pair)  # noqa: E731
        clean = sorted((pair for pair in pairs if other(pair) < CLEAN_CORES), key=lambda pair: pair[0]["rps"])
        page, static = clean[(len(clean) - 1) // 2] if clean else min(pairs, key=other)
        if args.rounds > 1:
            print(
                f"Rounds ({labels[name]}): "
                + "; ".join(
                    f"{pg['round']}: {pg['rps']:.0f} / {st['rps']:.0f} req/s, p95 {pg['p95']:.1f} / {st['p95']:.1f} ms, "
                    f"other {other((pg, st)):.2f} cores"
                    for pg, st in pairs
                )
                + " (page / static)"
            )
            print(
                f"Reported: round {page['round']}, "
                + (
                    f"the median of {len(clean)} rounds with the machine otherwise idle"
                    if clean
                    else "the least other load (no idle round)"
                )
            )
        print(f"{labels[name]}: {page['path']} ({page['bytes']:,} bytes)")
        print(
            c.table(
                [
                    "target",
                    "req/s",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "max ms",
                    "requests",
                    "errors",
                    "CPU ms/req server / PostgreSQL / client",
                    "CPU cores server / PostgreSQL / client / other",
                ],
                [
                    [
                        label,
                        r["rps"],
                        r["p50"],
                        r["p95"],
                        r["p99"],
                        r["max"],
                        f"{r['requests']:,}",
                        r["errors"],
                        f"{r['server_cpu_ms_per_req']:.2f} / {r['db_cpu_ms_per_req']:.2f} / {r['client_cpu_ms_per_req']:.2f}",
                        f"{r['server_cpu_cores']:.2f} / {r['db_cpu_cores']:.2f} / {r['client_cpu_cores']:.2f} / "
                        f"{r['other_cpu_cores']:.2f}",
                    ]
                    for label, r in ((labels[name], page), ("limit: static file, same size", static))
                ],
            )
        )
        print()
        ratios.append(
            [
                labels[name],
                page["rps"],
                static["rps"],
                f"{page['rps'] / static['rps']:.2f}",
                page["p95"],
                static["p95"],
                f"{page['p95'] / static['p95']:.1f}×" if static["p95"] else "—",
            ]
        )
    print("Page against its limit")
    print(
        c.table(
            [
                "page",
                "page req/s",
                "static req/s",
                "page ÷ static (req/s)",
                "page p95 ms",
                "static p95 ms",
                "page ÷ static (p95)",
            ],
            ratios,
        )
    )
    checks = {n: ch for n, ch in out["checks"].items() if n in labels}
    connect = out["checks"]["_connect"]
    print("\nIn-process (django.test.Client, same database, connection kept open): SQL statements and time per page")
    print(
        c.table(
            ["page", "SQL statements", "SQL execute ms", "whole request ms (mean of 20)"],
            [[labels[n], ch["sql_statements"], ch["sql_ms"], ch["in_process_ms"]] for n, ch in checks.items()],
        )
    )
    print(
        f"New database connection + first statement: {connect['connect_ms']:.2f} ms (median of 20); "
        f"CONN_MAX_AGE = {connect['conn_max_age']} "
        f"({'paid by every request' if not connect['conn_max_age'] else 'kept by each worker'})"
    )
    for name, ch in checks.items():
        print(f"\nSQL, {labels[name]}:")
        for sql in ch["sql"]:
            print("  " + sql)
        if "profile" in ch:
            print(f"\ncProfile, 50 in-process requests, {labels[name]}:\n{ch['profile']}")
    return {
        "benchmark": "bench_pages",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": c.machine(args.pg_server),
        "args": {k: v for k, v in vars(args).items() if k != "pg_server"},
        **{k: v for k, v in out.items() if k != "checks"},
        "in_process": {n: {k: v for k, v in ch.items() if k != "profile"} for n, ch in out["checks"].items()},
    }


def main():
    args = args_()
    env = c.Env(args, "cqs_bench_pages")
    env.start(in_process=False)
    env.in_process = True  # finish() closes this process's connections (Django is set up after seeding)
    try:
        out = run(args, env)
    finally:
        if "django" not in sys.modules:
            env.in_process = False
        env.finish()
    data = report(args, out)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"bench_pages-{args.backend}-{stamp}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    print(f"\nResults: {path.relative_to(c.ROOT)}")


if __name__ == "__main__":
    main()

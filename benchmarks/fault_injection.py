"""Fault injection under mixed load, bounded (well under 2 minutes a database), rerunnable.

    .venv/bin/python benchmarks/fault_injection.py --backend sqlite
    .venv/bin/python benchmarks/fault_injection.py --backend postgres

The harness of bench_mixed_load.py (benchmarks/_load.py: gunicorn with 2 workers, counter and
online clients retrying with the same Idempotency-Key), with faults on a fixed timeline while
the clients run:

- between outages: SIGKILL of a random gunicorn worker every --kill-every seconds; with more
  clients than workers the workers are busy, so most kills cut a request in the middle
  ("resets"); kills pause during an outage (and GRACE s after), so that a request waiting on
  the database lives to give its answer;
- SQLite: another connection holds `BEGIN EXCLUSIVE` for 4 s (shorter than the app's 20 s busy
  timeout: writes wait, no error expected), then for 24 s (longer: 503 expected);
- PostgreSQL: gunicorn reaches the database through a TCP proxy started here
  (`_load.TcpProxy`), which first refuses connections for 5 s (every open connection reset),
  then accepts them without answering for 8 s (the app's 5 s connect timeout runs out).

Expected: during an outage the API answers 503 with Retry-After, never 500; the first
acknowledged submission after each outage comes within seconds; no acknowledged submission is
lost, none is stored twice, and `cqs audit verify` passes. Prints a table per fault and the
totals; exits 1 on any violation.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import _common as c
import _load

GRACE = 7  # a request that started during the outage may end this long after it (connect timeout 5 s)


@dataclass
class Fault:
    name: str
    start: float  # seconds after the load began
    length: float
    expect_503: bool
    begin: object  # callables: make the database unreachable, and reachable again
    end: object
    at: float = 0.0  # monotonic times, when it happened
    until: float = 0.0


def sqlite_faults(platform: _load.Platform) -> list[Fault]:
    holder = {}

    def lock():
        conn = sqlite3.connect(platform.env.tmp / "cqs.sqlite3", timeout=30, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        holder["conn"] = conn

    def unlock():
        holder.pop("conn").execute("ROLLBACK")

    return [
        Fault("SQLite locked 4 s (< 20 s busy timeout)", 6, 4, False, lock, unlock),
        Fault("SQLite locked 24 s (> 20 s busy timeout)", 22, 24, True, lock, unlock),
    ]


def postgres_faults(proxy: _load.TcpProxy) -> list[Fault]:
    return [
        Fault("PostgreSQL refuses connections 5 s", 5, 5, True, proxy.refuse, proxy.restore),
        Fault("PostgreSQL does not answer 8 s", 22, 8, True, proxy.blackhole, proxy.restore),
    ]


def run_faults(faults: list[Fault], quiet: threading.Event):
    """The timeline; worker kills pause from each outage's start until GRACE s after its end."""

    def during(t0: float) -> None:
        for fault in faults:
            time.sleep(max(0.0, t0 + fault.start - time.monotonic()))
            quiet.set()
            fault.begin()
            fault.at = time.monotonic()
            time.sleep(fault.length)
            fault.end()
            fault.until = time.monotonic()
            time.sleep(GRACE)
            quiet.clear()

    return during


def judge(fault: Fault, log: _load.Log) -> tuple[list, list[str]]:
    window = [a for a in log.answers if fault.at <= a.at <= fault.until + GRACE]
    after = [a.at for a in log.answers if a.at >= fault.until and 200 <= a.status < 300]
    recovery = min(after) - fault.until if after else None
    n503 = sum(1 for a in window if a.status == 503)
    n5xx = sum(1 for a in window if a.status >= 500 and a.status != 503)
    problems = []
    if fault.expect_503 and not n503:
        problems.append(f"{fault.name}: no 503 during the outage")
    if n5xx:
        problems.append(f"{fault.name}: {n5xx} 5xx other than 503")
    if recovery is None:
        problems.append(f"{fault.name}: no acknowledged submission after the outage")
    row = [
        fault.name,
        len(window),
        sum(1 for a in window if 200 <= a.status < 300),
        n503,
        n5xx,
        sum(1 for a in window if a.status == 0),
        sum(1 for a in window if a.status == 503 and a.at > fault.until),
        f"{recovery:.2f}" if recovery is not None else "never",
    ]
    return row, problems


def main() -> None:
    p = _load.parser("Worker kills and database outages under mixed load.")
    p.set_defaults(kill_every=2)
    args = p.parse_args()
    platform = _load.Platform(args, "cqs_load_faults")
    counters, citizens = _load.counts(args.clients)
    platform.setup(counters, citizens)
    proxy = None
    try:
        _load.print_machine(args)
        if args.backend == "postgres":
            url = urlsplit(f"{args.pg_server.rstrip('/')}/{platform.env.pg_db}")
            proxy = _load.TcpProxy(url.hostname, url.port or 5432)
            user = f"{url.username}@" if url.username else ""
            platform.start(url._replace(netloc=f"{user}127.0.0.1:{proxy.port}").geturl())
            faults = postgres_faults(proxy)
        else:
            platform.start()
            faults = sqlite_faults(platform)
        seconds = max(f.start + f.length for f in faults) + 10
        quiet = threading.Event()
        log, elapsed, kills = _load.run_clients(
            platform, args.clients, seconds, args.kill_every, during=run_faults(faults, quiet), quiet=quiet
        )
        platform.stop()
        rows, problems = [], []
        for fault in faults:
            row, found = judge(fault, log)
            rows.append(row)
            problems += found
        result = _load.check(log)
        problems += _load.violations(result)
        print(f"{args.clients} clients ({counters} counter, {citizens} online), {seconds:g} s, {kills} worker kills")
        print(f"Outages (answers counted from the fault's start to {GRACE} s after its end):")
        headers = ["fault", "answers", "2xx", "503", "5xx (not 503)", "resets", "503 after end", "recovery s"]
        print(c.table(headers, rows))
        print("\nTotals:")
        names = ", ".join(f.name.split(" ", 1)[1] for f in faults)
        print(c.table(_load.ROW_HEADERS, [_load.row(args.backend, f"{kills} kills, {names}", result, elapsed)]))
        print(f"stored but not acknowledged (client gave up or was cut): {result['stored_unacknowledged']}")
        if problems:
            print("\nVIOLATIONS: " + "; ".join(problems))
            _load.report_failures(platform, result)
        else:
            print("\nNo violation.")
    finally:
        platform.finish()
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

"""Mixed load under gunicorn: counter officers and citizens submitting at once, optionally while
gunicorn workers are killed, checked against the database afterwards.

    .venv/bin/python benchmarks/bench_mixed_load.py --backend sqlite   --clients 4 --seconds 30
    .venv/bin/python benchmarks/bench_mixed_load.py --backend postgres --clients 4 --seconds 30 --kill-workers

Half the clients are counter officers receiving a dossier for a new applicant each time, half
are citizens submitting online (see benchmarks/_load.py for the harness). With --kill-workers a
random gunicorn worker is sent SIGKILL every --kill-every seconds; clients retry a reset request
with the same Idempotency-Key. Printed: sent, acknowledged (2xx received), lost (acknowledged
but not in the database), duplicated (one request stored twice), 5xx other than 503, 503s,
connection resets, retries, acknowledged submissions per second and `cqs audit verify`. Exits 1
when anything was lost, duplicated, refused, given up, or answered 5xx (other than 503 with
Retry-After), or when the audit chain does not verify.

To measure a change, run the same command with --src pointing at the older source, e.g.
    mkdir /tmp/before && git archive REV | tar -x -C /tmp/before
    .venv/bin/python benchmarks/bench_mixed_load.py --src /tmp/before/src
"""

from __future__ import annotations

import sys

import _common as c
import _load


def main() -> None:
    p = _load.parser("Counter + online submissions under gunicorn, optionally killing workers.")
    p.add_argument("--seconds", type=float, default=30, help="load duration (default %(default)s)")
    p.add_argument("--kill-workers", action="store_true", help="SIGKILL a random worker every --kill-every s")
    args = p.parse_args()
    platform = _load.Platform(args, "cqs_load")
    counters, citizens = _load.counts(args.clients)
    platform.setup(counters, citizens)
    try:
        _load.print_machine(args)
        platform.start()
        log, elapsed, kills = _load.run_clients(
            platform, args.clients, args.seconds, args.kill_every if args.kill_workers else None
        )
        platform.stop()
        result = _load.check(log)
        faults = f"{kills} worker kills" if args.kill_workers else "none"
        print(f"{args.clients} clients ({counters} counter, {citizens} online), {args.seconds:g} s, src {args.src}")
        print(c.table(_load.ROW_HEADERS, [_load.row(args.backend, faults, result, elapsed)]))
        print(f"stored but not acknowledged (client gave up or was cut): {result['stored_unacknowledged']}")
        problems = _load.violations(result)
        if problems:
            print("\nVIOLATIONS: " + "; ".join(problems))
            _load.report_failures(platform, result)
    finally:
        platform.finish()
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

"""Benchmark: `cqs seed-demo` time and peak memory at growing sizes.

    .venv/bin/python benchmarks/bench_seed_demo.py                       # 100,000 then 1,000,000 dossiers
    .venv/bin/python benchmarks/bench_seed_demo.py --sizes 20000 200000 --backend postgres

Each size runs `cqs migrate` and `cqs seed-demo --dossiers N --seed 2025
--until 2025-12-31` as child processes on its own fresh database (the
generator writes in batches, so memory must not grow with N). Reported per
size: wall time, peak resident memory of the seed-demo process
(getrusage RUSAGE_CHILDREN), milliseconds per dossier, and the database size.
The peer is the smallest size in the same run: "time/dossier ÷ smallest" near
1.0× means the cost stays linear, and "peak RSS ÷ smallest" near 1.0× means
memory is bounded.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import _common as c

UNTIL = "2025-12-31"


def args_():
    p = c.parser("cqs seed-demo at growing sizes: time and peak memory.")
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--seed", type=int, default=2025)
    return p.parse_args()


def cqs() -> str:
    return str(Path(sys.executable).with_name("cqs"))


def db_size(env: c.Env) -> int:
    if env.backend == "postgres":
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return sum(f.stat().st_size for f in env.tmp.glob("cqs.sqlite3*"))


def seed_once(args, size: int) -> dict:
    env = c.Env(args, f"cqs_bench_seed_{size}")
    env.start(in_process=False)  # a fresh database; CQS_DATA_DIR / DATABASE_URL point at it
    try:
        subprocess.run([cqs(), "migrate", "-v0"], check=True, env=os.environ.copy())
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        result = subprocess.run(
            [cqs(), "seed-demo", "--dossiers", str(size), "--seed", str(args.seed), "--until", UNTIL],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        )
        wall = time.perf_counter() - t0
        if result.returncode != 0:
            sys.exit(f"seed-demo --dossiers {size} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
        # ru_maxrss is the largest child so far (KiB on Linux); each size runs
        # after the smaller ones, so a growing maximum is this child's own peak.
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        summary = next((line for line in result.stdout.splitlines() if line.startswith("Xong trong")), "")
        return {
            "size": size,
            "wall": wall,
            "peak_mib": peak_kib / 1024,
            "peak_grew": peak_kib > before,
            "db_mib": db_size(env) / 2**20,
            "summary": summary,
        }
    finally:
        env.finish()


def main():
    args = args_()
    sizes = sorted(args.sizes)
    rows = []
    for size in sizes:
        print(f"seed-demo --dossiers {size:,} …", flush=True)
        rows.append(seed_once(args, size))
        print("  " + rows[-1]["summary"], flush=True)
    c.print_machine(args.pg_server)
    print(f"Backend: {args.backend}; --seed {args.seed} --until {UNTIL}\n")
    first = rows[0]
    per = lambda r: r["wall"] / r["size"] * 1000  # noqa: E731
    print(
        c.table(
            [
                "dossiers",
                "wall (s)",
                "ms per dossier",
                "time/dossier ÷ smallest",
                "peak RSS (MiB)",
                "peak RSS ÷ smallest",
                "database (MiB)",
            ],
            [
                [
                    f"{r['size']:,}",
                    r["wall"],
                    per(r),
                    f"{per(r) / per(first):.2f}×",
                    r["peak_mib"] if r["peak_grew"] or r is first else f"≤ {r['peak_mib']:.0f}",
                    f"{r['peak_mib'] / first['peak_mib']:.2f}×" if r["peak_grew"] or r is first else "≤ 1.00×",
                    r["db_mib"],
                ]
                for r in rows
            ],
        )
    )


if __name__ == "__main__":
    main()

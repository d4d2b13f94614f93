"""Shared set-up for the benchmark scripts (not a benchmark itself).

Every benchmark gets a fresh, throw-away database: a SQLite file in a
temporary directory, or a PostgreSQL database created here and dropped at the
end. The environment must be configured before Django is imported, so the
scripts call `parse_args()` → `start()` before touching any model.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument(
        "--pg-server",
        default=os.environ.get("CQS_BENCH_PG_SERVER", DEFAULT_PG_SERVER),
        help="PostgreSQL server URL without a database name (default %(default)s)",
    )
    p.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    return p


class Env:
    """The throw-away database: created by start(), removed by finish()."""

    def __init__(self, args, db_name: str):
        self.args = args
        self.backend = args.backend
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{db_name}-"))
        self.pg_db = db_name if self.backend == "postgres" else None

    def _pg_admin(self):
        import psycopg

        return psycopg.connect(f"{self.args.pg_server.rstrip('/')}/postgres", autocommit=True)

    def start(self, *, in_process: bool = True) -> None:
        """Create the database and point the environment at it; with
        `in_process`, also set Django up here and migrate."""
        # Uploads, the secret key and (for SQLite) the database go to the temp dir.
        os.environ["CQS_DATA_DIR"] = str(self.tmp)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chinhquyenso.settings")
        os.environ.setdefault("CQS_LOG_LEVEL", "WARNING")
        if self.backend == "postgres":
            with self._pg_admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.pg_db}"')
            os.environ["DATABASE_URL"] = f"{self.args.pg_server.rstrip('/')}/{self.pg_db}"
        else:
            os.environ.pop("DATABASE_URL", None)
        self.in_process = in_process
        if not in_process:
            return
        sys.path.insert(0, str(ROOT / "src"))
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)

    def finish(self) -> None:
        if self.in_process:
            from django.db import connections

            connections.close_all()
        if self.args.keep:
            where = os.environ.get("DATABASE_URL") or self.tmp
            print(f"\nDatabase kept: {where}")
            return
        if self.backend == "postgres":
            with self._pg_admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)')
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_on_fresh_database(args, db_name: str, run) -> None:
    env = Env(args, db_name)
    env.start()
    try:
        run(args)
    finally:
        env.finish()


# ---------------------------------------------------------------- machine


def use_existing_database(url: str, prefix: str) -> None:
    """Point Django at a database kept by an earlier run (--keep); uploads
    and the secret key go to a temporary directory."""
    os.environ["CQS_DATA_DIR"] = tempfile.mkdtemp(prefix=prefix)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chinhquyenso.settings")
    os.environ.setdefault("CQS_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def _first(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def machine(pg_server: str) -> dict[str, str]:
    """What the numbers were measured on."""
    import django

    mem_kb = _first("/proc/meminfo", "MemTotal")
    try:
        ram = f"{int(mem_kb.split()[0]) / 1024 / 1024:.1f} GiB"
    except (ValueError, IndexError):
        ram = mem_kb
    try:
        import psycopg

        with psycopg.connect(f"{pg_server.rstrip('/')}/postgres", connect_timeout=3) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
    except Exception as error:  # the version line only; SQLite runs do not need a server
        pg = f"unavailable ({type(error).__name__})"
    return {
        "CPUs (nproc)": str(len(os.sched_getaffinity(0))),
        "CPU model": _first("/proc/cpuinfo", "model name"),
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": pg,
    }


def print_machine(pg_server: str) -> None:
    info = machine(pg_server)
    width = max(map(len, info))
    print("Machine")
    for key, value in info.items():
        print(f"  {key:<{width}}  {value}")
    print()


# ---------------------------------------------------------------- numbers


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values: list[float]) -> dict[str, float]:
    """Seconds in, milliseconds out."""
    return {
        "n": len(values),
        "mean": statistics.fmean(values) * 1000,
        "p50": percentile(values, 50) * 1000,
        "p95": percentile(values, 95) * 1000,
        "p99": percentile(values, 99) * 1000,
        "max": max(values) * 1000,
    }


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table, so the output can be pasted into docs/benchmarks.md."""
    cells = [[f"{c:,.2f}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda items: "| " + " | ".join(f"{x:<{w}}" for x, w in zip(items, widths)) + " |"  # noqa: E731
    out = [line(headers), "| " + " | ".join("-" * w for w in widths) + " |"]
    out += [line(r) for r in cells]
    return "\n".join(out)


# ---------------------------------------------------------------- province


def build_province(*, extra_departments: int = 0):
    """A minimal province through the real services: province committee, the
    justice department, one district with two communes, a counter officer,
    specialist and leader in commune A, and the birth-registration procedure
    handled by both communes. Officers have unusable passwords: the benchmarks
    log them in with force_login, so no password hashing is measured."""
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import GlobalRole, Role
    from chinhquyenso.org import services as org
    from chinhquyenso.org.models import AgencyKind
    from chinhquyenso.procedures import services as procedures

    admin = accounts.create_officer(
        actor=None, username="qt.tinh", password=None, full_name="Quản trị tỉnh", global_role=GlobalRole.PROVINCE_ADMIN
    )
    ubnd = org.create_agency(
        actor=admin,
        name="UBND tỉnh An Giang",
        kind=AgencyKind.PROVINCE_COMMITTEE,
        electronic_code="000.00.00.H01",
        code="ubnd-tinh",
    )
    tu_phap = org.create_agency(
        actor=admin,
        name="Sở Tư pháp",
        kind=AgencyKind.DEPARTMENT,
        parent=ubnd,
        electronic_code="000.00.15.H01",
        code="so-tu-phap",
    )
    huyen = org.create_agency(
        actor=admin,
        name="UBND huyện Chợ Mới",
        kind=AgencyKind.DISTRICT_COMMITTEE,
        parent=ubnd,
        electronic_code="000.00.07.H01",
        code="ubnd-cho-moi",
    )
    xa_a = org.create_agency(
        actor=admin,
        name="UBND xã Kiến An",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=huyen,
        electronic_code="000.07.01.H01",
        code="xa-kien-an",
    )
    xa_b = org.create_agency(
        actor=admin,
        name="UBND xã Kiến Thành",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=huyen,
        electronic_code="000.07.02.H01",
        code="xa-kien-thanh",
    )
    agencies = {"ubnd": ubnd, "tu_phap": tu_phap, "huyen": huyen, "xa_a": xa_a, "xa_b": xa_b}
    officers = {
        role: accounts.create_officer(
            actor=admin,
            username=f"xa_a.{role}",
            password=None,
            full_name=f"Cán bộ xã Kiến An {role}",
            memberships=[(xa_a, role)],
        )
        for role in (Role.COUNTER_OFFICER, Role.SPECIALIST, Role.LEADER)
    }
    procedure = procedures.save_procedure(
        actor=admin,
        data={
            "code": "1.001193",
            "name": "Đăng ký khai sinh",
            "field_code": "ho-tich",
            "field_name": "Hộ tịch",
            "levels": ["commune"],
            "service_level": "full_online",
            "processing_days": 3,
            "fee": 0,
            "charge": 8000,
            "online_discount_percent": 50,
            "result_type": "giay-khai-sinh",
            "result_name": "Giấy khai sinh",
            "components": [
                {"name": "Tờ khai đăng ký khai sinh"},
                {"name": "Giấy chứng sinh"},
                {"name": "Giấy tờ tùy thân của người đi đăng ký", "mandatory": False},
            ],
            "steps": [
                {"name": "Thụ lý", "role": "specialist", "days": 2},
                {"name": "Phê duyệt", "role": "leader", "days": 1},
            ],
            "agencies": [xa_a.code, xa_b.code],
        },
    )
    return {"admin": admin, "agencies": agencies, "officers": officers, "procedure": procedure}


def citizen_id(i: int) -> str:
    """A 12-digit citizen ID (An Giang's province prefix 089) not ending in 9,
    so the population simulator treats it as a known person."""
    return f"089{i:08d}1"

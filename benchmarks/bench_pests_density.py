"""Benchmark: the density query over a year of light-trap data — docs/benchmarks.md (section "Sinh vật gây
hại: mật độ bẫy đèn").

    .venv/bin/python benchmarks/bench_pests_density.py --backend sqlite   --traps 500 --nights 365
    .venv/bin/python benchmarks/bench_pests_density.py --backend postgres --traps 500 --nights 365
    .venv/bin/python benchmarks/bench_pests_density.py --traps 40 --nights 120 --repeats 10   # quick

1. Set-up (untimed): the shipped catalog (35 light-trap classes), a province of --districts districts
   with --communes communes each (org services), --traps smart traps spread evenly over the communes,
   and --nights nights of data ending yesterday: one accepted message per trap and night (window
   18:00–06:00 local) with a count for every trap class — --traps × --nights messages and
   --traps × --nights × 35 counts, bulk-loaded directly (SQLite: executemany in one transaction;
   PostgreSQL: COPY), then ANALYZE, as a database in use has statistics. Counts are seeded lognormal,
   seasonal for rầy nâu.
2. The query: `pests.selectors.densities.densities(area=<a district>, start, end)` for the cropping
   season (the catalog's Season) that lies most fully inside the data — what the surveillance page, the
   API and the bulletin ask — once cold, then --repeats times, each district in turn: p50/p95.
3. The peer: one raw SQL aggregate over the same rows for each window the selector reads (the season,
   the equal period before it, and the same period of each of the previous seasons of the same kind the
   selector compares with — selectors.densities' own helpers name them): per trap class the sum of accepted counts, and the trap-nights (station × night
   with an accepted message) — the least any implementation must read. Ratio = selector p50 ÷ peer p50.

Results go to benchmarks/results/bench_pests_density-<backend>-<time>.json.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import time

import _common as c

RESULTS = c.ROOT / "benchmarks" / "results"


def args_():
    p = c.parser("Density query of a district and a season over a year of light-trap counts.")
    p.add_argument("--traps", type=int, default=500, help="smart traps (default %(default)s)")
    p.add_argument("--nights", type=int, default=365, help="nights of data ending yesterday (default %(default)s)")
    p.add_argument("--districts", type=int, default=10, help="districts of the province (default %(default)s)")
    p.add_argument("--communes", type=int, default=10, help="communes per district (default %(default)s)")
    p.add_argument("--repeats", type=int, default=30, help="timed queries after the cold one (default %(default)s)")
    p.add_argument("--seed", type=int, default=24)
    return p.parse_args()


# ---------------------------------------------------------------- set-up


def build_area(districts: int, communes: int):
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import GlobalRole
    from chinhquyenso.org import services as org
    from chinhquyenso.org.models import AgencyKind

    admin = accounts.create_officer(
        actor=None, username="qt.tinh", password=None, full_name="Quản trị tỉnh", global_role=GlobalRole.PROVINCE_ADMIN
    )
    province = org.create_agency(
        actor=admin, name="UBND tỉnh An Giang", kind=AgencyKind.PROVINCE_COMMITTEE, code="ubnd-tinh"
    )
    out = []
    for d in range(districts):
        district = org.create_agency(
            actor=admin,
            name=f"UBND huyện Thử nghiệm {d + 1}",
            kind=AgencyKind.DISTRICT_COMMITTEE,
            parent=province,
            code=f"huyen-{d + 1}",
        )
        members = [
            org.create_agency(
                actor=admin,
                name=f"UBND xã Thử nghiệm {d + 1}.{k + 1}",
                kind=AgencyKind.COMMUNE_COMMITTEE,
                parent=district,
                code=f"xa-{d + 1}-{k + 1}",
            )
            for k in range(communes)
        ]
        out.append((district, members))
    return admin, province, out


def load_year(args, districts) -> dict:
    """Stations, messages and counts, bulk-loaded directly (see the module's docstring)."""
    import numpy as np
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from chinhquyenso.core.calendar import LOCAL_TZ
    from chinhquyenso.pests.models import Crop, Station, TrapClass, TrapCount, TrapMessage

    crop = Crop.objects.get(code="lua")
    communes = [commune for _, members in districts for commune in members]
    stations = Station.objects.bulk_create(
        Station(
            code=f"bay-{i + 1:04d}",
            kind=Station.Kind.SMART_TRAP,
            name=f"Bẫy đèn thông minh {i + 1}",
            commune=communes[i % len(communes)],
            crop=crop,
            device_id=f"trap-{i + 1:04d}",
        )
        for i in range(args.traps)
    )
    classes = list(TrapClass.objects.order_by("code").values_list("pk", "code"))
    last = dt.date.today() - dt.timedelta(days=1)
    first = last - dt.timedelta(days=args.nights - 1)
    rng = np.random.default_rng(args.seed)
    # Per class a typical night: rầy nâu thousands, a few hundreds for some, tens for most.
    scale = np.array(
        [2000.0 if code.startswith("ray-nau") else float(rng.choice([5, 20, 80, 300])) for _, code in classes]
    )
    nights = [first + dt.timedelta(days=n) for n in range(args.nights)]
    season_wave = np.array([1.0 + 2.0 * max(0.0, np.sin((n % 110) / 110 * np.pi)) ** 4 for n in range(args.nights)])
    received = dt.time(6, 5)

    message_columns = [
        "id",
        "station_id",
        "message_id",
        "window_start",
        "window_end",
        "received_at",
        "transport",
        "status",
        "reason",
        "images",
        "payload_sha256",
    ]
    count_columns = ["id", "message_id", "station_id", "trap_class_id", "night", "count", "accepted"]
    ids = {"message": 0, "count": 0}

    def rows_of(station):
        """One station's messages and counts (a station at a time: memory stays flat)."""
        counts = rng.lognormal(mean=0.0, sigma=0.8, size=(args.nights, len(classes))) * scale * season_wave[:, None]
        counts = counts.astype(np.int64)
        messages, rows = [], []
        for n, night in enumerate(nights):
            ids["message"] += 1
            start = dt.datetime.combine(night, dt.time(18), tzinfo=LOCAL_TZ)
            messages.append(
                (
                    ids["message"],
                    station.pk,
                    f"{night:%Y%m%d}",
                    start,
                    start + dt.timedelta(hours=12),
                    dt.datetime.combine(night + dt.timedelta(days=1), received, tzinfo=LOCAL_TZ),
                    "mqtt",
                    "accepted",
                    "",
                    "[]",
                    hashlib.sha256(f"{station.pk}:{night}".encode()).hexdigest(),
                )
            )
            for k, (class_pk, _) in enumerate(classes):
                ids["count"] += 1
                rows.append((ids["count"], ids["message"], station.pk, class_pk, night, int(counts[n, k]), True))
        return messages, rows

    started = time.perf_counter()
    with transaction.atomic():
        for station in stations:
            messages, rows = rows_of(station)
            _bulk(connection, TrapMessage._meta.db_table, message_columns, messages)
            _bulk(connection, TrapCount._meta.db_table, count_columns, rows)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [TrapMessage, TrapCount]):
            cursor.execute(sql)
        cursor.execute("ANALYZE")
    return {
        "stations": len(stations),
        "messages": ids["message"],
        "counts": ids["count"],
        "first_night": first.isoformat(),
        "last_night": last.isoformat(),
        "load_seconds": round(time.perf_counter() - started, 1),
    }


def _bulk(connection, table: str, columns: list[str], rows: list[tuple]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    raw = connection.connection
    marks = ", ".join("?" * len(columns))
    adapted = (
        tuple(
            v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat() if isinstance(v, dt.date) else v
            for v in row
        )
        for row in rows
    )
    raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", adapted)


# ---------------------------------------------------------------- query


def the_season(first: dt.date, last: dt.date):
    """The catalog's season lying most fully inside the data."""
    from chinhquyenso.pests.models import Season

    def inside(season) -> int:
        return max(0, (min(season.ends_on, last) - max(season.starts_on, first)).days + 1)

    season = max(Season.objects.all(), key=lambda s: (inside(s), s.starts_on), default=None)
    if season is None or not inside(season):
        sys.exit("No season of the catalog lies inside the data: give more --nights.")
    return season


def peer_windows(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The windows the selector reads: the period, the equal period before it, and the same period of
    the previous seasons of the same kind (its own helpers say which)."""
    from chinhquyenso.pests.selectors.densities import previous_period, same_period_of_previous_seasons

    return [
        (start, end),
        previous_period(start, end),
        *((first, last) for _, first, last in same_period_of_previous_seasons(start, end)),
    ]


def raw_density(commune_ids: list[int], windows) -> list:
    from django.db import connection

    marks = ", ".join(["%s"] * len(commune_ids))
    out = []
    with connection.cursor() as cursor:
        for start, end in windows:
            cursor.execute(
                "SELECT c.trap_class_id, SUM(c.count) FROM pests_trapcount c "
                f"WHERE c.accepted AND c.night BETWEEN %s AND %s AND c.station_id IN "
                f"(SELECT id FROM pests_station WHERE commune_id IN ({marks})) GROUP BY c.trap_class_id",
                [start, end, *commune_ids],
            )
            sums = cursor.fetchall()
            cursor.execute(
                "SELECT COUNT(*) FROM (SELECT DISTINCT c.station_id, c.night FROM pests_trapcount c "
                f"WHERE c.accepted AND c.night BETWEEN %s AND %s AND c.station_id IN "
                f"(SELECT id FROM pests_station WHERE commune_id IN ({marks}))) t",
                [start, end, *commune_ids],
            )
            out.append((sums, cursor.fetchone()[0]))
    return out


def timed(repeats: int, districts, call) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    call(districts[0])
    cold = time.perf_counter() - t0
    times = []
    for i in range(repeats):
        district = districts[i % len(districts)]
        t0 = time.perf_counter()
        call(district)
        times.append(time.perf_counter() - t0)
    return cold, times


def run(args) -> None:
    from chinhquyenso.pests.selectors.densities import densities
    from chinhquyenso.pests.services.catalog import load_catalog

    c.print_machine(args.pg_server)
    load_catalog()
    _, _, districts = build_area(args.districts, args.communes)
    print(f"Loading {args.traps} traps × {args.nights} nights × 35 classes …", flush=True)
    data = load_year(args, districts)
    print(
        f"data   {data['messages']:,} messages, {data['counts']:,} counts, nights {data['first_night']} … "
        f"{data['last_night']} (loaded in {data['load_seconds']} s)"
    )
    first, last = dt.date.fromisoformat(data["first_night"]), dt.date.fromisoformat(data["last_night"])
    season = the_season(first, last)
    start, end = max(season.starts_on, first), min(season.ends_on, last)
    print(
        f"query  one district ({args.communes} communes, ~{args.traps // args.districts} traps), {season}: {start} … {end}"
    )

    rows_seen = []

    def selector(district_and_members):
        district, _ = district_and_members
        result = densities(area=district, start=start, end=end)
        rows_seen.append(len(result))

    windows = peer_windows(start, end)

    def peer(district_and_members):
        _, members = district_and_members
        raw_density([m.pk for m in members], windows)

    cold, times = timed(args.repeats, districts, selector)
    peer_cold, peer_times = timed(args.repeats, districts, peer)
    ms, peer_ms = c.summary_ms(times), c.summary_ms(peer_times)
    print()
    print(
        c.table(
            ["", "cold ms", "p50 ms", "p95 ms", "max ms"],
            [
                ["densities(area=district, season)", cold * 1000, ms["p50"], ms["p95"], ms["max"]],
                ["raw SQL aggregate (peer)", peer_cold * 1000, peer_ms["p50"], peer_ms["p95"], peer_ms["max"]],
            ],
        )
    )
    ratio = ms["p50"] / peer_ms["p50"]
    print(f"\nselector p50 = {ratio:.2f}× the raw aggregate; rows per answer {min(rows_seen)}–{max(rows_seen)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench_pests_density-{args.backend}-{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    out.write_text(
        json.dumps(
            {
                "machine": c.machine(args.pg_server),
                "backend": args.backend,
                "data": data,
                "season": {"name": str(season), "start": start.isoformat(), "end": end.isoformat()},
                "districts": args.districts,
                "communes_per_district": args.communes,
                "selector_cold_ms": round(cold * 1000, 2),
                "selector_ms": ms,
                "peer_cold_ms": round(peer_cold * 1000, 2),
                "peer_ms": peer_ms,
                "ratio_p50_to_peer": round(ratio, 2),
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"→ {out}")


def main():
    args = args_()
    c.run_on_fresh_database(args, f"bench_pests_density_{os.getpid()}", run)


if __name__ == "__main__":
    sys.exit(main())

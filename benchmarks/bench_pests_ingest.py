"""Benchmark: light-trap messages over MQTT, stored with idempotency — docs/benchmarks.md (section "Sinh vật
gây hại: nhận tin nhắn bẫy đèn qua MQTT").

    .venv/bin/python benchmarks/bench_pests_ingest.py --backend sqlite   --devices 500 --nights 40
    .venv/bin/python benchmarks/bench_pests_ingest.py --backend postgres --devices 500 --nights 40
    .venv/bin/python benchmarks/bench_pests_ingest.py --devices 10 --nights 10        # quick

1. Set-up (untimed): the shipped catalog, one commune, --devices smart traps with credentials
   (services.stations.issue_credentials), and a private Mosquitto (`mosquitto` on a free port,
   persistence in a temporary directory, no limit on queued messages) — the same broker the tests use.
2. The platform's subscriber (`pests.mqtt.Subscriber`, what `cqs pests listen` runs: fixed client id,
   persistent session, QoS 1, manual acknowledgement after the commit) connects once and goes away, so
   the broker keeps its session. Then the devices' messages are published with QoS 1 (PUBACK awaited):
   one per device and night for --nights nights, each with a count for all 35 trap classes, signed
   with the device's secret; --duplicates per cent of them published a second time, byte for byte, as
   a device that missed the PUBACK does.
3. Timed: the subscriber starts and drains the broker's queue — every message verified (HMAC), parsed,
   checked and stored (TrapMessage + 35 TrapCount rows, the station's last message), duplicates
   recognised — until every published message has been received and acknowledged. Messages stored per
   second; afterwards the stored rows are counted: each message exactly once.
4. The peers, in the same run, on another set of stations each (the same rows):
   - `services.ingest.ingest()` called directly on the same payloads (no broker, no network): what
     MQTT delivery adds;
   - the same TrapMessage and TrapCount rows written with Django's bulk_create, 500 messages per
     transaction: the database's cost of the rows alone. Ratio = subscriber rate ÷ bulk rate.

Results go to benchmarks/results/bench_pests_ingest-<backend>-<time>.json.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as c

RESULTS = c.ROOT / "benchmarks" / "results"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
BULK_BATCH = 500


def args_():
    p = c.parser("MQTT ingestion of light-trap messages against bulk inserts of the same rows.")
    p.add_argument("--devices", type=int, default=500, help="smart traps (default %(default)s)")
    p.add_argument(
        "--nights",
        type=int,
        default=40,
        help="nights per device, up to last night (default %(default)s; at most CQS_PESTS_MAX_AGE_DAYS)",
    )
    p.add_argument("--duplicates", type=float, default=5.0, help="per cent published twice (default %(default)s)")
    p.add_argument("--seed", type=int, default=24)
    return p.parse_args()


# ---------------------------------------------------------------- the broker


class Broker:
    """A private Mosquitto: 127.0.0.1:<free port>, anonymous, persistence in `directory`."""

    def __init__(self, directory: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"mqtt://127.0.0.1:{self.port}"
        config = directory / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {directory}/\nuser {getpass.getuser()}\n"
            "max_queued_messages 0\nmax_inflight_messages 100\n"
            f"log_dest file {directory}/mosquitto.log\n"
        )
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        self.stop()
        sys.exit("mosquitto did not start listening in 10 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


# ---------------------------------------------------------------- data


def make_area():
    from chinhquyenso.org import services as org
    from chinhquyenso.org.models import AgencyKind

    province = org.create_agency(actor=None, name="UBND tỉnh An Giang", kind=AgencyKind.PROVINCE_COMMITTEE)
    return org.create_agency(actor=None, name="UBND xã Kiến An", kind=AgencyKind.COMMUNE_COMMITTEE, parent=province)


def make_traps(commune, prefix: str, count: int) -> list:
    """(station, secret) for `count` new smart traps."""
    from chinhquyenso.pests.models import Crop, Station
    from chinhquyenso.pests.services.stations import issue_credentials

    rice = Crop.objects.get(code="lua")
    stations = Station.objects.bulk_create(
        Station(
            code=f"{prefix}-{i:04d}",
            kind=Station.Kind.SMART_TRAP,
            name=f"Bẫy đèn {prefix} {i}",
            commune=commune,
            crop=rice,
            device_id=f"{prefix}-{i:04d}",
        )
        for i in range(count)
    )
    return [(s, issue_credentials(s, actor=None)) for s in stations]


def payloads(traps, nights: list[dt.date], classes: list[str], rng: random.Random) -> list[tuple]:
    """(station, secret, payload bytes) per device and night, counts for every class."""
    from chinhquyenso.pests.simulate import trap_payload

    out = []
    for station, secret in traps:
        for night in nights:
            counts = {code: int(rng.lognormvariate(3, 1.2)) for code in classes}
            out.append((station, secret, trap_payload(station.device_id, counts, night=night)))
    return out


def rebadge(messages, old_traps, new_traps) -> list[tuple]:
    """The same messages for another set of stations (its device ids in the payloads)."""
    other = {old.pk: new for (old, _), new in zip(old_traps, new_traps)}
    out = []
    for station, _, payload in messages:
        new, secret = other[station.pk]
        out.append((new, secret, payload.replace(f'"{station.device_id}'.encode(), f'"{new.device_id}'.encode())))
    return out


# ---------------------------------------------------------------- the three ways


def via_mqtt(url: str, messages, duplicate_share: float, rng: random.Random) -> dict:
    from chinhquyenso.pests.mqtt import Subscriber, topic_for
    from chinhquyenso.pests.services.ingest import sign
    from chinhquyenso.pests.simulate import Publisher

    client_id = "cqs-bench-pests-ingest"
    subscriber = Subscriber(url, client_id=client_id)
    subscriber.run(until=lambda: subscriber.connected, timeout=10)
    subscriber.run(timeout=0.5)  # the SUBACK
    subscriber.close()  # away: the broker queues for the session from now on

    repeats = [m for m in messages if rng.random() * 100 < duplicate_share]
    published = messages + repeats
    started = time.perf_counter()
    with Publisher(url, "cqs-bench-devices") as publisher:
        pending = []
        for _, secret, payload in published:
            station_device = json.loads(payload)["device_id"]
            info = publisher.publish(topic_for(station_device), payload, sign(payload, secret), wait=False)
            pending.append(info.mid)
            if len(pending) >= 200:
                if not publisher.wait_for(pending, timeout=120):
                    sys.exit("the broker did not acknowledge the published messages")
                pending = []
        if pending and not publisher.wait_for(pending, timeout=120):
            sys.exit("the broker did not acknowledge the published messages")
    publish_seconds = time.perf_counter() - started

    subscriber = Subscriber(url, client_id=client_id)
    started = time.perf_counter()
    subscriber.run(until=lambda: subscriber.stats["received"] >= len(published), timeout=3600)
    seconds = time.perf_counter() - started
    subscriber.close()
    stats = dict(subscriber.stats)
    return {
        "published": len(published),
        "duplicates_published": len(repeats),
        "publish_seconds": round(publish_seconds, 2),
        "seconds": round(seconds, 2),
        "messages_per_s": round(stats["received"] / seconds, 1),
        "stored_per_s": round(stats.get("accepted", 0) / seconds, 1),
        "subscriber": stats,
    }


def via_ingest(messages) -> dict:
    from chinhquyenso.pests.services.ingest import ingest, sign

    statuses: dict[str, int] = {}
    started = time.perf_counter()
    for station, secret, payload in messages:
        result = ingest(payload, transport="mqtt", device_id=station.device_id, signature=sign(payload, secret))
        statuses[result.status] = statuses.get(result.status, 0) + 1
    seconds = time.perf_counter() - started
    return {
        "messages": len(messages),
        "seconds": round(seconds, 2),
        "messages_per_s": round(len(messages) / seconds, 1),
        "statuses": statuses,
    }


def via_bulk(messages) -> dict:
    """The same rows, bulk_create'd: TrapMessage, then its TrapCount rows, 500 messages a transaction."""
    from django.db import transaction
    from django.utils import timezone

    from chinhquyenso.pests.models import TrapClass, TrapCount, TrapMessage
    from chinhquyenso.pests.services.ingest import night_of

    classes = dict(TrapClass.objects.values_list("code", "pk"))
    parsed = []
    for station, _, payload in messages:  # parsing is not what this peer measures
        body = json.loads(payload)
        start = dt.datetime.fromisoformat(body["window"]["start"])
        end = dt.datetime.fromisoformat(body["window"]["end"])
        parsed.append((station, body, start, end, hashlib.sha256(payload).hexdigest()))
    started = time.perf_counter()
    for first in range(0, len(parsed), BULK_BATCH):
        batch = parsed[first : first + BULK_BATCH]
        with transaction.atomic():
            now = timezone.now()
            rows = TrapMessage.objects.bulk_create(
                TrapMessage(
                    station=station,
                    message_id=body["message_id"],
                    window_start=start,
                    window_end=end,
                    received_at=now,
                    transport="mqtt",
                    status="accepted",
                    images=[],
                    payload_sha256=digest,
                )
                for station, body, start, end, digest in batch
            )
            TrapCount.objects.bulk_create(
                TrapCount(
                    message=message,
                    station=station,
                    trap_class_id=classes[code],
                    night=night_of(start),
                    count=count,
                )
                for message, (station, body, start, _, _) in zip(rows, batch)
                for code, count in body["counts"].items()
            )
    seconds = time.perf_counter() - started
    return {"messages": len(parsed), "seconds": round(seconds, 2), "messages_per_s": round(len(parsed) / seconds, 1)}


def run(args) -> None:
    from django.utils import timezone

    from chinhquyenso.pests.models import TrapClass, TrapCount, TrapMessage
    from chinhquyenso.pests.services.catalog import load_catalog

    c.print_machine(args.pg_server)
    if not Path(MOSQUITTO).exists():
        sys.exit("mosquitto is not installed (apt-get install mosquitto)")
    load_catalog()
    commune = make_area()
    classes = list(TrapClass.objects.order_by("code").values_list("code", flat=True))
    rng = random.Random(args.seed)
    last = timezone.localdate() - dt.timedelta(days=1)
    nights = [last - dt.timedelta(days=n) for n in range(args.nights - 1, -1, -1)]
    traps = make_traps(commune, "mqtt", args.devices)
    messages = payloads(traps, nights, classes, rng)
    print(
        f"data   {args.devices} devices × {args.nights} nights = {len(messages):,} messages of {len(classes)} counts "
        f"(+{args.duplicates:g} % published twice)",
        flush=True,
    )
    directory = Path(tempfile.mkdtemp(prefix="bench-pests-mosquitto-"))
    broker = Broker(directory)
    try:
        mqtt_result = via_mqtt(broker.url, messages, args.duplicates, rng)
    finally:
        broker.stop()
        shutil.rmtree(directory, ignore_errors=True)
    stored = TrapMessage.objects.filter(station__code__startswith="mqtt-").count()
    counts = TrapCount.objects.filter(station__code__startswith="mqtt-").count()
    exactly_once = stored == len(messages) and counts == len(messages) * len(classes)
    print(f"mqtt   stored {stored:,} messages, {counts:,} counts — each exactly once: {exactly_once}", flush=True)

    direct = via_ingest(rebadge(messages, traps, make_traps(commune, "direct", args.devices)))
    bulk = via_bulk(rebadge(messages, traps, make_traps(commune, "bulk", args.devices)))
    ratio = mqtt_result["stored_per_s"] / bulk["messages_per_s"]
    print()
    print(
        c.table(
            ["", "messages", "seconds", "messages/s"],
            [
                [
                    "MQTT → Subscriber → ingest (QoS 1, manual ack)",
                    mqtt_result["published"],
                    float(mqtt_result["seconds"]),
                    float(mqtt_result["messages_per_s"]),
                ],
                [
                    "ingest() called directly (peer)",
                    direct["messages"],
                    float(direct["seconds"]),
                    float(direct["messages_per_s"]),
                ],
                [
                    "bulk_create of the same rows (peer)",
                    bulk["messages"],
                    float(bulk["seconds"]),
                    float(bulk["messages_per_s"]),
                ],
            ],
        )
    )
    print(
        f"\nstored {mqtt_result['stored_per_s']:,.1f} messages/s through MQTT = {ratio:.3f}× bulk_create, "
        f"{mqtt_result['stored_per_s'] / direct['messages_per_s']:.2f}× ingest() called directly; "
        f"duplicates recognised {mqtt_result['subscriber'].get('duplicate', 0)}/{mqtt_result['duplicates_published']}"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench_pests_ingest-{args.backend}-{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    out.write_text(
        json.dumps(
            {
                "machine": c.machine(args.pg_server),
                "backend": args.backend,
                "devices": args.devices,
                "nights": args.nights,
                "classes": len(classes),
                "mqtt": mqtt_result,
                "exactly_once": exactly_once,
                "ingest_direct": direct,
                "bulk_create": bulk,
                "ratio_mqtt_to_bulk": round(ratio, 3),
                "ratio_mqtt_to_direct": round(mqtt_result["stored_per_s"] / direct["messages_per_s"], 3),
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"→ {out}")


def main():
    args = args_()
    c.run_on_fresh_database(args, f"bench_pests_ingest_{os.getpid()}", run)


if __name__ == "__main__":
    sys.exit(main())

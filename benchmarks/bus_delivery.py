"""Reliable delivery over the data bus: N queued asynchronous calls (default 100,000) to a receiver
process that honours idempotency keys and fails --fail-rate of requests transiently (half before
doing the work, half after it: the answer is lost and the call must be sent again), delivered by
--workers worker processes running the outbox's delivery loop (`outbox.deliver_due`, as the
`cqs worker` job does, without the one-minute schedule).

    .venv/bin/python benchmarks/bus_delivery.py --backend sqlite --count 100000
    .venv/bin/python benchmarks/bus_delivery.py --backend postgres --count 100000
    .venv/bin/python benchmarks/bus_delivery.py --backend postgres --count 20000 --chaos

--chaos: while delivering, SIGKILL a random worker or the receiver at random intervals (restart
them: the worker at once, the receiver after 1–3 s) for --chaos-seconds; --poison calls get a
permanent 422 and must be dead letters after one attempt.

Checks (exit 1 on any violation): every call sent (none lost), the receiver did each key's work
exactly once (`executed_twice` = 0, its processed keys = the sent calls' keys), dead letters only
for the poison calls, each after exactly one attempt. Reports time, calls/s, requests, repeats
(duplicate deliveries the receiver answered from its record), worker and receiver kills.

Settings used by the workers (faster than production so a run ends): back-off 1 s doubling to
30 s, OUTBOX_MAX_ATTEMPTS 30, claim lease 20 s, circuit breaker 5 failures / 2 s cool-down up to
15 s.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import _common as c

HERE = Path(__file__).resolve()
SERVICE_SETTING = "BENCH_RECEIVER_URL"
CLIENT = "VN/GOV/000.00.00.H01/mot-cua"
SERVICE = "VN/GOV/000.00.00.T98/nhan-thu/nhan-thu"
WORKER_CQS = {
    "OUTBOX_BACKOFF_SECONDS": 1,
    "OUTBOX_BACKOFF_MAX_SECONDS": 30,
    "OUTBOX_MAX_ATTEMPTS": 30,
    "OUTBOX_LEASE_SECONDS": 20,
    "BUS_CIRCUIT_FAILURES": 5,
    "BUS_CIRCUIT_OPEN_SECONDS": 2,
    "BUS_CIRCUIT_MAX_OPEN_SECONDS": 15,
    "BUS_CIRCUIT_TRIAL_SECONDS": 10,
}


# ---------------------------------------------------------------- worker process


def worker_main() -> None:
    """One delivery worker: loop over outbox.deliver_due until nothing is left to send."""
    sys.path.insert(0, str(c.ROOT / "src"))
    import django

    django.setup()
    from django.conf import settings
    from django.db import close_old_connections

    from chinhquyenso.exchange import outbox
    from chinhquyenso.exchange.models import Message

    settings.CQS = {**settings.CQS, **json.loads(os.environ["BENCH_CQS"])}
    batch = int(os.environ.get("BENCH_BATCH", "200"))
    idle = 0
    while True:
        try:
            sent, failed = outbox.deliver_due(limit=batch)
        except Exception as error:  # a locked or restarted database: as the worker's job, try again
            print(f"worker {os.getpid()}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            close_old_connections()
            time.sleep(0.5)
            continue
        if sent or failed:
            idle = 0
            continue
        # Calls held behind a dead letter (same order_key) wait for a replay: not left for this run.
        left = outbox.in_order(Message.objects.filter(state__in=[Message.State.PENDING, Message.State.FAILED])).exists()
        if not left:
            return
        idle += 1
        time.sleep(min(0.5, 0.05 * idle))


# ---------------------------------------------------------------- coordinator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_registry() -> None:
    from chinhquyenso.exchange.bus import registry
    from chinhquyenso.exchange.models import BusAccessRight, BusMember, BusOperation, BusService, BusSubsystem

    me, _ = BusMember.objects.get_or_create(
        instance="VN", member_class="GOV", code="000.00.00.H01", defaults={"name": "UBND tỉnh"}
    )
    client, _ = BusSubsystem.objects.get_or_create(
        member=me, code="mot-cua", defaults={"name": "Hệ thống một cửa", "local": True}
    )
    remote = BusMember.objects.create(instance="VN", member_class="GOV", code="000.00.00.T98", name="Hệ thống nhận")
    sub = BusSubsystem.objects.create(
        member=remote, code="nhan-thu", name="Hệ thống nhận thử nghiệm", address_setting=SERVICE_SETTING
    )
    service = BusService.objects.create(subsystem=sub, code="nhan-thu", name="Nhận thư thử nghiệm", timeout_seconds=5)
    BusOperation.objects.create(service=service, code="deliver", name="Nhận một thư", method="POST", path="/deliveries")
    BusAccessRight.objects.create(client=client, service=service)
    registry.invalidate()
    assert service.identifier == SERVICE
    from chinhquyenso.exchange.bus import keys

    keys.identity()  # generated once here, not by two workers at once


def queue(count: int, poison: int, seed: int) -> set[int]:
    """Write `count` calls (`poison` of them refused by the receiver); return the poison ns."""
    from django.db import transaction

    from chinhquyenso.exchange import outbox
    from chinhquyenso.exchange.models import Message

    # Poison only calls without an order_key: a dead letter would hold its dossier's later calls.
    unordered = [n for n in range(count) if n % 5 != 0]
    poisoned = set(random.Random(seed).sample(unordered, poison)) if poison else set()
    step = 5000
    for start in range(0, count, step):
        messages = []
        for n in range(start, min(count, start + step)):
            body = {"n": n, "poison": True} if n in poisoned else {"n": n}
            request = {"client": CLIENT, "params": {}, "json": body, "correlation": f"bench-{n}"}
            messages.append(
                outbox.build(
                    channel=Message.Channel.BUS,
                    kind="bench.bus_call",
                    recipient=SERVICE,
                    subject="deliver",
                    body=json.dumps(request),
                    # One call in five belongs to one of 2,000 "dossiers": delivered in order.
                    order_key=f"HS-{n % 2000}" if n % 5 == 0 else "",
                )
            )
        with transaction.atomic():
            outbox.enqueue_many(messages)
    return poisoned


class Processes:
    def __init__(self, args, tmp: Path):
        self.args, self.tmp = args, tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.receiver: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.worker_kills = self.receiver_kills = 0
        env = dict(os.environ)
        env["BENCH_CQS"] = json.dumps({**WORKER_CQS, SERVICE_SETTING: self.url})
        env["BENCH_BATCH"] = str(args.batch)
        env["CQS_LOG_LEVEL"] = "ERROR"
        self.env = env

    def start_receiver(self) -> None:
        self.receiver = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chinhquyenso.exchange.bus.receiver_simulator",
                "--port",
                str(self.port),
                "--fail-rate",
                str(self.args.fail_rate),
                "--seed",
                str(self.args.seed + self.receiver_kills),
                "--db",
                str(self.tmp / "receiver.sqlite"),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        line = self.receiver.stdout.readline()
        if not line.startswith("BUS_RECEIVER_URL="):
            raise RuntimeError(f"receiver did not start: {line!r}")

    def start_worker(self) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, str(HERE), "--worker"], env=self.env, cwd=str(c.ROOT))
        self.workers.append(process)
        return process

    def running_workers(self) -> list[subprocess.Popen]:
        return [w for w in self.workers if w.poll() is None]

    def kill_worker(self, rng: random.Random) -> None:
        alive = self.running_workers()
        if alive:
            victim = rng.choice(alive)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            self.worker_kills += 1
            self.start_worker()

    def kill_receiver(self, rng: random.Random) -> None:
        self.receiver.send_signal(signal.SIGKILL)
        self.receiver.wait()
        self.receiver_kills += 1
        time.sleep(rng.uniform(1, 3))
        self.start_receiver()

    def stop(self) -> None:
        for process in [*self.workers, self.receiver]:
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


def counts() -> dict[str, int]:
    from django.db.models import Count

    from chinhquyenso.exchange.models import Message

    return dict(Message.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))


def run(args, env: c.Env) -> int:
    import httpx

    from chinhquyenso.exchange.bus.delivery import idempotency_key
    from chinhquyenso.exchange.models import BusLogEntry, Message

    setup_registry()
    started = time.perf_counter()
    poisoned = queue(args.count, args.poison if args.chaos or args.poison_always else 0, args.seed)
    print(f"queued {args.count:,} calls in {time.perf_counter() - started:.1f} s", flush=True)

    procs = Processes(args, env.tmp)
    rng = random.Random(args.seed)
    procs.start_receiver()
    started = time.perf_counter()
    for _ in range(args.workers):
        procs.start_worker()
    next_report = started + 10
    next_chaos = started + rng.uniform(3, 10)
    timed_out = False
    try:
        while procs.running_workers():
            now = time.perf_counter()
            if now - started > args.time_limit:
                timed_out = True
                break
            if args.chaos and now - started < args.chaos_seconds and now >= next_chaos:
                if rng.random() < 0.6:
                    procs.kill_worker(rng)
                else:
                    procs.kill_receiver(rng)
                next_chaos = time.perf_counter() + rng.uniform(3, 10)
            if now >= next_report:
                states = counts()
                done = states.get("sent", 0) + states.get("dead", 0)
                print(
                    f"{now - started:7.1f} s  sent {states.get('sent', 0):>7,}  dead {states.get('dead', 0):>4}  "
                    f"failed {states.get('failed', 0):>5,}  pending {states.get('pending', 0):>7,}  "
                    f"{done / (now - started):7.1f}/s",
                    flush=True,
                )
                next_report = now + 10
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        stats = httpx.get(f"{procs.url}/stats", timeout=30).json()
        processed_keys = set(httpx.get(f"{procs.url}/keys", timeout=60).json()["keys"])
    finally:
        procs.stop()

    states = counts()
    sent_keys = {
        idempotency_key(m)
        for m in Message.objects.filter(state=Message.State.SENT).only("id").iterator(chunk_size=10000)
    }
    dead = list(Message.objects.filter(state=Message.State.DEAD).values_list("id", "attempts", "body"))
    dead_ns = {json.loads(body)["json"]["n"] for _, _, body in dead}
    attempts = sum(Message.objects.values_list("attempts", flat=True).iterator(chunk_size=10000))
    log_entries = BusLogEntry.objects.count()
    sent = states.get("sent", 0)
    problems = []
    if timed_out:
        problems.append(f"time limit {args.time_limit} s reached")
    if sent + len(dead) != args.count:
        problems.append(f"lost: {args.count - sent - len(dead)} calls neither sent nor dead")
    if dead_ns != poisoned:
        problems.append(f"dead letters {sorted(dead_ns)[:10]} ≠ poison calls {sorted(poisoned)[:10]}")
    if any(a != 1 for _, a, _ in dead):
        problems.append("a poison call was tried more than once")
    if stats["executed_twice"]:
        problems.append(f"{stats['executed_twice']} keys processed twice")
    if processed_keys != sent_keys:
        problems.append(
            f"receiver processed {len(processed_keys):,} keys, sent calls {len(sent_keys):,} "
            f"(missing {len(sent_keys - processed_keys)}, extra {len(processed_keys - sent_keys)})"
        )

    print()
    c.print_machine(args.pg_server)
    print(
        c.table(
            ["backend", "calls", "workers", "fail rate", "chaos", "time (s)", "calls/s"],
            [
                [
                    args.backend,
                    f"{args.count:,}",
                    args.workers,
                    f"{args.fail_rate:.0%}",
                    "yes" if args.chaos else "no",
                    elapsed,
                    sent / elapsed if elapsed else 0.0,
                ]
            ],
        )
    )
    print()
    print(
        c.table(
            [
                "sent",
                "dead (poison)",
                "attempts",
                "receiver requests",
                "processed once",
                "processed twice",
                "repeats answered from record",
                "injected 503",
                "worker kills",
                "receiver kills",
                "bus log entries",
            ],
            [
                [
                    f"{sent:,}",
                    f"{len(dead)} ({len(poisoned)})",
                    f"{attempts:,}",
                    f"{stats['requests']:,}",
                    f"{len(processed_keys):,}",
                    stats["executed_twice"],
                    f"{stats['repeats']:,}",
                    f"{stats['failed']:,}",
                    procs.worker_kills,
                    procs.receiver_kills,
                    f"{log_entries:,}",
                ]
            ],
        )
    )
    print()
    if problems:
        print("VIOLATIONS:\n  " + "\n  ".join(problems))
        return 1
    print("OK: none lost, none processed twice, dead letters only for the permanent refusals.")
    return 0


def main() -> None:
    if "--worker" in sys.argv:
        worker_main()
        return
    p = c.parser(__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=100_000, help="calls to queue")
    p.add_argument("--workers", type=int, default=2, help="worker processes")
    p.add_argument("--batch", type=int, default=200, help="messages a worker claims per run of deliver_due")
    p.add_argument("--fail-rate", type=float, default=0.1, help="receiver's transient failure rate")
    p.add_argument("--chaos", action="store_true", help="kill workers and the receiver at random")
    p.add_argument("--chaos-seconds", type=float, default=120, help="how long the killing goes on")
    p.add_argument("--poison", type=int, default=20, help="permanently refused calls (with --chaos)")
    p.add_argument("--poison-always", action="store_true", help="queue the poison calls without --chaos too")
    p.add_argument("--time-limit", type=float, default=1800, help="give up after this many seconds")
    p.add_argument("--seed", type=int, default=20)
    args = p.parse_args()
    env = c.Env(args, "cqs_bench_delivery")
    env.start()
    try:
        code = run(args, env)
    finally:
        env.finish()
    sys.exit(code)


if __name__ == "__main__":
    main()

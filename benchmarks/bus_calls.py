"""Benchmark: a call through the data bus against the same call made directly.

    .venv/bin/python benchmarks/bus_calls.py --backend sqlite   -n 2000
    .venv/bin/python benchmarks/bus_calls.py --backend postgres -n 2000
    .venv/bin/python benchmarks/bus_calls.py --backend sqlite -n 500 --provider-delay-ms 20

On a fresh database, with the shipped registry loaded (exchange.bus.registry.load_defaults):

0. A provider process: the population simulator (exchange.connectors.simulators.population), or,
   with --provider-delay-ms, a minimal provider started from this script that answers the same
   route after that delay (a national system is never as quick as a loopback simulator).
1. direct  — POST <provider>/persons/lookup {"identity_number"} with one pooled httpx.Client
   (keep-alive), sequentially (the citizen ID travels in the body, never in a URL).
2. gateway — gateway.call(client=mot-cua, service=population, operation=lookup): registry snapshot,
   access check, the request schema, circuit check, the outgoing signed token, the forward (the gateway's own pooled
   client), the hash-chained message-log entry.
3. endpoint — the HTTP door: POST /r1/<population service>/persons/lookup with X-Road-Client and a
   signed X-Road-Signature token (signed before the clock starts: the client's cost, not the
   bus's), served by gunicorn (gthread, 1 worker) running this project against the same
   database; the bus authenticates the token (signature, certificate, replay), then runs the same
   pipeline as 2.
4. profile — --profile-n more gateway calls under cProfile: where the bus's own time goes.

For each: calls/s and per-call mean, p50, p95 (ms); the overhead is the mean minus the direct
call's mean, and its ratio to the direct call's time (target: below 0.5).
Calls are sequential (one client): this measures the time the bus adds to one call, not the
throughput of a loaded server (see bench_mixed_load for that)."""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import _common as c

ID = "001099012345"


# ---------------------------------------------------------------- a provider with a fixed delay


def _serve_delayed(delay_ms: float) -> None:
    """`--serve-provider`: answer POST /persons/lookup after `delay_ms`; print PROVIDER_URL=… first."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            identity = json.loads(self.rfile.read(length) or b"{}").get("identity_number", "")
            time.sleep(delay_ms / 1000)
            body = json.dumps(
                {
                    "identity_number": identity,
                    "full_name": "Nguyễn Văn An",
                    "birth_date": "1990-01-01",
                    "gender": "Nam",
                    "address": "xã Kiến An, tỉnh An Giang",
                },
                ensure_ascii=False,
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"PROVIDER_URL=http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


def start_provider(delay_ms: float):
    if delay_ms > 0:
        process = subprocess.Popen(
            [sys.executable, __file__, "--serve-provider", str(delay_ms)], stdout=subprocess.PIPE, text=True
        )
        line, prefix = process.stdout.readline().strip(), "PROVIDER_URL="
    else:
        env = {**os.environ, "PYTHONPATH": str(c.ROOT / "src")}
        # The simulators' handler writes the headers and the body in two sends: with Nagle's
        # algorithm on, a keep-alive client waits for its delayed ACK (~40 ms a call on Linux), which
        # would measure TCP, not the bus. TCP_NODELAY, as a real server sets it.
        start = (
            "import sys; from chinhquyenso.exchange.connectors import simulators; "
            "simulators.Handler.disable_nagle_algorithm = True; "
            "from chinhquyenso.exchange.connectors.simulators import population; population.main(sys.argv[1:])"
        )
        process = subprocess.Popen(
            [sys.executable, "-c", start, "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        line, prefix = process.stdout.readline().strip(), "POPULATION_SIMULATOR_URL="
    if not line.startswith(prefix):
        process.terminate()
        raise SystemExit(f"the provider did not start: {line!r}")
    return process, line[len(prefix) :]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int):
    env = {
        **os.environ,
        "PYTHONPATH": str(c.ROOT / "src"),
        "CQS_LOG_LEVEL": "WARNING",
        "CQS_SITE_URL": f"http://127.0.0.1:{port}",
    }
    process = subprocess.Popen(
        [
            str(c.ROOT / ".venv" / "bin" / "gunicorn"),
            "chinhquyenso.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            "2",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    import httpx

    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("gunicorn did not start")


# ---------------------------------------------------------------- timing


def timed(n: int, call) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        out.append(time.perf_counter() - start)
    return out


def row(name: str, times: list[float], direct_mean: float | None) -> list:
    s = c.summary_ms(times)
    total = sum(times)
    overhead = s["mean"] - direct_mean if direct_mean is not None else 0.0  # means: the table's columns
    return [
        name,
        len(times) / total,
        s["mean"],
        s["p50"],
        s["p95"],
        overhead if direct_mean is not None else "—",
        overhead / direct_mean if direct_mean else "—",
    ]


def run(args) -> None:
    import httpx
    from django.conf import settings

    from chinhquyenso.exchange import connectors
    from chinhquyenso.exchange.bus import gateway, keys, security
    from chinhquyenso.exchange.bus import registry as bus_registry
    from chinhquyenso.exchange.models import BusLogEntry, BusSubsystem

    provider, provider_url = start_provider(args.provider_delay_ms)
    gunicorn = None
    try:
        settings.CQS = {**settings.CQS, "POPULATION_BASE_URL": provider_url}
        bus_registry.invalidate()
        bus_registry.load_defaults()
        bus_registry.invalidate()
        service = connectors.service_id("population")
        client_id = connectors.client_for("population")

        # The calling subsystem's certificate, registered as the registry administrator would.
        key_pem, cert_pem = keys.generate_identity("bench mot-cua")
        code = client_id.rsplit("/", 1)[1]
        BusSubsystem.objects.filter(code=code, member__code=settings.CQS["BUS_MEMBER_CODE"]).update(
            certificate=cert_pem
        )
        bus_registry.invalidate()

        n = args.n
        direct_client = httpx.Client()
        path = "/persons/lookup"
        url = f"{provider_url}{path}"
        lookup = {"identity_number": ID}
        raw_lookup = json.dumps(lookup, ensure_ascii=False).encode()  # the bytes gateway.call sends

        def direct(_):
            answer = direct_client.post(
                url, content=raw_lookup, headers={"Accept": "application/json", "Content-Type": "application/json"}
            )
            assert answer.status_code == 200, answer.status_code

        def through_gateway(_):
            answer = gateway.call(client=client_id, service=service, operation="lookup", json_body=lookup)
            assert answer.status == 200, answer.status

        paths = {"direct (httpx, pooled)": direct, "gateway.call": through_gateway}
        if not args.no_endpoint:
            # gunicorn reads the environment: the provider's address as the setting the registry names.
            os.environ["CQS_POPULATION_BASE_URL"] = provider_url
            port = free_port()
            gunicorn = start_gunicorn(port)
            endpoint_client = httpx.Client()
            address = f"http://127.0.0.1:{port}/r1/{service}{path}"
            tokens = [
                security.sign_token(
                    key_pem,
                    cert_pem,
                    client=client_id,
                    service=service,
                    method="POST",
                    path=path,
                    body=raw_lookup,
                    lifetime=300,
                )
                for _ in range(args.warmup + n)
            ]

            def through_endpoint(i):
                answer = endpoint_client.post(
                    address,
                    content=raw_lookup,
                    headers={
                        security.CLIENT_HEADER: client_id,
                        security.HEADER: tokens[i],
                        "Content-Type": "application/json",
                    },
                )
                assert answer.status_code == 200, (answer.status_code, answer.text[:300])

            paths["/r1/ endpoint (gunicorn)"] = through_endpoint

        # Interleaved: call i of every path runs back to back, so a busy machine slows them alike.
        times: dict[str, list[float]] = {name: [] for name in paths}
        for i in range(args.warmup + n):
            for name, call in paths.items():
                start = time.perf_counter()
                call(i)
                if i >= args.warmup:
                    times[name].append(time.perf_counter() - start)
        direct_all = times["direct (httpx, pooled)"]
        direct_mean = c.summary_ms(direct_all)["mean"]
        rows = [row(name, values, None if name.startswith("direct") else direct_mean) for name, values in times.items()]
        medians = {name: c.summary_ms(values)["p50"] for name, values in times.items()}
        direct_median = medians["direct (httpx, pooled)"]

        entries = BusLogEntry.objects.count()
        print(f"Backend: {args.backend}; provider: {provider_url} ", end="")
        print(
            f"({'delay ' + str(args.provider_delay_ms) + ' ms' if args.provider_delay_ms else 'population simulator'})"
        )
        print(f"Calls per path: {n} (+{args.warmup} warm-up), sequential; message-log entries written: {entries:,}")
        print()
        print(
            c.table(
                ["path", "calls/s", "mean ms", "p50 ms", "p95 ms", "overhead ms", "overhead / direct"],
                rows,
            )
        )
        print()
        for name, median in medians.items():
            if not name.startswith("direct"):
                print(
                    f"{name}: median overhead {median - direct_median:.2f} ms "
                    f"= {(median - direct_median) / direct_median:.2f} × the direct call's median"
                )
        print()

        # Where the gateway's time goes, piece by piece (each alone, n times, no profiler).
        from django.utils import timezone

        from chinhquyenso.exchange.bus import circuit
        from chinhquyenso.exchange.bus import log as message_log

        body = json.dumps({"identity_number": ID, "full_name": "Nguyễn Văn An"}, ensure_ascii=False)
        pieces = {
            "registry.resolve (cached snapshot)": lambda _: bus_registry.resolve(service),
            "circuit.check": lambda _: circuit.check(service),
            "circuit.success": lambda _: circuit.success(service),
            "security.outgoing_headers (ES256 token)": lambda _: security.outgoing_headers(
                service_id=service, method="POST", path=path, body=raw_lookup, client=client_id
            ),
            "log.append (hash chain, one transaction)": lambda i: message_log.append(
                at=timezone.now(),
                message_id=f"bench-{i}",
                client=client_id,
                service=service,
                operation="lookup",
                method="POST",
                status=200,
                outcome="ok",
                duration_ms=1.0,
                request_body=raw_lookup.decode(),
                response_body=body,
            ),
            "HTTP to the provider (gateway's client)": lambda _: gateway._http().post(
                url, content=raw_lookup, headers={"Content-Type": "application/json"}
            ),
        }
        parts = []
        for name, piece in pieces.items():
            timed(args.warmup, piece)
            s = c.summary_ms(timed(n, piece))
            parts.append([name, s["mean"], s["p50"], s["p95"]])
        print("The gateway's pieces, each alone:")
        print(c.table(["piece", "mean ms", "p50 ms", "p95 ms"], parts))
        print()

        if args.profile_n:
            profile = cProfile.Profile()
            profile.enable()
            timed(args.profile_n, through_gateway)
            profile.disable()
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
            stats.print_stats(r"chinhquyenso|httpx|joserfc|cryptography|django/db", 35)
            print(f"Profile of {args.profile_n} gateway calls (cumulative, top entries):")
            print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:8000])
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=10)
        provider.terminate()
        provider.wait(timeout=10)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-provider":
        _serve_delayed(float(sys.argv[2]))
        return
    p = c.parser(__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=1000, help="calls per path")
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--provider-delay-ms", type=float, default=0.0, help="a provider answering after this delay")
    p.add_argument("--profile-n", type=int, default=300, help="gateway calls profiled (0: none)")
    p.add_argument("--no-endpoint", action="store_true", help="skip the /r1/ endpoint (no gunicorn)")
    args = p.parse_args()
    c.print_machine(args.pg_server)
    c.run_on_fresh_database(args, "cqs_bench_bus_calls", run)


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()

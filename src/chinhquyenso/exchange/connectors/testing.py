"""Starting the ministries' simulators for tests and the demo (docs/national-systems.md):

    with start_simulator("residence", bus_url=live_server.url, delay=0.2) as sim:
        process, url, cert_pem = sim          # or sim.url, sim.requests(), sim.outcome(...)

Each simulator is its own process (simulators.<name>, standard library + PyJWT). Starting one:
generates its key and certificate (exchange.bus.keys.generate_identity) into a temporary directory,
registers the certificate on its subsystem in our bus registry (loading the shipped registry files
first when the subsystem is missing) — the simulator calls our bus back as that subsystem, e.g.
`VN/GOV/000.00.00.G06/cu-tru` — and points the connector's address setting (CQS
RESIDENCE_BASE_URL …) at it in this process's settings. Leaving the block stops the process and
puts the setting back. `sim.settings` says what another process (the demo's web server and worker)
must be given: {"RESIDENCE_BASE_URL": url} → CQS_RESIDENCE_BASE_URL.

`launch(...)` does the same without the block (the demo keeps them running; call `stop()`)."""

from __future__ import annotations

import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from django.conf import settings

from chinhquyenso.core import simulators
from chinhquyenso.exchange import connectors


@dataclass(frozen=True)
class Spec:
    module: str
    announce: str  # <ANNOUNCE>_URL= on the first line
    connector: str
    setting: str  # the CQS setting the registry file names as the connector's address
    common_name: str


SPECS = {
    "residence": Spec(
        "chinhquyenso.exchange.connectors.simulators.residence",
        "RESIDENCE_SIMULATOR",
        "residence",
        "RESIDENCE_BASE_URL",
        "He thong quan ly cu tru (mo phong)",
    ),
    "social_insurance": Spec(
        "chinhquyenso.exchange.connectors.simulators.social_insurance",
        "SOCIAL_INSURANCE_SIMULATOR",
        "social_insurance",
        "SOCIAL_INSURANCE_BASE_URL",
        "Bao hiem xa hoi Viet Nam (mo phong)",
    ),
    "civil_status": Spec(
        "chinhquyenso.exchange.connectors.simulators.civil_status",
        "CIVIL_STATUS_SIMULATOR",
        "civil_status",
        "CIVIL_STATUS_BASE_URL",
        "CSDL ho tich dien tu (mo phong)",
    ),
    "edoc": Spec(
        "chinhquyenso.exchange.connectors.simulators.edoc",
        "EDOC_SIMULATOR",
        "edoc",
        "EDOC_BASE_URL",
        "Truc lien thong van ban quoc gia (mo phong)",
    ),
    # Remote signing (signing.remote): extra=("--subscribers", FILE) names the subscribers' keys.
    "esign": Spec(
        "chinhquyenso.exchange.connectors.simulators.esign",
        "ESIGN_SIMULATOR",
        "esign",
        "ESIGN_BASE_URL",
        "Cong ky so tu xa eSign (mo phong)",
    ),
}


def subsystem_id(connector: str) -> str:
    """The connector's provider subsystem (it calls our bus back as this client)."""
    return connectors.service_id(connector).rsplit("/", 1)[0]


def register_certificate(connector: str, cert_pem: str) -> None:
    """Put `cert_pem` on the connector's subsystem in the registry (loading the shipped files first
    when the subsystem is not there)."""
    from chinhquyenso.exchange.bus import ids, registry
    from chinhquyenso.exchange.models import BusSubsystem

    parsed = ids.parse_subsystem(subsystem_id(connector))

    def rows():
        return BusSubsystem.objects.filter(
            member__instance=parsed.instance,
            member__member_class=parsed.member_class,
            member__code=parsed.member,
            code=parsed.subsystem,
        )

    if not rows().exists():
        registry.load_defaults()
    rows().update(certificate=cert_pem)
    registry.invalidate()


@dataclass
class RunningSimulator:
    name: str
    process: object
    url: str
    cert_pem: str
    key_pem: str
    client_id: str
    settings: dict[str, str]
    directory: Path
    _previous: dict = field(default_factory=dict, repr=False)

    # (process, url, cert_pem), as the brief's tuple
    def __iter__(self):
        return iter((self.process, self.url, self.cert_pem))

    # test controls (simulators.parts, simulators.edoc)
    def get(self, path: str):
        return httpx.get(f"{self.url}{path}", timeout=30).json()

    def post(self, path: str, body: dict | None = None):
        return httpx.post(f"{self.url}{path}", json=body or {}, timeout=60).json()

    def outcome(self, procedure: str, status: str = "refused", reason: str = "", count: int = 1, callback: bool = True):
        return self.post(
            "/_sim/outcome",
            {"procedure": procedure, "status": status, "reason": reason, "count": count, "callback": callback},
        )

    def fail(self, count: int = 1, status: int = 503, delay: float = 0):
        return self.post("/_sim/fail", {"count": count, "status": status, "delay": delay})

    def requests(self) -> list[dict]:
        return self.get("/_sim/requests")

    def callbacks(self) -> list[dict]:
        return self.get("/_sim/callbacks")

    def wait(self, predicate, *, timeout: float = 30, what: str = "the simulator"):
        """Poll `predicate()` until it returns something truthy (returned); AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            found = predicate()
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: nothing after {timeout} s")
            time.sleep(0.1)

    def wait_callbacks(self, *, status: str, count: int = 1, ok: bool = True, timeout: float = 30) -> list[dict]:
        """The callbacks with `status` (answered 2xx by our bus when `ok`), once there are `count`."""

        def found():
            rows = [
                c for c in self.callbacks() if c["status"] == status and (not ok or (c["http_status"] or 0) // 100 == 2)
            ]
            return rows if len(rows) >= count else None

        return self.wait(found, timeout=timeout, what=f"callback {status}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except Exception:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()
        if self._previous:
            settings.CQS = {**settings.CQS, **self._previous}
            self._previous = {}
            _invalidate()
        shutil.rmtree(self.directory, ignore_errors=True)


def _invalidate() -> None:
    from chinhquyenso.exchange.bus import registry

    registry.invalidate()


def launch(
    name: str,
    *,
    bus_url: str,
    delay: float = 0.2,
    register: bool = True,
    configure: bool = True,
    trust_bus: bool = False,
    extra: tuple[str, ...] = (),
) -> RunningSimulator:
    """Start simulator `name` (a key of SPECS). `register`: its certificate into our registry (needs
    the database); `configure`: this process's CQS setting pointed at it; `trust_bus`: the simulator
    refuses requests not signed by our bus's own key (exchange.bus.keys.identity())."""
    from chinhquyenso.exchange.bus import keys

    spec = SPECS[name]
    directory = Path(tempfile.mkdtemp(prefix=f"cqs-sim-{name}-"))
    key_pem, cert_pem = keys.generate_identity(spec.common_name)
    (directory / "sim.key").write_text(key_pem)
    (directory / "sim.key").chmod(0o600)
    (directory / "sim.crt").write_text(cert_pem)
    client = subsystem_id(spec.connector)
    args = [
        "--bus-url",
        bus_url,
        "--client-id",
        client,
        "--key",
        str(directory / "sim.key"),
        "--cert",
        str(directory / "sim.crt"),
        "--delay",
        str(delay),
    ]
    if trust_bus:
        (directory / "bus.crt").write_text(keys.identity().cert_pem)
        args += ["--bus-cert", str(directory / "bus.crt")]
    if name == "edoc":
        args += ["--deliver-to", f"{connectors.client_id('van-ban')}/van-ban-den"]
    try:
        process, url = simulators.spawn(spec.module, spec.announce, *args, *extra)
    except Exception:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    running = RunningSimulator(
        name=name,
        process=process,
        url=url,
        cert_pem=cert_pem,
        key_pem=key_pem,
        client_id=client,
        settings={spec.setting: url},
        directory=directory,
    )
    try:
        if register:
            register_certificate(spec.connector, cert_pem)
        if configure:
            running._previous = {spec.setting: settings.CQS.get(spec.setting, "")}
            settings.CQS = {**settings.CQS, spec.setting: url}
            _invalidate()
    except Exception:
        running.stop()
        raise
    return running


@contextmanager
def start_simulator(name: str, *, bus_url: str, delay: float = 0.2, **options):
    """`launch(...)` for the length of a `with` block (the process stopped, the setting restored)."""
    running = launch(name, bus_url=bus_url, delay=delay, **options)
    try:
        yield running
    finally:
        running.stop()

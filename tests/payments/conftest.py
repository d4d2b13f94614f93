"""The payment platform simulator as its own process (chinhquyenso.payments.simulator), the
platform calling it through the data bus (CQS_PAYMENT_ADAPTER=bus, the registry loaded from the
shipped files), and a dossier with a fee."""

import httpx
import pytest

from chinhquyenso.core import simulators
from chinhquyenso.dossiers import services as dossiers
from tests.datasets import PAPER
from tests.exchange.connectors.busfixtures import connect

SECRET, TOKEN = "bi-mat-thanh-toan-test", "ma-truy-cap-thanh-toan-test"


class Simulator:
    def __init__(self, url):
        self.url = url

    def simulate(self, ref, **request):
        return httpx.post(f"{self.url}/simulate/{ref}", json=request, timeout=60).json()

    def resend(self, ref):
        return httpx.post(f"{self.url}/resend/{ref}", timeout=60).json()

    def callbacks(self):
        return httpx.get(f"{self.url}/callbacks", timeout=10).json()

    def pay_page(self, ref):
        return httpx.get(f"{self.url}/pay/{ref}", timeout=10)

    def click(self, ref, action):
        """The citizen's button on the pay page: answers the platform's redirect (not followed)."""
        return httpx.post(f"{self.url}/pay/{ref}", data={"action": action}, timeout=60)


def start_simulator(settings, site_url: str):
    process, url = simulators.spawn(
        "chinhquyenso.payments.simulator", "PAYMENT_SIMULATOR", "--secret", SECRET, "--token", TOKEN
    )
    connect(
        settings,
        SITE_URL=site_url,
        PAYMENT_ADAPTER="bus",
        PAYMENT_BASE_URL=url,
        PAYMENT_TOKEN=TOKEN,
        PAYMENT_SECRET=SECRET,
        NATIONAL_RETRIES=0,
    )
    return process, Simulator(url)


@pytest.fixture
def simulator(db, live_server, settings):
    """The simulator on a free port; its callbacks go to the live server."""
    process, sim = start_simulator(settings, live_server.url)
    try:
        yield sim
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def offline_simulator(db, settings):
    """The simulator without a live server behind it: callbacks fail, the platform is asked instead."""
    process, sim = start_simulator(settings, "http://127.0.0.1:9")
    try:
        yield sim
    finally:
        process.terminate()
        process.wait(timeout=10)


def submit_online(citizen, *, at=None):
    return dossiers.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        **({"at": at} if at else {}),
    )


@pytest.fixture
def dossier(birth_procedure, citizen):
    """Birth registration submitted online: lệ phí 8.000 đồng, 50% off online → 4.000 đồng due."""
    return submit_online(citizen)

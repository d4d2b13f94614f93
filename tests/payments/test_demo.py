"""`cqs demo` starts the payment platform simulator beside the server and points the platform at it,
unless an operator configured a real platform."""

import io

import httpx

from chinhquyenso.demo.management.commands.demo import start_payment_simulator


def test_the_demo_starts_the_payment_simulator(settings):
    settings.CQS = {**settings.CQS, "PAYMENT_ADAPTER": "simulator"}
    out = io.StringIO()
    process = start_payment_simulator(out)
    try:
        assert settings.CQS["PAYMENT_ADAPTER"] == "bus" and settings.CQS["PAYMENT_SECRET"]
        url = settings.CQS["PAYMENT_BASE_URL"]
        assert url in out.getvalue()
        assert httpx.get(f"{url}/payments/PGX", timeout=10).status_code == 401  # the token is required
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_configured_platform_is_left_alone(settings):
    settings.CQS = {**settings.CQS, "PAYMENT_ADAPTER": "http", "PAYMENT_BASE_URL": "https://paygov.example"}
    assert start_payment_simulator(io.StringIO()) is None
    assert settings.CQS["PAYMENT_BASE_URL"] == "https://paygov.example"

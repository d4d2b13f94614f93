"""Factories choosing the adapter named in settings.CQS:

- `bus` (the old value `http` means the same): exchange.national.http, every call through the data
  bus (exchange.bus.gateway) to the provider the registry names — the real system or a simulator
  process (exchange.connectors.simulators, payments.simulator);
- `simulator`: exchange.national.simulators, answered in-process — a test convenience for the unit
  tests of other features, not a connector (nothing passes the bus)."""

from django.conf import settings
from django.utils.module_loading import import_string

from chinhquyenso.core.workflow import in_transaction

ADAPTERS = {
    "POPULATION_ADAPTER": {
        "simulator": "chinhquyenso.exchange.national.simulators.SimulatedPopulationRegistry",
        "http": "chinhquyenso.exchange.national.http.HttpPopulationRegistry",
        "bus": "chinhquyenso.exchange.national.http.HttpPopulationRegistry",
    },
    "NATIONAL_PORTAL_ADAPTER": {
        "simulator": "chinhquyenso.exchange.national.simulators.SimulatedNationalPortal",
        "http": "chinhquyenso.exchange.national.http.HttpNationalPortal",
        "bus": "chinhquyenso.exchange.national.http.HttpNationalPortal",
    },
    "PAYMENT_ADAPTER": {
        "simulator": "chinhquyenso.exchange.national.simulators.SimulatedPaymentGateway",
        "http": "chinhquyenso.exchange.national.http.HttpPaymentGateway",
        "bus": "chinhquyenso.exchange.national.http.HttpPaymentGateway",
    },
}


def forbid_inside_transaction() -> None:
    """Another system may answer slowly or not at all: never while a transaction holds locks."""
    if in_transaction():
        raise RuntimeError("a national system is called only outside a transaction (ask before, or use the outbox)")


def _build(setting: str):
    return import_string(ADAPTERS[setting][settings.CQS[setting]])()


def population_registry():
    return _build("POPULATION_ADAPTER")


def find_person(identity_number: str):
    """(person or None, answered): a registry failure never blocks the caller,
    which goes on with typed data and says the lookup did not happen."""
    from chinhquyenso.exchange.national.base import NationalSystemError

    forbid_inside_transaction()
    try:
        return population_registry().lookup(identity_number), True
    except NationalSystemError:
        return None, False


def national_portal():
    return _build("NATIONAL_PORTAL_ADAPTER")


def payment_gateway():
    return _build("PAYMENT_ADAPTER")

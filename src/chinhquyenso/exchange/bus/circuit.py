"""The circuit breaker per remote service (BusCircuit rows, shared by every process).

(Minimal placeholder: always closed. Owner: delivery work.)"""

from __future__ import annotations


def check(service_id: str) -> None:
    """Raise BusError("circuit_open") while the service's circuit is open."""


def success(service_id: str) -> None:
    """A call to the service got an answer (any status below 500)."""


def failure(service_id: str, error: str) -> None:
    """A call timed out, could not connect, or got a 5xx."""

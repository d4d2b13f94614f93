"""Shared by the connector tests (and tests/payments): the bus registry loaded from the shipped
files, the connectors' address settings pointed at simulator processes, and the simulators
themselves as separate processes (core.simulators.spawn)."""

from __future__ import annotations

import contextlib
import json

import httpx

from chinhquyenso.core import simulators
from chinhquyenso.exchange.bus import registry


def connect(settings, **cqs) -> None:
    """Load the shipped registry files and apply `cqs` (adapter values, base URLs) to settings.CQS;
    the registry's snapshot is rebuilt, so addresses follow the new settings at once."""
    settings.CQS = {**settings.CQS, **cqs}
    registry.invalidate()
    registry.load_defaults()
    registry.invalidate()


class Simulator:
    """A simulator process (exchange.connectors.simulators) and its test routes."""

    def __init__(self, process, url: str):
        self.process, self.url = process, url

    def get(self, path: str):
        return httpx.get(self.url + path, timeout=10).json()

    def post(self, path: str, payload=None):
        return httpx.post(self.url + path, json=payload or {}, timeout=10).json()

    def fail(self, count: int = 1, *, status: int = 503, delay: float = 0.0):
        return self.post("/_sim/fail", {"count": count, "status": status, "delay": delay})

    def reset(self):
        return self.post("/_sim/reset")

    def stats(self):
        return self.get("/_sim/stats")

    def stop(self):
        self.process.terminate()
        with contextlib.suppress(Exception):
            self.process.wait(timeout=10)


def spawn(module: str, name: str, *args: str) -> Simulator:
    process, url = simulators.spawn(f"chinhquyenso.exchange.connectors.simulators.{module}", name, *args)
    return Simulator(process, url)


def write_json(path, data) -> str:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)

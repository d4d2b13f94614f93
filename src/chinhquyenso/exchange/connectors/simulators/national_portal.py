"""A stand-in for the National Public Service Portal (Cổng Dịch vụ công quốc gia), as its own process:

    python -m chinhquyenso.exchange.connectors.simulators.national_portal --port 8795 \\
        [--catalog catalog.json] [--token T]

- `GET /catalog` → the national catalog: the JSON list in `--catalog` (read again when the file
  changes; schemas/national_portal/catalog.response.json), `[]` without one;
- `POST /dossiers/{code}/status` `{"status", "at", "agency_code", ...}`
  (schemas/national_portal/dossier-status.request.json) → 200 `{"received": true}`; 400 when a
  field is missing or `at` is not ISO 8601 with an offset. The same `Idempotency-Key` gets the
  same answer and is recorded once (an outbox retry after a lost answer is not a second push).

Tests: `GET /_sim/pushes` (every recorded push, in arrival order), `POST /_sim/fail {"count": n}`
(the next n requests answer 503), `GET /_sim/stats`, `POST /_sim/reset`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from chinhquyenso.core import simulators as core_simulators
from chinhquyenso.exchange.connectors import simulators

DEFAULT_PORT = 8795


class PortalState(simulators.State):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.pushes: list[dict] = []

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.pushes.clear()


def _moment(text) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


class PortalHandler(simulators.Handler):
    state: PortalState
    catalog: simulators.JsonFile

    def route(self, method, parts, body):
        if method == "GET" and parts == ["catalog"]:
            catalog = self.catalog.value()
            return 200, catalog if isinstance(catalog, list) else []
        if method == "POST" and len(parts) == 3 and parts[0] == "dossiers" and parts[2] == "status":
            if not isinstance(body, dict):
                return 400, {"error": "body must be a JSON object"}
            missing = [k for k in ("status", "agency_code") if not isinstance(body.get(k), str) or not body[k]]
            if missing or _moment(body.get("at")) is None:
                return 400, {"error": "status, at (ISO 8601 with offset) and agency_code are required"}
            with self.state.lock:
                self.state.pushes.append(
                    {
                        "code": parts[1],
                        **{k: body.get(k) for k in ("status", "at", "agency_code", "procedure_code", "sequence")},
                        "idempotency_key": self.headers.get("Idempotency-Key", ""),
                    }
                )
            return 200, {"received": True}
        return 404, {"error": "no such route"}

    def simulation(self, method, parts, body):
        if method == "GET" and parts == ["pushes"]:
            with self.state.lock:
                return 200, list(self.state.pushes)
        return super().simulation(method, parts, body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="National portal simulator (docs/national-systems.md)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0: a free port")
    parser.add_argument("--catalog", default="", help="JSON list: the national catalog")
    parser.add_argument("--token", default="", help="require Authorization: Bearer <token>")
    args = parser.parse_args(argv)
    server = simulators.serve(
        PortalHandler,
        args.host,
        args.port,
        state=PortalState(token=args.token),
        catalog=simulators.JsonFile(args.catalog, []),
    )
    core_simulators.serve_forever(server, "NATIONAL_PORTAL_SIMULATOR")


if __name__ == "__main__":
    main(sys.argv[1:])

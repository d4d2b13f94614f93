"""A stand-in for the national population database (CSDL quốc gia về dân cư), as its own process:

    python -m chinhquyenso.exchange.connectors.simulators.population --port 8794 \\
        [--people people.json] [--province "An Giang"] [--commune "xã Kiến An" ...] [--token T]

- `POST /persons/lookup {"identity_number": "…"}` (schemas/population/lookup.request.json: the ID
  travels in the body, never in the URL) → 200 the person (schemas/population/lookup.response.json),
  404 unknown, 400 a body without a string `identity_number`;
- an ID starting with 000000 simulates an outage: 503;
- a person in `--people` (a JSON list of {"identity_number", "full_name", "birth_date", "gender",
  "address"}; read again when the file changes) is answered as written: the demo writes its
  registered citizens there so that they verify;
- any other 12-digit ID not ending in 9 is a deterministic made-up person
  (simulators.made_up_person: same ID → same person); IDs ending in 9, or not 12 digits: 404.

Tests: `POST /_sim/fail {"count", "status", "delay"}`, `GET /_sim/stats`, `POST /_sim/reset`.
Nothing about a request is printed or logged."""

from __future__ import annotations

import argparse
import sys

from chinhquyenso.core import simulators as core_simulators
from chinhquyenso.exchange.connectors import simulators

DEFAULT_PORT = 8794


class PopulationHandler(simulators.Handler):
    people: simulators.JsonFile
    communes: tuple = ()
    province: str = ""

    def known(self, identity_number: str) -> dict | None:
        people = self.people.value()
        for person in people if isinstance(people, list) else ():
            if isinstance(person, dict) and person.get("identity_number") == identity_number:
                return {k: person.get(k) or "" for k in ("identity_number", "full_name", "gender", "address")} | {
                    "birth_date": person.get("birth_date") or None
                }
        return None

    def route(self, method, parts, body):
        if parts != ["persons", "lookup"]:
            return 404, {"error": "no such route"}
        if method != "POST":
            return 405, {"error": "method not allowed"}
        identity_number = body.get("identity_number") if isinstance(body, dict) else None
        if not isinstance(identity_number, str):
            return 400, {"error": "identity_number is required"}
        if identity_number.startswith(simulators.OUTAGE_PREFIX):
            return 503, {"error": "simulated outage"}
        person = self.known(identity_number) or simulators.made_up_person(
            identity_number, communes=self.communes, province=self.province
        )
        return (200, person) if person else (404, {"error": "not found"})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Population database simulator (docs/national-systems.md)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0: a free port")
    parser.add_argument("--people", default="", help="JSON list of known people")
    parser.add_argument("--province", default="")
    parser.add_argument("--commune", action="append", default=[], help="a commune an address may name")
    parser.add_argument("--token", default="", help="require Authorization: Bearer <token>")
    args = parser.parse_args(argv)
    server = simulators.serve(
        PopulationHandler,
        args.host,
        args.port,
        state=simulators.State(token=args.token),
        people=simulators.JsonFile(args.people, []),
        communes=tuple(args.commune),
        province=args.province,
    )
    core_simulators.serve_forever(server, "POPULATION_SIMULATOR")


if __name__ == "__main__":
    main(sys.argv[1:])

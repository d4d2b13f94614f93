"""The Ministry of Justice's electronic civil-status database (Cơ sở dữ liệu hộ tịch điện tử, Bộ Tư
pháp) as a simulator process (standard library + PyJWT, no Django):

    python -m chinhquyenso.exchange.connectors.simulators.civil_status --port 0 \\
        [--bus-url URL --client-id ID --key FILE --cert FILE] [--bus-cert FILE]

- `POST /registrations` `{"kind": "birth"|"death"|"marriage", "registration_number",
  "registration_date", "agency_code", "agency_name"?, "book"?, "parties": {...}}` (a registration
  made by the province, pushed after the fact) → 201 `{"national_id_of_record", "kind",
  "registration_number"}`: a synchronous acknowledgement. Idempotent: the same `Idempotency-Key`
  gets the same answer; the same registration (agency, kind, number) sent again with the same
  content gets 200 and the same record id; with different content 409. Its own checks (422): the
  parties each kind needs, dates, no registration dated in the future.
- `GET /registrations/{national_id_of_record}` → the record (kind, number, date, agency), 404 unknown.

Test controls: `GET /_sim/registrations` (every record, with its parties), `POST /_sim/fail
{"count", "status"}`, `GET /_sim/stats`, `POST /_sim/reset`. The bus options are accepted so every
ministry simulator starts alike; this one never calls the bus. Nothing is printed about requests."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading

from chinhquyenso.core import simulators as core_simulators
from chinhquyenso.exchange.connectors.simulators import Handler, State, parts, serve

PORT = 8798
NEEDS = {"birth": ("child", "mother"), "death": ("deceased",), "marriage": ("husband", "wife")}
PREFIX = {"birth": "KS", "death": "KT", "marriage": "KH"}


class Registry:
    def __init__(self):
        self.lock = threading.Lock()
        self.records: dict[str, dict] = {}
        self.by_key: dict[tuple, str] = {}
        self.counter = 0

    def register(self, body) -> tuple[int, dict]:
        if not isinstance(body, dict):
            return 400, {"error": "Nội dung phải là một đối tượng JSON."}
        problem = parts.first(
            parts.require(body, "kind", "registration_number", "registration_date", "agency_code", "parties"),
            None if body.get("kind") in NEEDS else ("kind", "Loại sự kiện hộ tịch phải là birth, death hoặc marriage."),
        )
        if problem is None:
            problem = parts.first(
                parts.check_date(body, "registration_date"),
                *(parts.require(body, f"parties.{party}.full_name") for party in NEEDS[body["kind"]]),
            )
        if problem is None and dt.date.fromisoformat(body["registration_date"]) > parts.now().date():
            problem = ("registration_date", "Ngày đăng ký không được sau ngày hôm nay.")
        if problem:
            return 422, {"error": problem[1], "field": problem[0]}
        key = (body["agency_code"], body["kind"], body["registration_number"])
        content = json.dumps(body, sort_keys=True, ensure_ascii=False)
        with self.lock:
            known = self.by_key.get(key)
            if known is not None:
                record = self.records[known]
                if record["content"] != content:
                    return 409, {"error": "Sự kiện hộ tịch này đã được đồng bộ với nội dung khác.", "field": ""}
                return 200, self.answer(record)
            self.counter += 1
            record_id = f"{PREFIX[body['kind']]}.{parts.now().year}.{self.counter:08d}"
            record = {"national_id_of_record": record_id, "body": body, "content": content}
            self.records[record_id] = record
            self.by_key[key] = record_id
        return 201, self.answer(record)

    @staticmethod
    def answer(record: dict) -> dict:
        body = record["body"]
        return {
            "national_id_of_record": record["national_id_of_record"],
            "kind": body["kind"],
            "registration_number": body["registration_number"],
        }

    def get(self, record_id: str) -> dict | None:
        with self.lock:
            record = self.records.get(record_id)
        if record is None:
            return None
        body = record["body"]
        return {
            **self.answer(record),
            "registration_date": body["registration_date"],
            "agency_code": body["agency_code"],
        }


class CivilStatusHandler(parts.PartsHandler):
    registry: Registry

    def route_parts(self, method, parts_, body):
        if method == "POST" and parts_ == ["registrations"]:
            return self.registry.register(body)
        if method == "GET" and len(parts_) == 2 and parts_[0] == "registrations":
            found = self.registry.get(parts_[1])
            return (200, found) if found else (404, {"error": "Không tìm thấy bản ghi hộ tịch."})
        return 404, {"error": "no such route"}

    def simulation(self, method, parts_, body):
        if method == "GET" and parts_ == ["registrations"]:
            with self.registry.lock:
                return 200, [{**self.registry.answer(r), "body": r["body"]} for r in self.registry.records.values()]
        if method == "POST" and parts_ == ["reset"]:
            with self.registry.lock:
                self.registry.records.clear()
                self.registry.by_key.clear()
        return Handler.simulation(self, method, parts_, body)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Civil-status database simulator (Bộ Tư pháp)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=PORT, help="0: a free port")
    for name in ("--bus-url", "--client-id", "--key", "--cert"):
        parser.add_argument(name, default="", help="accepted for a uniform start; not used")
    parser.add_argument("--bus-cert", default="", help="PEM file: the bus's certificate; requests must be signed")
    parser.add_argument("--delay", type=float, default=0, help="not used")
    args = parser.parse_args(argv)
    engine = parts.PartsEngine(procedures={}, bus_cert_pem=parts.read(args.bus_cert))
    server = serve(CivilStatusHandler, args.host, args.port, state=State(), engine=engine, registry=Registry())
    core_simulators.serve_forever(server, "CIVIL_STATUS_SIMULATOR", f"http://{args.host}:{server.server_address[1]}")


if __name__ == "__main__":
    main(sys.argv[1:])

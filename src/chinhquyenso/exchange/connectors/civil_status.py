"""The Ministry of Justice's electronic civil-status database (Cơ sở dữ liệu hộ tịch điện tử) over
the bus: births, deaths and marriages registered in the province are pushed there after the fact
(operation `register`, `POST /registrations`; the answer 201 `{"national_id_of_record"}` is a
synchronous acknowledgement, idempotent on the receiver's side). `push(...)` queues the call in the
caller's transaction (outbox, at least once, one Idempotency-Key per message); `record(id)` reads a
record back (synchronous; never inside a transaction). The dossiers app decides what to push
(dossiers.civil_status_sync)."""

from __future__ import annotations

from chinhquyenso.exchange.connectors import parts

CONNECTOR = "civil_status"
KINDS = {"birth": "khai sinh", "death": "khai tử", "marriage": "kết hôn"}


def registration_body(
    *,
    kind: str,
    registration_number: str,
    registration_date: str,
    agency_code: str,
    parties: dict,
    agency_name: str = "",
    book: str = "",
) -> dict:
    body = {
        "kind": kind,
        "registration_number": registration_number,
        "registration_date": registration_date,
        "agency_code": agency_code,
        "parties": parties,
    }
    if agency_name:
        body["agency_name"] = agency_name
    if book:
        body["book"] = book
    return body


def problem(body: dict) -> tuple[str, str] | None:
    """(field, Vietnamese message) when `body` does not fit the `register` schema."""
    return parts.schema_problem(CONNECTOR, "register", body)


def push(
    *,
    body: dict,
    kind: str,
    correlation: str,
    order_key: str,
    agency_id: int | None = None,
    source=None,
    dedup_key: str | None = None,
    check: bool = True,
):
    """Queue `body` (registration_body(...)) for the civil-status database inside the current
    transaction. `kind` names the outbox message ("dossiers.civil_status_push"). With `check`, a body
    the schema refuses raises DomainError naming the field; without, it is queued all the same and
    the bus refuses it at delivery (a dead letter the officers see, with the reason)."""
    if check:
        parts.validate(CONNECTOR, "register", body, what="Dữ liệu hộ tịch gửi Bộ Tư pháp")
    return parts.queue(
        CONNECTOR,
        "register",
        body,
        kind=kind,
        order_key=order_key,
        correlation=correlation,
        agency_id=agency_id,
        source=source,
        dedup_key=dedup_key,
    )


def record(record_id: str, *, timeout: float | None = None) -> dict:
    """A record of the civil-status database; BusError when it cannot be read."""
    return parts.read(
        CONNECTOR, "record", {"record_id": record_id}, not_found=f"không có bản ghi {record_id}", timeout=timeout
    )[0]

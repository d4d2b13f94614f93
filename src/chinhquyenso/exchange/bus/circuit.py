"""The circuit breaker per remote service (BusCircuit rows, shared by every process and worker).

- closed: calls go through. `failure` counts consecutive failures (timeouts, unreachable, 5xx);
  after CQS BUS_CIRCUIT_FAILURES (default 5) the circuit opens.
- open: `check` refuses every call with BusError("circuit_open", retry_after=open_until) — the
  outbox defers asynchronous calls to that time without counting an attempt. The cool-down is
  BUS_CIRCUIT_OPEN_SECONDS (default 30), doubled for each consecutive opening, at most
  BUS_CIRCUIT_MAX_OPEN_SECONDS (default 600).
- half-open: once the cool-down is over, exactly one caller claims the trial call with a
  conditional UPDATE (every other caller is still refused). Its success closes the circuit, its
  failure opens it again for a doubled cool-down. A trial whose caller died (a killed worker) is
  given up after the service's timeout plus BUS_CIRCUIT_TRIAL_SECONDS, and another caller may try.

The hot path is cheap: `check` and `success` read one row (none exists for a service that never
failed) and write nothing while the circuit is closed with no failure counted."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from chinhquyenso.exchange.bus.errors import BusError
from chinhquyenso.exchange.models import BusCircuit

log = logging.getLogger(__name__)

State = BusCircuit.State

DEFAULTS = {
    "BUS_CIRCUIT_FAILURES": 5,
    "BUS_CIRCUIT_OPEN_SECONDS": 30,
    "BUS_CIRCUIT_MAX_OPEN_SECONDS": 600,
    # How long one trial call may take before another caller may try instead.
    "BUS_CIRCUIT_TRIAL_SECONDS": 60,
}


def conf(name: str):
    value = settings.CQS.get(name)
    return DEFAULTS[name] if value is None or value == "" else type(DEFAULTS[name])(value)


def cool_down(openings: int) -> dt.timedelta:
    """How long the circuit stays open after its `openings`-th consecutive opening (1, 2, …)."""
    base, cap = conf("BUS_CIRCUIT_OPEN_SECONDS"), conf("BUS_CIRCUIT_MAX_OPEN_SECONDS")
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, openings - 1)))


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M:%S ngày %d/%m/%Y")


def _refuse(service_id: str, retry_after: dt.datetime, *, trial: bool = False) -> BusError:
    reason = (
        "đang có một lời gọi thử sau khi tạm ngắt"
        if trial
        else "đang tạm ngắt vì hệ thống cung cấp lỗi nhiều lần liên tiếp"
    )
    return BusError(
        "circuit_open",
        f"Dịch vụ {service_id} {reason}; trục sẽ gọi lại từ {_when(retry_after)}.",
        field="service",
        retry_after=retry_after,
    )


def state(service_id: str) -> BusCircuit | None:
    """The service's circuit row (None: never failed, closed)."""
    return BusCircuit.objects.filter(service=service_id).first()


def check(service_id: str, *, now: dt.datetime | None = None) -> None:
    """Raise BusError("circuit_open") while the service's circuit is open; when its cool-down is
    over, let exactly one caller through as the trial call (half-open)."""
    row = (
        BusCircuit.objects.filter(service=service_id)
        .exclude(state=State.CLOSED)
        .values("state", "open_until", "updated_at")
        .first()
    )
    if row is None:
        return  # closed (or never failed): nothing to write
    now = now or timezone.now()
    if row["state"] == State.OPEN:
        if row["open_until"] is not None and now < row["open_until"]:
            raise _refuse(service_id, row["open_until"])
        # The cool-down is over: the one caller whose conditional UPDATE matches makes the trial call.
        claimed = BusCircuit.objects.filter(service=service_id, state=State.OPEN, open_until=row["open_until"]).update(
            state=State.HALF_OPEN, updated_at=now
        )
        if claimed:
            log.info("bus circuit %s: half-open, one trial call", service_id)
            return
        raise _refuse(service_id, now + dt.timedelta(seconds=2), trial=True)
    # half-open: a trial is in flight; a trial abandoned (its caller died) may be taken over.
    trial_ends = (row["updated_at"] or now) + dt.timedelta(seconds=conf("BUS_CIRCUIT_TRIAL_SECONDS"))
    if now >= trial_ends:
        claimed = BusCircuit.objects.filter(
            service=service_id, state=State.HALF_OPEN, updated_at=row["updated_at"]
        ).update(updated_at=now)
        if claimed:
            return
    # The trial usually ends within the service's timeout: look again soon, not at trial_ends.
    raise _refuse(service_id, now + dt.timedelta(seconds=2), trial=True)


def success(service_id: str, *, now: dt.datetime | None = None) -> None:
    """A call to the service got an answer (any status below 500): the circuit closes."""
    if not BusCircuit.objects.filter(service=service_id).exclude(state=State.CLOSED, failures=0).exists():
        return
    updated = (
        BusCircuit.objects.filter(service=service_id)
        .exclude(state=State.CLOSED, failures=0)
        .update(
            state=State.CLOSED,
            failures=0,
            opened_count=0,
            open_until=None,
            updated_at=now or timezone.now(),
        )
    )
    if updated:
        log.info("bus circuit %s: closed", service_id)


def _locked_row(service_id: str) -> BusCircuit:
    """The service's row, locked for this transaction (created on its first failure)."""
    row = BusCircuit.objects.select_for_update().filter(service=service_id).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            BusCircuit.objects.create(service=service_id)
    except IntegrityError:
        pass  # created meanwhile by another process
    return BusCircuit.objects.select_for_update().get(service=service_id)


def failure(service_id: str, error: str, *, now: dt.datetime | None = None) -> None:
    """A call timed out, could not connect, or got a 5xx: count it; open the circuit after
    BUS_CIRCUIT_FAILURES in a row, or at once when it was the half-open trial."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked_row(service_id)
        row.failures += 1
        row.last_error = (error or "")[:300]
        row.updated_at = now
        opens = row.state == State.HALF_OPEN or (
            row.state == State.CLOSED and row.failures >= conf("BUS_CIRCUIT_FAILURES")
        )
        if opens:
            row.opened_count += 1
            row.state = State.OPEN
            row.open_until = now + cool_down(row.opened_count)
            log.warning(
                "bus circuit %s: open until %s (opening %s in a row)",
                service_id,
                row.open_until.isoformat(),
                row.opened_count,
            )
        row.save()


def reset(service_id: str) -> int:
    """Close the circuit by hand (an administrator's action after the provider is fixed)."""
    return BusCircuit.objects.filter(service=service_id).update(
        state=State.CLOSED, failures=0, opened_count=0, open_until=None, updated_at=timezone.now()
    )

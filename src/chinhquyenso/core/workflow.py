"""The one write path for records that move through statuses (a dossier, a
citizen report, and every app that comes after them).

Each action runs in one transaction and in this order — the lock order
documented in docs/architecture.md, so two actions never wait on each other
in opposite orders:

1. `Workflow.begin` refuses accounts that may not write and locks the
   record's row (SELECT … FOR UPDATE);
2. the app checks the actor's role and scope on the locked row
   (accounts.access) and its own rules (`require_status`, the app's checks);
3. `Workflow.transition` saves the change and records, in the same
   transaction, the app's timeline step, the audit record (statuses, agencies
   and dates, never personal data) and the domain event;
4. shared rows are locked last and briefly: code counters (core.codes), the
   audit head, idempotency records.

When PostgreSQL still picks a transaction as a deadlock victim or fails it
for serialization (a lock order some code path does not keep, an index page
two writers split at once), `atomic_retrying` runs the whole transaction
again, a bounded number of times: it was rolled back whole, so nothing is
half-written, and no network call ever runs inside it.

Creates from outside go through `idempotent`: a retry with the same key by the
same caller returns the first result; two first attempts racing on the key
end with one record.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import time
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, OperationalError, models, transaction
from django.utils import timezone

from chinhquyenso.core import audit, events, idempotency
from chinhquyenso.core.errors import DomainError


def in_transaction() -> bool:
    """Inside a transaction this code opened (the test runner's own wrapping
    transaction does not count): where no network call may run."""
    return any(not block._from_testcase for block in transaction.get_connection().atomic_blocks)


# PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back whole
# and may simply run again.
RETRIABLE_SQLSTATES = {"40P01", "40001"}
TRANSACTION_ATTEMPTS = 3


def atomic_retrying(body: Callable[[], Any], attempts: int = TRANSACTION_ATTEMPTS):
    """`body()` in one transaction, run again (after a short random pause) when the database
    rolled it back as a deadlock victim or for serialization. Inside a transaction someone
    else opened the error goes up to them: only the outermost transaction can be run again."""
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return body()
        except OperationalError as error:
            sqlstate = getattr(error.__cause__, "sqlstate", None)
            if sqlstate not in RETRIABLE_SQLSTATES or in_transaction() or attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")


def now(at: dt.datetime | None = None) -> dt.datetime:
    return at or timezone.now()


def actor_or_none(actor):
    """The actor as a foreign key value: None for the system and anonymous callers."""
    return actor if getattr(actor, "pk", None) else None


def require_status(obj, *statuses: str, action: str, noun: str) -> None:
    if obj.status not in statuses:
        raise DomainError(f"Không thể {action} {noun} ở trạng thái “{obj.get_status_display()}”.", "status")


class Workflow:
    """How one kind of record is changed.

    - `guard(actor)` raises when the account may not write at all (read-only
      auditors); role and scope checks need the locked row, so the app makes
      them between `begin` and `transition`.
    - `snapshot(obj)` is what the audit record keeps before and after (no
      personal data).
    - `record_step(obj, actor=, action=, at=, from_status=, to_status=,
      before=, **details)` writes the app's timeline row and returns it
      (None: the record keeps no timeline of its own, the audit chain is it).
    - `event_payload(obj, action=, from_status=, to_status=, at=)` is the
      domain event's payload, published as `event` (None: no event).
    """

    def __init__(
        self,
        model: type[models.Model],
        *,
        noun: str,
        audit_prefix: str,
        snapshot: Callable[[Any], dict],
        agency_of: Callable[[Any], int | None],
        record_step: Callable[..., Any] | None = None,
        guard: Callable[[Any], None] = lambda actor: None,
        event: str | None = None,
        event_payload: Callable[..., dict] | None = None,
        select_related: tuple[str, ...] = (),
        lock_together: Callable[[Any], models.QuerySet | None] | None = None,
    ):
        self.model = model
        self.noun = noun
        self.audit_prefix = audit_prefix
        self.snapshot = snapshot
        self.record_step = record_step
        self.agency_of = agency_of
        self.guard = guard
        self.event = event
        self.event_payload = event_payload
        self.select_related = select_related
        self.lock_together = lock_together

    # ------------------------------------------------------------ steps 1 and 3

    def begin(self, obj, actor, at=None):
        """Refuse accounts that may not write, lock the record's row — after the rows that change
        together with it (`lock_together`: the dossiers of one interconnected application), in id
        order, so whichever member a writer starts from, the group is taken in the same order."""
        self.guard(actor)
        together = self.lock_together(obj) if self.lock_together else None
        if together is not None:
            list(together.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
        locked = self.model.objects.select_for_update(of=("self",)).select_related(*self.select_related).get(pk=obj.pk)
        return locked, now(at)

    def require(self, obj, *statuses: str, action: str) -> None:
        require_status(obj, *statuses, action=action, noun=self.noun)

    def transition(
        self,
        obj,
        *,
        actor,
        action: str,
        to_status: str,
        at,
        changes: dict | None = None,
        audit_extra: dict | None = None,
        **details,
    ):
        """Apply a status change (or a change within a status) and record it
        in the timeline, the audit chain and as a domain event. `changes` are
        field values set after the "before" snapshot (e.g. the holder moving
        on), so the audit record shows them changing."""
        before = self.snapshot(obj)
        from_status = obj.status
        obj.status = to_status
        for name, value in (changes or {}).items():
            setattr(obj, name, value)
        obj.save()
        step = self._step(
            obj,
            actor=actor,
            action=action,
            at=at,
            from_status=from_status,
            to_status=to_status,
            before=before,
            **details,
        )
        self._record(
            obj, actor=actor, action=action, at=at, before=before, audit_extra=audit_extra, from_status=from_status
        )
        return step

    def created(self, obj, *, actor, action: str, at, audit_extra: dict | None = None, **details):
        """Record the creation of a record that starts in its first status."""
        step = self._step(
            obj, actor=actor, action=action, at=at, from_status="", to_status=obj.status, before=None, **details
        )
        self._record(obj, actor=actor, action=action, at=at, before=None, audit_extra=audit_extra, from_status="")
        return step

    def _step(self, obj, **fields):
        return None if self.record_step is None else self.record_step(obj, **fields)

    def _record(self, obj, *, actor, action, at, before, audit_extra, from_status) -> None:
        audit.record(
            actor=actor,
            action=f"{self.audit_prefix}.{action}",
            obj=obj,
            agency_id=self.agency_of(obj),
            at=at,
            before=before,
            after={**self.snapshot(obj), **(audit_extra or {})},
        )
        if self.event:
            payload = self.event_payload(obj, action=action, from_status=from_status, to_status=obj.status, at=at)
            events.publish(self.event, **payload)

    # ------------------------------------------------------------ one transaction per action

    def action(self, func):
        """Run `func(obj, …)` in one transaction; the caller's instance is
        brought up to date afterwards (the action works on a locked copy of
        the row): from the copy the action returns, else re-read."""

        @functools.wraps(func)
        def wrapper(obj, *args, **kwargs):
            result = atomic_retrying(lambda: func(obj, *args, **kwargs))
            if not (isinstance(obj, self.model) and obj.pk):
                return result
            if isinstance(result, self.model) and result.pk == obj.pk:
                if result is not obj:
                    for field in self.model._meta.concrete_fields:
                        setattr(obj, field.attname, getattr(result, field.attname))
                    obj._state.fields_cache = dict(result._state.fields_cache)
                return obj
            obj.refresh_from_db()
            return result

        return wrapper


# ---------------------------------------------------------------- idempotent creates


def caller_of(actor, fallback: str = "") -> str:
    """Whose idempotency keys these are: an account, else the named client
    (an API client, a device), else everyone anonymous."""
    if getattr(actor, "pk", None):
        return f"u{actor.pk}"
    return (fallback or "anonymous")[:100]


def replayed(obj):
    obj.replayed = True  # not stored: tells an API to answer with the first result (200, not 201)
    return obj


def idempotent(
    operation: str,
    *,
    key: str,
    caller: str,
    payload,
    create: Callable[..., models.Model],
    prepare: Callable[[], Any] | None = None,
    attempts: int = 3,
):
    """Run `create()` once per (operation, caller, key).

    Without a key it simply runs `create()` in a transaction. With one, a
    retry returns the first object (marked `replayed`), the same key with a
    different payload is a 409, and when two first attempts race, the loser's
    transaction is rolled back and it returns the winner's object.

    `prepare()`, when given, runs once before the transaction — validation
    and calls to other systems, which never run inside a transaction — and
    its result is passed to `create(prepared)`."""
    scope = f"{operation}:{caller}"
    prepared, ready = None, prepare is None
    for attempt in range(attempts):
        previous = idempotency.find(scope, key, payload)
        if previous is not None:
            return replayed(idempotency.load(previous))
        if not ready:
            prepared, ready = prepare(), True

        def create_and_remember():
            obj = create() if prepare is None else create(prepared)
            idempotency.remember(scope, key, payload, obj)
            return obj

        try:
            return atomic_retrying(create_and_remember)
        except (IntegrityError, DomainError) as error:
            racing = isinstance(error, IntegrityError) or error.code == "conflict"
            if not key or not racing or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")

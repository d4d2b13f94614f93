"""Running numbers for the codes people read: dossier codes, report codes.

A counter row per key is locked until the transaction ends, so two writers
never get the same number and a rolled-back write gives its number back. It
is one of the shared rows of the lock order (docs/architecture.md): take it
after the record being changed, just before the audit record."""

from django.db import transaction

from chinhquyenso.core.models import CodeCounter


def next_number(key: str) -> int:
    """The next number of the counter `key` (1 for a new key)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("core.codes.next_number must run inside the transaction that uses the number")
    counter, _ = CodeCounter.objects.select_for_update().get_or_create(key=key)
    counter.value += 1
    counter.save(update_fields=["value"])
    return counter.value

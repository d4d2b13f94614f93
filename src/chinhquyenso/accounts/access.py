"""Who may see and change what: the one place agency scoping and role checks
are decided. Every app's selectors scope reads with `scope_agency_ids`, and
every write checks `refuse_read_only` and `require_role` through the
workflow helper's order (core.workflow)."""

from __future__ import annotations

from chinhquyenso.accounts.selectors import agency_ids, has_role, is_read_only
from chinhquyenso.core.errors import PermissionDenied
from chinhquyenso.org.selectors import with_predecessors

READ_ONLY_MESSAGE = "Tài khoản kiểm tra, giám sát chỉ được xem, không được thao tác."


def scope_agency_ids(user, roles: list[str] | None = None) -> set[int]:
    """The officer's agencies (optionally only where they hold `roles`) plus
    every agency those succeeded: the successor's officers finish the open
    work and see the history of the agencies it replaced."""
    return with_predecessors(agency_ids(user, roles))


def refuse_read_only(actor) -> None:
    if is_read_only(actor):
        raise PermissionDenied(READ_ONLY_MESSAGE)


def require_role(actor, agency_id: int | None, *roles: str, message: str) -> None:
    """The actor holds one of `roles` in the agency (any role when none given)."""
    if agency_id is None or getattr(actor, "is_citizen", True) or not has_role(actor, agency_id, *roles):
        raise PermissionDenied(message)

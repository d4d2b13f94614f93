"""Who sees and changes which datasets: the one rule the selectors and the services apply.

- Anyone, signed in or not, sees public datasets (and a withdrawn one's own page, saying it was
  withdrawn — never in a list or a search).
- An officer sees every dataset of the agencies in their scope (their agencies and those they
  succeeded, accounts.access.scope_agency_ids), whatever its status, and may draft, edit, submit and
  add resources to them; a leader (Role.LEADER) of the agency approves, returns and withdraws.
- The province administrator and auditors see everything; the administrator may withdraw any
  dataset (personal data published by mistake) but approves nothing; auditors write nothing
  (core.workflow's guard refuses them).

An API token's system user is an officer of the token's agency, so tokens follow the same rule."""

from __future__ import annotations

from django.db.models import Q

from chinhquyenso.accounts.access import scope_agency_ids
from chinhquyenso.accounts.models import Role
from chinhquyenso.accounts.selectors import is_province_admin, sees_whole_province
from chinhquyenso.core.errors import PermissionDenied
from chinhquyenso.opendata.models import DatasetStatus

MEMBER_MESSAGE = "Bạn không thuộc cơ quan công bố bộ dữ liệu này."
LEADER_MESSAGE = "Chỉ lãnh đạo cơ quan công bố bộ dữ liệu mới được thực hiện thao tác này."
WITHDRAW_MESSAGE = "Chỉ lãnh đạo cơ quan công bố hoặc quản trị tỉnh mới được rút bộ dữ liệu."


def is_officer(user) -> bool:
    return bool(getattr(user, "pk", None)) and not getattr(user, "is_citizen", True)


def sees_all(user) -> bool:
    return is_officer(user) and (sees_whole_province(user) or bool(getattr(user, "is_superuser", False)))


def scope_of(user) -> set[int] | None:
    """The agencies whose unpublished datasets `user` sees; None: every agency's."""
    if not is_officer(user):
        return set()
    if sees_all(user):
        return None
    return scope_agency_ids(user)


def visible(user) -> Q | None:
    """The datasets `user` finds in lists and searches, as a filter (None: all of them)."""
    agencies = scope_of(user)
    if agencies is None:
        return None
    public = Q(status=DatasetStatus.PUBLIC)
    return public | Q(agency_id__in=agencies) if agencies else public


def may_edit(user, agency_id: int | None) -> bool:
    return is_officer(user) and agency_id is not None and agency_id in scope_agency_ids(user)


def may_decide(user, agency_id: int | None) -> bool:
    """A leader of the agency (or of an agency that succeeded it)."""
    return is_officer(user) and agency_id is not None and agency_id in scope_agency_ids(user, [Role.LEADER])


def require_member(user, agency_id: int | None) -> None:
    if not may_edit(user, agency_id):
        raise PermissionDenied(MEMBER_MESSAGE)


def require_leader(user, agency_id: int | None) -> None:
    if not may_decide(user, agency_id):
        raise PermissionDenied(LEADER_MESSAGE)


def require_withdrawer(user, agency_id: int | None) -> None:
    if not (may_decide(user, agency_id) or (is_officer(user) and is_province_admin(user))):
        raise PermissionDenied(WITHDRAW_MESSAGE)

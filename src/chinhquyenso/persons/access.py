"""Who may see and change the master person index (Decree 13/2023: health data is personal data of
a special kind). Two grants, given by the province administration to named officers (Django
permissions, through a group in the administration — never implied by an agency role):
`persons.view_health_data` to see source records and persons, `persons.review_links` to decide
pairs, merge, split, import and run the linking. Every view of a record is audited by the views.

Only explicit grants count: the province administrator's blanket permissions in the administration
(accounts.backends.ProvinceAdminBackend) do not open special personal data — the administrator grants
the permission to a group and joins it, which the audit of the administration records."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from chinhquyenso.accounts.access import refuse_read_only
from chinhquyenso.core.errors import PermissionDenied

VIEW = "persons.view_health_data"
REVIEW = "persons.review_links"

VIEW_MESSAGE = "Bạn chưa được cấp quyền xem dữ liệu sức khỏe và chỉ mục định danh cá nhân."
REVIEW_MESSAGE = "Bạn chưa được cấp quyền đối soát, gộp hoặc tách bản ghi cá nhân."


# Django's own permission check (the user's and their groups' permissions), without the project's backends.
_GRANTS = ModelBackend()


def _granted(user, permission: str) -> bool:
    return _GRANTS.has_perm(user, permission)


def can_view(user) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False))
        and not getattr(user, "is_citizen", True)
        and _granted(user, VIEW)
    )


def can_review(user) -> bool:
    return can_view(user) and _granted(user, REVIEW)


def require_view(user) -> None:
    if not can_view(user):
        raise PermissionDenied(VIEW_MESSAGE)


def require_review(actor) -> None:
    """For every write: a read-only auditor is refused first, as everywhere (accounts.access)."""
    require_view(actor)
    refuse_read_only(actor)
    if not _granted(actor, REVIEW):
        raise PermissionDenied(REVIEW_MESSAGE)

"""Who may see and change the master person index (Decree 13/2023: health data is personal data of
a special kind). Two grants, given by the province administration to named officers (Django
permissions, through a group in the administration — never implied by an agency role):
`persons.view_health_data` to see source records and persons, `persons.review_links` to decide
pairs, merge, split, import and run the linking. Every view of a record is audited by the views.

Only explicit grants count: the province administrator's blanket permissions in the administration
(accounts.backends.ProvinceAdminBackend) do not open special personal data — the administrator grants
the permission to a group and joins it, which the audit of the administration records."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import Q

from chinhquyenso.accounts.access import refuse_read_only
from chinhquyenso.core.errors import PermissionDenied

VIEW = "persons.view_health_data"
REVIEW = "persons.review_links"

VIEW_MESSAGE = "Bạn chưa được cấp quyền xem dữ liệu sức khỏe và chỉ mục định danh cá nhân."
REVIEW_MESSAGE = "Bạn chưa được cấp quyền đối soát, gộp hoặc tách bản ghi cá nhân."


def _grants(user) -> set[str]:
    """The index's permissions given to the user or to one of their groups (Django's own grants, without
    the project's backends), read in one query and kept on the user object for the request."""
    cached = getattr(user, "_persons_grants", None)
    if cached is None:
        if not user.is_active:
            cached = set()
        else:
            given = Q(user=user) | Q(group__user=user)
            cached = set(
                Permission.objects.filter(given, content_type__app_label="persons").values_list("codename", flat=True)
            )
            if user.is_superuser:  # the operator's own account (createsuperuser) holds every permission
                cached |= {VIEW.split(".")[1], REVIEW.split(".")[1]}
        user._persons_grants = cached
    return cached


def _granted(user, permission: str) -> bool:
    return permission.split(".", 1)[1] in _grants(user)


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

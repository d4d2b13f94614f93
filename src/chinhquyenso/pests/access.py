"""Who may do what in the pest surveillance app. The grants are Django permissions given to groups in
the administration (Station.Meta.permissions); the commune officers' scope comes from their memberships
(accounts.access)."""

from __future__ import annotations

from chinhquyenso.accounts.access import refuse_read_only, scope_agency_ids
from chinhquyenso.core.errors import PermissionDenied
from chinhquyenso.org.models import AgencyKind

SURVEY = "pests.survey_pests"
MANAGE_CATALOG = "pests.manage_pest_catalog"
ISSUE_BULLETIN = "pests.issue_pest_bulletin"
CONFIRM = "pests.confirm_identification"

__all__ = [
    "can_confirm",
    "can_issue_bulletin",
    "can_manage_catalog",
    "can_survey",
    "can_view",
    "refuse_read_only",
    "require_survey",
    "scope_communes",
]


def _officer(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and not getattr(user, "is_citizen", True)


def can_view(user) -> bool:
    """Any of the app's grants: the catalog and station pages are open to every officer who works with it."""
    return _officer(user) and any(user.has_perm(p) for p in (SURVEY, MANAGE_CATALOG, ISSUE_BULLETIN, CONFIRM))


def can_survey(user) -> bool:
    return _officer(user) and user.has_perm(SURVEY)


def require_survey(user) -> None:
    if not can_survey(user):
        raise PermissionDenied("Tài khoản chưa được giao theo dõi sinh vật gây hại cây trồng.")


def can_manage_catalog(user) -> bool:
    return _officer(user) and user.has_perm(MANAGE_CATALOG)


def can_issue_bulletin(user) -> bool:
    return _officer(user) and user.has_perm(ISSUE_BULLETIN)


def can_confirm(user) -> bool:
    return _officer(user) and user.has_perm(CONFIRM)


def scope_communes(user) -> set[int] | None:
    """The communes whose data a commune officer sees: the commune committees among their memberships
    (and those they succeeded), when every membership is in a commune committee. None — no commune
    restriction — for officers of district and province agencies (the plant-protection stations, the
    sub-department) and for granted officers without memberships; the grant itself is checked apart."""
    from chinhquyenso.org.models import Agency

    ids = scope_agency_ids(user)
    if not ids:
        return None
    kinds = set(Agency.objects.filter(pk__in=ids).values_list("kind", flat=True))
    return None if kinds - {AgencyKind.COMMUNE_COMMITTEE} else set(ids)

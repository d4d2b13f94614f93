from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from chinhquyenso.accounts.models import Membership, User
from chinhquyenso.accounts.selectors import sees_whole_province
from chinhquyenso.org.models import AgencyKind

# The app's grants, in the order their pages come first in the menu (pests.access).
GRANTS = ("survey_pests", "issue_pest_bulletin", "confirm_identification", "manage_pest_catalog")
FIRST_PAGE = {
    "survey_pests": "pests:overview",
    "issue_pest_bulletin": "pests:bulletins",
    "confirm_identification": "pests:identify_queue",
    "manage_pest_catalog": "pests:catalog",
}


def _granted(codename: str) -> Q:
    return Q(user_permissions__content_type__app_label="pests", user_permissions__codename=codename) | Q(
        groups__permissions__content_type__app_label="pests", groups__permissions__codename=codename
    )


def pests_menu(user) -> str:
    """The officers' menu link "Sâu bệnh": the first page of the app `user` may open, or "" — in one
    query at most (none for the province administrator and auditors). Commune officers open the
    surveillance of their communes; holders of a grant its pages. The pages check again and scope."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "is_citizen", True):
        return ""
    if user.is_superuser or sees_whole_province(user):
        return reverse("pests:overview")
    holders = User.objects.filter(pk=OuterRef("pk"))
    facts = (
        User.objects.filter(pk=user.pk, is_active=True)
        .annotate(
            commune=Exists(Membership.objects.filter(user=OuterRef("pk"), agency__kind=AgencyKind.COMMUNE_COMMITTEE)),
            **{codename: Exists(holders.filter(_granted(codename))) for codename in GRANTS},
        )
        .values("commune", *GRANTS)
        .first()
    )
    if not facts:
        return ""
    if facts["commune"]:
        return reverse("pests:overview")
    first = next((codename for codename in GRANTS if facts[codename]), None)
    return reverse(FIRST_PAGE[first]) if first else ""


def nav(request):
    """Lazy: the query runs only when a page's menu asks."""
    return {"pests_menu": lambda: pests_menu(request.user)}

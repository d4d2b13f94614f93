"""The weekly bulletins an officer sees (reads only).

Plant-protection officers (`pests.survey_pests` in a district or province agency), holders of
`pests.issue_pest_bulletin`, the province administrator and auditors see every bulletin; a commune
officer sees the bulletins of the district their commune belongs to (every version of it) and the
province's. Anyone else sees none — the files too (`file_of`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from chinhquyenso.accounts.selectors import sees_whole_province
from chinhquyenso.core import uploads
from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.org.selectors import versions, with_predecessors
from chinhquyenso.pests import access
from chinhquyenso.pests.models import Bulletin
from chinhquyenso.pests.selectors.densities import visible_communes

FORMATS = ("docx", "pdf")


def sees_all(user) -> bool:
    if not getattr(user, "is_authenticated", False) or getattr(user, "is_citizen", True):
        return False
    return sees_whole_province(user) or access.can_issue_bulletin(user) or visible_communes(user) is None


def sees_bulletins(user) -> bool:
    """Whether the bulletins' pages are for `user` at all."""
    return sees_all(user) or bool(visible_communes(user))


def visible_bulletins(user) -> QuerySet[Bulletin]:
    bulletins = Bulletin.objects.select_related("area", "issuer", "docx", "pdf", "created_by")
    if sees_all(user):
        return bulletins
    communes = visible_communes(user)
    if not communes:
        return bulletins.none()
    districts: set[int] = set()
    for parent in Agency.objects.filter(pk__in=communes, parent__isnull=False).select_related("parent"):
        districts |= {version.pk for version in versions(parent.parent)}
    districts = with_predecessors(districts)
    return bulletins.filter(Q(area_id__in=districts) | Q(area__kind=AgencyKind.PROVINCE_COMMITTEE))


def bulletin_list(user) -> QuerySet[Bulletin]:
    return visible_bulletins(user).order_by("-week_start", "area__name", "-id")


def get_bulletin(user, pk: int) -> Bulletin:
    bulletin = visible_bulletins(user).filter(pk=pk).first()
    if bulletin is None:
        raise NotFound("Không tìm thấy thông báo này (hoặc nó không thuộc phạm vi bạn được xem).")
    return bulletin


def file_of(user, bulletin: Bulletin, fmt: str):
    """The stored DOCX or PDF of a bulletin `user` sees (core.uploads.file_for with the bulletin as
    the readable rule: the file is this bulletin's); NotFound otherwise."""
    if fmt not in FORMATS:
        raise NotFound("Không có định dạng này.")
    stored = bulletin.docx if fmt == "docx" else bulletin.pdf
    if stored is None:
        raise NotFound("Thông báo này chưa có tệp.")
    try:
        return uploads.file_for(
            user,
            stored.sha256,
            "file",
            readable=lambda candidate: (
                candidate.pk == stored.pk and visible_bulletins(user).filter(pk=bulletin.pk).exists()
            ),
        )
    except DomainError:
        raise NotFound("Không tìm thấy tệp.") from None


def issuable_areas(user, day) -> list[Agency]:
    """The areas the issue form offers: the province and the districts valid on `day`."""
    areas = Agency.objects.filter(kind__in=[AgencyKind.PROVINCE_COMMITTEE, AgencyKind.DISTRICT_COMMITTEE]).valid_on(day)
    return list(areas.order_by("kind", "name").exclude(kind=AgencyKind.DISTRICT_COMMITTEE)) + list(
        areas.filter(kind=AgencyKind.DISTRICT_COMMITTEE).order_by("name")
    )

"""Reads for photo identification: the farmer's request by its private link, the experts' queue and
photos, the choices of the forms, and whether a model is configured."""

from __future__ import annotations

import logging
import re

from django.db.models import Count, Prefetch, Q

from chinhquyenso.core import uploads
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.models import StoredFile
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.pests import access
from chinhquyenso.pests.identify import NONE, ModelConfigurationError, get_identifier
from chinhquyenso.pests.models import Crop, Identification, IdentificationPhoto, Organism

log = logging.getLogger(__name__)

EXPERTS_ONLY = "Chỉ chuyên gia được phân quyền xác nhận ảnh nhận dạng sâu bệnh mới xem được trang này."
WAITING_SHOWN = 100
RECENT_SHOWN = 50
_AREA_PREFIX = re.compile(r"^(UBND|Ủy ban nhân dân|Uỷ ban nhân dân)\s+", re.IGNORECASE)


def area_label(name: str) -> str:
    """ "UBND xã Kiến An" → "xã Kiến An"."""
    return _AREA_PREFIX.sub("", name or "")


# ---------------------------------------------------------------------- the farmer's request


def _photos() -> Prefetch:
    return Prefetch("photos", queryset=IdentificationPhoto.objects.select_related("label").order_by("pk"))


def for_holder(public_id) -> Identification | None:
    """The request its private link names (whoever holds the link is the farmer), or None."""
    return (
        Identification.objects.filter(public_id=public_id)
        .select_related("answer", "crop", "commune")
        .prefetch_related(_photos())
        .first()
    )


def holder_photo(public_id, photo_id: int) -> IdentificationPhoto | None:
    return (
        IdentificationPhoto.objects.filter(pk=photo_id, identification__public_id=public_id)
        .select_related("file")
        .first()
    )


# ---------------------------------------------------------------------- experts


def require_expert(user) -> None:
    if not access.can_confirm(user):
        raise PermissionDenied(EXPERTS_ONLY)


def expert_queue(user) -> dict:
    """Requests waiting for an expert (oldest first), then the model's recent answers (newest first)."""
    require_expert(user)
    base = Identification.objects.select_related("answer", "crop", "commune").annotate(
        photo_count=Count("photos"), labelled=Count("photos", filter=Q(photos__labelled_at__isnull=False))
    )
    waiting = base.filter(sent_to_expert=True).exclude(status=Identification.Status.CONFIRMED).order_by("created_at")
    return {
        "waiting": list(waiting[:WAITING_SHOWN]),
        "waiting_count": waiting.count(),
        "recent": list(base.filter(status=Identification.Status.ANSWERED, sent_to_expert=False)[:RECENT_SHOWN]),
        "confirmed": list(base.filter(status=Identification.Status.CONFIRMED).order_by("-created_at")[:RECENT_SHOWN]),
    }


def for_expert(user, pk: int) -> Identification:
    require_expert(user)
    found = (
        Identification.objects.filter(pk=pk)
        .select_related("answer", "crop", "commune")
        .prefetch_related(_photos())
        .first()
    )
    if found is None:
        raise NotFound("Không tìm thấy yêu cầu nhận dạng.")
    return found


def expert_photo(user, photo_id: int) -> StoredFile:
    """A request's photo for an expert, through core.uploads.file_for (the same refusal for an unknown
    photo and one the user may not read)."""
    require_expert(user)
    photo = IdentificationPhoto.objects.filter(pk=photo_id).select_related("file").first()
    if photo is None:
        raise NotFound("Không tìm thấy ảnh.")

    def readable(stored: StoredFile) -> bool:
        return access.can_confirm(user) and IdentificationPhoto.objects.filter(file=stored).exists()

    try:
        return uploads.file_for(user, photo.file.sha256, "photo", readable=readable)
    except DomainError:
        raise NotFound("Không tìm thấy ảnh.") from None


# ---------------------------------------------------------------------- choices, names


def organism_choices() -> list[tuple[str, list[Organism]]]:
    """Active organisms grouped by kind, for the expert's select (natural enemies last)."""
    organisms = list(Organism.objects.filter(active=True).order_by("name"))
    groups: list[tuple[str, list[Organism]]] = []
    pests = [o for o in organisms if not o.is_natural_enemy]
    for kind, label in Organism._meta.get_field("kind").choices:
        members = [o for o in pests if o.kind == kind]
        if members:
            groups.append((label, members))
    enemies = [o for o in organisms if o.is_natural_enemy]
    if enemies:
        groups.append(("Thiên địch", enemies))
    return groups


def names(codes) -> dict[str, str]:
    """Class code → the catalog's name ("none" → "Không có sinh vật gây hại"); an unknown code as itself."""
    codes = set(codes)
    found = dict(Organism.objects.filter(code__in=codes - {NONE}).values_list("code", "name"))
    found[NONE] = "Không có sinh vật gây hại"
    return {code: found.get(code, code) for code in codes}


def crop_choices() -> list[Crop]:
    return list(Crop.objects.order_by("name"))


def commune_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Current communes grouped under their district, for the farmer's optional select."""
    communes = (
        Agency.objects.current()
        .filter(kind=AgencyKind.COMMUNE_COMMITTEE)
        .select_related("parent")
        .order_by("parent__name", "name")
    )
    groups: dict[str, list[tuple[str, str]]] = {}
    for commune in communes:
        parent = commune.parent
        in_district = parent is not None and parent.kind == AgencyKind.DISTRICT_COMMITTEE
        label = area_label(parent.name) if in_district else "Trực thuộc tỉnh"
        groups.setdefault(label, []).append((commune.code, area_label(commune.name)))
    return list(groups.items())


def commune_by_code(code: str) -> Agency | None:
    if not code:
        return None
    commune = Agency.objects.current().filter(kind=AgencyKind.COMMUNE_COMMITTEE, code=code).first()
    if commune is None:
        raise DomainError("Hãy chọn xã, phường trong danh sách.", "commune")
    return commune


def crop_by_code(code: str) -> Crop | None:
    if not code:
        return None
    crop = Crop.objects.filter(code=code).first()
    if crop is None:
        raise DomainError("Hãy chọn cây trồng trong danh sách.", "crop")
    return crop


def model_status() -> dict:
    """Whether a model answers farmers, its version and classes, and the classes the catalog lacks (for
    the experts' page: a class list out of step with the catalog means those answers go to experts)."""
    try:
        identifier = get_identifier()
    except ModelConfigurationError as error:
        return {"configured": True, "usable": False, "error": str(error)}
    if identifier is None:
        return {"configured": False, "usable": False}
    known = set(Organism.objects.filter(code__in=identifier.classes, active=True).values_list("code", flat=True))
    unknown = [code for code in identifier.classes if code != NONE and code not in known]
    return {
        "configured": True,
        "usable": True,
        "version": identifier.version,
        "classes": len(identifier.classes),
        "unknown": unknown,
    }

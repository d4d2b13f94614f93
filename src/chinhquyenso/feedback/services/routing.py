"""The writes routing depends on: the categories (who handles what, in how
many working days), the communes' reference points for map pins, and open
reports following their agency through a reorganization. The reads
(locate, route) are feedback.routing."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import nfc
from chinhquyenso.feedback.models import OPEN_STATUSES, AreaPoint, Category, Feedback, FeedbackEvent
from chinhquyenso.feedback.services.common import coordinates
from chinhquyenso.org.models import Agency, AgencyKind, Level
from chinhquyenso.org.selectors import current_successor

DEFAULT_CATEGORIES = Path(__file__).resolve().parent.parent / "data" / "categories.json"


def _category_spec(item: dict, index: int) -> dict:
    where = f"categories[{index}]"
    code = nfc(item.get("code"))
    if not code:
        raise DomainError("Lĩnh vực thiếu mã (code).", f"{where}.code")
    name = nfc(item.get("name"))
    if not name:
        raise DomainError("Lĩnh vực thiếu tên (name).", f"{where}.name")
    level = item.get("handling_level", Level.COMMUNE)
    if level not in Level.values:
        raise DomainError("Cấp xử lý phải là commune, district hoặc province.", f"{where}.handling_level")
    kind = item.get("handling_kind", "")
    if kind and kind not in AgencyKind.values:
        raise DomainError("Loại cơ quan xử lý không hợp lệ.", f"{where}.handling_kind")
    agency = None
    if item.get("handling_agency"):
        # Absent here (another province's tree, a test): the category routes by its level instead.
        first = Agency.objects.filter(code=item["handling_agency"]).order_by("valid_from").first()
        agency = current_successor(first) if first else None
    days = {}
    for key, default in (("handling_days", 15), ("refusal_days", 2), ("info_request_days", 5)):
        value = item.get(key, default)
        if not isinstance(value, int) or not 0 < value <= 365:
            raise DomainError("Số ngày làm việc phải là số nguyên từ 1 đến 365.", f"{where}.{key}")
        days[key] = value
    attributes = item.get("attributes", [])
    if not isinstance(attributes, list) or any(not isinstance(a, dict) or not a.get("code") for a in attributes):
        raise DomainError("Thông tin bổ sung (attributes) phải là danh sách, mỗi mục có code.", f"{where}.attributes")
    return {
        "code": code,
        "defaults": {
            "name": name,
            "description": nfc(item.get("description")),
            "group": nfc(item.get("group")),
            "keywords": nfc(item.get("keywords")),
            "handling_level": level,
            "handling_kind": kind,
            "handling_agency": agency,
            "attributes": attributes,
            "order": index + 1,
            **days,
        },
    }


@transaction.atomic
def load_categories(path=None, *, actor=None) -> dict[str, int]:
    """Create the categories missing from a JSON file (default data/categories.json).
    Idempotent: categories the province already has stay as it edited them."""
    data = json.loads(Path(path or DEFAULT_CATEGORIES).read_text(encoding="utf-8"))
    items = data.get("categories", [])
    specs = [_category_spec(item, i) for i, item in enumerate(items)]
    created = 0
    for spec in specs:
        _, new = Category.objects.get_or_create(code=spec["code"], defaults=spec["defaults"])
        created += new
    unresolved = [
        item["handling_agency"]
        for item, spec in zip(items, specs)
        if item.get("handling_agency") and spec["defaults"]["handling_agency"] is None
    ]
    audit.record(
        actor=actor,
        action="feedback.categories.load",
        object_type="feedback.Category",
        object_id=Path(path or DEFAULT_CATEGORIES).name,
        after={"created": created, "in_file": len(specs)},
    )
    return {"created": created, "existing": len(specs) - created, "unresolved_agencies": unresolved}


@transaction.atomic
def set_area_point(*, actor, agency: Agency, latitude, longitude) -> AreaPoint:
    """Set (replace) a commune's or district's reference point for map pins."""
    lat, lon = coordinates(latitude, longitude)
    if lat is None:
        raise DomainError("Phải có cả vĩ độ và kinh độ.", "latitude")
    point, _ = AreaPoint.objects.update_or_create(agency=agency, defaults={"latitude": lat, "longitude": lon})
    audit.record(
        actor=actor,
        action="feedback.area_point",
        obj=point,
        agency_id=agency.pk,
        after={"latitude": lat, "longitude": lon},
    )
    return point


def move_open_feedback(event) -> None:
    """AgencyReorganized: open reports held by a closed agency move to the
    successor that takes its open work (one UPDATE per agency, each report's
    move in its timeline). Finished reports keep the agency that handled them."""
    at = timezone.now()
    for source_id, successor_id in event.payload.get("successors", {}).items():
        moving = list(
            Feedback.objects.filter(status__in=OPEN_STATUSES, agency_id=int(source_id)).values_list("pk", "status")
        )
        if not moving:
            continue
        Feedback.objects.filter(pk__in=[pk for pk, _ in moving]).update(agency_id=successor_id, updated_at=at)
        note = f"Sắp xếp tổ chức: chuyển cơ quan kế thừa (bản ghi {event.payload.get('reorganization')})."
        FeedbackEvent.objects.bulk_create(
            FeedbackEvent(
                feedback_id=pk,
                at=at,
                action="reassign",
                from_status=status,
                to_status=status,
                agency_id=successor_id,
                text=note,
            )
            for pk, status in moving
        )
        audit.record(
            actor=None,
            action="feedback.follow_reorganization",
            object_type="feedback.Feedback",
            object_id=source_id,
            agency_id=successor_id,
            at=at,
            after={"moved": [pk for pk, _ in moving], "to": successor_id},
        )

"""Where a report happened and who handles it.

`locate` finds the commune (or district) from a map pin, an agency code or
the address text; `route` picks the responsible agency for the report's
category there. Both follow reorganizations: a point, code or old commune
name of a merged commune leads to its current successor."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from chinhquyenso.core.text import fold
from chinhquyenso.feedback.conf import conf
from chinhquyenso.org.models import LEVEL_OF_KIND, Agency, AgencyKind, Level
from chinhquyenso.org.selectors import current_successor

AREA_KINDS = (AgencyKind.COMMUNE_COMMITTEE, AgencyKind.DISTRICT_COMMITTEE)
EARTH_RADIUS_KM = 6371.0088
# "UBND xã Kiến An" → "kien an": the administrative words are not part of the place name.
_PREFIX = re.compile(r"^(ubnd|uy ban nhan dan)\s+(xa|phuong|thi tran|thi xa|thanh pho|huyen|quan|tp\.?)\s+")


def haversine_km(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lon2) - float(lon1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def _current(agency: Agency | None) -> Agency | None:
    if agency is None or agency.is_current:
        return agency
    return current_successor(agency)


def nearest_area(latitude, longitude, max_km: float | None = None) -> Agency | None:
    """The area whose reference point is nearest to the pin, within `max_km`.
    Only points inside a bounding box of that radius are read."""
    from chinhquyenso.feedback.models import AreaPoint

    max_km = float(conf("FEEDBACK_PIN_MAX_KM") if max_km is None else max_km)
    lat, lon = float(latitude), float(longitude)
    dlat = max_km / 111.0
    dlon = max_km / max(1e-6, 111.320 * math.cos(math.radians(lat)))
    candidates = AreaPoint.objects.filter(
        latitude__range=(Decimal(str(round(lat - dlat, 6))), Decimal(str(round(lat + dlat, 6)))),
        longitude__range=(Decimal(str(round(lon - dlon, 6))), Decimal(str(round(lon + dlon, 6)))),
    ).select_related("agency")
    best, best_km = None, max_km
    for point in candidates:
        km = haversine_km(lat, lon, point.latitude, point.longitude)
        # Ties go to the point of the current agency version (closed ones lead to it anyway).
        if km < best_km or (km == best_km and best is not None and point.agency.is_current and not best.is_current):
            best, best_km = point.agency, km
    return _current(best)


def area_by_code(code: str) -> Agency | None:
    """An agency by internal or electronic code; a current version first, then any (→ its successor)."""
    code = (code or "").strip()
    if not code:
        return None
    matches = Agency.objects.filter(kind__in=AREA_KINDS).filter(
        **({"electronic_code": code} if "." in code else {"code": code})
    )
    agency = matches.filter(valid_to__isnull=True).first() or matches.order_by("-valid_from").first()
    return _current(agency)


def place_name(agency_name: str) -> str:
    return _PREFIX.sub("", fold(agency_name)).strip()


def area_by_address(address: str) -> Agency | None:
    """The commune (else district) whose place name appears in the address,
    the longest name first ("Mỹ Hòa Hưng" before "Mỹ Hòa"). Names of closed
    communes still match — old addresses outlive a merger."""
    text = f" {re.sub(r'[^a-z0-9]+', ' ', fold(address))} "
    if not text.strip():
        return None
    best = None
    for agency in Agency.objects.filter(kind__in=AREA_KINDS).order_by("-valid_to", "id"):
        name = re.sub(r"[^a-z0-9]+", " ", place_name(agency.name)).strip()
        if not name or f" {name} " not in text:
            continue
        rank = (agency.kind == AgencyKind.COMMUNE_COMMITTEE, len(name), agency.is_current)
        if best is None or rank > best[0]:
            best = (rank, agency)
    return _current(best[1]) if best else None


def locate(*, latitude=None, longitude=None, area_code: str = "", address: str = "") -> Agency | None:
    """The commune or district where it happened: pin, then code, then address."""
    if latitude is not None and longitude is not None:
        found = nearest_area(latitude, longitude)
        if found is not None:
            return found
    return area_by_code(area_code) or area_by_address(address)


def _ancestors(agency: Agency):
    seen = set()
    while agency is not None and agency.pk not in seen:
        seen.add(agency.pk)
        yield agency
        agency = agency.parent


def route_category(category, area: Agency | None) -> Agency | None:
    """The agency responsible for `category` at `area`, or None (IOC operator queue).

    A fixed handling agency wins (after its reorganizations). Otherwise the
    area's own committee or the first superior at the category's level (and
    kind, if set) handles it. An area above that level (a district for a
    commune matter) handles it itself and passes it down; where the level no
    longer exists (districts after 01/7/2025) the commune takes it."""
    if category.handling_agency_id:
        return _current(category.handling_agency)
    area = _current(area)
    if area is None:
        return None
    chain = list(_ancestors(area))
    for agency in chain:
        if LEVEL_OF_KIND[agency.kind] == category.handling_level and (
            not category.handling_kind or agency.kind == category.handling_kind
        ):
            return agency
    order = [Level.COMMUNE, Level.DISTRICT, Level.PROVINCE]
    if order.index(area.level) > order.index(category.handling_level):
        return area  # a district for a commune matter: it dispatches
    if category.handling_kind and category.handling_level == Level.PROVINCE:
        return None  # a province body of that kind cannot be chosen by place: the IOC decides
    return area if area.kind in AREA_KINDS else None


def route(feedback) -> Agency | None:
    """Pure: the agency that should handle this report now (None → IOC queue)."""
    area = (
        feedback.area
        if feedback.area_id
        else locate(latitude=feedback.latitude, longitude=feedback.longitude, address=feedback.address)
    )
    return route_category(feedback.category, area)

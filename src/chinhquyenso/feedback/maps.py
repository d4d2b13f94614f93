"""What the feedback pages draw on the platform's map (core.maps): reads only.

- places(): the current communes' reference points (AreaPoint), named and coded: the offline
  base layer, and what the form's pin picker names as the nearest commune (the same rule as
  routing.nearest_area, computed in the browser from these points);
- report_points(): the public map's pins, from selectors.map_points (rounded points, no
  personal data);
- report_pin(): one report's exact point, for the officers' page only."""

from __future__ import annotations

from chinhquyenso.core import maps
from chinhquyenso.feedback import selectors
from chinhquyenso.feedback.models import AreaPoint
from chinhquyenso.org.models import AgencyKind


def places() -> dict:
    """GeoJSON of the current communes' points: properties code (the form's commune value) and name."""
    rows = (
        AreaPoint.objects.filter(agency__valid_to__isnull=True, agency__kind=AgencyKind.COMMUNE_COMMITTEE)
        .order_by("agency__name")
        .values_list("latitude", "longitude", "agency__code", "agency__name")
    )
    return maps.collection(
        maps.feature(lat, lon, code=code, name=selectors.area_label(name)) for lat, lon, code, name in rows
    )


def base_layer() -> dict | None:
    """places() where the map has no tiles (offline: the points are its base layer), else None."""
    return None if maps.tiles()["url"] else places()


def report_points(points, url_prefix: str) -> dict:
    """The public map's pins: each report's rounded point, its label and link, its status group as kind."""
    return maps.collection(
        maps.feature(
            p.latitude,
            p.longitude,
            label=f"{p.code}: {p.category_name} — {p.status_label}",
            text=p.area_name,
            url=f"{url_prefix}{p.code}/",
            link=f"Xem phản ánh {p.code}",
            kind=selectors.status_group(p.status),
        )
        for p in points
    )


def report_pin(feedback) -> dict | None:
    """The report's own point (officers who may read its address), or None without one."""
    if feedback.latitude is None or feedback.longitude is None:
        return None
    return {
        "points": maps.collection(
            [
                maps.feature(
                    feedback.latitude,
                    feedback.longitude,
                    label=f"Nơi xảy ra phản ánh {feedback.code}",
                    kind=selectors.status_group(feedback.status),
                )
            ]
        ),
        "center": (feedback.latitude, feedback.longitude),
        "directions": maps.directions_url(feedback.latitude, feedback.longitude),
        "geo": maps.geo_uri(feedback.latitude, feedback.longitude),
    }

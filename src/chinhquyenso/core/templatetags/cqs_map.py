"""`{% map_view %}`: the platform's map component (core.maps) in a page.

    {% load cqs_map %}
    {% map_view "ban-do" label="Bản đồ phản ánh" points=points base=places cluster=True %}
    {% map_view "chon-vi-tri" label="…" base=places bounds=bounds pick_lat="latitude" pick_lon="longitude"
                pick_area="area_code" locate="dung-vi-tri" status="vi-tri-trang-thai" clear="bo-ghim" %}

points, base, outlines: GeoJSON dicts (core.maps.feature / collection), written into the page as
<script type="application/json"> (json_script: not run, allowed by the Content-Security-Policy).
bounds: (south, north, west, east); center: (lat, lon) with zoom. The map is hidden until its script
runs: the page must say the same in text (its table, its address and commune fields)."""

from django import template

from chinhquyenso.core import maps

register = template.Library()


@register.inclusion_tag("cqs/_map.html")
def map_view(
    map_id,
    *,
    label,
    help="",
    points=None,
    base=None,
    outlines=None,
    bounds=None,
    center=None,
    zoom=None,
    cluster=False,
    size="",
    pick_lat="",
    pick_lon="",
    pick_area="",
    pick_max_km=None,
    locate="",
    status="",
    clear="",
):
    return {
        "map_id": map_id,
        "points_id": f"{map_id}-points",
        "base_id": f"{map_id}-base",
        "outlines_id": f"{map_id}-outlines",
        "label": label,
        "help": help,
        "tiles": maps.tiles(),
        "points": points,
        "base": base,
        "outlines": outlines,
        "bounds": maps.bounds_attr(bounds),
        "center": ",".join(f"{float(x):.6f}" for x in center) if center else "",
        "zoom": zoom or "",
        "cluster": bool(cluster),
        "size": size,
        "pick_lat": pick_lat,
        "pick_lon": pick_lon,
        "pick_area": pick_area,
        "pick_max_km": str(pick_max_km) if pick_max_km else "",  # not localized ("15,0")
        "locate": locate,
        "status": status,
        "clear": clear,
    }

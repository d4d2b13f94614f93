"""The platform's one map component, server side: settings of the base layer, GeoJSON for the
points and outlines a page draws, the Content-Security-Policy source of the tile server, and
the officers' directions link.

A page draws a map with the `{% map_view %}` tag (core/templatetags/cqs_map.py), which renders
core/templates/cqs/_map.html; core/static/cqs/map.js draws it with Leaflet (vendored under
core/static/vendor/leaflet). Without JavaScript the map is not shown: every page that has one
says the same things in text (a table of the points, the address and commune fields).

The base layer is a tile server (settings.CQS["MAP_TILES"]["URL"], env CQS_MAP_TILE_URL;
OpenStreetMap's by default). With an empty URL (tests, CI, a machine without internet) the map
draws no tiles: the communes' reference points, named, and their outlines when a page has
them, are the base layer instead."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings

DEFAULT_MAX_ZOOM = 19


def tiles() -> dict:
    """{"url", "attribution", "max_zoom"} of the base layer; url "" = offline (no tiles)."""
    configured = settings.CQS.get("MAP_TILES") or {}
    return {
        "url": str(configured.get("URL") or "").strip(),
        "attribution": str(configured.get("ATTRIBUTION") or ""),
        "max_zoom": int(configured.get("MAX_ZOOM") or DEFAULT_MAX_ZOOM),
    }


def tile_source(url: str | None = None) -> str:
    """The Content-Security-Policy source that lets pages load the tiles of `url` (default: the
    configured tile URL): "https://tile.openstreetmap.org", "https://*.tile.example.vn" for a
    {s} subdomain template; "" when there are no tiles or the URL is not an absolute http(s) URL
    (tiles from the platform itself are covered by 'self')."""
    url = tiles()["url"] if url is None else url.strip()
    if not url:
        return ""
    parts = urlsplit(url.replace("{s}", "SUBDOMAIN"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.netloc.rsplit("@", 1)[-1].replace("SUBDOMAIN", "*").lower()
    if any(ch in host for ch in "{} ;,'\""):  # a template the policy cannot express: no source at all
        return ""
    return f"{parts.scheme}://{host}"


def _number(value) -> float:
    return float(Decimal(str(value)))


def feature(latitude, longitude, **properties) -> dict:
    """A GeoJSON Point feature. Properties map.js reads: label (the pin's accessible name and
    tooltip), url (a link shown when the pin is chosen), text (more words in its popup), kind
    (a CSS modifier: the pin's colour and shape), code and name (a place: base layer points)."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [_number(longitude), _number(latitude)]},
        "properties": {key: value for key, value in properties.items() if value not in (None, "")},
    }


def collection(features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def bounds_attr(bounds) -> str:
    """(south, north, west, east) → "south,north,west,east" for data-bounds; "" when unknown."""
    if not bounds or not any(bounds):
        return ""
    return ",".join(f"{float(b):.6f}" for b in bounds)


def directions_url(latitude, longitude) -> str:
    """The link that gives an officer directions to a report's point
    (settings.CQS["MAP_DIRECTIONS_URL"]); only the point goes into it."""
    template = (
        settings.CQS.get("MAP_DIRECTIONS_URL") or "https://www.google.com/maps/dir/?api=1&destination={lat},{lon}"
    )
    return template.format(lat=f"{_number(latitude):.6f}", lon=f"{_number(longitude):.6f}")


def geo_uri(latitude, longitude) -> str:
    """geo: URI (RFC 5870): opens the phone's own map application at the point."""
    return f"geo:{_number(latitude):.6f},{_number(longitude):.6f}"

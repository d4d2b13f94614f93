"""A choropleth of communes by on-time rate, drawn on the server as SVG (no
script, no tiles, a few kilobytes): each commune is a circle at its
reference point (feedback.AreaPoint), coloured by its class of on-time rate
and sized by the dossiers finished; where the province provides commune
outlines (a GeoJSON file named by CQS["COMMUNE_OUTLINES"], features whose
properties carry the agency's "code"), the outlines are filled with the same
colours. A table with the same figures follows the map on the page.

Colours: four classes of ColorBrewer's RdYlBu scheme (colour-blind safe)
with a dark edge, so that each stands out against the light and the dark
(wall mode) background; communes with too few dossiers are hollow."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from chinhquyenso.dashboard import selectors
from chinhquyenso.feedback.models import AreaPoint
from chinhquyenso.org.models import Level

# (lower bound in %, colour, label): the class of a rate is the last whose bound it reaches.
CLASSES = [
    (Decimal(0), "#d73027", "dưới 70%"),
    (Decimal(70), "#fc8d59", "70% – dưới 85%"),
    (Decimal(85), "#91bfdb", "85% – dưới 95%"),
    (Decimal(95), "#4575b4", "từ 95% trở lên"),
]
TOO_FEW = "chưa đủ số hồ sơ"
EDGE = "#1b1b1b"
WIDTH = 480
CODE = "on_time_rate"


@dataclass
class Commune:
    code: str
    name: str
    latitude: float | None
    longitude: float | None
    rate: object  # IndicatorValue | None
    volume: int  # dossiers finished in the period

    @property
    def ranked(self) -> bool:
        return self.rate is not None and self.rate.value is not None and self.volume >= selectors.min_volume()

    @property
    def klass(self) -> tuple[str, str] | None:
        """(colour, label) of the rate's class; None below the minimum volume."""
        if not self.ranked:
            return None
        colour, label = CLASSES[0][1], CLASSES[0][2]
        for bound, c, text in CLASSES:
            if self.rate.rounded >= bound:
                colour, label = c, text
        return colour, label

    @property
    def display(self) -> str:
        return self.rate.display if self.rate is not None and self.rate.value is not None else "—"


@dataclass
class Choropleth:
    svg: SafeString | None  # None: no commune has a reference point
    communes: list[Commune]
    legend: list[tuple[SafeString, str, int]]  # (swatch, label, communes in the class)
    too_few: int
    minimum: int
    outlines: bool  # drawn from CQS["COMMUNE_OUTLINES"]

    @property
    def too_few_swatch(self) -> SafeString:
        return swatch(None)


@lru_cache(maxsize=4)
def _read_outlines(path: str, mtime: float) -> dict[str, list]:
    """{agency code: [rings of (lon, lat)]} from a GeoJSON FeatureCollection."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    out: dict[str, list] = {}
    for feature in data.get("features", []):
        props = feature.get("properties") or {}
        code = props.get("code") or props.get("agency_code")
        geometry = feature.get("geometry") or {}
        if not code or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        out.setdefault(str(code), []).extend(ring for polygon in polygons for ring in polygon)
    return out


def outlines() -> dict[str, list]:
    path = selectors.setting("COMMUNE_OUTLINES", "")
    if not path or not os.path.isfile(path):
        return {}
    return _read_outlines(path, os.path.getmtime(path))


def communes(ctx: selectors.Context) -> list[Commune]:
    """The communes of the view with their reference points, rate and volume."""
    c = ctx.computation
    ids = ctx.units_in_view if ctx.allowed is None else ctx.units_in_view & ctx.allowed
    units = [c.units[i] for i in ids if c.units[i].level == Level.COMMUNE]
    versions = {v: u.id for u in units for v in u.versions}
    points: dict[int, tuple[float, float]] = {}
    for agency_id, lat, lon in (
        AreaPoint.objects.filter(agency_id__in=versions)
        .values_list("agency_id", "latitude", "longitude")
        .order_by("-agency_id")
    ):
        points[versions[agency_id]] = (float(lat), float(lon))  # the newest version's point last, so kept
    out = []
    for unit in units:
        rate = c.get(CODE, unit.id)
        volume = int(rate.denominator) if rate is not None and rate.denominator is not None else 0
        lat, lon = points.get(unit.id, (None, None))
        out.append(Commune(unit.code, unit.name, lat, lon, rate, volume))
    return sorted(out, key=lambda m: m.name)


def choropleth(ctx: selectors.Context, chart_id: str = "ban-do-dung-han") -> Choropleth:
    found = communes(ctx)
    shapes = outlines()
    minimum = selectors.min_volume()
    legend = [
        (swatch(colour), label, sum(1 for m in found if m.klass and m.klass[0] == colour))
        for _, colour, label in CLASSES
    ]
    too_few = sum(1 for m in found if not m.ranked)
    placed = [m for m in found if m.latitude is not None]
    drawn_outlines = any(m.code in shapes for m in found)
    if not placed and not drawn_outlines:
        return Choropleth(None, found, legend, too_few, minimum, False)
    return Choropleth(_svg(chart_id, ctx, found, placed, shapes), found, legend, too_few, minimum, drawn_outlines)


def _svg(chart_id: str, ctx, found: list[Commune], placed: list[Commune], shapes: dict[str, list]) -> SafeString:
    lats = [m.latitude for m in placed]
    lons = [m.longitude for m in placed]
    for m in found:
        for ring in shapes.get(m.code, ()):
            lons += [p[0] for p in ring]
            lats += [p[1] for p in ring]
    margin = 0.03
    south, north, west, east = min(lats) - margin, max(lats) + margin, min(lons) - margin, max(lons) + margin
    pad = 8
    per_degree = (WIDTH - 2 * pad) / max(east - west, 0.01)
    scale_y = per_degree / math.cos(math.radians((north + south) / 2))
    height = (north - south) * scale_y + 2 * pad

    def place(lat: float, lon: float) -> tuple[float, float]:
        return pad + (lon - west) * per_degree, pad + (north - lat) * scale_y

    title = f"Tỷ lệ giải quyết đúng hạn theo xã, {ctx.period.label}"
    ranked = [m for m in found if m.ranked]
    description = (
        f"Bản đồ {len(found)} xã, phường: màu theo tỷ lệ giải quyết đúng hạn, vòng tròn lớn khi nhiều hồ sơ; "
        f"{len(ranked)} xã có đủ số hồ sơ để tô màu. Số liệu từng xã ở bảng sau bản đồ."
    )
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'focusable="false" class="choropleth">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>',
        f'<rect class="map-bg" x="0" y="0" width="{WIDTH}" height="{height:.0f}" fill="#f7f7f7"/>',
    ]
    for m in found:
        rings = shapes.get(m.code)
        if not rings:
            continue
        colour = m.klass[0] if m.klass else "none"
        d = " ".join(
            "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in (place(p[1], p[0]) for p in ring)) + "Z" for ring in rings
        )
        parts.append(
            f'<path class="outline" d="{d}" fill="{colour}" fill-opacity=".55" stroke="#6b6b6b" stroke-width=".8">'
            f"<title>{escape(m.name)}: {escape(m.display)}</title></path>"
        )
    biggest = max((m.volume for m in placed), default=0) or 1
    # Large circles first, so that small ones stay on top and visible.
    for m in sorted(placed, key=lambda m: -m.volume):
        x, y = place(m.latitude, m.longitude)
        r = 3 + 9 * math.sqrt(m.volume / biggest)
        klass = m.klass
        tip = (
            f"{m.name}: {m.display}" + (f" ({m.volume} hồ sơ)" if m.volume else "") + ("" if klass else f", {TOO_FEW}")
        )
        fill = f'fill="{klass[0]}"' if klass else 'fill="none" stroke-dasharray="2 2"'
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {fill} stroke="{EDGE}" stroke-width="1">'
            f"<title>{escape(tip)}</title></circle>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def swatch(colour: str | None) -> SafeString:
    fill = f'fill="{colour}"' if colour else 'fill="none" stroke-dasharray="2 2"'
    return mark_safe(
        f'<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">'
        f'<circle cx="8" cy="8" r="6" {fill} stroke="{EDGE}"/></svg>'
    )

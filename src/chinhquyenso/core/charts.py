"""Tiny server-side SVG charts: bars (stacked or not) and lines, with axes
labelled the Vietnamese way. No script and no chart library: the page stays
light and works without JavaScript.

Each chart is an inline <svg role="img"> named by its <title> and <desc>;
every bar and point carries a <title> for mouse users; the template adds a
visually hidden table of the same numbers for screen readers. Series differ by
more than colour: lines by dash and marker shape, stacked bars by position
and a white gap, all named in the legend."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from chinhquyenso.core.text import format_number

WIDTH, HEIGHT = 360, 220  # about a phone's width: text stays readable at 360 px
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 10, 34
TEXT = "#1b1b1b"
GRID = "#d9d9d9"
AXIS = "#6b6b6b"


@dataclass
class Category:
    label: str  # under the axis: "T1"
    sub: str = ""  # second line: "2025" (first month and every January)
    full: str = ""  # in titles and the table: "tháng 01/2025"


@dataclass
class Series:
    name: str
    values: list[float | Decimal | None]
    color: str
    dashed: bool = False
    marker: str = "circle"  # lines: circle or square
    displays: list[str] | None = None  # how the table and titles write each value


@dataclass
class Chart:
    id: str
    title: str
    description: str
    svg: SafeString
    categories: list[Category]
    series: list[Series]
    kind: str  # bars or lines
    legend: list[tuple[Series, SafeString]] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[str, list[str]]]:
        """(category, values as written) for the data table."""
        return [(c.full or c.label, [_shown(s, i) for s in self.series]) for i, c in enumerate(self.categories)]


def _number(value, decimals: int = 0) -> str:
    return format_number(float(value), decimals)


def _shown(series: Series, index: int) -> str:
    if series.displays is not None:
        return series.displays[index]
    value = series.values[index]
    return "—" if value is None else _number(value)


def nice_scale(maximum: float, intervals: int = 4) -> tuple[float, float]:
    """(top, step) with a round step (1, 2, 2.5 or 5 × 10ⁿ) and top ≥ maximum."""
    if maximum <= 0:
        return float(intervals), 1.0
    raw = maximum / intervals
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * power
        if step * intervals >= maximum:
            break
    if step < 1:
        step = 1.0  # counts: no fractional ticks
    return step * intervals, step


def _frame(
    chart_id: str, title: str, description: str, ticks: list[tuple[float, str]], top: float, categories: list[Category]
) -> list[str]:
    """The opening tag, title, desc, horizontal grid with y labels, x labels."""
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'focusable="false" font-size="11" font-family="system-ui, Arial, sans-serif">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>',
    ]
    for value, label in ticks:
        y = TOP + plot_h - value / top * plot_h
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT}">{escape(label)}</text>'
        )
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="{AXIS}"/>')
    slot = (WIDTH - LEFT - RIGHT) / max(len(categories), 1)
    for i, category in enumerate(categories):
        x = LEFT + slot * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" fill="{TEXT}">'
            f"{escape(category.label)}</text>"
        )
        if category.sub:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 27}" text-anchor="middle" fill="{TEXT}">'
                f"{escape(category.sub)}</text>"
            )
    return parts


def _swatch(series: Series, kind: str) -> SafeString:
    """The legend's sample: a block for bars, a line with its marker for lines."""
    if kind == "bars":
        body = f'<rect x="1" y="1" width="14" height="14" fill="{series.color}"/>'
    else:
        dash = ' stroke-dasharray="5 3"' if series.dashed else ""
        body = f'<line x1="0" x2="28" y1="8" y2="8" stroke="{series.color}" stroke-width="2"{dash}/>' + _marker(
            series, 14, 8
        )
    width = 16 if kind == "bars" else 28
    return mark_safe(
        f'<svg width="{width}" height="16" viewBox="0 0 {width} 16" aria-hidden="true" focusable="false">{body}</svg>'
    )


def _marker(series: Series, x: float, y: float, tip: str = "") -> str:
    title = f"<title>{escape(tip)}</title>" if tip else ""
    if series.marker == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{series.color}">{title}</rect>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{series.color}">{title}</circle>'


def bars(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: list[Category],
    series: list[Series],
    stacked: bool = True,
) -> Chart:
    """Bars per category: stacked (one bar, one segment per series) or side by side."""
    n = len(categories)
    totals = [
        sum(float(s.values[i] or 0) for s in series) if stacked else max(float(s.values[i] or 0) for s in series)
        for i in range(n)
    ]
    top, step = nice_scale(max(totals, default=0))
    ticks = [(step * k, _number(step * k)) for k in range(int(round(top / step)) + 1)]
    parts = _frame(chart_id, title, description, ticks, top, categories)
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(n, 1)
    width = slot * (0.64 if stacked else 0.8 / len(series))
    for i, category in enumerate(categories):
        base = TOP + plot_h
        for k, s in enumerate(series):
            value = float(s.values[i] or 0)
            if value <= 0:
                continue
            h = value / top * plot_h
            x = LEFT + slot * i + (slot - width) / 2 if stacked else LEFT + slot * (i + 0.1) + width * k
            y = base - h if stacked else TOP + plot_h - h
            tip = f"{category.full or category.label} — {s.name}: {_shown(s, i)}"
            # A white edge between stacked segments keeps them apart without relying on colour.
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{s.color}" '
                f'stroke="#fff" stroke-width="1"><title>{escape(tip)}</title></rect>'
            )
            if stacked:
                base -= h
    parts.append("</svg>")
    return Chart(
        chart_id,
        title,
        description,
        mark_safe("".join(parts)),
        categories,
        series,
        "bars",
        [(s, _swatch(s, "bars")) for s in series],
    )


def lines(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: list[Category],
    series: list[Series],
    top: float = 100,
    suffix: str = "%",
) -> Chart:
    """Lines over categories on a fixed scale (0–100% by default); a missing
    value breaks the line."""
    step = top / 4
    ticks = [(step * k, f"{_number(step * k)}{suffix}") for k in range(5)]
    parts = _frame(chart_id, title, description, ticks, top, categories)
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(categories), 1)
    for s in series:
        path, pen_down, markers = [], False, []
        for i, value in enumerate(s.values):
            if value is None:
                pen_down = False
                continue
            x = LEFT + slot * (i + 0.5)
            y = TOP + plot_h - min(float(value), top) / top * plot_h
            path.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
            pen_down = True
            markers.append(_marker(s, x, y, f"{categories[i].full or categories[i].label} — {s.name}: {_shown(s, i)}"))
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        if path:
            parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{s.color}" stroke-width="2"{dash}/>')
        parts.extend(markers)
    parts.append("</svg>")
    return Chart(
        chart_id,
        title,
        description,
        mark_safe("".join(parts)),
        categories,
        series,
        "lines",
        [(s, _swatch(s, "lines")) for s in series],
    )


# ---------------------------------------------------------------- map


@dataclass
class Point:
    latitude: float | Decimal
    longitude: float | Decimal
    href: str
    tip: str  # the link's name and the mouse tooltip
    color: str
    shape: str = "circle"  # circle, square or diamond: groups differ by more than colour


def _shape(shape: str, x: float, y: float, color: str, size: float = 4.5, inner: str = "") -> str:
    """One map point: a circle, a square or a diamond with a white edge."""
    if shape == "square":
        tag, geometry = "rect", f'x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size:.1f}" height="{2 * size:.1f}"'
    elif shape == "diamond":
        d = size * 1.3
        tag, geometry = "path", f'd="M{x:.1f} {y - d:.1f}L{x + d:.1f} {y:.1f}L{x:.1f} {y + d:.1f}L{x - d:.1f} {y:.1f}Z"'
    else:
        tag, geometry = "circle", f'cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}"'
    return f'<{tag} {geometry} fill="{color}" stroke="#fff">{inner}</{tag}>'


def point_swatch(color: str, shape: str) -> SafeString:
    """A legend's sample of a map point."""
    return mark_safe(
        f'<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">'
        f"{_shape(shape, 8, 8, color, 5.5)}</svg>"
    )


def _degrees(value: float, positive: str) -> str:
    return f"{_number(value, 1)}°{positive}"


def map_points(
    *,
    chart_id: str,
    title: str,
    description: str,
    points: list[Point],
    bounds: tuple[float, float, float, float],
    backdrop: list[tuple[float, float]] = (),
) -> SafeString:
    """Points placed by latitude and longitude inside bounds (south, north,
    west, east), on a 0.1° graticule at equal scale (east–west distances
    shrink by cos(latitude)); each point links to its page. No map tiles: the
    page needs nothing from outside. `backdrop`: faint reference points (the
    communes) that give the province its shape."""
    south, north, west, east = bounds
    left, right, top, bottom = 44, 8, 8, 22
    plot_w = WIDTH - left - right
    per_degree = plot_w / (east - west)
    plot_h = (north - south) * per_degree / math.cos(math.radians((north + south) / 2))
    height = top + plot_h + bottom

    def place(lat, lon) -> tuple[float, float]:
        return left + (float(lon) - west) * per_degree, top + (north - float(lat)) / (north - south) * plot_h

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {height:.0f}" role="group" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'font-size="11" font-family="system-ui, Arial, sans-serif">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>',
        f'<rect x="{left}" y="{top}" width="{plot_w:.1f}" height="{plot_h:.1f}" fill="#fff" stroke="{AXIS}"/>',
    ]
    tenths = range(round(west * 10) + 1, round(east * 10))
    for k in tenths:
        x, _ = place(south, k / 10)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h:.1f}" stroke="{GRID}"/>')
        if k % 2 == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 15:.1f}" text-anchor="middle" fill="{TEXT}">'
                f"{_degrees(k / 10, 'Đ')}</text>"
            )
    for k in range(round(south * 10) + 1, round(north * 10)):
        _, y = place(k / 10, west)
        parts.append(f'<line x1="{left}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        if k % 2 == 0:
            parts.append(
                f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT}">{_degrees(k / 10, "B")}</text>'
            )
    for lat, lon in backdrop:
        if south <= float(lat) <= north and west <= float(lon) <= east:
            x, y = place(lat, lon)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.5" fill="{GRID}"/>')
    for p in points:
        if not (south <= float(p.latitude) <= north and west <= float(p.longitude) <= east):
            continue
        x, y = place(p.latitude, p.longitude)
        tip = escape(p.tip)
        parts.append(
            f'<a href="{escape(p.href)}" aria-label="{tip}">'
            f"{_shape(p.shape, x, y, p.color, inner=f'<title>{tip}</title>')}</a>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))

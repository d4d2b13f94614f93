"""The review page's two charts, server-side SVG like core.charts (no script, no chart library):

- `histogram(model)`: how many compared pairs fell in each band of match weight, the bars in three
  groups (not the same person / to review / same person) told apart by pattern and the legend as
  well as by colour, with the model's two thresholds drawn as labelled vertical lines;
- `waterfall(pair)`: what each comparison added to or took from the prior weight (Splink's waterfall),
  horizontal bars from a zero line, the running total written at each bar's end.

Both return a core.charts.Chart, so the page adds the same hidden data table for screen readers."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import mark_safe

from chinhquyenso.core import charts
from chinhquyenso.core.text import format_number

BELOW = "#8a8a8a"
REVIEW = "#b35900"
LINKED = "#1d5fa8"
UP = "#1d5fa8"
DOWN = "#b3001b"


def _weight(value: float) -> str:
    sign = "+" if value > 0 else ("−" if value < 0 else "")
    return f"{sign}{format_number(abs(float(value)), 2)}"


def histogram(model) -> charts.Chart | None:
    """The model's match-weight histogram (LinkModel.training["histogram"]: [{"from","to","count"}]),
    or None when the model kept none."""
    bins = [b for b in (model.training or {}).get("histogram", []) if b.get("from") is not None]
    if not bins:
        return None
    review, link = float(model.review_weight), float(model.link_weight)
    every = -(-len(bins) // 6)
    categories = [
        charts.Category(
            format_number(float(b["from"]), 0) if i % every == 0 else "",
            full=f"từ {_weight(b['from'])} đến {_weight(b['to'])}",
        )
        for i, b in enumerate(bins)
    ]
    groups = []
    for name, color, test in (
        ("Không phải cùng người", BELOW, lambda b: float(b["to"]) <= review),
        ("Cần đối soát", REVIEW, lambda b: float(b["to"]) > review and float(b["from"]) < link),
        ("Cùng một người", LINKED, lambda b: float(b["from"]) >= link),
    ):
        values = [int(b["count"]) if test(b) else 0 for b in bins]
        groups.append(charts.Series(name, values, color, displays=[format_number(v, 0) for v in values]))
    total = sum(int(b["count"]) for b in bins)
    chart = charts.bars(
        chart_id="bieu-do-trong-so",
        title=f"Phân bố trọng số khớp của mô hình v{model.version}",
        description=(
            f"{format_number(total, 0)} cặp bản ghi được so theo trọng số khớp. Ngưỡng cần đối soát "
            f"{_weight(review)}, ngưỡng cùng một người {_weight(link)}. Số cặp của từng khoảng ở bảng sau biểu đồ."
        ),
        categories=categories,
        series=groups,
        stacked=True,
    )
    # The thresholds as vertical lines with their names, placed between the bins they separate.
    lo, hi = float(bins[0]["from"]), float(bins[-1]["to"])
    plot_w = charts.WIDTH - charts.LEFT - charts.RIGHT
    lines = []
    for value, label, dash in ((review, "đối soát", "4 3"), (link, "cùng người", "")):
        if not lo <= value <= hi or hi == lo:
            continue
        x = charts.LEFT + (value - lo) / (hi - lo) * plot_w
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        lines.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{charts.TOP}" y2="{charts.HEIGHT - charts.BOTTOM}" '
            f'stroke="{charts.TEXT}" stroke-width="1.5"{dashed}><title>{escape(f"Ngưỡng {label}: {_weight(value)}")}'
            f"</title></line>"
            f'<text x="{x + 2:.1f}" y="{charts.TOP + 10}" fill="{charts.TEXT}">{escape(label)}</text>'
        )
    chart.svg = mark_safe(str(chart.svg).replace("</svg>", "".join(lines) + "</svg>"))
    chart.head = "Trọng số khớp"
    return chart


def waterfall(pair) -> charts.Chart:
    """The pair's waterfall: the prior weight, then each comparison's weight, then the total."""
    bars = [("Trọng số ban đầu", "", float(pair.prior_weight or 0))]
    for item in pair.comparisons or []:
        bars.append((item.get("label") or item.get("column", ""), str(item.get("level", "")), float(item["weight"])))
    steps, running = [], 0.0
    for label, level, weight in bars:
        steps.append((label, level, weight, running, running + weight))
        running += weight
    total = running
    lo = min([0.0] + [min(a, b) for *_, a, b in steps])
    hi = max([0.0] + [max(a, b) for *_, a, b in steps])
    span = (hi - lo) or 1.0
    row_h, label_w, right_w, top = 22, 118, 52, 6
    width = charts.WIDTH
    plot_w = width - label_w - right_w
    height = top + row_h * (len(steps) + 1) + 22

    def x_of(value: float) -> float:
        return label_w + (value - lo) / span * plot_w

    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="thac-t thac-d" focusable="false" '
        f'font-size="11" font-family="system-ui, Arial, sans-serif">',
        '<title id="thac-t">Đóng góp của từng trường vào trọng số khớp</title>',
        f'<desc id="thac-d">Trọng số ban đầu {_weight(pair.prior_weight or 0)}, cộng đóng góp của từng trường, '
        f"tổng {_weight(total)}. Cột sang phải làm tăng, cột sang trái (vằn chéo) làm giảm khả năng cùng một người. "
        f"Số liệu ở bảng sau biểu đồ.</desc>",
        '<defs><pattern id="thac-giam" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{DOWN}"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>',
    ]
    zero = x_of(0)
    parts.append(
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{top + row_h * (len(steps) + 1)}" stroke="{charts.AXIS}"/>'
    )
    for i, (label, level, weight, start, end) in enumerate(steps + [("Tổng", "", total, 0.0, total)]):
        y = top + row_h * i
        a, b = sorted((x_of(start), x_of(end)))
        fill = UP if weight >= 0 else "url(#thac-giam)"
        if i == len(steps):
            fill = charts.TEXT
        tip = f"{label}{f' ({level})' if level else ''}: {_weight(weight)}"
        parts.append(
            f'<text x="{label_w - 4}" y="{y + 15}" text-anchor="end" fill="{charts.TEXT}">{escape(label[:22])}</text>'
            f'<rect x="{a:.1f}" y="{y + 4}" width="{max(b - a, 1.5):.1f}" height="{row_h - 8}" fill="{fill}">'
            f"<title>{escape(tip)}</title></rect>"
            f'<text x="{width - 4}" y="{y + 15}" text-anchor="end" fill="{charts.TEXT}">{escape(_weight(weight))}</text>'
        )
    parts.append(
        f'<text x="{zero:.1f}" y="{height - 6}" text-anchor="middle" fill="{charts.TEXT}">0</text>'
        f'<text x="{label_w}" y="{height - 6}" fill="{charts.TEXT}">{escape(_weight(lo))}</text>'
        f'<text x="{width - right_w}" y="{height - 6}" text-anchor="end" fill="{charts.TEXT}">{escape(_weight(hi))}</text>'
    )
    parts.append("</svg>")
    categories = [charts.Category(label, full=f"{label}{f' — {level}' if level else ''}") for label, level, *_ in steps]
    categories.append(charts.Category("Tổng", full="Tổng trọng số khớp"))
    values = [w for _, _, w, _, _ in steps] + [total]
    series = [charts.Series("Trọng số", values, UP, displays=[_weight(v) for v in values])]
    chart = charts.Chart(
        "thac",
        "Đóng góp của từng trường vào trọng số khớp",
        f"Tổng {_weight(total)}",
        mark_safe("".join(parts)),
        categories,
        series,
        "waterfall",
    )
    chart.head = "Trường (mức so khớp)"
    return chart

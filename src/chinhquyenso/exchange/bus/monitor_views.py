"""The data bus's monitoring page for the province administrator (/can-bo/truc-lien-thong/giam-sat/):
one row per service with its calls, errors, latency, queue, dead letters and circuit, over the last
hour or 24 hours (exchange.bus.selectors). Figures only: no body, no personal data."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.accounts.selectors import is_province_admin
from chinhquyenso.exchange.bus import selectors

FORBIDDEN = "Trang giám sát trục liên thông chỉ dành cho quản trị tỉnh và cán bộ kiểm tra, giám sát cấp tỉnh."
DEAD_LETTERS_URL = "/quan-tri/exchange/message/?channel__exact=bus&state__exact=dead"


@officer_required(allowed=selectors.may_view, reason=FORBIDDEN)
@require_GET
def monitor(request):
    window = selectors.parse_window(request.GET.get("khoang"))
    now = timezone.now()
    rows = selectors.service_stats(window, now=now)
    for row in rows:
        row.dead_letters_url = f"{DEAD_LETTERS_URL}&recipient__exact={row.service}" if row.known else DEAD_LETTERS_URL
    totals = {
        "calls": sum(r.calls for r in rows),
        "errors": sum(r.errors for r in rows),
        "queue_depth": sum(r.queue_depth for r in rows),
        "dead_letters": sum(r.dead_letters for r in rows),
        "open": sum(1 for r in rows if r.circuit_open),
    }
    return render(
        request,
        "exchange/bus/monitor.html",
        {
            "rows": rows,
            "totals": totals,
            "window": window,
            "windows": [(key, label) for key, (label, _) in selectors.WINDOWS.items()],
            "window_label": selectors.WINDOWS[window][0],
            "now": now,
            "dead_letters_url": DEAD_LETTERS_URL,
            "is_admin": is_province_admin(request.user),
        },
    )

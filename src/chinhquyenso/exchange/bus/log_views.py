"""The message log's pages for the province administrator and auditors (exchange.bus.log):
a list with filters — posted, never in the URL (core.privacy.private_search) — and an entry page
showing both bodies, each showing an audit record (`bus.log_read`)."""

from __future__ import annotations

import json

from django.shortcuts import render
from django.urls import path

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.core import params, privacy
from chinhquyenso.core.errors import DomainError
from chinhquyenso.exchange.bus import log as message_log
from chinhquyenso.exchange.models import BusLogEntry

PAGE_SIZE = 50
# dịch vụ, hệ thống gọi, hồ sơ liên quan, kết quả, từ ngày, đến ngày
SEARCH_FIELDS = ("dich_vu", "he_thong", "ho_so", "ket_qua", "tu_ngay", "den_ngay")


def _terms(terms) -> tuple[dict, dict]:
    """The filters from the kept search terms, and what is wrong with them (field → message)."""
    filters, errors = {}, {}
    for field, name in (("dich_vu", "service"), ("he_thong", "client"), ("ho_so", "correlation")):
        filters[name] = terms.get(field, "").strip()[:300]
    outcome = terms.get("ket_qua", "")
    filters["outcome"] = outcome if outcome in BusLogEntry.Outcome.values else ""
    for field, name in (("tu_ngay", "start"), ("den_ngay", "end")):
        try:
            filters[name] = params.date(terms.get(field, ""), field)
        except DomainError as error:
            filters[name], errors[field] = None, error.message
    if filters["start"] and filters["end"] and filters["end"] < filters["start"]:
        errors["den_ngay"] = "“Đến ngày” phải từ “Từ ngày” trở đi."
    return filters, errors


@officer_required(allowed=message_log.may_read, reason=message_log.READERS_ONLY)
def log_list(request):
    terms, redirect_to = privacy.private_search(request, SEARCH_FIELDS)
    if redirect_to is not None:
        return redirect_to
    filters, errors = _terms(terms)
    offset = params.offset(request.GET.get("tu"), "tu")
    rows = [] if errors else message_log.search(request.user, **filters, limit=PAGE_SIZE + 1, offset=offset)
    return render(
        request,
        "exchange/bus/log_list.html",
        {
            "entries": rows[:PAGE_SIZE],
            "filters": filters,
            "terms": terms,
            "errors": errors,
            "searched": any(terms.get(field) for field in SEARCH_FIELDS),
            "outcomes": BusLogEntry.Outcome.choices,
            "query": privacy.search_query(request),
            "offset": offset,
            "next_offset": offset + PAGE_SIZE if len(rows) > PAGE_SIZE else None,
            "prev_offset": max(0, offset - PAGE_SIZE) if offset else None,
        },
    )


def _pretty(body: str) -> str:
    try:
        return json.dumps(json.loads(body), ensure_ascii=False, indent=2)
    except ValueError:
        return body


@officer_required(allowed=message_log.may_read, reason=message_log.READERS_ONLY)
def log_entry(request, seq: int):
    entry = message_log.read_entry(request.user, seq)
    return render(
        request,
        "exchange/bus/log_entry.html",
        {"entry": entry, "request_body": _pretty(entry.request_body), "response_body": _pretty(entry.response_body)},
    )


urls = (
    [
        path("", log_list, name="list"),
        path("<int:seq>/", log_entry, name="entry"),
    ],
    "bus_log",
)

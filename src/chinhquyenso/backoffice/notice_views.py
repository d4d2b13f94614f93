"""The officer's notices on /can-bo/thong-bao/ (backoffice.views.messages_page renders them with
the undelivered messages): due-soon and overdue notices first, in tabs with their unread counts,
the dossiers overdue right now in the officer's agencies, and opening a notice marks it read.

The notices are shown as soon as the deadline sweep (dossiers.tasks.sweep_deadlines) commits them,
without waiting for the outbox worker (exchange.notices)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect

from chinhquyenso.accounts.decorators import is_officer, officer_required
from chinhquyenso.accounts.selectors import is_ioc_operator
from chinhquyenso.core import params
from chinhquyenso.dossiers import selectors as dossiers
from chinhquyenso.exchange import notices

PAGE_SIZE = 30
TABS = {"": "Tất cả", **{key: label for key, (label, _) in notices.OFFICER_GROUPS.items()}, notices.OTHER: "Khác"}


def notice_context(request) -> dict:
    """What the notices part of the page needs: the tab, its page of notices, the counts."""
    user = request.user
    group = request.GET.get("nhom", "")
    if group not in TABS:
        group = ""
    unread_only = request.GET.get("chua_doc") == "1"
    offset = params.offset(request.GET.get("tu"), "tu")
    rows, more = notices.page(user, group=group, unread_only=unread_only, limit=PAGE_SIZE, offset=offset)
    counts = notices.group_counts(user)
    tabs = []
    for key, label in TABS.items():
        if key:
            count = counts.get(key, {"all": 0, "unread": 0})
        else:
            count = {what: sum(c[what] for c in counts.values()) for what in ("all", "unread")}
        tabs.append({"key": key, "label": label, **count})
    return {
        "group": group,
        "tabs": tabs,
        "notices": rows,
        "unread_only": unread_only,
        "offset": offset,
        "next_offset": offset + PAGE_SIZE if more else None,
        "prev_offset": max(0, offset - PAGE_SIZE) if offset else None,
        "overdue_now": dossiers.inbox_counts(user).get("qua-han", 0) if is_officer(user) else 0,
    }


def _has_messages(user) -> bool:
    return is_officer(user) or is_ioc_operator(user)


@officer_required(allowed=_has_messages)
def notice_open(request, pk):
    """Open a notice: it is marked read and the dossier or report it is about is shown."""
    notice = notices.notice_of(request.user, pk)
    if notice is None:
        raise Http404("Không tìm thấy thông báo.")
    notices.mark_read(request.user, [notice.pk])
    return redirect(notices.target(notice.link) or "backoffice:messages")

"""The citizen's notifications: the list of in-app notices (/ca-nhan/thong-bao/) and the
preferences page (/ca-nhan/thong-bao/cai-dat/) where consent to SMS and e-mail is given and
withdrawn (exchange.consent). Both work without JavaScript."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError
from chinhquyenso.exchange import consent, notices
from chinhquyenso.portal.views import citizen_required

PAGE_SIZE = 20
NOUNS = {consent.Channel.SMS: "tin nhắn SMS", consent.Channel.EMAIL: "thư điện tử"}


def notice_list_context(request, **filters) -> dict:
    unread_only = request.GET.get("chua_doc") == "1"
    offset = params.offset(request.GET.get("tu"), "tu")
    rows, more = notices.page(request.user, unread_only=unread_only, limit=PAGE_SIZE, offset=offset, **filters)
    return {
        "notices": rows,
        "unread_only": unread_only,
        "offset": offset,
        "next_offset": offset + PAGE_SIZE if more else None,
        "prev_offset": max(0, offset - PAGE_SIZE) if offset else None,
    }


@citizen_required
def notice_list(request):
    context = notice_list_context(request)
    context["unread"] = notices.unread_count(request.user)
    return render(request, "portal/notices.html", context)


@citizen_required
@require_POST
def notices_read(request):
    done = notices.mark_read(request.user)
    messages.success(request, f"Đã đánh dấu {done} thông báo là đã đọc." if done else "Không còn thông báo chưa đọc.")
    return redirect("portal:notices")


@citizen_required
def notice_open(request, pk):
    """Open a notice: it is marked read and the page it is about is shown."""
    notice = notices.notice_of(request.user, pk)
    if notice is None:
        raise Http404("Không tìm thấy thông báo.")
    notices.mark_read(request.user, [notice.pk])
    return redirect(notices.target(notice.link) or "portal:notices")


def _channels(user, typed: dict, errors: dict) -> list[dict]:
    rows = consent.consents(user)
    defaults = {consent.Channel.SMS: user.phone, consent.Channel.EMAIL: user.email}
    channels = []
    for channel in consent.OFFERED:
        row = rows.get(channel)
        address = typed.get(channel) or (row.address if row else "") or defaults.get(channel, "")
        channels.append(
            {
                "code": channel,
                "label": consent.Channel(channel).label,
                "noun": NOUNS[channel],
                "consent": row,
                "active": bool(row and row.active),
                "address": address,
                "wording": consent.wording(channel, address),
                "error": errors.get(channel, ""),
                "input": "tel" if channel == consent.Channel.SMS else "email",
            }
        )
    return channels


@citizen_required
def preferences(request):
    typed, errors = {}, {}
    if request.method == "POST":
        channel = request.POST.get("channel", "")
        action = request.POST.get("action", "")
        if channel not in consent.OFFERED or action not in ("give", "withdraw"):
            raise DomainError("Yêu cầu không hợp lệ.", "channel")
        label = NOUNS[channel]
        try:
            if action == "give":
                typed[channel] = request.POST.get("address", "")[:255]
                if request.POST.get("agree") != "1":
                    raise DomainError("Hãy đánh dấu ô đồng ý để nhận thông báo qua kênh này.", "agree")
                consent.give(request.user, channel=channel, address=typed[channel])
                messages.success(request, f"Đã ghi nhận đồng ý nhận thông báo qua {label}.")
            else:
                consent.withdraw(request.user, channel=channel)
                messages.success(request, f"Đã rút lại đồng ý: từ nay không gửi thông báo qua {label}.")
            return redirect("portal:notice_preferences")
        except DomainError as error:
            errors[channel] = error.message
    return render(
        request,
        "portal/notice_preferences.html",
        {"channels": _channels(request.user, typed, errors)},
        status=400 if errors else 200,
    )

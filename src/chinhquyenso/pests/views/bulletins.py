"""Weekly bulletins for officers (/can-bo/sau-benh/thong-bao/): the list, the issue form, a bulletin's
figures and its DOCX/PDF files, and the form where an officer registers a farmer for warnings; and
the farmers' pages (/sau-benh/): subscribe to a commune's warnings, confirm with the code received,
unsubscribe from the link in every warning (the GET asks, only the POST ends it). Thin: reads through
selectors.bulletins, writes through services.bulletins and services.subscriptions."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.http import client_ip
from chinhquyenso.core.official.document import Bullet, Heading, Paragraph, Table
from chinhquyenso.org.models import Agency
from chinhquyenso.pests import access
from chinhquyenso.pests.models import Bulletin, Subscription
from chinhquyenso.pests.selectors import bulletins as selectors
from chinhquyenso.pests.selectors.densities import communes_for
from chinhquyenso.pests.services import bulletins as services
from chinhquyenso.pests.services import subscriptions

SESSION_PENDING = "pests_pending_subscription"
LIST_SIZE = 100

readers = officer_required(
    allowed=selectors.sees_bulletins,
    reason="Trang này dành cho cán bộ bảo vệ thực vật và cán bộ xã theo dõi sinh vật gây hại.",
)


def _errors(error: DomainError) -> dict:
    return {error.field or "form": error.message}


def _default_week() -> dt.date:
    """The Monday of the last finished week."""
    return services.week_of(timezone.localdate() - dt.timedelta(days=7))[0]


# ---------------------------------------------------------------- officers


@readers
def index(request):
    can_issue = access.can_issue_bulletin(request.user)
    errors, values = {}, {"area": "", "week": _default_week().isoformat(), "symbol": "", "position": "", "signer": ""}
    status = 200
    if request.method == "POST":
        if not can_issue:
            raise PermissionDenied("Tài khoản chưa được giao lập thông báo tình hình sinh vật gây hại.")
        values = {key: request.POST.get(key, "")[:200].strip() for key in values}
        try:
            week = params.date(values["week"], "week")
            if week is None:
                raise DomainError("Hãy chọn tuần (ngày thứ Hai của tuần).", "week")
            area = Agency.objects.filter(code=values["area"][:60]).first() if values["area"] else None
            existed = (
                area is not None and Bulletin.objects.filter(area=area, week_start=services.week_of(week)[0]).exists()
            )
            bulletin = services.issue(
                area=area,
                week_start=week,
                actor=request.user,
                replace=request.POST.get("replace") == "1",
                symbol=values["symbol"],
                signer_position=values["position"],
                signer_name=values["signer"],
            )
        except DomainError as error:
            errors, status = _errors(error), error.status_code
        else:
            if existed and request.POST.get("replace") != "1":
                messages.info(request, f"Tuần này đã có thông báo số {bulletin.number}; đây là thông báo đó.")
            else:
                messages.success(request, f"Đã lập thông báo số {bulletin.number}.")
            return redirect("pests:bulletin", pk=bulletin.pk)
    return render(
        request,
        "pests/bulletins/list.html",
        {
            "bulletins": selectors.bulletin_list(request.user)[:LIST_SIZE],
            "can_issue": can_issue,
            "areas": selectors.issuable_areas(request.user, timezone.localdate()) if can_issue else [],
            "values": values,
            "errors": errors,
        },
        status=status,
    )


def _preview(document) -> list[dict]:
    """The document's body as simple parts for the page (the files print the same)."""
    parts = []
    for block in document.body:
        if isinstance(block, Heading):
            parts.append({"kind": "heading", "level": block.level, "text": block.text})
        elif isinstance(block, Paragraph | Bullet):
            parts.append({"kind": "paragraph", "text": block.line if isinstance(block, Bullet) else block.text})
        elif isinstance(block, Table):
            parts.append({"kind": "table", "table": block})
    return parts


@readers
def detail(request, pk):
    bulletin = selectors.get_bulletin(request.user, pk)
    document = services.document(services.number_of(bulletin), bulletin.content, _issued_on(bulletin))
    return render(
        request,
        "pests/bulletins/detail.html",
        {
            "bulletin": bulletin,
            "document": document,
            "parts": _preview(document),
            "can_issue": access.can_issue_bulletin(request.user),
        },
    )


def _issued_on(bulletin) -> dt.date:
    return dt.date.fromisoformat(bulletin.content.get("issued_on") or timezone.localdate().isoformat())


@readers
def download(request, pk, fmt):
    bulletin = selectors.get_bulletin(request.user, pk)
    stored = selectors.file_of(request.user, bulletin, fmt)
    with stored.file.open("rb") as handle:
        data = handle.read()
    response = HttpResponse(data, content_type=services.CONTENT_TYPES[fmt])
    name = f"thong-bao-{bulletin.number.replace('/', '-')}-{bulletin.week_start:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'{"inline" if fmt == "pdf" else "attachment"}; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@readers
def register(request):
    """An officer registers someone who agreed to receive a commune's warnings (no code needed)."""
    access.require_survey(request.user)
    values = {key: request.POST.get(key, "")[:200].strip() for key in ("commune", "channel", "address", "name")}
    errors, status = {}, 200
    if request.method == "POST":
        try:
            if request.POST.get("consent") != "1":
                raise DomainError("Chỉ đăng ký khi người nhận đã đồng ý nhận cảnh báo.", "consent")
            subscriptions.register(
                actor=request.user,
                commune=values["commune"],
                channel=values["channel"],
                address=values["address"],
                name=values["name"],
            )
        except DomainError as error:
            errors, status = _errors(error), error.status_code
        else:
            messages.success(request, "Đã đăng ký nhận cảnh báo.")
            return redirect("pests:subscription_register")
    return render(
        request,
        "pests/bulletins/register.html",
        {
            "groups": communes_for(request.user),
            "channels": Subscription.Channel.choices,
            "values": values,
            "errors": errors,
        },
        status=status,
    )


# ---------------------------------------------------------------- farmers


@require_http_methods(["GET", "POST"])
def subscribe(request):
    values = {key: request.POST.get(key, "")[:200].strip() for key in ("commune", "channel", "address", "name")}
    values["channel"] = values["channel"] or Subscription.Channel.SMS
    errors, status = {}, 200
    if request.method == "POST":
        try:
            pending = subscriptions.request_subscription(
                commune=values["commune"],
                channel=values["channel"],
                address=values["address"],
                name=values["name"],
                user=request.user if request.user.is_authenticated else None,
                client=client_ip(request),
            )
        except DomainError as error:
            errors, status = _errors(error), error.status_code
        else:
            request.session[SESSION_PENDING] = pending.pk
            return redirect("pests_public:subscribe_confirm")
    return render(
        request,
        "pests/bulletins/subscribe.html",
        {
            "communes": subscriptions.communes(),
            "channels": Subscription.Channel.choices,
            "values": values,
            "errors": errors,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def confirm(request):
    pending_id = request.session.get(SESSION_PENDING)
    pending = Subscription.objects.select_related("commune").filter(pk=pending_id).first() if pending_id else None
    if pending is None:
        messages.info(request, "Hãy đăng ký trước, rồi nhập mã xác nhận nhận được.")
        return redirect("pests_public:subscribe")
    errors, status = {}, 200
    if request.method == "POST":
        try:
            subscription = subscriptions.confirm(
                pending.pk,
                request.POST.get("code", "")[:20],
                actor=request.user if request.user.is_authenticated else None,
            )
        except DomainError as error:
            errors, status = _errors(error), error.status_code
        else:
            request.session.pop(SESSION_PENDING, None)
            return render(
                request,
                "pests/bulletins/subscribed.html",
                {"subscription": subscription, "place": subscriptions.area_name(subscription.commune)},
            )
    return render(
        request,
        "pests/bulletins/confirm.html",
        {
            "pending": pending,
            "place": subscriptions.area_name(pending.commune),
            "masked": subscriptions.masked(pending),
            "minutes": subscriptions.CODE_MINUTES,
            "errors": errors,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    subscription = subscriptions.for_token(token)  # NotFound: the 404 page
    done = False
    if request.method == "POST":
        subscription = subscriptions.unsubscribe(token, actor=request.user if request.user.is_authenticated else None)
        done = True
    response = render(
        request,
        "pests/bulletins/unsubscribe.html",
        {
            "subscription": subscription,
            "place": subscriptions.area_name(subscription.commune),
            "masked": subscriptions.masked(subscription),
            "done": done,
            "action": reverse("pests_public:unsubscribe", args=[token]),
        },
    )
    # The token is a key: never sent on to another site, never kept by a shared cache.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


officer_urls = [
    path("thong-bao/", index, name="bulletins"),
    path("thong-bao/<int:pk>/", detail, name="bulletin"),
    path("thong-bao/<int:pk>/tep.<str:fmt>", download, name="bulletin_file"),
    path("dang-ky-canh-bao/", register, name="subscription_register"),
]

public_urls = [
    path("dang-ky/", subscribe, name="subscribe"),
    path("dang-ky/xac-nhan/", confirm, name="subscribe_confirm"),
    path("huy-dang-ky/<str:token>/", unsubscribe, name="unsubscribe"),
]

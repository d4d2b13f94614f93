"""Feedback pages (phản ánh, kiến nghị): the citizen's form, the public list,
map and report pages, the reporter's own view, and the officers' queue and
report page. Thin: reads through feedback.selectors (scoped to the user
there), writes through feedback.services."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.accounts.selectors import is_read_only
from chinhquyenso.core import charts, params
from chinhquyenso.core.calendar import calendar_for
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.http import client_ip, stored_file_response
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.selectors import undelivered
from chinhquyenso.feedback import forms, maps, selectors, services
from chinhquyenso.feedback.conf import conf
from chinhquyenso.feedback.models import Status

PUBLIC_PAGE = 20
QUEUE_PAGE = 50
MAP_POINTS = 500  # newest reports drawn on the map: the page stays light on a phone
MAX_QUERY = 200
SESSION_PHONE = "feedback_phone"  # the phone an anonymous reporter was sent a code to
SPLIT_PARTS = 3
UNDELIVERED_SHOWN = 20
CITIZENS_ONLY = "Trang này dành cho tài khoản công dân, tổ chức."
# Officers of an agency, the province administrator and auditors, and IOC operators; what each
# sees is scoped by the selectors. Others get the 403 page with this reason.
feedback_officers = officer_required(
    allowed=selectors.works_on_feedback,
    reason="Trang này chỉ dành cho cán bộ, công chức và điều phối viên IOC.",
)


def _is_citizen(user) -> bool:
    return user.is_authenticated and user.is_citizen


# ---------------------------------------------------------------- the form


def _form_context(request, values: dict, errors: dict, post=None) -> dict:
    citizen = _is_citizen(request.user)
    categories = list(selectors.active_categories())
    return {
        "values": values,
        "errors": errors,
        "categories": categories,
        "attribute_groups": forms.attribute_rows(categories, post, errors),
        "communes": selectors.commune_choices(),
        "citizen": citizen,
        # Anonymous reporters verify their phone first: the form opens once a code was sent.
        "code_sent_to": "" if citizen else request.session.get(SESSION_PHONE, ""),
        "max_photos": conf("FEEDBACK_MAX_PHOTOS"),
        # The pin picker: the communes' points (named; the nearest is preselected), the province's extent.
        "places": maps.places(),
        "map_bounds": selectors.map_bounds(),
        "pin_max_km": conf("FEEDBACK_PIN_MAX_KM"),
    }


def _initial(request) -> dict:
    user = request.user
    values = {
        "idempotency_key": uuid.uuid4().hex,
        "dossier_code": request.GET.get("ho_so", "")[:40],
        "category_code": request.GET.get("linh_vuc", "")[:60],
    }
    if _is_citizen(user):
        values.update(name=user.display_name, phone=user.phone, email=user.email)
    return values


def submit(request):
    """The report form. Signed-in citizens submit directly; others first get
    a code by SMS (send_code) and type it into the form."""
    if request.method != "POST":
        return render(request, "feedback/submit.html", _form_context(request, _initial(request), {}))
    post = request.POST
    values = {name: post.get(name, "") for name in forms.TEXT_FIELDS}
    values["keep_photo_location"] = bool(post.get("keep_photo_location"))
    citizen = _is_citizen(request.user)
    if not citizen:
        values["phone"] = request.session.get(SESSION_PHONE, "")  # the verified number, not one typed later
    category = selectors.active_categories().filter(code=values["category_code"]).first()
    try:
        report = forms.submission(post, request.FILES, category, phone=values["phone"])
        feedback = services.submit(
            report,
            reporter=request.user if citizen else None,
            channel="web",
            idempotency_key=post.get("idempotency_key", "")[:100],
            verification_code=post.get("verification_code", "").strip(),
            client_ip=client_ip(request),
        )
    except DomainError as error:
        errors = forms.errors_of(error)
        if request.FILES and "photos" not in errors:
            errors["photos"] = "Ảnh đã chọn chưa được gửi: hãy chọn lại ảnh sau khi sửa lỗi."
        return render(
            request, "feedback/submit.html", _form_context(request, values, errors, post), status=error.status_code
        )  # 429 when a rate limit refused it
    request.session.pop(SESSION_PHONE, None)
    return redirect(reverse("feedback:follow", args=[feedback.token]) + "?moi=1")


@require_POST
def send_code(request):
    """Step 1 for anonymous reporters: a one-time code by SMS to their phone."""
    phone = request.POST.get("phone", "")
    try:
        sent_to = services.send_verification_code(phone, client_ip=client_ip(request))
    except DomainError as error:
        values = {**_initial(request), "phone": phone}
        request.session.pop(SESSION_PHONE, None)
        return render(
            request,
            "feedback/submit.html",
            _form_context(request, values, forms.errors_of(error)),
            status=error.status_code,
        )
    request.session[SESSION_PHONE] = sent_to.phone  # as normalized by the service
    messages.success(request, "Đã gửi mã xác minh qua tin nhắn. Hãy nhập mã vào ô «Mã xác minh» khi gửi phản ánh.")
    query = f"?{request.GET.urlencode()}" if request.GET else ""
    return redirect(reverse("feedback:submit") + query)


@require_POST
def change_phone(request):
    request.session.pop(SESSION_PHONE, None)
    return redirect("feedback:submit")


# ---------------------------------------------------------------- public pages


def _public_filters(request) -> dict:
    return {
        "category_code": request.GET.get("linh_vuc", "")[:60],
        "status": request.GET.get("trang_thai", "")[:20],
        "area_code": request.GET.get("xa", "")[:60],
        "q": request.GET.get("q", "")[:MAX_QUERY],
    }


def _filter_context(request, filters: dict) -> dict:
    query = request.GET.copy()
    query.pop("trang", None)
    return {
        "filters": filters,
        "categories": selectors.active_categories(),
        "statuses": Status.choices,
        "communes": selectors.commune_choices(),
        "query": query,
    }


def public_list(request):
    filters = _public_filters(request)
    page = Paginator(selectors.public_list(**filters), PUBLIC_PAGE).get_page(request.GET.get("trang"))
    return render(request, "feedback/public_list.html", {**_filter_context(request, filters), "page": page})


STATUS_STYLE = {  # colour and shape: the map tells statuses apart without relying on colour
    "open": ("#b35900", "circle", "Đang xử lý"),
    "done": ("#2e7d32", "square", "Đã xử lý xong"),
    "other": ("#6b6b6b", "diamond", "Không xử lý (từ chối, trùng)"),
}


def public_map(request):
    filters = _public_filters(request)
    bounds = selectors.map_bounds()
    points = selectors.map_points(selectors.public_list(**filters), limit=MAP_POINTS, bounds=bounds)
    prefix = reverse("feedback:report", args=["-"]).removesuffix("-/")  # one reverse() for up to 500 links
    legend = [(label, charts.point_swatch(color, shape)) for color, shape, label in STATUS_STYLE.values()]
    return render(
        request,
        "feedback/public_map.html",
        {
            **_filter_context(request, filters),
            # Leaflet (core.maps): the rounded points, clustered, over the tiles or the communes' points.
            "geojson": maps.report_points(points, prefix),
            "places": maps.base_layer(),
            "bounds": bounds,
            "points": points,
            "legend": legend,
            "limit": MAP_POINTS,
        },
    )


def public_report(request, code):
    feedback = selectors.public_report(code)
    if feedback is None:
        raise Http404("Không tìm thấy phản ánh.")
    return render(
        request,
        "feedback/public_report.html",
        {
            "feedback": feedback,
            "events": selectors.timeline(feedback, "public"),
            "photos": selectors.photos(feedback, with_location=False),
        },
    )


def photo(request, photo_id):
    """A report's photo: public when stripped of its location; a photo that
    kept it only for the reporter (by the follow link's token or account)
    and the officers who may read the report's contact details."""
    found = selectors.photo_for(photo_id, user=request.user, token=request.GET.get("t", "")[:64])
    if found is None:
        raise Http404("Không tìm thấy ảnh.")
    photo_, public = found
    return stored_file_response(photo_.file, public=public)


# ---------------------------------------------------------------- the reporter's own view


def follow(request, token):
    """The reporter's view by the private link (no account needed)."""
    feedback = selectors.follow_report(token)
    if feedback is None:
        raise Http404("Không tìm thấy phản ánh.")
    response = _own_page(request, feedback, {"token": token}, just_sent=bool(request.GET.get("moi")))
    # The link is the key: not kept in any cache. (It never leaves the site in a Referer header:
    # the site's policy is same-origin; "no-referrer" would make forms post "Origin: null", refused as CSRF.)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def own_report(request, code):
    if not _is_citizen(request.user):
        raise PermissionDenied(CITIZENS_ONLY)
    return _own_page(request, selectors.get_for_citizen(code, user=request.user), {"actor": request.user})


def _own_page(request, feedback, who: dict, just_sent: bool = False):
    """Shows the report to its reporter; POST answers an information request,
    rates the handling or reopens it. A refused answer is shown next to its
    field with what was typed."""
    errors, values = {}, {}
    if request.method == "POST":
        post, action = request.POST, request.POST.get("action", "")
        try:
            if action == "provide_info":
                services.provide_info(feedback, text=post.get("text", ""), **who)
                done = "Đã gửi thông tin bổ sung."
            elif action == "rate":
                services.rate(
                    feedback, rating=forms.rating(post.get("rating", "")), comment=post.get("comment", ""), **who
                )
                done = "Cảm ơn bạn đã đánh giá."
            elif action == "reopen":
                services.reopen(feedback, reason=post.get("reason", ""), **who)
                done = "Đã mở lại phản ánh; cơ quan xử lý sẽ xem xét lại."
            else:
                raise DomainError("Thao tác không hợp lệ.", "action")
        except DomainError as error:
            errors, values = {action: error.message}, {action: post}
        else:
            messages.success(request, done)
            return redirect(request.path)
    feedback.refresh_from_db()
    token = who.get("token", "")
    return render(
        request,
        "feedback/own.html",
        {
            "feedback": feedback,
            "token": token,
            "just_sent": just_sent,
            "follow_url": request.build_absolute_uri(reverse("feedback:follow", args=[feedback.token])),
            "events": selectors.timeline(feedback, "reporter"),
            "photos": selectors.photos(feedback, with_location=True),
            "clock": _clock(feedback),
            "can": selectors.available_actions(request.user, feedback, token),
            "reopen_until": selectors.reopen_until(feedback),
            "question": selectors.open_question(feedback),
            "errors": errors,
            "values": values,
            "stars": range(1, 6),
        },
        status=400 if errors else 200,
    )


def _clock(feedback):
    now = timezone.now()
    return selectors.clock(feedback, calendar_for(now, *(d for d in [feedback.due_at] if d), days_after=15), now)


@login_required
def my_reports(request):
    if not _is_citizen(request.user):
        raise PermissionDenied(CITIZENS_ONLY)
    return render(request, "feedback/mine.html", {"reports": selectors.own_feedback(request.user)[:100]})


# ---------------------------------------------------------------- officers


@feedback_officers
def queue(request):
    user, now = request.user, timezone.now()
    tabs = selectors.queue_tabs(user)
    tab = request.GET.get("tab", "")
    if tab not in tabs:
        tab = next(iter(tabs))
    offset = params.offset(request.GET.get("tu"), "tu")
    rows = list(selectors.officer_queue(user, tab, now=now)[offset : offset + QUEUE_PAGE + 1])
    shown = rows[:QUEUE_PAGE]
    calendar = calendar_for(now, *(f.due_at for f in shown if f.due_at), days_after=15)
    return render(
        request,
        "feedback/queue.html",
        {
            "tab": tab,
            "tabs": tabs,
            "counts": selectors.queue_counts(user, now=now),
            "items": [(f, selectors.clock(f, calendar, now)) for f in shown],
            "offset": offset,
            "next_offset": offset + QUEUE_PAGE if len(rows) > QUEUE_PAGE else None,
            "prev_offset": max(0, offset - QUEUE_PAGE) if offset else None,
            # Messages about reports that could not be delivered (the IOC sees all of them).
            "undelivered": list(undelivered(user, kind_prefix="feedback.")[:UNDELIVERED_SHOWN]),
            "may_retry": not is_read_only(user),
        },
    )


@feedback_officers
@require_POST
def retry_message(request, message_id):
    """Send an undelivered message about a report again (exchange.outbox.retry decides who may)."""
    message = undelivered(request.user, kind_prefix="feedback.").filter(pk=message_id).first()
    if message is None:
        raise NotFound("Không tìm thấy thư, tin nhắn gửi lỗi này.")
    outbox.retry(message, actor=request.user)
    messages.success(request, "Đã đưa thư, tin nhắn vào hàng đợi gửi lại.")
    return redirect("feedback:queue")


def _officer_page(request, feedback, *, errors=None, values=None, status=200):
    user = request.user
    actions = selectors.available_actions(user, feedback)
    contact = selectors.can_read_contact(user, feedback)
    pin = maps.report_pin(feedback) if contact else None
    return render(
        request,
        "feedback/officer_report.html",
        {
            "feedback": feedback,
            "contact": contact,
            "actions": actions,
            "channel": services.channel_label(feedback.channel),
            "events": selectors.timeline(feedback, "officer"),
            "photos": selectors.photos(feedback, with_location=contact),
            "escalations": selectors.escalations(feedback),
            # The exact point on a small map with a directions link: for those who may read the address.
            "pin": pin,
            "places": maps.base_layer() if pin else None,
            "attributes": selectors.attribute_display(feedback),
            "clock": _clock(feedback),
            "agencies": selectors.assignable_agencies() if "assign" in actions else (),
            "categories": selectors.active_categories() if "split" in actions else (),
            "split_parts": range(1, SPLIT_PARTS + 1),
            "related": selectors.related_reports(user, feedback),
            "errors": errors or {},
            "values": values or {},
        },
        status=status,
    )


@feedback_officers
def officer_report(request, code):
    # Another agency's report is not found (the 404 page reveals nothing).
    return _officer_page(request, selectors.get_for_officer(request.user, code))


OFFICER_ACTIONS = {
    "assign": "Chuyển cơ quan xử lý",
    "start": "Bắt đầu xử lý",
    "request_info": "Yêu cầu bổ sung thông tin",
    "resolve": "Trả lời, hoàn thành",
    "reject": "Từ chối (không thuộc phạm vi)",
    "comment": "Ý kiến",
    "merge": "Gộp vào phản ánh khác",
    "split": "Tách phản ánh",
}


def _split_parts(post) -> list[dict]:
    parts = []
    for i in range(1, SPLIT_PARTS + 1):
        category, description = post.get(f"part-{i}-category", ""), post.get(f"part-{i}-description", "")
        if category or description.strip():
            parts.append({"category_code": category, "description": description})
    return parts


def _original(user, code: str):
    """The report a duplicate is merged into, picked by its code among those the officer sees."""
    code = code.strip()[:30]
    if not code:
        raise DomainError("Hãy nhập mã phản ánh gốc.", "into_code")
    try:
        return selectors.get_for_officer(user, code)
    except DomainError:
        raise DomainError(f"Không tìm thấy phản ánh mã “{code}”.", "into_code") from None


@feedback_officers
@require_POST
def act(request, code, action):
    feedback = selectors.get_for_officer(request.user, code)
    if action not in OFFICER_ACTIONS:
        raise NotFound()
    post, user = request.POST, request.user
    try:
        if action == "assign":
            services.assign(feedback, actor=user, agency_code=post.get("agency_code", ""), note=post.get("note", ""))
        elif action == "start":
            services.start(feedback, actor=user)
        elif action == "request_info":
            services.request_info(feedback, actor=user, question=post.get("question", ""))
        elif action == "resolve":
            services.resolve(feedback, actor=user, public_reply=post.get("public_reply", ""))
        elif action == "reject":
            services.reject(feedback, actor=user, reason=post.get("reason", ""))
        elif action == "comment":
            services.comment(feedback, actor=user, text=post.get("text", ""), public=post.get("public") == "1")
        elif action == "merge":
            services.merge(feedback, into=_original(user, post.get("into_code", "")), actor=user)
        elif action == "split":
            parts = services.split(feedback, actor=user, parts=_split_parts(post))
            messages.success(request, "Đã tách thành: " + ", ".join(p.code for p in parts) + ".")
            return redirect("feedback:officer_report", code=feedback.code)
    except DomainError as error:
        feedback.refresh_from_db()
        return _officer_page(
            request, feedback, errors={action: error.message}, values={action: post}, status=error.status_code
        )
    messages.success(request, f"{OFFICER_ACTIONS[action]}: đã lưu.")
    return redirect("feedback:officer_report", code=feedback.code)

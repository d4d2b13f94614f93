"""Photo identification pages.

Farmers (public, at /sau-benh/, no account needed, for phones on slow networks): the form that sends
1–5 photos (the phone's camera opens directly: `capture="environment"`), the result page at the
request's private link /sau-benh/nhan-dang/<public_id>/ (the link is the key: whoever holds it sees
the request, its photos and the expert's answer; never cached), and "Gửi chuyên gia". Submissions are
throttled per caller address (core.throttle).

Experts (officers with pests.confirm_identification, at /can-bo/sau-benh/nhan-dang/): the queue, a
request's photos with the model's scores and the labelling form, the photos themselves, and the
per-species accuracy page (also open to the plant-protection officers and leaders of the app)."""

from __future__ import annotations

import uuid

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.core import params
from chinhquyenso.core.errors import Conflict, DomainError
from chinhquyenso.core.http import client_ip, stored_file_response
from chinhquyenso.core.text import format_number
from chinhquyenso.core.throttle import PerMinute
from chinhquyenso.pests import access
from chinhquyenso.pests.answers import threshold_lines
from chinhquyenso.pests.identify import NONE
from chinhquyenso.pests.models import Identification
from chinhquyenso.pests.selectors import accuracy as accuracy_selectors
from chinhquyenso.pests.selectors import identification as selectors
from chinhquyenso.pests.services import identification as services

SUBMISSIONS = PerMinute(
    name="pests:identify",
    setting="PESTS_IDENTIFY_PER_IP_PER_MINUTE",
    default=6,
    message="Bạn đã gửi nhiều lần trong một phút; vui lòng chờ một chút rồi gửi lại.",
    field="photos",
)
PRIVATE = "private, no-store"
FORM_FIELDS = {"photos", "crop", "commune", "phone", "notify"}


def _percent(confidence) -> str:
    return format_number(100 * (confidence or 0), 0) + "%"


# ---------------------------------------------------------------------- farmers


def _form(request, *, values: dict, errors: dict, status: int = 200):
    return render(
        request,
        "pests/identify/form.html",
        {
            "values": values,
            "errors": errors,
            "crops": selectors.crop_choices(),
            "communes": selectors.commune_choices(),
            "max_photos": services.MAX_PHOTOS,
            "model": selectors.model_status(),
        },
        status=status,
    )


def identify(request):
    """The form (GET) and sending it (POST) → the result page."""
    if request.method != "POST":
        return _form(request, values={"client_id": str(uuid.uuid4())}, errors={})
    post = request.POST
    values = {
        "client_id": post.get("client_id", "")[:64],
        "crop": post.get("crop", "")[:40],
        "commune": post.get("commune", "")[:60],
        "phone": post.get("phone", "")[:40],
        "notify": post.get("notify") == "1",
    }
    try:
        SUBMISSIONS.check(client_ip(request))
        if values["phone"].strip() and not values["notify"]:
            raise DomainError(
                "Hãy đánh dấu “Nhắn tin cho tôi” nếu muốn nhận tin trả lời qua số điện thoại này.", "notify"
            )
        if values["notify"] and not values["phone"].strip():
            raise DomainError("Hãy nhập số điện thoại để nhận tin nhắn trả lời.", "phone")
        identification = services.submit(
            photos=request.FILES.getlist("photos"),
            farmer=request.user if request.user.is_authenticated else None,
            commune=selectors.commune_by_code(values["commune"]),
            crop=selectors.crop_by_code(values["crop"]),
            client_id=values["client_id"] or None,
            phone=values["phone"] if values["notify"] else "",
        )
    except Conflict:  # this form's key was already used for other photos (sent, then changed and sent again)
        values["client_id"] = str(uuid.uuid4())
        message = "Biểu mẫu này đã được gửi trước đó với ảnh khác. Hãy chọn lại ảnh rồi gửi."
        return _form(request, values=values, errors={"photos": message}, status=409)
    except DomainError as error:
        field = error.field if error.field in FORM_FIELDS else "form"
        return _form(request, values=values, errors={field: error.message}, status=error.status_code)
    return redirect("pests_public:identification", public_id=identification.public_id)


def _candidates(identification: Identification) -> list[dict]:
    top = identification.top or []
    labels = selectors.names(entry["organism"] for entry in top)
    return [
        {"code": entry["organism"], "name": labels[entry["organism"]], "percent": _percent(entry["confidence"])}
        for entry in top
    ]


def identification(request, public_id):
    found = selectors.for_holder(public_id)
    if found is None:
        raise Http404("Không tìm thấy yêu cầu nhận dạng.")
    candidates = _candidates(found)
    answer = found.answer
    context = {
        "identification": found,
        "Status": Identification.Status,
        "photos": list(found.photos.all()),
        "best": candidates[0] if candidates else None,
        "others": candidates[1:3],
        "answer": answer,
        "thresholds": threshold_lines(answer, in_the_field=True) if answer is not None else [],
        "no_model": found.model_version == services.NO_MODEL,
        "none_code": NONE,
        "sent": request.GET.get("gui") == "1",
    }
    response = render(request, "pests/identify/result.html", context)
    response["Cache-Control"] = PRIVATE  # the link is the key: kept by no cache
    return response


@require_POST
def send_to_expert(request, public_id):
    found = selectors.for_holder(public_id)
    if found is None:
        raise Http404("Không tìm thấy yêu cầu nhận dạng.")
    services.send_to_expert(found)
    return redirect(reverse("pests_public:identification", args=[found.public_id]) + "?gui=1")


def photo(request, public_id, photo_id):
    found = selectors.holder_photo(public_id, photo_id)
    if found is None:
        raise Http404("Không tìm thấy ảnh.")
    return stored_file_response(found.file)


# ---------------------------------------------------------------------- experts

experts_only = officer_required(allowed=access.can_confirm, reason=selectors.EXPERTS_ONLY)


def _may_read_accuracy(user) -> bool:
    return (
        access.can_confirm(user)
        or access.can_survey(user)
        or access.can_issue_bulletin(user)
        or access.can_manage_catalog(user)
    )


@experts_only
def queue(request):
    data = selectors.expert_queue(request.user)
    rows = [*data["waiting"], *data["recent"]]
    labels = selectors.names(i.top[0]["organism"] for i in rows if i.top)
    for i in rows:
        i.percent = _percent(i.confidence) if i.confidence is not None else "—"
        i.guess = f"{labels[i.top[0]['organism']]} ({i.percent})" if i.top else ""
    return render(request, "pests/identify/queue.html", {**data, "model": selectors.model_status()})


def _review_context(request, found, errors=None):
    photos = list(found.photos.all())
    labels = selectors.names(entry["organism"] for p in photos for entry in (p.top or []))
    rows = [
        {
            "photo": p,
            "label": services.label_code(p) or "",
            "top": [{"name": labels[e["organism"]], "percent": _percent(e["confidence"])} for e in (p.top or [])],
        }
        for p in photos
    ]
    return {
        "identification": found,
        "rows": rows,
        "candidates": _candidates(found),
        "organisms": selectors.organism_choices(),
        "none_code": NONE,
        "errors": errors or {},
    }


@experts_only
def review(request, pk):
    found = selectors.for_expert(request.user, pk)
    if request.method == "POST":
        every = request.POST.get("all", "")[:40]
        labels = {p.pk: every or request.POST.get(f"label-{p.pk}", "")[:40] for p in found.photos.all()}
        try:
            services.confirm(actor=request.user, identification=found, labels=labels)
        except DomainError as error:
            context = _review_context(request, found, {error.field or "form": error.message})
            return render(request, "pests/identify/review.html", context, status=error.status_code)
        return redirect("pests:identify_review", pk=found.pk)
    return render(request, "pests/identify/review.html", _review_context(request, found))


@experts_only
def expert_photo(request, photo_id):
    return stored_file_response(selectors.expert_photo(request.user, photo_id))


@officer_required(
    allowed=_may_read_accuracy,
    reason="Trang này dành cho chuyên gia và cán bộ bảo vệ thực vật được phân quyền.",
)
def accuracy(request):
    start = params.date(request.GET.get("tu"), "tu")
    end = params.date(request.GET.get("den"), "den")
    if start and end and end < start:
        raise DomainError("Ngày kết thúc phải sau ngày bắt đầu.", "den")
    version = request.GET.get("mo_hinh", "")[:80] or None
    tables, not_measured = accuracy_selectors.accuracy_tables(start=start, end=end, model_version=version)
    return render(
        request,
        "pests/identify/accuracy.html",
        {"tables": tables, "not_measured": not_measured, "start": start, "end": end, "version": version or ""},
    )


public_urls = [
    path("nhan-dang/", identify, name="identify"),
    path("nhan-dang/<uuid:public_id>/", identification, name="identification"),
    path("nhan-dang/<uuid:public_id>/gui-chuyen-gia/", send_to_expert, name="send_to_expert"),
    path("nhan-dang/<uuid:public_id>/anh/<int:photo_id>/", photo, name="photo"),
]

officer_urls = [
    path("nhan-dang/", queue, name="identify_queue"),
    path("nhan-dang/do-chinh-xac/", accuracy, name="identify_accuracy"),
    path("nhan-dang/<int:pk>/", review, name="identify_review"),
    path("nhan-dang/anh/<int:photo_id>/", expert_photo, name="identify_photo"),
]

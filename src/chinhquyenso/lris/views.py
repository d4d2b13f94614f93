"""Officers' pages for reported figures: the agency's reports, filling one
in (in the browser or through the Excel template), and the province's pages:
assigning, reviewing, reporting rates. Reads through selectors, writes
through services; every page works without JavaScript."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from chinhquyenso.accounts.decorators import is_officer, officer_required
from chinhquyenso.accounts.selectors import agency_ids
from chinhquyenso.core import params
from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.text import nfc
from chinhquyenso.indicators.periods import Period, parse_period
from chinhquyenso.lris import selectors, services, xlsx
from chinhquyenso.lris.models import AWAITING_REVIEW, EDITABLE, Status
from chinhquyenso.lris.validation import Entry, ValuesInvalid, number_text
from chinhquyenso.org.models import Agency, AgencyKind

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _works_on_reports(user) -> bool:
    return is_officer(user) or selectors.can_review(user)


reporting_officer_required = officer_required(allowed=_works_on_reports)


def _today():
    return local_date(timezone.now())


# ---------------------------------------------------------------- list


@reporting_officer_required
def index(request):
    user = request.user
    rows = selectors.assignment_rows(user) if agency_ids(user) else []
    province = selectors.can_review(user) or selectors.sees_compliance(user)
    queue = list(selectors.review_queue(user)[:100]) if province else []
    return render(
        request,
        "lris/index.html",
        {
            "groups": selectors.grouped(rows),
            "has_agency": bool(agency_ids(user)),
            "province": province,
            "can_review": selectors.can_review(user),
            "queue": queue,
            "notices": selectors.notices(user),
        },
    )


# ---------------------------------------------------------------- one report


def _inputs(view) -> dict:
    """The text to show in each input for a saved value, Vietnamese style."""
    clean, indicator = view.clean, view.indicator
    if clean is None:
        return {"v": "", "n": "", "d": ""}
    if indicator.is_ratio:
        return {"v": "", "n": number_text(clean.numerator), "d": number_text(clean.denominator)}
    if indicator.value_type == indicator.ValueType.BOOLEAN:
        return {"v": "Có" if clean.value else "Không", "n": "", "d": ""}
    return {"v": number_text(clean.value), "n": "", "d": ""}


def _entries(post, views) -> list[Entry]:
    entries = []
    for view in views:
        code = view.indicator.code
        if view.indicator.is_ratio:
            entries.append(Entry(code, numerator=post.get(f"n-{code}", ""), denominator=post.get(f"d-{code}", "")))
        else:
            entries.append(Entry(code, value=post.get(f"v-{code}", "")))
    return entries


def _page(request, assignment, *, posted=None, errors=None, upload_errors=None, status=200):
    user = request.user
    views = selectors.items_with_values(assignment)
    errors = errors or []
    by_code: dict[str, list[str]] = {}
    for error in errors:
        by_code.setdefault(error.code, []).append(error.message)
    rows = []
    for view in views:
        code = view.indicator.code
        inputs = _inputs(view)
        if posted is not None:
            inputs = {k: posted.get(f"{k}-{code}", "") for k in ("v", "n", "d")}
        rows.append(
            {
                "view": view,
                "inputs": inputs,
                "errors": by_code.get(code, []),
                "boolean": view.indicator.value_type == view.indicator.ValueType.BOOLEAN,
            }
        )
    submission = selectors.submission_of(assignment)
    status_key = submission.status if submission else "not_started"
    editable = selectors.can_edit(user, assignment) and status_key in (*EDITABLE, "not_started")
    return render(
        request,
        "lris/assignment.html",
        {
            "assignment": assignment,
            "submission": submission,
            "state": selectors.state_of(assignment, _today()),
            "rows": rows,
            "errors": errors,
            "upload_errors": upload_errors or [],
            "editable": editable,
            "can_review": selectors.can_review(user) and status_key in AWAITING_REVIEW,
            "can_reopen": selectors.can_review(user) and status_key == Status.APPROVED,
            "history": selectors.history(assignment),
            "period": assignment.period,
            "audience": selectors.audience_text(assignment.form, assignment.period_start, assignment.period_end),
            "reference": xlsx.reference(assignment),
        },
        status=status,
    )


@reporting_officer_required
def assignment_page(request, pk):
    assignment = selectors.get_assignment(request.user, pk)
    if request.method != "POST":
        return _page(request, assignment)
    action = request.POST.get("action", "save")
    views = selectors.items_with_values(assignment)
    try:
        services.save_values(
            actor=request.user, assignment=assignment, entries=_entries(request.POST, views), submit=action == "submit"
        )
    except ValuesInvalid as invalid:
        return _page(request, assignment, posted=request.POST, errors=invalid.errors)
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("lris:assignment", pk=assignment.pk)
    messages.success(
        request,
        "Đã gửi báo cáo; tỉnh sẽ xem và duyệt." if action == "submit" else "Đã lưu nháp. Báo cáo chưa được gửi.",
    )
    return redirect("lris:assignment", pk=assignment.pk)


@reporting_officer_required
def template_xlsx(request, pk):
    assignment = selectors.get_assignment(request.user, pk)
    data = xlsx.template(assignment, selectors.items_with_values(assignment))
    response = HttpResponse(data, content_type=XLSX_TYPE)
    name = f"bao-cao-{assignment.form.code}-{assignment.period.code}-{assignment.agency.code}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@reporting_officer_required
@require_POST
def upload(request, pk):
    assignment = selectors.get_assignment(request.user, pk)
    upload_file = request.FILES.get("file")
    try:
        if upload_file is None:
            raise DomainError("Hãy chọn tệp Excel đã nhập số liệu.", "file")
        services.upload_workbook(
            actor=request.user, assignment=assignment, data=upload_file.read(), submit=request.POST.get("submit") == "1"
        )
    except ValuesInvalid as invalid:
        return _page(request, assignment, upload_errors=[e.message for e in invalid.errors])
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        return _page(request, assignment, upload_errors=[error.message])
    messages.success(
        request,
        "Đã nhận số liệu từ tệp Excel"
        + (" và gửi báo cáo." if request.POST.get("submit") == "1" else "; báo cáo đang ở dạng nháp, chưa gửi."),
    )
    return redirect("lris:assignment", pk=assignment.pk)


@reporting_officer_required
@require_POST
def review(request, pk):
    assignment = selectors.get_assignment(request.user, pk)
    submission = selectors.submission_of(assignment)
    action = request.POST.get("action", "")
    if submission is None or action not in ("approve", "return", "reopen"):
        raise Http404()
    try:
        if action == "approve":
            services.approve(actor=request.user, submission=submission)
            messages.success(request, "Đã duyệt báo cáo; số liệu đã được ghi vào kho chỉ tiêu.")
        elif action == "return":
            services.return_submission(actor=request.user, submission=submission, reason=request.POST.get("reason", ""))
            messages.success(request, "Đã trả lại báo cáo cho cơ quan kèm lý do.")
        else:
            services.reopen(actor=request.user, submission=submission, reason=request.POST.get("reason", ""))
            messages.success(request, "Đã mở lại báo cáo để cơ quan sửa.")
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("lris:assignment", pk=assignment.pk)


# ---------------------------------------------------------------- province pages


def _period_choices(kind: str, today: dt.date) -> list[Period]:
    """The next period, the current one and those before it, newest first."""
    year = today.year
    if kind == "month":
        index = year * 12 + today.month - 1
        codes = [f"{i // 12}-M{i % 12 + 1:02d}" for i in range(index + 1, index - 13, -1)]
    elif kind == "quarter":
        index = year * 4 + (today.month - 1) // 3
        codes = [f"{i // 4}-Q{i % 4 + 1}" for i in range(index + 1, index - 7, -1)]
    elif kind == "half_year":
        codes = [f"{y}-H{h}" for y in range(year + 1, year - 3, -1) for h in (2, 1)]
    elif kind == "nine_months":
        codes = [f"{y}-9M" for y in range(year, year - 3, -1)]
    else:
        codes = [str(y) for y in range(year, year - 4, -1)]
    return [parse_period(c) for c in codes]


def _parse_day(text: str) -> dt.date | None:
    text = (text or "").strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return params.check_date(day, "deadline")
    return None


@reporting_officer_required
def assign(request):
    if not selectors.can_review(request.user):
        raise PermissionDenied("Chỉ quản trị tỉnh được giao báo cáo.")
    forms = list(selectors.active_forms())
    data = request.POST if request.method == "POST" else request.GET
    form = next((f for f in forms if f.code == data.get("form")), None)
    today = _today()
    errors, context = {}, {"forms": forms, "form": form}
    if form is None:
        return render(request, "lris/assign.html", context)
    agencies = list(Agency.objects.current().order_by("kind", "name"))
    kinds = [(k, label) for k, label in AgencyKind.choices if any(a.kind == k for a in agencies)]
    chosen_kinds = set(data.getlist("kind")) if request.method == "POST" else set(form.agency_kinds)
    chosen_ids = {params.integer_or_none(x, minimum=1) for x in data.getlist("agency")} - {None}
    periods = _period_choices(form.period_kind, today) if form.period_kind != "range" else []
    period_text = data.get("period", "")
    deadline_text = data.get("deadline", "")
    if request.method == "POST":
        try:
            period = parse_period(period_text)
            deadline = _parse_day(deadline_text)
            if deadline is None:
                raise DomainError("Hãy nhập hạn nộp (ngày/tháng/năm).", "deadline")
            targets = [a for a in agencies if a.kind in chosen_kinds or a.pk in chosen_ids]
            result = services.assign_form(
                actor=request.user, form=form, agencies=targets, period=period, deadline=deadline
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            errors[error.field or "form"] = error.message
        else:
            note = f"Đã giao báo cáo «{form.name}» {period.label} cho {len(result.created)} cơ quan, hạn nộp {deadline:%d/%m/%Y}."
            if result.existing:
                note += f" {len(result.existing)} cơ quan đã được giao từ trước, giữ nguyên."
            messages.success(request, note)
            return redirect(f"{_url('lris:compliance')}?form={form.code}&ky={period.code}")
    context.update(
        {
            "errors": errors,
            "periods": periods,
            "period_text": period_text
            or next((p.code for p in periods if p.start <= today <= p.end), periods[0].code if periods else ""),
            "deadline_text": deadline_text,
            "kinds": kinds,
            "chosen_kinds": chosen_kinds,
            "chosen_ids": chosen_ids,
            "agency_groups": [(label, [a for a in agencies if a.kind == k]) for k, label in kinds],
        }
    )
    return render(request, "lris/assign.html", context)


def _url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)


@reporting_officer_required
def review_list(request):
    if not (selectors.can_review(request.user) or selectors.sees_compliance(request.user)):
        raise PermissionDenied("Chỉ quản trị tỉnh duyệt báo cáo.")
    rows = selectors.review_rows(request.user, today=_today())
    return render(request, "lris/review_list.html", {"rows": rows})


@reporting_officer_required
def compliance_page(request):
    if not selectors.sees_compliance(request.user):
        raise PermissionDenied("Trang này dành cho tỉnh (quản trị, kiểm tra, giám sát).")
    forms = list(selectors.active_forms())
    form = next((f for f in forms if f.code == request.GET.get("form")), forms[0] if forms else None)
    periods = selectors.assignment_periods(form) if form else []
    result, error = None, ""
    code = nfc(request.GET.get("ky", "")) or (periods[0].code if periods else "")
    if form and code:
        try:
            period = parse_period(code)
            result = selectors.compliance(form, period.start, period.end, today=_today())
        except DomainError as problem:
            error = problem.message
    return render(
        request,
        "lris/compliance.html",
        {"forms": forms, "form": form, "periods": periods, "code": code, "result": result, "error": error},
    )

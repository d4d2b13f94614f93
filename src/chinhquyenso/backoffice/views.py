"""Officers' pages: inbox, counter reception, dossier page, printing.
Everything is scoped to the officer's agencies by the dossier selectors;
every write goes through chinhquyenso.dossiers.services."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from chinhquyenso.accounts.decorators import is_officer, officer_required
from chinhquyenso.accounts.models import Role
from chinhquyenso.accounts.selectors import agency_ids, is_ioc_operator, own_agencies
from chinhquyenso.assistant import index as retrieval
from chinhquyenso.backoffice import notice_views
from chinhquyenso.core import params, privacy
from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.core.http import pdf_response, stored_file_response
from chinhquyenso.core.registry import PERSON_LINKS
from chinhquyenso.core.templatetags.cqs import vndate, vndatetime, vnnum
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.documents import selectors as documents
from chinhquyenso.dossiers import printing, selectors, services
from chinhquyenso.dossiers.models import PROCESSING_STATUSES, Channel, Delivery, Dossier, Payment, Status
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange import selectors as exchange
from chinhquyenso.exchange.national import find_person
from chinhquyenso.procedures import selectors as procedures

PAGE_SIZE = 50
# The officer's document work shown above the dossiers (documents.selectors.QUEUES): what waits
# for their approval, what they were given to handle, what is overdue.
DOCUMENT_QUEUES = ("cho-duyet", "giao-toi", "qua-han")


def _get(request, code) -> Dossier:
    return selectors.get_dossier(request.user, code)  # NotFound: the 404 page (core.middleware)


# ---------------------------------------------------------------- inbox


# The search box: a name or an ID number is personal data (Decree 13/2023), so the form posts and
# the results page carries only a short-lived token (core.privacy.private_search): neither access
# logs nor browser history ever hold what was typed.
SEARCH_FIELDS = ("q",)


@officer_required
def inbox(request):
    user = request.user
    terms, redirect_to = privacy.private_search(request, SEARCH_FIELDS)
    if redirect_to is not None:
        return redirect_to
    searched = terms.get("q", "").strip()
    roles = set(user.memberships.values_list("role", flat=True))
    default_tab = "viec-cua-toi" if roles else "dang-giai-quyet"
    tab = request.GET.get("tab", default_tab)
    if tab not in selectors.INBOX_TABS:
        tab = default_tab
    filters = {
        "procedure_code": request.GET.get("thu_tuc", "")[:40],
        "channel": request.GET.get("kenh", "")[:10],
        "agency_id": params.integer(request.GET.get("co_quan"), "co_quan", minimum=1),
    }
    offset = params.offset(request.GET.get("tu"), "tu")
    now = timezone.now()
    calendar = selectors.inbox_calendar(now)
    if searched:
        rows = list(selectors.search_dossiers(user, searched, limit=PAGE_SIZE + 1, offset=offset))
        query = privacy.search_query(request)
    else:
        rows = list(selectors.inbox_tab(user, tab, limit=PAGE_SIZE + 1, offset=offset, now=now, **filters))
        query = request.GET.copy()
        query.pop("tu", None)
    items = [(d, *selectors.time_left(d, calendar, now)) for d in rows[:PAGE_SIZE]]
    my_agencies = own_agencies(user)
    return render(
        request,
        "backoffice/inbox.html",
        {
            "tab": None if searched else tab,
            "searched": searched,
            "tabs": selectors.INBOX_TABS,
            "counts": selectors.inbox_counts(user, now=now, **filters),
            "items": items,
            "filters": filters,
            "agencies": my_agencies,
            "channels": Channel.choices,
            "procedures": procedures.handled_by(agency_ids(user)).order_by("name").only("code", "name"),
            # Not on search results: those are about finding a dossier, and stay a few queries.
            "document_counts": []
            if searched
            else [
                (key, documents.QUEUES[key], documents.queue(user, key, today=local_date(now)).count())
                for key in DOCUMENT_QUEUES
            ],
            "query": query,
            "offset": offset,
            "next_offset": offset + PAGE_SIZE if len(rows) > PAGE_SIZE else None,
            "prev_offset": max(0, offset - PAGE_SIZE) if offset else None,
        },
    )


# ---------------------------------------------------------------- counter


def _counter_agencies(user, procedure):
    today = local_date(timezone.now())
    return procedures.handling_agencies(procedure, today).filter(pk__in=agency_ids(user, [Role.COUNTER_OFFICER]))


@officer_required
def counter(request):
    """Receive a walk-in dossier on one page: pick the procedure, type or look
    up the applicant, tick what was handed in, decide."""
    user = request.user
    code = request.POST.get("procedure_code") or request.GET.get("thu_tuc", "")
    procedure = procedures.get_procedure(code) if code else None
    if procedure is None:
        q = request.GET.get("q", "")[:200]
        handled = procedures.handled_by(agency_ids(user, [Role.COUNTER_OFFICER]))
        if q.strip():  # ranked (assistant.index), among the procedures the officer's agencies receive
            only = set(handled.values_list("pk", flat=True))
            found = retrieval.procedures_of(retrieval.search(q, procedure_ids=only, limit=30))
        else:
            found = procedures.search_procedures(q, limit=None).filter(pk__in=handled.values("pk"))[:30]
        return render(request, "backoffice/counter_pick.html", {"q": q, "procedures": found})
    agencies = _counter_agencies(user, procedure)
    if not agencies:
        messages.error(request, "Cơ quan của bạn không tiếp nhận thủ tục này.")
        return redirect("backoffice:counter")
    post = request.POST
    applicant = {k: post.get(k, "") for k in ("identity_number", "full_name", "phone", "address")}
    errors, lookup_note = {}, ""
    if request.method == "POST" and post.get("decision") == "lookup":
        applicant, lookup_note, errors = _lookup(applicant)
    elif request.method == "POST" and post.get("decision") == "refuse" and not post.get("xac_nhan_tu_choi"):
        errors = {"confirm_refuse": REFUSE_CONFIRMATION}
        if not post.get("reason", "").strip():  # both at once: the officer fixes the form in one go
            errors["reason"] = "Phải nêu rõ lý do từ chối tiếp nhận."
    elif request.method == "POST":
        try:
            dossier = _receive(request, procedure, agencies, applicant)
            messages.success(request, done_message(dossier, post.get("decision", "")))
            return redirect("backoffice:dossier", code=dossier.code)
        except DomainError as error:
            errors = {(error.field or "form").removeprefix("applicant."): error.message}
    components = list(procedure.components.all())
    received = {c.order for c in components if post.get(f"received-{c.order}")}
    return render(
        request,
        "backoffice/counter.html",
        {
            "procedure": procedure,
            "agencies": agencies,
            "applicant": applicant,
            "errors": errors,
            "lookup_note": lookup_note,
            "components": [(c, errors.get(f"scan-{c.order}")) for c in components],
            "received": received,
            "idempotency_key": post.get("idempotency_key") or uuid.uuid4().hex,
            "agency_code": post.get("agency_code", ""),
            "items": post.get("items", ""),
            "reason": post.get("reason", ""),
            "specialists": _counter_specialists(procedure, agencies),
            "assignee": post.get("assignee", ""),
            "person_links": applicant_links(user, applicant["identity_number"]) if lookup_note else [],
        },
    )


def _counter_specialists(procedure, agencies):
    """Whom the counter may name to handle a walk-in dossier: the specialists of the agency
    its first step goes to, or of the receiving agencies when the step names none."""
    first = procedure.steps.filter(order=1).first()
    handling = [first.agency_id] if first and first.agency_id else [a.pk for a in agencies]
    return list(selectors.specialists(handling))


def applicant_links(user, identity_number: str) -> list:
    """The "possible same person" links of the master person index (core.registry.PERSON_LINKS) for an
    applicant's identity number: none for an officer without the index's grant, or for no number."""
    number = (identity_number or "").replace(" ", "")
    if not (number.isascii() and number.isdigit() and len(number) in (9, 12)):
        return []
    found = []
    for provider in PERSON_LINKS.values():
        found += provider(user, "applicant", [number]).get(number, [])
    return found


def _lookup(applicant: dict) -> tuple[dict, str, dict]:
    number = applicant["identity_number"].replace(" ", "")
    if not (number.isascii() and number.isdigit() and len(number) == 12):  # "²" is a digit to isdigit()
        return applicant, "", {"identity_number": "Số định danh cá nhân gồm 12 chữ số."}
    person, answered = find_person(number)
    if not answered:
        return applicant, "Không kết nối được CSDL quốc gia về dân cư; hãy nhập tay theo giấy tờ.", {}
    if person is None:
        return applicant, "CSDL quốc gia về dân cư không có số định danh này; hãy kiểm tra lại giấy tờ.", {}
    return (
        dict(
            applicant,
            identity_number=number,
            full_name=person.full_name,
            address=person.address or applicant["address"],
        ),
        "Đã điền họ tên và địa chỉ từ CSDL quốc gia về dân cư.",
        {},
    )


def _receive(request, procedure, agencies, applicant) -> Dossier:
    post, user = request.POST, request.user
    decision = post.get("decision", "")
    components = []
    for component in procedure.components.all():
        item = {"order": component.order, "on_paper": bool(post.get(f"received-{component.order}"))}
        upload = request.FILES.get(f"scan-{component.order}")
        if upload:
            item["file_id"] = store_upload(
                upload, original_name=upload.name, field=f"scan-{component.order}", user=user
            ).sha256
        components.append(item)
    agency_code = post.get("agency_code") or agencies[0].code
    items = [line for line in post.get("items", "").splitlines() if line.strip()]
    return services.receive_at_counter(
        actor=user,
        procedure_code=procedure.code,
        agency_code=agency_code,
        applicant=applicant,
        components=components,
        decision=decision,
        items=items,
        reason=post.get("reason", ""),
        idempotency_key=post.get("idempotency_key", ""),
        assignee=post.get("assignee") or None,
    )


# ---------------------------------------------------------------- dossier page


ACTION_LABELS = {
    "accept": "Tiếp nhận",
    "request_supplement": "Yêu cầu bổ sung",
    "refuse": "Từ chối tiếp nhận",
    "supplement": "Ghi nhận đã bổ sung",
    "forward": "Chuyển bước",
    "reschedule": "Xin lỗi, hẹn lại",
    "attach_result": "Đính kèm kết quả điện tử",
    "return_result": "Trả kết quả",
    "record_payment": "Thu phí, lệ phí",
    "digitize": "Số hóa giấy tờ",
    "assign": "Giao chuyên viên thụ lý",
}

# What each status expects next, in order of preference: the first of these the officer may
# take is the page's one primary action; the others wait behind "Thao tác khác".
EXPECTED = {
    Status.SUBMITTED: ("accept", "request_supplement"),
    Status.SUPPLEMENT_REQUESTED: ("supplement",),
    Status.PAUSED: ("supplement",),
    Status.IN_PROCESS: ("forward",),
    Status.RESULT_READY: ("record_payment", "return_result"),
}
# Shown with the component checklist, not as an action of its own.
INLINE_ACTIONS = {"digitize"}
# Irreversible: the form carries a confirmation box, and the server refuses the action without it.
CONFIRMED = {"refuse", "return_result"}
REFUSE_CONFIRMATION = "Hãy đánh dấu ô xác nhận trước khi từ chối tiếp nhận hồ sơ."
CONFIRMATION = {
    "refuse": REFUSE_CONFIRMATION,
    "return_result": "Hãy đánh dấu ô xác nhận trước khi trả kết quả.",
}


def plan_actions(dossier: Dossier, actions: list[str], *, missing: list[str], last_step: bool) -> tuple[list, list]:
    """(the primary actions, shown open; the other actions, behind a disclosure).

    One primary action: the one the status expects (accept, or a supplement request when
    papers are missing; the supplement; the step's forward; the fee, then the return). The
    last step's approval keeps the electronic result form next to it: the result is attached,
    then approved."""
    offered = [a for a in actions if a not in INLINE_ACTIONS]
    expected = EXPECTED.get(dossier.status, ())
    if dossier.status == Status.SUBMITTED and missing:
        expected = ("request_supplement",)
    primary = next((a for a in expected if a in offered), None)
    if primary is None:
        return [], offered
    shown = [primary]
    if primary == "forward" and last_step and "attach_result" in offered:
        shown = ["attach_result", "forward"]
    return shown, [a for a in offered if a not in shown]


@officer_required
def dossier_page(request, code):
    dossier = _get(request, code)
    actions = selectors.available_actions(request.user, dossier)
    # The step means something only while the dossier is being processed; a
    # finished or returned dossier keeps its last step number, not a step.
    step = None
    if dossier.status in PROCESSING_STATUSES:
        step = dossier.procedure.steps.filter(order=dossier.current_step).first()
    following = dossier.procedure.steps.filter(order__gt=dossier.current_step).first()
    now = timezone.now()
    state, state_label = selectors.time_left(dossier, selectors.inbox_calendar(now), now)
    missing = services.missing_components(dossier)
    primary, others = plan_actions(dossier, actions, missing=missing, last_step=following is None)
    components = list(dossier.components.select_related("file", "reused_from__file", "required"))
    for c in components:  # the file to show: the one handed in, else the document reused
        c.stored = c.file or (c.reused_from.file if c.reused_from else None)
    previewed = _previewed(request, components, getattr(dossier, "electronic_result", None))
    specialists = []
    if "accept" in actions:
        specialists = list(selectors.specialists([services.acceptance_agency(dossier).pk]))
    elif "assign" in actions:
        specialists = list(selectors.specialists([dossier.current_agency_id]))
    application = selectors.application_of(dossier)  # liên thông: the other parts the officer may see
    return render(
        request,
        "backoffice/dossier.html",
        {
            "dossier": dossier,
            "application": application,
            "group_parts": selectors.application_parts(application, request.user, now=now) if application else [],
            "actions": actions,
            "primary": primary,
            "others": others,
            "others_summary": ", ".join(ACTION_LABELS[a].lower() for a in others),
            "labels": ACTION_LABELS,
            "step": step,
            "following": following,
            "state": state,
            "state_label": state_label,
            "components": components,
            "previewed": previewed,
            "events": selectors.timeline(dossier),
            "person_links": applicant_links(request.user, dossier.applicant_identity),
            "comments": dossier.comments.select_related("author"),
            "supplements": dossier.supplement_requests.order_by("-requested_at"),
            "result": getattr(dossier, "electronic_result", None),
            "forms": printing.available_forms(dossier),
            "form_titles": printing.FORMS,
            "deliveries": Delivery.choices,
            "missing": missing,
            "remaining_fee": dossier.fee_due - dossier.fee_paid,
            "specialists": specialists,
        },
    )


def _previewed(request, components, result):
    """(title, stored file) the page previews: the one asked for with ?xem=<sha256>, else None."""
    wanted = request.GET.get("xem", "")[:64]
    if not wanted:
        return None
    for c in components:
        for stored in (c.file, c.reused_from.file if c.reused_from else None):
            if stored is not None and stored.sha256 == wanted:
                return c.name, stored
    if result is not None and result.file.sha256 == wanted:
        return "Kết quả điện tử", result.file
    return None


@officer_required
@xframe_options_sameorigin
def preview(request, code, sha256):
    """A file of a dossier the officer sees, served inline so the dossier page can show it in
    a frame (PDF) or an image: the same answer as the portal's file view (type checked at
    upload, never sniffed, sandboxed, not cached), but framable by the platform's own pages,
    and only for a file of this dossier."""
    dossier = _get(request, code)
    stored = selectors.dossier_file(dossier, sha256)
    if stored is None:
        raise NotFound("Không tìm thấy tệp của hồ sơ này.")
    response = stored_file_response(stored)
    response["Content-Security-Policy"] += "; frame-ancestors 'self'"
    return response


def done_message(dossier: Dossier, action: str, result=None) -> str:
    """What just happened, in the words an officer would use to tell a colleague."""
    code = dossier.code
    if action == "accept":
        text = f"Đã tiếp nhận hồ sơ {code}, hẹn trả {vndatetime(dossier.due_at)}"
        if dossier.assignee_id:
            text += f"; chuyên viên thụ lý: {dossier.assignee.display_name}"
        return text + "."
    if action == "request_supplement":
        return f"Đã yêu cầu bổ sung hồ sơ {code} (Mẫu 02); hồ sơ chờ công dân bổ sung."
    if action == "refuse":
        return f"Đã từ chối tiếp nhận hồ sơ {code} (Mẫu 03)."
    if action == "supplement":
        return f"Đã ghi nhận hồ sơ {code} được bổ sung: {dossier.get_status_display().lower()}."
    if action == "forward":
        if dossier.status == Status.RESULT_READY:
            return f"Đã phê duyệt hồ sơ {code}: có kết quả, chuyển Bộ phận Một cửa trả kết quả."
        step = dossier.procedure.steps.filter(order=dossier.current_step).first()
        where = f"bước “{step.name}”, " if step else ""
        return f"Đã chuyển hồ sơ {code} đến {where}{dossier.current_agency.name}."
    if action == "reschedule":
        return f"Đã xin lỗi, hẹn lại ngày trả hồ sơ {code}: {vndate(dossier.due_at)} (Mẫu 04)."
    if action == "attach_result":
        number = f" số {result.number}" if result is not None and result.number else ""
        return f"Đã đính kèm kết quả điện tử{number} cho hồ sơ {code}."
    if action == "return_result":
        return f"Đã trả kết quả hồ sơ {code} ({dossier.get_delivery_display().lower()})."
    if action == "record_payment":
        return f"Đã thu {vnnum(result.amount)} đồng phí, lệ phí hồ sơ {code}."
    if action == "digitize":
        return f"Đã số hóa “{result.name}” của hồ sơ {code}."
    if action == "comment":
        return f"Đã gửi ý kiến về hồ sơ {code}."
    if action == "assign":
        return f"Đã giao hồ sơ {code} cho chuyên viên {dossier.assignee.display_name}."
    return "Đã lưu."


def _upload(request, field: str):
    upload = request.FILES.get(field)
    if upload is None:
        raise DomainError("Hãy chọn tệp.", field)
    return store_upload(upload, original_name=upload.name, field=field, user=request.user)  # read in chunks


@officer_required
@require_POST
def act(request, code, action):
    dossier = _get(request, code)
    post, user = request.POST, request.user
    items = [line for line in post.get("items", "").splitlines() if line.strip()]
    result = None
    try:
        if action == "refuse" and not post.get("reason", "").strip():
            raise DomainError("Phải nêu rõ lý do từ chối tiếp nhận.", "reason")  # before the confirmation
        if action in CONFIRMED and not post.get("xac_nhan"):
            raise DomainError(CONFIRMATION[action], "xac_nhan")
        if action == "accept":
            services.accept(dossier, actor=user, note=post.get("note", ""), assignee=post.get("assignee") or None)
        elif action == "request_supplement":
            services.request_supplement(dossier, actor=user, items=items, reason=post.get("reason", ""))
        elif action == "refuse":
            services.refuse(dossier, actor=user, reason=post.get("reason", ""))
        elif action == "supplement":
            services.supplement(
                dossier,
                actor=user,
                note=post.get("note", ""),
                components=[
                    {"order": c.required.order, "on_paper": True}
                    for c in dossier.components.select_related("required")
                    if c.required and post.get(f"received-{c.required.order}")
                ],
            )
        elif action == "forward":
            services.forward(dossier, actor=user, note=post.get("note", ""))
        elif action == "reschedule":
            new_date = params.date(post.get("new_due_date"), "new_due_date")
            if new_date is None:
                raise DomainError("Hãy nhập ngày hẹn mới.", "new_due_date")
            services.reschedule(dossier, actor=user, new_due_date=new_date, reason=post.get("reason", ""))
        elif action == "attach_result":
            result = services.attach_result(
                dossier, actor=user, file=_upload(request, "file"), number=post.get("number", "")
            )
        elif action == "return_result":
            services.return_result(dossier, actor=user, delivery=post.get("delivery", ""))
        elif action == "record_payment":
            amount = params.integer(post.get("amount", "").replace(".", ""), "amount")  # "50.000" đồng
            if amount is None:
                raise DomainError("Số tiền phải là số nguyên (đồng).", "amount")
            result = services.record_payment(dossier, actor=user, amount=amount, method=Payment.Method.COUNTER)
        elif action == "digitize":
            order = params.integer(post.get("order"), "order", minimum=1)
            if order is None:
                raise DomainError("Hãy chọn giấy tờ cần số hóa.", "order")
            result = services.attach_component_file(dossier, actor=user, order=order, file=_upload(request, "file"))
        elif action == "comment":
            services.add_comment(dossier, actor=user, text=post.get("text", ""))
        elif action == "assign":
            services.assign(dossier, actor=user, assignee=post.get("assignee") or None)
        else:
            raise Http404()
        messages.success(request, done_message(dossier, action, result))
    except DomainError as error:
        messages.error(request, f"{ACTION_LABELS.get(action, 'Thao tác')}: {error.message}")
    return redirect("backoffice:dossier", code=dossier.code)


# ---------------------------------------------------------------- printing


@officer_required
def print_form(request, code, form):
    dossier = _get(request, code)
    try:
        return pdf_response(printing.form_pdf(dossier, form), f"mau-{form}-{dossier.code}.pdf")
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("backoffice:dossier", code=dossier.code)


@officer_required
def register(request):
    """Mẫu 06 for one of the officer's agencies and a date range (default: this month)."""
    today = local_date(timezone.now())
    my_agencies = own_agencies(request.user)
    errors = {}
    if request.GET.get("co_quan"):
        try:
            agency = my_agencies.filter(pk=params.integer(request.GET["co_quan"], "co_quan", minimum=1)).first()
            if agency is None:
                raise DomainError("Hãy chọn cơ quan của bạn.", "co_quan")
            start, end = (params.date(request.GET.get(k), k) for k in ("tu", "den"))
            if start is None or end is None:
                raise DomainError("Hãy nhập từ ngày và đến ngày.", "tu" if start is None else "den")
        except DomainError as error:
            errors = {error.field: error.message}
        else:
            if start > end:
                errors = {"tu": "Từ ngày phải trước hoặc bằng đến ngày."}
            else:
                return pdf_response(
                    printing.register_pdf(agency=agency, start=start, end=end),
                    f"so-theo-doi-{agency.code}-{start:%Y%m%d}-{end:%Y%m%d}.pdf",
                )
    return render(
        request,
        "backoffice/register.html",
        {"agencies": my_agencies, "errors": errors, "start": today.replace(day=1), "end": today},
    )


# ---------------------------------------------------------------- notices and the outbox


def _has_messages(user) -> bool:
    return is_officer(user) or is_ioc_operator(user)


@officer_required(allowed=_has_messages)
def messages_page(request):
    """The officer's in-app notices, and the messages of their agencies that
    could not be delivered (retrying or given up), with a button to send one again."""
    user = request.user
    failed = list(exchange.undelivered(user).select_related("agency")[:200])
    context = {
        **notice_views.notice_context(request),  # the notices, due-soon and overdue first
        "failed": failed,
        "may_retry": bool(failed) and exchange.may_retry(user, failed[0]),
        "max_attempts": outbox.conf("OUTBOX_MAX_ATTEMPTS"),
    }
    return render(request, "backoffice/messages.html", context)


@officer_required(allowed=_has_messages)
@require_POST
def messages_read(request):
    notice_views.notices.mark_read(request.user)
    return redirect("backoffice:messages")


@officer_required(allowed=_has_messages)
@require_POST
def message_retry(request, pk):
    message = exchange.undelivered(request.user).filter(pk=pk).first()
    if message is None:
        raise NotFound()
    outbox.retry(message, actor=request.user)
    messages.success(request, "Đã đưa thư, tin nhắn vào hàng đợi gửi lại.")
    return redirect("backoffice:messages")

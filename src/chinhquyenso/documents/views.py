"""Officers' document pages, under /can-bo/van-ban/: the queues of the officer's work, a new
outgoing draft, the document page with its one primary action, the registers (sổ văn bản đi,
sổ văn bản đến), registering a paper document, and search.

Thin: reads through documents.selectors (scoped to the officer's agencies there; another agency's
document is the 404 page), writes through documents.services (roles and statuses checked there);
a refusal is shown as a message on the page (actions) or on the field it names (forms)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.accounts.models import Membership, Role
from chinhquyenso.accounts.selectors import agency_ids, own_agencies
from chinhquyenso.core import params, privacy
from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.http import stored_file_response
from chinhquyenso.documents import forms, selectors
from chinhquyenso.documents.labels import step_label
from chinhquyenso.documents.models import (
    Assignment,
    Confidentiality,
    Direction,
    Document,
    DocumentType,
    Recipient,
    Urgency,
)
from chinhquyenso.documents.services import incoming, outgoing
from chinhquyenso.org.models import Agency
from chinhquyenso.org.selectors import agencies_valid_on

PAGE_SIZE = 50
Status = Document.Status

# The index's queues, in the order of the tabs (keys: documents.selectors.QUEUES).
QUEUE_HELP = {
    "du-thao": "Dự thảo bạn soạn, chưa trình duyệt.",
    "cho-duyet": "Dự thảo đang chờ bạn xem xét, duyệt.",
    "cho-ky": "Văn bản đã duyệt, chờ lãnh đạo ký số.",
    "cho-ban-hanh": "Văn bản lãnh đạo đã ký, chờ văn thư cấp số, ký số cơ quan và ban hành.",
    "den-cho-phan-cong": "Văn bản đến đã vào sổ, chờ lãnh đạo phân công xử lý.",
    "giao-toi": "Văn bản đến được giao cho bạn hoặc đơn vị bạn xử lý.",
    "qua-han": "Văn bản đến quá hạn xử lý.",
    "chi-dao": "Nhiệm vụ của văn bản chỉ đạo đang theo dõi, quá hạn trước.",
}

OUTGOING_LABELS = {
    "submit": "Trình duyệt",
    "approve": "Duyệt",
    "return": "Trả lại để sửa",
    "sign": "Ký số (chữ ký lãnh đạo)",
    "issue": "Cấp số, ký số cơ quan và ban hành",
    "recall": "Thu hồi văn bản",
    "replace": "Soạn văn bản thay thế",
}
INCOMING_LABELS = {
    "assign": "Phân công xử lý",
    "start": "Bắt đầu xử lý",
    "progress": "Cập nhật tiến độ",
    "complete": "Báo cáo đã xử lý xong",
    "return_incoming": "Trả lại nơi gửi",
}
OTHER_LABELS = {"comment": "Góp ý", "version": "Tải lên phiên bản mới", "attach": "Thêm tệp đính kèm"}
ACTION_LABELS = {**OUTGOING_LABELS, **INCOMING_LABELS, **OTHER_LABELS}

# What each outgoing status expects next, in order: the first the officer may take is the
# page's one primary action; the others wait behind "Thao tác khác".
OUTGOING_EXPECTED = {
    Status.DRAFT: ("submit",),
    Status.IN_REVIEW: ("approve", "return"),
    Status.APPROVED: ("sign", "return"),
    Status.SIGNED: ("issue",),
    Status.NUMBERED: ("issue",),
    Status.ISSUED: (),  # recalling is never the obvious next step: it waits behind the disclosure
}
# Irreversible: the form carries a required confirmation box, and the view refuses without it.
CONFIRMATION = {
    "recall": "Hãy đánh dấu ô xác nhận trước khi thu hồi văn bản.",
    "return_incoming": "Hãy đánh dấu ô xác nhận trước khi trả lại văn bản.",
}

# A service's field name → the page's form field, where they differ.
DRAFT_FIELDS = {
    "recipients": "recipient_agencies",
    "excerpt": "excerpt",
    "confidentiality": "confidentiality",
    "place": "place",
}


def _today():
    return local_date(timezone.now())


@dataclass
class Window:
    """One page of a list without counting it all (a register grows every day)."""

    items: list
    number: int
    has_previous: bool
    has_next: bool


def _window(queryset, request) -> Window:
    number = params.page(request.GET.get("trang"), "trang", size=PAGE_SIZE)
    offset = (number - 1) * PAGE_SIZE
    rows = list(queryset[offset : offset + PAGE_SIZE + 1])
    return Window(rows[:PAGE_SIZE], number, number > 1, len(rows) > PAGE_SIZE)


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("trang", None)
    return query


def _get(request, pk) -> Document:
    return selectors.get_document(request.user, pk)  # NotFound: the 404 page (core.middleware)


def _nav_context(user) -> dict:
    """What the section's menu offers: registering a paper document only to clerks."""
    return {"registers_incoming": bool(agency_ids(user, [Role.CLERK]))}


# ---------------------------------------------------------------- index: the officer's queues


@officer_required
def index(request):
    user = request.user
    today = _today()
    counts = selectors.queue_counts(user, today=today)
    default = next((key for key in selectors.QUEUES if counts.get(key)), next(iter(selectors.QUEUES)))
    key = request.GET.get("hang", default)
    if key not in selectors.QUEUES:
        key = default
    window = _window(selectors.queue(user, key, today=today), request)
    return render(
        request,
        "documents/index.html",
        {
            **_nav_context(user),
            "current": "index",
            # Only the queues that hold something (and the one shown): a specialist has no use for
            # the clerk's tab, and eight empty tabs fill a phone's screen.
            "queues": [
                (k, label, counts.get(k, 0)) for k, label in selectors.QUEUES.items() if counts.get(k) or k == key
            ],
            "queue": key,
            "queue_label": selectors.QUEUES[key],
            "queue_help": QUEUE_HELP.get(key, ""),
            "page": window,
            "query": _query_without_page(request),
            "today": today,
        },
    )


# ---------------------------------------------------------------- a new outgoing draft


def _draft_choices(user):
    today = _today()
    mine = list(own_agencies(user))
    others = list(agencies_valid_on(today).exclude(pk__in=[a.pk for a in mine]).order_by("name"))
    return mine, list(DocumentType.objects.filter(active=True)), others


def _initial_from(document: Document | None, agencies) -> dict:
    if document is None:
        place = selectors.usual_place(agencies[0].pk) if agencies else ""
        return {"urgency": Urgency.NORMAL, "confidentiality": Confidentiality.NORMAL, "place": place}
    recipients = list(document.recipients.all())
    return {
        "agency": str(document.agency_id),
        "document_type": document.document_type.code,
        "excerpt": document.excerpt,
        "urgency": document.urgency,
        "confidentiality": document.confidentiality,
        "unit_abbreviation": document.unit_abbreviation,
        "place": document.place,
        "signer_name": document.signer_name,
        "signer_title": document.signer_title,
        "deadline": document.deadline.isoformat() if document.deadline else "",
        "is_directive": document.is_directive,
        "recipient_agencies": [r.agency_id for r in recipients if r.agency_id],
        "external_recipients": "\n".join(
            f"{r.electronic_code}; {r.name}" for r in recipients if r.channel == Recipient.Channel.BUS
        ),
    }


@officer_required
def new_draft(request):
    """Soạn văn bản đi: metadata per Nghị định 30/2020, recipients, the PDF; with ?thay_the=<id>,
    a replacement of an issued document (its metadata and recipients filled in)."""
    user = request.user
    agencies, types, recipient_agencies = _draft_choices(user)
    if not agencies:
        raise PermissionDenied("Chỉ cán bộ của cơ quan mới soạn thảo văn bản đi.")
    replaced = None
    replaced_id = params.integer(request.GET.get("thay_the"), "thay_the", minimum=1)
    if replaced_id is not None:
        replaced = _get(request, replaced_id)
        if not outgoing.can_act(replaced, user, "replace"):
            raise PermissionDenied("Chỉ thay thế được văn bản đã ban hành của cơ quan mình.")
    status = 200
    if request.method == "POST":
        form = forms.draft(
            request.POST, request.FILES, agencies=agencies, types=types, recipient_agencies=recipient_agencies
        )
        if form.valid:
            try:
                if replaced is not None:
                    arguments = {k: v for k, v in form.arguments.items() if k != "agency"}
                    document = outgoing.create_replacement(replaced, user, **arguments)
                else:
                    document = outgoing.create_draft(user, **form.arguments)
            except DomainError as error:
                form.fail(_draft_field(error))
            else:
                messages.success(request, f"Đã lưu dự thảo “{document.excerpt[:80]}”. Hãy trình duyệt khi sẵn sàng.")
                return redirect("documents:document", pk=document.pk)
        status = 400
    else:
        form = forms.Form(values=_initial_from(replaced, agencies))
    return render(
        request,
        "documents/new.html",
        {
            **_nav_context(user),
            "current": "new",
            "form": form,
            "agencies": agencies,
            "types": types,
            "recipient_agencies": recipient_agencies,
            "urgencies": Urgency.choices,
            "confidentialities": Confidentiality.choices,
            "replaced": replaced,
        },
        status=status,
    )


def _draft_field(error: DomainError) -> DomainError:
    """The service names recipients "recipients.N"; the form shows them on the agencies' picker."""
    name = (error.field or "").split(".")[0]
    return DomainError(error.message, DRAFT_FIELDS.get(name, error.field))


# ---------------------------------------------------------------- the document page


def plan_outgoing(document: Document, user) -> tuple[list[str], list[str]]:
    """(the primary action, or none; the other actions the user may take)."""
    offered = [a for a in OUTGOING_LABELS if outgoing.can_act(document, user, a)]
    expected = OUTGOING_EXPECTED.get(document.status, ())
    primary = next((a for a in expected if a in offered), None)
    return ([primary] if primary else []), [a for a in offered if a != primary]


def who_acts_next(document: Document, step) -> str:
    """Whom the document waits for, in plain words."""
    status = document.status
    if status == Status.DRAFT:
        return "Người soạn thảo hoàn thiện và trình duyệt."
    if status == Status.IN_REVIEW and step is not None:
        return f"{Role(step.role).label} — bước {step.order}: {step.name}."
    if status == Status.APPROVED:
        return "Lãnh đạo ký số văn bản."
    if status in (Status.SIGNED, Status.NUMBERED):
        return "Văn thư cấp số, ký số cơ quan và ban hành."
    return ""


def timeline(document: Document) -> list:
    """The document's steps, each with the Vietnamese name of its action and of the status it left."""
    steps = list(document.steps.select_related("actor", "agency"))
    statuses = dict(Status.choices)
    for step in steps:
        step.label = step_label(step.action)
        step.status_label = statuses.get(step.to_status, "")
    return steps


def _page_context(request, document: Document) -> dict:
    return {
        **_nav_context(request.user),
        "document": document,
        "today": _today(),
        "labels": ACTION_LABELS,
        "versions": list(document.versions.select_related("file", "author")),
        "attachments": list(document.attachments.select_related("file")),
        "comments": list(document.comments.select_related("author")),
        "timeline": timeline(document),
        "may_comment": document.is_outgoing and outgoing.can_act(document, request.user, "comment"),
        "may_attach": document.is_outgoing and outgoing.can_act(document, request.user, "attach"),
    }


def _outgoing_page(request, document: Document, status: int = 200):
    user = request.user
    step = outgoing.current_step(document)
    primary, others = plan_outgoing(document, user)
    context = {
        **_page_context(request, document),
        "step": step,
        "flow_steps": outgoing.steps_of(document),
        "next_actor": who_acts_next(document, step),
        "primary": primary,
        "others": others,
        "others_summary": ", ".join(ACTION_LABELS[a].lower() for a in others),
        "may_edit": outgoing.can_act(document, user, "edit"),
        "recipients": [(r, recipient_trail(r)) for r in document.recipients.select_related("agency")],
        "replaced_by": list(document.replaced_by.only("pk", "symbol", "status", "excerpt")),
    }
    return render(request, "documents/outgoing.html", context, status=status)


def _assignment_choices(document: Document):
    """The units a leader may assign to (the receiving agency and its units) and their officers."""
    units = list(Agency.objects.filter(pk__in=incoming.unit_ids(document.agency_id)).order_by("name"))
    people = list(
        Membership.objects.filter(
            agency__in=units, role__in=[Role.LEADER, Role.SPECIALIST], user__is_active=True
        ).select_related("user", "agency")
    )
    unique = {}
    for m in people:  # one line per person: their first unit
        unique.setdefault(m.user_id, m)
    return units, sorted(unique.values(), key=lambda m: m.user.display_name)


def _incoming_page(request, document: Document, *, assign_form=None, status: int = 200):
    user = request.user
    assignments = list(document.assignments.select_related("agency", "user", "assigned_by", "result_document"))
    mine = [a for a in assignments if a.status in incoming.OPEN and incoming.may_handle(user, a)]
    may_assign = (
        document.status in incoming.HANDLING
        and Membership.objects.filter(user=user, agency_id=document.agency_id, role=Role.LEADER).exists()
    )
    may_return = (
        document.status == Status.REGISTERED
        and Membership.objects.filter(
            user=user, agency_id=document.agency_id, role__in=[Role.LEADER, Role.CLERK]
        ).exists()
    )
    units, people = _assignment_choices(document) if may_assign else ([], [])
    # The one primary action: assigning a document nobody handles yet; else the handler's report.
    primary = "assign" if may_assign and document.status == Status.REGISTERED else ("handle" if mine else None)
    context = {
        **_page_context(request, document),
        "assignments": assignments,
        "mine": mine,
        "may_assign": may_assign,
        "may_return": may_return,
        "primary": primary,
        "units": units,
        "people": people,
        "roles": Assignment.Role.choices,
        "assign_form": assign_form or forms.Form(values={"role": Assignment.Role.LEAD}),
        "sender_statuses": sender_statuses(document, Recipient.objects.filter(incoming_document=document).first()),
    }
    return render(request, "documents/incoming.html", context, status=status)


# A recipient's statuses with their times, in the order they happen (Recipient's timestamps).
RECIPIENT_TRAIL = (
    ("sent_at", Recipient.Status.SENT),
    ("received_at", Recipient.Status.RECEIVED),
    ("assigned_at", Recipient.Status.ASSIGNED),
    ("in_process_at", Recipient.Status.IN_PROCESS),
    ("done_at", Recipient.Status.DONE),
    ("returned_at", Recipient.Status.RETURNED),
    ("failed_at", Recipient.Status.FAILED),
)


def recipient_trail(recipient: Recipient) -> list[tuple[str, object]]:
    """What the sender has been told by one recipient, each status with its time, as the national
    exchange reports them one by one (received, assigned, in process, done): the trail, not only
    the last status."""
    trail = [(status.label, getattr(recipient, name)) for name, status in RECIPIENT_TRAIL if getattr(recipient, name)]
    return sorted(trail, key=lambda item: item[1])


SENDER_TOLD = (
    ("received_at", "Đã nhận, vào sổ"),
    ("assigned_at", "Đã phân công"),
    ("in_process_at", "Đang xử lý"),
    ("done_at", "Đã xử lý xong"),
    ("returned_at", "Đã trả lại"),
)
TOLD_BY_STEP = {
    "register": "Đã nhận, vào sổ",
    "receive": "Đã nhận, vào sổ",
    "assign": "Đã phân công",
    "assignment_start": "Đang xử lý",
    "assignment_progress": "Đang xử lý",
    "assignment_done": "Đã xử lý xong",
    "incoming_return": "Đã trả lại",
}


def sender_statuses(document: Document, source: Recipient | None) -> list[tuple[str, object]]:
    """The statuses the sender has been told, in order, as the national exchange reports them
    (received, assigned, in process, done): from the sender's own record of this recipient when
    the document came from inside the province, else from this document's timeline."""
    if source is not None:
        return [(label, getattr(source, name)) for name, label in SENDER_TOLD if getattr(source, name)]
    shown, seen = [], set()
    for step in document.steps.all():
        label = TOLD_BY_STEP.get(step.action)
        if step.action == "assignment_done" and step.to_status != Status.DONE:
            continue  # one assignment of several: the document is not done yet
        if label and label not in seen:
            seen.add(label)
            shown.append((label, step.at))
    return shown


@officer_required
def document_page(request, pk):
    document = _get(request, pk)
    if document.direction == Direction.OUTGOING:
        return _outgoing_page(request, document)
    return _incoming_page(request, document)


@officer_required
def download(request, pk, version=None):
    """The document's current file, or one of its versions: only through the page's scoping (a
    document the officer sees), never a public address; ?tai=1 saves it instead of showing it."""
    document = _get(request, pk)
    if version is None:
        stored = document.current_file
    elif version > params.MAX_INTEGER:  # beyond any stored number (and what SQLite can compare)
        stored = None
    else:
        found = document.versions.select_related("file").filter(number=version).first()
        stored = found.file if found else None
    if stored is None:
        raise NotFound("Văn bản này chưa có tệp.")
    return stored_file_response(stored, download=request.GET.get("tai") == "1")


@officer_required
def attachment_file(request, pk, attachment_id):
    document = _get(request, pk)
    found = None
    if attachment_id <= params.MAX_INTEGER:
        found = document.attachments.select_related("file").filter(pk=attachment_id).first()
    if found is None:
        raise NotFound("Không tìm thấy tệp đính kèm.")
    return stored_file_response(found.file, download=request.GET.get("tai") == "1")


# ---------------------------------------------------------------- actions


def _upload(request, field: str = "file"):
    upload = request.FILES.get(field)
    if upload is None:
        raise DomainError("Hãy chọn tệp văn bản (PDF).", field)
    return upload


def _assignment_of(document: Document, request) -> Assignment:
    pk = params.integer(request.POST.get("assignment"), "assignment", minimum=1)
    found = document.assignments.filter(pk=pk).first() if pk else None
    if found is None:
        raise DomainError("Không tìm thấy phân công này.", "assignment")
    return found


def done_message(document: Document, action: str) -> str:
    """What just happened, as an officer would tell a colleague."""
    name = document.symbol or "dự thảo"
    messages_for = {
        "submit": f"Đã trình duyệt {name}.",
        "approve": "Đã duyệt văn bản."
        + (
            " Văn bản chờ lãnh đạo ký số." if document.status == Status.APPROVED else " Văn bản chuyển bước duyệt tiếp."
        ),
        "return": "Đã trả lại dự thảo để người soạn sửa.",
        "sign": "Đã ký số văn bản (chữ ký lãnh đạo). Văn bản chờ văn thư cấp số, ban hành.",
        "issue": f"Đã ban hành văn bản số {document.symbol}, ngày {document.issued_on:%d/%m/%Y}; đã gửi nơi nhận."
        if document.issued_on
        else "Đã ban hành văn bản.",
        "recall": f"Đã thu hồi văn bản {name}; nơi nhận đã được báo.",
        "comment": "Đã gửi góp ý.",
        "version": "Đã tải lên phiên bản mới.",
        "attach": "Đã thêm tệp đính kèm.",
        "assign": "Đã phân công xử lý; người, đơn vị được giao đã được báo.",
        "start": "Đã ghi nhận bắt đầu xử lý.",
        "progress": "Đã cập nhật tiến độ.",
        "complete": "Đã báo cáo xử lý xong."
        + (" Văn bản đã xử lý xong; nơi gửi đã được báo." if document.status == Status.DONE else ""),
        "return_incoming": "Đã trả lại văn bản cho nơi gửi.",
    }
    return messages_for.get(action, "Đã lưu.")


@officer_required
@require_POST
def act(request, pk, action):
    document = _get(request, pk)
    post = request.POST
    if action not in ACTION_LABELS or action == "replace":
        raise Http404()
    try:
        if action in CONFIRMATION and not post.get("xac_nhan"):
            raise DomainError(CONFIRMATION[action], "xac_nhan")
        if document.direction == Direction.OUTGOING:
            document = _act_outgoing(request, document, action)
        else:
            result = _act_incoming(request, document, action)
            if result is not None:
                return result  # the assignment form with its field messages
            document = _get(request, pk)
    except DomainError as error:
        messages.error(request, f"{ACTION_LABELS[action]}: {error.message}")
    else:
        messages.success(request, done_message(document, action))
    return redirect("documents:document", pk=pk)


def _act_outgoing(request, document: Document, action: str) -> Document:
    post, user = request.POST, request.user
    if action == "submit":
        return outgoing.submit(document, user)
    if action == "approve":
        return outgoing.approve(document, user, note=forms.note(post))
    if action == "return":
        return outgoing.return_for_changes(document, user, forms.note(post, "reason", 1000))
    if action == "sign":
        return outgoing.sign(document, user)
    if action == "issue":
        return outgoing.issue(document, user)
    if action == "recall":
        return outgoing.recall(document, user, forms.note(post, "reason", 500))
    if action == "comment":
        outgoing.comment(document, user, forms.note(post, "text", 4000))
        return document
    if action == "version":
        outgoing.add_version(document, user, file=_upload(request), note=forms.note(post, "note", 500))
        return document
    if action == "attach":
        outgoing.add_attachments(document, user, files=request.FILES.getlist("attachments"))
        return document
    raise DomainError("Thao tác này không dành cho văn bản đi.", "action")


def _act_incoming(request, document: Document, action: str):
    post, user = request.POST, request.user
    if action == "assign":
        units, people = _assignment_choices(document)
        form = forms.assignment(post, units=units, people=people)
        if form.valid:
            arguments = dict(form.arguments)
            assignees = [incoming.Assignee(**line) for line in arguments.pop("assignees")]
            try:
                incoming.assign(document, user, assignees=assignees, **arguments)
                return None
            except DomainError as error:
                form.fail(error, default_field="lead_unit")
        messages.error(request, "Phân công xử lý: hãy sửa các mục được đánh dấu.")
        return _incoming_page(request, document, assign_form=form, status=400)
    if action in ("start", "progress", "complete"):
        task = _assignment_of(document, request)
        if action == "start":
            incoming.start(task, user, note=forms.note(post, "note", 1000))
        elif action == "progress":
            incoming.record_progress(task, user, note=forms.note(post, "note", 1000))
        else:
            incoming.complete(task, user, result_note=forms.note(post, "result_note", 4000))
        return None
    if action == "return_incoming":
        incoming.return_incoming(document, user, reason=forms.note(post, "reason", 500))
        return None
    raise DomainError("Thao tác này không dành cho văn bản đến.", "action")


# ---------------------------------------------------------------- registers


def _year(request) -> int:
    return params.integer(request.GET.get("nam"), "nam", default=_today().year, minimum=1900, maximum=2199)


@officer_required
def register(request, direction):
    """Sổ văn bản đi / sổ văn bản đến of a year: the officer's agencies (one of them with
    ?co_quan=), a document type (?loai=), newest number first, 50 a page."""
    user = request.user
    year = _year(request)
    agencies = list(selectors.register_agencies(user))
    agency_id = params.integer(request.GET.get("co_quan"), "co_quan", minimum=1)
    if agency_id is not None and agency_id not in {a.pk for a in agencies}:
        raise DomainError("Hãy chọn một cơ quan trong danh sách.", "co_quan")
    types = list(DocumentType.objects.filter(active=True))
    type_code = request.GET.get("loai", "")[:40]
    document_type = next((t for t in types if t.code == type_code), None)
    if direction == Direction.OUTGOING:
        rows = selectors.outgoing_register(user, year=year, agency_id=agency_id, document_type=document_type)
    else:
        rows = selectors.incoming_register(user, year=year, agency_id=agency_id, document_type=document_type)
    return render(
        request,
        "documents/register.html",
        {
            **_nav_context(user),
            "current": "so-di" if direction == Direction.OUTGOING else "so-den",
            "outgoing": direction == Direction.OUTGOING,
            "title": "Sổ văn bản đi" if direction == Direction.OUTGOING else "Sổ văn bản đến",
            "year": year,
            "years": list(range(_today().year, _today().year - 6, -1)),
            "agencies": agencies,
            "agency_id": agency_id,
            "types": types,
            "type_code": document_type.code if document_type else "",
            "page": _window(rows, request),
            "query": _query_without_page(request),
        },
    )


@officer_required
def register_incoming(request):
    """Vào sổ văn bản đến (văn thư): a document that came on paper or by e-mail."""
    user = request.user
    agencies = list(own_agencies(user).filter(pk__in=agency_ids(user, [Role.CLERK])))
    if not agencies:
        raise PermissionDenied("Chỉ văn thư cơ quan vào sổ văn bản đến.")
    types = list(DocumentType.objects.filter(active=True))
    senders = list(agencies_valid_on(_today()).order_by("name"))
    status = 200
    if request.method == "POST":
        form = forms.register_incoming(request.POST, request.FILES, agencies=agencies, types=types, senders=senders)
        if form.valid:
            try:
                document = incoming.register_incoming(
                    user, **form.arguments, key=request.POST.get("idempotency_key", "")[:64]
                )
            except DomainError as error:
                form.fail(error)
            else:
                messages.success(
                    request,
                    f"Đã vào sổ văn bản đến số {document.arrival_number}, ngày {document.arrival_date:%d/%m/%Y}.",
                )
                return redirect("documents:document", pk=document.pk)
        status = 400
    else:
        form = forms.Form(values={"urgency": Urgency.NORMAL, "confidentiality": Confidentiality.NORMAL})
    return render(
        request,
        "documents/register_incoming.html",
        {
            **_nav_context(user),
            "current": "vao-so",
            "form": form,
            "agencies": agencies,
            "types": types,
            "senders": senders,
            "urgencies": Urgency.choices,
            "confidentialities": Confidentiality.choices,
            "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        },
        status=status,
    )


# ---------------------------------------------------------------- search


# An excerpt may name a person: the terms are posted and the results page carries only a token
# (core.privacy.private_search), never what was typed.
SEARCH_FIELDS = ("q",)


@officer_required
def search(request):
    user = request.user
    terms, redirect_to = privacy.private_search(request, SEARCH_FIELDS)
    if redirect_to is not None:
        return redirect_to
    searched = terms.get("q", "").strip()[:200]
    window, total = None, 0
    if searched:
        number = params.page(request.GET.get("trang"), "trang", size=PAGE_SIZE)
        found = selectors.search(user, searched, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        total = found.total
        window = Window(found.documents, number, number > 1, number * PAGE_SIZE < total)
    return render(
        request,
        "documents/search.html",
        {
            **_nav_context(user),
            "current": "tim-kiem",
            "today": _today(),
            "searched": searched,
            "total": total,
            "page": window,
            "query": privacy.search_query(request),
        },
    )

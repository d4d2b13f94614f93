"""Reads of documents for the officers' pages, the API and the inbox counts, every one scoped to
the officer's agencies (documents.scope.scope_of: their agencies and those they succeeded; the
province administrator and auditors see all). A document outside the scope is "not found".

Queues (what is waiting for this officer), in the order an officer works through them:
drafts (mine), waiting for my review/approval (the current ApprovalStep's role is one I hold in the
document's agency), waiting for my signature (leader), waiting to be issued (clerk), incoming to
assign (leader), assigned to me, overdue, directive tasks. `inbox_counts` counts them all."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from chinhquyenso.accounts.models import Membership, Role
from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import NotFound
from chinhquyenso.documents import scope
from chinhquyenso.documents import search as full_text
from chinhquyenso.documents.models import (
    ApprovalStep,
    Assignment,
    Direction,
    Document,
    DocumentStep,
    Recipient,
)
from chinhquyenso.documents.scope import scope_of
from chinhquyenso.org.models import Agency

Status = Document.Status
OPEN = (Assignment.Status.ASSIGNED, Assignment.Status.IN_PROCESS)
LIST_RELATED = ("document_type", "agency", "sender_agency", "register")
ISSUED_STATUSES = (Status.ISSUED, Status.RECALLED, Status.REPLACED)


def _today(today: dt.date | None = None) -> dt.date:
    return today or local_date(timezone.now())


def visible_documents(user) -> QuerySet[Document]:
    """Every document the officer may see (any direction, any status)."""
    rule = scope.visible(user)
    documents = Document.objects.all()
    return documents if rule is None else documents.filter(rule)


def get_document(user, pk) -> Document:
    """The document if this officer may see it; otherwise "not found" (never revealing that it exists)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = 0
    document = visible_documents(user).select_related(*LIST_RELATED, "current_file").filter(pk=pk).first()
    if document is None:
        raise NotFound("Không tìm thấy văn bản.", "document")
    return document


def _roles_by_agency(user) -> dict[int, set[str]]:
    """The officer's roles per agency (their own memberships: acting needs a role, not a scope)."""
    roles: dict[int, set[str]] = defaultdict(set)
    if getattr(user, "pk", None):
        for agency_id, role in Membership.objects.filter(user=user, user__is_active=True).values_list(
            "agency_id", "role"
        ):
            roles[agency_id].add(role)
    return roles


def _agencies_with(user, *roles: str) -> list[int]:
    return sorted(a for a, held in _roles_by_agency(user).items() if held & set(roles))


# ---------------------------------------------------------------- outgoing queues


def drafts(user) -> QuerySet[Document]:
    """Outgoing drafts the officer created (returned drafts included), newest first."""
    return (
        visible_documents(user)
        .filter(direction=Direction.OUTGOING, status=Status.DRAFT, created_by=user)
        .select_related(*LIST_RELATED)
        .order_by("-updated_at", "-id")
    )


def awaiting_my_review(user) -> QuerySet[Document]:
    """Drafts in review whose next approval step is for a role the officer holds in the document's agency."""
    condition = Q(pk__in=[])
    for agency_id, roles in _roles_by_agency(user).items():
        step = ApprovalStep.objects.filter(
            flow_id=OuterRef("approval_flow_id"), order=OuterRef("approval_step") + 1, role__in=sorted(roles)
        )
        condition |= Q(Exists(step), agency_id=agency_id)
    return (
        Document.objects.filter(condition, direction=Direction.OUTGOING, status=Status.IN_REVIEW)
        .select_related(*LIST_RELATED)
        .order_by("updated_at", "id")
    )


def awaiting_my_signature(user) -> QuerySet[Document]:
    """Approved drafts waiting for a leader's personal signature."""
    return (
        Document.objects.filter(
            direction=Direction.OUTGOING, status=Status.APPROVED, agency_id__in=_agencies_with(user, Role.LEADER)
        )
        .select_related(*LIST_RELATED)
        .order_by("updated_at", "id")
    )


def awaiting_issue(user) -> QuerySet[Document]:
    """Signed documents waiting for the clerk to number and issue them (and numbered ones whose agency
    signature failed, to issue again)."""
    return (
        Document.objects.filter(
            direction=Direction.OUTGOING,
            status__in=[Status.SIGNED, Status.NUMBERED],
            agency_id__in=_agencies_with(user, Role.CLERK),
        )
        .select_related(*LIST_RELATED)
        .order_by("updated_at", "id")
    )


def _narrowed(documents: QuerySet[Document], agency_id, document_type) -> QuerySet[Document]:
    if agency_id is not None:
        documents = documents.filter(agency_id=agency_id)
    if document_type is not None:
        code = document_type if isinstance(document_type, str) else document_type.code
        documents = documents.filter(document_type__code=code)
    return documents


def outgoing_register(user, *, year: int, agency_id: int | None = None, document_type=None) -> QuerySet[Document]:
    """Sổ văn bản đi: the documents issued in `year` (numbered: issued, recalled or replaced since),
    newest number first; `document_type` a DocumentType or its code."""
    documents = visible_documents(user).filter(
        direction=Direction.OUTGOING, number__isnull=False, issued_on__year=year, status__in=ISSUED_STATUSES
    )
    documents = _narrowed(documents, agency_id, document_type)
    return documents.select_related(*LIST_RELATED).order_by("agency__name", "register_id", "-number")


def recipients_of(document: Document) -> QuerySet[Recipient]:
    """The distribution of an outgoing document and how far each recipient got (what the sender sees)."""
    return document.recipients.select_related("agency", "incoming_document").order_by("id")


# ---------------------------------------------------------------- incoming


def usual_place(agency_id: int) -> str:
    """Địa danh (Nghị định 30/2020, Phụ lục I) a new draft of the agency starts with: the one its
    latest outgoing document gave, else the province's name (CQS_PROVINCE_NAME) — the officer
    corrects it for a district or commune that writes its own place name."""
    latest = (
        Document.objects.filter(agency_id=agency_id, direction=Direction.OUTGOING)
        .exclude(place="")
        .order_by("-created_at", "-id")
        .values_list("place", flat=True)
        .first()
    )
    return latest or settings.CQS.get("PROVINCE_NAME", "")


def incoming_register(user, *, year: int, agency_id: int | None = None, document_type=None) -> QuerySet[Document]:
    """Sổ văn bản đến: the documents registered in `year`, newest arrival number first."""
    documents = visible_documents(user).filter(direction=Direction.INCOMING, arrival_date__year=year)
    documents = _narrowed(documents, agency_id, document_type)
    return documents.select_related(*LIST_RELATED).order_by("agency__name", "register_id", "-arrival_number")


def incoming_to_assign(user) -> QuerySet[Document]:
    """Registered incoming documents waiting for a leader of the officer's agencies to assign them,
    most urgent first."""
    urgency_order = ["flash", "very_urgent", "urgent", "normal"]
    from django.db.models import Case, IntegerField, Value, When

    rank = Case(*[When(urgency=u, then=Value(i)) for i, u in enumerate(urgency_order)], output_field=IntegerField())
    return (
        Document.objects.filter(
            direction=Direction.INCOMING,
            status=Status.REGISTERED,
            agency_id__in=_agencies_with(user, Role.LEADER, Role.CLERK),
        )
        .select_related(*LIST_RELATED)
        .annotate(urgency_rank=rank)
        .order_by("urgency_rank", "arrival_date", "arrival_number")
    )


def _mine(user) -> Q:
    """Assignments the officer handles: named, or given to a unit where they are a leader (or a
    specialist, when no person is named)."""
    if not getattr(user, "pk", None):
        return Q(pk__in=[])
    roles = _roles_by_agency(user)
    leads = [a for a, held in roles.items() if Role.LEADER in held]
    specialists = [a for a, held in roles.items() if Role.SPECIALIST in held]
    return Q(user=user) | Q(agency_id__in=leads) | Q(user__isnull=True, agency_id__in=specialists)


def _assignments() -> QuerySet[Assignment]:
    return Assignment.objects.select_related(
        "document", "document__document_type", "document__agency", "agency", "user"
    )


def _deadline_first(assignments: QuerySet[Assignment]) -> QuerySet[Assignment]:
    return assignments.order_by(F("deadline").asc(nulls_last=True), "assigned_at", "id")


def my_assignments(user, *, open_only: bool = True) -> QuerySet[Assignment]:
    """Assignments the officer handles, nearest deadline first."""
    assignments = _assignments().filter(_mine(user)).exclude(role=Assignment.Role.INFORM)
    if open_only:
        assignments = assignments.filter(status__in=OPEN)
    return _deadline_first(assignments)


def for_information(user) -> QuerySet[Assignment]:
    """Documents sent to the officer "để biết" (for information)."""
    return _assignments().filter(_mine(user), role=Assignment.Role.INFORM, status__in=OPEN).order_by("-assigned_at")


def overdue(user, *, today: dt.date | None = None) -> QuerySet[Assignment]:
    """Open assignments past their deadline: those the officer handles, and for a leader every
    assignment of the incoming documents of their agencies. Oldest deadline first."""
    today = _today(today)
    leads = _agencies_with(user, Role.LEADER)
    return (
        _assignments()
        .filter(_mine(user) | Q(document__agency_id__in=leads))
        .filter(status__in=OPEN, deadline__lt=today)
        .exclude(role=Assignment.Role.INFORM)
        .order_by("deadline", "id")
    )


def directive_tasks(
    user, *, agency_id: int | None = None, open_only: bool = True, today: dt.date | None = None
) -> QuerySet[Assignment]:
    """Tasks of directive documents (văn bản chỉ đạo) of the officer's agencies, overdue first, then
    by deadline; `agency_id` narrows to one receiving agency."""
    today = _today(today)
    agencies = scope_of(user)
    tasks = _assignments().filter(is_directive=True)
    if agencies is not None:
        tasks = tasks.filter(document__agency_id__in=agencies)
    if agency_id is not None:
        tasks = tasks.filter(document__agency_id=agency_id)
    if open_only:
        tasks = tasks.filter(status__in=OPEN)
    from django.db.models import BooleanField, Case, Value, When

    late = Case(
        When(status__in=OPEN, deadline__lt=today, then=Value(True)), default=Value(False), output_field=BooleanField()
    )
    return tasks.annotate(is_overdue=late).order_by(
        "-is_overdue", F("deadline").asc(nulls_last=True), "assigned_at", "id"
    )


def assignments_of(document: Document) -> QuerySet[Assignment]:
    return document.assignments.select_related("agency", "user", "assigned_by", "result_document").order_by("id")


def timeline(document: Document) -> QuerySet[DocumentStep]:
    return document.steps.select_related("actor", "agency").order_by("at", "id")


def is_overdue(assignment: Assignment, today: dt.date | None = None) -> bool:
    return assignment.status in OPEN and assignment.deadline is not None and assignment.deadline < _today(today)


# ---------------------------------------------------------------- the index page's queues and counts

QUEUES = {
    "du-thao": "Dự thảo của tôi",
    "cho-duyet": "Chờ tôi duyệt",
    "cho-ky": "Chờ lãnh đạo ký",
    "cho-ban-hanh": "Chờ văn thư ban hành",
    "den-cho-phan-cong": "Văn bản đến chờ phân công",
    "giao-toi": "Được giao xử lý",
    "qua-han": "Quá hạn xử lý",
    "chi-dao": "Nhiệm vụ chỉ đạo",
}


def _documents_of(assignments: QuerySet[Assignment]) -> QuerySet[Document]:
    """The documents of some assignments, the nearest of those assignments' deadlines first."""
    return (
        Document.objects.filter(pk__in=assignments.values("document_id"))
        .select_related(*LIST_RELATED)
        .annotate(next_deadline=Min("assignments__deadline", filter=Q(assignments__in=assignments.values("pk"))))
        .order_by(F("next_deadline").asc(nulls_last=True), "arrival_date", "id")
    )


def queue(user, key: str, *, today: dt.date | None = None) -> QuerySet[Document]:
    """The documents of one queue of the index page (QUEUES); an unknown key is "not found"."""
    if key == "du-thao":
        return drafts(user)
    if key == "cho-duyet":
        return awaiting_my_review(user)
    if key == "cho-ky":
        return awaiting_my_signature(user)
    if key == "cho-ban-hanh":
        return awaiting_issue(user)
    if key == "den-cho-phan-cong":
        return incoming_to_assign(user)
    if key == "giao-toi":
        return _documents_of(my_assignments(user))
    if key == "qua-han":
        return _documents_of(overdue(user, today=today))
    if key == "chi-dao":
        return _documents_of(directive_tasks(user, today=today))
    raise NotFound("Không có danh sách này.", "queue")


def queue_counts(user, *, today: dt.date | None = None) -> dict[str, int]:
    """How many documents wait in each queue (the index page's tabs, the back office's header)."""
    return {key: queue(user, key, today=today).count() for key in QUEUES}


def register_agencies(user) -> QuerySet[Agency]:
    """The agencies whose registers the officer may read (the registers' agency filter)."""
    agencies = scope_of(user)
    found = Agency.objects.all() if agencies is None else Agency.objects.filter(pk__in=agencies)
    return found.order_by("name", "pk")


# ---------------------------------------------------------------- counts and search


def search(user, query: str, *, direction: str | None = None, offset: int = 0, limit: int = 20):
    """Full-text search (documents.search.search): every word, diacritics ignored, best first."""
    return full_text.search(user, query, direction=direction, offset=offset, limit=limit)

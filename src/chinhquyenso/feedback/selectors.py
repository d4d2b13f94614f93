"""Reads of citizen feedback, scoped by who asks.

Public reads (list, map, Open311 GET) never carry personal data: no
reporter, phone, e-mail or exact address, and a rounded point. Officers see
the reports their agencies hold or held (and their predecessors'); IOC
operators, the province administrator and auditors see all; a reporter
sees their own (signed in, or with the report's token)."""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Avg, Count, Exists, Max, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.query import ModelIterable
from django.utils import timezone

from chinhquyenso.accounts.access import scope_agency_ids
from chinhquyenso.accounts.models import Role
from chinhquyenso.accounts.selectors import agency_ids, has_role, is_ioc_operator, is_read_only, sees_whole_province
from chinhquyenso.core.calendar import LOCAL_TZ, WorkingCalendar, calendar_for, closing_time, local_date
from chinhquyenso.core.errors import NotFound
from chinhquyenso.core.privacy import mask_personal_data
from chinhquyenso.core.text import fold
from chinhquyenso.feedback.conf import conf
from chinhquyenso.feedback.models import (
    OPEN_STATUSES,
    AreaPoint,
    Category,
    Escalation,
    Feedback,
    FeedbackEvent,
    Photo,
    Status,
)
from chinhquyenso.org.models import Agency, AgencyKind

# Fields a public page or API answer may show.
PUBLIC_FIELDS = (
    "code",
    "title",
    "description",
    "status",
    "category__code",
    "category__name",
    "area__name",
    "area__code",
    "agency__name",
    "latitude",
    "longitude",
    "received_at",
    "resolved_at",
    "due_at",
    "public_reply",
    "rejection_reason",
    "updated_at",
    "merged_into__code",
)
# What the reporter sees in their timeline besides public entries.
REPORTER_ACTIONS = {"request_info", "provide_info", "rate", "reopen"}
PUBLIC_DECIMALS = Decimal("0.001")  # ~100 m: the place, not the house


# Free texts a public page or API answer shows: citizens (and officers quoting them) type ID
# numbers, phones and e-mail addresses into them, masked at publication (Decree 13/2023).
PUBLIC_TEXTS = ("title", "description", "public_reply", "rejection_reason", "rating_comment")


class _MaskedReports(ModelIterable):
    """Yields reports with their public texts masked. Set on the queryset by
    public_reports(), it survives every filter, only(), annotate() and slice
    chained after it (Django copies a queryset's iterable class to its
    clones), so the public list, map, report page and Open311 answers all
    mask in this one place. Only loaded fields are masked (never a deferred
    one: that would query it). The instances are for display only."""

    def __iter__(self):
        for report in super().__iter__():
            for name in PUBLIC_TEXTS:
                if name in report.__dict__:
                    setattr(report, name, mask_personal_data(report.__dict__[name]))
            yield report


def active_categories() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).order_by("order", "name")


# ---------------------------------------------------------------- public


def public_reports(
    *,
    category_code: str = "",
    status: str | list = "",
    area_code: str = "",
    start=None,
    end=None,
    codes=None,
    q: str = "",
) -> QuerySet[Feedback]:
    """Reports for public pages and the Open311 API, newest first, with only
    the public fields loaded (`public_point` rounds the location)."""
    qs = Feedback.objects.select_related("category", "area", "agency", "merged_into").only(*PUBLIC_FIELDS)
    if category_code:
        qs = qs.filter(category__code__in=[c for c in str(category_code).split(",") if c])
    if status:
        qs = qs.filter(status__in=status if isinstance(status, (list, tuple)) else str(status).split(","))
    if area_code:
        qs = qs.filter(Q(area__code=area_code) | Q(area__electronic_code=area_code))
    if start:
        qs = qs.filter(received_at__gte=start)
    if end:
        qs = qs.filter(received_at__lte=end)
    if codes:
        qs = qs.filter(code__in=list(codes))
    q = public_search_text(q)
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(title__icontains=q) | Q(category__name__icontains=q))
    qs = qs.order_by("-received_at", "-id")
    qs._iterable_class = _MaskedReports
    return qs


def public_point(feedback: Feedback) -> tuple[Decimal, Decimal] | None:
    """The location rounded to ~100 m (the exact point may be someone's home)."""
    if feedback.latitude is None or feedback.longitude is None:
        return None
    return (
        Decimal(feedback.latitude).quantize(PUBLIC_DECIMALS, ROUND_HALF_UP),
        Decimal(feedback.longitude).quantize(PUBLIC_DECIMALS, ROUND_HALF_UP),
    )


def public_timeline(feedback: Feedback) -> list[FeedbackEvent]:
    """The public entries, their texts masked like the report's (an officer's reply may quote a phone)."""
    events = list(feedback.events.filter(is_public=True).select_related("agency").order_by("at", "id"))
    for event in events:
        event.text = mask_personal_data(event.text)
    return events


def final_report(feedback: Feedback) -> Feedback:
    """The report a merged duplicate follows (its original), else itself."""
    seen = set()
    while feedback.merged_into_id and feedback.pk not in seen:
        seen.add(feedback.pk)
        feedback = Feedback.objects.select_related("category", "area", "agency").get(pk=feedback.merged_into_id)
    return feedback


# ---------------------------------------------------------------- citizens


def get_for_citizen(code: str, user=None, token: str = "") -> Feedback:
    """The reporter's own report (by account or by token); otherwise not found."""
    feedback = Feedback.objects.select_related("category", "area", "agency", "merged_into").filter(code=code).first()
    if feedback is None:
        raise NotFound("Không tìm thấy phản ánh với mã này.", "code")
    own = getattr(user, "pk", None) and feedback.reporter_id == user.pk
    if not own and not (token and hmac.compare_digest(str(token), feedback.token)):
        raise NotFound("Không tìm thấy phản ánh với mã này.", "code")
    return feedback


def own_feedback(user) -> QuerySet[Feedback]:
    if not getattr(user, "pk", None) or not getattr(user, "is_citizen", False):
        return Feedback.objects.none()
    return Feedback.objects.filter(reporter=user).select_related("category", "agency").order_by("-received_at", "-id")


def reporter_timeline(feedback: Feedback) -> QuerySet[FeedbackEvent]:
    return (
        feedback.events.filter(Q(is_public=True) | Q(action__in=REPORTER_ACTIONS))
        .select_related("agency")
        .order_by("at", "id")
    )


# ---------------------------------------------------------------- officers


def sees_all_feedback(user) -> bool:
    return is_ioc_operator(user) or sees_whole_province(user)


def visible_feedback(user) -> QuerySet[Feedback]:
    """Officers: reports their agencies (or the agencies they succeeded) hold
    or held; IOC operators, the province administrator, auditors: all."""
    if not getattr(user, "pk", None) or getattr(user, "is_citizen", False):
        return Feedback.objects.none()
    if sees_all_feedback(user):
        return Feedback.objects.all()
    ids = scope_agency_ids(user)
    if not ids:
        return Feedback.objects.none()
    held = FeedbackEvent.objects.filter(feedback=OuterRef("pk"), agency_id__in=ids)
    return Feedback.objects.filter(Q(agency_id__in=ids) | Exists(held))


def get_for_officer(user, code: str) -> Feedback:
    feedback = (
        visible_feedback(user)
        .filter(code=code)
        .select_related("category", "area", "agency", "merged_into", "split_from", "dossier")
        .first()
    )
    if feedback is None:
        raise NotFound("Không tìm thấy phản ánh với mã này.", "code")
    return feedback


def can_read_contact(user, feedback: Feedback) -> bool:
    """Reporter's name, phone, e-mail and exact address: only the handling
    agency's officers and IOC operators (not auditors, not other agencies)."""
    if not getattr(user, "pk", None) or getattr(user, "is_citizen", False):
        return False
    if is_ioc_operator(user):
        return True
    return feedback.agency_id is not None and has_role(
        user, feedback.agency_id, Role.COUNTER_OFFICER, Role.SPECIALIST, Role.LEADER
    )


def officer_timeline(feedback: Feedback) -> QuerySet[FeedbackEvent]:
    return feedback.events.select_related("agency", "actor").order_by("at", "id")


def inbox(
    user, *, status: str = "", overdue_only: bool = False, limit: int = 50, offset: int = 0
) -> QuerySet[Feedback]:
    """Open reports the user may see, most urgent first."""
    qs = visible_feedback(user).filter(status__in=OPEN_STATUSES)
    if status:
        qs = qs.filter(status=status)
    if overdue_only:
        qs = qs.filter(status__in=[Status.ASSIGNED, Status.IN_PROGRESS], due_at__lt=timezone.now())
    return qs.select_related("category", "agency").order_by("due_at", "id")[offset : offset + limit]


def operator_queue() -> QuerySet[Feedback]:
    """Reports no agency could be found for: the IOC operators route them."""
    return (
        Feedback.objects.filter(status=Status.RECEIVED, agency__isnull=True)
        .select_related("category", "area")
        .order_by("received_at", "id")
    )


def available_actions(user, feedback: Feedback, token: str = "") -> list[str]:
    """The service calls this user may make on this report now (pages show
    only these buttons; the services check again)."""
    from chinhquyenso.feedback.services import is_reporter

    actions = []
    status = feedback.status
    reporter = is_reporter(feedback, user, token)
    if reporter:
        if status == Status.WAITING_INFO:
            actions.append("provide_info")
        if status in (Status.RESOLVED, Status.REJECTED):
            actions.append("rate")
        if (
            status == Status.RESOLVED
            and feedback.resolved_at
            and timezone.now() <= feedback.resolved_at + dt.timedelta(days=7)
        ):
            actions.append("reopen")
    if not getattr(user, "pk", None) or getattr(user, "is_citizen", False) or is_read_only(user):
        return actions
    ioc = is_ioc_operator(user)
    officer = feedback.agency_id is not None and has_role(
        user, feedback.agency_id, Role.COUNTER_OFFICER, Role.SPECIALIST, Role.LEADER
    )
    leader = feedback.agency_id is not None and has_role(user, feedback.agency_id, Role.LEADER)
    decider = feedback.agency_id is not None and has_role(user, feedback.agency_id, Role.SPECIALIST, Role.LEADER)
    if (ioc or leader) and status in (Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS):
        actions.append("assign")
    if officer and status == Status.ASSIGNED:
        actions.append("start")
    if officer and status in (Status.ASSIGNED, Status.IN_PROGRESS):
        actions += ["request_info", "resolve"]
    if (ioc or decider) and status in OPEN_STATUSES:
        actions.append("reject")
    if (ioc or leader) and status in OPEN_STATUSES:
        actions += ["merge", "split"]
    if ioc or officer:
        actions.append("comment")
    return actions


def time_left(
    feedback: Feedback, now: dt.datetime | None = None, calendar: WorkingCalendar | None = None
) -> int | None:
    """Working days left until the deadline (negative: overdue by that many);
    None when the clock is not running (closed or waiting for the citizen).
    Pass `calendar` (covering now and the due date) for many reports at once."""
    if feedback.status not in RUNNING or feedback.due_at is None:
        return None
    now = now or timezone.now()
    today, due = local_date(now), local_date(feedback.due_at)
    calendar = calendar or calendar_for(min(today, due), max(today, due), days_after=1)
    if due >= today:
        return calendar.working_days_between(today, due)
    return -calendar.working_days_between(due, today)


def open_state(feedback: Feedback, now: dt.datetime | None = None) -> str:
    """'in_time', 'overdue' or 'paused' for open reports; '' for finished ones."""
    if feedback.status == Status.WAITING_INFO:
        return "paused"
    if feedback.status not in OPEN_STATUSES:
        return ""
    return "overdue" if feedback.due_at and (now or timezone.now()) > feedback.due_at else "in_time"


# ---------------------------------------------------------------- IOC: escalations
# (The messages that could not be delivered: exchange.selectors.undelivered(user, kind_prefix="feedback.").)


def recent_escalations(*, level: int | None = None, since: dt.datetime | None = None) -> QuerySet[Escalation]:
    qs = Escalation.objects.select_related("feedback", "feedback__agency", "to_agency").order_by("-at", "-id")
    if level:
        qs = qs.filter(level=level)
    if since:
        qs = qs.filter(at__gte=since)
    return qs


def status_counts(qs: QuerySet[Feedback] | None = None) -> dict[str, int]:
    qs = Feedback.objects.all() if qs is None else qs
    return dict(qs.values_list("status").annotate(n=Count("id")).order_by())


# ---------------------------------------------------------------- indicators


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, day after end 00:00) in local time."""
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=LOCAL_TZ),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ),
    )


MEASURES = {
    "feedback_received": "phản ánh, kiến nghị tiếp nhận (trừ phản ánh trùng đã gộp và phản ánh đã tách)",
    "feedback_resolved": "phản ánh, kiến nghị đã xử lý xong",
    "feedback_resolved_on_time": "phản ánh, kiến nghị xử lý xong trong hạn",
    "feedback_resolved_late": "phản ánh, kiến nghị xử lý xong quá hạn",
    "feedback_rejected": "phản ánh, kiến nghị từ chối (không thuộc phạm vi)",
    "feedback_handling_days": "tổng số ngày làm việc xử lý các phản ánh đã xử lý xong",
    "feedback_rated": "lượt đánh giá mức độ hài lòng",
    "feedback_rating_sum": "tổng điểm đánh giá (1–5)",
    "feedback_satisfied": "lượt đánh giá hài lòng (4–5 điểm)",
    "feedback_open": "phản ánh, kiến nghị đang xử lý cuối kỳ",
    "feedback_open_overdue": "phản ánh, kiến nghị đang xử lý quá hạn cuối kỳ",
}
COUNTED = ~Q(status__in=[Status.MERGED, Status.SPLIT])


def _aggregate(qs, index: str) -> list[dict]:
    """Run an aggregate query; on SQLite name its covering index, which the
    planner would otherwise trade for the agency index's grouping order
    (reading every row of the table). PostgreSQL's planner chooses well."""
    if connection.vendor != "sqlite":
        return list(qs)
    sql, params = qs.query.sql_with_params()
    table = f'FROM "{Feedback._meta.db_table}"'
    sql = sql.replace(table, f"{table} INDEXED BY {index}", 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def indicator_measures(
    start: dt.date, end: dt.date, now: dt.datetime | None = None
) -> dict[int | None, dict[str, int]]:
    """Feedback measures per handling agency version for a period (key None:
    still in the IOC queue), by SQL aggregates over indexed date columns:
    received in the period, resolved / rejected / rated in the period, and
    open at its end (now, for a period not over)."""
    begin, after = _bounds(start, end)
    moment = min(after, now or timezone.now())
    out: dict[int | None, dict[str, int]] = {}

    def add(qs, index, mapping):
        for row in _aggregate(qs, index):
            measures = out.setdefault(row["agency_id"], {})
            for name, key in mapping.items():
                measures[name] = measures.get(name, 0) + int(row[key] or 0)

    base = Feedback.objects.filter(COUNTED)
    add(
        base.filter(received_at__gte=begin, received_at__lt=after)
        .values("agency_id")
        .annotate(n=Count("id"))
        .order_by(),
        "feedback_received_cover",
        {"feedback_received": "n"},
    )
    add(
        base.filter(resolved_at__gte=begin, resolved_at__lt=after)
        .values("agency_id")
        .annotate(
            n=Count("id"),
            n_on_time=Count("id", filter=Q(on_time=True)),
            n_late=Count("id", filter=Q(on_time=False)),
            days=Sum("handling_working_days"),
        )
        .order_by(),
        "feedback_resolved_cover",
        {
            "feedback_resolved": "n",
            "feedback_resolved_on_time": "n_on_time",
            "feedback_resolved_late": "n_late",
            "feedback_handling_days": "days",
        },
    )
    add(
        base.filter(rejected_at__gte=begin, rejected_at__lt=after)
        .values("agency_id")
        .annotate(n=Count("id"))
        .order_by(),
        "feedback_rejected_cover",
        {"feedback_rejected": "n"},
    )
    add(
        base.filter(rated_at__gte=begin, rated_at__lt=after, rating__isnull=False)
        .values("agency_id")
        .annotate(n=Count("id"), total=Sum("rating"), n_satisfied=Count("id", filter=Q(rating__gte=4)))
        .order_by(),
        "feedback_rated_cover",
        {"feedback_rated": "n", "feedback_rating_sum": "total", "feedback_satisfied": "n_satisfied"},
    )
    # Open at the moment: open now, or resolved / rejected since — three index-driven
    # parts (a reopened report is open now and has no resolution time).
    for part, index in (
        (base.filter(status__in=OPEN_STATUSES, received_at__lt=moment), "feedback_open_cover"),
        (base.filter(resolved_at__gte=moment, received_at__lt=moment), "feedback_resolved_cover"),
        (base.filter(rejected_at__gte=moment, received_at__lt=moment), "feedback_rejected_cover"),
    ):
        add(
            part.values("agency_id")
            .annotate(n=Count("id"), n_late=Count("id", filter=Q(due_at__lt=moment)))
            .order_by(),
            index,
            {"feedback_open": "n", "feedback_open_overdue": "n_late"},
        )
    return out


def category_breakdown(start: dt.date, end: dt.date, agency_ids=None) -> list[dict]:
    """Per category: received, resolved, on time, late, average handling days and rating in the period."""
    begin, after = _bounds(start, end)
    qs = Feedback.objects.filter(COUNTED)
    if agency_ids is not None:
        qs = qs.filter(agency_id__in=list(agency_ids))
    received = dict(
        qs.filter(received_at__gte=begin, received_at__lt=after)
        .values_list("category_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    resolved = {
        row["category_id"]: row
        for row in qs.filter(resolved_at__gte=begin, resolved_at__lt=after)
        .values("category_id")
        .annotate(
            n=Count("id"),
            n_on_time=Count("id", filter=Q(on_time=True)),
            n_late=Count("id", filter=Q(on_time=False)),
            days=Avg("handling_working_days"),
            avg_rating=Avg("rating"),
        )
        .order_by()
    }
    rows = []
    for category in Category.objects.filter(pk__in=set(received) | set(resolved)).order_by("order", "name"):
        r = resolved.get(category.pk, {})
        rows.append(
            {
                "category": category,
                "received": received.get(category.pk, 0),
                "resolved": r.get("n", 0),
                "on_time": r.get("n_on_time", 0),
                "late": r.get("n_late", 0),
                "avg_days": r.get("days"),
                "avg_rating": r.get("avg_rating"),
            }
        )
    return rows


# ---------------------------------------------------------------- pages:
# Reads for the feedback pages (feedback/views.py): the form's choices, the
# public search and map, the reporter's and the officer's view, the officer
# queue's tabs and clock, photos by who may see them.

EVENT_LABELS = {
    "submit": "Tiếp nhận phản ánh",
    "assign": "Chuyển cơ quan xử lý",
    "reassign": "Chuyển cơ quan kế thừa",
    "start": "Bắt đầu xử lý",
    "request_info": "Đề nghị người phản ánh bổ sung thông tin",
    "provide_info": "Người phản ánh bổ sung thông tin",
    "resolve": "Xử lý xong",
    "reject": "Từ chối",
    "comment": "Ý kiến nội bộ",
    "reply": "Trả lời",
    "merge": "Gộp vào phản ánh khác",
    "merged_in": "Gộp phản ánh trùng vào đây",
    "split": "Tách phản ánh",
    "rate": "Người phản ánh đánh giá",
    "reopen": "Người phản ánh mở lại",
    "escalate": "Chuyển cấp",
}
RUNNING = (Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS)  # the clock runs
FINISHED = (Status.RESOLVED, Status.REJECTED, Status.CLOSED, Status.MERGED, Status.SPLIT)
AGENCY_TABS = {
    "dang-xu-ly": "Đang xử lý",
    "sap-den-han": "Sắp đến hạn",
    "qua-han": "Quá hạn",
    "cho-cong-dan": "Chờ người phản ánh",
    "da-xu-ly": "Đã xử lý",
}
IOC_TABS = {"cho-dieu-phoi": "Chờ điều phối"}
ALL_TAB = {"tat-ca": "Tất cả"}
_AREA_PREFIX = re.compile(r"^(UBND|Ủy ban nhân dân|Uỷ ban nhân dân)\s+", re.IGNORECASE)


def area_label(name: str) -> str:
    """ "UBND xã Kiến An" → "xã Kiến An": the place, not its committee."""
    return _AREA_PREFIX.sub("", name or "")


def status_group(status: str) -> str:
    """open (being handled), done (resolved) or other (not handled: rejected, merged, split)."""
    if status in (Status.RESOLVED, Status.CLOSED):
        return "done"
    if status in (Status.REJECTED, Status.MERGED, Status.SPLIT):
        return "other"
    return "open"


def commune_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Current communes grouped under their district (or "trực thuộc tỉnh"
    where districts are gone), for the form's and the filters' select."""
    communes = (
        Agency.objects.current()
        .filter(kind=AgencyKind.COMMUNE_COMMITTEE)
        .select_related("parent")
        .order_by("parent__name", "name")
    )
    groups: dict[str, list] = {}
    for commune in communes:
        parent = commune.parent
        in_district = parent is not None and parent.kind == AgencyKind.DISTRICT_COMMITTEE
        label = area_label(parent.name) if in_district else "Trực thuộc tỉnh"
        groups.setdefault(label, []).append((commune.code, area_label(commune.name)))
    return list(groups.items())


def assignable_agencies() -> list[tuple[str, list[Agency]]]:
    """Current agencies an operator may send a report to: provincial bodies,
    then each district with its communes."""
    agencies = list(Agency.objects.current().select_related("parent").order_by("name"))
    province = [a for a in agencies if a.kind not in (AgencyKind.DISTRICT_COMMITTEE, AgencyKind.COMMUNE_COMMITTEE)]
    groups = [("Cơ quan cấp tỉnh", province)] if province else []
    for district in (a for a in agencies if a.kind == AgencyKind.DISTRICT_COMMITTEE):
        groups.append((district.name, [district] + [a for a in agencies if a.parent_id == district.pk]))
    direct = [
        a
        for a in agencies
        if a.kind == AgencyKind.COMMUNE_COMMITTEE
        and (a.parent is None or a.parent.kind != AgencyKind.DISTRICT_COMMITTEE)
    ]
    if direct:
        groups.append(("Xã, phường trực thuộc tỉnh", direct))
    return groups


# --- public search (diacritics folded) and map


@functools.lru_cache(maxsize=1)
def _fold_classes() -> dict[str, str]:
    """Folded letter → the letters of Vietnamese that fold to it, both cases
    ("d" → "dđDĐ", "o" → "oòóỏõọôồốổỗộơờớởỡợ…")."""
    tones = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # none, huyền, sắc, hỏi, ngã, nặng
    letters = {chr(c) for c in range(ord("a"), ord("z") + 1)} | {"đ"}
    letters |= {unicodedata.normalize("NFC", base + tone) for base in "aăâeêioôơuưy" for tone in tones}
    classes: dict[str, str] = {}
    for letter in sorted(letters):
        classes[fold(letter)] = classes.get(fold(letter), "") + letter + letter.upper()
    return classes


def folded_pattern(word: str) -> str:
    """A regular expression matching `word` whatever its diacritics and case
    ("duong" matches "Đường"). Text is stored NFC, so each letter is one
    character; the same pattern works in PostgreSQL and SQLite."""
    classes = _fold_classes()
    return "".join(f"[{classes[ch]}]" if ch in classes else re.escape(ch) for ch in fold(word))


def public_search_text(q: str) -> str:
    """What a public search may look for: the query without ID numbers, phone numbers or e-mail
    addresses. The public texts show them masked, so a search by one would reveal which report
    holds it."""
    return " ".join(word for word in mask_personal_data(q or "").split() if "*" not in word)


def search_public(reports: QuerySet[Feedback], q: str) -> QuerySet[Feedback]:
    """Reports whose code, title, description, category or commune contain
    every word of `q` (less personal data: public_search_text), compared
    without diacritics (Feedback has no folded column, so the database
    compares against a pattern per word)."""
    for word in fold(public_search_text(q)).split()[:8]:
        pattern = folded_pattern(word)
        reports = reports.filter(
            Q(code__icontains=word)
            | Q(title__regex=pattern)
            | Q(description__regex=pattern)
            | Q(category__name__regex=pattern)
            | Q(area__name__regex=pattern)
        )
    return reports


def public_list(*, category_code: str = "", status: str = "", area_code: str = "", q: str = "") -> QuerySet[Feedback]:
    """The public list's reports: public_reports() with the search folded."""
    status = status if status in Status.values else ""
    return search_public(public_reports(category_code=category_code, status=status, area_code=area_code), q)


class MapPoint:
    """One report on the public map: rounded point, no personal data."""

    __slots__ = ("code", "latitude", "longitude", "status", "status_label", "category_name", "area_name")

    def __init__(self, feedback: Feedback, point: tuple[Decimal, Decimal]):
        self.code, self.status = feedback.code, feedback.status
        self.latitude, self.longitude = point
        self.status_label = feedback.get_status_display()
        self.category_name = feedback.category.name
        self.area_name = area_label(feedback.area.name) if feedback.area_id else ""


def map_bounds() -> tuple[float, float, float, float]:
    """(south, north, west, east) of the public map: as configured
    (FEEDBACK_MAP_BOUNDS), else the current communes' reference points
    widened by the distance a map pin may be from a commune; (0, 0, 0, 0)
    before any point is entered."""
    configured = str(conf("FEEDBACK_MAP_BOUNDS") or "").strip()
    if configured:
        south, north, west, east = (float(x) for x in configured.split(","))
        return south, north, west, east
    extent = AreaPoint.objects.filter(agency__valid_to__isnull=True).aggregate(
        south=Min("latitude"), north=Max("latitude"), west=Min("longitude"), east=Max("longitude")
    )
    if extent["south"] is None:
        return (0.0, 0.0, 0.0, 0.0)
    margin = conf("FEEDBACK_PIN_MAX_KM") / 111  # km → degrees (a degree of latitude is ~111 km)
    return (
        float(extent["south"]) - margin,
        float(extent["north"]) + margin,
        float(extent["west"]) - margin,
        float(extent["east"]) + margin,
    )


def map_points(reports: QuerySet[Feedback], *, limit: int, bounds: tuple[float, float, float, float]) -> list[MapPoint]:
    """The newest `limit` reports that have a location inside `bounds`."""
    south, north, west, east = bounds
    rows = reports.filter(latitude__range=(south, north), longitude__range=(west, east))[:limit]
    return [MapPoint(f, public_point(f)) for f in rows]


def area_backdrop() -> list[tuple[Decimal, Decimal]]:
    """Current communes' reference points: drawn faintly, they give the map the province's shape."""
    return list(
        AreaPoint.objects.filter(agency__valid_to__isnull=True, agency__kind=AgencyKind.COMMUNE_COMMITTEE).values_list(
            "latitude", "longitude"
        )
    )


def public_report(code: str) -> Feedback | None:
    """One report's public page: the public fields and the reporter's rating."""
    return public_reports().filter(code=code).only(*PUBLIC_FIELDS, "rating", "rating_comment", "on_time").first()


# --- timelines and photos by audience


def timeline(feedback: Feedback, audience: str) -> list[FeedbackEvent]:
    """Events with a label: "public" (public entries), "reporter" (and the
    exchanges with the reporter), "officer" (everything, internal included)."""
    events = {"public": public_timeline, "reporter": reporter_timeline, "officer": officer_timeline}[audience](feedback)
    events = list(events)
    for event in events:
        event.label = EVENT_LABELS.get(event.action, event.action)
    return events


def open_question(feedback: Feedback) -> str:
    """What the handling agency asked the reporter, while it waits for the answer."""
    if feedback.status != Status.WAITING_INFO:
        return ""
    event = feedback.events.filter(action="request_info").order_by("-at", "-id").first()
    return event.text if event else ""


def reopen_until(feedback: Feedback) -> dt.datetime | None:
    if feedback.status != Status.RESOLVED or feedback.resolved_at is None:
        return None
    return feedback.resolved_at + dt.timedelta(days=conf("FEEDBACK_REOPEN_DAYS"))


def photos(feedback: Feedback, *, with_location: bool) -> list[Photo]:
    """The report's photos; those that kept their GPS position only `with_location`
    (the reporter, and officers who may read the contact details)."""
    rows = feedback.photos.select_related("file")
    return list(rows if with_location else rows.filter(kept_location=False))


def photo_for(photo_id: int, *, user=None, token: str = "") -> tuple[Photo, bool] | None:
    """(photo, public) if this visitor may see it: a photo stripped of its
    location, of a report on the public pages, is public; otherwise only the
    reporter (account or token) and officers who see the report — a photo
    that kept its location only those who may read the contact details."""
    photo = Photo.objects.select_related("file", "feedback").filter(pk=photo_id).first()
    if photo is None:
        return None
    feedback = photo.feedback
    if not photo.kept_location and public_reports().filter(pk=feedback.pk).exists():
        return photo, True
    own = getattr(user, "pk", None) and feedback.reporter_id == user.pk
    if own or (token and hmac.compare_digest(str(token), feedback.token)):
        return photo, False
    if visible_feedback(user).filter(pk=feedback.pk).exists() and (
        not photo.kept_location or can_read_contact(user, feedback)
    ):
        return photo, False
    return None


def follow_report(token: str) -> Feedback | None:
    """The report behind a private follow link."""
    if not token:
        return None
    return Feedback.objects.select_related("category", "area", "agency", "merged_into").filter(token=token).first()


def attribute_display(feedback: Feedback) -> list[tuple[str, str]]:
    """The category's extra fields as the reporter answered them (choice keys shown by name)."""
    out = []
    for spec in feedback.category.attributes or []:
        value = (feedback.attribute_values or {}).get(spec.get("code"))
        if value in (None, "", []):
            continue
        names = {str(v.get("key")): v.get("name") or v.get("key") for v in spec.get("values") or []}
        values = value if isinstance(value, list) else [value]
        out.append((spec.get("description") or spec["code"], ", ".join(str(names.get(str(v), v)) for v in values)))
    return out


# --- officers: queue tabs, the clock, related reports


def works_on_feedback(user) -> bool:
    """Who may open the officers' feedback pages (what they see is scoped by visible_feedback)."""
    if not getattr(user, "pk", None) or getattr(user, "is_citizen", False):
        return False
    return sees_all_feedback(user) or bool(agency_ids(user))


def queue_tabs(user) -> dict[str, str]:
    return {**IOC_TABS, **AGENCY_TABS, **ALL_TAB} if sees_all_feedback(user) else AGENCY_TABS


def _due_soon_horizon(now: dt.datetime) -> dt.datetime:
    """End of the due-soon window: as the escalation's level 1 (FEEDBACK_DUE_SOON_DAYS working days)."""
    today = local_date(now)
    calendar = calendar_for(today, days_after=30)
    return closing_time(calendar.add_working_days(today, conf("FEEDBACK_DUE_SOON_DAYS")))


def _tab_filters(now: dt.datetime) -> dict[str, Q]:
    running = Q(status__in=RUNNING, agency__isnull=False)
    return {
        "cho-dieu-phoi": Q(status=Status.RECEIVED, agency__isnull=True),
        "dang-xu-ly": running,
        "sap-den-han": running & Q(due_at__gte=now, due_at__lte=_due_soon_horizon(now)),
        "qua-han": running & Q(due_at__lt=now),
        "cho-cong-dan": Q(status=Status.WAITING_INFO),
        "da-xu-ly": Q(status__in=FINISHED),
        "tat-ca": Q(),
    }


TAB_ORDER = {
    "cho-dieu-phoi": ("received_at", "id"),
    "cho-cong-dan": ("paused_at", "id"),
    "da-xu-ly": ("-updated_at", "-id"),
    "tat-ca": ("-received_at", "-id"),
}


def officer_queue(user, tab: str, *, now: dt.datetime | None = None) -> QuerySet[Feedback]:
    """One tab of the queue, scoped to the user; the most urgent first."""
    now = now or timezone.now()
    rows = visible_feedback(user).filter(_tab_filters(now)[tab])
    return rows.select_related("category", "area", "agency").order_by(*TAB_ORDER.get(tab, ("due_at", "id")))


def queue_counts(user, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Every tab's count in one query."""
    filters = _tab_filters(now or timezone.now())
    tabs = list(queue_tabs(user))
    counts = visible_feedback(user).aggregate(
        **{f"n{i}": Count("id", filter=filters[key] or None) for i, key in enumerate(tabs)}
    )
    return {key: counts[f"n{i}"] for i, key in enumerate(tabs)}


def clock(feedback: Feedback, calendar: WorkingCalendar, now: dt.datetime) -> tuple[str, str]:
    """(css class, label) of a report's deadline, as working days left or
    overdue; or why the clock does not run. `calendar` covers now and the due date."""
    if feedback.status == Status.WAITING_INFO:
        return "waiting", "Chờ người phản ánh bổ sung"
    if feedback.status in (Status.RESOLVED, Status.CLOSED) and feedback.on_time is not None:
        return ("in_time", "Xử lý xong đúng hạn") if feedback.on_time else ("overdue", "Xử lý xong trễ hạn")
    if feedback.status not in RUNNING or feedback.due_at is None:
        return "waiting", ""
    if feedback.agency_id is None:
        return "waiting", "Chờ điều phối"
    left = time_left(feedback, now, calendar)
    if now > feedback.due_at:
        return "overdue", f"Quá hạn {-left} ngày làm việc" if left else "Quá hạn (hôm nay)"
    css = "due_soon" if left <= conf("FEEDBACK_DUE_SOON_DAYS") else "in_time"
    return css, f"Còn {left} ngày làm việc" if left else "Đến hạn hôm nay"


def related_reports(user, feedback: Feedback) -> list[tuple[str, Feedback]]:
    """The original of a duplicate, the duplicates merged into it, the report
    it was split from and its parts — those the user may open."""
    visible = visible_feedback(user)
    pairs = [("Gộp vào", feedback.merged_into_id), ("Tách từ", feedback.split_from_id)]
    ids = [pk for _, pk in pairs if pk]
    found = {f.pk: f for f in visible.filter(Q(pk__in=ids) | Q(merged_into=feedback) | Q(split_from=feedback))}
    out = [(label, found[pk]) for label, pk in pairs if pk in found]
    out += [("Phản ánh trùng đã gộp vào", f) for f in found.values() if f.merged_into_id == feedback.pk]
    out += [("Phần tách ra", f) for f in found.values() if f.split_from_id == feedback.pk]
    return out


def escalations(feedback: Feedback) -> list[Escalation]:
    """The report's escalations, each with its level's name."""
    from chinhquyenso.feedback.services import ESCALATION_LEVELS

    rows = list(feedback.escalations.select_related("to_agency"))
    for row in rows:
        row.label = ESCALATION_LEVELS.get(row.level, str(row.level))
    return rows

"""The report's status actions, each one transaction on the kernel's
workflow (common.FEEDBACK: guard, row lock, timeline step, audit record):
dispatching (assign, merge, split), handling (start, request_info,
resolve, reject, comment), the reporter's (provide_info, rate, reopen), the
automatic close, and telling the reporter through the outbox.

Lifecycle: received → assigned → in_progress (⇄ waiting_info) → resolved /
rejected → closed (the citizen's rating); a resolved report may be reopened
within FEEDBACK_REOPEN_DAYS (→ in_progress)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from chinhquyenso.accounts.access import require_role
from chinhquyenso.accounts.models import Role
from chinhquyenso.accounts.selectors import is_ioc_operator
from chinhquyenso.core import audit
from chinhquyenso.core.calendar import closing_time, local_date
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.text import nfc
from chinhquyenso.core.workflow import now
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message
from chinhquyenso.feedback.conf import conf
from chinhquyenso.feedback.models import OPEN_STATUSES, Category, Feedback, FeedbackEvent, Photo, Status
from chinhquyenso.feedback.routing import route_category
from chinhquyenso.feedback.services.common import (
    FEEDBACK,
    OFFICER_ROLES,
    assign_initial,
    clean_text,
    handling_calendar,
    handling_start,
    next_code,
)
from chinhquyenso.org.selectors import resolve_agency

NOT_HANDLER = "Bạn không có vai trò phù hợp tại cơ quan đang xử lý phản ánh này."
NOT_REPORTER = "Chỉ người gửi phản ánh mới thực hiện được thao tác này."


# ---------------------------------------------------------------- who may act


def _require_handler(feedback: Feedback, actor, *, roles=OFFICER_ROLES, ioc: bool = False) -> None:
    """Officers of the handling agency in `roles`; IOC operators where `ioc`."""
    if ioc and is_ioc_operator(actor):
        return
    require_role(actor, feedback.agency_id, *roles, message=NOT_HANDLER)


def is_reporter(feedback: Feedback, actor=None, token: str = "") -> bool:
    if getattr(actor, "pk", None) and feedback.reporter_id == actor.pk:
        return True
    return bool(token) and hmac.compare_digest(str(token), feedback.token)


def _require_reporter(feedback: Feedback, actor, token: str) -> None:
    if not is_reporter(feedback, actor, token):
        raise PermissionDenied(NOT_REPORTER)


# ---------------------------------------------------------------- telling the reporter


def reporter_address(feedback: Feedback) -> tuple[str, str] | None:
    """(channel, recipient) to reach the reporter: e-mail if known, else SMS."""
    account = feedback.reporter if feedback.reporter_id else None
    email = feedback.reporter_email or getattr(account, "email", "")
    if email:
        return Message.Channel.EMAIL, email
    phone = feedback.reporter_phone or getattr(account, "phone", "")
    if phone:
        return Message.Channel.SMS, phone
    return None


def notify_reporter(feedback: Feedback, *, kind: str, message: str, at) -> Message | None:
    """Write a message to the report's author into the outbox, in the
    current transaction (kind "feedback.<kind>"; delivered by the outbox's
    worker after commit). An e-mail carries the link to the report's public page; a reporter
    signed in when reporting also sees it in their account's notices (feedback.notifications)."""
    from chinhquyenso.feedback.notifications import tell_reporter_account

    subject = f"Phản ánh {feedback.code}: {feedback.get_status_display().lower()}"
    address = reporter_address(feedback)
    if address is None:
        return tell_reporter_account(feedback, kind=kind, subject=subject, message=message, at=at)
    channel, recipient = address
    body = (
        f"{message}\n\nMã phản ánh: {feedback.code}. Tra cứu tiến độ trên Cổng thông tin của tỉnh "
        f"{settings.CQS['PROVINCE_NAME']} bằng mã này."
    )
    return outbox.enqueue(
        channel=channel,
        recipient=recipient,
        user=feedback.reporter if feedback.reporter_id else None,
        kind=f"feedback.{kind}",
        subject=subject,
        body=body,
        agency_id=feedback.agency_id,
        link=reverse("feedback:report", args=[feedback.code]) if channel == Message.Channel.EMAIL else "",
        source=feedback,
        at=at,
    )


# ---------------------------------------------------------------- dispatching (IOC operators, leaders)


@FEEDBACK.action
def assign(feedback: Feedback, *, actor, agency_code: str, note: str = "", at=None) -> Feedback:
    """Send the report to an agency (from the IOC queue) or reassign it: IOC
    operators, or a leader of the agency holding it. The deadline stays the
    one given to the citizen at receipt."""
    feedback, at = FEEDBACK.begin(feedback, actor, at)
    FEEDBACK.require(feedback, Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS, action="chuyển cơ quan xử lý")
    _require_handler(feedback, actor, roles=(Role.LEADER,), ioc=True)
    target = resolve_agency(agency_code, field="agency_code")
    if not target.is_current:
        raise DomainError(f"Cơ quan “{target.name}” không còn hoạt động.", "agency_code")
    if target.pk == feedback.agency_id:
        raise DomainError("Phản ánh đang do chính cơ quan này xử lý.", "agency_code")
    note = clean_text(note, "note", "Ghi chú", required=False, multiline=True)
    feedback.agency, feedback.assigned_at = target, at
    FEEDBACK.transition(
        feedback,
        actor=actor,
        action="assign",
        to_status=Status.ASSIGNED,
        at=at,
        public=True,
        text=f"Chuyển {target.name} xử lý." + (f" {note}" if note else ""),
    )
    return feedback


@FEEDBACK.action
def merge(duplicate: Feedback, *, into: Feedback, actor, at=None) -> Feedback:
    """A duplicate joins its original: it ends as merged, its public page
    points to the original, and its reporter is told now and again when the
    original is resolved. Reports already merged into the duplicate follow."""
    duplicate, at = FEEDBACK.begin(duplicate, actor, at)
    FEEDBACK.require(duplicate, *OPEN_STATUSES, action="gộp")
    _require_handler(duplicate, actor, roles=(Role.LEADER,), ioc=True)
    into = Feedback.objects.select_for_update().get(pk=into.pk)
    if into.pk == duplicate.pk:
        raise DomainError("Không thể gộp phản ánh vào chính nó.", "into")
    if into.status in (Status.MERGED, Status.SPLIT):
        raise DomainError(f"Phản ánh {into.code} đã được gộp hoặc tách; hãy chọn phản ánh gốc.", "into")
    duplicate.merged_into, duplicate.closed_at = into, at
    duplicate.paused_at = duplicate.paused_remaining_days = None
    duplicate.duplicates.filter(status=Status.MERGED).update(merged_into=into)
    FEEDBACK.transition(
        duplicate,
        actor=actor,
        action="merge",
        to_status=Status.MERGED,
        at=at,
        public=True,
        text=f"Trùng nội dung, gộp vào phản ánh {into.code}.",
        audit_extra={"into": into.pk},
    )
    FEEDBACK.record_step(
        into,
        actor=actor,
        action="merged_in",
        at=at,
        from_status=into.status,
        text=f"Phản ánh {duplicate.code} được gộp vào phản ánh này.",
    )
    state = (
        ("đã được xử lý xong: " + into.public_reply)
        if into.status in (Status.RESOLVED, Status.CLOSED) and into.public_reply
        else "đang được xử lý; bạn sẽ nhận thông báo khi có kết quả."
    )
    notify_reporter(
        duplicate,
        kind="merged",
        at=at,
        message=f"Phản ánh {duplicate.code} trùng nội dung với phản ánh {into.code} và đã được gộp. "
        f"Phản ánh {into.code} {state}",
    )
    return duplicate


@FEEDBACK.action
def split(feedback: Feedback, *, actor, parts: list[dict], at=None) -> list[Feedback]:
    """One report about several matters becomes one report per matter, each
    routed on its own. The parts keep the original's receipt time (the
    citizen's clock never restarts), contact, place and photos; the original
    ends as split and points to them."""
    feedback, at = FEEDBACK.begin(feedback, actor, at)
    FEEDBACK.require(feedback, *OPEN_STATUSES, action="tách")
    _require_handler(feedback, actor, roles=(Role.LEADER,), ioc=True)
    if not isinstance(parts, (list, tuple)) or len(parts) < 2:
        raise DomainError("Tách phản ánh cần ít nhất hai phần.", "parts")
    specs = []
    for index, part in enumerate(parts):
        category = Category.objects.filter(code=nfc((part or {}).get("category_code")), is_active=True).first()
        if category is None:
            raise DomainError("Hãy chọn lĩnh vực cho từng phần.", f"parts[{index}].category_code")
        text = clean_text(part.get("description"), f"parts[{index}].description", "Nội dung phần tách", multiline=True)
        specs.append((category, text))
    calendar = handling_calendar(feedback.received_at, at)
    created = []
    photos = list(feedback.photos.all())
    part_codes = [next_code(at) for _ in specs]  # every counter before the first audit record: the lock order
    for index, (category, description) in enumerate(specs, start=1):
        part = Feedback.objects.create(
            code=part_codes[index - 1],
            token=secrets.token_urlsafe(24),
            category=category,
            title=description[:120],
            description=description,
            latitude=feedback.latitude,
            longitude=feedback.longitude,
            address=feedback.address,
            area=feedback.area,
            reporter=feedback.reporter,
            reporter_name=feedback.reporter_name,
            reporter_phone=feedback.reporter_phone,
            reporter_email=feedback.reporter_email,
            phone_verified=feedback.phone_verified,
            channel=feedback.channel,
            api_client=feedback.api_client,
            content_hash=hashlib.sha256(f"split|{feedback.code}|{index}".encode()).hexdigest(),
            client_hash=feedback.client_hash,
            dossier=feedback.dossier,
            split_from=feedback,
            status=Status.RECEIVED,
            received_at=feedback.received_at,
            due_at=calendar.due_at(feedback.received_at, category.handling_days),
        )
        Photo.objects.bulk_create(
            Photo(feedback=part, file_id=p.file_id, order=p.order, kept_location=p.kept_location) for p in photos
        )
        FEEDBACK.created(
            part,
            actor=actor,
            action="submit",
            at=at,
            public=True,
            text=f"Tách từ phản ánh {feedback.code}.",
            audit_extra={"category": category.code, "split_from": feedback.pk},
        )
        assign_initial(part, route_category(category, part.area), at, actor=actor)
        created.append(part)
    feedback.closed_at = at
    feedback.paused_at = feedback.paused_remaining_days = None
    codes = ", ".join(p.code for p in created)
    FEEDBACK.transition(
        feedback,
        actor=actor,
        action="split",
        to_status=Status.SPLIT,
        at=at,
        public=True,
        text=f"Tách thành các phản ánh {codes}.",
        audit_extra={"parts": [p.pk for p in created]},
    )
    notify_reporter(
        feedback,
        kind="split",
        at=at,
        message=f"Phản ánh {feedback.code} gồm nhiều nội dung nên được tách thành các phản ánh {codes}, "
        "mỗi phản ánh do cơ quan phụ trách xử lý.",
    )
    return created


# ---------------------------------------------------------------- handling (the agency's officers)


@FEEDBACK.action
def start(feedback: Feedback, *, actor, at=None) -> Feedback:
    feedback, at = FEEDBACK.begin(feedback, actor, at)
    FEEDBACK.require(feedback, Status.ASSIGNED, action="bắt đầu xử lý")
    _require_handler(feedback, actor)
    FEEDBACK.transition(
        feedback,
        actor=actor,
        action="start",
        to_status=Status.IN_PROGRESS,
        at=at,
        public=True,
        text="Cơ quan đang xử lý.",
    )
    return feedback


@FEEDBACK.action
def request_info(feedback: Feedback, *, actor, question: str, at=None) -> Feedback:
    """Ask the reporter for more information; allowed within the category's
    info-request window. The clock stops: the working days left are kept."""
    feedback, at = FEEDBACK.begin(feedback, actor, at)
    FEEDBACK.require(feedback, Status.ASSIGNED, Status.IN_PROGRESS, action="yêu cầu bổ sung thông tin cho")
    _require_handler(feedback, actor)
    question = clean_text(question, "question", "Nội dung cần bổ sung", multiline=True)
    calendar = handling_calendar(handling_start(feedback), at)
    window = calendar.add_working_days(
        calendar.start_day(handling_start(feedback)), feedback.category.info_request_days
    )
    if local_date(at) > window:
        raise DomainError(
            f"Chỉ được yêu cầu bổ sung thông tin trong {feedback.category.info_request_days} ngày làm việc "
            f"kể từ khi nhận phản ánh (đến {window:%d/%m/%Y}).",
            "question",
        )
    if reporter_address(feedback) is None and not feedback.token:
        raise DomainError("Phản ánh không có thông tin liên hệ để yêu cầu bổ sung.", "question")
    feedback.paused_at = at
    feedback.paused_remaining_days = (
        calendar.working_days_between(local_date(at), local_date(feedback.due_at))
        if feedback.due_at and local_date(feedback.due_at) > local_date(at)
        else 0
    )
    FEEDBACK.transition(
        feedback, actor=actor, action="request_info", to_status=Status.WAITING_INFO, at=at, text=question
    )
    notify_reporter(
        feedback,
        kind="info_requested",
        at=at,
        message=f"Cơ quan xử lý đề nghị bổ sung thông tin cho phản ánh {feedback.code}: {question}",
    )
    return feedback


@FEEDBACK.action
def resolve(feedback: Feedback, *, actor, public_reply: str, at=None) -> Feedback:
    """Resolved: the public reply is published, timeliness fixed (on the due
    date or earlier is on time), the reporter and every duplicate's reporter told."""
    feedback, at = FEEDBACK.begin(feedback, actor, at)
    FEEDBACK.require(feedback, Status.ASSIGNED, Status.IN_PROGRESS, action="kết thúc xử lý")
    _require_handler(feedback, actor)
    reply = clean_text(public_reply, "public_reply", "Nội dung trả lời", multiline=True)
    calendar = handling_calendar(feedback.received_at, at)
    feedback.public_reply, feedback.resolved_at = reply, at
    feedback.on_time = local_date(at) <= local_date(feedback.due_at)
    elapsed = calendar.working_days_between(calendar.start_day(feedback.received_at), local_date(at))
    feedback.handling_working_days = max(0, elapsed - feedback.paused_working_days)
    FEEDBACK.transition(
        feedback,
        actor=actor,
        action="resolve",
        to_status=Status.RESOLVED,
        at=at,
        text=reply,
        public=True,
        audit_extra={"on_time": feedback.on_time},
    )
    message = f"Phản ánh {feedback.code} đã được xử lý xong. Trả lời của cơ quan: {reply}"
    notify_reporter(
        feedback,
        kind="resolved",
        at=at,
        message=message + f"\n\nNếu chưa được giải quyết, bạn có thể mở lại trong {conf('FEEDBACK_REOPEN_DAYS')} ngày; "
        "hãy đánh giá mức độ hài lòng.",
    )
    for duplicate in feedback.duplicates.filter(status=Status.MERGED):
        notify_reporter(
            duplicate,
            kind="original_resolved",
            at=at,
            message=f"Phản ánh {duplicate.code} của bạn đã được gộp vào {feedback.code}. {message}",
        )
    return feedback


@FEEDBACK.action
def reject(feedback: Feedback, *, actor, reason: str, at=None) -> Feedback:
    """Out of scope (không thuộc phạm vi): by the handling agency or an IOC
    operator, with the reason. Records whether the refusal came within the
    category's refusal window (counted from when the agency got it)."""
    feedback, at = FEEDBACK.begin(feedback, actor, at)
    FEEDBACK.require(
        feedback, Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_INFO, action="từ chối"
    )
    _require_handler(feedback, actor, roles=(Role.SPECIALIST, Role.LEADER), ioc=True)
    reason = clean_text(reason, "reason", "Lý do từ chối", multiline=True)
    calendar = handling_calendar(handling_start(feedback), at)
    window = calendar.add_working_days(calendar.start_day(handling_start(feedback)), feedback.category.refusal_days)
    feedback.rejection_reason, feedback.rejected_at = reason, at
    feedback.refusal_on_time = local_date(at) <= window
    feedback.paused_at = feedback.paused_remaining_days = None
    FEEDBACK.transition(
        feedback,
        actor=actor,
        action="reject",
        to_status=Status.REJECTED,
        at=at,
        text=reason,
        public=True,
        audit_extra={"refusal_on_time": feedback.refusal_on_time},
    )
    notify_reporter(
        feedback, kind="rejected", at=at, message=f"Phản ánh {feedback.code} không thuộc phạm vi xử lý. Lý do: {reason}"
    )
    return feedback


@FEEDBACK.action
def comment(feedback: Feedback, *, actor, text: str, public: bool = False, at=None) -> FeedbackEvent:
    """An internal note (officers, IOC) or a public reply (also sent to the
    reporter). Not a status change: the report itself is not saved."""
    feedback, at = FEEDBACK.begin(feedback, actor, at)
    _require_handler(feedback, actor, ioc=True)
    text = clean_text(text, "text", "Nội dung", multiline=True)
    action = "reply" if public else "comment"
    event = FEEDBACK.record_step(
        feedback, actor=actor, action=action, at=at, from_status=feedback.status, text=text, public=public
    )
    audit.record(
        actor=actor,
        action=f"feedback.{action}",
        obj=feedback,
        agency_id=feedback.agency_id,
        at=at,
        after={"event": event.pk, "public": public},
    )
    if public:
        notify_reporter(feedback, kind="reply", at=at, message=f"Cơ quan trả lời về phản ánh {feedback.code}: {text}")
    return event


# ---------------------------------------------------------------- the reporter


@FEEDBACK.action
def provide_info(feedback: Feedback, *, text: str, actor=None, token: str = "", at=None) -> Feedback:
    """The reporter answers (signed in, or with the report's token); the
    clock resumes with the days that were left, from the next start day."""
    feedback, at = FEEDBACK.begin(feedback, actor, at)
    FEEDBACK.require(feedback, Status.WAITING_INFO, action="bổ sung thông tin cho")
    _require_reporter(feedback, actor, token)
    text = clean_text(text, "text", "Thông tin bổ sung", multiline=True)
    calendar = handling_calendar(feedback.paused_at, at)
    restart = calendar.start_day(at)
    # The deadline moves by exactly the working days the clock stood still.
    feedback.paused_working_days += calendar.working_days_between(local_date(feedback.paused_at), restart)
    feedback.due_at = closing_time(calendar.add_working_days(restart, feedback.paused_remaining_days or 0))
    feedback.paused_at, feedback.paused_remaining_days = None, None
    FEEDBACK.transition(feedback, actor=actor, action="provide_info", to_status=Status.IN_PROGRESS, at=at, text=text)
    return feedback


@FEEDBACK.action
def rate(feedback: Feedback, *, rating, comment: str = "", actor=None, token: str = "", at=None) -> Feedback:
    """The reporter rates the answer (1–5); the report is closed."""
    feedback, at = FEEDBACK.begin(feedback, actor, at)
    FEEDBACK.require(feedback, Status.RESOLVED, Status.REJECTED, action="đánh giá")
    _require_reporter(feedback, actor, token)
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise DomainError("Mức hài lòng phải từ 1 đến 5.", "rating")
    feedback.rating = rating
    feedback.rating_comment = clean_text(comment, "comment", "Nhận xét", required=False, limit=2000, multiline=True)
    feedback.rated_at = feedback.closed_at = at
    FEEDBACK.transition(
        feedback,
        actor=actor,
        action="rate",
        to_status=Status.CLOSED,
        at=at,
        text=feedback.rating_comment,
        audit_extra={"rating": rating},
    )
    return feedback


@FEEDBACK.action
def reopen(feedback: Feedback, *, reason: str, actor=None, token: str = "", at=None) -> Feedback:
    """The reporter says it is not resolved, within FEEDBACK_REOPEN_DAYS of the resolution.

    The clock continues: the working days that were left at the resolution
    count again from the reopening's start day (none left: due that day), the
    days in between do not count. The report may be escalated again."""
    feedback, at = FEEDBACK.begin(feedback, actor, at)
    FEEDBACK.require(feedback, Status.RESOLVED, action="mở lại")
    _require_reporter(feedback, actor, token)
    reason = clean_text(reason, "reason", "Lý do mở lại", multiline=True)
    days = conf("FEEDBACK_REOPEN_DAYS")
    if at > feedback.resolved_at + dt.timedelta(days=days):
        raise DomainError(f"Chỉ được mở lại trong {days} ngày kể từ khi phản ánh được xử lý xong.", "reason")
    calendar = handling_calendar(feedback.received_at, at)
    resolved_day, due_day = local_date(feedback.resolved_at), local_date(feedback.due_at)
    remaining = calendar.working_days_between(resolved_day, due_day) if due_day > resolved_day else 0
    restart = calendar.start_day(at)
    feedback.paused_working_days += calendar.working_days_between(resolved_day, restart)
    feedback.due_at = closing_time(calendar.add_working_days(restart, remaining))
    feedback.resolved_at = feedback.on_time = feedback.handling_working_days = None
    feedback.reopened_count += 1
    feedback.escalation_level = 0
    FEEDBACK.transition(
        feedback,
        actor=actor,
        action="reopen",
        to_status=Status.IN_PROGRESS,
        at=at,
        text=reason,
        public=True,
        audit_extra={"reopened": feedback.reopened_count},
    )
    return feedback


def close_unrated(at=None, *, limit: int = 1000) -> int:
    """Close reports resolved or refused more than the reopening window ago
    that nobody rated: the reporter can no longer reopen them, and a report
    left "resolved" for ever would never count as closed. At most `limit`
    a run (the job runs every 15 minutes), one transaction per report."""
    at = now(at)
    window_start = at - dt.timedelta(days=conf("FEEDBACK_REOPEN_DAYS"))
    due = Feedback.objects.filter(status=Status.RESOLVED, resolved_at__lt=window_start) | Feedback.objects.filter(
        status=Status.REJECTED, rejected_at__lt=window_start
    )
    closed = 0
    for feedback in due.order_by("pk")[:limit]:
        with transaction.atomic():
            locked, at = FEEDBACK.begin(feedback, None, at)
            if locked.status not in (Status.RESOLVED, Status.REJECTED):
                continue  # rated or reopened meanwhile
            locked.closed_at = at
            FEEDBACK.transition(
                locked,
                actor=None,
                action="auto_close",
                to_status=Status.CLOSED,
                at=at,
                public=True,
                text=f"Tự động đóng: người phản ánh không đánh giá trong {conf('FEEDBACK_REOPEN_DAYS')} ngày.",
            )
            closed += 1
    return closed

"""What the feedback services share: the report's workflow on the kernel
(core.workflow), its timeline step, the text, phone and calendar rules, and
report codes."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from decimal import Decimal

from django.conf import settings

from chinhquyenso.accounts.access import refuse_read_only
from chinhquyenso.accounts.models import Role
from chinhquyenso.core import codes, params
from chinhquyenso.core.calendar import WorkingCalendar, calendar_for, local_date
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import format_number, nfc, nfc_lines
from chinhquyenso.core.workflow import Workflow, actor_or_none
from chinhquyenso.feedback.models import Feedback, FeedbackEvent, Status, channel_choices

CHANNEL_CODES = ("web", "app", "open311", "ioc")
OFFICER_ROLES = (Role.COUNTER_OFFICER, Role.SPECIALIST, Role.LEADER)
MAX_TEXT = 4000


def channels() -> dict[str, str]:
    """Channel code → its name (feedback.models.channel_choices)."""
    return dict(channel_choices())


def channel_label(channel: str) -> str | None:
    return channels().get(channel)


class TooManyRequests(DomainError):
    status_code = 429

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field, code="rate_limited")


# ---------------------------------------------------------------- the workflow


def snapshot(feedback: Feedback) -> dict:
    """What the audit record keeps: statuses, agencies and dates, never names, phones or texts."""
    return {"status": feedback.status, "agency": feedback.agency_id, "due_at": feedback.due_at}


def record_step(
    feedback: Feedback,
    *,
    actor,
    action: str,
    at,
    from_status: str = "",
    to_status: str = "",
    before=None,
    text: str = "",
    public: bool = False,
    agency_id=None,
) -> FeedbackEvent:
    """One row of the report's timeline."""
    return FeedbackEvent.objects.create(
        feedback=feedback,
        at=at,
        actor=actor_or_none(actor),
        action=action,
        from_status=from_status,
        to_status=to_status or feedback.status,
        agency_id=agency_id if agency_id is not None else feedback.agency_id,
        text=text,
        is_public=public,
    )


# Every status change of a report: read-only accounts refused, the row locked, the step in the
# timeline (FeedbackEvent) and the audit chain ("feedback.<action>", under the handling agency).
FEEDBACK = Workflow(
    Feedback,
    noun="phản ánh",
    audit_prefix="feedback",
    snapshot=snapshot,
    record_step=record_step,
    agency_of=lambda feedback: feedback.agency_id,
    guard=refuse_read_only,
    select_related=("category", "agency"),
)


def assign_initial(feedback: Feedback, agency, at, actor) -> None:
    """A new report (or a part of a split one) goes to the agency routing found; none: the IOC queue."""
    if agency is None:
        return
    feedback.agency, feedback.assigned_at = agency, at
    FEEDBACK.transition(
        feedback,
        actor=actor,
        action="assign",
        to_status=Status.ASSIGNED,
        at=at,
        public=True,
        text=f"Chuyển {agency.name} xử lý.",
        audit_extra={"routed": True},
    )


# ---------------------------------------------------------------- rules shared by the services


def keyed_hash(*parts) -> str:
    """HMAC with the secret key: IP addresses and codes are never stored in clear."""
    return hmac.new(settings.SECRET_KEY.encode(), "|".join(str(p) for p in parts).encode(), hashlib.sha256).hexdigest()


def next_code(at: dt.datetime) -> str:
    """PA-<year>-<6-digit running number>, one counter row per year (locked)."""
    year = local_date(at).year
    return f"PA-{year}-{codes.next_number(f'PA-{year}'):06d}"


def normalize_phone(phone: str, field: str = "phone") -> str:
    """Vietnamese mobile/landline: digits only, +84 → 0, 10–11 digits."""
    raw = nfc(phone)
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not raw:
        return ""
    if raw.lstrip().startswith("+84") or (digits.startswith("84") and len(digits) in (11, 12)):
        digits = "0" + digits[2:]
    if not (digits.startswith("0") and 10 <= len(digits) <= 11) or any(ch not in "0123456789 .-+()" for ch in raw):
        raise DomainError("Số điện thoại không hợp lệ (ví dụ 0912 345 678).", field)
    return digits


def clean_text(
    value, field: str, label: str, *, required: bool = True, limit: int = MAX_TEXT, multiline: bool = False
) -> str:
    # multiline: a description, reply or reason keeps the lines the person typed (core.text.nfc_lines).
    value = nfc_lines(value) if multiline else nfc(value)
    if required and not value:
        raise DomainError(f"{label} không được để trống.", field)
    if len(value) > limit:
        raise DomainError(f"{label} dài quá {format_number(limit)} ký tự.", field)
    return value


NO_BOUNDS = (0, 0, 0, 0)  # on the globe; a report's point is also checked against the province (intake)


def coordinates(latitude, longitude) -> tuple[Decimal | None, Decimal | None]:
    if latitude in (None, "") and longitude in (None, ""):
        return None, None
    if latitude in (None, "") or longitude in (None, ""):
        raise DomainError(
            "Vị trí trên bản đồ phải có cả vĩ độ và kinh độ.", "latitude" if latitude in (None, "") else "longitude"
        )
    lat, lon = params.point(params.decimal(latitude, "latitude"), params.decimal(longitude, "longitude"), NO_BOUNDS)
    return lat.quantize(Decimal("0.000001")), lon.quantize(Decimal("0.000001"))


def handling_calendar(*moments) -> WorkingCalendar:
    return calendar_for(*moments, days_after=400)


def handling_start(feedback: Feedback) -> dt.datetime:
    """When the handling agency got the report (refusal and info-request windows count from here)."""
    return feedback.assigned_at or feedback.received_at


def working_days_before(calendar: WorkingCalendar, day: dt.date, count: int) -> dt.date:
    """The working day `count` working days before `day`."""
    for _ in range(count):
        day -= dt.timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= dt.timedelta(days=1)
    return day

"""Every write to citizen feedback (phản ánh, kiến nghị). Each public function
checks before writing and runs in one transaction; a status change goes
through the kernel's workflow (core.workflow: refuse read-only accounts,
lock the row, a FeedbackEvent in the timeline, an audit record without
personal data), and every message leaves through the outbox
(exchange.outbox). See docs/feedback.md.

- intake: receiving a report (`Submission`, `submit`), its checks and photos;
- verification: phone verification codes for anonymous web reporters;
- workflow: the status actions and telling the reporter;
- routing: categories, the communes' reference points, reorganizations;
- escalation: due-soon and overdue reports raised to leaders and the IOC;
- common: what they share (the workflow instance, text and phone rules, codes).

Callers use this package: `from chinhquyenso.feedback import services`."""

from chinhquyenso.feedback.services.common import (
    CHANNEL_CODES,
    FEEDBACK,
    TooManyRequests,
    channel_label,
    channels,
    next_code,
    normalize_phone,
)
from chinhquyenso.feedback.services.escalation import DUE_SOON, ESCALATION_LEVELS, IOC, OVERDUE, escalate_due
from chinhquyenso.feedback.services.intake import Submission, submit
from chinhquyenso.feedback.services.routing import (
    DEFAULT_CATEGORIES,
    load_categories,
    move_open_feedback,
    set_area_point,
)
from chinhquyenso.feedback.services.verification import send_verification_code
from chinhquyenso.feedback.services.workflow import (
    assign,
    close_unrated,
    comment,
    is_reporter,
    merge,
    notify_reporter,
    provide_info,
    rate,
    reject,
    reopen,
    request_info,
    resolve,
    split,
    start,
)

__all__ = [
    "CHANNEL_CODES",
    "DEFAULT_CATEGORIES",
    "DUE_SOON",
    "ESCALATION_LEVELS",
    "FEEDBACK",
    "IOC",
    "OVERDUE",
    "Submission",
    "TooManyRequests",
    "assign",
    "channel_label",
    "channels",
    "close_unrated",
    "comment",
    "escalate_due",
    "is_reporter",
    "load_categories",
    "merge",
    "move_open_feedback",
    "next_code",
    "normalize_phone",
    "notify_reporter",
    "provide_info",
    "rate",
    "reject",
    "reopen",
    "request_info",
    "resolve",
    "send_verification_code",
    "set_area_point",
    "split",
    "start",
    "submit",
]

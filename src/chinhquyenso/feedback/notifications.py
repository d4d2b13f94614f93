"""What a reporter who was signed in when reporting sees in their account's notification list
(/ca-nhan/thong-bao/): every message written to them about their report.

services.workflow.notify_reporter writes the e-mail or SMS to the contact given with the report
and names the reporter's account on it (Message.user); FeedbackConfig.ready() registers the kind
prefix "feedback." with exchange.notices, so the account's list shows that message as a notice
(one row, one read mark; no second message). A reporter account with neither e-mail nor phone
gets the in-app notice alone (`tell_reporter_account`)."""

from __future__ import annotations

from django.urls import reverse

from chinhquyenso.exchange import notices, outbox
from chinhquyenso.exchange.models import Message

KIND_PREFIX = "feedback."


def register() -> None:
    notices.show_account_copies(KIND_PREFIX)


def tell_reporter_account(feedback, *, kind: str, subject: str, message: str, at) -> Message | None:
    """The in-app notice alone, for a citizen reporter the report gives no e-mail or phone for.
    Written as delivered: it leaves nothing, the outbox worker has nothing to send."""
    reporter = feedback.reporter if feedback.reporter_id else None
    if reporter is None or not getattr(reporter, "is_citizen", False):
        return None
    notice = outbox.build(
        channel=Message.Channel.IN_APP,
        user=reporter,
        kind=f"{KIND_PREFIX}{kind}",
        subject=subject,
        body=message,
        link=reverse("feedback:report", args=[feedback.code]),
        agency_id=feedback.agency_id,
        source=feedback,
        at=at,
    )
    notice.state, notice.sent_at = Message.State.SENT, at
    notice.save()
    return notice

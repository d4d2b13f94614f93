"""Senders, one per channel, chosen by setting (`CQS["OUTBOX_SENDERS"]`:
channel → dotted path), so an SMS gateway or another mail service is plugged
in without touching any app. A sender is a class with
`send(message) -> None` that raises on failure; it runs in the worker, after
commit, outside any transaction."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage

from chinhquyenso.core.privacy import mask_personal_data

log = logging.getLogger(__name__)


class EmailSender:
    """E-mail through Django's configured backend (SMTP in production)."""

    def send(self, message) -> None:
        body = message.body + (f"\n\n{message.link}" if message.link and message.link not in message.body else "")
        EmailMessage(subject=message.subject, body=body, to=[message.recipient]).send(fail_silently=False)


class ConsoleSmsSender:
    """Development SMS: logs that a message went out and keeps it in `sent`
    (tests read verification codes from there). Not for production: a real
    gateway replaces it by setting (CQS_SMS_SENDER).

    The log line never carries the body by default: a verification code or a
    follow link is a key to someone's report, and logs are read and kept by
    people who must not hold it. A developer who wants to read codes from the
    console sets CQS_SMS_CONSOLE_BODIES=1 (settings.CQS["SMS_CONSOLE_BODIES"]);
    even then the body is shown with phones, ID numbers and e-mails masked,
    except for the code itself."""

    sent: list[tuple[str, str]] = []

    def send(self, message) -> None:
        ConsoleSmsSender.sent.append((message.recipient, message.body))
        masked = "*" * max(0, len(message.recipient) - 3) + message.recipient[-3:]
        if settings.CQS.get("SMS_CONSOLE_BODIES"):
            log.info("SMS (thử nghiệm) tới %s: %s", masked, mask_personal_data(message.body))
        else:
            what = "mã bí mật, không ghi" if message.secret else f"{len(message.body)} ký tự"
            log.info("SMS (thử nghiệm) tới %s: %s, loại %s (%s)", masked, message.pk, message.kind, what)


class InAppSender:
    """An in-app notice is the message row itself: delivering it makes it
    visible in the recipient's list (exchange.selectors.notices_for)."""

    def send(self, message) -> None:
        if message.user_id is None:
            raise ValueError("Thông báo trên hệ thống phải có người nhận.")

"""Senders, one per channel, chosen by setting (`CQS["OUTBOX_SENDERS"]`:
channel → dotted path), so an SMS gateway or another mail service is plugged
in without touching any app. A sender is a class with
`send(message) -> None` that raises on failure; it runs in the worker, after
commit, outside any transaction."""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage

log = logging.getLogger(__name__)


class EmailSender:
    """E-mail through Django's configured backend (SMTP in production)."""

    def send(self, message) -> None:
        body = message.body + (f"\n\n{message.link}" if message.link and message.link not in message.body else "")
        EmailMessage(subject=message.subject, body=body, to=[message.recipient]).send(fail_silently=False)


class ConsoleSmsSender:
    """Development SMS: logs the message with the number masked and keeps it
    in `sent` (tests read verification codes from there). Not for production:
    a real gateway replaces it by setting (CQS_SMS_SENDER)."""

    sent: list[tuple[str, str]] = []

    def send(self, message) -> None:
        ConsoleSmsSender.sent.append((message.recipient, message.body))
        masked = "*" * max(0, len(message.recipient) - 3) + message.recipient[-3:]
        log.info("SMS (thử nghiệm) tới %s: %s", masked, message.body)


class InAppSender:
    """An in-app notice is the message row itself: delivering it makes it
    visible in the recipient's list (exchange.selectors.notices_for)."""

    def send(self, message) -> None:
        if message.user_id is None:
            raise ValueError("Thông báo trên hệ thống phải có người nhận.")

"""Senders for the feedback outbox and for phone verification codes.

A sender is any class with `send(recipient, subject, body)` that raises on
failure; the installation picks one per channel by dotted path
(`CQS["FEEDBACK_SMS_SENDER"]`, `CQS["FEEDBACK_EMAIL_SENDER"]`), so an SMS
gateway is plugged in without touching the services."""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from chinhquyenso.feedback.conf import conf

log = logging.getLogger(__name__)


class EmailSender:
    """E-mail through Django's configured backend (SMTP in production)."""

    def send(self, recipient: str, subject: str, body: str) -> None:
        EmailMessage(subject=subject, body=body, to=[recipient]).send(fail_silently=False)


class ConsoleSmsSender:
    """Development SMS: prints the message with the number masked and keeps
    it in `sent` (tests read verification codes from there). Not for
    production: a real gateway replaces it by setting."""

    sent: list[tuple[str, str]] = []

    def send(self, recipient: str, subject: str, body: str) -> None:
        ConsoleSmsSender.sent.append((recipient, body))
        masked = "*" * max(0, len(recipient) - 3) + recipient[-3:]
        log.info("SMS (thử nghiệm) tới %s: %s", masked, body)


def sender_for(channel: str):
    path = conf("FEEDBACK_SMS_SENDER") if channel == "sms" else conf("FEEDBACK_EMAIL_SENDER")
    return import_string(path)()

"""Answering a message from a messaging channel (see the package): once per platform message id,
the reply written to the outbox in the transaction that records the message id."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from django.conf import settings

from chinhquyenso.assistant import answers, throttle
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.workflow import idempotent
from chinhquyenso.exchange import outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    """A user's text message, checked by the channel's adapter.

    `account`: the platform account it was sent to (Zalo: the app id), the scope of `message_id`;
    `sender`: the platform's user id — personal data: the outbox needs it to reply, nothing logs it."""

    channel: str
    account: str
    sender: str
    message_id: str
    text: str


def session_key(channel: str, sender: str) -> str:
    """The conversation's session key for a platform user: a keyed hash (SECRET_KEY) of the user id,
    so neither the conversation table nor the throttle's cache holds the id itself."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{channel}:{sender}".encode(), hashlib.sha256).hexdigest()
    return f"{channel}:{digest}"


def _links(answer) -> list[tuple[str, str]]:
    """(line, address) for each cited procedure and each offered link."""
    pairs = [(f"- {p['name']} (mã {p['code']}): {p['url']}", p["url"]) for p in answer.procedures]
    return pairs + [(f"- {link['label']}: {link['url']}", link["url"]) for link in answer.links]


def fit(answer, limit: int) -> str:
    """The answer as one text message of at most `limit` characters.

    Links the text does not already show are added below it. A text too long (a procedure with many
    papers, a long legal basis) is cut at a line or word and ends with "…"; every cited procedure's
    and every offered link's address is then listed below, so the citizen can read the rest on the
    portal."""
    text = answer.text.strip()
    missing = [line for line, url in _links(answer) if url not in text]
    whole = text + ("\n\n" + "\n".join(missing) if missing else "")
    if len(whole) <= limit:
        return whole
    lines = [line for line, _ in _links(answer)]
    tail = "\n\nXem đầy đủ:\n" + "\n".join(lines) if lines else ""
    while lines and len(tail) > limit // 2:  # never more than half the message for links
        lines.pop()
        tail = "\n\nXem đầy đủ:\n" + "\n".join(lines) if lines else ""
    room = limit - len(tail) - 1
    cut = text[:room]
    for separator in ("\n", " "):
        at = cut.rfind(separator)
        if at > room // 2:
            cut = cut[:at]
            break
    return cut.rstrip() + "…" + tail


def receive(incoming: Incoming, *, limit: int):
    """Answer `incoming` once: the reply (an outbox Message on the incoming channel) is written in
    the transaction that records the message id; a retried delivery of the same message returns that
    first Message (marked `replayed`) and asks nothing. The question is answered before the
    transaction (assistant.answers.ask). A question the assistant refuses (empty, too long) gets its
    reason as the reply. RateLimited (assistant.throttle.QUESTIONS) when this user asks too fast."""
    key = session_key(incoming.channel, incoming.sender)
    throttle.QUESTIONS.check(key)

    def prepare() -> str:
        try:
            answer = answers.ask(incoming.text, session_key=key, user=None, channel=incoming.channel)
        except DomainError as error:
            return error.message
        return fit(answer, limit)

    def create(text: str):
        return outbox.enqueue(
            channel=incoming.channel,
            kind=f"assistant.{incoming.channel}_reply",
            recipient=incoming.sender,
            body=text,
            urgent=True,  # the citizen is waiting in the chat: deliver right after commit
        )

    return idempotent(
        f"assistant.{incoming.channel}",
        key=incoming.message_id,
        caller=incoming.account,
        payload={"from": key, "text": incoming.text},
        create=create,
        prepare=prepare,
    )

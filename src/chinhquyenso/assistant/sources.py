"""Answer sources other apps register (core.registry.ANSWER_SOURCES), asked before the catalog.

A source is a callable `(question, context) -> KnowledgeAnswer | None` (core.registry): the pest
surveillance app answers pest and disease questions this way. The apps that provide knowledge sit
below the assistant and cannot import its `Answer`, so they return the kernel's neutral
`KnowledgeAnswer` and `ask` turns it into the assistant's answer: the text with its source said under
it ("Nguồn: …"), the links made absolute (CQS_SITE_URL, so they work from a messaging channel). A source
at the assistant's layer or above may still return the assistant's own answer type, passed on as it is.
The assistant registers none itself. Sources are asked in registration order and the first answer
wins; a source that fails or returns anything else is logged (the question masked by the logging
formatter) and skipped, so one broken module never silences the assistant.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chinhquyenso.core.registry import ANSWER_SOURCES, KnowledgeAnswer
from chinhquyenso.exchange.outbox import absolute_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """What a source may use besides the question: the detected kind ("fee", "find", …), the
    procedure the conversation is about (code or ""), the caller (an account or None) and the
    channel ("web", "api", "zalo", …)."""

    kind: str
    procedure_code: str
    user: Any
    channel: str


def convert(knowledge: KnowledgeAnswer, answer_type: type):
    """A source's KnowledgeAnswer as the assistant's answer (`answer_type`: assistant.answers.Answer)."""
    text = knowledge.text.strip()
    if knowledge.source:
        text += f"\nNguồn: {knowledge.source.rstrip('.')}."
    links = [{"label": link["label"], "url": absolute_url(link["url"])} for link in knowledge.links]
    return answer_type(text=text, confident=knowledge.confident, kind=knowledge.kind, links=links)


def ask(question: str, context: Context, answer_type: type):
    """The first answer a registered source gives, as an `answer_type`, or None."""
    for name, source in ANSWER_SOURCES.items():
        try:
            answer = source(question, context)
        except Exception:  # a plugged-in module's failure must not break the assistant
            log.exception("Nguồn trả lời “%s” gặp lỗi; bỏ qua.", name)
            continue
        if answer is None:
            continue
        if isinstance(answer, KnowledgeAnswer):
            return convert(answer, answer_type)
        if not isinstance(answer, answer_type):
            log.error("Nguồn trả lời “%s” trả về %s, không phải KnowledgeAnswer; bỏ qua.", name, type(answer).__name__)
            continue
        return answer
    return None

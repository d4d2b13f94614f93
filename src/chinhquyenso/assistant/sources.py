"""Answer sources other apps register (core.registry.ANSWER_SOURCES), asked before the catalog.

A source is a callable `(question, context) -> Answer | None`: the pest surveillance app will
answer pest and disease questions this way. The assistant registers none itself. Sources are asked
in registration order and the first `Answer` wins; a source that fails is logged (the question
masked by the logging formatter) and skipped, so one broken module never silences the assistant.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chinhquyenso.core.registry import ANSWER_SOURCES

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


def ask(question: str, context: Context, answer_type: type):
    """The first answer a registered source gives, or None."""
    for name, source in ANSWER_SOURCES.items():
        try:
            answer = source(question, context)
        except Exception:  # a plugged-in module's failure must not break the assistant
            log.exception("Nguồn trả lời “%s” gặp lỗi; bỏ qua.", name)
            continue
        if answer is None:
            continue
        if not isinstance(answer, answer_type):
            log.error("Nguồn trả lời “%s” trả về %s, không phải Answer; bỏ qua.", name, type(answer).__name__)
            continue
        return answer
    return None

"""Writes of the assistant about questions: the maintainers' list of questions it could not
answer with confidence (assistant.UnansweredQuestion). The text is stored with ID numbers, phone
numbers and e-mail addresses masked (core.privacy), grouped by its folded form: the same question
asked again, with or without diacritics, adds to `times`."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from chinhquyenso.assistant.models import UnansweredQuestion
from chinhquyenso.assistant.text import normalize
from chinhquyenso.core.privacy import mask_personal_data
from chinhquyenso.core.text import nfc

TEXT_LIMIT = UnansweredQuestion._meta.get_field("text").max_length


def record_unanswered(
    question: str, *, best_code: str = "", best_score: float = 0.0, channel: str = "", at=None
) -> UnansweredQuestion | None:
    """Count `question` in the maintainers' list (masked). A question answered before and asked
    again unanswered is open again (`resolved_at` cleared). None for a question without words."""
    at = at or timezone.now()
    text = mask_personal_data(nfc(question))[:TEXT_LIMIT]
    key = normalize(text)[:TEXT_LIMIT]
    if not key:
        return None
    fields = {
        "best_procedure_code": (best_code or "")[:40],
        "best_score": round(float(best_score or 0), 4),
        "channel": (channel or "")[:20],
        "last_asked_at": at,
    }
    for _ in range(2):  # two first askings racing on the key: the loser counts on the winner's row
        with transaction.atomic():
            updated = UnansweredQuestion.objects.filter(text_folded=key).update(
                times=F("times") + 1, resolved_at=None, **fields
            )
            if updated:
                return UnansweredQuestion.objects.get(text_folded=key)
            try:
                with transaction.atomic():
                    return UnansweredQuestion.objects.create(text=text, text_folded=key, first_asked_at=at, **fields)
            except IntegrityError:
                continue
    return UnansweredQuestion.objects.filter(text_folded=key).first()

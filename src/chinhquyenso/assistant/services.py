"""Writes of the assistant app, each in a transaction and audited."""

import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from chinhquyenso.assistant import index
from chinhquyenso.assistant.models import FaqEntry, Synonym, UnansweredQuestion
from chinhquyenso.assistant.text import normalize
from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import nfc
from chinhquyenso.core.unique import duplicate_message
from chinhquyenso.procedures.models import Procedure

DEFAULT_SYNONYMS = Path(__file__).resolve().parent / "data" / "synonyms.json"
# The FAQ entries of the extended catalog (its "faq" list). The assistant owns the FAQ table but
# not the file: it lives with the demo catalog data it refers to.
DEFAULT_FAQ = Path(__file__).resolve().parent.parent / "demo" / "data" / "procedures_national.json"


def _clean(phrase, expansion, note, field_prefix=""):
    phrase, expansion, note = nfc(phrase), nfc(expansion), nfc(note)
    key = normalize(phrase)
    if not key:
        raise DomainError("Cách hỏi phải có ít nhất một chữ.", f"{field_prefix}phrase")
    if not normalize(expansion):
        raise DomainError("Tên gọi trong danh mục phải có ít nhất một chữ.", f"{field_prefix}expansion")
    for field, value in (("phrase", phrase), ("phrase_folded", key), ("expansion", expansion), ("note", note)):
        limit = Synonym._meta.get_field(field).max_length
        if len(value) > limit:
            raise DomainError(f"Tối đa {limit} ký tự.", f"{field_prefix}{field}")
    return phrase, key, expansion, note


def _searched_at_once() -> None:
    """This process checks the catalog version on its next search: now (the writing transaction
    sees its own rows) and after commit (a search in between may have read the old version)."""
    index.invalidate()
    transaction.on_commit(index.invalidate)


def synonym_taken(phrase: str, key: str, pk=None) -> str:
    """Why `phrase` cannot be saved (another entry has the same folded phrase), or ""."""
    existing = Synonym.objects.filter(phrase_folded=key).exclude(pk=pk).first()
    return duplicate_message(Synonym, "phrase", phrase, existing) if existing is not None else ""


def faq_taken(procedure, question: str, pk=None) -> str:
    """Why `question` cannot be saved for `procedure` (it has the same question, whatever the
    diacritics or case), or ""."""
    key = normalize(question)
    others = FaqEntry.objects.filter(procedure=procedure).exclude(pk=pk)
    if any(normalize(q) == key for q in others.values_list("question", flat=True)):
        return f"Thủ tục “{procedure.name}” đã có câu hỏi “{question}”."
    return ""


@transaction.atomic
def save_synonym(
    *, actor, phrase: str, expansion: str, note: str = "", is_active: bool = True, synonym: Synonym | None = None
) -> Synonym:
    """Create a synonym, or change `synonym`. The phrase is stored NFC and as canonical folded
    syllables (its unique key: "đăng kí" and "dang ky" are one entry). Searches in this process
    see it at once; other processes within `index.CHECK_SECONDS`."""
    phrase, key, expansion, note = _clean(phrase, expansion, note)
    created = synonym is None or synonym.pk is None
    if message := synonym_taken(phrase, key, None if created else synonym.pk):
        raise DomainError(message, "phrase")
    synonym = synonym or Synonym()
    synonym.phrase, synonym.phrase_folded, synonym.expansion, synonym.note = phrase, key, expansion, note
    synonym.is_active = is_active
    if created and actor is not None and getattr(actor, "pk", None):
        synonym.created_by = actor
    synonym.save()
    audit.record(
        actor=actor,
        action="assistant.synonym.create" if created else "assistant.synonym.update",
        obj=synonym,
        after={"phrase": phrase, "expansion": expansion, "is_active": is_active},
    )
    _searched_at_once()
    return synonym


@transaction.atomic
def load_synonyms(path: Path | str | None = None, *, actor=None) -> dict[str, int]:
    """Create the synonyms missing from a JSON file (default data/synonyms.json). Idempotent:
    entries the province already has (same folded phrase) stay as maintainers edited them."""
    path = Path(path or DEFAULT_SYNONYMS)
    items = json.loads(path.read_text(encoding="utf-8")).get("synonyms", [])
    have = set(Synonym.objects.values_list("phrase_folded", flat=True))
    rows = []
    for i, item in enumerate(items):
        phrase, key, expansion, note = _clean(
            item.get("phrase"), item.get("expansion"), item.get("note", ""), f"synonyms[{i}]."
        )
        if key in have:
            continue
        have.add(key)
        rows.append(Synonym(phrase=phrase, phrase_folded=key, expansion=expansion, note=note))
    Synonym.objects.bulk_create(rows)
    audit.record(
        actor=actor,
        action="assistant.synonyms.load",
        object_type="assistant.Synonym",
        object_id=path.name,
        after={"created": len(rows), "in_file": len(items)},
    )
    _searched_at_once()
    return {"created": len(rows), "existing": len(items) - len(rows)}


# ---------------------------------------------------------------------- FAQ


def _clean_faq(question, answer, field_prefix=""):
    question, answer = nfc(question), nfc(answer)
    if not normalize(question):
        raise DomainError("Câu hỏi phải có ít nhất một chữ.", f"{field_prefix}question")
    if not answer.strip():
        raise DomainError("Câu trả lời không được để trống.", f"{field_prefix}answer")
    limit = FaqEntry._meta.get_field("question").max_length
    if len(question) > limit:
        raise DomainError(f"Tối đa {limit} ký tự.", f"{field_prefix}question")
    return question.strip(), answer.strip()


@transaction.atomic
def save_faq_entry(*, actor, procedure, question: str, answer: str, is_active: bool = True, entry=None) -> FaqEntry:
    """Create a FAQ entry for `procedure`, or change `entry`. A question is one entry per
    procedure whatever its diacritics or case. Indexed with the procedure: searches in this
    process see it at once, other processes within `index.CHECK_SECONDS`."""
    question, answer = _clean_faq(question, answer)
    created = entry is None or entry.pk is None
    if message := faq_taken(procedure, question, None if created else entry.pk):
        raise DomainError(message, "question")
    entry = entry or FaqEntry()
    entry.procedure, entry.question, entry.answer, entry.is_active = procedure, question, answer, is_active
    if created and actor is not None and getattr(actor, "pk", None):
        entry.created_by = actor
    entry.save()
    audit.record(
        actor=actor,
        action="assistant.faq.create" if created else "assistant.faq.update",
        obj=entry,
        after={"procedure": procedure.code, "question": question, "answer": answer, "is_active": is_active},
    )
    _searched_at_once()
    return entry


@transaction.atomic
def load_faq(path: Path | str | None = None, *, actor=None) -> dict[str, int]:
    """Create the FAQ entries missing from the "faq" list of a JSON file (default
    procedures_national.json): {"procedure_code", "question", "answer"}. Idempotent: an entry whose
    procedure already has the question (compared folded) is left as the maintainers edited it; an
    entry whose procedure is not in the catalog is skipped and counted."""
    path = Path(path or DEFAULT_FAQ)
    items = json.loads(path.read_text(encoding="utf-8")).get("faq", [])
    codes = {nfc(item.get("procedure_code")).strip() for item in items}
    procedures = {p.code: p for p in Procedure.objects.filter(code__in=codes)}
    have = {(pid, normalize(q)) for pid, q in FaqEntry.objects.values_list("procedure_id", "question")}
    rows, missing = [], 0
    for i, item in enumerate(items):
        procedure = procedures.get(nfc(item.get("procedure_code")).strip())
        question, answer = _clean_faq(item.get("question"), item.get("answer"), f"faq[{i}].")
        if procedure is None:
            missing += 1
            continue
        key = (procedure.pk, normalize(question))
        if key in have:
            continue
        have.add(key)
        rows.append(FaqEntry(procedure=procedure, question=question, answer=answer))
    FaqEntry.objects.bulk_create(rows)
    audit.record(
        actor=actor,
        action="assistant.faq.load",
        object_type="assistant.FaqEntry",
        object_id=path.name,
        after={"created": len(rows), "in_file": len(items), "no_procedure": missing},
    )
    _searched_at_once()
    return {"created": len(rows), "existing": len(items) - len(rows) - missing, "no_procedure": missing}


# ---------------------------------------------------------------------- unanswered questions


@transaction.atomic
def resolve_unanswered(*, actor, question: UnansweredQuestion, resolution: str) -> UnansweredQuestion:
    """Mark a logged question handled (a synonym or FAQ entry was added, or nothing to do)."""
    question = UnansweredQuestion.objects.select_for_update().get(pk=question.pk)
    resolution = nfc(resolution).strip()
    limit = UnansweredQuestion._meta.get_field("resolution").max_length
    if len(resolution) > limit:
        raise DomainError(f"Tối đa {limit} ký tự.", "resolution")
    question.resolved_at = timezone.now()
    question.resolved_by = actor if getattr(actor, "pk", None) else None
    question.resolution = resolution
    question.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    audit.record(actor=actor, action="assistant.unanswered.resolve", obj=question, after={"resolution": resolution})
    return question

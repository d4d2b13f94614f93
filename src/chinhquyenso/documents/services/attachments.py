"""Files that go with a document (phụ lục, tài liệu kèm theo), not the document itself: added to a
draft or when the clerk registers an incoming document, and carried wherever the document goes —
the internal recipient's incoming copy, the national exchange's message (its `attachments`) and the
edXML envelope's body.

They pass the same checks as the document's own file: stored through core.uploads (type read from
the bytes, the platform's size limit), and PDF only, like the document — the exchange carries PDF
and the officers' pages show PDF. A refusal names the file, so an officer sending five knows which
one to fix."""

from __future__ import annotations

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import StoredFile
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.core.workflow import actor_or_none
from chinhquyenso.documents.models import Attachment, Document

FIELD = "attachments"
# The national exchange's message carries at most 20 attachments (schemas/edoc/send.request.json).
MAX_ATTACHMENTS = 20
PDF = "application/pdf"


def _name(file) -> str:
    name = getattr(file, "original_name", "") or getattr(file, "name", "") or "tệp đính kèm"
    return " ".join(str(name).split())[:255]


def store(file, actor) -> tuple[str, StoredFile]:
    """(the file's name, the stored file) of one upload, or a StoredFile already held."""
    name = _name(file)
    if isinstance(file, StoredFile):
        stored = file
    else:
        try:
            stored = store_upload(file, original_name=name, field=FIELD, user=actor)
        except DomainError as error:
            raise type(error)(f"Tệp đính kèm “{name}”: {error.message}", FIELD) from error
    if stored.content_type != PDF:
        raise DomainError(f"Tệp đính kèm “{name}” phải là tệp PDF.", FIELD)
    return name, stored


def store_all(files, actor, *, already: int = 0) -> list[tuple[str, StoredFile]]:
    files = [file for file in files or () if file is not None]
    if already + len(files) > MAX_ATTACHMENTS:
        raise DomainError(f"Một văn bản có tối đa {MAX_ATTACHMENTS} tệp đính kèm.", FIELD)
    return [store(file, actor) for file in files]


def attach(document: Document, stored_files, actor=None) -> list[Attachment]:
    """Attachment rows of `document` for (name, StoredFile) pairs, in the caller's transaction."""
    return [
        Attachment.objects.create(document=document, file=stored, name=name, added_by=actor_or_none(actor))
        for name, stored in stored_files
    ]


def of(document: Document) -> list[tuple[str, StoredFile]]:
    """(name, StoredFile) of the document's attachments, in the order they were added."""
    return [(a.name, a.file) for a in document.attachments.select_related("file").order_by("pk")]

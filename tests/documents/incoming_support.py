"""Helpers for the incoming-document tests (not a test module): PDFs with real text, an issued
outgoing document of one agency delivered inside the province or over the bus."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.db import transaction

from chinhquyenso.core.uploads import store_generated
from chinhquyenso.documents.models import Direction, Document, DocumentType, Recipient
from chinhquyenso.documents.services import distribution, numbering


@lru_cache(maxsize=16)
def pdf_with_text(text: str) -> bytes:
    """A one-page PDF whose text layer holds `text` (WeasyPrint, fonts embedded)."""
    import weasyprint

    return weasyprint.HTML(string=f"<html><body><p>{text}</p></body></html>").write_pdf()


def stored_pdf(text: str):
    return store_generated(pdf_with_text(text), content_type="application/pdf", extension="pdf")


def document_type(code: str = "quyet-dinh") -> DocumentType:
    return DocumentType.objects.get(code=code)


def issued_outgoing(
    sender,
    *,
    excerpt: str,
    at: dt.datetime,
    type_code: str = "quyet-dinh",
    symbol: str = "",
    number: int | None = None,
    signed: bool = True,
    is_directive: bool = False,
    deadline: dt.date | None = None,
    text: str = "",
) -> Document:
    """An outgoing document already issued by `sender` (the outgoing lifecycle is docs-core's and
    tested there): numbered in its register, with its file."""
    with transaction.atomic():
        register = numbering.register_for(sender, Direction.OUTGOING, year=at.year)
        number = number or numbering.take_number(register)
        return Document.objects.create(
            direction=Direction.OUTGOING,
            agency=sender,
            register=register,
            status=Document.Status.ISSUED,
            document_type=document_type(type_code),
            number=number,
            symbol=symbol or f"{number:02d}/QĐ-UBND",
            excerpt=excerpt,
            issued_on=at.date(),
            signer_name="Nguyễn Văn Ký",
            urgency="normal",
            is_directive=is_directive,
            deadline=deadline,
            current_file=stored_pdf(text or excerpt),
            signed=signed,
            signature_count=1 if signed else 0,
            electronic=True,
        )


def deliver_internally(outgoing: Document, receiver, *, at: dt.datetime, actor=None) -> Document:
    """Deliver `outgoing` to `receiver` the way distribution does inside the province; returns the
    receiver's incoming document."""
    with transaction.atomic():
        recipient = Recipient.objects.create(
            document=outgoing, channel=Recipient.Channel.INTERNAL, agency=receiver, name=receiver.name
        )
        return distribution._deliver_internal(outgoing, recipient, actor=actor, at=at)


def deliver_over_bus(receiver, *, at: dt.datetime, excerpt: str, external_id: str = "EXT-0001") -> Document:
    """A document from an agency outside the province, as the bus handler registers it."""
    with transaction.atomic():
        return distribution.deliver_incoming(
            agency=receiver,
            file=stored_pdf(excerpt),
            actor=None,
            at=at,
            sender_code="000.00.00.G12",
            sender_name="Bộ Nội vụ",
            external_id=external_id,
            document_type=document_type("cong-van"),
            number=45,
            symbol="45/BNV-VP",
            issued_on=at.date(),
            excerpt=excerpt,
        )

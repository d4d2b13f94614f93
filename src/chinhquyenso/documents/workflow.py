"""The one write path of documents (core.workflow): every action on a document — outgoing or
incoming — refuses read-only accounts, locks the document's row, then (in the service) checks the
actor's role in the document's agency, and records a timeline row (DocumentStep), an audit record
"documents.<action>" (statuses, agencies, numbers and dates: never excerpts or names) and the event
DocumentStatusChanged."""

from __future__ import annotations

from chinhquyenso.accounts.access import refuse_read_only
from chinhquyenso.core.workflow import Workflow, actor_or_none
from chinhquyenso.documents.models import Document, DocumentStep


def snapshot(document: Document) -> dict:
    """What the audit record keeps. The symbol and numbers are public register data; the excerpt
    (trích yếu) may name people, so it is left out."""
    return {
        "status": document.status,
        "direction": document.direction,
        "agency": document.agency_id,
        "register": document.register_id,
        "number": document.number,
        "symbol": document.symbol,
        "arrival_number": document.arrival_number,
        "approval_step": document.approval_step,
        "signature_count": document.signature_count,
    }


def record_step(
    document: Document,
    *,
    actor,
    action: str,
    at,
    from_status: str = "",
    to_status: str = "",
    before=None,
    text: str = "",
    agency_id: int | None = None,
    assignment=None,
    recipient=None,
) -> DocumentStep:
    """One row of the document's timeline."""
    return DocumentStep.objects.create(
        document=document,
        at=at,
        actor=actor_or_none(actor),
        action=action,
        from_status=from_status,
        to_status=to_status or document.status,
        agency_id=agency_id if agency_id is not None else document.agency_id,
        assignment=assignment,
        recipient=recipient,
        text=text,
    )


def event_payload(document: Document, *, action: str, from_status: str, to_status: str, at) -> dict:
    return {
        "document_id": document.pk,
        "direction": document.direction,
        "agency_id": document.agency_id,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "at": at.isoformat(),
    }


DOCUMENTS = Workflow(
    Document,
    noun="văn bản",
    audit_prefix="documents",
    snapshot=snapshot,
    record_step=record_step,
    agency_of=lambda document: document.agency_id,
    guard=refuse_read_only,
    event="DocumentStatusChanged",
    event_payload=event_payload,
    select_related=("document_type", "agency", "register"),
)

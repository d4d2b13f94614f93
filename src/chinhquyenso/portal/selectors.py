"""Reads for the citizen portal, scoped to the signed-in citizen."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, Subquery

from chinhquyenso.core import uploads
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import StoredFile
from chinhquyenso.dossiers.models import DossierComponent, EDataItem, ElectronicResult
from chinhquyenso.dossiers.selectors import may_read_file
from chinhquyenso.portal.models import SubmissionDraft


def edata_store(owner):
    """The owner's documents, each with the dossiers that reused it."""
    reuses = DossierComponent.objects.select_related("dossier").order_by("-dossier__submitted_at")
    # The electronic result each document was issued as, if any: signed or not, and its QR link's code.
    issued_as = ElectronicResult.objects.filter(edata_item=OuterRef("pk"))
    return (
        EDataItem.objects.filter(owner=owner)
        .annotate(
            result_signed=Subquery(issued_as.values("signed")[:1]),
            result_code=Subquery(issued_as.values("verification_code")[:1]),
        )
        .select_related("file", "source_dossier")
        .prefetch_related(Prefetch("reuses", queryset=reuses))
        .order_by("-issued_at")
    )


def file_for(user, sha256: str) -> StoredFile | None:
    """A stored file if this user may read it: one they uploaded, one
    `may_read_file` allows (a file of a dossier they see, their e-data store),
    or a file in one of their drafts. Otherwise None (the caller answers 404)."""

    def readable(stored: StoredFile) -> bool:
        if may_read_file(user, stored):
            return True
        drafts = SubmissionDraft.objects.filter(owner=user, dossier__isnull=True).values_list("components", flat=True)
        return any(choice.get("file") == sha256 for components in drafts for choice in components.values())

    try:
        return uploads.file_for(user, sha256, "sha256", readable=readable)
    except DomainError:
        return None

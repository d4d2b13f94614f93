"""Reads for the citizen portal, scoped to the signed-in citizen."""

from __future__ import annotations

from django.db.models import Prefetch, Q

from chinhquyenso.core.models import StoredFile
from chinhquyenso.dossiers.models import DossierComponent, EDataItem, ElectronicResult
from chinhquyenso.dossiers.selectors import visible_dossiers
from chinhquyenso.portal.models import SubmissionDraft


def edata_store(owner):
    """The owner's documents, each with the dossiers that reused it."""
    reuses = DossierComponent.objects.select_related("dossier").order_by("-dossier__submitted_at")
    return (
        EDataItem.objects.filter(owner=owner)
        .select_related("file", "source_dossier")
        .prefetch_related(Prefetch("reuses", queryset=reuses))
        .order_by("-issued_at")
    )


def file_for(user, sha256: str) -> StoredFile | None:
    """A stored file if this user may read it: their own upload, a component or
    result of a dossier they may see, a document of their e-data store, or a
    file in one of their drafts. Otherwise None (the caller answers 404)."""
    if not getattr(user, "pk", None):
        return None
    stored = StoredFile.objects.filter(sha256=sha256).first()
    if stored is None:
        return None
    if stored.uploaded_by_id == user.pk:
        return stored
    dossiers = visible_dossiers(user)
    if (
        DossierComponent.objects.filter(Q(file=stored) | Q(reused_from__file=stored), dossier__in=dossiers).exists()
        or ElectronicResult.objects.filter(file=stored, dossier__in=dossiers).exists()
        or EDataItem.objects.filter(file=stored, owner=user).exists()
    ):
        return stored
    drafts = SubmissionDraft.objects.filter(owner=user, dossier__isnull=True).values_list("components", flat=True)
    if any(choice.get("file") == sha256 for components in drafts for choice in components.values()):
        return stored
    return None

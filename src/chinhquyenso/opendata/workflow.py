"""The one write path of datasets (core.workflow): every change to a dataset — its metadata, its
status, its resources — refuses read-only accounts, locks the dataset's row, then (in the service)
checks the actor's place in the dataset's agency, and records in the same transaction a
DatasetVersion (the dataset as it is after the change: what visitors read as its history) and an
audit record "opendata.<action>"."""

from __future__ import annotations

from chinhquyenso.accounts.access import refuse_read_only
from chinhquyenso.core.workflow import Workflow, actor_or_none
from chinhquyenso.opendata.models import Dataset, DatasetVersion


def _day(value) -> str | None:
    return value.isoformat() if value else None


def metadata(dataset: Dataset) -> dict:
    """The dataset's published metadata and its resources (each file's SHA-256 and size), as a version
    keeps it. The contact point is an agency's mailbox, but it is still a person's name and address
    on some datasets, and a version outlives a correction: it is left out."""
    return {
        "name": dataset.name,
        "title": dataset.title,
        "description": dataset.description,
        "agency": dataset.agency_id,
        "licence": dataset.licence.code if dataset.licence_id else None,
        "themes": sorted(dataset.themes.values_list("code", flat=True)),
        "tags": sorted(dataset.tags.values_list("name", flat=True)),
        "frequency": dataset.frequency,
        "temporal_start": _day(dataset.temporal_start),
        "temporal_end": _day(dataset.temporal_end),
        "spatial": dataset.spatial,
        "spatial_code": dataset.spatial_code,
        "version": dataset.version,
        "generator": dataset.generator,
        "resources": [
            {"id": pk, "name": name, "format": format_, "sha256": sha256, "size": size}
            for pk, name, format_, sha256, size in dataset.resources.order_by("position", "pk").values_list(
                "pk", "name", "format", "file__sha256", "file__size"
            )
        ],
    }


def snapshot(dataset: Dataset) -> dict:
    """What the audit record keeps before and after: statuses, the agency, the licence and the count of
    versions — never the description or the contact point."""
    return {
        "status": dataset.status,
        "agency": dataset.agency_id,
        "name": dataset.name,
        "licence": dataset.licence_id,
        "revision": dataset.revision,
        "published_at": dataset.published_at.isoformat() if dataset.published_at else None,
    }


def record_step(
    dataset: Dataset,
    *,
    actor,
    action: str,
    at,
    from_status: str = "",
    to_status: str = "",
    before=None,
    note: str = "",
) -> DatasetVersion:
    """The dataset's next version; Dataset.revision counts them (the row is locked, so the number is free)."""
    dataset.revision += 1
    Dataset.objects.filter(pk=dataset.pk).update(revision=dataset.revision)
    return DatasetVersion.objects.create(
        dataset=dataset,
        number=dataset.revision,
        at=at,
        actor=actor_or_none(actor),
        action=action,
        status=to_status or dataset.status,
        snapshot=metadata(dataset),
        note=note[:500],
    )


DATASETS = Workflow(
    Dataset,
    noun="bộ dữ liệu",
    audit_prefix="opendata",
    snapshot=snapshot,
    record_step=record_step,
    agency_of=lambda dataset: dataset.agency_id,
    guard=refuse_read_only,
    select_related=("agency", "licence"),
)

"""Web imports run in the worker (`cqs worker`), not in the request."""

from django_tasks import task

from chinhquyenso.civil_records import importer
from chinhquyenso.civil_records.models import ImportBatch


@task()
def run_import(batch_id: int) -> dict:
    """Run (or resume after its checkpoint) an uploaded batch. The upload is read
    through its storage, never by a path: in production that is object storage."""
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.finished:
        return importer.summary(batch)
    return importer.summary(importer.run_batch(batch, batch.file))

"""A dataset's resources (tài nguyên): the files it publishes. Each is checked by its content
(opendata.tabular.detect_format: CSV, XLSX, JSON, GeoJSON, PDF), stored by its SHA-256
(core.uploads), and — when it is a table (CSV, XLSX) — loaded into the DataStore
(opendata.datastore) in the same transaction, so a file whose rows cannot be read is refused whole.

Reading and storing the file happen before the transaction (a 50 MB upload is never read while the
dataset's row is locked); the transaction locks the dataset, checks the actor and the status, writes
the resource and its table, a new DatasetVersion and the audit record. A resource added to a public
dataset is published at once.

Generated resources (`put_generated`) are the platform's own tables — live datasets — written as
CSV (UTF-8 with BOM, so Excel reads the diacritics) and XLSX, formula-like cells neutralized, and
rewritten only when the table changed."""

from __future__ import annotations

import csv
import hashlib
import io

from django.conf import settings
from django.db.models import Max
from openpyxl import Workbook

from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.core.spreadsheets import neutralize_text, safe_cells
from chinhquyenso.core.text import nfc
from chinhquyenso.core.uploads import CHUNK_BYTES, store_generated, too_large
from chinhquyenso.core.workflow import atomic_retrying
from chinhquyenso.opendata import scope, tabular
from chinhquyenso.opendata.models import Dataset, DatasetStatus, Resource, ResourceFormat
from chinhquyenso.opendata.services.datasets import EDITABLE, _text
from chinhquyenso.opendata.workflow import DATASETS

TABULAR = (ResourceFormat.CSV, ResourceFormat.XLSX)
CONTENT_TYPES = {
    ResourceFormat.CSV: ("text/csv", "csv"),
    ResourceFormat.XLSX: ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ResourceFormat.JSON: ("application/json", "json"),
    ResourceFormat.GEOJSON: ("application/geo+json", "geojson"),
    ResourceFormat.PDF: ("application/pdf", "pdf"),
}
MAX_NAME = 300
MAX_DESCRIPTION = 5000


def _datastore():
    # Imported when used: the DataStore module imports the models of this app's tables.
    from chinhquyenso.opendata import datastore

    return datastore


# ---------------------------------------------------------------- reading the upload


def read_upload(data, field: str = "file") -> bytes:
    """The upload's bytes, refused past CQS["OPENDATA_UPLOAD_MAX_BYTES"] before they are read whole: an
    UploadedFile's declared size first, then counted chunk by chunk."""
    limit = settings.CQS["OPENDATA_UPLOAD_MAX_BYTES"]
    if isinstance(data, bytes | bytearray | memoryview):
        if len(data) > limit:
            raise too_large(field, limit)
        content = bytes(data)
    elif hasattr(data, "read"):
        if (getattr(data, "size", None) or 0) > limit:
            raise too_large(field, limit)
        if hasattr(data, "seek"):
            data.seek(0)
        chunks, size = [], 0
        while chunk := data.read(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise too_large(field, limit)
            chunks.append(chunk)
        content = b"".join(chunks)
    else:
        raise DomainError("Hãy chọn tệp dữ liệu để tải lên.", field)
    if not content:
        raise DomainError("Tệp tải lên rỗng.", field)
    return content


def _format(value) -> str | None:
    """A format as a caller names it ("csv", "CSV", "geojson") → the ResourceFormat value."""
    if value in (None, ""):
        return None
    text = nfc(str(value)).lstrip(".").upper()
    for choice in ResourceFormat.values:
        if choice.upper() == text:
            return choice
    raise DomainError(
        f"Định dạng “{nfc(str(value))[:20]}” không được hỗ trợ (CSV, XLSX, JSON, GeoJSON, PDF).", "format"
    )


def _prepared(data, *, filename: str, declared: str | None, actor) -> dict:
    """Everything done before the transaction: the bytes, their format (by content, agreeing with the
    declared one), the stored file."""
    content = read_upload(data)
    declared = _format(declared)
    detected = tabular.detect_format(content, filename)
    if declared and declared != detected:
        raise DomainError(
            f"Tệp có nội dung dạng {detected}, không phải {declared} như đã khai; hãy kiểm tra lại tệp.", "format"
        )
    content_type, extension = CONTENT_TYPES[detected]
    original = nfc(filename)[:255]
    stored = store_generated(content, content_type=content_type, extension=extension, name=original, user=actor)
    return {"content": content, "format": detected, "file": stored, "filename": original}


def _load_table(resource: Resource, content: bytes) -> None:
    """The resource's DataStore table from its file (tables only); dropped when it is not one any more."""
    if resource.format in TABULAR:
        table = tabular.read_table(content, resource.format)
        _datastore().load(resource, table.header, table.rows)
    elif resource.datastore_table:
        _datastore().drop(resource)


def _locked(dataset: Dataset, actor):
    dataset, at = DATASETS.begin(dataset, actor)
    scope.require_member(actor, dataset.agency_id)
    DATASETS.require(dataset, *EDITABLE, action="thay đổi tài nguyên của")
    return dataset, at


def _resource_info(resource: Resource) -> dict:
    return {
        "resource": resource.pk,
        "format": resource.format,
        "sha256": resource.file.sha256,
        "size": resource.file.size,
    }


# ---------------------------------------------------------------- uploads


def add_resource(
    dataset: Dataset,
    *,
    actor,
    data,
    name: str = "",
    description: str = "",
    filename: str = "",
    format: str | None = None,  # noqa: A002 — CKAN's and the contract's name
) -> Resource:
    """Add a file to the dataset (`data`: bytes or an UploadedFile)."""
    DATASETS.guard(actor)
    name = _text(name, "name", limit=MAX_NAME)
    description = _text(description, "description", limit=MAX_DESCRIPTION, lines=True)
    filename = filename or getattr(data, "name", "") or ""
    prepared = _prepared(data, filename=filename, declared=format, actor=actor)
    return _add(dataset, actor=actor, prepared=prepared, name=name, description=description)


@DATASETS.action
def _add(dataset: Dataset, *, actor, prepared: dict, name: str, description: str) -> Resource:
    dataset, at = _locked(dataset, actor)
    position = (dataset.resources.aggregate(last=Max("position"))["last"] or 0) + 1
    resource = Resource.objects.create(
        dataset=dataset,
        name=name or prepared["filename"] or f"{dataset.title} ({prepared['format']})",
        description=description,
        format=prepared["format"],
        file=prepared["file"],
        position=position if dataset.resources.exists() else 0,
    )
    _load_table(resource, prepared["content"])
    DATASETS.transition(
        dataset,
        actor=actor,
        action="add_resource",
        to_status=dataset.status,
        at=at,
        changes={"data_updated_at": at},
        audit_extra=_resource_info(resource),
    )
    return resource


def update_resource(
    resource: Resource,
    *,
    actor,
    data=None,
    filename: str = "",
    name: str | None = None,
    description: str | None = None,
    format: str | None = None,  # noqa: A002 — CKAN's name; must be the resource's format
) -> Resource:
    """Change the resource in one step: a new file when `data` is given (its address stays; it must be of
    the resource's format — a CSV stays a CSV — and a table is reloaded into the DataStore), and/or its
    name and description (None: unchanged). One version and one audit record "update_resource"; nothing
    changed (the same bytes, the same texts) writes none."""
    DATASETS.guard(actor)
    texts = {}
    if name is not None:
        texts["name"] = _text(name, "name", limit=MAX_NAME)
        if not texts["name"]:
            raise DomainError("Hãy nhập tên tài nguyên.", "name")
    if description is not None:
        texts["description"] = _text(description, "description", limit=MAX_DESCRIPTION, lines=True)
    declared = _format(format)
    prepared = None
    if data is not None:
        filename = filename or getattr(data, "name", "") or ""
        prepared = _prepared(data, filename=filename, declared=declared, actor=actor)
    _update(resource.dataset, actor=actor, resource_id=resource.pk, prepared=prepared, texts=texts, declared=declared)
    resource.refresh_from_db()
    return resource


def _resource_of(dataset: Dataset, resource_id: int) -> Resource:
    resource = Resource.objects.select_related("file").filter(pk=resource_id, dataset=dataset).first()
    if resource is None:
        raise NotFound("Không tìm thấy tài nguyên này trong bộ dữ liệu.")
    return resource


@DATASETS.action
def _update(dataset: Dataset, *, actor, resource_id: int, prepared: dict | None, texts: dict, declared) -> None:
    dataset, at = _locked(dataset, actor)
    resource = _resource_of(dataset, resource_id)
    if declared and declared != resource.format:
        raise DomainError(
            f"Tài nguyên này là tệp {resource.format}, không đổi được sang {declared}; "
            "hãy thêm tài nguyên mới cho định dạng khác.",
            "format",
        )
    if prepared is not None and prepared["format"] != resource.format:
        raise DomainError(
            f"Tệp mới có nội dung dạng {prepared['format']}, tài nguyên này là tệp {resource.format}: hãy "
            "chọn tệp cùng định dạng, hoặc thêm tài nguyên mới cho định dạng khác.",
            "file",
        )
    changed = [key for key, value in texts.items() if getattr(resource, key) != value]
    new_file = prepared is not None and resource.file_id != prepared["file"].pk
    if not changed and not new_file:
        return
    for key in changed:
        setattr(resource, key, texts[key])
    if new_file:
        resource.file = prepared["file"]
    resource.save()
    if new_file:
        _load_table(resource, prepared["content"])
    DATASETS.transition(
        dataset,
        actor=actor,
        action="update_resource",
        to_status=dataset.status,
        at=at,
        changes={"data_updated_at": at} if new_file else None,
        audit_extra={**_resource_info(resource), "changed": (["file"] if new_file else []) + changed},
    )


def delete_resource(resource: Resource, *, actor) -> None:
    """Remove the resource from the dataset (its table too); the stored file stays for the versions
    that list it."""
    _delete(resource.dataset, actor=actor, resource_id=resource.pk)


@DATASETS.action
def _delete(dataset: Dataset, *, actor, resource_id: int) -> None:
    dataset, at = _locked(dataset, actor)
    resource = _resource_of(dataset, resource_id)
    info = _resource_info(resource)
    if resource.datastore_table:
        _datastore().drop(resource)
    resource.delete()
    DATASETS.transition(
        dataset, actor=actor, action="delete_resource", to_status=dataset.status, at=at, audit_extra=info
    )


# ---------------------------------------------------------------- generated tables


def table_csv(header: list[str], rows: list[list]) -> bytes:
    """The table as CSV: UTF-8 with a BOM (Excel then reads the diacritics), formula-like text neutralized."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralize_text(cell) for cell in header])
    for row in rows:
        writer.writerow(["" if cell is None else neutralize_text(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(header: list[str], rows: list[list], title: str = "Dữ liệu") -> bytes:
    """The table as XLSX, every cell through core.spreadsheets (text that looks like a formula stays text)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(safe_cells(sheet, header))
    for row in rows:
        sheet.append(safe_cells(sheet, row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def put_generated(
    dataset: Dataset, *, key: str, name: str, header: list[str], rows: list[list], description: str = ""
) -> list[Resource]:
    """Publish a table the platform computed as the dataset's resources under `key` (a CSV and an XLSX;
    the CSV's rows loaded into the DataStore), replacing the previous ones of that key in place (their
    addresses stay). Nothing is written when the CSV's bytes did not change — an XLSX carries its time
    of writing, so the CSV is the table's fingerprint. Runs as the system."""
    key = _text(key, "key", limit=60, required=True)
    name = _text(name, "name", limit=MAX_NAME, required=True)
    description = _text(description, "description", limit=MAX_DESCRIPTION, lines=True)
    header = [str(column) for column in header]
    rows = [list(row) for row in rows]
    csv_bytes = table_csv(header, rows)
    digest = hashlib.sha256(csv_bytes).hexdigest()
    current = list(dataset.resources.filter(generated_key=key).select_related("file").order_by("position", "pk"))
    current_csv = next((r for r in current if r.format == ResourceFormat.CSV), None)
    if current_csv is not None and current_csv.file.sha256 == digest and len(current) == 2:
        return current
    files = {
        ResourceFormat.CSV: store_generated(csv_bytes, content_type="text/csv", extension="csv", name=f"{key}.csv"),
        ResourceFormat.XLSX: store_generated(
            table_xlsx(header, rows, name),
            content_type=CONTENT_TYPES[ResourceFormat.XLSX][0],
            extension="xlsx",
            name=f"{key}.xlsx",
        ),
    }
    text_rows = [["" if cell is None else str(cell) for cell in row] for row in rows]
    return atomic_retrying(
        lambda: _generate(
            dataset, key=key, name=name, description=description, files=files, header=header, rows=text_rows
        )
    )


def _generate(dataset: Dataset, *, key, name, description, files, header, rows) -> list[Resource]:
    dataset, at = DATASETS.begin(dataset, None)
    if dataset.status == DatasetStatus.WITHDRAWN:
        raise DomainError("Bộ dữ liệu đã rút; không cập nhật dữ liệu của nó.", "status")
    existing = {r.format: r for r in dataset.resources.filter(generated_key=key)}
    last = dataset.resources.aggregate(last=Max("position"))["last"]
    resources = []
    for offset, (format_, stored) in enumerate(files.items()):
        resource = existing.pop(format_, None) or Resource(
            dataset=dataset, generated_key=key, format=format_, position=(last + 1 if last is not None else 0) + offset
        )
        resource.name = f"{name} ({format_})"
        resource.description = description
        resource.file = stored
        resource.save()
        resources.append(resource)
    for leftover in existing.values():  # a format no longer generated
        if leftover.datastore_table:
            _datastore().drop(leftover)
        leftover.delete()
    _datastore().load(resources[0], header, iter(rows))
    DATASETS.transition(
        dataset,
        actor=None,
        action="generate",
        to_status=dataset.status,
        at=at,
        changes={"data_updated_at": at},
        audit_extra={"key": key, "sha256": files[ResourceFormat.CSV].sha256, "rows": len(rows)},
    )
    return resources

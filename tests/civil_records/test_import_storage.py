"""Uploads are read through Django's storage API, never by a path: with a
storage that keeps files elsewhere (object storage in production; here a
storage whose `path()` raises NotImplementedError, and InMemoryStorage, whose
`path()` names a file that is not on disk), an import stores exactly the
records an import of the same file from disk stores. Validation processes,
which open the file themselves, get a temporary copy, deleted afterwards."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from openpyxl import Workbook

from chinhquyenso.civil_records import importer, reading, services, tasks
from chinhquyenso.civil_records.models import ImportBatch

pytestmark = pytest.mark.django_db

HEADERS = ["Quyển số", "Số đăng ký", "Năm đăng ký", "Họ và tên", "Giới tính", "Ngày sinh", "Nơi sinh", "Họ và tên cha"]
ROWS = [
    ["01", "1", "1967", "Nguyễn Văn Hòa", "Nam", "12/05/1967", "xã Kiến An", "Nguyễn Văn Ba"],
    ["01", "2", "1967", "Lê Thị Hoa", "Nữ", "29/02/1967", "tỉnh Long Xuyên", ""],
    ["01", "", "1967", "", "Nam", "01/06/1967", "", ""],
    ["01", "4", "67", "Trần Văn ?", "trai", "năm 1967", "không rõ", "Trần Văn Tám"],
]


class StorageWithoutPaths(Storage):
    """Keeps files in memory and, like object storage (S3), has no path for them:
    Storage.path raises NotImplementedError. Each open is a handle of its own."""

    def __init__(self):
        self.files: dict[str, bytes] = {}

    def _save(self, name, content):
        self.files[name] = b"".join(content.chunks())
        return name

    def _open(self, name, mode="rb"):
        if name not in self.files:
            raise FileNotFoundError(name)
        return ContentFile(self.files[name], name=name)

    def exists(self, name):
        return name in self.files

    def size(self, name):
        return len(self.files[name])

    def delete(self, name):
        self.files.pop(name, None)


STORAGES_WITHOUT_LOCAL_FILES = {
    "no-path": f"{__name__}.StorageWithoutPaths",
    "in-memory": "django.core.files.storage.InMemoryStorage",
}


def csv_bytes() -> bytes:
    return "".join(",".join(row) + "\r\n" for row in [HEADERS, *ROWS]).encode("utf-8")


def xlsx_bytes() -> bytes:
    book = Workbook()
    for row in [HEADERS, *ROWS]:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def stored(batch: ImportBatch) -> list[tuple]:
    return list(
        batch.records.order_by("source_row").values_list(
            "source_row", "identity_key", "year", "registered_on", "event_from", "event_to", "verbatim", "data", "flags"
        )
    )


def problems(batch: ImportBatch) -> list[tuple]:
    return list(batch.problems.values_list("row", "column", "value", "code", "severity", "message"))


@pytest.fixture(params=STORAGES_WITHOUT_LOCAL_FILES.values(), ids=STORAGES_WITHOUT_LOCAL_FILES.keys())
def remote_storage(request, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": request.param}}
    return default_storage


@pytest.mark.parametrize("workers", [0, 1])
@pytest.mark.parametrize("content", [csv_bytes, xlsx_bytes], ids=["csv", "xlsx"])
def test_an_upload_in_a_storage_without_paths_imports_the_same_records(
    province, tmp_path, settings, remote_storage, monkeypatch, content, workers
):
    data = content()
    on_disk = tmp_path / "so.bin"
    on_disk.write_bytes(data)
    expected = importer.run_batch(
        services.create_batch(record_type="birth", commune=province["xa_b"], file_name="so"), on_disk, workers=0
    )
    settings.CQS = {**settings.CQS, "CIVIL_IMPORT_WORKERS": workers}
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(spool))
    paths = []
    validated_chunks = importer._validated_chunks

    def recording(source, path, *args):
        paths.append(path)
        return validated_chunks(source, path, *args)

    monkeypatch.setattr(importer, "_validated_chunks", recording)
    batch = services.create_batch(
        record_type="birth", commune=province["xa_a"], file_name="so", upload=io.BytesIO(data)
    )
    assert remote_storage.exists(batch.file.name)

    summary = tasks.run_import.call(batch.pk)

    batch.refresh_from_db()
    assert summary["status"] == "done" and batch.file_format == expected.file_format
    assert (
        batch.counts()
        == expected.counts()
        == {
            "rows": 4,
            "imported": 3,
            "flagged": 3,
            "rejected": 1,
            "skipped_existing": 0,
        }
    )
    assert stored(batch) == stored(expected)
    assert problems(batch) == problems(expected)
    if workers:
        # The validation process read a temporary copy, gone once the import ended.
        assert paths[0].startswith(str(spool)) and not list(spool.iterdir())
    else:
        assert paths == [None]


def test_local_path_prefers_the_storages_own_path(province, tmp_path):
    batch = services.create_batch(
        record_type="birth", commune=province["xa_a"], file_name="so.csv", upload=io.BytesIO(csv_bytes())
    )
    with reading.local_path(batch.file) as path:
        assert path == batch.file.storage.path(batch.file.name)
    with reading.local_path(tmp_path / "so.csv") as path:
        assert path == str(tmp_path / "so.csv")


def test_a_missing_upload_fails_the_batch_instead_of_leaving_it_running(province, remote_storage):
    batch = services.create_batch(
        record_type="birth", commune=province["xa_a"], file_name="so.csv", upload=io.BytesIO(csv_bytes())
    )
    remote_storage.delete(batch.file.name)
    assert tasks.run_import.call(batch.pk)["status"] == "failed"
    batch.refresh_from_db()
    assert batch.message.startswith("Lượt nhập bị dừng do lỗi hệ thống (FileNotFoundError")

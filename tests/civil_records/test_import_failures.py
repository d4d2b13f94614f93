"""An import that an unexpected error stops: the batch ends "failed" with a
reason the officer sees on the batch page and in its progress JSON (the error's
type and text, row numbers, never a row's content), the traceback goes to the
log, and running the batch again resumes after its checkpoint."""

import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from chinhquyenso.civil_records import importer, services, tasks
from chinhquyenso.civil_records.models import CivilRecord, ImportBatch

pytestmark = pytest.mark.django_db

BASE = "/can-bo/ho-tich/"
HEADER = "Quyển số,Số đăng ký,Năm đăng ký,Họ và tên,Giới tính,Ngày sinh,Họ và tên cha,Họ và tên mẹ\n"
ROWS = "".join(f"01,{n},1967,Nguyễn Văn Hòa {n},Nam,12/05/1967,Nguyễn Văn Ba,Trần Thị Tư\n" for n in range(1, 11))


def failing_on_chunk(monkeypatch, number: int, error: BaseException):
    """Make writing the `number`-th chunk raise `error` (the chunks before are written)."""
    write = importer._write_chunk
    calls = []

    def write_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == number:
            raise error
        return write(*args, **kwargs)

    monkeypatch.setattr(importer, "_write_chunk", write_chunk)


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "so-khai-sinh-1967.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    return path


@pytest.fixture
def batch(province, path):
    return services.create_batch(record_type="birth", commune=province["xa_a"], file_name=path.name)


def test_an_unexpected_error_fails_the_batch_with_its_reason_and_the_rerun_resumes(batch, path, monkeypatch, caplog):
    failing_on_chunk(monkeypatch, 2, RuntimeError("ổ đĩa đầy"))
    with caplog.at_level(logging.ERROR, logger=importer.__name__):
        failed = importer.run_batch(batch, path, chunk_size=3, workers=0)
    assert failed.status == ImportBatch.Status.FAILED and failed.finished and failed.finished_at is not None
    assert "RuntimeError: ổ đĩa đầy" in failed.message
    assert "lỗi hệ thống" in failed.message and "đến dòng 4 đã xử lý xong" in failed.message
    assert "Nguyễn" not in failed.message  # the rows' content is personal data
    # The first chunk (rows 2–4) stays, with its checkpoint.
    assert (failed.checkpoint_row, failed.imported, CivilRecord.objects.count()) == (4, 3, 3)
    # Where it happened and the error's class are logged for whoever fixes it, never its text (it may quote a row).
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    logged = record.getMessage()
    assert f"batch {batch.pk}" in logged and "RuntimeError" in logged and "_write_chunk" in logged
    assert "ổ đĩa đầy" not in logged and not record.exc_info

    monkeypatch.undo()
    resumed = importer.run_batch(failed, path, chunk_size=3, workers=0)
    assert (resumed.status, resumed.message, resumed.finished_at is not None) == ("done", "", True)
    assert (resumed.imported, resumed.skipped_existing, resumed.rows_read) == (10, 0, 10)
    assert CivilRecord.objects.count() == 10


def test_an_error_before_any_row_is_written_says_so(batch, path, monkeypatch):
    failing_on_chunk(monkeypatch, 1, KeyError("identity_key"))
    failed = importer.run_batch(batch, path, workers=0)
    assert failed.status == "failed" and failed.checkpoint_row == 0
    assert "(KeyError: 'identity_key')" in failed.message and "Chưa dòng nào được xử lý xong." in failed.message


def test_an_interrupted_worker_leaves_the_batch_running_to_resume(batch, path, monkeypatch):
    """Stopping the process (Ctrl-C, the worker shut down) is no failure: the batch
    stays running and resumes after its checkpoint."""
    failing_on_chunk(monkeypatch, 2, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        importer.run_batch(batch, path, chunk_size=3, workers=0)
    batch.refresh_from_db()
    assert (batch.status, batch.checkpoint_row, batch.message) == ("running", 4, "")
    monkeypatch.undo()
    assert importer.run_batch(batch, path, chunk_size=3, workers=0).counts()["imported"] == 10


def test_the_officer_sees_the_failed_import_and_why(province, officers, monkeypatch):
    """Through the page and the worker's task: the batch page and the progress JSON say it failed, and why."""
    client = Client()
    client.force_login(officers["xa_a"]["specialist"])
    upload = SimpleUploadedFile("so-khai-sinh-1967.csv", (HEADER + ROWS).encode(), content_type="text/csv")
    client.post(f"{BASE}nhap/", {"loai": "birth", "xa": province["xa_a"].pk, "tep": upload})
    batch = ImportBatch.objects.get()
    monkeypatch.setattr(importer.run_batch, "__kwdefaults__", {**importer.run_batch.__kwdefaults__, "chunk_size": 4})
    failing_on_chunk(monkeypatch, 2, RuntimeError("mất kết nối cơ sở dữ liệu"))

    summary = tasks.run_import.call(batch.pk)

    assert (summary["status"], summary["imported"]) == ("failed", 4)
    html = client.get(f"{BASE}lo/{batch.pk}/").content.decode()
    assert 'http-equiv="refresh"' not in html  # finished: the page stops reloading itself
    assert '<span class="badge overdue">Không đọc được tệp</span>' in html
    assert (
        '<p class="error" role="alert">Lượt nhập bị dừng do lỗi hệ thống (RuntimeError: mất kết nối cơ sở dữ liệu). '
        "Các dòng đến dòng 5 đã xử lý xong, kết quả được giữ nguyên." in html
    )
    progress = json.loads(client.get(f"{BASE}lo/{batch.pk}/tien-do.json").content)
    assert (progress["status"], progress["finished"], progress["imported"]) == ("failed", True, 4)
    assert progress["message"].startswith("Lượt nhập bị dừng do lỗi hệ thống (RuntimeError: mất kết nối")
    assert "Nguyễn" not in progress["message"]
    # The worker does not run a failed batch again by itself.
    monkeypatch.undo()
    assert tasks.run_import.call(batch.pk)["status"] == "failed"

"""Signed checkpoints outside the database (core.audit.checkpoint): a rewrite of the
audit records that keeps the chain self-consistent — hashes recomputed after an edit, the
tail deleted with the head, everything deleted, a record appended by hand — fails
`cqs audit verify`, which names the first bad record."""

import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from chinhquyenso.core import audit
from chinhquyenso.core.models import AuditHead, AuditRecord
from chinhquyenso.core.registry import JOBS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def key(settings):
    settings.AUDIT_KEY = "khoa-ky-diem-moc-kiem-thu"
    return settings.AUDIT_KEY


def _write(n):
    for i in range(n):
        with transaction.atomic():
            audit.record(actor=None, action="test.change", object_type="x", object_id=i, after={"i": i})


def _rehash_from(seq):
    """What someone with write access to the database does after an edit: recompute every
    hash from the edited record on, and move the head, so the chain is consistent again."""
    prev = AuditRecord.objects.get(seq=seq - 1).hash if seq > 1 else audit.GENESIS
    for entry in AuditRecord.objects.filter(seq__gte=seq).order_by("seq"):
        entry.prev_hash = prev
        entry.hash = prev = audit._digest(entry)
        entry.save()
    AuditHead.objects.filter(id=1).update(seq=entry.seq, hash=prev)


def _forge(seq, prev_hash, update_head=True):
    """A record appended by hand, its own hash right."""
    entry = AuditRecord(
        seq=seq,
        created_at=AuditRecord.objects.get(seq=1).created_at,
        actor_label="x",
        action="test.change",
        object_type="x",
        object_id="99",
        after={"i": 99},
        prev_hash=prev_hash,
    )
    entry.hash = audit._digest(entry)
    entry.save()
    if update_head:
        AuditHead.objects.filter(id=1).update(seq=seq, hash=entry.hash)


def _fails_naming(text):
    result = audit.verify()
    assert not result.ok and text in result.message, result.message
    with pytest.raises(CommandError, match=re.escape(text)):
        call_command("audit", "verify")
    return result.message


def _lines(settings):
    (path,) = settings.AUDIT_CHECKPOINT_DIR.glob("checkpoints-*.jsonl")
    return path, path.read_text().splitlines()


def test_untampered_chain_with_checkpoints_verifies(capsys):
    _write(5)
    call_command("audit", "checkpoint")
    _write(3)
    assert [c.seq for c in audit.checkpoint()] == [8]
    assert audit.checkpoint() == []  # nothing new: nothing written
    _write(2)
    result = audit.verify()
    assert result.ok, result.message
    assert "10 bản ghi" in result.message and "8 bản ghi được 2 điểm mốc" in result.message
    assert result.warnings and "2 bản ghi mới nhất (từ số 9) chưa có điểm mốc" in result.warnings[0]
    call_command("audit", "verify")
    assert "chưa có điểm mốc" in capsys.readouterr().out


def test_without_checkpoints_verify_warns_and_still_checks_the_chain():
    _write(3)
    result = audit.verify()
    assert result.ok and "Cảnh báo: chưa có điểm mốc" in result.warnings[0]
    AuditRecord.objects.filter(seq=2).update(after={"i": 7})
    assert not audit.verify().ok


def test_hashes_recomputed_after_an_edit_name_the_edited_record():
    _write(6)
    audit.checkpoint()
    _write(2)
    AuditRecord.objects.filter(seq=3).update(after={"i": 999})
    _rehash_from(3)
    message = _fails_naming("Bản ghi kiểm toán số 3 đã bị sửa rồi tính lại mã băm")
    assert "dòng 1 của tệp checkpoints-" in message


def test_an_edit_inside_a_long_run_of_checkpoints_is_named(monkeypatch):
    monkeypatch.setattr(audit, "PER_CHECKPOINT", 2)
    _write(7)
    assert [(c.first, c.seq) for c in audit.checkpoint()] == [(1, 2), (3, 4), (5, 6), (7, 7)]
    AuditRecord.objects.filter(seq=5).update(after={"i": 0})
    _rehash_from(5)
    _fails_naming("Bản ghi kiểm toán số 5 đã bị sửa rồi tính lại mã băm")


def test_deleting_the_head_row_and_the_tail_is_detected():
    _write(6)
    audit.checkpoint()
    AuditRecord.objects.filter(seq__gte=4).delete()
    AuditHead.objects.all().delete()
    _fails_naming("Bản ghi kiểm toán số 4 đến 6 đã bị xóa")


def test_deleting_the_head_row_alone_is_detected_even_without_checkpoints():
    _write(3)
    AuditHead.objects.all().delete()
    _fails_naming("Dòng đầu chuỗi kiểm toán (AuditHead) đã bị xóa")


def test_deleting_everything_is_detected():
    _write(5)
    audit.checkpoint()
    AuditRecord.objects.all().delete()
    AuditHead.objects.all().delete()
    _fails_naming("Bản ghi kiểm toán số 1 đến 5 đã bị xóa")


def test_a_forged_append_with_a_wrong_link_is_named_as_forged():
    _write(4)
    audit.checkpoint()
    _forge(5, prev_hash=AuditRecord.objects.get(seq=3).hash)
    message = _fails_naming("Bản ghi kiểm toán số 5 là giả")
    assert "bản ghi số 4 mà điểm mốc có chữ ký đã xác nhận" in message


def test_a_forged_append_behind_the_heads_back_is_named_as_forged():
    _write(4)
    audit.checkpoint()
    _forge(5, prev_hash=AuditRecord.objects.get(seq=4).hash, update_head=False)
    _fails_naming("Bản ghi kiểm toán số 5 là giả (thêm vào ngoài hệ thống): đầu chuỗi chỉ ghi nhận tới số 4")


def test_a_forged_checkpoint_line_is_reported(settings):
    _write(4)
    audit.checkpoint()
    # Rewrite the chain and the checkpoint to match it; the signature cannot follow without the key.
    AuditRecord.objects.filter(seq=2).update(after={"i": 222})
    _rehash_from(2)
    path, (line,) = _lines(settings)
    body = json.loads(line)
    body["hash"] = AuditRecord.objects.get(seq=4).hash
    body["fp"] = "".join(e.hash[: audit.FINGERPRINT] for e in AuditRecord.objects.order_by("seq"))
    path.write_text(json.dumps(body) + "\n")
    _fails_naming("Điểm mốc ở dòng 1 của tệp checkpoints-")
    assert "chữ ký sai" in audit.verify().message


def test_a_missing_checkpoint_line_is_reported(settings, monkeypatch):
    monkeypatch.setattr(audit, "PER_CHECKPOINT", 2)
    _write(6)
    audit.checkpoint()
    path, lines = _lines(settings)
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    _fails_naming("Thiếu điểm mốc cho bản ghi số 3 đến 4")


def test_checkpoints_signed_with_another_key_are_reported(settings):
    _write(3)
    audit.checkpoint()
    settings.AUDIT_KEY = "mot-khoa-khac"
    _fails_naming("có chữ ký sai: bị sửa, bị giả mạo hoặc được ký bằng khóa khác")


def test_the_key_file_is_generated_once_outside_the_database(settings, tmp_path):
    settings.AUDIT_KEY, settings.AUDIT_KEY_FILE = "", tmp_path / "keys" / "audit.key"
    _write(2)
    audit.checkpoint()
    key = settings.AUDIT_KEY_FILE.read_text()
    assert len(key) > 40 and settings.AUDIT_KEY_FILE.stat().st_mode & 0o777 == 0o600
    _write(1)
    audit.checkpoint()
    assert settings.AUDIT_KEY_FILE.read_text() == key and audit.verify().ok
    settings.AUDIT_KEY_FILE.unlink()
    _fails_naming("Không có khóa ký điểm mốc")


def test_a_tampered_chain_is_never_signed():
    _write(3)
    audit.checkpoint()
    _write(2)
    AuditRecord.objects.filter(seq=4).update(prev_hash="f" * 64)
    with pytest.raises(CommandError, match="bản ghi số 4 không nối đúng chuỗi"):
        call_command("audit", "checkpoint")


@pytest.mark.django_db(transaction=True)
def test_the_worker_writes_a_checkpoint_on_schedule(settings):
    assert "audit_checkpoint" in JOBS
    _write(3)
    call_command("worker", batch=True)
    _, (line,) = _lines(settings)
    assert json.loads(line)["seq"] == 3
    result = audit.verify()
    assert result.ok and "3 bản ghi được 1 điểm mốc" in result.message

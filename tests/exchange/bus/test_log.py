"""The bus's message log (exchange.bus.log): the hash chain, signed seals, verification naming the
first bad entry, archives, and search for auditors only."""

import datetime as dt
import gzip
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole
from chinhquyenso.core import signed_lines
from chinhquyenso.core.errors import PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.core.registry import JOBS
from chinhquyenso.exchange.bus import keys
from chinhquyenso.exchange.bus import log as message_log
from chinhquyenso.exchange.models import BusLogArchive, BusLogEntry, BusLogHead, BusLogSeal
from tests.core.test_workflow import run_at_once

pytestmark = pytest.mark.django_db
VN = ZoneInfo("Asia/Ho_Chi_Minh")
SERVICE = "VN/GOV/000.00.00.G06/cu-tru/cu-tru"
CLIENT = "VN/GOV/000.00.00.H01/mot-cua"


def _append(i=0, *, at=None, service=SERVICE, client=CLIENT, correlation="", outcome="ok", body=None):
    return message_log.append(
        at=at or timezone.now(),
        message_id=f"m{i}",
        client=client,
        service=service,
        operation="register",
        method="POST",
        status=202,
        outcome=outcome,
        duration_ms=12.3456 + i,
        asynchronous=bool(i % 2),
        idempotency_key=f"k{i}",
        correlation=correlation,
        request_body=body if body is not None else json.dumps({"reference": f"R{i}", "so_dinh_danh": "001099012345"}),
        response_body=json.dumps({"request_id": f"q{i}", "status": "received"}),
    )


def _write(n, **kwargs):
    return [_append(i, **kwargs) for i in range(n)]


def _rehash_from(seq):
    """What someone with write access to the database does after an edit: recompute every hash
    from the edited entry on and move the head, so the chain is consistent again."""
    prev = BusLogEntry.objects.get(seq=seq - 1).entry_hash if seq > 1 else message_log.GENESIS
    for entry in BusLogEntry.objects.filter(seq__gte=seq).order_by("seq"):
        entry.request_hash = message_log.body_hash(entry.request_body)
        entry.prev_hash = prev
        entry.entry_hash = prev = message_log.digest(entry)
        entry.save()
    last = BusLogEntry.objects.order_by("-seq").first()
    BusLogHead.objects.filter(pk=1).update(seq=last.seq, hash=last.entry_hash)


def _bad(seq_expected, *fragments):
    result = message_log.verify()
    assert not result.ok, result.message
    assert result.first_bad_seq == seq_expected, result.message
    for fragment in fragments:
        assert fragment in result.message, result.message
    return result


# --- The chain and the seals ---------------------------------------------------------------------


def test_an_untouched_log_verifies_and_warns_until_sealed():
    _write(5)
    result = message_log.verify()
    assert result.ok and result.first_bad_seq is None
    assert "5 bản ghi" in result.message
    assert any("chưa có niêm phong" in w for w in result.warnings)


def test_a_time_given_in_local_time_hashes_as_it_is_read_back():
    _append(at=dt.datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=VN))
    assert message_log.verify().ok


def test_seal_signs_new_entries_in_batches_into_the_database_and_the_monthly_file(monkeypatch, settings):
    monkeypatch.setattr(message_log, "PER_SEAL", 3)
    _write(7)
    seals = message_log.seal()
    assert [(s.first_seq, s.last_seq) for s in seals] == [(1, 3), (4, 6), (7, 7)]
    assert message_log.seal() == []  # nothing new
    rows = list(BusLogSeal.objects.order_by("last_seq"))
    assert [(r.first_seq, r.last_seq) for r in rows] == [(1, 3), (4, 6), (7, 7)]
    assert rows[-1].last_hash == BusLogEntry.objects.get(seq=7).entry_hash
    files = signed_lines.files(settings.BUS_LOG_SEAL_DIR, "seals")
    assert len(files) == 1 and files[0].name.startswith("seals-")
    lines = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert [line["last_seq"] for line in lines] == [3, 6, 7]
    first = lines[0]
    assert {"first_seq", "last_seq", "last_hash", "count", "sealed_at", "key_id", "signature"} <= set(first)
    assert first["count"] == 3 and first["key_id"] == keys.identity().key_id
    payload = {k: v for k, v in first.items() if k != "signature"}
    assert keys.verify(signed_lines.canonical(payload).encode(), first["signature"], keys.identity().cert_pem)
    _write(2)
    assert [(s.first_seq, s.last_seq) for s in message_log.seal()] == [(8, 9)]
    result = message_log.verify()
    assert result.ok and "9 bản ghi được 4 niêm phong" in result.message, result.message


def test_the_seal_job_runs_every_minute_and_the_archive_job_monthly():
    from chinhquyenso.exchange.bus import log_tasks

    _write(2)
    assert log_tasks.seal_bus_log.call() == {"seals": 1, "last_seq": 2}
    assert JOBS.get("bus_log_seal").interval_seconds == 60
    assert JOBS.get("bus_log_seal").task == "chinhquyenso.exchange.bus.log_tasks.seal_bus_log"
    assert JOBS.get("bus_log_archive").interval_seconds == 30 * 24 * 3600


def test_the_seal_writer_refuses_a_chain_that_does_not_link_to_the_previous_seal():
    _write(3)
    message_log.seal()
    _write(2)
    BusLogEntry.objects.filter(seq=4).update(prev_hash="f" * 64)
    with pytest.raises(message_log.ChainBroken, match="bản ghi số 4"):
        message_log.seal()
    assert BusLogSeal.objects.count() == 1


def test_the_seal_writer_refuses_when_sealed_entries_are_gone():
    _write(4)
    message_log.seal()
    BusLogEntry.objects.filter(seq__gte=3).delete()
    BusLogHead.objects.filter(pk=1).update(seq=2, hash=BusLogEntry.objects.get(seq=2).entry_hash)
    with pytest.raises(message_log.ChainBroken, match="chỉ còn tới bản ghi số 2"):
        message_log.seal()


def test_a_seal_missing_from_the_file_is_copied_back_and_one_missing_from_the_database_too(settings):
    _write(3)
    message_log.seal()
    for path in signed_lines.files(settings.BUS_LOG_SEAL_DIR, "seals"):
        path.unlink()
    result = message_log.verify()
    assert result.ok and any("không có trong tệp niêm phong" in w for w in result.warnings)
    _write(1)
    message_log.seal()  # copies the first seal to the file, then seals entry 4
    assert len(signed_lines.files(settings.BUS_LOG_SEAL_DIR, "seals")[0].read_text().splitlines()) == 2
    BusLogSeal.objects.all().delete()
    result = message_log.verify()
    assert result.ok and any("chỉ còn trong tệp niêm phong" in w for w in result.warnings), result
    _write(1)
    message_log.seal()
    assert BusLogSeal.objects.count() == 3


# --- Tampering, each named ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [
        ("client", "VN/GOV/000.00.00.H01/ke-gian"),
        ("service", "VN/GOV/000.00.00.G06/khac/khac"),
        ("status", 200),
        ("outcome", "refused"),
        ("duration_ms", 1.5),
        ("asynchronous", True),
        ("at", dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
        ("correlation", "H01.99-250101-0001"),
        ("idempotency_key", "khac"),
        ("error_code", "forbidden"),
        ("request_hash", "a" * 64),
    ],
)
def test_an_edited_field_names_its_entry(field, value):
    _write(5)
    message_log.seal()
    if field == "asynchronous":
        value = not BusLogEntry.objects.get(seq=3).asynchronous
    BusLogEntry.objects.filter(seq=3).update(**{field: value})
    _bad(3, "Bản ghi số 3 của nhật ký trục đã bị sửa")


def test_an_edited_body_no_longer_matches_its_hash():
    _write(4)
    BusLogEntry.objects.filter(seq=2).update(request_body='{"so_dinh_danh": "079099000001"}')
    _bad(2, "Bản ghi số 2 của nhật ký trục đã bị sửa: nội dung gửi không khớp mã băm")
    BusLogEntry.objects.filter(seq=2).update(request_body=BusLogEntry.objects.get(seq=1).request_body)
    entry = BusLogEntry.objects.get(seq=3)
    BusLogEntry.objects.filter(seq=3).update(response_body=entry.response_body + " ")
    assert message_log.verify().first_bad_seq == 2  # still the first


def test_an_edited_body_whose_hashes_are_recomputed_is_caught_by_the_seal():
    _write(5)
    message_log.seal()
    BusLogEntry.objects.filter(seq=2).update(request_body='{"so_dinh_danh": "079099000001"}')
    _rehash_from(2)
    _bad(2, "Bản ghi số 2 của nhật ký trục đã bị sửa, xóa hoặc chèn rồi tính lại mã băm", "niêm phong")


def test_a_deleted_entry_is_named():
    _write(5)
    BusLogEntry.objects.filter(seq=3).delete()
    _bad(3, "Bản ghi số 3 của nhật ký trục đã bị xóa")


def test_deleted_sealed_tail_with_its_head_is_named_by_the_seal():
    _write(5)
    message_log.seal()
    BusLogEntry.objects.filter(seq__gte=4).delete()
    BusLogHead.objects.filter(pk=1).update(seq=3, hash=BusLogEntry.objects.get(seq=3).entry_hash)
    _bad(4, "Bản ghi số 4 đến 5 của nhật ký trục đã bị xóa")


def test_an_entry_inserted_and_the_chain_renumbered_is_caught_by_the_seal():
    _write(5)
    message_log.seal()
    for entry in BusLogEntry.objects.filter(seq__gte=3).order_by("-seq"):
        entry.seq += 1
        entry.save()
    forged = BusLogEntry.objects.get(seq=2)
    forged.pk, forged.seq, forged.message_id = None, 3, "gia-mao"
    forged.save()
    _rehash_from(3)
    _bad(3, "Bản ghi số 3 của nhật ký trục đã bị sửa, xóa hoặc chèn rồi tính lại mã băm")


def test_the_whole_chain_rewritten_and_rehashed_is_caught_by_the_seal_at_the_first_change():
    _write(6)
    message_log.seal()
    BusLogEntry.objects.filter(seq=4).update(client="VN/GOV/000.00.00.H01/ke-gian")
    _rehash_from(1)
    _bad(4, "Bản ghi số 4 của nhật ký trục đã bị sửa, xóa hoặc chèn rồi tính lại mã băm")


def test_without_a_seal_a_rehashed_chain_is_not_caught_which_is_why_the_job_seals_every_minute():
    _write(4)
    BusLogEntry.objects.filter(seq=2).update(client="x")
    _rehash_from(2)
    assert message_log.verify().ok


def test_a_forged_append_after_the_last_seal_is_named():
    _write(3)
    message_log.seal()
    last = BusLogEntry.objects.get(seq=3)
    forged = BusLogEntry(**{f: getattr(last, f) for f in message_log.STORED_FIELDS})
    forged.seq, forged.prev_hash, forged.message_id = 4, last.entry_hash, "gia-mao"
    forged.entry_hash = message_log.digest(forged)
    forged.save()  # the head was not moved
    _bad(4, "Bản ghi số 4 của nhật ký trục là giả")
    # Linked to something else: the sealed entry 3 convicts it.
    BusLogEntry.objects.filter(seq=4).update(prev_hash="e" * 64)
    forged.prev_hash = "e" * 64
    BusLogEntry.objects.filter(seq=4).update(entry_hash=message_log.digest(forged))
    BusLogHead.objects.filter(pk=1).update(seq=4, hash=message_log.digest(forged))
    _bad(4, "Bản ghi số 4 của nhật ký trục là giả (chèn vào ngoài hệ thống)")


def test_a_tampered_seal_line_or_a_seal_signed_with_another_key_is_refused(settings):
    _write(3)
    message_log.seal()
    path = signed_lines.files(settings.BUS_LOG_SEAL_DIR, "seals")[0]
    line = json.loads(path.read_text())
    line["last_seq"] = 2
    path.write_text(signed_lines.canonical(line) + "\n")
    _bad(1, "có chữ ký sai")
    key_pem, cert_pem = keys.generate_identity("ke gia mao")
    forger = keys.Identity(key_pem, cert_pem)
    path.unlink()
    BusLogSeal.objects.all().delete()
    seal = message_log._sign(
        forger,
        1,
        3,
        BusLogEntry.objects.get(seq=3).entry_hash,
        [e.entry_hash[:16] for e in BusLogEntry.objects.order_by("seq")],
        timezone.now(),
    )
    message_log._store(seal)
    _bad(1, "không phải khóa của trục")


def test_an_unreadable_last_seal_line_stops_the_seal_writer(settings):
    _write(2)
    message_log.seal()
    path = signed_lines.files(settings.BUS_LOG_SEAL_DIR, "seals")[0]
    with path.open("a") as file:
        file.write('{"first_seq": 3, "last_se')
    _write(1)
    with pytest.raises(message_log.ChainBroken, match="không đọc được"):
        message_log.seal()
    assert len(path.read_text().splitlines()) == 2
    _bad(None, "không đọc được")


def test_the_head_row_deleted_is_named():
    _write(2)
    BusLogHead.objects.all().delete()
    _bad(3, "BusLogHead")


# --- Archives -------------------------------------------------------------------------------------


def _old_and_new():
    for i in range(4):
        _append(i, at=dt.datetime(2024, 1, 10 + i, 8, tzinfo=VN))
    for i in range(4, 6):
        _append(i, at=dt.datetime(2026, 1, 10, 8, tzinfo=VN))


def test_archive_moves_sealed_old_entries_to_a_verified_file_and_the_chain_goes_on(settings):
    _old_and_new()
    assert message_log.archive(dt.date(2025, 1, 1)) == []  # nothing sealed yet
    message_log.seal()
    made = message_log.archive(dt.date(2025, 1, 1))
    assert len(made) == 1
    archived = made[0]
    assert (archived.first_seq, archived.last_seq, archived.entries) == (1, 4, 4)
    assert archived.first_prev_hash == message_log.GENESIS
    assert list(BusLogEntry.objects.values_list("seq", flat=True).order_by("seq")) == [5, 6]
    path = settings.BUS_LOG_ARCHIVE_DIR / archived.file_name
    with gzip.open(path, "rt") as file:
        rows = [json.loads(line) for line in file]
    assert [r["seq"] for r in rows] == [1, 2, 3, 4] and "001099012345" in rows[0]["request_body"]
    assert AuditRecord.objects.filter(action="bus.log_archive").count() == 1
    assert message_log.archive(dt.date(2025, 1, 1)) == []
    _write(2)
    message_log.seal()
    result = message_log.verify()
    assert result.ok and "8 bản ghi (4 trong 1 tệp lưu trữ)" in result.message, result.message


def test_archive_stops_at_the_last_seal_and_splits_into_files(monkeypatch):
    monkeypatch.setattr(message_log, "PER_ARCHIVE", 2)
    _old_and_new()
    message_log.seal()
    _append(9, at=dt.datetime(2024, 6, 1, tzinfo=VN))  # old, but not sealed yet
    made = message_log.archive(dt.date(2027, 1, 1))
    assert [(a.first_seq, a.last_seq) for a in made] == [(1, 2), (3, 4), (5, 6)]
    assert list(BusLogEntry.objects.values_list("seq", flat=True)) == [7]
    assert message_log.verify().ok


def _rewrite_archive(path, change):
    with gzip.open(path, "rt") as file:
        rows = [json.loads(line) for line in file]
    change(rows)
    with gzip.open(path, "wt") as file:
        file.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def test_a_tampered_archive_file_names_the_entry_and_the_file(settings):
    _old_and_new()
    message_log.seal()
    archived = message_log.archive(dt.date(2025, 1, 1))[0]
    path = settings.BUS_LOG_ARCHIVE_DIR / archived.file_name
    original = path.read_bytes()

    def edit(rows):
        rows[1]["client"] = "VN/GOV/000.00.00.H01/ke-gian"

    _rewrite_archive(path, edit)
    _bad(2, "Bản ghi số 2 của nhật ký trục đã bị sửa", archived.file_name)

    def drop(rows):
        del rows[2]

    path.write_bytes(original)
    _rewrite_archive(path, drop)
    _bad(3, "Bản ghi số 3 của nhật ký trục đã bị xóa")
    path.write_bytes(original)
    assert message_log.verify().ok
    path.write_bytes(original[:-10])  # cut short
    assert not message_log.verify().ok
    path.unlink()
    _bad(1, "tệp lưu trữ", "không còn")


def test_a_recompressed_but_identical_archive_still_verifies_its_entries_but_not_its_file(settings):
    _old_and_new()
    message_log.seal()
    archived = message_log.archive(dt.date(2025, 1, 1))[0]
    path = settings.BUS_LOG_ARCHIVE_DIR / archived.file_name
    _rewrite_archive(path, lambda rows: None)
    _bad(1, "đã bị sửa: mã băm của tệp khác")


def test_an_entry_put_back_into_the_database_after_archiving_is_named():
    _old_and_new()
    message_log.seal()
    archived = message_log.archive(dt.date(2025, 1, 1))[0]
    newest = BusLogEntry.objects.get(seq=5)
    BusLogEntry.objects.create(**{**{f: getattr(newest, f) for f in message_log.STORED_FIELDS}, "seq": 2})
    _bad(2, "đã được lưu trữ ra tệp")
    assert archived.file_name


def test_archive_refuses_a_broken_chain(settings):
    _old_and_new()
    message_log.seal()
    BusLogEntry.objects.filter(seq=2).update(client="x")
    with pytest.raises(message_log.ChainBroken, match="Bản ghi số 2"):
        message_log.archive(dt.date(2025, 1, 1))
    assert BusLogEntry.objects.count() == 6 and not BusLogArchive.objects.exists()
    assert not list(settings.BUS_LOG_ARCHIVE_DIR.glob("*.gz")) and not list(
        settings.BUS_LOG_ARCHIVE_DIR.glob(".*partial")
    )


def test_the_archive_job_applies_the_retention_setting(settings):
    from chinhquyenso.exchange.bus import log_tasks

    _old_and_new()
    message_log.seal()
    settings.CQS = {**settings.CQS, "BUS_LOG_RETENTION_DAYS": 0}
    assert log_tasks.archive_bus_log.call() == {"archives": 0}
    settings.CQS = {**settings.CQS, "BUS_LOG_RETENTION_DAYS": 365}
    assert log_tasks.archive_bus_log.call() == {"archives": 1, "entries": 4}


# --- Search ---------------------------------------------------------------------------------------


@pytest.fixture
def auditor(admin_user):
    return accounts.create_officer(
        actor=admin_user,
        username="kiem.tra",
        password="Mat-khau-2025",
        full_name="Kiểm tra",
        global_role=GlobalRole.AUDITOR,
    )


def test_search_is_for_auditors_and_the_province_administrator(officers, auditor, admin_user, citizen):
    _append(1, correlation="H01.01-260101-0001")
    _append(2, service="VN/GOV/000.00.00.G01/bhxh/bhxh", client="VN/GOV/000.00.00.H01/thanh-toan")
    _append(3, outcome="refused")
    for refused in (officers["xa_a"]["counter_officer"], officers["ubnd"]["agency_admin"], citizen, None):
        with pytest.raises(PermissionDenied):
            message_log.search(refused)
    assert len(message_log.search(auditor)) == 3
    assert len(message_log.search(admin_user)) == 3
    assert [e.seq for e in message_log.search(auditor, service=SERVICE)] == [3, 1]
    assert [e.seq for e in message_log.search(auditor, client="VN/GOV/000.00.00.H01/thanh-toan")] == [2]
    assert [e.seq for e in message_log.search(auditor, correlation="H01.01-260101-0001")] == [1]
    assert [e.seq for e in message_log.search(auditor, outcome="refused")] == [3]
    today = timezone.localdate()
    assert len(message_log.search(auditor, start=today, end=today)) == 3
    assert message_log.search(auditor, end=today - dt.timedelta(days=1)) == []
    assert [e.seq for e in message_log.search(auditor, limit=1, offset=1)] == [2]


def test_search_dates_are_local_days_both_included(auditor):
    _append(1, at=dt.datetime(2026, 2, 1, 0, 5, tzinfo=VN))  # 31/1 in UTC
    _append(2, at=dt.datetime(2026, 2, 2, 23, 55, tzinfo=VN))
    _append(3, at=dt.datetime(2026, 2, 3, 0, 0, tzinfo=VN))
    found = message_log.search(auditor, start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 2))
    assert [e.seq for e in found] == [2, 1]


def test_reading_an_entry_is_audited_and_for_auditors_only(auditor, officers):
    entry = _append(1)
    with pytest.raises(PermissionDenied):
        message_log.read_entry(officers["xa_a"]["leader"], entry.seq)
    assert not AuditRecord.objects.filter(action="bus.log_read").exists()
    read = message_log.read_entry(auditor, entry.seq)
    assert "001099012345" in read.request_body
    record = AuditRecord.objects.get(action="bus.log_read")
    assert record.actor == auditor and record.object_id == str(entry.seq)
    assert "001099012345" not in json.dumps(record.after)


# --- The command line -----------------------------------------------------------------------------


def test_cli_verify_exits_non_zero_naming_the_first_bad_entry(capsys):
    _write(4)
    call_command("bus", "log", "seal")
    assert "Đã ký 1 niêm phong, tới bản ghi số 4" in capsys.readouterr().out
    call_command("bus", "log", "verify")
    assert "Nhật ký trục toàn vẹn: 4 bản ghi" in capsys.readouterr().out
    BusLogEntry.objects.filter(seq=2).update(status=500)
    with pytest.raises(CommandError, match="Bản ghi số 2 của nhật ký trục đã bị sửa"):
        call_command("bus", "log", "verify")


def test_cli_verify_through_cqs_exits_with_status_1(capsys):
    from chinhquyenso.cli import main

    _write(2)
    BusLogEntry.objects.filter(seq=1).delete()
    with pytest.raises(SystemExit) as exited:
        main(["bus", "log", "verify"])
    assert exited.value.code == 1
    assert "Bản ghi số 1 của nhật ký trục đã bị xóa" in capsys.readouterr().err


def test_cli_search_prints_metadata_never_bodies(capsys):
    _append(1, correlation="H01.01-260101-0001")
    _append(2, service="VN/GOV/000.00.00.G01/bhxh/bhxh")
    call_command("bus", "log", "search", "--service", SERVICE, "--json")
    rows = json.loads(capsys.readouterr().out)
    assert [r["seq"] for r in rows] == [1] and rows[0]["correlation"] == "H01.01-260101-0001"
    today = timezone.localdate().isoformat()
    call_command("bus", "log", "search", "--from", today, "--to", today, "--limit", "5")
    out = capsys.readouterr().out
    assert "#2" in out and "#1" in out and "2 lời gọi" in out and "001099012345" not in out
    call_command("bus", "log", "search", "--correlation", "khong-co")
    assert "Không có lời gọi nào" in capsys.readouterr().out
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("bus", "log", "search", "--from", "01/02/2026")
    with pytest.raises(CommandError, match="--limit"):
        call_command("bus", "log", "search", "--limit", "0")


def test_cli_archive(capsys):
    _old_and_new()
    call_command("bus", "log", "seal")
    call_command("bus", "log", "archive", "--before", "2025-01-01")
    assert "Đã lưu trữ 4 bản ghi (số 1 đến 4) vào 1 tệp" in capsys.readouterr().out
    call_command("bus", "log", "archive", "--before", "2025-01-01")
    assert "Không có bản ghi đã niêm phong nào trước 01/01/2025" in capsys.readouterr().out


# --- Several writers at once (PostgreSQL) ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_several_writers_at_once_keep_the_chain_gapless_and_linked():
    if connection.vendor != "postgresql":
        pytest.skip("several clients at once: PostgreSQL")
    results = run_at_once(8, lambda i: [_append(i * 100 + j).seq for j in range(15)])
    assert not [r for r in results if isinstance(r, Exception)], results
    seqs = sorted(s for r in results for s in r)
    assert seqs == list(range(1, 121))
    message_log.seal()
    result = message_log.verify()
    assert result.ok and "120 bản ghi" in result.message, result.message


@pytest.mark.django_db(transaction=True)
def test_sealing_while_writers_append_never_signs_a_partial_or_overlapping_batch():
    if connection.vendor != "postgresql":
        pytest.skip("several clients at once: PostgreSQL")

    def work(i):
        if i == 0:
            return [len(message_log.seal()) for _ in range(5)]
        return [_append(i * 100 + j).seq for j in range(10)]

    results = run_at_once(4, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    message_log.seal()
    rows = list(BusLogSeal.objects.order_by("last_seq").values_list("first_seq", "last_seq"))
    assert rows[0][0] == 1 and rows[-1][1] == 30
    assert all(b[0] == a[1] + 1 for a, b in zip(rows, rows[1:], strict=False))
    assert message_log.verify().ok

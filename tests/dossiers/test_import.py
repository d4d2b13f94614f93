"""Migration from the old one-stop system: `cqs import-dossiers FILE.jsonl`."""

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from chinhquyenso.accounts.models import User
from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import AuditRecord, CalendarDay, DomainEvent
from chinhquyenso.dossiers import importer, services
from chinhquyenso.dossiers.models import Dossier, DossierEvent, Status, Timeliness
from chinhquyenso.org import services as org
from chinhquyenso.org.models import AgencyKind
from tests.conftest import new_citizen_id, vn

NAME = "Trần Thị Bích Ngọc"


def ts(day, hour, minute=0, month=3, year=2025):
    return f"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00+07:00"


def ev(action, at, **extra):
    return {"at": at, "action": action, **extra}


def line(code, status, events, **extra):
    data = {
        "code": code,
        "procedure_code": "1.001193",
        "agency": "000.07.01.H01",
        "channel": "online",
        "applicant": {"identity_number": new_citizen_id(), "full_name": NAME, "phone": "0912345678"},
        "submitted_at": ts(3, 8),
        "status": status,
        "events": events,
    }
    data.update(extra)
    return data


# Birth registration: 3 working days. Accepted Monday 03/03/2025 09:00 → due Thursday 06/03 17:00.
def returned(code, approve_at, return_at, **extra):
    return line(
        code,
        "returned",
        [
            ev("accept", ts(3, 9)),
            ev("forward", ts(4, 10), note="Thụ lý xong"),
            ev("approve", approve_at),
            ev("return_result", return_at),
        ],
        **extra,
    )


def write(tmp_path, rows, name="old.jsonl"):
    path = tmp_path / name
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    return path


def run_command(path, *args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_dossiers", str(path), *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def ready(birth_procedure, province):
    return province


def test_good_lines_of_every_status_import_with_derived_timestamps_and_timeliness(ready, tmp_path):
    rows = [
        returned("CU-001", ts(5, 16), ts(6, 8), digitized=True, electronic_result=True),  # early
        returned("CU-002", ts(6, 16), ts(6, 16, 30), channel="counter"),  # on the due date
        # Late; processed at the district, the approved result comes back to the receiving commune.
        line(
            "CU-003",
            "returned",
            [
                ev("accept", ts(3, 9)),
                ev("forward", ts(4, 10), note="Thụ lý xong", agency="ubnd-cho-moi"),
                ev("approve", ts(10, 9)),
                ev("return_result", ts(11, 14)),
            ],
            fee_paid=4000,
        ),
        line(
            "CU-004",
            "refused",
            [
                ev("request_supplement", ts(3, 9), note="Thiếu giấy chứng sinh"),
                ev("refuse", ts(5, 10), note="Không bổ sung"),
            ],
        ),
        line("CU-005", "withdrawn", [ev("accept", ts(3, 9)), ev("withdraw", ts(4, 11))]),
        line(
            "CU-006",
            "in_process",
            [ev("submit", ts(3, 8)), ev("accept", ts(3, 14, 59)), ev("forward", ts(4, 9), agency="ubnd-cho-moi")],
            agency="xa-kien-an",
        ),
    ]
    stats = importer.import_file(write(tmp_path, rows))
    assert (stats.imported, stats.skipped, stats.rejected) == (6, 0, 0), stats.rejections

    d = {x.code: x for x in Dossier.objects.all()}
    xa, huyen = ready["xa_a"], ready["huyen"]
    due = vn(2025, 3, 6, 17, 0)
    early, on_time, late = d["CU-001"], d["CU-002"], d["CU-003"]
    assert [early.timeliness, on_time.timeliness, late.timeliness] == [
        Timeliness.EARLY,
        Timeliness.ON_TIME,
        Timeliness.LATE,
    ]
    for dossier in (early, on_time, late):
        assert dossier.status == Status.RETURNED and dossier.imported
        assert dossier.submitted_at == vn(2025, 3, 3, 8) and dossier.accepted_at == vn(2025, 3, 3, 9)
        assert dossier.due_at == due and dossier.original_due_at == due and not dossier.rescheduled
        assert dossier.returned_at == dossier.closed_at
        assert dossier.receiving_agency == xa and dossier.current_agency == xa
    assert early.finished_at == vn(2025, 3, 5, 16) and early.returned_at == vn(2025, 3, 6, 8)
    assert late.finished_at == vn(2025, 3, 10, 9) and late.closed_at == vn(2025, 3, 11, 14)
    # Fields the KPI module reads: channel, digitization, e-result, fees (tariff with the online discount).
    assert (early.channel, early.digitized, early.has_electronic_result) == ("online", True, True)
    assert (on_time.channel, on_time.digitized, on_time.has_electronic_result) == ("counter", False, False)
    assert (early.fee_due, early.fee_paid, on_time.fee_due, late.fee_paid) == (4000, 0, 8000, 4000)

    refused = d["CU-004"]
    assert refused.status == Status.REFUSED and refused.closed_at == vn(2025, 3, 5, 10)
    assert refused.accepted_at is None and refused.due_at is None and refused.timeliness == ""
    withdrawn = d["CU-005"]
    assert withdrawn.status == Status.WITHDRAWN and withdrawn.closed_at == vn(2025, 3, 4, 11)
    assert withdrawn.due_at == due and withdrawn.timeliness == "" and withdrawn.finished_at is None
    open_one = d["CU-006"]
    assert open_one.status == Status.IN_PROCESS and open_one.timeliness == "" and open_one.closed_at is None
    assert open_one.due_at == due  # accepted 14:59, before the 15:00 cutoff: counting starts that day
    assert open_one.receiving_agency == xa and open_one.current_agency == huyen

    # Every event of the line becomes a DossierEvent, plus the submission when the line omits it.
    timeline = list(late.events.values_list("action", "from_status", "to_status"))
    assert timeline == [
        ("submit", "", "submitted"),
        ("accept", "submitted", "in_process"),
        ("forward", "in_process", "in_process"),
        ("approve", "in_process", "result_ready"),
        ("return_result", "result_ready", "returned"),
    ]
    assert late.events.get(action="forward").note == "Thụ lý xong"
    approve = late.events.get(action="approve")
    assert (approve.from_agency, approve.to_agency) == (huyen, xa)
    assert list(open_one.events.values_list("action", flat=True)) == ["submit", "accept", "forward"]
    assert open_one.events.get(action="forward").to_agency == huyen
    # Historical dossiers notify nobody.
    assert not DomainEvent.objects.filter(name="DossierStatusChanged").exists()


def test_due_date_follows_the_province_calendar_pauses_and_apologies(ready, tmp_path):
    CalendarDay.objects.create(date=dt.date(2025, 3, 5), kind=CalendarDay.Kind.DAY_OFF, note="Nghỉ thêm")
    rows = [
        line("CAL-1", "in_process", [ev("accept", ts(3, 9))]),
        # Paused Tuesday with 2 working days left (Thu, Fri; Wed is off); resumed Monday 10/03 → due Wednesday 12/03.
        line(
            "CAL-2",
            "returned",
            [
                ev("accept", ts(3, 9)),
                ev("request_supplement", ts(4, 10)),
                ev("supplement", ts(10, 9)),
                ev("approve", ts(12, 10)),
                ev("return_result", ts(12, 11)),
            ],
        ),
        line("CAL-3", "paused", [ev("accept", ts(3, 9)), ev("request_supplement", ts(4, 10))]),
        # Apology (Mẫu 04): the given due_at is the new appointment, and the dossier counts as late.
        line(
            "CAL-4",
            "returned",
            [
                ev("accept", ts(3, 9)),
                ev("reschedule", ts(6, 16)),
                ev("approve", ts(12, 9)),
                ev("return_result", ts(12, 10)),
            ],
            due_at=ts(14, 17),
            rescheduled=True,
        ),
        # A given due_at wins over the calendar (the old system's appointment).
        line("CAL-5", "result_ready", [ev("accept", ts(3, 9)), ev("approve", ts(10, 9))], due_at=ts(10, 17)),
    ]
    stats = importer.import_file(write(tmp_path, rows))
    assert stats.rejected == 0, stats.rejections
    d = {x.code: x for x in Dossier.objects.all()}
    assert d["CAL-1"].due_at == vn(2025, 3, 7, 17)
    assert d["CAL-2"].due_at == vn(2025, 3, 12, 17) and d["CAL-2"].timeliness == Timeliness.ON_TIME
    assert d["CAL-2"].original_due_at == vn(2025, 3, 7, 17) and d["CAL-2"].paused_at is None
    assert (d["CAL-3"].paused_at, d["CAL-3"].paused_remaining_days) == (vn(2025, 3, 4, 10), 2)
    cal4 = d["CAL-4"]
    assert cal4.rescheduled and cal4.due_at == vn(2025, 3, 14, 17) and cal4.original_due_at == vn(2025, 3, 7, 17)
    assert cal4.timeliness == Timeliness.LATE
    assert d["CAL-5"].due_at == vn(2025, 3, 10, 17) and d["CAL-5"].timeliness == Timeliness.ON_TIME


def test_imported_history_matches_the_live_workflow(ready, officers, tmp_path):
    """The same history entered live and imported gives the same dates, timeliness and timeline."""
    xa = officers["xa_a"]
    live = services.submit(
        actor=xa["counter_officer"],
        procedure_code="1.001193",
        channel="counter",
        agency_code="xa-kien-an",
        applicant={"identity_number": new_citizen_id(), "full_name": NAME},
        components=[{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}],
        at=vn(2025, 3, 3, 15, 30),
        verify_identity=False,
    )
    services.accept(live, actor=xa["counter_officer"], at=vn(2025, 3, 3, 15, 40))
    services.forward(live, actor=xa["specialist"], at=vn(2025, 3, 5, 9))
    services.forward(live, actor=xa["leader"], at=vn(2025, 3, 7, 10))
    services.record_payment(live, actor=xa["counter_officer"], amount=8000, method="counter", at=vn(2025, 3, 7, 11))
    services.return_result(live, actor=xa["counter_officer"], delivery="counter", at=vn(2025, 3, 7, 11))
    live.refresh_from_db()

    row = line(
        "CU-LIVE",
        "returned",
        [
            ev("accept", ts(3, 15, 40)),
            ev("forward", ts(5, 9)),
            ev("approve", ts(7, 10)),
            ev("return_result", ts(7, 11)),
        ],
        channel="counter",
        submitted_at=ts(3, 15, 30),
        fee_paid=8000,
    )
    assert importer.import_file(write(tmp_path, [row])).imported == 1
    imported = Dossier.objects.get(code="CU-LIVE")
    fields = [
        "status",
        "submitted_at",
        "accepted_at",
        "due_at",
        "original_due_at",
        "finished_at",
        "returned_at",
        "closed_at",
        "timeliness",
        "fee_due",
        "fee_paid",
        "receiving_agency_id",
        "current_agency_id",
        "rescheduled",
    ]
    assert {f: getattr(imported, f) for f in fields} == {f: getattr(live, f) for f in fields}
    assert live.due_at == vn(2025, 3, 7, 17)  # after 15:00: counting starts the next working day
    timeline = ["action", "from_status", "to_status", "at", "to_agency_id"]
    assert list(imported.events.values_list(*timeline)) == list(live.events.values_list(*timeline))


@pytest.fixture
def dissolved(ready, admin_user):
    """A commune merged away on 01/01/2024: valid for dossiers submitted before, not after."""
    old = org.create_agency(
        actor=admin_user,
        name="UBND xã Long Điền",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=ready["huyen"],
        electronic_code="000.07.09.H01",
        code="xa-long-dien",
    )
    org.dissolve(actor=admin_user, agency=old, effective_date=dt.date(2024, 1, 1))
    return old


def mixed_file(tmp_path):
    bad_identity = line("BAD-8", "submitted", [])
    bad_identity["applicant"]["identity_number"] = "08901234"
    missing_code = line("x", "submitted", [])
    del missing_code["code"]
    rows = [
        returned("OK-1", ts(5, 16), ts(6, 8)),  # 1
        '{"code": "BAD-1", "procedure_code": "1.001193", ',  # 2
        missing_code,  # 3
        line("BAD-3", "submitted", [], procedure_code="9.999999"),  # 4
        line("BAD-4", "submitted", [], submitted_at="2025-03-03T08:00:00"),  # 5
        line("BAD-5", "in_process", [ev("accept", ts(4, 9)), ev("forward", ts(3, 10))]),  # 6
        line("BAD-6", "returned", [ev("accept", ts(3, 9)), ev("approve", ts(5, 9))]),  # 7
        line("BAD-7", "refused", [ev("accept", ts(3, 9)), ev("refuse", ts(3, 10))]),  # 8
        line("BAD-9", "submitted", [], agency="000.07.09.H01"),  # 9
        bad_identity,  # 10
        line("OK-2", "submitted", [], channel="post"),  # 11
        "",  # 12 blank: ignored
        line(
            "OK-3",
            "refused",
            [ev("refuse", ts(2, 10, year=2023))],
            agency="xa-long-dien",  # 13 valid in 2023
            submitted_at=ts(2, 9, year=2023),
        ),
    ]
    return write(tmp_path, rows), rows


EXPECTED = [
    (2, "json", "JSON hợp lệ"),
    (3, "code", "Thiếu trường bắt buộc"),
    (4, "procedure_code", "Không tìm thấy thủ tục"),
    (5, "submitted_at", "thiếu múi giờ"),
    (6, "events[1].at", "thứ tự thời gian"),
    (7, "status", "không khớp với các sự kiện"),
    (8, "events[1].action", "Không thể “refuse” khi hồ sơ đang ở trạng thái “Đang giải quyết”"),
    (9, "agency", "không có hiệu lực vào ngày 03/03/2025"),
    (10, "applicant.identity_number", "12 chữ số"),
]


def test_bad_lines_are_reported_with_line_and_reason_while_good_ones_import(dissolved, tmp_path):
    path, rows = mixed_file(tmp_path)
    users_before = User.objects.count()
    stats = importer.import_file(path)
    got = [(r.line, r.field, r.reason) for r in stats.rejections]
    assert [(n, f) for n, f, _ in got] == [(n, f) for n, f, _ in EXPECTED]
    for (_, _, reason), (_, _, phrase) in zip(got, EXPECTED):
        assert phrase in reason
    assert str(stats.rejections[0]).startswith("Dòng 2: json: ")
    assert (stats.imported, stats.skipped, stats.rejected, stats.conflicts) == (3, 0, 9, 0)
    assert set(Dossier.objects.values_list("code", flat=True)) == {"OK-1", "OK-2", "OK-3"}
    assert Dossier.objects.get(code="OK-3").receiving_agency == dissolved
    # Bad lines wrote nothing, not even the applicant's account.
    assert User.objects.count() == users_before + 3
    assert not User.objects.filter(identity_number=rows[9]["applicant"]["identity_number"]).exists()


def test_rerun_imports_nothing_twice_and_reports_no_error(ready, tmp_path):
    path = write(tmp_path, [returned("RE-1", ts(5, 16), ts(6, 8)), line("RE-2", "submitted", [])])
    code, out, err = run_command(path)
    assert code == 0 and err == ""
    assert "Đã nhập: 2 hồ sơ; đã có, bỏ qua: 0; bị từ chối: 0." in out
    counts = (
        Dossier.objects.count(),
        DossierEvent.objects.count(),
        User.objects.count(),
        AuditRecord.objects.filter(action="dossier.import").count(),
    )
    assert counts[:2] == (2, 6) and counts[3] == 2

    code, out, err = run_command(path)
    assert code == 0 and err == ""
    assert "Đã nhập: 0 hồ sơ; đã có, bỏ qua: 2; bị từ chối: 0." in out
    assert (
        Dossier.objects.count(),
        DossierEvent.objects.count(),
        User.objects.count(),
        AuditRecord.objects.filter(action="dossier.import").count(),
    ) == counts


def test_changed_line_with_an_existing_code_is_a_conflict(ready, officers, tmp_path):
    first = returned("CF-1", ts(5, 16), ts(6, 8))
    importer.import_file(write(tmp_path, [first]))
    changed = dict(first, fee_paid=4000)
    live = services.submit(
        actor=officers["xa_a"]["counter_officer"],
        procedure_code="1.001193",
        channel="counter",
        agency_code="xa-kien-an",
        applicant={"identity_number": new_citizen_id(), "full_name": NAME},
        verify_identity=False,
    )
    clash = line(live.code, "submitted", [])

    code, out, err = run_command(write(tmp_path, [changed, clash], "again.jsonl"))
    assert code == 1
    assert err.splitlines() == [
        "Dòng 1: code: Mã hồ sơ này đã được nhập trước đây với nội dung khác (xung đột); dòng không được ghi đè.",
        "Dòng 2: code: Mã hồ sơ này đã có trong hệ thống nhưng không do lần nhập trước tạo ra (xung đột).",
    ]
    assert "bị từ chối: 2 (trong đó 2 xung đột mã hồ sơ)" in out
    assert Dossier.objects.get(code="CF-1").fee_paid == 0
    assert not Dossier.objects.get(code=live.code).imported


def test_command_exit_code_report_and_no_personal_data_in_output(dissolved, tmp_path):
    path, rows = mixed_file(tmp_path)
    report = tmp_path / "rejected.csv"
    code, out, err = run_command(path, "--report", str(report))
    assert code == 1
    assert err.splitlines()[0].startswith("Dòng 2: json: Dòng không phải JSON hợp lệ")
    assert [line.split(":")[0] for line in err.splitlines()] == [f"Dòng {n}" for n, _, _ in EXPECTED]
    assert "Đã nhập: 3 hồ sơ; đã có, bỏ qua: 0; bị từ chối: 9." in out
    with open(report, encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["dong", "truong", "ly_do", "noi_dung"]
    assert [(int(r[0]), r[1]) for r in table[1:]] == [(n, f) for n, f, _ in EXPECTED]
    assert json.loads(table[3][3])["code"] == "BAD-3"  # the rejected line itself, to fix and re-run
    # Names and identity numbers stay out of the console and the audit trail.
    identities = [r["applicant"]["identity_number"] for r in rows if isinstance(r, dict)]
    audit_text = json.dumps(
        list(AuditRecord.objects.filter(action="dossier.import").values("after", "actor_label")), ensure_ascii=False
    )
    for text in (out, err, audit_text):
        assert NAME not in text and not any(i in text for i in identities)
    assert AuditRecord.objects.filter(action="dossier.import").count() == 3
    assert audit.verify()[0]


def test_good_file_exits_zero_and_reports_progress(ready, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 2)
    path = write(tmp_path, [line(f"PG-{n}", "submitted", []) for n in range(5)])
    code, out, err = run_command(path)
    assert code == 0 and err == ""
    assert "Đã đọc 2 dòng: nhập 2, bỏ qua 0, từ chối 0." in out and "Đã đọc 4 dòng" in out
    assert "Đã nhập: 5 hồ sơ" in out


def test_failure_while_writing_rolls_back_only_that_line(ready, tmp_path, monkeypatch):
    remember = importer.idempotency.remember

    def failing(scope, key, payload, obj):
        if key == "TX-2":
            raise DomainError("Lỗi giả lập khi ghi.", "code")
        return remember(scope, key, payload, obj)

    monkeypatch.setattr(importer.idempotency, "remember", failing)
    rows = [returned(f"TX-{n}", ts(5, 16), ts(6, 8)) for n in (1, 2, 3)]
    stats = importer.import_file(write(tmp_path, rows))
    assert (stats.imported, stats.rejected) == (2, 1) and str(
        stats.rejections[0]
    ) == "Dòng 2: code: Lỗi giả lập khi ghi."
    assert set(Dossier.objects.values_list("code", flat=True)) == {"TX-1", "TX-3"}
    assert not User.objects.filter(identity_number=rows[1]["applicant"]["identity_number"]).exists()
    assert not AuditRecord.objects.filter(action="dossier.import", after__code="TX-2").exists()


def test_windows_export_with_bom_and_crlf_and_missing_file(ready, tmp_path):
    rows = [json.dumps(line(f"WIN-{n}", "submitted", []), ensure_ascii=False) for n in range(2)]
    path = tmp_path / "windows.jsonl"
    path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    code, out, err = run_command(path)
    assert (code, err) == (0, "") and "Đã nhập: 2 hồ sơ" in out
    with pytest.raises(CommandError, match="Không tìm thấy tệp"):
        call_command("import_dossiers", str(tmp_path / "khong-co.jsonl"))

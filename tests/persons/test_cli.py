"""`cqs persons …`: each subcommand's output (human and --json), exit codes, and that the import
template, the synthetic generator and the export agree with each other."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from chinhquyenso.core.models import AuditRecord
from chinhquyenso.persons.models import ImportBatch, LinkModel, LinkRun, Person, SourceRecord
from tests.persons.test_import import record, write_csv

pytestmark = pytest.mark.django_db


def persons(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("persons", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_health_json_prints_the_counts_and_the_first_problems(tmp_path, province):
    path = write_csv(tmp_path / "hssk.csv", [record(), record(record_id="HS-2", full_name=""), record()])
    out, err = persons("import-health", str(path), "--json")
    result = json.loads(out)
    assert {k: result[k] for k in ("status", "rows", "imported", "rejected", "skipped_existing", "problems")} == {
        "status": "done",
        "rows": 3,
        "imported": 1,
        "rejected": 1,
        "skipped_existing": 1,
        "problems": 2,
    }
    assert result["first_problems"][0] == {
        "row": 3,
        "column": "Họ và tên",
        "message": "Cột “Họ và tên” bắt buộc phải có giá trị; dòng không được nhập.",
    }
    assert result["file"] == "hssk.csv" and err == ""
    # Again, as people read it: nothing new, the skipped rows counted.
    out, err = persons("import-health", str(path))
    assert "Đã nhập: 0; bị từ chối: 1; đã có, bỏ qua: 2" in out
    assert "Dòng 3: Cột “Họ và tên” bắt buộc" in err


def test_import_health_exits_1_when_the_file_cannot_be_read(tmp_path, province):
    bad = tmp_path / "hssk.csv"
    bad.write_bytes(b"%PDF-1.7")
    with pytest.raises(SystemExit) as stop:
        persons("import-health", str(bad), "--json")
    assert stop.value.code == 1
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED
    with pytest.raises(SystemExit) as stop:
        persons("import-health", str(tmp_path / "khong-co.csv"))
    assert stop.value.code == 1


def test_sync_json(province, capsys):
    from chinhquyenso.civil_records.models import CivilRecord

    CivilRecord.objects.create(
        record_type="birth", commune=province["xa_a"], identity_key="s:|1|2020", subject_name="Lê Văn An"
    )
    out, _ = persons("sync", "--json")
    counts = json.loads(out)
    assert counts["civil"]["created"] == 1 and counts["applicant"]["created"] == 0
    out, _ = persons("sync")
    assert "Sổ hộ tịch: thêm 0, cập nhật 0, không đổi 1, bỏ qua 0." in out


def test_link_json_and_exit_code_of_a_failed_run(province, monkeypatch):
    from chinhquyenso.core.errors import DomainError
    from chinhquyenso.persons.linkage import run

    model = LinkModel.objects.create(version=3, engine="duckdb", parameters={}, link_weight=8.0, review_weight=2.0)
    finished = LinkRun.objects.create(
        model=model, engine="duckdb", status="done", records=10, pairs=20, linked_pairs=3, review_pairs=2, persons=7
    )
    calls = []

    def fake_run_link(*, actor, engine=None, retrain=True):
        calls.append((actor, engine))
        return finished

    monkeypatch.setattr(run, "run_link", fake_run_link)
    out, _ = persons("link", "--engine", "spark", "--json")
    assert json.loads(out) == {
        "run": finished.pk,
        "status": "done",
        "engine": "duckdb",
        "model_version": 3,
        "records": 10,
        "pairs": 20,
        "linked_pairs": 3,
        "review_pairs": 2,
        "persons": 7,
        "seconds": 0.0,
        "message": "",
    }
    assert calls == [(None, "spark")]
    out, _ = persons("link")
    assert "10 bản ghi, 20 cặp được so, 3 cặp cùng người, 2 cặp cần đối soát; 7 cá nhân" in out

    def refused(**kwargs):
        raise DomainError("Chưa có bản ghi cá nhân nào để so khớp: hãy nhập hồ sơ sức khỏe trước.")

    monkeypatch.setattr(run, "run_link", refused)
    with pytest.raises(CommandError, match="Chưa có bản ghi cá nhân"):
        persons("link")
    with pytest.raises(CommandError):
        persons("link", "--engine", "oracle")


def test_export_clusters_writes_one_row_per_record_and_is_audited(tmp_path, province):
    persons("import-health", str(write_csv(tmp_path / "a.csv", [record(), record(record_id="HS-2")])), "--json")
    person = Person.objects.create(code="CN0000001")
    SourceRecord.objects.filter(source_id="89001/HS-1").update(person=person)
    out, _ = persons("export-clusters", str(tmp_path / "nhom.csv"))
    assert "Đã ghi 2 dòng" in out
    with open(tmp_path / "nhom.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["source", "record_id", "person_id"],
        ["health", "89001/HS-1", "CN0000001"],
        ["health", "89001/HS-2", ""],
    ]
    assert AuditRecord.objects.get(action="persons.export").after["rows"] == 2


def test_evaluate_prints_the_report_or_json(monkeypatch):
    from chinhquyenso.persons import evaluation

    seen = []

    def fake_evaluate(**kwargs):
        seen.append(kwargs)
        return {"engine": kwargs["engine"], "size": kwargs.get("size"), "seconds": 1.5, "febrl": {}}

    monkeypatch.setattr(evaluation, "evaluate", fake_evaluate)
    monkeypatch.setattr(evaluation, "report", lambda result: f"Báo cáo ({result['engine']})")
    out, _ = persons("evaluate", "--json", "--size", "50")
    assert json.loads(out)["size"] == 50
    assert seen == [{"engine": "duckdb", "seed": 1, "size": 50}]
    out, _ = persons("evaluate", "--engine", "spark")
    assert out.strip() == "Báo cáo (spark)"


def test_a_generated_synthetic_file_imports_completely(tmp_path, province):
    out, _ = persons("generate-synthetic", str(tmp_path / "gia-lap.csv"), "--people", "15", "--seed", "3")
    assert "bản ghi của" in out and "gia-lap.truth.csv" in out
    result = json.loads(persons("import-health", str(tmp_path / "gia-lap.csv"), "--json")[0])
    with open(tmp_path / "gia-lap.truth.csv", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    assert result["status"] == "done" and result["rejected"] == 0
    assert result["imported"] + result["skipped_existing"] == len(truth) == result["rows"]
    assert result["imported"] == SourceRecord.objects.count() >= 15

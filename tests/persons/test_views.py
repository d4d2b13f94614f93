"""The officers' pages of the master person index: the overview's deduplicated count, the import page,
the review queue (most uncertain first) and the pair page (differences marked, waterfall, histogram with
the thresholds), decisions through the page, the person page (golden record with its sources, history,
split and undo), the record search that keeps names and numbers out of URLs, the duplicates report and
its exports — each view of health data audited with ids only."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from chinhquyenso.core.models import AuditRecord
from chinhquyenso.persons.models import ClusterChange, ImportBatch, PairDecision, Person, SourceRecord
from tests.persons.pages_support import client_for, index, reviewer, viewer

pytestmark = pytest.mark.django_db

BASE = "/can-bo/chi-muc-ca-nhan/"


@pytest.fixture
def data(officers):
    return index()


def text(response) -> str:
    return " ".join(response.content.decode().split())


def audits(action: str) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action=action).order_by("seq"))


# ---------------------------------------------------------------- overview


def test_overview_shows_records_against_persons_per_source_and_the_runs(data, officers):
    page = client_for(reviewer(officers)).get(BASE)
    assert page.status_code == 200
    body = text(page)
    assert 'id="so-nguoi-da-gop">4<' in body  # seven records, four persons
    assert "Hồ sơ sức khỏe điện tử</th><td>6</td><td>4</td><td>1,50</td>" in body
    assert "Sổ hộ tịch</th><td>1</td><td>1</td>" in body
    assert "Bình quân bản ghi mỗi người</dt><dd>1,75</dd>" in body
    assert "Hàng chờ đối soát (2 cặp)" in body and "v1 (duckdb)" in body and "10,00" in body and "2,00" in body
    assert "Nhập hồ sơ sức khỏe" in body and "Chạy so khớp</button>" in body


def test_a_viewer_sees_the_figures_without_the_buttons_that_write(data, officers):
    body = text(client_for(viewer(officers)).get(BASE))
    assert 'id="so-nguoi-da-gop">4<' in body
    assert "Chạy so khớp</button>" not in body and f'href="{BASE}nhap/"' not in body


def test_run_button_queues_the_linking_task_after_commit(data, officers, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(reviewer(officers)).post(f"{BASE}chay-so-khop/", {"may": "duckdb"})
    assert response.status_code == 302 and response["Location"] == BASE
    task = DBTaskResult.objects.get()
    assert task.task_path == "chinhquyenso.persons.tasks.link_task"
    assert task.args_kwargs["args"] == [officers["xa_b"]["specialist"].pk, "duckdb"]


# ---------------------------------------------------------------- import


def test_import_page_imports_a_file_and_lists_its_problems(officers):
    client = client_for(reviewer(officers))
    assert "Mã hồ sơ" in text(client.get(f"{BASE}nhap/"))  # the template's columns are named on the page
    content = (
        "Mã hồ sơ,Cơ sở khám chữa bệnh,Họ và tên,Giới tính,Ngày sinh,Số CMND/CCCD,Số thẻ BHYT,Điện thoại,Địa chỉ\n"
        "HS1,Bệnh viện An Giang,Nguyễn Văn An,Nam,12/05/1980,089080001234,,0912345678,Kiến An\n"
        "HS2,Bệnh viện An Giang,Trần Thị Bình,Nữ,31/02/1975,,,,\n"
    ).encode()
    response = client.post(f"{BASE}nhap/", {"tep": SimpleUploadedFile("hssk.csv", content, content_type="text/csv")})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{BASE}nhap/{batch.pk}/"
    assert batch.imported >= 1 and SourceRecord.objects.filter(batch=batch).exists()
    body = text(client.get(response["Location"]))
    assert "hssk.csv" in body and "Đã nhập</dt><dd>" in body
    for problem in batch.problems.all():
        assert problem.message in body


def test_import_page_refuses_another_kind_of_file(officers):
    client = client_for(reviewer(officers))
    response = client.post(
        f"{BASE}nhap/", {"tep": SimpleUploadedFile("hssk.pdf", b"%PDF-1.4", content_type="application/pdf")}
    )
    assert response.status_code == 400 and "Tệp phải là .csv hoặc .xlsx" in text(response)
    assert not ImportBatch.objects.exists()


# ---------------------------------------------------------------- review queue and pair page


def test_queue_puts_the_most_uncertain_pair_first_and_audits_the_view(data, officers):
    body = text(client_for(viewer(officers)).get(f"{BASE}doi-soat/"))
    hard, easier = data["hard"].pk, data["easier"].pk
    assert body.index(f"{BASE}doi-soat/{hard}/") < body.index(f"{BASE}doi-soat/{easier}/")
    assert "Lê Thị Chi" in body and "52%" in body
    (seen,) = audits("persons.view_pair")
    assert seen.after["pairs"] == [hard, easier]


def test_pair_page_marks_differences_and_draws_both_charts(data, officers):
    pair = data["hard"]
    page = client_for(reviewer(officers)).get(f"{BASE}doi-soat/{pair.pk}/")
    html = page.content.decode()
    body = text(page)
    # Name and birth date differ; the source and sex do not. Marked by a class and by the word, not by colour.
    # Facility, name and birth date differ; source and sex do not. A class and the word mark them, not colour.
    assert html.count('class="diff-mark">«khác»</span>') == html.count('<tr class="differs">') == 3
    assert 'Họ và tên <span class="diff-mark">«khác»</span>' in body
    assert 'Ngày sinh <span class="diff-mark">«khác»</span>' in body
    assert "Giới tính <span" not in body
    # The waterfall: prior, four comparisons, total; the histogram with both thresholds.
    assert 'aria-labelledby="thac-t thac-d"' in html and "Trọng số ban đầu" in body and "đảo ngày, tháng" in body
    assert 'aria-labelledby="bieu-do-trong-so-t bieu-do-trong-so-d"' in html
    assert "Ngưỡng đối soát: +2,00" in body and "Ngưỡng cùng người: +10,00" in body
    for label in ("Cùng một người", "Không phải cùng người", "Chưa chắc"):
        assert f">{label}</button>" in body
    (seen,) = audits("persons.view_pair")
    assert seen.after == {"pair": pair.pk, "records": [pair.left_id, pair.right_id]}


def test_deciding_match_merges_the_pair_and_opens_the_next_one(data, officers):
    pair, easier = data["hard"], data["easier"]
    client = client_for(reviewer(officers))
    response = client.post(f"{BASE}doi-soat/{pair.pk}/quyet-dinh/", {"quyet_dinh": "match", "ghi_chu": "Đã gọi điện"})
    assert response.status_code == 302 and response["Location"] == f"{BASE}doi-soat/{easier.pk}/"
    decision = PairDecision.objects.get()
    assert (decision.left_id, decision.right_id, decision.decision) == (pair.left_id, pair.right_id, "match")
    left, right = SourceRecord.objects.get(pk=pair.left_id), SourceRecord.objects.get(pk=pair.right_id)
    assert left.person_id == right.person_id is not None
    # Decided pairs leave the queue; the overview counts one person fewer.
    assert f"{BASE}doi-soat/{pair.pk}/" not in text(client.get(f"{BASE}doi-soat/"))
    assert 'id="so-nguoi-da-gop">3<' in text(client.get(BASE))


def test_unsure_pairs_are_listed_apart(data, officers):
    pair = data["hard"]
    client = client_for(reviewer(officers))
    client.post(f"{BASE}doi-soat/{pair.pk}/quyet-dinh/", {"quyet_dinh": "unsure"})
    assert f"{BASE}doi-soat/{pair.pk}/" not in text(client.get(f"{BASE}doi-soat/"))
    assert f"{BASE}doi-soat/{pair.pk}/" in text(client.get(f"{BASE}doi-soat/?loai=chua-chac"))


def test_an_unknown_decision_is_refused_with_a_message(data, officers):
    client = client_for(reviewer(officers))
    response = client.post(f"{BASE}doi-soat/{data['hard'].pk}/quyet-dinh/", {"quyet_dinh": "maybe"}, follow=True)
    assert "Hãy chọn: cùng một người" in text(response) and not PairDecision.objects.exists()


# ---------------------------------------------------------------- person page


def test_person_page_shows_golden_record_sources_records_and_history(data, officers):
    person = data["persons"]["an"]
    page = client_for(viewer(officers)).get(f"{BASE}nguoi/{person.code}/")
    body = text(page)
    assert "Nguyễn Văn An" in body and "Nguyen Van An" in body and "Sổ hộ tịch" in body
    assert 'Họ và tên</th><td class="break">Nguyễn Văn An</td><td>Hồ sơ sức khỏe điện tử' in body
    assert "Lượt so khớp" in body  # the run that grouped the records
    assert "Tách các bản ghi" not in body  # a viewer does not split
    (seen,) = audits("persons.view_person")
    assert seen.after == {"person": person.pk, "records": sorted(r.pk for r in person.records.all())}


def test_split_then_undo_through_the_page(data, officers):
    person = data["persons"]["binh"]
    moved = data["records"]["binh2"]
    client = client_for(reviewer(officers))
    response = client.post(f"{BASE}nguoi/{person.code}/tach/", {"ban_ghi": [moved.pk], "ghi_chu": "Khác người"})
    assert response.status_code == 302
    moved.refresh_from_db()
    assert moved.person_id != person.pk
    split = ClusterChange.objects.get(kind=ClusterChange.Kind.SPLIT)
    page = text(client.get(f"{BASE}nguoi/{person.code}/"))
    assert "Tách" in page and f"{BASE}thay-doi/{split.pk}/hoan-tac/" in page
    client.post(f"{BASE}thay-doi/{split.pk}/hoan-tac/", {"nguoi": person.code})
    moved.refresh_from_db()
    assert moved.person_id == person.pk
    assert ClusterChange.objects.get(pk=split.pk).undone_by_id is not None


def test_splitting_every_record_is_refused(data, officers):
    person = data["persons"]["binh"]
    ids = [r.pk for r in person.records.all()]
    response = client_for(reviewer(officers)).post(f"{BASE}nguoi/{person.code}/tach/", {"ban_ghi": ids}, follow=True)
    assert "Không thể tách tất cả bản ghi" in text(response)
    assert not ClusterChange.objects.filter(kind=ClusterChange.Kind.SPLIT).exists()


def test_an_unknown_person_is_the_404_page(data, officers):
    assert client_for(viewer(officers)).get(f"{BASE}nguoi/CN9999999/").status_code == 404


# ---------------------------------------------------------------- search


def test_search_keeps_the_number_out_of_the_url_and_finds_the_person(data, officers):
    client = client_for(viewer(officers))
    response = client.post(f"{BASE}tra-cuu/", {"so": "089 080 001 234"})
    assert response.status_code == 302 and "089080001234" not in response["Location"] and "tim=" in response["Location"]
    body = text(client.get(response["Location"]))
    assert f"{BASE}nguoi/CN0000001/" in body and "Nguyễn Văn An" in body
    by_name = text(client.get(client.post(f"{BASE}tra-cuu/", {"ten": "Trần Thị Bình"})["Location"]))
    assert by_name.count(f"{BASE}nguoi/CN0000002/") == 2
    # Typed without diacritics, or in capitals: the same records.
    unaccented = text(client.get(client.post(f"{BASE}tra-cuu/", {"ten": "TRAN thi binh"})["Location"]))
    assert unaccented.count(f"{BASE}nguoi/CN0000002/") == 2
    assert client.get(f"{BASE}tra-cuu/?so=089080001234").status_code == 302  # a hand-typed URL does not search
    seen = audits("persons.view_record")
    assert len(seen) == 3 and seen[0].after["records"] == [data["records"]["an1"].pk]


def test_search_says_what_is_wrong_with_a_number(data, officers):
    client = client_for(viewer(officers))
    body = text(client.get(client.post(f"{BASE}tra-cuu/", {"so": "12345"})["Location"]))
    assert "Số CMND gồm 9 chữ số, số CCCD (định danh cá nhân) gồm 12 chữ số." in body


# ---------------------------------------------------------------- report and exports


def test_report_counts_duplicates_per_facility_and_once_for_the_province(data, officers):
    body = text(client_for(viewer(officers)).get(f"{BASE}bao-cao/"))
    # Trung tâm: An, Bình, Chi (3 records, 3 persons); Chợ Mới: An, Bình, Chí (3, 3); the province: 6 records of 4 persons.
    assert "Bệnh viện Đa khoa Trung tâm An Giang</th><td>3</td><td>3</td><td>0</td>" in body
    assert 'id="so-nguoi-thuc">4<' in body
    assert "Toàn tỉnh (mỗi người tính một lần)</th><td>6</td><td>4</td><td>2</td><td>33,3%</td>" in body


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_report_exports_are_audited(data, officers, fmt):
    response = client_for(viewer(officers)).get(f"{BASE}bao-cao/tai-ve.{fmt}")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    if fmt == "csv":
        rows = response.content.decode("utf-8-sig").splitlines()
        assert (
            rows[0].startswith("Cơ sở khám chữa bệnh,Số hồ sơ")
            and rows[-1] == "Toàn tỉnh (mỗi người tính một lần),6,4,2,33.3"
        )
    else:
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert [c.value for c in sheet[sheet.max_row]] == ["Toàn tỉnh (mỗi người tính một lần)", 6, 4, 2, 33.3]
    (export,) = audits("persons.export")
    assert export.after == {"report": "facility_duplicates", "format": fmt, "rows": 3}


def test_no_name_or_number_in_any_audit_of_the_pages(data, officers):
    client = client_for(reviewer(officers))
    client.get(f"{BASE}doi-soat/")
    client.get(f"{BASE}doi-soat/{data['hard'].pk}/")
    client.get(f"{BASE}nguoi/CN0000001/")
    client.get(client.post(f"{BASE}tra-cuu/", {"ten": "Nguyễn Văn An"})["Location"])
    written = json.dumps(
        [a.after for a in AuditRecord.objects.filter(action__startswith="persons.")], ensure_ascii=False
    )
    for secret in ("Nguyễn", "Nguyen", "089080001234", "0912345678", "Chi", "1980"):
        assert secret not in written
    assert Person.objects.count() == 4  # reading changes nothing

"""The report pages: draft, edit the narrative, issue, download."""

import pytest
from django.test import Client

from chinhquyenso.reports.models import Report
from tests.reports.test_build import docx_text

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_officer_drafts_edits_and_leader_issues(templates, officers):
    specialist = client_for(officers["tu_phap"]["specialist"])
    page = specialist.get("/can-bo/bao-cao/")
    assert page.status_code == 200 and "Báo cáo kết quả chuyển đổi số hằng quý" in page.content.decode()
    bad = specialist.post("/can-bo/bao-cao/", {"mau": "cds-quy", "ky": "quý 1"})
    assert bad.status_code == 400 and "không hợp lệ" in bad.content.decode()
    response = specialist.post("/can-bo/bao-cao/", {"mau": "cds-quy", "ky": "2025-Q1"})
    report = Report.objects.get()
    assert response.url == f"/can-bo/bao-cao/{report.pk}/"
    page = specialist.get(response.url).content.decode()
    assert "đạt 50,0% (3/6 hồ sơ)" in page and "Ban hành báo cáo" not in page
    specialist.post(f"/can-bo/bao-cao/{report.pk}/sua/", {"kho-khan": "- Mạng chậm ở xã vùng sâu.", "kien-nghi": ""})
    assert "Mạng chậm ở xã vùng sâu." in specialist.get(response.url).content.decode()
    draft = specialist.get(f"/can-bo/bao-cao/{report.pk}/tai.docx")
    assert "/BC-SKHCN" in docx_text(draft.content) and "Số: 01/" not in docx_text(draft.content)  # no number yet
    leader = client_for(officers["tu_phap"]["leader"])
    leader.post(f"/can-bo/bao-cao/{report.pk}/ban-hanh/")
    report.refresh_from_db()
    assert report.is_issued and report.number == 1
    issued = leader.get(f"/can-bo/bao-cao/{report.pk}/tai.pdf")
    assert issued["Content-Type"] == "application/pdf" and issued.content.startswith(b"%PDF")


def test_other_agencies_and_citizens_cannot_see_reports(templates, officers, citizen):
    client_for(officers["tu_phap"]["specialist"]).post("/can-bo/bao-cao/", {"mau": "cds-quy", "ky": "2025-Q1"})
    report = Report.objects.get()
    assert client_for(officers["xa_b"]["leader"]).get(f"/can-bo/bao-cao/{report.pk}/").status_code == 404
    assert client_for(citizen).get("/can-bo/bao-cao/").status_code == 403


def test_a_report_for_one_agency_and_an_unknown_agency_code(templates, officers):
    specialist = client_for(officers["tu_phap"]["specialist"])
    bad = specialist.post("/can-bo/bao-cao/", {"mau": "cds-quy", "ky": "2025-Q1", "co_quan": "khong-co"})
    assert bad.status_code == 400 and "Không có cơ quan mã «khong-co»" in bad.content.decode()
    response = specialist.post("/can-bo/bao-cao/", {"mau": "cds-quy", "ky": "2025-Q1", "co_quan": "ubnd-cho-moi"})
    page = specialist.get(response.url).content.decode()
    assert "tiếp nhận 5 hồ sơ quý I năm 2025" in page  # the district with its (merged) communes

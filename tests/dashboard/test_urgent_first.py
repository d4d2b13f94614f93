"""Most urgent first: overdue and due-soon counts at the top of the IOC
page, with who holds the dossiers (the named specialist, else the agency)
and the step, linked to the lists; scoped to what the viewer may see."""

import datetime as dt

import pytest
from django.utils import timezone

from chinhquyenso.dossiers.models import Dossier
from tests.dashboard.conftest import online, signed_in
from tests.dashboard.test_pages import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def due_soon(dataset, officers, citizen, settings):
    """A dossier of xã Kiến Thành accepted now (due in 3 working days), its specialist named."""
    settings.CQS = {**settings.CQS, "DASHBOARD_DUE_SOON_DAYS": 5}
    b = officers["xa_b"]
    dossier = online(citizen, "xa-kien-thanh", b, timezone.now() - dt.timedelta(minutes=5))
    Dossier.objects.filter(pk=dossier.pk).update(assignee=b["specialist"])
    return Dossier.objects.get(pk=dossier.pk)


def urgent_part(html: str) -> str:
    return html.split('<section class="urgent"')[1].split("</section>")[0]


def test_overdue_and_due_soon_come_first_with_handler_and_step(due_soon, officers, admin_user):
    page = signed_in(admin_user).get("/dieu-hanh/", {"ky": "2025-Q1"})
    html = page.content.decode()
    # Before the period chooser, the tiles and every table.
    assert html.index('id="can-xu-ly"') < html.index('id="ky"') < html.index('id="chi-so-chinh"')
    part = text_of(type("R", (), {"content": urgent_part(html).encode()}))
    assert "1 hồ sơ đang quá hạn" in part and "1 hồ sơ sắp đến hạn (trong 5 ngày làm việc tới)" in part
    specialist = officers["xa_b"]["specialist"]
    # D3 is with xã Kiến An (no specialist named) at "Thụ lý"; the new one with its specialist.
    assert "UBND xã Kiến An Thụ lý 1 0" in part
    assert f"{specialist.full_name or specialist.username} (UBND xã Kiến Thành) Thụ lý 0 1" in part
    assert '<a href="/dieu-hanh/qua-han/?ky=2025-Q1">' in html
    assert '<a href="/dieu-hanh/qua-han/?ky=2025-Q1&amp;loai=sap-den-han">' in html


def test_the_counts_drill_down_to_the_lists(due_soon, dataset, admin_user):
    client = signed_in(admin_user)
    overdue = text_of(client.get("/dieu-hanh/qua-han/", {"ky": "2025-Q1"}))
    assert "Hồ sơ đang quá hạn: Toàn tỉnh" in overdue and dataset["D3"].code in overdue
    assert due_soon.code not in overdue
    soon = text_of(client.get("/dieu-hanh/qua-han/", {"ky": "2025-Q1", "loai": "sap-den-han"}))
    assert "Hồ sơ sắp đến hạn: Toàn tỉnh" in soon and due_soon.code in soon
    assert dataset["D3"].code not in soon and "Bước: Thụ lý" in soon
    agency = text_of(client.get("/dieu-hanh/co-quan/xa-kien-thanh/qua-han/", {"loai": "sap-den-han"}))
    assert due_soon.code in agency


def test_counts_are_scoped_to_the_viewer(due_soon, officers):
    page = signed_in(officers["xa_b"]["leader"]).get("/dieu-hanh/", {"ky": "2025-Q1"})
    part = text_of(type("R", (), {"content": urgent_part(page.content.decode()).encode()}))
    assert "0 hồ sơ đang quá hạn" in part and "1 hồ sơ sắp đến hạn" in part
    assert "UBND xã Kiến An" not in part
    assert '<a href="/dieu-hanh/co-quan/xa-kien-thanh/qua-han/?ky=2025-Q1">' in page.content.decode()
    # Without an agency, the list is the leader's own agency's, not the province's.
    own = text_of(signed_in(officers["xa_b"]["leader"]).get("/dieu-hanh/qua-han/", {"ky": "2025-Q1"}))
    assert "Hồ sơ đang quá hạn: UBND xã Kiến Thành" in own and "Không có hồ sơ nào đang quá hạn" in own


def test_the_page_reads_a_bounded_number_of_queries(due_soon, admin_user, django_assert_max_num_queries):
    client = signed_in(admin_user)
    client.get("/dieu-hanh/", {"ky": "2025-Q1"})
    with django_assert_max_num_queries(20):
        assert client.get("/dieu-hanh/", {"ky": "2025-Q1"}).status_code == 200
    client.get("/dieu-hanh/trinh-chieu/", {"ky": "2025-Q1"})
    with django_assert_max_num_queries(14):
        assert client.get("/dieu-hanh/trinh-chieu/", {"ky": "2025-Q1"}).status_code == 200

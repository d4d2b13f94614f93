"""The message log's pages (exchange.bus.log_views): auditors and the province administrator only;
search terms are posted, never in a URL; every body view is an audit record."""

import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.exchange.bus import log as message_log

pytestmark = pytest.mark.django_db
SERVICE = "VN/GOV/000.00.00.G06/cu-tru/cu-tru"
CLIENT = "VN/GOV/000.00.00.H01/mot-cua"
CODE = "H01.01-260101-0007"


@pytest.fixture
def auditor(admin_user):
    return accounts.create_officer(
        actor=admin_user,
        username="kiem.tra",
        password="Mat-khau-2025",
        full_name="Kiểm tra",
        global_role=GlobalRole.AUDITOR,
    )


def _append(i, **overrides):
    fields = {
        "at": timezone.now(),
        "message_id": f"m{i}",
        "client": CLIENT,
        "service": SERVICE,
        "operation": "register",
        "method": "POST",
        "status": 202,
        "outcome": "ok",
        "duration_ms": 8.25,
        "correlation": "",
        "request_body": json.dumps({"applicant": {"so_dinh_danh": "001099012345", "ho_ten": "Nguyễn Văn An"}}),
        "response_body": json.dumps({"request_id": "q1", "status": "received"}),
    }
    return message_log.append(**{**fields, **overrides})


def test_only_auditors_and_the_province_administrator_open_the_log(client, officers, auditor, admin_user, citizen):
    entry = _append(1)
    url, entry_url = reverse("bus_log:list"), reverse("bus_log:entry", args=[entry.seq])
    assert url == "/can-bo/truc-lien-thong/nhat-ky/"
    assert client.get(url).status_code == 302  # to sign in
    for refused in (officers["xa_a"]["counter_officer"], officers["ubnd"]["agency_admin"], citizen):
        client.force_login(refused)
        for address in (url, entry_url):
            response = client.get(address)
            assert response.status_code == 403
            assert "chỉ dành cho quản trị tỉnh và người kiểm tra, giám sát" in response.content.decode()
    assert not AuditRecord.objects.filter(action="bus.log_read").exists()
    for allowed in (auditor, admin_user):
        client.force_login(allowed)
        page = client.get(url)
        assert page.status_code == 200
        text = page.content.decode()
        assert "Nhật ký trục liên thông" in text and SERVICE in text
        assert "001099012345" not in text  # the list never shows bodies
        assert f'<a href="{url}">Nhật ký trục</a>' in text  # the header links it
    client.force_login(officers["xa_a"]["leader"])
    assert "Nhật ký trục</a>" not in client.get(reverse("backoffice:inbox")).content.decode()


def test_search_terms_are_posted_and_never_in_a_url(client, auditor):
    _append(1, correlation=CODE)
    _append(2, service="VN/GOV/000.00.00.G01/bhxh/bhxh")
    client.force_login(auditor)
    url = reverse("bus_log:list")
    response = client.post(url, {"ho_so": CODE, "tu_ngay": timezone.localdate().isoformat()})
    assert response.status_code == 302
    location = response["Location"]
    assert CODE not in location and "ho_so" not in location and location.startswith(f"{url}?tim=")
    page = client.get(location)
    text = page.content.decode()
    assert page.status_code == 200 and CODE in text and "bhxh" not in text.split("<tbody>", 1)[1]
    # A hand-typed URL with terms goes to the bare page, which does not search.
    bare = client.get(url, {"ho_so": CODE})
    assert bare.status_code == 302 and bare["Location"] == url
    # No link on the page carries a term (paging keeps only the token).
    assert not [href for href in re.findall(r'href="([^"]*)"', text) if CODE in href or "ho_so" in href]


def test_a_bad_date_is_said_next_to_its_field(client, auditor):
    client.force_login(auditor)
    url = reverse("bus_log:list")
    page = client.get(client.post(url, {"tu_ngay": "2026-13-01"})["Location"])
    assert page.status_code == 200
    assert "ngày ghi theo dạng YYYY-MM-DD" in page.content.decode()


def test_the_entry_page_shows_the_bodies_and_each_view_is_audited(client, auditor):
    entry = _append(1, correlation=CODE)
    client.force_login(auditor)
    url = reverse("bus_log:entry", args=[entry.seq])
    assert "001099012345" not in url
    page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    assert "001099012345" in text and "Nguyễn Văn An" in text and "received" in text
    assert "đã được ghi vào nhật ký kiểm toán" in text
    client.get(url)
    records = AuditRecord.objects.filter(action="bus.log_read")
    assert records.count() == 2
    assert {r.object_id for r in records} == {str(entry.seq)} and all(r.actor == auditor for r in records)
    assert client.get(reverse("bus_log:entry", args=[999])).status_code == 404

"""Who may open the master person index's pages (Decree 13/2023: health data is special personal data):
only officers granted persons.view_health_data read; only those also granted persons.review_links write
(import, run, decide, split, undo); a read-only auditor never writes, whatever the grants; citizens and
ungranted officers get the 403 page, whatever their agency role — the province administrator too: their
blanket permissions in the administration (accounts.backends.ProvinceAdminBackend) are not a grant."""

from __future__ import annotations

import pytest
from django.test import Client

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.persons.models import ClusterChange, PairDecision
from tests.persons.pages_support import PASSWORD, client_for, grant, index, reviewer, viewer

pytestmark = pytest.mark.django_db

BASE = "/can-bo/chi-muc-ca-nhan/"


@pytest.fixture
def data(officers):
    return index()


def reads(data) -> list[str]:
    return [
        BASE,
        f"{BASE}nhap/",
        f"{BASE}doi-soat/",
        f"{BASE}doi-soat/{data['hard'].pk}/",
        f"{BASE}nguoi/{data['persons']['an'].code}/",
        f"{BASE}tra-cuu/",
        f"{BASE}bao-cao/",
        f"{BASE}bao-cao/tai-ve.csv",
    ]


def writes(data) -> list[tuple[str, dict]]:
    binh = data["persons"]["binh"]
    return [
        (f"{BASE}chay-so-khop/", {"may": "duckdb"}),
        (f"{BASE}doi-soat/{data['hard'].pk}/quyet-dinh/", {"quyet_dinh": "match"}),
        (f"{BASE}nguoi/{binh.code}/tach/", {"ban_ghi": [data["records"]["binh2"].pk]}),
        (f"{BASE}thay-doi/{data['change'].pk}/hoan-tac/", {}),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(data):
    for url in reads(data):
        response = Client().get(url)
        assert response.status_code == 302 and "/dang-nhap/" in response["Location"], url


@pytest.mark.parametrize("who", ["citizen", "officer", "leader", "agency_admin", "province_admin"])
def test_without_the_grant_every_page_is_refused(data, officers, citizen, admin_user, who):
    user = {
        "citizen": citizen,
        "officer": officers["xa_a"]["specialist"],
        "leader": officers["ubnd"]["leader"],
        "agency_admin": officers["ubnd"]["agency_admin"],
        "province_admin": admin_user,
    }[who]
    client = client_for(user)
    for url in reads(data):
        assert client.get(url).status_code == 403, url
    for url, post in writes(data):
        assert client.post(url, post).status_code == 403, url
    assert not AuditRecord.objects.filter(action__startswith="persons.view").exists()


def test_a_viewer_reads_but_does_not_write(data, officers):
    client = client_for(viewer(officers))
    for url in reads(data):
        expected = 403 if url == f"{BASE}nhap/" else 200
        assert client.get(url).status_code == expected, url
    for url, post in writes(data):
        assert client.post(url, post).status_code == 403, url
    assert not PairDecision.objects.exists()
    assert not ClusterChange.objects.exclude(kind=ClusterChange.Kind.RUN).exists()


def test_a_reviewer_reads_and_writes(data, officers):
    client = client_for(reviewer(officers))
    for url in reads(data):
        assert client.get(url).status_code == 200, url
    response = client.post(f"{BASE}doi-soat/{data['hard'].pk}/quyet-dinh/", {"quyet_dinh": "not_match"})
    assert response.status_code == 302 and PairDecision.objects.get().decision == "not_match"


def test_a_read_only_auditor_with_both_grants_still_only_reads(data):
    auditor = accounts.create_officer(
        actor=None,
        username="thanh.tra",
        password=PASSWORD,
        full_name="Thanh tra tỉnh",
        global_role=GlobalRole.AUDITOR,
    )
    grant(auditor, "view_health_data", "review_links")
    client = client_for(auditor)
    assert client.get(f"{BASE}nguoi/{data['persons']['an'].code}/").status_code == 200
    assert "Tách các bản ghi" not in client.get(f"{BASE}nguoi/{data['persons']['binh'].code}/").content.decode()
    for url, post in writes(data):
        assert client.post(url, post).status_code == 403, url
    assert not PairDecision.objects.exists()


def test_every_view_of_health_data_is_audited_under_the_actor(data, officers):
    user = viewer(officers)
    client = client_for(user)
    client.get(f"{BASE}doi-soat/{data['hard'].pk}/")
    client.get(f"{BASE}nguoi/{data['persons']['an'].code}/")
    client.get(f"{BASE}bao-cao/tai-ve.xlsx")
    actions = list(AuditRecord.objects.filter(action__startswith="persons.").values_list("action", "actor_id"))
    assert actions == [
        ("persons.view_pair", user.pk),
        ("persons.view_person", user.pk),
        ("persons.export", user.pk),
    ]

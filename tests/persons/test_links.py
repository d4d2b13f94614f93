""" "Possible same person" links (core.registry.PERSON_LINKS, persons.links): the other records of the
person a civil-status record or a dossier applicant belongs to, for officers granted the index's view
only, without ID numbers, each linking to the person's page; shown on the civil-records search and
record pages and on the back office's dossier page, for a bounded number of queries per page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chinhquyenso.civil_records.models import CivilRecord, RecordType
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.core.registry import PERSON_LINKS, PersonLink
from chinhquyenso.dossiers import services as dossiers
from chinhquyenso.persons.links import person_links
from chinhquyenso.persons.models import Source
from tests.persons.pages_support import client_for, grant, index, person, record

pytestmark = pytest.mark.django_db

CIVIL = "/can-bo/ho-tich/"


def test_the_provider_is_registered_and_gives_the_other_records_of_the_person(officers):
    data = index()
    user = grant(officers["xa_a"]["specialist"], "view_health_data")
    assert PERSON_LINKS.get("persons") is person_links
    found = person_links(user, "civil", ["501", "999"])
    assert list(found) == ["501"]
    links = found["501"]
    assert [link.source_label for link in links] == ["Hồ sơ sức khỏe điện tử"] * 2
    assert all(isinstance(link, PersonLink) and link.person_code == "CN0000001" for link in links)
    assert all(link.url == "/can-bo/chi-muc-ca-nhan/nguoi/CN0000001/" for link in links)
    assert links[0].summary == "Bệnh viện Đa khoa Trung tâm An Giang, Nguyễn Văn An, sinh năm 1980"
    assert not any("089080001234" in link.summary or "0912345678" in link.summary for link in links)
    (seen,) = AuditRecord.objects.filter(action="persons.view_record")
    assert seen.after == {
        "records": sorted([data["records"]["an1"].pk, data["records"]["an2"].pk]),
        "via": "civil",
        "links": True,
    }


def test_no_links_without_the_grant_and_none_for_a_record_alone(officers):
    index()
    assert person_links(officers["xa_a"]["specialist"], "civil", ["501"]) == {}
    user = grant(officers["xa_a"]["specialist"], "view_health_data")
    alone = record(source=Source.CIVIL, source_id="777")
    person("CN0000077", alone)
    assert person_links(user, "civil", ["777"]) == {}
    assert not AuditRecord.objects.filter(action="persons.view_record").exists()


def _births(commune, year: int, count: int) -> list[CivilRecord]:
    return CivilRecord.objects.bulk_create(
        CivilRecord(
            record_type=RecordType.BIRTH,
            commune=commune,
            book="01",
            number=str(n),
            year=year,
            identity_key=f"01/{n}/{year}",
            subject_name=f"Phạm Văn Số {n}",
            names_folded=f"pham van so {n}",
        )
        for n in range(1, count + 1)
    )


def _linked(births: list[CivilRecord]) -> None:
    """Each birth record's person also has a health record."""
    for n, birth in enumerate(births):
        civil = record(source=Source.CIVIL, source_id=str(birth.pk), facility="", full_name=birth.subject_name)
        health = record(source_id=f"bv/{birth.pk}", full_name=birth.subject_name, id_number=f"0890800{n:05d}")
        person(f"CN{birth.pk:07d}", civil, health)


def _search(client, year: int) -> tuple[str, int]:
    location = client.post(CIVIL, {"nam": str(year)})["Location"]
    client.get(location)  # the session and the user's permissions warm, as on a second page view
    with CaptureQueriesContext(connection) as queries:
        html = client.get(location).content.decode()
    return html, len(queries)


def test_civil_records_search_shows_the_links_for_a_bounded_number_of_queries(province, officers):
    user = grant(officers["xa_a"]["specialist"], "view_health_data")
    client = client_for(user)
    few, many = _births(province["xa_a"], 1967, 2), _births(province["xa_a"], 1968, 20)
    _linked(few)
    _linked(many)
    html_few, queries_few = _search(client, 1967)
    html_many, queries_many = _search(client, 1968)
    assert html_many.count("Có thể cùng một người") == 20 and html_few.count("Có thể cùng một người") == 2
    assert f'href="/can-bo/chi-muc-ca-nhan/nguoi/CN{many[0].pk:07d}/"' in html_many
    assert "0890800" not in html_many  # no ID number in a link's summary
    assert queries_many == queries_few  # not one more per record
    # An officer without the grant sees the same search without any link.
    plain = client_for(officers["xa_a"]["counter_officer"])
    html, _ = _search(plain, 1968)
    assert "Phạm Văn Số 1" in html and "Có thể cùng một người" not in html


def test_civil_record_page_shows_the_links(province, officers):
    (birth,) = _births(province["xa_a"], 1970, 1)
    _linked([birth])
    html = client_for(grant(officers["xa_a"]["specialist"], "view_health_data")).get(f"{CIVIL}{birth.pk}/").content
    assert "Có thể cùng một người" in html.decode() and f"CN{birth.pk:07d}" in html.decode()


def test_dossier_page_shows_the_applicants_other_records(birth_procedure, officers):
    dossier = dossiers.submit(
        actor=officers["xa_a"]["counter_officer"],
        procedure_code="1.001193",
        channel="counter",
        agency_code="xa-kien-an",
        applicant={"identity_number": "089201001234", "full_name": "Trần Văn Bé"},
        components=[{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}],
    )
    applicant = record(source=Source.APPLICANT, source_id="089201001234", facility="", full_name="Trần Văn Bé")
    health = record(source_id="bv/88", full_name="Tran Van Be", birth_year=2001)
    person("CN0000088", applicant, health)
    url = f"/can-bo/ho-so/{dossier.code}/"
    granted = client_for(grant(officers["xa_a"]["counter_officer"], "view_health_data")).get(url).content.decode()
    assert "Có thể cùng một người" in granted and "Tran Van Be, sinh năm 2001" in granted
    plain = client_for(officers["xa_a"]["specialist"]).get(url).content.decode()
    assert "Có thể cùng một người" not in plain

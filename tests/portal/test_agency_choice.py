"""Choosing the receiving agency in the wizard: current units only (after a merger and the end
of the district level), grouped and sorted, preselected from the applicant's address (with or
without diacritics, an old commune's name giving its successor), a filter that works without
JavaScript, and the agency shown on the review step."""

import datetime as dt
import re

import pytest
from django.test import Client

from chinhquyenso.org import services as org
from chinhquyenso.org.models import AgencyKind
from chinhquyenso.org.selectors import agency_for_address
from chinhquyenso.portal.models import SubmissionDraft
from tests.conftest import make_procedure

pytestmark = pytest.mark.django_db

MERGER = dt.date(2025, 7, 1)


@pytest.fixture
def reorganized(province, admin_user):
    """Xã Kiến An and Kiến Thành merge into xã Chợ Mới on 01/7/2025, the district ends; two more
    communes (one keeps its name) and a procedure received by Sở Tư pháp and every commune."""
    extra = {
        key: org.create_agency(
            actor=admin_user,
            name=name,
            kind=AgencyKind.COMMUNE_COMMITTEE,
            parent=province["huyen"],
            electronic_code=f"000.07.{n:02d}.H01",
            code=key,
        )
        for n, (key, name) in enumerate(
            [("xa-my-hoa-hung", "UBND xã Mỹ Hòa Hưng"), ("phuong-long-xuyen", "UBND phường Long Xuyên")], start=3
        )
    }
    procedure = make_procedure(
        admin_user,
        [province["tu_phap"], province["xa_a"], province["xa_b"], *extra.values()],
        levels=["province", "commune"],
    )
    merged = org.merge(
        actor=admin_user,
        sources=[province["xa_a"], province["xa_b"]],
        name="UBND xã Chợ Mới",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=province["huyen"],
        effective_date=MERGER,
        electronic_code="000.07.01.H01",
        admin_unit_code="30628",
    )
    org.dissolve(actor=admin_user, agency=province["huyen"], successor=province["ubnd"], effective_date=MERGER)
    return {"procedure": procedure, "merged": merged}


def current_code(name: str) -> str:
    from chinhquyenso.org.models import Agency

    return Agency.objects.current().get(name=name).code


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def draft_for(citizen, procedure, address: str = "") -> SubmissionDraft:
    return SubmissionDraft.objects.create(
        owner=citizen,
        procedure=procedure,
        applicant={
            "full_name": citizen.full_name,
            "identity_number": citizen.identity_number,
            "phone": "0912345678",
            "address": address,
        },
        applicant_sources=["account"],
    )


def options(html: str) -> list[tuple[str, list[str], str | None]]:
    """(group label, option texts, selected option value) of the agency list."""
    select = re.search(r'<select id="agency_code".*?</select>', html, re.S).group(0)
    groups = [
        (label, re.findall(r"<option [^>]*>([^<]+)</option>", body))
        for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    ]
    selected = re.search(r'<option value="([^"]+)" selected>', select)
    return groups, selected.group(1) if selected else None


# ---------------------------------------------------------------- the org selector


def test_address_gives_its_commune_with_or_without_diacritics(reorganized):
    for address in (
        "Ấp Mỹ Hòa, xã Mỹ Hòa Hưng, thành phố Long Xuyên, tỉnh An Giang",
        "ap my hoa, XA MY HOA HUNG, tp long xuyen",
        "Tổ 3, X. Mỹ Hoà Hưng",  # abbreviation, old-style tone placement
    ):
        found = agency_for_address(address)
        assert found.name == "UBND xã Mỹ Hòa Hưng" and found.is_current, address
    assert agency_for_address("Khóm 2, phuong Long Xuyen").name == "UBND phường Long Xuyên"
    assert agency_for_address("Tổ 5, tỉnh An Giang") is None
    assert agency_for_address("") is None


def test_a_merged_communes_old_name_gives_its_successor(reorganized):
    found = agency_for_address("Ấp Long Hòa, xã Kiến Thành, huyện Chợ Mới")
    assert found.name == "UBND xã Chợ Mới" and found.is_current and found.admin_unit_code == "30628"
    # Before the merger the same address named the commune of the time.
    assert agency_for_address("ấp Long Hòa, xa Kien Thanh", dt.date(2025, 6, 30)).code == "xa-kien-thanh"


# ---------------------------------------------------------------- the wizard


def test_list_has_current_units_only_grouped_and_sorted(reorganized, citizen, django_assert_max_num_queries):
    draft = draft_for(citizen, reorganized["procedure"])
    client = signed_in(citizen)
    with django_assert_max_num_queries(25):
        html = client.get(f"/nop-ho-so/{draft.pk}/nguoi-nop/").content.decode()
    groups, selected = options(html)
    assert groups == [
        ("Cơ quan cấp tỉnh", ["Sở Tư pháp"]),
        ("UBND xã, phường, đặc khu", ["UBND phường Long Xuyên", "UBND xã Chợ Mới", "UBND xã Mỹ Hòa Hưng"]),
    ]
    assert selected is None  # no commune in the address: nothing guessed
    assert "Kiến An" not in html and "huyện Chợ Mới" not in html


def test_preselected_from_the_address(reorganized, citizen):
    client = signed_in(citizen)
    for address, name in (
        ("Ấp 3, xã Mỹ Hòa Hưng, TP Long Xuyên", "UBND xã Mỹ Hòa Hưng"),
        ("ap 3 xa my hoa hung", "UBND xã Mỹ Hòa Hưng"),
        ("Ấp Long Hòa, xã Kiến An, huyện Chợ Mới", "UBND xã Chợ Mới"),  # the old commune's name
    ):
        SubmissionDraft.objects.all().delete()
        draft = draft_for(citizen, reorganized["procedure"], address)
        html = client.get(f"/nop-ho-so/{draft.pk}/nguoi-nop/").content.decode()
        assert options(html)[1] == current_code(name), address
        assert f"Đã chọn sẵn <strong>{name}</strong> theo địa chỉ của bạn" in html
    # A choice the citizen saved wins over the address.
    draft.agency_code = "so-tu-phap"
    draft.save()
    html = client.get(f"/nop-ho-so/{draft.pk}/nguoi-nop/").content.decode()
    assert options(html)[1] == "so-tu-phap" and "Đã chọn sẵn" not in html


def test_filter_works_without_javascript_and_keeps_what_was_typed(reorganized, citizen):
    draft = draft_for(citizen, reorganized["procedure"])
    client = signed_in(citizen)
    url = f"/nop-ho-so/{draft.pk}/nguoi-nop/"
    typed = {"phone": "0987654321", "address": "Ấp 1", "note": "Ghi chú", "agency_query": "my hoa", "filter": "1"}
    response = client.post(url, typed)
    assert response.status_code == 200
    html = response.content.decode()
    groups, selected = options(html)
    assert groups == [("UBND xã, phường, đặc khu", ["UBND xã Mỹ Hòa Hưng"])]
    assert selected == current_code("UBND xã Mỹ Hòa Hưng")  # the only match is taken
    assert 'value="0987654321"' in html and ">Ghi chú</textarea>" in html and 'value="my hoa"' in html
    draft.refresh_from_db()
    assert draft.agency_code == "" and draft.applicant["phone"] == "0912345678"  # filtering saves nothing
    nothing = client.post(url, {**typed, "agency_query": "khong co"}).content.decode()
    assert "Không có cơ quan nào có tên khớp" in nothing and len(options(nothing)[0]) == 2
    assert client.get(url, {"tim": "so tu"}).content.decode().count("<option value=") == 2  # placeholder + Sở


def test_a_closed_agency_is_refused_and_the_review_shows_the_agency(reorganized, citizen):
    draft = draft_for(citizen, reorganized["procedure"])
    client = signed_in(citizen)
    url = f"/nop-ho-so/{draft.pk}/nguoi-nop/"
    refused = client.post(url, {"phone": "0912345678", "address": "Ấp 1", "agency_code": "xa-kien-an"})
    assert refused.status_code == 200 and "Hãy chọn cơ quan nhận hồ sơ." in refused.content.decode()
    code = current_code("UBND xã Chợ Mới")
    saved = client.post(url, {"phone": "0912345678", "address": "Ấp 1", "agency_code": code, "save": "1"})
    assert saved["Location"].endswith("/giay-to/")
    review = client.get(f"/nop-ho-so/{draft.pk}/xem-lai/").content.decode()
    assert re.search(r"<dt>Cơ quan nhận hồ sơ</dt><dd>UBND xã Chợ Mới <a href=\"([^\"]+)\"", review).group(1) == (
        f"{url}#agency-choice"
    )
    assert ">Sửa</a>" in review


def test_one_receiving_agency_needs_no_choice_and_is_shown(province, admin_user, citizen):
    procedure = make_procedure(admin_user, [province["tu_phap"]], code="2.000001", levels=["province"])
    draft = draft_for(citizen, procedure)
    client = signed_in(citizen)
    assert 'id="agency_code"' not in client.get(f"/nop-ho-so/{draft.pk}/nguoi-nop/").content.decode()
    review = client.get(f"/nop-ho-so/{draft.pk}/xem-lai/").content.decode()
    assert "<dt>Cơ quan nhận hồ sơ</dt><dd>Sở Tư pháp</dd>" in review  # nothing to change: no "Sửa"


def test_the_population_registry_address_names_a_current_commune_the_choice_can_start_from(reorganized, citizen):
    """The registry (here its simulator) gives an address with the commune, as the real one does, so the
    applicant step can preselect from it before anything is typed."""
    from chinhquyenso.exchange.national.simulators import SimulatedPopulationRegistry

    person = SimulatedPopulationRegistry().lookup(citizen.identity_number)
    agency = agency_for_address(person.address)
    assert agency is not None and agency.kind == AgencyKind.COMMUNE_COMMITTEE and agency.is_current
    assert agency.name.removeprefix("UBND ") in person.address

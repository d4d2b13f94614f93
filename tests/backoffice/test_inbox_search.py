"""The inbox's search box: a dossier code, an applicant's name typed with or without
diacritics, or an ID number (exactly); only among the dossiers the officer may see; the
terms never in a URL (Decree 13: the form posts, the results page carries a token)."""

import pytest
from django.test import Client

from chinhquyenso.backoffice import views
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier

pytestmark = pytest.mark.django_db

NAMES = {
    "089201000001": "Nguyễn Văn An",
    "089201000002": "Nguyễn Văn Anh",
    "089201000003": "Đặng Thị Hoà",
    "089201000004": "Trần Văn Bé",
}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def receive(officers, identity, name, agency="xa_a", agency_code="xa-kien-an"):
    return services.submit(
        actor=officers[agency]["counter_officer"],
        procedure_code="1.001193",
        channel="counter",
        agency_code=agency_code,
        applicant={"identity_number": identity, "full_name": name},
        components=[{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}],
        verify_identity=False,
    )


@pytest.fixture
def dossiers(birth_procedure, officers):
    return {identity: receive(officers, identity, name) for identity, name in NAMES.items()}


def search(client, text, **extra):
    """Post the search form, follow to the results page; (final URL, html)."""
    response = client.post("/can-bo/", {"q": text}, follow=True, **extra)
    assert response.status_code == 200
    url = response.redirect_chain[-1][0]
    return url, response.content.decode()


def found(html) -> set[str]:
    return {d.applicant_name for d in Dossier.objects.all() if f">{d.code}</a>" in html}


def test_a_name_typed_without_diacritics_finds_the_applicant(dossiers, officers):
    client = signed_in(officers["xa_a"]["counter_officer"])
    url, html = search(client, "nguyen van an")
    # Each word is the start of a word of the name: "an" also starts "Anh" (typing as you go).
    assert found(html) == {"Nguyễn Văn An", "Nguyễn Văn Anh"}
    assert "Kết quả tìm “nguyen van an”" in html
    assert found(search(client, "NGUYỄN VĂN ANH")[1]) == {"Nguyễn Văn Anh"}
    assert found(search(client, "dang hoa")[1]) == {"Đặng Thị Hoà"}  # đ → d, old-style “oà”
    assert found(search(client, "Hòa")[1]) == {"Đặng Thị Hoà"}  # new-style tone placement
    assert found(search(client, "van b")[1]) == {"Trần Văn Bé"}
    assert found(search(client, "guyen")[1]) == set()  # not from the middle of a word
    assert "Không tìm thấy hồ sơ phù hợp" in search(client, "le thi")[1]


def test_the_terms_never_reach_a_url(dossiers, officers):
    client = signed_in(officers["xa_a"]["counter_officer"])
    response = client.post("/can-bo/", {"q": "089201000003"})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/can-bo/?tim=") and "0892" not in location and "q=" not in location
    html = client.get(location).content.decode()
    assert found(html) == {"Đặng Thị Hoà"}
    assert 'value="089201000003"' in html  # the box shows what was searched, from the session
    # An old bookmark or a hand-typed URL with the terms does not search: back to the bare inbox.
    typed = client.get("/can-bo/", {"q": "089201000003"})
    assert typed.status_code == 302 and typed["Location"] == "/can-bo/"


def test_an_id_number_matches_exactly_and_a_code_in_part(dossiers, officers):
    client = signed_in(officers["xa_a"]["counter_officer"])
    assert found(search(client, "089201000002")[1]) == {"Nguyễn Văn Anh"}
    assert found(search(client, "0892 0100 0002")[1]) == {"Nguyễn Văn Anh"}  # typed in groups
    assert found(search(client, "08920100000")[1]) == set()  # 11 digits: not an ID number, no code has it
    code = dossiers["089201000004"].code
    assert found(search(client, code)[1]) == {"Trần Văn Bé"}
    assert found(search(client, code[-9:].lower())[1]) == {"Trần Văn Bé"}  # the end of it: "1206-0004"


def test_the_search_covers_every_status_but_only_what_the_officer_sees(dossiers, officers, birth_procedure):
    services.refuse(dossiers["089201000001"], actor=officers["xa_a"]["counter_officer"], reason="Sai thẩm quyền")
    other = receive(officers, "089201000009", "Nguyễn Văn An", agency="xa_b", agency_code="xa-kien-thanh")
    mine = signed_in(officers["xa_a"]["specialist"])
    html = search(mine, "nguyen van an")[1]
    assert dossiers["089201000001"].code in html and "Từ chối tiếp nhận" in html  # closed dossiers too
    assert other.code not in html  # another commune's dossier, same name
    theirs = signed_in(officers["xa_b"]["counter_officer"])
    html = search(theirs, "nguyen van an")[1]
    assert found(html) == {"Nguyễn Văn An"} and other.code in html
    assert dossiers["089201000001"].code not in html
    assert found(search(theirs, "089201000002")[1]) == set()


def test_results_are_paged_with_the_token_only(dossiers, officers, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client = signed_in(officers["xa_a"]["counter_officer"])
    url, html = search(client, "van")
    assert len(found(html)) == 2
    token = url.split("tim=")[1]
    assert f'href="?tim={token}&amp;tu=2"' in html
    second = client.get("/can-bo/", {"tim": token, "tu": 2}).content.decode()
    assert len(found(second)) == 1 and not found(second) & found(html)


def test_the_search_page_reads_a_fixed_number_of_queries(birth_procedure, officers, django_assert_max_num_queries):
    client = signed_in(officers["xa_a"]["counter_officer"])
    receive(officers, "089201000001", "Nguyễn Văn An")
    location = client.post("/can-bo/", {"q": "nguyen"})["Location"]
    # 23: the page, its lists and the menu (whose checks include the person index's grant, one query).
    with django_assert_max_num_queries(23) as few:
        assert client.get(location).status_code == 200
    for n in range(2, 8):
        receive(officers, f"0892010000{n:02d}", f"Nguyễn Văn An {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):  # not one more per row
        html = client.get(location).content.decode()
    assert len(found(html)) == 7


def test_assigned_to_me_tab(dossiers, officers):
    xa = officers["xa_a"]
    services.accept(dossiers["089201000001"], actor=xa["counter_officer"], assignee=xa["specialist"])
    services.accept(dossiers["089201000002"], actor=xa["counter_officer"])
    html = signed_in(xa["specialist"]).get("/can-bo/", {"tab": "giao-cho-toi"}).content.decode()
    assert "Giao cho tôi (1)" in html
    assert found(html) == {"Nguyễn Văn An"} and "Thụ lý: tôi" in html
    leader_view = signed_in(xa["leader"]).get("/can-bo/", {"tab": "dang-giai-quyet"}).content.decode()
    assert "Thụ lý: Cán bộ xa_a specialist" in leader_view and "Giao cho tôi (0)" in leader_view

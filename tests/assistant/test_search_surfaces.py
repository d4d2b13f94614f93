"""The portal search, GET /api/procedures?q=, the counter's picker and the maintainers' pages use
the ranked retrieval (assistant.index), through HTTP."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from chinhquyenso.assistant import index, services
from chinhquyenso.assistant.models import FaqEntry, Synonym, UnansweredQuestion
from chinhquyenso.core.models import AuditRecord
from tests.conftest import make_procedure

NAMES = {
    "1.001193": ("Đăng ký khai sinh", "ho-tich", "Hộ tịch", ["commune"], "full_online"),
    "1.004772": ("Đăng ký lại khai sinh", "ho-tich", "Hộ tịch", ["commune"], "partly_online"),
    "1.000656": ("Đăng ký khai tử", "ho-tich", "Hộ tịch", ["commune"], "full_online"),
    "2.000635": ("Cấp bản sao Trích lục hộ tịch", "ho-tich", "Hộ tịch", ["commune"], "full_online"),
    "1.011234": ("Đổi giấy phép lái xe do ngành Công an cấp", "giao-thong", "Đường bộ", ["province"], "full_online"),
    "1.009994": (
        "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ",
        "xay-dung",
        "Hoạt động xây dựng",
        ["district"],
        "partly_online",
    ),
    "1.010789": ("Cấp lại thẻ căn cước", "can-cuoc", "Căn cước", ["province"], "info_only"),
}
# The issue's queries and the procedure each must find first.
FIRST = {
    "đăng kí khai sinh": "1.001193",
    "dang ki khai sinh": "1.001193",
    "làm giấy khai sinh cho con": "1.001193",
    "xin giấy phép xây nhà": "1.009994",
    "đổi bằng lái xe": "1.011234",
    "cấp lại căn cước": "1.010789",
    "trích lục khai sinh": "2.000635",
}


@pytest.fixture
def catalog(province, admin_user):
    commune = [province["xa_a"]]
    for code, (name, field_code, field_name, levels, service_level) in NAMES.items():
        agencies = commune if levels == ["commune"] else [province["cong_an"]]
        make_procedure(
            admin_user,
            agencies,
            code=code,
            name=name,
            field_code=field_code,
            field_name=field_name,
            levels=levels,
            service_level=service_level,
            result_type="",
            result_name="",
            components=[{"name": "Tờ khai"}],
        )
    services.load_synonyms(actor=admin_user)
    index.invalidate()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def portal_codes(html: str) -> list[str]:
    return re.findall(r'href="/thu-tuc/([0-9.]+)/"', html)


@pytest.mark.parametrize("query", FIRST)
def test_the_api_ranks_the_issues_queries(catalog, query):
    response = Client().get("/api/procedures", {"q": query})
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list) and body[0]["code"] == FIRST[query], body
    assert set(body[0]) == {
        "code",
        "name",
        "field",
        "service_level",
        "processing_days",
        "amount_due_online",
        "amount_due_counter",
    }


@pytest.mark.parametrize("query", FIRST)
def test_the_portal_search_ranks_the_issues_queries(catalog, query):
    html = Client().get("/thu-tuc/", {"q": query}).content.decode()
    assert portal_codes(html)[0] == FIRST[query]


def test_the_api_keeps_its_filters_and_the_listing_without_a_query(catalog):
    body = Client().get("/api/procedures", {"q": "khai sinh", "service_level": "partly_online"}).json()
    assert body[0]["code"] == "1.004772" and {p["service_level"] for p in body} == {"partly_online"}
    assert {p["field"] for p in Client().get("/api/procedures", {"q": "khai sinh", "field": "xay-dung"}).json()} == {
        "Hoạt động xây dựng"
    }
    listing = Client().get("/api/procedures").json()
    assert [p["name"] for p in listing] == sorted(p["name"] for p in listing) and len(listing) == len(NAMES)


def test_the_api_search_reads_a_bounded_number_of_rows(catalog, django_assert_max_num_queries):
    Client().get("/api/procedures", {"q": "khai sinh"})  # the index is built once
    with django_assert_max_num_queries(3):  # the procedures by id (+ the version check, at most)
        body = Client().get("/api/procedures", {"q": "khai sinh"}).json()
    assert len(body) >= 3


def test_the_portal_search_shows_facets_with_counts_that_keep_the_query(catalog):
    html = Client().get("/thu-tuc/", {"q": "khai sinh"}).content.decode()
    assert "Lĩnh vực" in html and "Mức độ dịch vụ công" in html and "Cấp thực hiện" in html
    link = re.search(r'<a href="\?([^"]*muc_do=partly_online[^"]*)">([^<]+)</a> <span class="muted">\((\d+)\)', html)
    assert link, html
    assert "q=khai+sinh" in link.group(1)
    filtered = Client().get("/thu-tuc/?" + link.group(1).replace("&amp;", "&")).content.decode()
    assert portal_codes(filtered)[0] == "1.004772" and int(link.group(3)) == len(portal_codes(filtered))
    assert "bỏ lọc" in filtered
    by_level = Client().get("/thu-tuc/", {"q": "giấy phép", "cap": "district"}).content.decode()
    assert portal_codes(by_level) == ["1.009994"]


def test_the_portal_search_keeps_the_agency_filter(catalog, province):
    html = Client().get("/thu-tuc/", {"q": "đổi bằng lái xe", "co_quan": province["xa_a"].code}).content.decode()
    assert "1.011234" not in portal_codes(html)
    html = Client().get("/thu-tuc/", {"q": "đổi bằng lái xe", "co_quan": province["cong_an"].code}).content.decode()
    assert portal_codes(html)[0] == "1.011234"


def test_the_counter_picker_ranks_among_the_procedures_of_the_officers_agency(catalog, officers):
    client = signed_in(officers["xa_a"]["counter_officer"])
    html = client.get("/can-bo/tiep-nhan/", {"q": "làm giấy khai sinh cho con"}).content.decode()
    codes = re.findall(r'href="\?thu_tuc=([0-9.]+)"', html)
    assert codes[0] == "1.001193"
    # The driving licence is the police's: not offered at a commune's counter, however well it matches.
    html = client.get("/can-bo/tiep-nhan/", {"q": "đổi bằng lái xe"}).content.decode()
    assert "1.011234" not in html


# ---------------------------------------------------------------- maintainers' pages

DEBUG, UNANSWERED = "/can-bo/tro-ly/tim-kiem/", "/can-bo/tro-ly/cau-hoi-chua-tra-loi/"


@pytest.mark.parametrize("url", [DEBUG, UNANSWERED])
def test_only_the_catalog_maintainers_see_the_assistant_pages(catalog, officers, citizen, admin_user, url):
    assert signed_in(citizen).get(url).status_code == 403
    assert signed_in(officers["xa_a"]["counter_officer"]).get(url).status_code == 403
    assert signed_in(officers["tu_phap"]["leader"]).get(url).status_code == 403
    assert Client().get(url).status_code == 302  # to the sign-in page
    assert signed_in(admin_user).get(url).status_code == 200


def test_the_debug_page_shows_terms_with_their_source_and_each_hits_explanation(catalog, admin_user):
    html = signed_in(admin_user).get(DEBUG, {"q": "đổi bằng lái xe sihn"}).content.decode()
    assert "đồng nghĩa: doi bang lai" in html  # "đổi bằng lái" → đổi giấy phép lái xe
    assert "sửa lỗi gõ: sihn" in html
    assert "truy vấn" in html
    assert "Đổi giấy phép lái xe do ngành Công an cấp" in html
    assert re.search(r"<li>giay phep \(tên thủ tục\): \d+,\d\d</li>", html), html


def ask(text, times=1, days_ago=0):
    at = timezone.now() - dt.timedelta(days=days_ago)
    from chinhquyenso.assistant.text import normalize

    return UnansweredQuestion.objects.create(
        text=text, text_folded=normalize(text), times=times, first_asked_at=at, last_asked_at=at
    )


def test_the_unanswered_list_most_asked_or_newest_first(catalog, admin_user):
    ask("làm sổ hộ nghèo ở đâu", times=1, days_ago=0)
    ask("xin giấy chứng nhận độc thân", times=5, days_ago=3)
    client = signed_in(admin_user)
    html = client.get(UNANSWERED).content.decode()
    assert html.index("độc thân") < html.index("hộ nghèo")
    html = client.get(UNANSWERED, {"sap_xep": "moi"}).content.decode()
    assert html.index("hộ nghèo") < html.index("độc thân")


def test_a_synonym_added_from_the_unanswered_list_finds_the_procedure(catalog, admin_user):
    query = "làm giấy chào đời cho em bé"
    assert "1.001193" not in [p["code"] for p in Client().get("/api/procedures", {"q": query}).json()[:1]]
    question = ask(query, times=2)
    client = signed_in(admin_user)
    response = client.post(
        f"{UNANSWERED}{question.pk}/",
        {"action": "synonym", "phrase": "giấy chào đời", "expansion": "đăng ký khai sinh"},
        follow=True,
    )
    assert "Thêm từ đồng nghĩa" in response.content.decode()
    assert Synonym.objects.filter(phrase="giấy chào đời", created_by=admin_user).exists()
    question.refresh_from_db()
    assert question.resolved_at and question.resolved_by == admin_user
    assert AuditRecord.objects.filter(action="assistant.unanswered.resolve", object_id=str(question.pk)).exists()
    assert Client().get("/api/procedures", {"q": query}).json()[0]["code"] == "1.001193"
    assert "làm giấy chào đời" not in client.get(UNANSWERED).content.decode()  # handled: off the list


def test_a_faq_entry_added_from_the_unanswered_list(catalog, admin_user):
    question = ask("người nhà mất báo cho ai")
    client = signed_in(admin_user)
    client.post(
        f"{UNANSWERED}{question.pk}/",
        {
            "action": "faq",
            "procedure_code": "1.000656",
            "question": "Người nhà mất báo cho ai?",
            "answer": "Theo danh mục, thủ tục “Đăng ký khai tử” nộp tại UBND cấp xã.",
        },
    )
    assert FaqEntry.objects.filter(procedure__code="1.000656").count() == 1
    assert Client().get("/api/procedures", {"q": "người nhà mất báo cho ai"}).json()[0]["code"] == "1.000656"
    # A wrong code is refused next to nothing written, and the question stays open.
    other = ask("hỏi về thủ tục không có")
    response = client.post(
        f"{UNANSWERED}{other.pk}/",
        {"action": "faq", "procedure_code": "9.9", "question": "x", "answer": "y"},
        follow=True,
    )
    assert "Không có thủ tục với mã này." in response.content.decode()
    other.refresh_from_db()
    assert other.resolved_at is None


def test_unanswered_actions_are_post_only_and_for_maintainers(catalog, admin_user, officers):
    question = ask("câu hỏi")
    assert signed_in(admin_user).get(f"{UNANSWERED}{question.pk}/").status_code == 405
    response = signed_in(officers["xa_a"]["leader"]).post(f"{UNANSWERED}{question.pk}/", {"action": "resolve"})
    assert response.status_code == 403
    question.refresh_from_db()
    assert question.resolved_at is None

"""The assistant's answers (assistant.answers.ask): each kind of question answered from the
catalog's own fields, follow-ups, dossier status under the public tracking rules, not knowing,
the FAQ and the answer-source hook. A small province (tests/conftest.py) and three procedures."""

import datetime as dt

import pytest
from django.utils import timezone

from chinhquyenso.assistant import answers, conversation, services
from chinhquyenso.assistant.models import Conversation, FaqEntry, UnansweredQuestion
from chinhquyenso.core.registry import ANSWER_SOURCES
from chinhquyenso.core.text import format_number
from chinhquyenso.dossiers import services as dossiers
from chinhquyenso.procedures.models import Procedure
from chinhquyenso.procedures.selectors import handling_agencies
from tests.conftest import make_procedure

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(province, admin_user):
    birth = make_procedure(admin_user, [province["xa_a"], province["xa_b"]], legal_basis="Luật Hộ tịch 2014.")
    building = make_procedure(
        admin_user,
        [province["huyen"]],
        code="1.009994",
        name="Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ",
        field_code="xay-dung",
        field_name="Hoạt động xây dựng",
        levels=["district"],
        service_level="partly_online",
        processing_days=15,
        fee=0,
        charge=75000,
        online_discount_percent=0,
        result_type="",
        result_name="Giấy phép xây dựng",
        legal_basis="",
        components=[
            {"name": "Đơn đề nghị cấp giấy phép xây dựng", "originals": 1},
            {"name": "Giấy tờ về quyền sử dụng đất", "originals": 0, "copies": 1},
            {"name": "Bản vẽ thiết kế xây dựng", "originals": 2},
        ],
    )
    record = make_procedure(
        admin_user,
        [province["tu_phap"]],
        code="2.000488",
        name="Cấp phiếu lý lịch tư pháp cho công dân Việt Nam",
        field_code="ly-lich-tu-phap",
        field_name="Lý lịch tư pháp",
        levels=["province"],
        service_level="info_only",
        processing_days=10,
        fee=200000,
        charge=0,
        online_discount_percent=0,
        result_name="Phiếu lý lịch tư pháp",
        legal_basis="Luật Lý lịch tư pháp 2009.",
        components=[{"name": "Tờ khai yêu cầu cấp phiếu lý lịch tư pháp"}],
    )
    services.load_synonyms()
    return {"birth": birth, "building": building, "record": record}


def ask(question, session="s1", **kwargs):
    return answers.ask(question, session_key=session, **kwargs)


def money(amount):
    return f"{format_number(amount)} đồng"


# ---------------------------------------------------------------------- kinds (data/intents.json)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("lệ phí đăng ký khai sinh", "fee"),
        ("lam giay khai sinh ton bao nhieu tien", "fee"),
        ("đổi bằng lái mấy ngày", "time"),
        ("bao nhieu ngay thi co giay phep xay dung", "time"),
        ("xin lý lịch tư pháp cần giấy tờ gì", "papers"),
        ("làm lý lịch tư pháp ở đâu", "where"),
        ("đăng ký khai sinh online được không", "online"),
        ("phí chứng thực quy định ở văn bản nào", "legal_basis"),
        ("chuyển mục đích sử dụng đất phi nông nghiệp", "find"),
        ("hồ sơ 000.07.01.h01-250120-0001 cần bổ sung gì", "dossier_status"),
        ("đăng ký khai sinh", "find"),
    ],
)
def test_kind_is_detected_from_the_phrase_lists(question, kind):
    assert answers.detect(question).kind == kind


def test_a_dossier_code_is_read_from_the_question():
    intent = answers.detect("cho hoi ho so so 000.00.40.H01-250305-0021 dang o buoc nao")
    assert intent.dossier_code == "000.00.40.H01-250305-0021"


# ---------------------------------------------------------------------- facts from the catalog


def test_fee_counter_and_online_from_the_catalog(catalog):
    p = catalog["birth"]
    answer = ask("lệ phí đăng ký khai sinh bao nhiêu")
    assert answer.confident and answer.kind == "fee"
    assert answer.procedures[0]["code"] == p.code
    assert money(p.amount_due(online=False)) in answer.text  # 8.000 đồng
    assert money(p.amount_due(online=True)) in answer.text  # 4.000 đồng
    assert f"{p.online_discount_percent}%" in answer.text


def test_fee_of_a_procedure_only_submitted_at_the_counter(catalog):
    p = catalog["record"]
    answer = ask("cấp phiếu lý lịch tư pháp mất bao nhiêu tiền")
    assert answer.procedures[0]["code"] == p.code
    assert money(p.fee) in answer.text
    assert "trực tuyến" not in answer.text.split("Nguồn:")[0]


def test_time_papers_where_online_legal_basis(catalog):
    b = catalog["building"]
    time = ask("giấy phép xây dựng nhà ở riêng lẻ mất bao lâu")
    assert time.kind == "time" and time.procedures[0]["code"] == b.code
    assert f"{b.processing_days} ngày làm việc" in time.text

    papers = ask("xin giấy phép xây dựng nhà ở riêng lẻ cần giấy tờ gì")
    assert papers.kind == "papers"
    for c in b.components.all():
        assert c.name in papers.text
    assert "Giấy tờ về quyền sử dụng đất: 1 bản sao" in papers.text
    assert "Bản vẽ thiết kế xây dựng: 2 bản chính" in papers.text

    where = ask("giấy phép xây dựng nhà ở riêng lẻ nộp ở đâu")
    assert where.kind == "where"
    agencies = list(handling_agencies(b, timezone.localdate()))
    assert agencies and all(a.name in where.text for a in agencies)
    assert "cấp huyện" in where.text

    online = ask("giấy phép xây dựng nhà ở riêng lẻ nộp online được không")
    assert online.kind == "online" and online.text.startswith("Được một phần")

    legal = ask("giấy phép xây dựng nhà ở riêng lẻ căn cứ luật nào")
    assert legal.kind == "legal_basis"
    assert "Danh mục chưa ghi căn cứ pháp lý" in legal.text  # the catalog's field is empty: never guessed

    legal_birth = ask("căn cứ pháp lý đăng ký khai sinh")
    assert catalog["birth"].legal_basis in legal_birth.text


def test_every_answer_cites_the_procedure_with_its_portal_page(catalog):
    answer = ask("đăng ký khai sinh online được không")
    p = catalog["birth"]
    assert answer.procedures == [
        {"code": p.code, "name": p.name, "url": f"https://dvc.example.gov.vn/thu-tuc/{p.code}/"}
    ]
    assert f"thủ tục {p.code} “{p.name}”" in answer.text
    assert answer.text.startswith("Có.")  # full_online


def test_colloquial_question_through_the_synonyms(catalog):
    answer = ask("làm giấy khai sinh cho con cần giấy tờ gì")
    assert answer.confident and answer.procedures[0]["code"] == catalog["birth"].code
    assert "Tờ khai đăng ký khai sinh: 1 bản chính" in answer.text
    assert "Giấy tờ tùy thân của người đi đăng ký (nếu có)" in answer.text


# ---------------------------------------------------------------------- conversation


def test_follow_up_uses_the_last_procedure_and_expires(catalog):
    b = catalog["building"]
    first = ask("xin giấy phép xây nhà", session="chat-1")
    assert first.confident and first.procedures[0]["code"] == b.code
    fee = ask("còn lệ phí thì sao?", session="chat-1")
    assert fee.confident and fee.kind == "fee" and fee.procedures[0]["code"] == b.code
    assert money(b.charge) in fee.text
    time = ask("mất bao lâu", session="chat-1")
    assert time.procedures[0]["code"] == b.code and f"{b.processing_days} ngày làm việc" in time.text
    # Another session knows nothing of it.
    assert ask("mất bao lâu", session="chat-2").confident is False
    # 31 minutes later the conversation is forgotten.
    key = conversation.key_of("chat-1")
    assert Conversation.objects.filter(key=key).exists()
    assert not Conversation.objects.filter(key="chat-1").exists()  # the session id itself is not stored
    Conversation.objects.filter(key=key).update(updated_at=timezone.now() - dt.timedelta(minutes=31))
    assert ask("mất bao lâu", session="chat-1").confident is False


# ---------------------------------------------------------------------- not knowing


def test_unknown_question_is_not_confident_and_logged_masked(catalog):
    question = "tôi CCCD 079123456789, sđt 0912 345 678, muốn xin visa đi Mỹ du lịch"
    answer = ask(question, channel="api")
    assert answer.confident is False
    assert "chưa chắc" in answer.text
    assert any(link["url"].endswith("/tro-ly/gui-cau-hoi/") for link in answer.links)
    assert "Bộ phận Một cửa" in answer.text  # no hotline configured, no service centre in this province
    row = UnansweredQuestion.objects.get()
    assert "079123456789" not in row.text and "345 678" not in row.text and "0912" not in row.text
    assert "*********789" in row.text and "09******78" in row.text
    assert row.channel == "api" and row.times == 1
    # The same question again, typed without diacritics, counts on the same row.
    ask("toi CCCD 079123456789, sdt 0912 345 678, muon xin visa di My du lich")
    row.refresh_from_db()
    assert row.times == 2 and UnansweredQuestion.objects.count() == 1


def test_hotline_from_the_settings(catalog, settings):
    settings.CQS = {**settings.CQS, "HOTLINE": "0296 3 123 456"}
    assert "gọi đường dây nóng 0296 3 123 456" in ask("giá vàng hôm nay").text


def test_too_long_or_empty_question_is_refused(catalog):
    from chinhquyenso.core.errors import DomainError

    with pytest.raises(DomainError) as error:
        ask("a" * 501)
    assert error.value.field == "question"
    with pytest.raises(DomainError):
        ask("   ")


def test_faq_answer_is_quoted(catalog, admin_user):
    p = catalog["record"]
    FaqEntry.objects.create(
        procedure=p,
        question="xin lý lịch tư pháp cho người đã ra nước ngoài được không",
        answer="Được, người thân có thể nộp thay khi có văn bản ủy quyền.",
    )
    answer = ask("cho hỏi xin lý lịch tư pháp cho người đã ra nước ngoài được không ạ")
    assert answer.confident
    assert answer.text.startswith("Được, người thân có thể nộp thay")
    assert answer.procedures[0]["code"] == p.code


# ---------------------------------------------------------------------- dossiers


@pytest.fixture
def dossier(catalog, officers, citizen):
    d = dossiers.submit(
        actor=citizen,
        procedure_code=catalog["birth"].code,
        channel="online",
        agency_code="xa-kien-an",
        components=[{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}],
    )
    dossiers.request_supplement(d, actor=officers["xa_a"]["counter_officer"], items=["Bản sao giấy chứng sinh"])
    d.refresh_from_db()
    return d


def test_dossier_status_for_anyone_shows_no_personal_data(dossier, citizen):
    answer = ask(f"hồ sơ {dossier.code.lower()} tới đâu rồi")
    assert answer.kind == "dossier_status" and answer.confident
    assert dossier.code in answer.text
    assert dossier.get_status_display().lower() in answer.text
    assert citizen.full_name not in answer.text and citizen.identity_number not in answer.text
    assert "Bản sao giấy chứng sinh" not in answer.text  # what to add: only for the signed-in owner
    assert "đăng nhập" in answer.text
    assert answer.links[0]["url"].endswith(f"/tra-cuu/?ma={dossier.code}")


def test_dossier_owner_learns_what_to_add(dossier, citizen, officers):
    answer = ask(f"hồ sơ {dossier.code} cần bổ sung gì", user=citizen)
    assert "Bạn cần bổ sung:" in answer.text and "- Bản sao giấy chứng sinh" in answer.text
    other = officers["xa_b"]["specialist"]
    assert "Bản sao giấy chứng sinh" not in ask(f"hồ sơ {dossier.code}", user=other).text


def test_unknown_dossier_code(catalog):
    answer = ask("tra cứu hồ sơ 000.99.99.H01-250101-0001")
    assert "Không tìm thấy hồ sơ" in answer.text and not UnansweredQuestion.objects.exists()


# ---------------------------------------------------------------------- answer sources


def test_registered_answer_source_is_asked_first(catalog):
    seen = []

    def pests(question, context):
        seen.append((question, context.kind, context.channel))
        if "rầy nâu" in question:
            return answers.Answer(text="Rầy nâu: xem bản tin dự báo sâu bệnh.", confident=True, kind="pest")
        return None

    def broken(question, context):
        raise RuntimeError("nguồn hỏng")

    ANSWER_SOURCES.register("test.broken", broken)
    ANSWER_SOURCES.register("test.pests", pests)
    try:
        answer = ask("lúa bị rầy nâu phải làm sao", channel="zalo")
        assert answer.kind == "pest" and answer.text.startswith("Rầy nâu")
        assert seen == [("lúa bị rầy nâu phải làm sao", "find", "zalo")]
        # A source that answers None leaves the question to the catalog.
        assert ask("lệ phí đăng ký khai sinh").procedures[0]["code"] == catalog["birth"].code
    finally:
        ANSWER_SOURCES.unregister("test.broken")
        ANSWER_SOURCES.unregister("test.pests")


def test_procedure_deactivated_is_not_answered(catalog):
    Procedure.objects.filter(pk=catalog["record"].pk).update(is_active=False, updated_at=timezone.now())
    answer = ask("cấp phiếu lý lịch tư pháp mất bao nhiêu tiền")
    assert all(p["code"] != catalog["record"].code for p in answer.procedures)

"""The assistant's answers about pests and diseases, from the catalog: the source alone
(pests.answers.answer → core.registry.KnowledgeAnswer) and through the assistant (assistant.answers.ask,
which turns it into its own Answer with the source and absolute links)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from chinhquyenso.assistant.answers import Answer, ask
from chinhquyenso.core.registry import ANSWER_SOURCES, KnowledgeAnswer
from chinhquyenso.pests import answers
from chinhquyenso.pests.models import Organism, Threshold


def test_the_source_is_registered():
    assert ANSWER_SOURCES.get("pests") is answers.answer


def test_what_to_do_about_brown_planthopper(pest_catalog):
    reply = answers.answer("lúa bị rầy nâu phải làm sao", None)
    assert isinstance(reply, KnowledgeAnswer) and reply.kind == "pest" and reply.confident
    assert reply.text.startswith("Rầy nâu (Nilaparvata lugens (Stål)) — côn trùng gây hại trên lúa.")
    assert "Cách phòng trừ: Gieo sạ tập trung, né rầy" in reply.text
    assert "Tác hại" not in reply.text  # only what was asked
    assert "QCVN 01-38:2010/BNNPTNT" in reply.source
    assert reply.links == [{"label": "Gửi ảnh để nhận dạng sâu bệnh", "url": "/sau-benh/nhan-dang/"}]


@pytest.mark.parametrize(
    "question, expected, absent",
    [
        ("Rầy nâu là con gì?", "Rầy nhỏ (3–5 mm) màu nâu", "Cách phòng trừ"),
        ("rầy nâu gây hại như thế nào", "Tác hại: Chích hút nhựa ở gốc", "Cách phòng trừ"),
        ("ngưỡng phòng trừ rầy nâu", "cảnh báo từ 3.000 con/m², cần phòng trừ từ 5.000 con/m²", "Tác hại"),
        ("mật độ rầy nâu bao nhiêu thì phun thuốc", "giai đoạn đẻ nhánh", "Tác hại"),
        ("thiên địch của rầy nâu", "Thiên địch: Nhện sói, bọ xít mù xanh", "Tác hại"),
        ("rầy nâu tác hại và cách phòng trừ", "Cách phòng trừ:", "Ngưỡng"),
    ],
)
def test_what_is_asked(pest_catalog, question, expected, absent):
    reply = answers.answer(question, None)
    assert expected in reply.text and absent not in reply.text


def test_thresholds_name_their_basis_and_the_trap_measure(pest_catalog):
    text = answers.answer("ngưỡng rầy nâu", None).text
    assert "Lúa, giai đoạn đẻ nhánh: cảnh báo từ 3.000 con/m²" in text
    assert "Lúa, mọi giai đoạn: cảnh báo từ 5.000 con/bẫy/đêm" in text
    assert "(căn cứ: Cảnh báo: QCVN 01-38:2010/BNNPTNT" in text


def test_only_thresholds_in_force_are_said(pest_catalog):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Threshold.objects.filter(organism__code="ray-nau", measure="per_trap_night").update(valid_to=yesterday)
    assert "con/bẫy/đêm" not in answers.answer("ngưỡng rầy nâu", None).text


def test_an_organism_without_thresholds_says_so(pest_catalog):
    text = answers.answer("ngưỡng phòng trừ bọ rùa đỏ", None).text
    assert "Danh mục chưa có ngưỡng cảnh báo, phòng trừ cho bọ rùa đỏ" in text


def test_names_typed_without_diacritics_and_other_names(pest_catalog):
    assert answers.answer("lua bi ray nau phai lam sao", None).text.startswith("Rầy nâu")
    assert answers.answer("benh dao on phong tru the nao", None).text.startswith("Đạo ôn")
    assert answers.answer("lúa bị cháy lá là bệnh gì", None).text.startswith("Đạo ôn")  # an other name
    assert answers.answer("RẦY NÂU LÀ GÌ", None).text.startswith("Rầy nâu")
    assert answers.answer("bệnh đạo ôn", None).text.startswith("Đạo ôn")


def test_old_style_tone_placement_matches(pest_catalog):
    Organism.objects.filter(code="bac-la").update(other_names="Lúa hoà bạc")
    assert answers.answer("lúa hòa bạc là gì", None).text.startswith("Bạc lá")


def test_words_with_other_diacritics_are_not_a_pest(pest_catalog):
    # "bác là" folds like "bạc lá" (a disease) but carries other marks: not a question about rice.
    assert answers.answer("ông bác là liệt sĩ thì làm thủ tục gì", None) is None
    assert answers.answer("lệ phí đăng ký khai sinh", None) is None
    assert answers.answer("", None) is None


def test_the_longest_name_wins(pest_catalog):
    text = answers.answer("sâu cuốn lá nhỏ phòng trừ thế nào", None).text
    assert text.startswith("Sâu cuốn lá nhỏ") and "Sâu cuốn lá lớn" not in text


def test_two_species_in_one_question(pest_catalog):
    text = answers.answer("rầy nâu và rầy lưng trắng khác nhau thế nào, là gì", None).text
    assert "Rầy nâu (" in text and "Rầy lưng trắng" in text


def test_the_beginning_of_several_names_asks_which_one(pest_catalog):
    reply = answers.answer("lúa bị sâu đục thân phải làm gì", None)
    assert not reply.confident
    assert reply.text.startswith("Bạn hỏi về loài nào? Trong danh mục có:")
    assert "- Sâu đục thân 2 chấm" in reply.text and "- Sâu đục thân 5 vạch đầu đen" in reply.text


def test_a_natural_enemy_is_said_to_be_useful(pest_catalog):
    text = answers.answer("nhện sói là gì", None).text
    assert "thiên địch có ích" in text and "Cách phòng trừ" not in text


def test_a_field_the_catalog_leaves_empty_is_said_to_be_missing(pest_catalog):
    Organism.objects.filter(code="kho-van").update(management="")
    text = answers.answer("khô vằn phòng trừ thế nào", None).text
    assert "Danh mục chưa ghi biện pháp phòng trừ của khô vằn" in text


def test_inactive_organisms_are_not_answered(pest_catalog):
    Organism.objects.filter(code="ray-nau").update(active=False)
    reply = answers.answer("rầy nâu là gì", None)
    assert reply is None or not reply.text.startswith("Rầy nâu")


# ---------------------------------------------------------------------- through the assistant


def test_the_assistant_answers_from_the_catalog(pest_catalog):
    answer = ask("lúa bị rầy nâu phải làm sao", channel="zalo")
    assert isinstance(answer, Answer) and answer.kind == "pest" and answer.confident
    assert answer.text.startswith("Rầy nâu") and "Cách phòng trừ" in answer.text
    assert "\nNguồn: Danh mục sinh vật gây hại của Chi cục Trồng trọt và Bảo vệ thực vật" in answer.text
    assert answer.links == [
        {"label": "Gửi ảnh để nhận dạng sâu bệnh", "url": "https://dvc.example.gov.vn/sau-benh/nhan-dang/"}
    ]
    assert answer.procedures == []


def test_the_assistant_page_shows_it(pest_catalog, client):
    response = client.post("/tro-ly/", {"question": "bệnh đạo ôn phòng trừ thế nào"}, follow=True)
    assert response.status_code == 200
    assert "Đạo ôn" in response.content.decode() and "Gửi ảnh để nhận dạng sâu bệnh" in response.content.decode()


def test_a_source_returning_something_else_is_skipped(pest_catalog, caplog):
    ANSWER_SOURCES.register("test.wrong", lambda question, context: "a plain string")
    try:
        answer = ask("lệ phí đăng ký khai sinh")
        assert answer.kind != "pest"
        assert "trả về str, không phải KnowledgeAnswer" in caplog.text
    finally:
        ANSWER_SOURCES.unregister("test.wrong")

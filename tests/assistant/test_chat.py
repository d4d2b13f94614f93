"""The assistant's channels: POST /api/assistant/ask, the chat page without JavaScript, sending a
question the assistant could not answer as a "hỏi đáp" feedback report."""

import json
import re

import pytest
from django.test import Client

from chinhquyenso.assistant.models import UnansweredQuestion
from chinhquyenso.exchange.models import Message
from chinhquyenso.feedback import services as feedback
from chinhquyenso.feedback.models import Feedback
from tests.conftest import make_procedure

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(province, admin_user):
    feedback.load_categories(actor=admin_user)
    return make_procedure(admin_user, [province["xa_a"], province["xa_b"]])


def ask_api(client, body):
    return client.post("/api/assistant/ask", json.dumps(body), content_type="application/json")


def text(response) -> str:
    return response.content.decode()


def test_api_answer_shape(catalog):
    response = ask_api(Client(), {"question": "lệ phí đăng ký khai sinh", "session": "app-1"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"answer", "procedures", "confident", "kind", "links"}
    assert body["confident"] is True and body["kind"] == "fee"
    assert body["procedures"] == [
        {"code": catalog.code, "name": catalog.name, "url": f"https://dvc.example.gov.vn/thu-tuc/{catalog.code}/"}
    ]
    assert "8.000 đồng" in body["answer"] and "4.000 đồng" in body["answer"]
    # A follow-up in the same session.
    follow = ask_api(Client(), {"question": "mất bao lâu", "session": "app-1"}).json()
    assert follow["procedures"][0]["code"] == catalog.code and "3 ngày làm việc" in follow["answer"]


def test_api_works_for_anonymous_callers_without_csrf(catalog):
    client = Client(enforce_csrf_checks=True)
    assert ask_api(client, {"question": "đăng ký khai sinh", "session": ""}).status_code == 200


def test_api_refuses_bad_input(catalog):
    client = Client()
    long = ask_api(client, {"question": "khai sinh " * 60, "session": "x"})
    assert long.status_code == 400 and long.json()["field"] == "question"
    empty = ask_api(client, {"question": " ", "session": "x"})
    assert empty.status_code == 400 and empty.json()["field"] == "question"
    assert ask_api(client, {"session": "x"}).status_code == 422


def test_api_is_rate_limited_per_address(catalog, settings, monkeypatch):
    settings.CQS = {**settings.CQS, "ASSISTANT_PER_IP_PER_MINUTE": 2}
    monkeypatch.setattr("chinhquyenso.core.throttle.clock", lambda: 1_800_000_030.0)  # one counting minute
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(2):
        assert ask_api(client, {"question": "đăng ký khai sinh"}).status_code == 200
    refused = ask_api(client, {"question": "đăng ký khai sinh"})
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited" and refused["Retry-After"]
    assert ask_api(Client(REMOTE_ADDR="203.0.113.10"), {"question": "đăng ký khai sinh"}).status_code == 200


def test_chat_page_without_javascript(catalog):
    client = Client()
    page = text(client.get("/tro-ly/"))
    assert '<form method="post"' in page and 'name="question"' in page
    assert 'src="/static/assistant/chat.js"' in page and "<script>" not in page  # CSP: no inline script
    assert 'name="viewport"' in page

    asked = client.post("/tro-ly/", {"question": "làm giấy khai sinh cho con cần giấy tờ gì"})
    assert asked.status_code == 302 and asked["Location"] == "/tro-ly/#luot-1"
    client.post("/tro-ly/", {"question": "còn lệ phí thì sao?"})
    client.post("/tro-ly/", {"question": "giá vàng hôm nay bao nhiêu"})
    page = text(client.get("/tro-ly/"))
    assert page.index("làm giấy khai sinh cho con") < page.index("còn lệ phí thì sao?") < page.index("giá vàng")
    assert "Tờ khai đăng ký khai sinh: 1 bản chính" in page
    assert "4.000 đồng" in page  # the follow-up answered for the birth registration
    assert f'href="https://dvc.example.gov.vn/thu-tuc/{catalog.code}/"' in page
    assert "Xin lỗi, tôi chưa chắc" in page and 'href="https://dvc.example.gov.vn/tro-ly/gui-cau-hoi/"' in page
    assert UnansweredQuestion.objects.filter(text="giá vàng hôm nay bao nhiêu").exists()


def test_chat_page_shows_errors_in_the_form(catalog):
    response = Client().post("/tro-ly/", {"question": "x" * 501})
    assert response.status_code == 400 and "Câu hỏi tối đa 500 ký tự." in text(response)


def test_sent_question_becomes_a_hoi_dap_report_for_a_citizen(catalog, citizen, province):
    client = Client()
    client.force_login(citizen)
    client.post("/tro-ly/", {"question": "xin giấy xác nhận cho con đi học ở nước ngoài"})
    form = text(client.get("/tro-ly/gui-cau-hoi/"))
    assert "xin giấy xác nhận cho con đi học ở nước ngoài</textarea>" in form  # the question carried over
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', form).group(1)
    sent = client.post(
        "/tro-ly/gui-cau-hoi/",
        {
            "question": "xin giấy xác nhận cho con đi học ở nước ngoài",
            "area_code": "xa-kien-an",
            "idempotency_key": key,
        },
    )
    assert sent.status_code == 302 and "/phan-anh/theo-doi/" in sent["Location"]
    report = Feedback.objects.get()
    assert report.category.code == "hoi-dap" and report.reporter == citizen
    assert report.description == "xin giấy xác nhận cho con đi học ở nước ngoài"


def test_sent_question_from_an_anonymous_citizen_needs_the_sms_code(catalog, province):
    client = Client()
    body = {"question": "hỏi về thủ tục nhận con nuôi", "area_code": "xa-kien-an"}
    refused = client.post("/tro-ly/gui-cau-hoi/", body)
    assert refused.status_code == 400 and not Feedback.objects.exists()
    client.post("/tro-ly/gui-cau-hoi/", {**body, "action": "send_code", "phone": "0912 345 678"})
    (sms,) = Message.objects.filter(kind="feedback.verification_code")
    code = re.search(r"\b(\d{6})\b", sms.body).group(1)
    page = text(client.get("/tro-ly/gui-cau-hoi/"))
    assert 'name="verification_code"' in page
    done = client.post("/tro-ly/gui-cau-hoi/", {**body, "verification_code": code})
    assert done.status_code == 302
    report = Feedback.objects.get()
    assert report.category.code == "hoi-dap" and report.reporter_phone == "0912345678" and report.phone_verified


def test_idle_conversations_are_forgotten_by_the_worker_job():
    import datetime as dt

    from django.utils import timezone

    from chinhquyenso.assistant.models import Conversation
    from chinhquyenso.assistant.tasks import forget_conversations
    from chinhquyenso.core.registry import JOBS

    assert dict(JOBS.items())["forget_conversations"].task == "chinhquyenso.assistant.tasks.forget_conversations"
    now = timezone.now()
    Conversation.objects.create(key="a" * 64, updated_at=now - dt.timedelta(minutes=31))
    Conversation.objects.create(key="b" * 64, updated_at=now)
    assert forget_conversations.call() == {"forgotten": 1}
    assert list(Conversation.objects.values_list("key", flat=True)) == ["b" * 64]


def test_portal_pages_offer_the_assistant(client):
    body = client.get("/").content.decode()
    assert 'href="/tro-ly/"' in body and "Hỏi trợ lý thủ tục" in body

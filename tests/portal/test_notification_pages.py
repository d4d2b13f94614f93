"""The citizen's notifications (/ca-nhan/thong-bao/) and preferences (/ca-nhan/thong-bao/cai-dat/),
without JavaScript: plain links and forms."""

import pytest
from django.test import Client

from chinhquyenso.accounts import services as accounts
from chinhquyenso.dossiers import services
from chinhquyenso.exchange import consent, outbox
from chinhquyenso.exchange.models import Message, NotificationConsent
from tests.conftest import vn

pytestmark = pytest.mark.django_db

PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def accepted(birth_procedure, officers, citizen):
    dossier = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        at=vn(2025, 3, 10, 9),
    )
    services.accept(dossier, actor=officers["xa_a"]["counter_officer"], at=vn(2025, 3, 10, 10))
    return dossier


def test_the_citizen_sees_the_notice_marked_new_and_in_the_header(accepted, citizen):
    client = signed_in(citizen)
    html = client.get("/ca-nhan/thong-bao/").content.decode()
    assert f"Hồ sơ {accepted.code} đã được tiếp nhận" in html and "Hẹn trả kết quả: 17:00 13/03/2025." in html
    assert "Mới" in html and "Chưa đọc (1)" in html
    assert 'href="/ca-nhan/thong-bao/">Thông báo (1 mới)</a>' in client.get("/ca-nhan/").content.decode()

    notice = Message.objects.get(kind="dossiers.citizen.accepted", channel="in_app")
    opened = client.get(f"/ca-nhan/thong-bao/{notice.pk}/")
    assert opened.status_code == 302 and opened["Location"] == f"/tra-cuu/?ma={accepted.code}"
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert "Chưa đọc (0)" in client.get("/ca-nhan/thong-bao/").content.decode()
    assert 'href="/ca-nhan/thong-bao/">Thông báo</a>' in client.get("/ca-nhan/").content.decode()


def test_mark_all_read_and_the_unread_filter(accepted, citizen):
    client = signed_in(citizen)
    assert accepted.code in client.get("/ca-nhan/thong-bao/?chua_doc=1").content.decode()
    response = client.post("/ca-nhan/thong-bao/da-doc/", follow=True)
    assert "Đã đánh dấu 1 thông báo là đã đọc." in response.content.decode()
    assert "Không có thông báo chưa đọc." in client.get("/ca-nhan/thong-bao/?chua_doc=1").content.decode()
    assert client.get("/ca-nhan/thong-bao/da-doc/").status_code == 405


def test_nobody_opens_another_persons_notice(accepted, citizen, officers):
    notice = Message.objects.get(kind="dossiers.citizen.accepted", channel="in_app")
    other = accounts.create_citizen(identity_number="089099999999", full_name="Trần Văn Bình", password="Cong-dan-2025")
    assert signed_in(other).get(f"/ca-nhan/thong-bao/{notice.pk}/").status_code == 404
    assert accepted.code not in signed_in(other).get("/ca-nhan/thong-bao/").content.decode()
    assert signed_in(officers["xa_a"]["leader"]).get("/ca-nhan/thong-bao/").status_code == 403
    assert Client().get("/ca-nhan/thong-bao/").status_code == 302  # to sign in
    notice.refresh_from_db()
    assert notice.read_at is None


def test_the_list_reads_a_constant_number_of_rows(birth_procedure, citizen, django_assert_max_num_queries):
    from django.db import transaction

    def notices(count, start):
        with transaction.atomic():
            for i in range(start, start + count):
                outbox.enqueue(
                    channel="in_app", user=citizen, kind="dossiers.citizen.accepted", subject=f"Thông báo {i}", body="…"
                )

    client = signed_in(citizen)
    notices(3, 0)
    client.get("/ca-nhan/thong-bao/")
    with django_assert_max_num_queries(8):
        few = client.get("/ca-nhan/thong-bao/")
    notices(60, 3)
    with django_assert_max_num_queries(8):
        many = client.get("/ca-nhan/thong-bao/")
    assert few.content.decode().count("<li") < many.content.decode().count("<li")
    html = many.content.decode()
    assert "Thông báo 62" in html and "Thông báo 42" not in html and "?tu=20" in html  # 20 a page, newest first
    assert "Thông báo 42" in client.get("/ca-nhan/thong-bao/?tu=20").content.decode()


# ---------------------------------------------------------------- preferences


def test_consent_is_given_only_by_ticking_the_box_and_withdrawn_as_easily(citizen):
    citizen.phone = "0912345678"
    citizen.save()
    client = signed_in(citizen)
    page = client.get("/ca-nhan/thong-bao/cai-dat/").content.decode()
    assert "Tin nhắn SMS" in page and "Thư điện tử" in page and "Chưa đăng ký nhận." in page
    assert 'value="0912345678"' in page  # the account's phone, offered
    assert "checked" not in page  # never pre-ticked
    assert "Zalo" in page and "chưa có cách liên kết" in page

    refused = client.post("/ca-nhan/thong-bao/cai-dat/", {"channel": "sms", "action": "give", "address": "0912345678"})
    assert refused.status_code == 400 and "Hãy đánh dấu ô đồng ý" in refused.content.decode()
    assert not NotificationConsent.objects.exists()

    wrong = client.post(
        "/ca-nhan/thong-bao/cai-dat/", {"channel": "email", "action": "give", "address": "abc", "agree": "1"}
    )
    assert wrong.status_code == 400 and "Địa chỉ thư điện tử không hợp lệ" in wrong.content.decode()
    assert 'value="abc"' in wrong.content.decode()  # what was typed stays

    given = client.post(
        "/ca-nhan/thong-bao/cai-dat/",
        {"channel": "sms", "action": "give", "address": "0912 345 678", "agree": "1"},
        follow=True,
    )
    html = given.content.decode()
    assert "Đã ghi nhận đồng ý nhận thông báo qua tin nhắn SMS." in html and "Đang nhận" in html
    row = NotificationConsent.objects.get(user=citizen, channel="sms")
    assert row.active and row.address == "0912345678" and "0912345678" in row.wording

    withdrawn = client.post("/ca-nhan/thong-bao/cai-dat/", {"channel": "sms", "action": "withdraw"}, follow=True)
    assert (
        "Đã rút lại đồng ý" in withdrawn.content.decode() and "Bạn đã rút lại đồng ý lúc" in withdrawn.content.decode()
    )
    row.refresh_from_db()
    assert not row.active
    assert consent.active_addresses(citizen) == {}


def test_zalo_cannot_be_turned_on_from_the_page(citizen):
    response = signed_in(citizen).post(
        "/ca-nhan/thong-bao/cai-dat/", {"channel": "zalo", "action": "give", "address": "123456789", "agree": "1"}
    )
    assert response.status_code == 400
    assert not NotificationConsent.objects.exists()


def test_the_nav_links_to_the_notices_for_citizens(citizen):
    html = signed_in(citizen).get("/ca-nhan/").content.decode()
    assert 'href="/ca-nhan/thong-bao/"' in html
    assert 'href="/ca-nhan/thong-bao/"' not in Client().get("/").content.decode()

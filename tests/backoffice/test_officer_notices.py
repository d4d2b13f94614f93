"""Officers see their due-soon and overdue notices on /can-bo/thong-bao/, first, in tabs with
unread counts, as soon as the deadline sweep writes them (without waiting for the outbox
worker), with the unread count in the header."""

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.tasks import sweep_deadlines
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message
from tests.conftest import vn

pytestmark = pytest.mark.django_db

PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def swept(birth_procedure, officers, citizen, monkeypatch):
    """One dossier due tomorrow (the specialist reminded), one overdue (the leader told)."""
    xa = officers["xa_a"]
    dossiers = []
    for day in (10, 12):
        dossier = services.submit(
            actor=citizen,
            procedure_code="1.001193",
            channel="online",
            agency_code="xa-kien-an",
            components=PAPER,
            at=vn(2025, 3, day, 9),
        )
        services.accept(dossier, actor=xa["counter_officer"], at=vn(2025, 3, day, 10))
        dossiers.append(dossier)
    monkeypatch.setattr(timezone, "now", lambda: vn(2025, 3, 14, 9))  # 1st due 13/3 (late), 2nd 17/3
    sweep_deadlines.call()
    monkeypatch.setattr(timezone, "now", lambda: vn(2025, 3, 16, 9))
    sweep_deadlines.call()
    return {"overdue": dossiers[0], "soon": dossiers[1], "xa": xa}


def test_the_leader_sees_the_overdue_notice_before_the_worker_sends_anything(swept):
    leader = swept["xa"]["leader"]
    notice = Message.objects.get(kind="dossiers.overdue", user=leader)
    assert notice.state == Message.State.PENDING  # the worker has not run
    html = signed_in(leader).get("/can-bo/thong-bao/").content.decode()
    assert f"Hồ sơ {swept['overdue'].code}" in html and "đã quá hạn từ ngày 13/03/2025" in html
    assert "Quá hạn (1, 1 chưa đọc)" in html and "Sắp đến hạn (0)" in html
    assert "Thông báo (1 mới)</a>" in html  # the header
    assert "hồ sơ đang quá hạn" in html and "?tab=qua-han" in html


def test_the_specialist_sees_the_due_soon_notice_in_its_tab_and_opening_it_marks_it_read(swept):
    specialist = swept["xa"]["specialist"]
    client = signed_in(specialist)
    html = client.get("/can-bo/thong-bao/?nhom=sap-den-han").content.decode()
    assert f"Hồ sơ {swept['soon'].code}" in html and "đến hạn trả kết quả ngày 17/03/2025" in html
    assert "Sắp đến hạn (1, 1 chưa đọc)" in html
    assert swept["overdue"].code not in client.get("/can-bo/thong-bao/?nhom=qua-han").content.decode()

    notice = Message.objects.get(kind="dossiers.due_soon", user=specialist)
    opened = client.get(f"/can-bo/thong-bao/{notice.pk}/mo/")
    assert opened.status_code == 302 and opened["Location"] == f"/can-bo/ho-so/{swept['soon'].code}/"
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert "Sắp đến hạn (1)" in client.get("/can-bo/thong-bao/").content.decode()


def test_mark_all_read_covers_notices_the_worker_has_not_sent(swept):
    leader = swept["xa"]["leader"]
    signed_in(leader).post("/can-bo/thong-bao/da-doc/")
    assert not Message.objects.filter(user=leader, channel="in_app", read_at__isnull=True).exists()


def test_an_officer_cannot_open_someone_elses_notice(swept):
    notice = Message.objects.get(kind="dossiers.overdue", user=swept["xa"]["leader"])
    assert signed_in(swept["xa"]["specialist"]).get(f"/can-bo/thong-bao/{notice.pk}/mo/").status_code == 404


def test_the_notices_page_reads_a_constant_number_of_rows(officers, django_assert_max_num_queries):
    leader = officers["xa_a"]["leader"]

    def notices(count, start):
        with transaction.atomic():
            for i in range(start, start + count):
                outbox.enqueue(
                    channel="in_app", user=leader, kind="dossiers.overdue", subject=f"Quá hạn {i}", body=f"Quá hạn {i}"
                )

    client = signed_in(leader)
    notices(2, 0)
    client.get("/can-bo/thong-bao/")
    with CaptureQueriesContext(connection) as few:
        client.get("/can-bo/thong-bao/")
    notices(80, 2)
    with django_assert_max_num_queries(len(few)):
        html = client.get("/can-bo/thong-bao/").content.decode()
    assert len(few) <= 20, [q["sql"][:100] for q in few.captured_queries]
    assert "Quá hạn (82, 82 chưa đọc)" in html and "Quá hạn 81" in html and "Quá hạn 51" not in html


def test_a_documents_deadline_reminder_sits_in_the_same_tabs_as_a_dossiers(officers, province):
    """The tabs are filled by the apps (exchange.notices.file_under from ready()), so a reminder about
    an incoming document's deadline is filed like a dossier's, not under «Khác»."""
    import datetime as dt

    from chinhquyenso.documents import jobs
    from chinhquyenso.documents.services import incoming

    huyen = officers["huyen"]
    document = incoming.register_incoming(
        huyen["clerk"],
        agency=province["huyen"],
        document_type="cong-van",
        excerpt="Đề nghị báo cáo số liệu hạn mặn",
        sender_name="Sở Nông nghiệp",
        at=vn(2025, 3, 7, 9),
    )
    incoming.assign(
        document,
        huyen["leader"],
        assignees=[incoming.Assignee(user_id=huyen["specialist"].pk)],
        deadline=dt.date(2025, 3, 12),
        at=vn(2025, 3, 7, 10),
    )
    jobs.remind(at=vn(2025, 3, 11, 8))
    client = signed_in(huyen["specialist"])
    html = client.get("/can-bo/thong-bao/").content.decode()
    assert "Sắp đến hạn (1, 1 chưa đọc)" in html
    assert "đến hạn xử lý ngày 12/03/2025" in client.get("/can-bo/thong-bao/?nhom=sap-den-han").content.decode()
    assert "đến hạn xử lý ngày" not in client.get("/can-bo/thong-bao/?nhom=khac").content.decode()
    jobs.remind(at=vn(2025, 3, 13, 8))
    html = client.get("/can-bo/thong-bao/?nhom=qua-han").content.decode()
    assert "Quá hạn (1, 1 chưa đọc)" in html and "quá hạn xử lý từ ngày 12/03/2025" in html

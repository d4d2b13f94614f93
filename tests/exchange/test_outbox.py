"""The outbox: written with the change, delivered after commit by the worker,
retried with back-off, dead letters visible to the agency's officers and the
administrators, sent again on request; never a send inside a transaction."""

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import Client

from chinhquyenso.core.models import AuditRecord
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message
from tests.conftest import vn

pytestmark = pytest.mark.django_db

NOW = vn(2025, 3, 10, 9)


class FlakySender:
    """A mail gateway that is down for the first `failures` sends, then recovers."""

    failures = 0
    calls: list[str] = []

    def send(self, message):
        FlakySender.calls.append(message.recipient)
        if len(FlakySender.calls) <= FlakySender.failures:
            raise ConnectionError("smtp.example: 421 service not available")
        mail.send_mail(message.subject, message.body, None, [message.recipient])


@pytest.fixture
def flaky(monkeypatch, settings):
    monkeypatch.setitem(settings.CQS, "OUTBOX_SENDERS", {"email": "tests.exchange.test_outbox.FlakySender"})
    monkeypatch.setitem(settings.CQS, "OUTBOX_MAX_ATTEMPTS", 3)
    monkeypatch.setitem(settings.CQS, "OUTBOX_BACKOFF_SECONDS", 60)
    FlakySender.calls = []
    return FlakySender


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queue_mail(agency, **extra):
    with transaction.atomic():
        return outbox.enqueue(
            channel="email",
            kind="tests.reminder",
            recipient="lanh.dao@example.gov.vn",
            subject="Nhắc hạn báo cáo",
            body="Báo cáo sắp đến hạn.",
            agency_id=agency.pk,
            link="/can-bo/bao-cao-so-lieu/1/",
            at=NOW,
            **extra,
        )


def test_a_rolled_back_change_sends_nothing(province):
    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        outbox.enqueue(channel="email", kind="tests.x", recipient="a@example.gov.vn", body="x", at=NOW)
        raise Refused
    assert not Message.objects.exists()
    assert outbox.deliver_due(NOW + dt.timedelta(hours=1)) == (0, 0)
    assert mail.outbox == []


def test_links_are_absolute_and_messages_leave_only_after_commit(province):
    message = queue_mail(province["tu_phap"])
    assert message.link == "https://dvc.example.gov.vn/can-bo/bao-cao-so-lieu/1/"
    assert mail.outbox == []  # written, not sent
    assert outbox.deliver_due(NOW) == (1, 0)
    assert mail.outbox[0].to == ["lanh.dao@example.gov.vn"]
    assert "https://dvc.example.gov.vn/can-bo/bao-cao-so-lieu/1/" in mail.outbox[0].body
    message.refresh_from_db()
    assert message.state == Message.State.SENT and message.attempts == 1


def test_no_send_runs_inside_a_transaction(db):
    # pytest-django's own wrapping transaction does not count for delivery, but an app's does.
    with pytest.raises(RuntimeError, match="must not run inside a transaction"), transaction.atomic():
        outbox.deliver_due(NOW)


def test_failing_sender_retries_with_back_off_then_dead_letter_shown_to_the_officers(province, officers, flaky):
    flaky.failures = 3
    message = queue_mail(province["tu_phap"])
    assert outbox.deliver_due(NOW) == (0, 1)
    message.refresh_from_db()
    assert message.state == Message.State.FAILED and message.attempts == 1
    assert message.next_attempt_at == NOW + dt.timedelta(seconds=60)
    assert "421 service not available" in message.last_error
    assert outbox.deliver_due(NOW + dt.timedelta(seconds=59)) == (0, 0)  # still backing off
    assert outbox.deliver_due(NOW + dt.timedelta(seconds=60)) == (0, 1)
    message.refresh_from_db()
    assert message.next_attempt_at == NOW + dt.timedelta(seconds=60 + 120)  # doubled
    assert outbox.deliver_due(NOW + dt.timedelta(seconds=180)) == (0, 1)
    message.refresh_from_db()
    assert message.state == Message.State.DEAD and message.attempts == 3
    assert outbox.deliver_due(NOW + dt.timedelta(days=1)) == (0, 0)  # a dead letter is not retried by itself
    assert mail.outbox == []

    # The agency's officers see it on their page, with the error; another agency's officers do not.
    page = signed_in(officers["tu_phap"]["leader"]).get("/can-bo/thong-bao/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Nhắc hạn báo cáo" in text and "421 service not available" in text and "đã dừng thử lại" in text
    other = signed_in(officers["cong_an"]["leader"]).get("/can-bo/thong-bao/").content.decode()
    assert "Nhắc hạn báo cáo" not in other and "Không có thư, tin nhắn nào gửi lỗi." in other
    assert signed_in(officers["cong_an"]["leader"]).post(f"/can-bo/thong-bao/{message.pk}/gui-lai/").status_code == 404

    # Sent again from the page once the gateway is back: audited, delivered.
    response = signed_in(officers["tu_phap"]["leader"]).post(f"/can-bo/thong-bao/{message.pk}/gui-lai/")
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.state == Message.State.PENDING and message.attempts == 0
    assert AuditRecord.objects.filter(action="outbox.retry", object_id=str(message.pk)).exists()
    assert outbox.deliver_due(message.next_attempt_at) == (1, 0)
    assert len(mail.outbox) == 1


def test_the_administration_lists_failures_and_sends_them_again(province, admin_user, flaky):
    flaky.failures = 10
    message = queue_mail(province["huyen"])
    for minutes in (0, 1, 3):
        outbox.deliver_due(NOW + dt.timedelta(minutes=minutes))
    message.refresh_from_db()
    assert message.state == Message.State.DEAD
    client = signed_in(admin_user)
    listing = client.get("/quan-tri/exchange/message/?state__exact=dead").content.decode()
    assert "421 service not available" in listing
    client.post("/quan-tri/exchange/message/", {"action": "send_again", "_selected_action": [message.pk]}, follow=True)
    message.refresh_from_db()
    assert message.state == Message.State.PENDING


def test_a_dedup_key_sends_once(province, officers):
    user = officers["xa_a"]["leader"]
    with transaction.atomic():
        first = outbox.enqueue(channel="in_app", kind="tests.once", user=user, body="Một lần", dedup_key="k1", at=NOW)
        again = outbox.enqueue(channel="in_app", kind="tests.once", user=user, body="Một lần", dedup_key="k1", at=NOW)
        stored = outbox.enqueue_many(
            [outbox.build(channel="in_app", kind="tests.once", user=user, body="Một lần", dedup_key="k1", at=NOW)]
        )
    assert first is not None and again is None and stored == 0
    assert Message.objects.count() == 1
    outbox.deliver_due(NOW)
    assert "Một lần" in signed_in(user).get("/can-bo/thong-bao/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_send_each_message_once(province):
    """Four workers deliver the same backlog at once and race on the claims."""
    if connection.vendor != "postgresql":
        pytest.skip("the test database on SQLite is in memory and shared between threads only with table locks")
    with transaction.atomic():
        outbox.enqueue_many(
            outbox.build(channel="email", kind="tests.bulk", recipient=f"r{i}@example.gov.vn", body="x", at=NOW)
            for i in range(60)
        )
    totals, errors = [], []

    def worker():
        try:
            totals.append(outbox.deliver_due(NOW + dt.timedelta(seconds=1)))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(sent for sent, _ in totals) == 60
    assert len(mail.outbox) == 60 and len({m.to[0] for m in mail.outbox}) == 60
    assert Message.objects.filter(state=Message.State.SENT).count() == 60


def test_a_secret_is_erased_once_sent(province):
    with transaction.atomic():
        message = outbox.enqueue(
            channel="sms", kind="tests.code", recipient="0912345678", body="Mã xác minh: 123456", secret=True, at=NOW
        )
    assert outbox.deliver_due(NOW) == (1, 0)
    message.refresh_from_db()
    assert message.state == Message.State.SENT and "123456" not in message.body

"""Escalation: due soon (level 1) and overdue (level 2) to the handling
agency's leaders, long overdue or long unassigned (level 3) to the IOC —
each once per level, again after a reopen — by e-mail through the outbox,
and with a constant number of queries whatever the number of reports."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chinhquyenso.core.registry import JOBS, Job
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message
from chinhquyenso.exchange.selectors import undelivered
from chinhquyenso.exchange.tasks import deliver_outbox
from chinhquyenso.feedback import services, tasks
from chinhquyenso.feedback.models import Category, Escalation, Feedback
from tests.conftest import vn

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports(report, leader_emails, ioc_operator, citizen):
    """A: Kiến An, due Monday 24/3/2025 17:00. B: nowhere known, in the IOC queue since 03/3 09:00."""
    a = report()
    b = services.submit(
        services.Submission(
            category_code="moi-truong", description="Nước thải.", address="không rõ", email="hoa@example.vn"
        ),
        reporter=citizen,
        at=vn(2025, 3, 3, 9),
    )
    assert a.due_at == vn(2025, 3, 24, 17) and b.agency is None
    return a, b


def levels(fb):
    return sorted(Escalation.objects.filter(feedback=fb).values_list("level", "cycle"))


def test_levels_are_raised_once_each_to_the_right_people(reports, province):
    a, b = reports
    # Thursday 20/3 10:00: A has 2 working days left (21, 24/3) → level 1; B unassigned for 13 days → level 3
    services.escalate_due(vn(2025, 3, 20, 10))
    assert levels(a) == [(1, 0)] and levels(b) == [(3, 0)]
    first = Message.objects.get(kind="feedback.escalation_1")
    assert (
        first.recipient == "lanhdao.xa_a@angiang.gov.vn" and a.code in first.body and first.agency == province["xa_a"]
    )
    assert first.link == "https://dvc.example.gov.vn/can-bo/phan-anh/"  # the officers' queue
    ioc = Message.objects.get(kind="feedback.escalation_3")
    assert ioc.recipient == "ioc@angiang.gov.vn" and b.code in ioc.body
    assert Escalation.objects.get(feedback=a).to_agency == province["xa_a"]
    assert Escalation.objects.get(feedback=b).to_agency is None
    # running again changes nothing
    assert services.escalate_due(vn(2025, 3, 20, 10, 15)) == []
    # Tuesday 25/3: A is overdue → level 2 to the same leaders
    services.escalate_due(vn(2025, 3, 25, 9))
    assert levels(a) == [(1, 0), (2, 0)]
    assert Message.objects.filter(kind="feedback.escalation_2", recipient="lanhdao.xa_a@angiang.gov.vn").count() == 1
    # Thursday 27/3: overdue by 3 working days (25, 26, 27/3) — not more than 3 yet
    services.escalate_due(vn(2025, 3, 27, 9))
    assert levels(a) == [(1, 0), (2, 0)]
    # Friday 28/3: overdue by 4 → the IOC
    services.escalate_due(vn(2025, 3, 28, 9))
    assert levels(a) == [(1, 0), (2, 0), (3, 0)]
    a.refresh_from_db()
    assert a.escalation_level == 3
    assert a.events.filter(action="escalate").count() == 3


def test_a_report_found_late_is_not_also_told_due_soon(reports):
    a, _ = reports
    services.escalate_due(vn(2025, 3, 25, 9))
    assert levels(a) == [(2, 0)]


def test_the_queue_is_escalated_only_after_one_full_working_day(categories, citizen, ioc_operator):
    # Friday 21/3 14:00 in the queue; Monday 24/3 13:59 is not yet a working day later, 14:01 is
    fb = services.submit(
        services.Submission(category_code="moi-truong", description="Nước thải.", address="không rõ"),
        reporter=citizen,
        at=vn(2025, 3, 21, 14),
    )
    services.escalate_due(vn(2025, 3, 22, 10))  # Saturday
    services.escalate_due(vn(2025, 3, 24, 13, 59))
    assert levels(fb) == []
    services.escalate_due(vn(2025, 3, 24, 14, 1))
    assert levels(fb) == [(3, 0)]


def test_paused_and_finished_reports_are_not_escalated(reports, officers):
    a, b = reports
    services.request_info(a, actor=officers["xa_a"]["specialist"], question="Ở đâu?", at=vn(2025, 3, 4, 9))
    services.escalate_due(vn(2025, 4, 30, 9))
    assert levels(a) == []


def test_after_a_reopen_the_report_may_be_escalated_again(reports, officers, citizen):
    a, _ = reports
    services.escalate_due(vn(2025, 3, 25, 9))
    services.resolve(a, actor=officers["xa_a"]["specialist"], public_reply="Đã thu gom.", at=vn(2025, 3, 26, 9))
    services.reopen(a, reason="Chưa sạch.", actor=citizen, at=vn(2025, 3, 27, 9))
    assert a.escalation_level == 0 and a.due_at == vn(2025, 3, 27, 17)  # no days were left: due that day
    services.escalate_due(vn(2025, 3, 28, 9))
    assert levels(a) == [(2, 0), (2, 1)]


def escalation_mail():
    return Message.objects.filter(kind__startswith="feedback.escalation_")


def test_a_failing_mail_server_is_retried_with_back_off_then_recovers(reports, settings, ioc_operator):
    settings.CQS = {**settings.CQS, "OUTBOX_SENDERS": {"email": "tests.feedback.test_escalation.FlakySender"}}
    FlakySender.failures_left, FlakySender.delivered = 3, []
    services.escalate_due(vn(2025, 3, 20, 10))
    now = vn(2025, 3, 20, 10, 1)
    assert outbox.deliver_due(now) == (0, 2)
    note = Message.objects.get(kind="feedback.escalation_1")
    assert note.state == Message.State.FAILED and note.attempts == 1 and "SMTP down" in note.last_error
    assert note.next_attempt_at == now + dt.timedelta(seconds=60)
    assert note in undelivered(ioc_operator, kind_prefix="feedback.")
    # not due again yet
    assert outbox.deliver_due(now + dt.timedelta(seconds=30)) == (0, 0)
    # the second try fails for one message, the mail server then recovers
    later = now + dt.timedelta(seconds=61)
    sent, failed = outbox.deliver_due(later)
    assert (sent, failed) == (1, 1)
    retried = escalation_mail().filter(state=Message.State.FAILED).get()
    assert retried.attempts == 2 and retried.next_attempt_at == later + dt.timedelta(seconds=120)
    assert outbox.deliver_due(later + dt.timedelta(seconds=121)) == (1, 0)
    assert set(escalation_mail().values_list("state", flat=True)) == {Message.State.SENT}
    assert not undelivered(ioc_operator, kind_prefix="feedback.").exists()
    assert len(FlakySender.delivered) == 2


def test_after_the_last_attempt_the_message_gives_up_and_stays_visible(reports, settings, ioc_operator):
    settings.CQS = {
        **settings.CQS,
        "OUTBOX_SENDERS": {"email": "tests.feedback.test_escalation.FlakySender"},
        "OUTBOX_MAX_ATTEMPTS": 3,
    }
    FlakySender.failures_left = 100
    services.escalate_due(vn(2025, 3, 20, 10))
    moment = vn(2025, 3, 20, 11)
    for _ in range(3):
        outbox.deliver_due(moment)
        moment += dt.timedelta(hours=1)
    note = Message.objects.get(kind="feedback.escalation_1")
    assert note.state == Message.State.DEAD and note.attempts == 3
    assert outbox.deliver_due(moment) == (0, 0)  # no longer tried
    assert note in undelivered(ioc_operator, kind_prefix="feedback.")
    # an operator sends it again once the server works
    FlakySender.failures_left = 0
    outbox.retry(note, actor=ioc_operator, at=moment)
    assert outbox.deliver_due(moment) == (1, 0)
    note.refresh_from_db()
    assert note.state == Message.State.SENT


class FlakySender:
    failures_left = 0
    delivered: list = []

    def send(self, message):
        if FlakySender.failures_left > 0:
            FlakySender.failures_left -= 1
            raise ConnectionError("SMTP down")
        FlakySender.delivered.append(message.recipient)


def test_the_default_sender_uses_django_mail(reports):
    services.escalate_due(vn(2025, 3, 20, 10))
    outbox.deliver_due(vn(2025, 3, 20, 10, 1))
    assert sorted(m.to[0] for m in mail.outbox) == ["ioc@angiang.gov.vn", "lanhdao.xa_a@angiang.gov.vn"]


def make_overdue(agency, n, start=0):
    category = Category.objects.get(code="moi-truong")
    Feedback.objects.bulk_create(
        Feedback(
            code=f"PA-2025-9{start + i:05d}",
            token=f"t{start + i}",
            category=category,
            description="x",
            content_hash=str(start + i),
            agency=agency,
            status="in_progress",
            received_at=vn(2025, 1, 2, 9),
            due_at=vn(2025, 1, 23, 17),
        )
        for i in range(n)
    )


def test_escalation_is_set_based(categories, province, leader_emails, ioc_operator):
    make_overdue(province["xa_a"], 5)
    with CaptureQueriesContext(connection) as few:
        services.escalate_due(vn(2025, 3, 3, 9))
    make_overdue(province["xa_b"], 60, start=100)
    with CaptureQueriesContext(connection) as many:
        services.escalate_due(vn(2025, 3, 3, 9, 15))
    assert Escalation.objects.filter(level=3).count() == 65
    # the same statements whatever the number of reports (one digest per leader, not per report)
    assert len(many.captured_queries) <= len(few.captured_queries) + 2
    assert Message.objects.filter(kind="feedback.escalation_3").count() == 2  # one digest per run to the IOC operator


def test_the_job_is_scheduled_and_runs_through_the_task_interface(reports):
    assert JOBS.get("feedback_escalations") == Job("chinhquyenso.feedback.tasks.escalate", 15 * 60)
    # the digests it writes are sent by the outbox's own job, every minute
    assert JOBS.get("deliver_outbox") == Job("chinhquyenso.exchange.tasks.deliver_outbox", 60)
    # today both reports are long overdue or long unassigned: level 3, one digest to the IOC
    assert tasks.escalate.call() == {"escalations": 2, "closed_unrated": 0}
    assert list(escalation_mail().values_list("kind", "state")) == [("feedback.escalation_3", Message.State.PENDING)]
    assert deliver_outbox.call() == {"sent": 1, "failed": 0}
    assert tasks.escalate.call() == {"escalations": 0, "closed_unrated": 0}
    assert escalation_mail().count() == 1 and deliver_outbox.call() == {"sent": 0, "failed": 0}

"""feedback's own outbox (Notification) gives way to the platform's: the
messages not yet sent move to exchange.Message (pending and failed are due
again, those that gave up are dead letters), the sent ones are dropped with
the table."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from chinhquyenso.exchange.models import Message
from tests.conftest import vn

BEFORE = ("feedback", "0002_feedback_on_time_computed")
AFTER = ("feedback", "0003_notifications_to_outbox")


@pytest.mark.django_db(transaction=True)  # migrating backwards and forwards changes the schema
def test_unsent_notifications_move_to_the_outbox(categories, province):
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    apps = executor.loader.project_state([BEFORE]).apps
    Notification = apps.get_model("feedback", "Notification")
    Feedback = apps.get_model("feedback", "Feedback")
    category = apps.get_model("feedback", "Category").objects.get(code="moi-truong")
    report = Feedback.objects.create(
        code="PA-2025-000001",
        token="t1",
        category_id=category.pk,
        description="Rác.",
        content_hash="h1",
        received_at=vn(2025, 3, 3, 9),
        agency_id=province["xa_a"].pk,
    )
    due = vn(2025, 3, 5, 9)
    common = {"subject": "Phản ánh PA-2025-000001", "body": "Nội dung", "next_attempt_at": due}
    Notification.objects.create(
        kind="resolved",
        channel="email",
        recipient="hoa@example.vn",
        state="pending",
        feedback_id=report.pk,
        agency_id=province["xa_a"].pk,
        **common,
    )
    Notification.objects.create(
        kind="reply",
        channel="sms",
        recipient="0912345678",
        state="failed",
        attempts=2,
        last_error="gateway down",
        feedback_id=report.pk,
        **common,
    )
    Notification.objects.create(
        kind="escalation_3",
        channel="email",
        recipient="ioc@example.vn",
        state="gave_up",
        attempts=5,
        last_error="SMTP down",
        **common,
    )
    Notification.objects.create(
        kind="merged", channel="email", recipient="b@example.vn", state="sent", sent_at=due, **common
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = {m.kind: m for m in Message.objects.all()}
    assert set(moved) == {"feedback.resolved", "feedback.reply", "feedback.escalation_3"}  # not the sent one
    resolved, reply, ioc = moved["feedback.resolved"], moved["feedback.reply"], moved["feedback.escalation_3"]
    assert (resolved.state, resolved.channel, resolved.recipient) == ("pending", "email", "hoa@example.vn")
    assert (resolved.source_type, resolved.source_id) == ("feedback.Feedback", str(report.pk))
    assert resolved.agency_id == province["xa_a"].pk and resolved.next_attempt_at == due
    assert (reply.state, reply.channel, reply.attempts, reply.last_error) == ("pending", "sms", 2, "gateway down")
    assert (ioc.state, ioc.attempts, ioc.source_type) == ("dead", 5, "")
    assert abs(resolved.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert "feedback_notification" not in connection.introspection.table_names()

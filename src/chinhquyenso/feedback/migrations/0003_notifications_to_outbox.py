# feedback's own outbox (Notification) gives way to the platform's (exchange.Message):
# the messages not yet sent move there, then the table goes.

from django.db import migrations

STATES = {"pending": "pending", "failed": "pending", "gave_up": "dead"}  # pending and failed are due again


def copy_unsent(apps, schema_editor):
    Notification = apps.get_model("feedback", "Notification")
    Message = apps.get_model("exchange", "Message")
    batch = []
    for note in Notification.objects.exclude(state="sent").order_by("id").iterator(chunk_size=2000):
        batch.append(
            Message(
                channel=note.channel if note.channel in ("email", "sms") else "email",
                recipient=note.recipient,
                agency_id=note.agency_id,
                kind=f"feedback.{note.kind or 'notice'}"[:60],
                subject=note.subject,
                body=note.body,
                source_type="feedback.Feedback" if note.feedback_id else "",
                source_id=str(note.feedback_id) if note.feedback_id else "",
                state=STATES.get(note.state, "pending"),
                attempts=note.attempts,
                last_error=note.last_error,
                next_attempt_at=note.next_attempt_at,
                created_at=note.created_at,
            )
        )
        if len(batch) >= 2000:
            Message.objects.bulk_create(batch)
            batch = []
    Message.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0002_feedback_on_time_computed"),
        ("exchange", "0001_outbox"),
    ]

    operations = [
        # Nothing to give back when going backwards: the moved messages stay in the outbox.
        migrations.RunPython(copy_unsent, migrations.RunPython.noop),
        migrations.DeleteModel(name="Notification"),
    ]

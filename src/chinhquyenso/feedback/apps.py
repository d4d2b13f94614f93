from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "chinhquyenso.feedback"
    label = "feedback"
    verbose_name = "Phản ánh, kiến nghị"

    def ready(self):
        from chinhquyenso.core import events, registry
        from chinhquyenso.core.registry import JOBS, Job, MeasureSource, TileSection
        from chinhquyenso.feedback import selectors, services

        events.subscribe("AgencyReorganized", services.move_open_feedback)
        JOBS.register("feedback_escalations", Job("chinhquyenso.feedback.tasks.escalate", 15 * 60))
        registry.IOC_MESSAGE_KINDS.register("feedback", "feedback.")
        registry.INDICATOR_MEASURES.register(
            "feedback", MeasureSource(labels=selectors.MEASURES, compute=selectors.indicator_measures)
        )
        registry.DASHBOARD_TILES.register(
            "feedback",
            TileSection(
                title="Phản ánh, kiến nghị",
                tiles=(
                    ("feedback_resolution_rate", "Phản ánh đã xử lý xong"),
                    ("feedback_late_rate", "Phản ánh xử lý quá hạn"),
                ),
                counts="phản ánh",
            ),
        )

        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS, MESSAGE_KINDS
        from chinhquyenso.feedback import labels as code_labels

        AUDIT_ACTIONS.register("feedback", code_labels.AUDIT_ACTIONS)
        MESSAGE_KINDS.register("feedback", code_labels.MESSAGE_KINDS)

        # A signed-in reporter sees the messages about their report in their account's notices.
        from chinhquyenso.feedback import notifications

        notifications.register()

from django.apps import AppConfig


class LrisConfig(AppConfig):
    name = "chinhquyenso.lris"
    label = "lris"
    verbose_name = "Báo cáo số liệu (LRIS)"

    def ready(self):
        from chinhquyenso.core.registry import JOBS, Job

        JOBS.register("lris_reminders", Job("chinhquyenso.lris.tasks.send_reminders", 60 * 60))

        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS, MESSAGE_KINDS
        from chinhquyenso.lris import labels as code_labels

        AUDIT_ACTIONS.register("lris", code_labels.AUDIT_ACTIONS)
        MESSAGE_KINDS.register("lris", code_labels.MESSAGE_KINDS)

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "chinhquyenso.reports"
    label = "reports"
    verbose_name = "Báo cáo"

    def ready(self):
        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.reports import labels as code_labels

        AUDIT_ACTIONS.register("reports", code_labels.AUDIT_ACTIONS)

from django.apps import AppConfig


class OpendataConfig(AppConfig):
    name = "chinhquyenso.opendata"
    label = "opendata"
    verbose_name = "Cổng dữ liệu mở"

    def ready(self):
        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.opendata import labels as code_labels

        AUDIT_ACTIONS.register("opendata", code_labels.AUDIT_ACTIONS)

        # Registrations (jobs, indicator measures) go below this line.

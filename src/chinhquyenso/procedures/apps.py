from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    name = "chinhquyenso.procedures"
    label = "procedures"
    verbose_name = "Thủ tục hành chính"

    def ready(self):
        from chinhquyenso.core import events
        from chinhquyenso.procedures import services

        events.subscribe("AgencyReorganized", services.follow_reorganization)

        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.procedures import labels as code_labels

        AUDIT_ACTIONS.register("procedures", code_labels.AUDIT_ACTIONS)

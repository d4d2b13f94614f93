from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "chinhquyenso.org"
    label = "org"
    verbose_name = "Cơ quan, đơn vị"

    def ready(self):
        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.org import labels as code_labels

        AUDIT_ACTIONS.register("org", code_labels.AUDIT_ACTIONS)

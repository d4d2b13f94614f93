from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "chinhquyenso.privacy"
    verbose_name = "Dữ liệu cá nhân"

    def ready(self):
        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.privacy import labels as code_labels

        AUDIT_ACTIONS.register("privacy", code_labels.AUDIT_ACTIONS)

from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "chinhquyenso.signing"
    label = "signing"
    verbose_name = "Chữ ký số"

    def ready(self):
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.signing import labels as code_labels

        AUDIT_ACTIONS.register("signing", code_labels.AUDIT_ACTIONS)

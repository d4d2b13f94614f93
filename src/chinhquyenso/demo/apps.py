from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "chinhquyenso.demo"
    label = "demo"
    verbose_name = "Tỉnh mẫu"

    def ready(self):
        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.demo import labels as code_labels

        AUDIT_ACTIONS.register("demo", code_labels.AUDIT_ACTIONS)

from django.apps import AppConfig


class CivilRecordsConfig(AppConfig):
    name = "chinhquyenso.civil_records"
    label = "civil_records"
    verbose_name = "Số hóa sổ hộ tịch"

    def ready(self):
        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.civil_records import labels as code_labels
        from chinhquyenso.core.registry import AUDIT_ACTIONS

        AUDIT_ACTIONS.register("civil_records", code_labels.AUDIT_ACTIONS)

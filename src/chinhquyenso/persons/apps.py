from django.apps import AppConfig


class PersonsConfig(AppConfig):
    name = "chinhquyenso.persons"
    label = "persons"
    verbose_name = "Chỉ mục định danh cá nhân (gộp bản ghi trùng)"

    def ready(self):
        # The names of the audit actions this app writes (record views, imports, runs, decisions).
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.persons import labels as code_labels

        AUDIT_ACTIONS.register("persons", code_labels.AUDIT_ACTIONS)

from django.apps import AppConfig


class CivilRecordsConfig(AppConfig):
    name = "chinhquyenso.civil_records"
    label = "civil_records"
    verbose_name = "Số hóa sổ hộ tịch"

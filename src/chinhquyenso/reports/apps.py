from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "chinhquyenso.reports"
    label = "reports"
    verbose_name = "Báo cáo"

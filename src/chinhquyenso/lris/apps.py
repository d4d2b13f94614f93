from django.apps import AppConfig


class LrisConfig(AppConfig):
    name = "chinhquyenso.lris"
    label = "lris"
    verbose_name = "Báo cáo số liệu (LRIS)"

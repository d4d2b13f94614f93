from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "chinhquyenso.core"
    label = "core"
    verbose_name = "Lõi dùng chung"

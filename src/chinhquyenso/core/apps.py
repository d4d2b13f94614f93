from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "chinhquyenso.core"
    label = "core"
    verbose_name = "Lõi dùng chung"

    def ready(self):
        from chinhquyenso.core import checks  # noqa: F401  (registers the system checks)

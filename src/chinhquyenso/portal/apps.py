from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "chinhquyenso.portal"
    verbose_name = "Cổng dịch vụ công"

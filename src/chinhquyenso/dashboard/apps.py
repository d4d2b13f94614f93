from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "chinhquyenso.dashboard"
    label = "dashboard"
    verbose_name = "Điều hành (IOC)"

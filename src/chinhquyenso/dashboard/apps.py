from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "chinhquyenso.dashboard"
    label = "dashboard"
    verbose_name = "Điều hành (IOC)"

    def ready(self):
        from django.core.signals import request_finished, request_started

        from . import cache

        # Request signals, not model signals: figure refreshes start once the response is sent.
        request_started.connect(cache.request_started, dispatch_uid="dashboard-refresh-start")
        request_finished.connect(cache.request_finished, dispatch_uid="dashboard-refresh-finish")

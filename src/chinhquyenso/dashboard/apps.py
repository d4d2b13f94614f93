from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "chinhquyenso.dashboard"
    label = "dashboard"
    verbose_name = "Điều hành (IOC)"

    def ready(self):
        from django.core.signals import request_finished, request_started

        from . import selectors

        # Request signals, not model signals: figure refreshes start once the response is sent.
        request_started.connect(selectors._request_started, dispatch_uid="dashboard-refresh-start")
        request_finished.connect(selectors._request_finished, dispatch_uid="dashboard-refresh-finish")

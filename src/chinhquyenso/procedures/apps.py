from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    name = "chinhquyenso.procedures"
    label = "procedures"
    verbose_name = "Thủ tục hành chính"

    def ready(self):
        from chinhquyenso.core import events
        from chinhquyenso.procedures import services

        events.subscribe("AgencyReorganized", services.follow_reorganization)

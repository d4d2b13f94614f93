from django.apps import AppConfig


class DossiersConfig(AppConfig):
    name = "chinhquyenso.dossiers"
    label = "dossiers"
    verbose_name = "Hồ sơ TTHC"

    def ready(self):
        from chinhquyenso.core import events
        from chinhquyenso.core.registry import JOBS, Job
        from chinhquyenso.dossiers import services

        JOBS.register("sweep_deadlines", Job("chinhquyenso.dossiers.tasks.sweep_deadlines", 15 * 60))
        events.subscribe("AgencyReorganized", services.move_open_dossiers)
        events.subscribe("ProcedureTransferred", services.move_open_dossiers)

from django.apps import AppConfig


class LrisConfig(AppConfig):
    name = "chinhquyenso.lris"
    label = "lris"
    verbose_name = "Báo cáo số liệu (LRIS)"

    def ready(self):
        from chinhquyenso.core.registry import JOBS, Job

        JOBS.register("lris_reminders", Job("chinhquyenso.lris.tasks.send_reminders", 60 * 60))

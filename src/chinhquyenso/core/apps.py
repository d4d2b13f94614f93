from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "chinhquyenso.core"
    label = "core"
    verbose_name = "Lõi dùng chung"

    def ready(self):
        from chinhquyenso.core import checks  # noqa: F401  (registers the system checks)
        from chinhquyenso.core.registry import JOBS, Job

        if settings.AUDIT_CHECKPOINT_MINUTES > 0:
            JOBS.register(
                "audit_checkpoint",
                Job("chinhquyenso.core.tasks.audit_checkpoint", settings.AUDIT_CHECKPOINT_MINUTES * 60),
            )

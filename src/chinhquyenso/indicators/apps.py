from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "chinhquyenso.indicators"
    label = "indicators"
    verbose_name = "Chỉ tiêu, chỉ số và đánh giá"

    def ready(self):
        from chinhquyenso.core import events
        from chinhquyenso.core.registry import JOBS, Job
        from chinhquyenso.indicators.services import mark_dossier_changed, rebuild_facts_after_load

        # Keep the pre-aggregated dossier facts in step with every dossier change,
        # in the changing transaction.
        for name in ("DossierStatusChanged", "DossierUpdated", "DossierImported"):
            events.subscribe(name, mark_dossier_changed)
        events.subscribe("DossiersLoaded", rebuild_facts_after_load)
        JOBS.register("refresh_dossier_facts", Job("chinhquyenso.indicators.tasks.refresh_dossier_facts", 60))

        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.indicators import labels as code_labels

        AUDIT_ACTIONS.register("indicators", code_labels.AUDIT_ACTIONS)

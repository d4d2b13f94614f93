from django.apps import AppConfig


class PestsConfig(AppConfig):
    name = "chinhquyenso.pests"
    label = "pests"
    verbose_name = "Giám sát sinh vật gây hại cây trồng"

    def ready(self):
        from chinhquyenso.core.registry import (
            ADMIN_GRANTS,
            ANSWER_SOURCES,
            AUDIT_ACTIONS,
            DASHBOARD_TILES,
            INDICATOR_MEASURES,
            JOBS,
            MESSAGE_KINDS,
            Job,
            MeasureSource,
        )
        from chinhquyenso.pests import answers, indicators
        from chinhquyenso.pests import labels as code_labels

        # The names of the audit actions and message kinds this app writes.
        AUDIT_ACTIONS.register("pests", code_labels.AUDIT_ACTIONS)
        MESSAGE_KINDS.register("pests", code_labels.MESSAGE_KINDS)
        # Traps gone silent are flagged, thresholds checked against the latest counts and surveys.
        JOBS.register("pests_silent_traps", Job("chinhquyenso.pests.tasks.flag_silent_traps", 15 * 60))
        JOBS.register("pests_alerts", Job("chinhquyenso.pests.tasks.evaluate_alerts", 15 * 60))
        # Traps online, surveys on time, alerts issued, identification accuracy from confirmations.
        INDICATOR_MEASURES.register(
            "pests", MeasureSource(labels=indicators.MEASURES, compute=indicators.indicator_measures)
        )
        DASHBOARD_TILES.register("pests", indicators.TILES)
        # The plant-protection department edits the catalog, thresholds and stations in the administration.
        ADMIN_GRANTS.register("pests", "pests.manage_pest_catalog")
        # Farmers' questions about a pest or disease of the catalog, answered by the assistant.
        ANSWER_SOURCES.register("pests", answers.answer)

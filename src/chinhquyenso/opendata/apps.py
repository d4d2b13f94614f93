from django.apps import AppConfig


class OpendataConfig(AppConfig):
    name = "chinhquyenso.opendata"
    label = "opendata"
    verbose_name = "Cổng dữ liệu mở"

    def ready(self):
        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.opendata import labels as code_labels

        AUDIT_ACTIONS.register("opendata", code_labels.AUDIT_ACTIONS)

        # Live datasets regenerated daily from the platform's data (opendata.live); the share of agencies
        # publishing open data, measured at a period's end (opendata.indicators).
        from chinhquyenso.core.registry import (
            DASHBOARD_TILES,
            INDICATOR_MEASURES,
            JOBS,
            Job,
            MeasureSource,
            TileSection,
        )
        from chinhquyenso.opendata import indicators as opendata_indicators

        JOBS.register("refresh_open_data", Job("chinhquyenso.opendata.jobs.refresh_open_data", 24 * 60 * 60))
        INDICATOR_MEASURES.register(
            "opendata",
            MeasureSource(labels=opendata_indicators.MEASURES, compute=opendata_indicators.indicator_measures),
        )
        # The operations dashboard shows the publishing share beside the other indicators.
        DASHBOARD_TILES.register(
            "opendata",
            TileSection(
                title="Dữ liệu mở",
                tiles=(("opendata_publishing_share", "Cơ quan cung cấp dữ liệu mở"),),
                counts="cơ quan",
            ),
        )

from django.apps import AppConfig


class PersonsConfig(AppConfig):
    name = "chinhquyenso.persons"
    label = "persons"
    verbose_name = "Chỉ mục định danh cá nhân (gộp bản ghi trùng)"

    def ready(self):
        # The names of the audit actions this app writes (record views, imports, runs, decisions).
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.persons import labels as code_labels

        AUDIT_ACTIONS.register("persons", code_labels.AUDIT_ACTIONS)

        # "Possible same person" links beside the civil-status records and dossier applicants
        # (persons.links), the indicator "records per person" (persons.indicators) and its tile.
        from chinhquyenso.core.registry import (
            DASHBOARD_TILES,
            INDICATOR_MEASURES,
            PERSON_LINKS,
            MeasureSource,
            TileSection,
        )
        from chinhquyenso.persons import indicators as persons_indicators
        from chinhquyenso.persons import links

        PERSON_LINKS.register("persons", links.person_links)
        INDICATOR_MEASURES.register(
            "persons",
            MeasureSource(labels=persons_indicators.MEASURES, compute=persons_indicators.indicator_measures),
        )
        DASHBOARD_TILES.register(
            "persons",
            TileSection(
                title="Chỉ mục định danh cá nhân",
                tiles=(("persons_records_per_person", "Hồ sơ sức khỏe bình quân mỗi người"),),
                counts="người",
            ),
        )

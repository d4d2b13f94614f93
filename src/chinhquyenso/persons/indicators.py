"""Measures of the master person index for indicator formulas (core.registry.INDICATOR_MEASURES,
registered in PersonsConfig.ready()): the health records held at a period's end and the distinct
persons among them (indicators/data/registry.json: persons_records_per_person = persons_health_records
/ persons_health_persons, records per person — 1 when no one is registered twice; lower is better).
Health records belong to facilities, not to the platform's agencies: the figure is the province's only."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from chinhquyenso.persons import selectors

MEASURES = {
    "persons_health_records": "hồ sơ sức khỏe điện tử đã nhập vào chỉ mục định danh cá nhân (cuối kỳ)",
    "persons_health_persons": "số người khác nhau của các hồ sơ sức khỏe đó, sau khi gộp bản ghi trùng",
}


def indicator_measures(start: dt.date, end: dt.date) -> dict[int | None, dict[str, int]]:
    """{None: {measure: count}} at the period's end (today, for a period not over); nothing when no
    health record is held (the indicator then reads "—", not 0)."""
    day = min(end, timezone.localdate())
    counts = selectors.health_counts_until(day)
    if not counts.records:
        return {}
    return {None: {"persons_health_records": counts.records, "persons_health_persons": counts.persons}}

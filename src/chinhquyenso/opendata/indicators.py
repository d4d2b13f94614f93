"""Measures of the open-data portal for indicator formulas (core.registry.INDICATOR_MEASURES, registered
in OpendataConfig.ready()): the share of the province's agencies that publish open data
(indicators/data/registry.json: opendata_publishing_share = opendata_publishing_agencies /
opendata_counted_agencies). Each counted agency at the period's end counts 1 in the denominator and 1 in
the numerator when it has a dataset public at the end of the period (opendata.figures), so the province's
value sums to seed 001's 179/188 and a district's value covers itself and its communes."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from chinhquyenso.opendata.figures import publishing_figures

MEASURES = {
    "opendata_publishing_agencies": "cơ quan nhà nước có bộ dữ liệu mở đang công bố cuối kỳ",
    "opendata_counted_agencies": "cơ quan nhà nước cấp tỉnh, cấp huyện, cấp xã tính tỷ lệ cung cấp dữ liệu mở",
}


def indicator_measures(start: dt.date, end: dt.date) -> dict[int, dict[str, int]]:
    """{agency version id: {measure: 0 | 1}} at the period's end (today, for a period not over)."""
    day = min(end, timezone.localdate())
    figures = publishing_figures(day)
    return {
        row.agency.id: {
            "opendata_publishing_agencies": int(row.publishes),
            "opendata_counted_agencies": 1,
        }
        for row in figures.counted
    }

"""The indicator "records per person" (persons_records_per_person = persons_health_records /
persons_health_persons, registry.json) from the index's measures, and its tile on the operations
dashboard: what the seed's 2,477,495 health records really are, as a ratio to distinct persons."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from chinhquyenso.core.registry import DASHBOARD_TILES, INDICATOR_MEASURES
from chinhquyenso.indicators.periods import Period
from chinhquyenso.indicators.selectors import PROVINCE, compute
from chinhquyenso.persons import indicators
from chinhquyenso.persons.models import SourceRecord
from tests.persons.pages_support import index

pytestmark = pytest.mark.django_db

CODE = "persons_records_per_person"


def test_registrations():
    source = INDICATOR_MEASURES.get("persons")
    assert source.compute is indicators.indicator_measures and set(source.labels) == set(indicators.MEASURES)
    assert DASHBOARD_TILES.get("persons").tiles == ((CODE, "Hồ sơ sức khỏe bình quân mỗi người"),)


def test_six_health_records_of_four_persons_read_1_50(officers, registry):
    index()
    today = dt.date.today()
    value = compute(Period("range", today.replace(day=1), today), codes=[CODE]).get(CODE, PROVINCE)
    assert (value.numerator, value.denominator) == (6, 4)  # the civil record is not a health record
    assert value.rounded == Decimal("1.50") and value.display == "1,50 hồ sơ"


def test_records_made_after_the_period_do_not_count_and_no_record_reads_nothing(officers, registry):
    index()
    SourceRecord.objects.update(created_at=dt.datetime(2025, 3, 1, 3, tzinfo=dt.UTC))
    assert indicators.indicator_measures(dt.date(2025, 1, 1), dt.date(2025, 2, 28)) == {}
    assert indicators.indicator_measures(dt.date(2025, 3, 1), dt.date(2025, 3, 31)) == {
        None: {"persons_health_records": 6, "persons_health_persons": 4}
    }

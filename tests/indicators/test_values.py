"""Indicator values against hand-computed expectations on a small province:
early, on-time and late dossiers (one late despite a supplement pause), an
open overdue dossier, three channels, a merger of two communes inside the
period, and an information-only procedure in a department."""

import datetime as dt
from decimal import Decimal

import pytest

from chinhquyenso.dossiers.models import Timeliness
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.indicators.selectors import PROVINCE, compute, find_unit
from tests.conftest import vn
from tests.datasets import finish

pytestmark = pytest.mark.django_db


def value(computation, code, unit=PROVINCE):
    v = computation.get(code, unit)
    return (v.numerator, v.denominator, v.rounded)


def test_preconditions_of_the_dataset(quarter):
    d = quarter["dossiers"]
    assert [d[i].timeliness for i in (1, 2, 4, 5, 6)] == [
        Timeliness.EARLY,
        Timeliness.LATE,
        Timeliness.ON_TIME,
        Timeliness.EARLY,
        Timeliness.LATE,
    ]
    assert d[2].due_at > d[2].original_due_at  # the pause moved the deadline, yet it finished late
    assert d[3].finished_at is None and d[3].due_at < vn(2025, 3, 31)


def test_province_values_for_the_quarter(quarter):
    c = compute(parse_period("2025-Q1"))
    assert value(c, "received") == (6, None, 6)
    assert value(c, "received_online") == (3, None, 3)
    assert value(c, "received_post") == (1, None, 1)
    # MIC definition counts the information-only procedure in the denominator; the 766 one does not.
    assert value(c, "online_rate_all") == (3, 6, Decimal("50.0"))
    assert value(c, "online_rate_online_services") == (3, 5, Decimal("60.0"))
    assert value(c, "finished") == (5, None, 5)
    assert value(c, "on_time_rate") == (3, 5, Decimal("60.0"))
    assert value(c, "early_rate") == (2, 5, Decimal("40.0"))
    assert value(c, "late_rate") == (2, 5, Decimal("40.0"))
    assert value(c, "open_total") == (1, None, 1)
    assert value(c, "open_overdue_rate") == (1, 1, Decimal("100.0"))
    assert value(c, "online_payment_rate") == (1, 5, Decimal("20.0"))  # five dossiers owe the birth fee
    assert value(c, "digitization_rate") == (0, 6, Decimal("0.0"))  # every component was on paper
    # one full-online service (birth) used online, of one offered online in the province
    assert value(c, "services_with_online_dossier_rate") == (1, 1, Decimal("100.0"))
    expected_days = (
        sum(
            (
                (x.finished_at - x.accepted_at).total_seconds() / 86400
                for x in quarter["dossiers"].values()
                if x.finished_at
            ),
            0.0,
        )
        / 5
    )
    assert float(c.get("avg_processing_days").value) == pytest.approx(expected_days)
    assert c.get("online_rate_all").formula_version == 1


def test_merger_inside_the_period_counts_for_the_successor_and_rolls_up(quarter, province):
    c = compute(parse_period("2025-Q1"))
    merged = find_unit(c, quarter["merged"].code)
    assert find_unit(c, "xa-kien-an") is merged  # the predecessors' data count for the merged commune
    assert value(c, "received", merged.id) == (5, None, 5)
    district = find_unit(c, "ubnd-cho-moi")
    assert value(c, "received", district.id) == (5, None, 5)
    assert c.own[district.id]["received"].numerator == 0  # the district itself received nothing
    assert value(c, "late_rate", find_unit(c, "so-tu-phap").id) == (1, 1, Decimal("100.0"))
    assert sum(c.values[r.id]["received"].numerator for r in c.roots()) == 6


def test_a_past_month_gives_the_same_numbers_after_the_merger(quarter):
    january = compute(parse_period("2025-M01"))
    # at the end of January the communes were separate
    a, b = find_unit(january, "xa-kien-an"), find_unit(january, "xa-kien-thanh")
    assert a is not b
    assert value(january, "received", a.id) == (2, None, 2)
    assert value(january, "received", b.id) == (1, None, 1)
    assert value(january, "on_time_rate") == (2, 3, Decimal("66.7"))


def test_facts_follow_dossier_changes(quarter, officers):
    period = parse_period("2025-Q1")
    before = compute(period)
    assert value(before, "finished") == (5, None, 5)
    d3 = quarter["dossiers"][3]
    finish(d3, officers["xa_a"], at=vn(2025, 3, 20, 9))  # late, inside the quarter
    after = compute(period)
    assert value(after, "finished") == (6, None, 6)
    assert value(after, "late_rate") == (3, 6, Decimal("50.0"))


def test_a_new_formula_version_applies_from_its_date_only(quarter, admin_user):
    from chinhquyenso.indicators.models import Indicator
    from chinhquyenso.indicators.services import add_formula_version

    indicator = Indicator.objects.get(code="online_rate_all")
    add_formula_version(
        indicator,
        actor=admin_user,
        numerator="received_online + received_post",
        denominator="received",
        valid_from=dt.date(2025, 3, 1),
        note="tính cả bưu chính",
    )
    assert value(compute(parse_period("2025-M02")), "online_rate_all")[0] == 1
    march = compute(parse_period("2025-M03"))
    assert march.get("online_rate_all").formula_version == 2
    quarter_values = compute(parse_period("2025-Q1"))
    assert value(quarter_values, "online_rate_all") == (4, 6, Decimal("66.7"))


def test_breakdown_by_month_and_procedure(quarter, province):
    from chinhquyenso.indicators.selectors import breakdown

    months = breakdown(parse_period("2025-Q1"), by="month", codes=["received", "on_time_rate"])
    assert {k: v["received"].numerator for k, v in months.items()} == {(2025, 1): 3, (2025, 2): 1, (2025, 3): 2}
    by_procedure = breakdown(
        parse_period("2025-Q1"), by="procedure", agencies={province["tu_phap"].pk}, codes=["received", "late_rate"]
    )
    [(procedure_id, values)] = by_procedure.items()
    assert procedure_id == quarter["info"].pk and values["late_rate"].rounded == 100


def test_a_date_range_cutting_months_sums_days_and_whole_months(quarter):
    # 13/01–03/03/2025: the whole of February from monthly facts, the edges from daily ones
    c = compute(parse_period("2025-01-13..2025-03-03"))
    assert value(c, "received") == (3, None, 3)  # D4 (13/01), D3 (10/02), D5 (03/03)
    assert value(c, "finished") == (2, None, 2)  # D4 (16/01), D2 (22/01); D5 finished 04/03, outside


def test_a_months_label_is_written_as_in_running_text():
    assert parse_period("2026-M09").label == "tháng 9 năm 2026"  # never "tháng 09"
    assert parse_period("2026-M12").label == "tháng 12 năm 2026"

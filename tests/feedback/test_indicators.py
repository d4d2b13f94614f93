"""Feedback indicators, hand-computed on a small Q1/2025 dataset:

Kiến An   R1 received 06/1, resolved 10/1 (on time, 4 working days), rated 5
          R2 received 06/1, due 03/2 (Tết between), resolved 20/2 (late, 28 days), rated 2
          R3 received 17/3, open at 31/3 (due 07/4)
          R4 received 20/2, a duplicate merged into R1 (not counted)
          R8 received 30/12/2024, resolved 03/1/2025 (on time, 3 days: 1/1 is a holiday)
Kiến Thành R5 received 03/3, resolved 05/3 (on time, 2 days), rated 4
          R6 received 04/3, rejected 05/3
IOC queue R7 received 05/3, never assigned (due 26/3: overdue at 31/3)
"""

from decimal import Decimal as D

import pytest

from chinhquyenso.feedback import selectors, services
from chinhquyenso.indicators.assessments import index766
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.indicators.selectors import PROVINCE, compute, find_unit
from tests.conftest import vn

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(registry, report, officers, citizen, ioc_operator):
    a, b = officers["xa_a"], officers["xa_b"]
    r = {}
    r[8] = report(description="R8", at=vn(2024, 12, 30, 9))
    services.resolve(r[8], actor=a["specialist"], public_reply="Xong.", at=vn(2025, 1, 3, 9))
    r[1] = report(description="R1", at=vn(2025, 1, 6, 9))
    services.resolve(r[1], actor=a["specialist"], public_reply="Xong.", at=vn(2025, 1, 10, 9))
    services.rate(r[1], rating=5, actor=citizen, at=vn(2025, 1, 11, 9))
    r[2] = report(description="R2", category_code="giao-thong", at=vn(2025, 1, 6, 9))
    assert r[2].due_at == vn(2025, 2, 3, 17)
    services.resolve(r[2], actor=a["specialist"], public_reply="Xong.", at=vn(2025, 2, 20, 9))
    services.rate(r[2], rating=2, actor=citizen, at=vn(2025, 2, 21, 9))
    r[4] = report(description="R4", at=vn(2025, 2, 20, 9))
    services.merge(r[4], into=r[1], actor=ioc_operator, at=vn(2025, 2, 20, 10))
    r[5] = report(description="R5", area_code="xa-kien-thanh", at=vn(2025, 3, 3, 9))
    services.resolve(r[5], actor=b["specialist"], public_reply="Xong.", at=vn(2025, 3, 5, 9))
    services.rate(r[5], rating=4, token=r[5].token, at=vn(2025, 3, 6, 9))
    r[6] = report(description="R6", area_code="xa-kien-thanh", at=vn(2025, 3, 4, 9))
    services.reject(r[6], actor=b["leader"], reason="Không thuộc phạm vi.", at=vn(2025, 3, 5, 9))
    r[7] = services.submit(
        services.Submission(category_code="moi-truong", description="R7", address="không rõ"),
        reporter=citizen,
        at=vn(2025, 3, 5, 9),
    )
    r[3] = report(description="R3", at=vn(2025, 3, 17, 9))
    assert [r[k].handling_working_days for k in (1, 2, 5, 8)] == [4, 28, 2, 3]
    return r


def values(computation, unit_id, *codes):
    source = computation.values[unit_id]
    return {code: source[code].value for code in codes}


def test_measures_per_agency(dataset, province):
    m = selectors.indicator_measures(parse_period("2025-Q1").start, parse_period("2025-Q1").end)
    assert m[province["xa_a"].pk] == {
        "feedback_received": 3,
        "feedback_resolved": 3,
        "feedback_resolved_on_time": 2,
        "feedback_resolved_late": 1,
        "feedback_handling_days": 35,
        "feedback_rated": 2,
        "feedback_rating_sum": 7,
        "feedback_satisfied": 1,
        "feedback_open": 1,
        "feedback_open_overdue": 0,
    }
    assert m[province["xa_b"].pk] == {
        "feedback_received": 2,
        "feedback_resolved": 1,
        "feedback_resolved_on_time": 1,
        "feedback_resolved_late": 0,
        "feedback_handling_days": 2,
        "feedback_rejected": 1,
        "feedback_rated": 1,
        "feedback_rating_sum": 4,
        "feedback_satisfied": 1,
    }  # nothing open at the end
    assert m[None] == {"feedback_received": 1, "feedback_open": 1, "feedback_open_overdue": 1}


def test_indicator_values_for_the_province_and_an_agency(dataset, province):
    c = compute(parse_period("2025-Q1"))
    assert values(c, PROVINCE, "feedback_received", "feedback_resolved", "feedback_open", "feedback_open_overdue") == {
        "feedback_received": 6,
        "feedback_resolved": 4,
        "feedback_open": 2,
        "feedback_open_overdue": 1,
    }
    p = c.values[PROVINCE]
    assert (p["feedback_resolution_rate"].numerator, p["feedback_resolution_rate"].denominator) == (4, 6)
    assert p["feedback_resolution_rate"].display == "66,7%"
    assert p["feedback_on_time_rate"].display == "75,0%" and p["feedback_late_rate"].display == "25,0%"
    assert p["feedback_avg_handling_days"].value == D("9.25") and p["feedback_avg_handling_days"].display == "9,3 ngày"
    assert p["feedback_avg_rating"].display == "3,67 điểm"
    assert p["feedback_satisfaction_rate"].display == "66,7%"
    kien_an = find_unit(c, "xa-kien-an").id
    assert c.own[kien_an]["feedback_on_time_rate"].display == "66,7%"
    assert c.own[kien_an]["feedback_avg_handling_days"].rounded == D("11.7")  # 35 / 3
    # the district counts its communes
    district = find_unit(c, "ubnd-cho-moi").id
    assert c.values[district]["feedback_received"].value == 5 and c.own[district]["feedback_received"].value == 0


def test_a_month_without_feedback_has_no_rate(dataset):
    c = compute(parse_period("2025-M04"))
    assert c.values[PROVINCE]["feedback_on_time_rate"].value is None
    assert c.values[PROVINCE]["feedback_on_time_rate"].display == "—"
    # open at the end of April: R3 (due 07/4) and R7, both overdue by then
    assert c.values[PROVINCE]["feedback_open_overdue"].value == 2


def test_the_766_feedback_rule_is_scored_from_the_feedback_module(dataset):
    result = index766(compute(parse_period("2025-Q1")), PROVINCE)
    rule = {r.rule.code: r for g in result.groups for r in g.rules}["766-5-1"]
    assert rule.value.display == "75,0%" and rule.points == 6  # 8 points × 75% of the 100% threshold


def test_category_breakdown(dataset):
    q1 = parse_period("2025-Q1")
    rows = {row["category"].code: row for row in selectors.category_breakdown(q1.start, q1.end)}
    assert (rows["moi-truong"]["received"], rows["moi-truong"]["resolved"], rows["moi-truong"]["late"]) == (5, 3, 0)
    assert (rows["giao-thong"]["received"], rows["giao-thong"]["resolved"], rows["giao-thong"]["late"]) == (1, 1, 1)
    assert rows["giao-thong"]["avg_days"] == 28


def test_a_reopened_report_counts_when_it_is_finally_resolved(report, officers, citizen, registry):
    fb = report(at=vn(2025, 3, 3, 9))
    services.resolve(fb, actor=officers["xa_a"]["specialist"], public_reply="Xong.", at=vn(2025, 3, 28, 9))
    assert compute(parse_period("2025-M03")).values[PROVINCE]["feedback_resolved"].value == 1
    services.reopen(fb, reason="Chưa xong.", actor=citizen, at=vn(2025, 3, 31, 9))
    services.resolve(fb, actor=officers["xa_a"]["specialist"], public_reply="Xong hẳn.", at=vn(2025, 4, 2, 9))
    march, april = compute(parse_period("2025-M03")), compute(parse_period("2025-M04"))
    assert march.values[PROVINCE]["feedback_resolved"].value == 0 and march.values[PROVINCE]["feedback_open"].value == 1
    assert april.values[PROVINCE]["feedback_resolved"].value == 1


def test_the_demo_reports_reproduce_seed_001(registry, categories, province, officers, citizen, admin_user):
    """Seed 001: 01/01–30/9/2024, 399 received, 383 resolved (95,98%), 16 open, more than 20% late."""
    from chinhquyenso.demo.feedback import build_feedback
    from chinhquyenso.feedback.models import AreaPoint, Feedback

    stats = build_feedback(actor=admin_user, seed=7, until=vn(2024, 12, 31).date())
    assert AreaPoint.objects.count() == 2 and stats.reports > 399
    c = compute(parse_period("2024-9M"))
    p = c.values[PROVINCE]
    assert p["feedback_received"].value == 399 and p["feedback_resolved"].value == 383
    assert p["feedback_open"].value == 16
    assert p["feedback_resolution_rate"].display == "96,0%"
    assert p["feedback_late_rate"].display == "21,1%"
    assert Feedback.objects.filter(reporter=citizen).exists()
    # deterministic for a seed
    codes = list(Feedback.objects.order_by("code").values_list("code", "status", "received_at", "resolved_at"))
    assert codes[0][0] == "PA-2024-000001"

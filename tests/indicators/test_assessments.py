"""The 766 index rule by rule, e-government completion, DX targets."""

import datetime as dt
from decimal import Decimal

import pytest

from chinhquyenso.indicators.assessments import egov_completion, index766, score_rule, target_results
from chinhquyenso.indicators.models import EGovCriterion, Index766Group, Index766Rule, Indicator, Target
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.indicators.selectors import PROVINCE, IndicatorValue, compute
from chinhquyenso.indicators.services import record_reported_value

pytestmark = pytest.mark.django_db
D = Decimal


def rule(**kw):
    defaults = {"max_points": D(10), "method": "proportional", "threshold": D(80), "steps": []}
    return Index766Rule(**{**defaults, **kw})


@pytest.mark.parametrize(
    "value, points",
    [
        (None, None),
        (D(0), D(0)),
        (D(40), D(5)),
        (D("79.9"), D("9.99")),
        (D(80), D(10)),
        (D(100), D(10)),
    ],
)
def test_proportional_rule_reaches_full_points_at_the_threshold(value, points):
    assert score_rule(rule(), value) == points


@pytest.mark.parametrize("value, points", [(D("99.9"), D(0)), (D(100), D(10))])
def test_threshold_rule_is_all_or_nothing(value, points):
    assert score_rule(rule(method="threshold", threshold=D(100)), value) == points


@pytest.mark.parametrize(
    "value, points", [(D(100), D(12)), (D("98.5"), D(10)), (D(95), D(8)), (D("94.9"), D(5)), (D(10), D(0))]
)
def test_step_rule_takes_the_highest_step_reached(value, points):
    steps = [[100, 12], [98, 10], [95, 8], [90, 5], [0, 0]]
    assert score_rule(rule(method="steps", max_points=D(12), steps=steps, threshold=None), value) == points


def test_registry_has_five_groups_worth_100_points(registry):
    groups = list(Index766Group.objects.order_by("order"))
    assert [(g.name, g.max_points) for g in groups] == [
        ("Công khai, minh bạch", 18),
        ("Tiến độ giải quyết", 20),
        ("Số hóa hồ sơ", 22),
        ("Cung cấp dịch vụ công trực tuyến", 22),
        ("Mức độ hài lòng", 18),
    ]
    for group in groups:  # each group's rules add up to the group's points
        assert sum(r.max_points for r in group.rules.all()) == group.max_points
    assert all(r.source for r in Index766Rule.objects.all())


@pytest.fixture
def dataset(quarter):
    return quarter


def test_766_for_the_province(dataset, province, admin_user):
    c = compute(parse_period("2025-Q1"))
    result = index766(c, PROVINCE)
    scores = {r.rule.code: r for g in result.groups for r in g.rules}
    # on time 3/5 = 60% is below the lowest step with points
    assert scores["766-2-1"].points == 0
    # open in time 0/1 → 0 points
    assert scores["766-2-2"].points == 0
    # online 60% ≥ 50% threshold → full 6 points (criterion 3.3)
    assert scores["766-4-2"].points == 6
    # online payment 20% of the 50% threshold → 8 × 20/50 (criterion 3.6, with the unidentified 2 points)
    assert scores["766-4-3"].points == D("3.20")
    # services with online dossiers 1/1 → full 4 (criterion 3.2)
    assert scores["766-4-1"].points == 4
    # procedures offered online 1/2 (birth; the information-only one is not) → 2 × 50/80 (criterion 3.1)
    assert scores["766-4-4"].points == D("1.25")
    # fee-bearing procedures offered online 1/1 (birth) → full 2 (criterion 3.5)
    assert scores["766-4-5"].points == 2
    # nothing reported yet for publication, sync, feedback, satisfaction: not scored, listed as missing
    assert {r.rule.code for r in result.missing} == {"766-1-1", "766-1-2", "766-5-1", "766-5-2"}
    assert result.points == sum(r.points for r in scores.values() if r.points is not None)
    assert result.max_points == 100 and result.scored_max == 100 - 18 - 18
    # a reported satisfaction value enters the index
    indicator = Indicator.objects.get(code="satisfaction_rate")
    record_reported_value(
        indicator=indicator,
        agency=province["ubnd"],
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 3, 31),
        numerator=45,
        denominator=50,
        actor=admin_user,
    )
    again = index766(compute(parse_period("2025-Q1")), PROVINCE)
    assert {r.rule.code: r for g in again.groups for r in g.rules}["766-5-2"].points == 10  # 90% ≥ 90%


def test_egov_completion_lists_missing_criteria_and_the_share(registry, province, admin_user):
    period = parse_period("2025-M03")
    cert = Indicator.objects.get(code="has_signature_certificate")
    docs = Indicator.objects.get(code="doc_exchange_electronic_rate")
    EGovCriterion.objects.filter(code="dvctt-ho-so-dien-tu").update(is_active=False)  # no dossiers in this test
    for key, has_cert, sent, electronic in (("tu_phap", 1, 200, 190), ("cong_an", 0, 100, 95), ("huyen", 1, 300, 240)):
        record_reported_value(
            indicator=cert,
            agency=province[key],
            period_start=period.start,
            period_end=period.end,
            value=has_cert,
            actor=admin_user,
        )
        record_reported_value(
            indicator=docs,
            agency=province[key],
            period_start=period.start,
            period_end=period.end,
            numerator=electronic,
            denominator=sent,
            actor=admin_user,
        )
    c = compute(period)
    result = egov_completion(c)
    by_name = {a.unit.name: a for a in result.agencies}
    assert by_name["Sở Tư pháp"].complete
    assert [(r.criterion.code, r.gap) for r in by_name["Công an tỉnh"].missed] == [("chu-ky-so", "chưa có")]
    assert [(r.criterion.code, r.gap) for r in by_name["UBND huyện Chợ Mới"].missed] == [
        ("van-ban-dien-tu", "thiếu 10,0%")
    ]
    # UBND tỉnh reported nothing: it misses both, for lack of data
    assert {r.gap for r in by_name["UBND tỉnh An Giang"].missed} == {"chưa có số liệu"}
    provincial = next(level for level in result.levels if level.label == "Cơ quan cấp tỉnh")
    assert (provincial.complete, len(provincial.agencies)) == (1, 3)
    assert result.rate.numerator == 1 and result.rate.denominator == 4
    assert c.get("egov_completion_rate").display == "25,0%"


def test_targets_appendix_status(dataset):
    c = compute(parse_period("2025"))
    rows = {r.target.indicator.code: r for r in target_results(c, 2025)}
    assert rows["online_rate_all"].status == "đạt"  # 50% against ≥ 50%
    assert rows["online_rate_all"].plan_display == "≥ 50%"
    assert rows["on_time_rate"].status == "chưa đạt"
    assert rows["late_rate"].status == "chưa đạt"  # 40% against ≤ 5%
    Target.objects.filter(indicator__code="online_payment_rate", year=2025).update(value=10)
    rows = {r.target.indicator.code: r for r in target_results(compute(parse_period("2025")), 2025)}
    assert rows["online_payment_rate"].status == "vượt"  # 20% against ≥ 10%


def test_value_display_is_vietnamese():
    value = IndicatorValue(
        code="x",
        name="x",
        unit="%",
        numerator=D(213163),
        denominator=D(513808),
        value=D(213163) * 100 / D(513808),
        decimals=1,
    )
    assert value.display == "41,5%"
    count = IndicatorValue(
        code="y", name="y", unit="hồ sơ", numerator=D(513808), denominator=None, value=D(513808), decimals=0
    )
    assert count.display == "513.808 hồ sơ"


def test_egov_criterion_uses_the_computed_figure_where_the_agency_has_data(registry, province, admin_user):
    """«Văn bản điện tử» is assessed on the documents the agency really sent through the platform
    (documents_electronic_exchange_rate) wherever it sent any in the month; an agency not yet on the
    documents system keeps its reported figure, not a false 0%."""
    from chinhquyenso.documents.models import Direction, Document, Recipient
    from tests.documents.incoming_support import document_type

    period = parse_period("2025-M03")
    criterion = EGovCriterion.objects.get(code="van-ban-dien-tu")
    assert criterion.computed_indicator.code == "documents_electronic_exchange_rate"
    reported = Indicator.objects.get(code="doc_exchange_electronic_rate")
    for key in ("tu_phap", "huyen"):  # both report 80%: below the 90% threshold
        record_reported_value(
            indicator=reported,
            agency=province[key],
            period_start=period.start,
            period_end=period.end,
            numerator=240,
            denominator=300,
            actor=admin_user,
        )
    for number, day in enumerate((3, 5), start=1):  # the district sends two documents, both electronically
        document = Document.objects.create(
            direction=Direction.OUTGOING,
            agency=province["huyen"],
            status=Document.Status.ISSUED,
            document_type=document_type(),
            number=number,
            excerpt="Văn bản",
            issued_on=dt.date(2025, 3, day),
            signed=True,
        )
        Recipient.objects.create(document=document, channel="internal", agency=province["xa_a"], name="xã")

    by_name = {a.unit.name: a for a in egov_completion(compute(period)).agencies}
    district = next(r for r in by_name["UBND huyện Chợ Mới"].results if r.criterion.code == "van-ban-dien-tu")
    assert (district.meets, district.computed, district.value.display) == (True, True, "100,0%")
    justice = next(r for r in by_name["Sở Tư pháp"].results if r.criterion.code == "van-ban-dien-tu")
    assert (justice.meets, justice.computed, justice.gap) == (False, False, "thiếu 10,0%")

"""Indicator values against hand-computed expectations on a small province:
early, on-time and late dossiers (one late despite a supplement pause), an
open overdue dossier, three channels, a merger of two communes inside the
period, and an information-only procedure in a department."""

import datetime as dt
from decimal import Decimal

import pytest

from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier, Timeliness
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.indicators.selectors import PROVINCE, compute, find_unit
from chinhquyenso.org import services as org
from chinhquyenso.org.models import AgencyKind
from tests.conftest import make_procedure, vn

pytestmark = pytest.mark.django_db
PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]


def finish(dossier, o, *, at):
    services.forward(dossier, actor=o["specialist"], at=at)
    services.forward(dossier, actor=o["leader"], at=at + dt.timedelta(minutes=30))


@pytest.fixture
def quarter(registry, province, officers, birth_procedure, citizen, admin_user):
    """Q1/2025. Working days: Tết holidays 25/1–2/2/2025."""
    info = make_procedure(admin_user, [province["tu_phap"]], code="2.000908", name="Cấp bản sao trích lục hộ tịch",
                          levels=["province"], service_level="info_only", processing_days=1, charge=0,
                          online_discount_percent=0, components=[{"name": "Tờ khai cấp bản sao trích lục"}], steps=[{"name": "Thụ lý", "role": "specialist", "days": 1}])
    a, b, tp = officers["xa_a"], officers["xa_b"], officers["tu_phap"]
    d = {}
    # D1 xã Kiến An, online, early; paid online.
    d[1] = services.submit(actor=citizen, procedure_code="1.001193", channel="online", agency_code="xa-kien-an",
                           components=PAPER, at=vn(2025, 1, 6, 8))
    services.accept(d[1], actor=a["counter_officer"], at=vn(2025, 1, 6, 9))
    services.record_payment(d[1], actor=citizen, amount=d[1].fee_due, method="online", transaction_ref="PAY-1",
                            at=vn(2025, 1, 6, 9, 30))
    finish(d[1], a, at=vn(2025, 1, 7, 9))
    # D2 xã Kiến An, counter: paused one day for a supplement, then late even so.
    d[2] = services.receive_at_counter(actor=a["counter_officer"], procedure_code="1.001193", agency_code="xa-kien-an",
                                       applicant={"identity_number": citizen.identity_number, "full_name": citizen.full_name},
                                       components=PAPER, decision="accept", at=vn(2025, 1, 8, 9))
    services.request_supplement(d[2], actor=a["specialist"], items=["Bản sao giấy chứng sinh rõ nét"], at=vn(2025, 1, 9, 9))
    services.supplement(d[2], actor=a["counter_officer"], at=vn(2025, 1, 10, 9))
    finish(d[2], a, at=vn(2025, 1, 22, 9))
    # D3 xã Kiến An, online, accepted and still open at the end of March: overdue.
    d[3] = services.submit(actor=citizen, procedure_code="1.001193", channel="online", agency_code="xa-kien-an",
                           components=PAPER, at=vn(2025, 2, 10, 8))
    services.accept(d[3], actor=a["counter_officer"], at=vn(2025, 2, 10, 9))
    # D4 xã Kiến Thành, by post, on time (finished on its due day).
    d[4] = services.submit(actor=b["counter_officer"], procedure_code="1.001193", channel="post", agency_code="xa-kien-thanh",
                           applicant={"identity_number": citizen.identity_number, "full_name": citizen.full_name},
                           components=PAPER, at=vn(2025, 1, 13, 8))
    services.accept(d[4], actor=b["counter_officer"], at=vn(2025, 1, 13, 9))
    finish(d[4], b, at=vn(2025, 1, 16, 9))
    # The two communes merge on 15/02/2025.
    merged = org.merge(actor=admin_user, sources=[province["xa_a"], province["xa_b"]], name="UBND xã Kiến An mới",
                       kind=AgencyKind.COMMUNE_COMMITTEE, parent=province["huyen"], effective_date=dt.date(2025, 2, 15))
    # D5 received by the merged commune, online, early.
    d[5] = services.submit(actor=citizen, procedure_code="1.001193", channel="online", agency_code=merged.code,
                           components=PAPER, at=vn(2025, 3, 3, 8))
    services.accept(d[5], actor=a["counter_officer"], at=vn(2025, 3, 3, 9))  # officers moved to the merged commune
    finish(d[5], a, at=vn(2025, 3, 4, 9))
    # D6 Sở Tư pháp, information-only procedure at the counter, late.
    d[6] = services.receive_at_counter(actor=tp["counter_officer"], procedure_code="2.000908", agency_code="so-tu-phap",
                                       applicant={"identity_number": citizen.identity_number, "full_name": citizen.full_name},
                                       components=[{"order": 1, "on_paper": True}], decision="accept", at=vn(2025, 3, 10, 9))
    services.forward(d[6], actor=tp["specialist"], at=vn(2025, 3, 14, 9))
    d = {k: Dossier.objects.get(pk=v.pk) for k, v in d.items()}
    return {"dossiers": d, "merged": merged, "info": info}


def value(computation, code, unit=PROVINCE):
    v = computation.get(code, unit)
    return (v.numerator, v.denominator, v.rounded)


def test_preconditions_of_the_dataset(quarter):
    d = quarter["dossiers"]
    assert [d[i].timeliness for i in (1, 2, 4, 5, 6)] == [Timeliness.EARLY, Timeliness.LATE, Timeliness.ON_TIME,
                                                          Timeliness.EARLY, Timeliness.LATE]
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
    expected_days = sum(((x.finished_at - x.accepted_at).total_seconds() / 86400
                         for x in quarter["dossiers"].values() if x.finished_at), 0.0) / 5
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
    add_formula_version(indicator, actor=admin_user, numerator="received_online + received_post",
                        denominator="received", valid_from=dt.date(2025, 3, 1), note="tính cả bưu chính")
    assert value(compute(parse_period("2025-M02")), "online_rate_all")[0] == 1
    march = compute(parse_period("2025-M03"))
    assert march.get("online_rate_all").formula_version == 2
    quarter_values = compute(parse_period("2025-Q1"))
    assert value(quarter_values, "online_rate_all") == (4, 6, Decimal("66.7"))


def test_breakdown_by_month_and_procedure(quarter, province):
    from chinhquyenso.indicators.selectors import breakdown

    months = breakdown(parse_period("2025-Q1"), by="month", codes=["received", "on_time_rate"])
    assert {k: v["received"].numerator for k, v in months.items()} == {(2025, 1): 3, (2025, 2): 1, (2025, 3): 2}
    by_procedure = breakdown(parse_period("2025-Q1"), by="procedure", agencies={province["tu_phap"].pk},
                             codes=["received", "late_rate"])
    [(procedure_id, values)] = by_procedure.items()
    assert procedure_id == quarter["info"].pk and values["late_rate"].rounded == 100


def test_a_date_range_cutting_months_sums_days_and_whole_months(quarter):
    # 13/01–03/03/2025: the whole of February from monthly facts, the edges from daily ones
    c = compute(parse_period("2025-01-13..2025-03-03"))
    assert value(c, "received") == (3, None, 3)  # D4 (13/01), D3 (10/02), D5 (03/03)
    assert value(c, "finished") == (2, None, 2)  # D4 (16/01), D2 (22/01); D5 finished 04/03, outside

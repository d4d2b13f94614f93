"""Issue 17, item 7: e-government completion has one value per period — the
assessment of the period's last month (assessments.assessed_period) — on
every surface: `cqs kpi`, /api/indicators/egov-completion,
/api/dashboard/egov-completion, the dashboard page and the reports."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from chinhquyenso.core.official.document import Paragraph
from chinhquyenso.indicators import assessments
from chinhquyenso.indicators.models import EGovCriterion, Indicator
from chinhquyenso.indicators.periods import month, parse_period
from chinhquyenso.indicators.selectors import compute
from chinhquyenso.indicators.services import record_reported_value
from chinhquyenso.reports import services as reports

pytestmark = pytest.mark.django_db


def _report(indicator, agency, period, actor, **values):
    record_reported_value(
        indicator=indicator, agency=agency, period_start=period.start, period_end=period.end, actor=actor, **values
    )


@pytest.fixture
def reported(registry, province, admin_user):
    """Sở Tư pháp meets both reported criteria in August 2025 and reports
    nothing for September; Công an tỉnh meets them in September. The
    dossier criterion is left out (no dossiers here)."""
    EGovCriterion.objects.filter(code="dvctt-ho-so-dien-tu").update(is_active=False)
    cert = Indicator.objects.get(code="has_signature_certificate")
    docs = Indicator.objects.get(code="doc_exchange_electronic_rate")
    for key, when in (("tu_phap", month(2025, 8)), ("cong_an", month(2025, 9))):
        _report(cert, province[key], when, admin_user, value=1)
        _report(docs, province[key], when, admin_user, numerator=95, denominator=100)


def _kpi(period: str) -> dict:
    out = StringIO()
    call_command("kpi", "--period", period, "--json", stdout=out)
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("code") == "egov_completion_rate":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(out.getvalue()))
    return found[0]


@pytest.mark.parametrize("period", ["2025-9M", "2025-Q3", "2025-M09", "2025-07-01..2025-09-30"])
def test_every_surface_gives_the_september_assessment(reported, admin_user, period):
    client = Client()
    client.force_login(admin_user)
    september = assessments.egov_completion(compute(month(2025, 9)))
    expected = (september.rate.numerator, september.rate.denominator)
    # Only Công an tỉnh meets everything in September; Sở Tư pháp's August report does not count for it.
    complete = {a.unit.name for a in september.agencies if a.complete}
    assert complete == {"Công an tỉnh"} and expected == (1, 4)

    assert assessments.assessed_period(parse_period(period)) == month(2025, 9)
    computation = compute(parse_period(period))
    result = assessments.egov_completion(computation)
    assert (result.rate.numerator, result.rate.denominator) == expected
    assert result.period == month(2025, 9)
    kpi_value = computation.get("egov_completion_rate")  # what `cqs kpi` and /api/indicators/values print
    assert (kpi_value.numerator, kpi_value.denominator) == expected
    assert (_kpi(period)["numerator"], _kpi(period)["denominator"]) == expected

    api = client.get("/api/indicators/egov-completion", {"period": period}).json()
    assert (api["rate"]["numerator"], api["rate"]["denominator"]) == expected
    assert api["assessed_period"]["code"] == "2025-M09"

    if period != "2025-07-01..2025-09-30":  # the dashboard offers named periods only
        dashboard = client.get("/api/dashboard/egov-completion", {"period": period}).json()
        assert dashboard["period"]["code"] == "2025-M09"
        assert sum(level["complete"] for level in dashboard["levels"]) == expected[0]
        assert sum(level["assessed"] for level in dashboard["levels"]) == expected[1]

    snapshot = reports.take_snapshot(parse_period(period))
    assert (snapshot["egov"]["rate"]["numerator"], snapshot["egov"]["rate"]["denominator"]) == expected
    assert snapshot["egov"]["period"]["label"] == "tháng 9 năm 2025"


def test_the_nine_month_report_names_whom_it_assesses(reported, admin_user, province):
    reports.load_templates(actor=admin_user)
    template = reports.get_template("cds-9-thang")
    document = reports.build_document(template, reports.take_snapshot(parse_period("2025-9M")))
    texts = [block.text for block in document.body if isinstance(block, Paragraph)]
    egov = next(text for text in texts if "hoàn thiện Chính quyền điện tử là" in text)
    assert "cơ quan nhà nước" not in egov
    assert (
        "- Tính đến tháng 9 năm 2025, tổng số cơ quan cấp tỉnh hoàn thiện Chính quyền điện tử là "
        "1/3 cơ quan, tỷ lệ 33,3%." in egov
    )
    assert "tổng số UBND cấp huyện hoàn thiện Chính quyền điện tử là 0/1 cơ quan" in egov

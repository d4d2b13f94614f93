"""The indicator "Tỷ lệ cơ quan nhà nước cung cấp dữ liệu mở" (opendata_publishing_share) from the
open-data measures: seed 001's 179/188 reads 95.2% (the seed printed 94,2%, a typo), and the agencies
behind numerator and denominator are listed by opendata.figures."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from chinhquyenso.core.registry import DASHBOARD_TILES, INDICATOR_MEASURES, JOBS
from chinhquyenso.core.text import fold
from chinhquyenso.indicators.periods import Period
from chinhquyenso.indicators.selectors import PROVINCE, compute, find_unit
from chinhquyenso.opendata.figures import publishing_figures
from chinhquyenso.opendata.models import Dataset, DatasetStatus, DatasetVersion, Licence
from chinhquyenso.org.models import Agency, AgencyKind

pytestmark = pytest.mark.django_db


def _agencies(kind, parent, prefix, count):
    rows = [
        Agency(
            code=f"{prefix}-{i}",
            name=f"{prefix} {i}",
            name_folded=fold(f"{prefix} {i}"),
            kind=kind,
            parent=parent,
        )
        for i in range(count)
    ]
    return Agency.objects.bulk_create(rows)


@pytest.fixture
def seed_province(province, licences_and_themes):
    """The province of seed 001: 21 departments (two of the fixture's), 11 districts (one), 156 communes
    (two); 179 of them with a public dataset since 01/9/2024, the other 9 without."""
    ubnd, huyen = province["ubnd"], province["huyen"]
    departments = [province["tu_phap"], province["cong_an"], *_agencies(AgencyKind.DEPARTMENT, ubnd, "so", 19)]
    districts = [huyen, *_agencies(AgencyKind.DISTRICT_COMMITTEE, ubnd, "huyen", 10)]
    communes = [province["xa_a"], province["xa_b"]]
    for n, district in enumerate(districts):
        communes += _agencies(AgencyKind.COMMUNE_COMMITTEE, district, f"xa-{n}", 14)
    counted = departments + districts + communes
    assert (len(departments), len(districts), len(communes)) == (21, 11, 156)
    silent = {departments[3].id, districts[4].id, *(c.id for c in communes[10:17])}
    licence = Licence.objects.get(is_default=True)
    published = dt.datetime(2024, 9, 1, 9, tzinfo=dt.UTC)
    datasets = Dataset.objects.bulk_create(
        Dataset(
            name=f"du-lieu-{agency.code}",
            title=f"Dữ liệu của {agency.name}",
            agency=agency,
            licence=licence,
            status=DatasetStatus.PUBLIC,
            published_at=published,
        )
        for agency in counted
        if agency.id not in silent
    )
    DatasetVersion.objects.bulk_create(
        DatasetVersion(dataset=d, number=1, at=published, action="approve", status=DatasetStatus.PUBLIC, snapshot={})
        for d in datasets
    )
    return {"counted": counted, "silent": silent}


def test_seed_001_figure_reads_95_2_percent(seed_province, registry):
    period = Period("range", dt.date(2024, 1, 1), dt.date(2024, 9, 30))
    value = compute(period, codes=["opendata_publishing_share"]).get("opendata_publishing_share", PROVINCE)
    assert (value.numerator, value.denominator) == (179, 188)
    assert value.rounded == Decimal("95.2")
    assert value.count_unit == "cơ quan"

    figures = publishing_figures(period.end)
    assert (figures.numerator, figures.denominator) == (179, 188)
    assert {row.agency.id for row in figures.not_publishing} == seed_province["silent"]
    assert {row.agency.id for row in figures.counted} == {a.id for a in seed_province["counted"]}


def test_a_district_covers_its_communes_and_a_period_before_publication_reads_zero(seed_province, registry):
    september = Period("range", dt.date(2024, 9, 1), dt.date(2024, 9, 30))
    computation = compute(september, codes=["opendata_publishing_share"])
    district = find_unit(computation, "huyen-3")  # the silent district (districts[4])
    value = computation.get("opendata_publishing_share", district.id)
    assert (value.numerator, value.denominator) == (14, 15)  # its 14 communes publish, it does not

    august = Period("range", dt.date(2024, 8, 1), dt.date(2024, 8, 31))
    value = compute(august, codes=["opendata_publishing_share"]).get("opendata_publishing_share", PROVINCE)
    assert (value.numerator, value.denominator) == (0, 188)


def test_registrations():
    assert "opendata" in dict(INDICATOR_MEASURES.items())
    assert JOBS.get("refresh_open_data").task == "chinhquyenso.opendata.jobs.refresh_open_data"
    assert timezone.localdate()  # the measure reads today's figure for a period not over


def test_the_dashboard_shows_the_publishing_share(seed_province, registry, admin_user, client):
    assert [code for code, _ in DASHBOARD_TILES.get("opendata").tiles] == ["opendata_publishing_share"]
    client.force_login(admin_user)
    html = client.get("/dieu-hanh/", {"ky": "2024-M09"}).content.decode()
    found = re.search(r'<li class="tile" id="o-opendata_publishing_share">(.*?)</li>', html, flags=re.S)
    assert found, "the open-data tile is missing"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()
    assert text.startswith("Cơ quan cung cấp dữ liệu mở 95,2% 179/188"), text


def test_a_report_snapshot_carries_the_publishing_share(seed_province, registry):
    from chinhquyenso.reports.services import take_snapshot

    snapshot = take_snapshot(Period("range", dt.date(2024, 1, 1), dt.date(2024, 9, 30)))
    share = snapshot["indicators"]["opendata_publishing_share"]
    assert (share["numerator"], share["denominator"], share["display"]) == (179, 188, "95,2%")
    assert share["fraction"] == "179/188 cơ quan"


def test_the_nine_month_report_states_the_publishing_share(seed_province, province, registry, admin_user):
    """Seed 001's sentence, computed: «… cung cấp dữ liệu mở là 179/188 cơ quan, đạt 95,2%» (the seed
    printed 94,2%; 179/188 is 95,2%)."""
    import io

    import docx

    from chinhquyenso.reports import services as reports
    from chinhquyenso.reports.models import ReportTemplate

    reports.load_templates(actor=admin_user)
    ReportTemplate.objects.update(issuer=province["tu_phap"])  # the test province has no Sở KH&CN
    document = docx.Document(io.BytesIO(reports.build("cds-9-thang", "2024-9M", fmt="docx")))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert "4. Dữ liệu số" in text and "5. Kinh tế số, xã hội số" in text
    assert "cấp tỉnh, cấp huyện, cấp xã cung cấp dữ liệu mở là 179/188 cơ quan, đạt 95,2%." in text

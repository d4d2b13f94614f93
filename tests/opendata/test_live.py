"""Live datasets (opendata.live): the catalog's datasets are created public as the system, published by
the province's committee (the pest densities by the plant-protection agency that issues the weekly
bulletin), each table as a CSV and an XLSX; a second refresh with nothing changed rewrites nothing; a
withdrawn live dataset stays withdrawn; `cqs opendata refresh`. The pest densities equal what pests'
selectors give, week by week; the 766 score and group values equal indicators.assessments'."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chinhquyenso.opendata import live
from chinhquyenso.opendata.models import Dataset, DatasetStatus, Resource
from tests.pests import surveillance_data as pest_data
from tests.pests.conftest import pest_area, pest_catalog, pest_officer  # noqa: F401 — fixtures used below

pytestmark = pytest.mark.django_db

PESTS = "mat-do-sinh-vat-gay-hai"
# Without a trap or survey point followed by a plant-protection agency nobody issues the pest bulletin.
WITHOUT_PESTS = set(live.GENERATORS) - {PESTS}


@pytest.fixture
def platform(province, birth_procedure, registry, licences_and_themes):
    return province


def read_csv(resource: Resource) -> list[dict]:
    with resource.file.file.open("rb") as handle:
        return list(csv.DictReader(io.StringIO(handle.read().decode("utf-8-sig"))))


def test_every_catalog_entry_has_a_generator():
    assert {entry["generator"] for entry in live.catalog()} == set(live.GENERATORS)


def test_refresh_creates_the_live_datasets_public(platform):
    done = live.refresh_live_datasets()
    assert sorted(done["refreshed"]) == sorted(WITHOUT_PESTS)
    assert done["skipped"] == [f"{PESTS}: không có cơ quan công bố"]
    datasets = {d.generator: d for d in Dataset.objects.exclude(generator="")}
    assert set(datasets) == WITHOUT_PESTS
    for dataset in datasets.values():
        assert dataset.status == DatasetStatus.PUBLIC and dataset.published_at is not None
        assert dataset.agency == platform["ubnd"]
        assert dataset.created_by is None  # the system
        tables = 2 if dataset.generator == "chi-so-chuyen-doi-so" else 1  # per agency, and the province's
        assert sorted(dataset.resources.values_list("format", flat=True)) == sorted(["CSV", "XLSX"] * tables)
    catalog = datasets["thu-tuc-hanh-chinh"].resources.get(format="CSV")
    with catalog.file.file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    assert "1.001193" in text and "Đăng ký khai sinh" in text
    assert catalog.row_count == 1
    publishing = datasets["cong-bo-du-lieu-mo"].resources.get(format="CSV")
    # The five counted agencies, and the committee publishing the live datasets made before this one.
    assert publishing.row_count == 6


def test_a_second_refresh_with_nothing_changed_writes_nothing(platform):
    live.refresh_live_datasets()
    before = {r.pk: (r.file_id, r.modified_at) for r in Resource.objects.all()}
    revisions = dict(Dataset.objects.values_list("pk", "revision"))
    live.refresh_live_datasets()
    live.refresh_live_datasets()
    after = {r.pk: (r.file_id, r.modified_at) for r in Resource.objects.all()}
    # Only the publishing table may change: on the first refresh the committee had not yet published it.
    changed = {pk for pk in after if before.get(pk) != after[pk]}
    generators = set(Resource.objects.filter(pk__in=changed).values_list("dataset__generator", flat=True))
    assert generators <= {"cong-bo-du-lieu-mo"}
    assert len(after) == len(before)
    live.refresh_live_datasets()
    assert {r.pk: (r.file_id, r.modified_at) for r in Resource.objects.all()} == after
    for pk, revision in Dataset.objects.values_list("pk", "revision"):
        assert revision >= revisions[pk]


def test_a_withdrawn_live_dataset_is_not_regenerated(platform, admin_user):
    from chinhquyenso.opendata.services import datasets

    live.refresh_live_datasets()
    dataset = Dataset.objects.get(generator="thong-ke-ho-so")
    datasets.withdraw(dataset, actor=admin_user, reason="Kiểm tra lại cách ẩn ô nhỏ")
    done = live.refresh_live_datasets()
    assert "thong-ke-ho-so: đã rút" in done["skipped"]
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.WITHDRAWN


def test_a_renamed_committee_keeps_publishing_the_same_live_datasets(platform, admin_user):
    """A reorganization gives the publisher a new version (org history): the next refresh moves each
    live dataset — its name, versions and links — to the new version instead of creating a second one
    under the same name (which the name's uniqueness refused, stopping the daily refresh)."""
    import datetime as dt

    from chinhquyenso.org import services as org

    live.refresh_live_datasets(today=dt.date(2025, 6, 30))
    before = dict(Dataset.objects.exclude(generator="").values_list("generator", "pk"))
    renamed = org.rename(
        actor=admin_user,
        agency=platform["ubnd"],
        new_name="Ủy ban nhân dân tỉnh An Giang (mới)",
        effective_date=dt.date(2025, 7, 1),
    )
    done = live.refresh_live_datasets(today=dt.date(2025, 7, 2))
    assert sorted(done["refreshed"]) == sorted(WITHOUT_PESTS)
    after = Dataset.objects.exclude(generator="")
    assert dict(after.values_list("generator", "pk")) == before
    assert set(after.values_list("agency", flat=True)) == {renamed.pk}


def test_the_command(platform):
    out = io.StringIO()
    call_command("opendata", "refresh", "--only", "thu-tuc-hanh-chinh", stdout=out)
    assert "Đã làm mới: thu-tuc-hanh-chinh" in out.getvalue()
    assert list(Dataset.objects.exclude(generator="").values_list("generator", flat=True)) == ["thu-tuc-hanh-chinh"]
    with pytest.raises(CommandError, match="Không có bộ sinh dữ liệu khong-co"):
        call_command("opendata", "refresh", "--only", "khong-co")


def test_the_job_refreshes(platform):
    from chinhquyenso.opendata.jobs import refresh_open_data

    result = refresh_open_data.call()
    assert sorted(result["refreshed"]) == sorted(WITHOUT_PESTS)


# ---------------------------------------------------------------- pest surveillance densities


@pytest.fixture
def pest_dataset(pest_catalog, pest_area, admin_user, pest_officer, licences_and_themes):  # noqa: F811
    """tests/pests/surveillance_data.py's hand-computed surveillance (a merger on 01/7/2025, two
    districts), every trap followed by the district's plant-protection station, and a commune of
    Chợ Mới moved to Thoại Sơn on 09/7/2025 with a trap counting rầy lưng trắng on 08/7 and 11/7."""
    from chinhquyenso.org import services as org
    from chinhquyenso.org.models import AgencyKind
    from chinhquyenso.pests.models import Station

    data = pest_data.build(pest_area, admin_user, pest_officer)
    moved = org.create_agency(
        actor=admin_user,
        name="UBND xã Mỹ Hội Đông",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=pest_area.district,
        code="xa-my-hoi-dong",
    )
    trap = pest_data.station("bd-mhd", moved)
    pest_data.counts(trap, dt.date(2025, 7, 8), {"ray-lung-trang": 30})
    pest_data.counts(trap, dt.date(2025, 7, 11), {"ray-lung-trang": 90})
    org.move(actor=admin_user, agency=moved, new_parent=data.other_district, effective_date=dt.date(2025, 7, 9))
    Station.objects.update(agency=pest_area.plant_protection)
    return data


MONDAY_AFTER = dt.date(2025, 7, 14)  # the week 07–13/7/2025 is over


def _week_rows(rows, area_code, monday="2025-07-07"):
    return {
        (row["Nguồn số liệu"], row["Mã sinh vật"], row["Chỉ tiêu"]): row
        for row in rows
        if row["Mã địa bàn"] == area_code and row["Tuần từ ngày"] == monday
    }


def test_pest_densities_are_published_by_the_plant_protection_agency_with_the_right_densities(pest_dataset, client):
    area = pest_dataset.area
    done = live.refresh_live_datasets(today=MONDAY_AFTER, only=[PESTS])
    assert done["refreshed"] == [PESTS]
    dataset = Dataset.objects.get(generator=PESTS)
    # The bulletin's issuer, from the stations' data: the station following every trap.
    assert dataset.agency == area.plant_protection
    assert dataset.status == DatasetStatus.PUBLIC and dataset.frequency == "WEEKLY"
    listed = client.get("/api/3/action/package_list").json()["result"]
    assert dataset.name in listed
    rows = read_csv(dataset.resources.get(format="CSV"))

    # Chợ Mới, 07–13/7: S1 07/7 100 and 08/7 300 (the flagged 09/7 never counts), S2 07/7 50 and 09/7
    # 100 + 50 (one trap-night), S3 10/7 200 → 800 over 5 trap-nights; the moved commune's 08/7.
    district = _week_rows(rows, area.district.code)
    hopper = district[("Bẫy đèn", "ray-nau", "Mật độ bẫy đèn")]
    total, nights = 100 + 300 + 50 + (100 + 50) + 200, 2 + 2 + 1 + 1
    assert (int(hopper["Tổng số con vào bẫy"]), int(hopper["Số đêm-bẫy"])) == (total, nights)
    assert Decimal(hopper["Giá trị"]) == (Decimal(total) / nights).quantize(Decimal("0.01"))
    assert hopper["Đơn vị"] == "con/bẫy/đêm" and hopper["Thiên địch"] == "Không"
    # The moved commune's trap counts for Chợ Mới on 08/7 only, for Thoại Sơn from 09/7.
    assert district[("Bẫy đèn", "ray-lung-trang", "Mật độ bẫy đèn")]["Tổng số con vào bẫy"] == "30"
    other = _week_rows(rows, pest_dataset.other_district.code)
    white = other[("Bẫy đèn", "ray-lung-trang", "Mật độ bẫy đèn")]
    assert (white["Tổng số con vào bẫy"], white["Số đêm-bẫy"], white["Giá trị"]) == ("90", "2", "45.00")
    # Surveys: rầy nâu 1000 and 2000 con/m² in Chợ Mới → 1500; infestation 5 % in one survey.
    density = district[("Điều tra đồng ruộng", "ray-nau", "Mật độ điều tra")]
    assert (Decimal(density["Giá trị"]), density["Đơn vị"], density["Số phiếu điều tra"]) == (
        Decimal(1500),
        "con/m²",
        "2",
    )
    assert district[("Điều tra đồng ruộng", "ray-nau", "Tỷ lệ hại")]["Giá trị"] == "5.00"
    assert district[("Điều tra đồng ruộng", "nhen-soi", "Mật độ điều tra")]["Thiên địch"] == "Có"
    # The province covers every trap: Chợ Mới's and S4's 1000 over their trap-nights, the moved trap's 11/7.
    province = _week_rows(rows, area.province.code)
    everywhere = province[("Bẫy đèn", "ray-nau", "Mật độ bẫy đèn")]
    assert (everywhere["Tổng số con vào bẫy"], everywhere["Số đêm-bẫy"]) == (str(total + 1000), str(nights + 1 + 1))
    assert everywhere["Giá trị"] == "225.00"  # 1800 ÷ 8
    # The week before: S2's 30/6 night was in xã Kiến Thành, merged on 01/7 — Chợ Mới's either way.
    before = _week_rows(rows, area.district.code, monday="2025-06-30")
    assert before[("Bẫy đèn", "ray-nau", "Mật độ bẫy đèn")]["Giá trị"] == "40.00"  # 120 over 3 trap-nights
    assert not any(row["Tuần từ ngày"] == "2025-07-14" for row in rows)  # the week under way is not published
    # Nothing of a survey but its mean: no officer, no field.
    assert not {"Cán bộ", "Người điều tra", "Vĩ độ"} & set(rows[0])


def test_pest_densities_equal_the_pests_selectors_for_every_area_and_week(pest_dataset):
    from chinhquyenso.pests.selectors.densities import densities

    area = pest_dataset.area

    [table] = live.build_pest_densities(dt.date(2025, 6, 1), MONDAY_AFTER)
    header = table.header
    published = {
        (row[0], row[2], row[5], row[8]): row[header.index("Giá trị")]
        for row in table.rows
        if row[2] in ("2025-06-30", "2025-07-07")
    }
    expected = {}
    for place in (area.province, area.district, pest_dataset.other_district):
        for monday in (dt.date(2025, 6, 30), dt.date(2025, 7, 7)):
            for item in densities(area=place, start=monday, end=monday + dt.timedelta(days=6)):
                code = item.trap_class.code if item.source == "trap" else item.organism.code
                expected[(place.code, monday.isoformat(), code, live.PEST_MEASURES[item.measure])] = str(item.value)
    assert published == expected and expected


def test_pest_densities_cost_the_same_queries_for_any_number_of_weeks(pest_dataset):
    def queries(start):
        with CaptureQueriesContext(connection) as captured:
            live.build_pest_densities(start, MONDAY_AFTER)
        return len(captured)

    assert queries(dt.date(2025, 6, 1)) == queries(dt.date(2023, 7, 1))


def test_a_pest_refresh_with_nothing_new_writes_nothing(pest_dataset):
    live.refresh_live_datasets(today=MONDAY_AFTER, only=[PESTS])
    dataset = Dataset.objects.get(generator=PESTS)
    before = {r.pk: (r.file_id, r.modified_at) for r in dataset.resources.all()}
    revision = dataset.revision
    live.refresh_live_datasets(today=MONDAY_AFTER + dt.timedelta(days=2), only=[PESTS])  # same finished weeks
    assert {r.pk: (r.file_id, r.modified_at) for r in dataset.resources.all()} == before
    dataset.refresh_from_db()
    assert dataset.revision == revision
    pest_data.counts(pest_dataset.s1, dt.date(2025, 7, 12), {"ray-nau": 60})  # a late count of that week
    live.refresh_live_datasets(today=MONDAY_AFTER + dt.timedelta(days=2), only=[PESTS])
    assert {r.pk: (r.file_id, r.modified_at) for r in dataset.resources.all()} != before


# ---------------------------------------------------------------- the 766 index and e-government criteria


@pytest.fixture
def large_facts(province, registry):
    """Sở Tư pháp's dossiers of 2025's first quarter, every monthly count and difference far above the
    small-cell limit (so nothing is hidden)."""
    from chinhquyenso.indicators.models import DossierMonthFact

    DossierMonthFact.objects.bulk_create(
        DossierMonthFact(
            agency=province["tu_phap"],
            month=dt.date(2025, month, 1),
            service_level="full_online",
            received=400,
            received_online=300 + 10 * month,
            received_digitized=250,
            finished=380,
            finished_early=200,
            finished_on_time=120 + month,
            finished_electronic=150,
        )
        for month in (1, 2, 3)
    )
    return province


def test_the_766_score_and_groups_and_the_egov_criteria_are_those_of_the_assessments(large_facts):
    from chinhquyenso.indicators.assessments import egov_completion, index766
    from chinhquyenso.indicators.periods import quarter
    from chinhquyenso.indicators.selectors import compute, find_unit

    agencies, province_table = live.build_indicators(dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    [row] = [r for r in agencies.rows if r[0] == "so-tu-phap" and r[2] == "2025-Q1"]
    cells = dict(zip(agencies.header, row, strict=True))

    computation = compute(quarter(2025, 1))
    unit = find_unit(computation, "so-tu-phap")
    expected = index766(computation, unit.id)  # a department: its own figures are its whole
    assert expected.scored_max > 0 and expected.points > 0
    assert Decimal(cells[live.INDEX766]) == expected.points.quantize(Decimal("0.01"))
    scored = 0
    for group in expected.groups:
        [column] = [name for name in agencies.header if name.startswith(f"Điểm nhóm {group.group.name} ")]
        if group.scored_max:
            assert Decimal(cells[column]) == group.points.quantize(Decimal("0.01")), group.group.name
            scored += 1
        else:
            assert cells[column] == ""
    assert scored >= 2  # tiến độ (on time) and số hóa (digitized, electronic results) at least

    completion = {a.unit.id: a for a in egov_completion(computation).agencies}[unit.id]
    for result in completion.results:
        column = f"{result.criterion.name} (tháng cuối quý)"
        value = result.value
        if value is not None and value.value is not None and value.value_type == "ratio":
            assert Decimal(cells[column]) == value.rounded, column
    assert cells[live.EGOV_COMPLETE] == ("Có" if completion.complete else "Không")
    assert cells[live.NOTE] == ""

    # The province's table: the 766 score of the whole province, and the chosen indicators.
    whole = {(r[0], r[1]): r for r in province_table.rows}
    assert Decimal(whole[("2025-Q1", "index766")][3]) == index766(computation).points.quantize(Decimal("0.01"))
    on_time = whole[("2025-Q1", "on_time_rate")]
    assert (on_time[5], on_time[6]) == (str(3 * 320 + 6), str(3 * 380))


def test_a_766_group_counted_over_few_people_is_left_empty(large_facts, monkeypatch):
    """A value counted over people whose numerator, denominator or difference is small hides its 766
    group and the total; the other groups stay."""
    from chinhquyenso.indicators.selectors import IndicatorValue

    def value(numerator, denominator, count_unit="hồ sơ"):
        return IndicatorValue(
            code="on_time_rate",
            name="Tỷ lệ hồ sơ giải quyết trước hạn và đúng hạn",
            unit="%",
            numerator=Decimal(numerator),
            denominator=Decimal(denominator),
            value=Decimal(numerator) * 100 / Decimal(denominator),
            count_unit=count_unit,
        )

    assert live.reveals_small_cell(value(2, 300), set())  # 2 people
    assert live.reveals_small_cell(value(297, 300), set())  # 3 late: the difference
    assert not live.reveals_small_cell(value(300, 300), set()) and not live.reveals_small_cell(value(5, 300), set())
    assert not live.reveals_small_cell(value(2, 3, "thủ tục"), {"thủ tục"})  # procedures are not people

    real = live.reveals_small_cell
    monkeypatch.setattr(
        live, "reveals_small_cell", lambda v, exempt: bool(v and v.code == "on_time_rate") or real(v, exempt)
    )
    [agencies, _] = live.build_indicators(dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    [row] = [r for r in agencies.rows if r[0] == "so-tu-phap"]
    cells = dict(zip(agencies.header, row, strict=True))
    groups = {name: cell for name, cell in cells.items() if name.startswith("Điểm nhóm ")}
    assert cells[live.INDEX766] == ""
    assert [cell for name, cell in groups.items() if "Tiến độ giải quyết" in name] == [""]
    assert groups[next(name for name in groups if "Số hóa hồ sơ" in name)] != ""
    assert "nhóm Tiến độ giải quyết" in cells[live.NOTE]

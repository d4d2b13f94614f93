"""Densities per area and period (pests.selectors.densities) on the hand-computed dataset of
tests/pests/surveillance_data.py: trap-night densities, survey means, the trend against the previous
period, the same period of the previous season, the natural-enemy ratio, a commune merged in 2025, a
district "at the time", the per-commune rows of the map, the weekly trend and the officers' scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import Role
from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.org import services as org
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.pests.models import Alert, Measure, Organism, Threshold
from chinhquyenso.pests.selectors import densities as sel
from tests.pests import surveillance_data as data

D = Decimal


@pytest.fixture
def dataset(pest_catalog, pest_area, admin_user, pest_officer):
    return data.build(pest_area, admin_user, pest_officer)


def _row(rows, source, code, measure=None):
    for r in rows:
        key = r.trap_class.code if source == "trap" else r.organism.code
        if r.source == source and key == code and (measure is None or r.measure == measure):
            return r
    raise AssertionError(f"no {source} row for {code} {measure}")


def test_district_trap_densities_trend_and_previous_season(dataset):
    rows = sel.densities(area=dataset.area.district, start=data.START, end=data.END)
    ray = _row(rows, "trap", "ray-nau")
    assert ray.measure == Measure.PER_TRAP_NIGHT and ray.unit == "con/bẫy/đêm"
    assert (ray.value, ray.total, ray.trap_nights) == (D("160.00"), 800, 5)
    assert ray.stations == sorted([dataset.s1.pk, dataset.s2.pk, dataset.s3.pk])
    assert ray.organism.code == "ray-nau"
    # the previous equal period 30/6–06/7 (the night of 30/6 was in xã Kiến Thành before the merger)
    assert (ray.previous.start, ray.previous.end) == (dt.date(2025, 6, 30), dt.date(2025, 7, 6))
    assert ray.previous.value == D("40.00")
    assert (ray.trend, ray.change_percent, ray.trend_label) == ("up", D("300.0"), "Tăng")
    # the same days of Hè Thu 2024 (day 97–103 from the season's start)
    [season] = ray.seasons
    assert season.season.code == "he-thu-2024" and season.label == "Vụ Hè Thu 2024"
    assert (season.start, season.end, season.value) == (dt.date(2024, 7, 7), dt.date(2024, 7, 13), D("40.00"))
    small = _row(rows, "trap", "sau-cuon-la-nho")
    assert (small.value, small.total, small.stations) == (D("2.00"), 10, [dataset.s1.pk])
    assert small.previous.value == D("0.00") and small.trend == "up" and small.change_percent is None


def test_flagged_counts_never_count(dataset):
    rows = sel.densities(area=dataset.area.commune_a, start=data.START, end=data.END)
    ray = _row(rows, "trap", "ray-nau")
    # 09/7's 5000 came in a flagged message: neither the count nor the night counts
    assert (ray.value, ray.total, ray.trap_nights) == (D("200.00"), 400, 2)
    assert _row(rows, "trap", "sau-cuon-la-nho").value == D("5.00")


def test_province_covers_every_station(dataset):
    rows = sel.densities(area=dataset.area.province, start=data.START, end=data.END)
    ray = _row(rows, "trap", "ray-nau")
    assert (ray.value, ray.total, ray.trap_nights) == (D("300.00"), 1800, 6)
    assert _row(rows, "trap", "sau-cuon-la-nho").value == D("1.67")
    assert _row(rows, "survey", "ray-nau", Measure.PER_M2).value == D("4000.00")  # (1000 + 2000 + 9000) / 3


def test_merged_commune_counts_its_predecessors_stations(dataset):
    rows = sel.densities(area=dataset.merged, start=data.START, end=data.END)
    ray = _row(rows, "trap", "ray-nau")
    assert (ray.value, ray.total, ray.trap_nights) == (D("133.33"), 400, 3)
    assert ray.stations == [dataset.s2.pk, dataset.s3.pk]
    assert ray.previous.value == D("50.00")  # both nights of S2, in the old commune then
    assert ray.seasons[0].value == D("80.00")  # Hè Thu 2024: the old commune's trap
    # the old commune, closed on 01/7/2025: its trap counts for it only while it existed
    assert sel.densities(area=dataset.old_b, start=data.START, end=data.END) == []
    old = sel.densities(area=dataset.old_b, start=dt.date(2025, 6, 30), end=dt.date(2025, 7, 6))
    assert (_row(old, "trap", "ray-nau").value, _row(old, "trap", "ray-nau").trap_nights) == (D("40.00"), 1)


def test_district_counts_a_commune_while_it_belongs_to_it(dataset, admin_user):
    """A commune moved to another district on 09/7/2025: its trap counts for the first district
    before that day and for the second from it; the province sees both."""
    pest_area = dataset.area
    commune = org.create_agency(
        actor=admin_user,
        name="UBND xã Mỹ Hội Đông",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=pest_area.district,
        code="xa-my-hoi-dong",
    )
    trap = data.station("bd-mhd", commune)
    data.counts(trap, dt.date(2025, 7, 8), {"ray-lung-trang": 30})
    data.counts(trap, dt.date(2025, 7, 11), {"ray-lung-trang": 90})
    org.move(actor=admin_user, agency=commune, new_parent=dataset.other_district, effective_date=dt.date(2025, 7, 9))
    first = _row(sel.densities(area=pest_area.district, start=data.START, end=data.END), "trap", "ray-lung-trang")
    assert (first.total, first.stations) == (30, [trap.pk])
    second = _row(sel.densities(area=dataset.other_district, start=data.START, end=data.END), "trap", "ray-lung-trang")
    # Thoại Sơn: the moved commune's night of 11/7 plus S4's night — 2 trap-nights
    assert (second.total, second.trap_nights, second.value) == (90, 2, D("45.00"))
    both = _row(sel.densities(area=pest_area.province, start=data.START, end=data.END), "trap", "ray-lung-trang")
    assert both.total == 120


def test_survey_means_and_natural_enemies(dataset):
    rows = sel.densities(area=dataset.area.district, start=data.START, end=data.END)
    density = _row(rows, "survey", "ray-nau", Measure.PER_M2)
    assert (density.value, density.total, density.unit) == (D("1500.00"), 2, "con/m²")
    assert len(density.surveys) == 2
    infestation = _row(rows, "survey", "ray-nau", Measure.INFESTATION_PCT)
    assert (infestation.value, infestation.total) == (D("5.00"), 1)
    spider = _row(rows, "survey", "nhen-soi", Measure.PER_M2)
    assert spider.value == D("40.00") and spider.is_natural_enemy
    assert _row(rows, "survey", "dao-on", Measure.INFESTATION_PCT).value == D("2.00")
    assert density.previous.value is None and density.trend == "no_previous"
    # trap rows first, natural enemies last
    assert [r.source for r in rows][:2] == ["trap", "trap"] and rows[-1].is_natural_enemy

    ratio = sel.natural_enemy_ratio(area=dataset.area.district, start=data.START, end=data.END)
    assert (ratio.surveys, ratio.enemies_per_m2, ratio.pests_per_m2, ratio.ratio) == (
        2,
        D("40.00"),
        D("1500.00"),
        D("0.027"),
    )
    assert ratio.text == "1 : 37,5"
    rice_hopper = Organism.objects.get(code="ray-nau")
    assert sel.natural_enemy_ratio(
        area=dataset.area.province, start=data.START, end=data.END, pest=rice_hopper
    ).pests_per_m2 == D("4000.00")


def test_one_organism_only(dataset):
    rows = sel.densities(
        area=dataset.area.district, start=data.START, end=data.END, organism=Organism.objects.get(code="ray-nau")
    )
    assert {(r.source, r.measure) for r in rows} == {
        ("trap", Measure.PER_TRAP_NIGHT),
        ("survey", Measure.PER_M2),
        ("survey", Measure.INFESTATION_PCT),
    }


def test_by_commune_for_the_map(dataset):
    rice_hopper = Organism.objects.get(code="ray-nau")
    threshold = Threshold.objects.filter(organism=rice_hopper, measure=Measure.PER_TRAP_NIGHT).first()
    Alert.objects.create(
        threshold=threshold,
        organism=rice_hopper,
        commune=dataset.merged,
        level=Alert.Level.WARN,
        value=D("5100"),
        period_start=dt.date(2025, 7, 7),
        period_end=dt.date(2025, 7, 13),
    )
    rows = {
        r.commune.code: r
        for r in sel.by_commune(area=dataset.area.district, start=data.START, end=data.END, organism=rice_hopper)
    }
    # the communes of the district on 13/7/2025: Kiến An and the merged Kiến Thành
    assert set(rows) == {"xa-kien-an", dataset.merged.code}
    merged = rows[dataset.merged.code]
    assert (merged.stations, merged.trap_nights, merged.total, merged.trap_value) == (2, 3, 400, D("133.33"))
    assert (merged.surveys, merged.density, merged.infestation) == (1, D("2000.00"), D("5.00"))
    assert (merged.level, merged.kind, merged.level_label) == ("warn", "medium", "Đến ngưỡng cảnh báo")
    assert (merged.latitude, merged.longitude) == (D("10.610000"), D("105.510000"))
    kien_an = rows["xa-kien-an"]
    assert (kien_an.trap_value, kien_an.density, kien_an.level, kien_an.kind) == (
        D("200.00"),
        D("1000.00"),
        "below",
        "low",
    )
    # without an organism: trap-nights and surveys only
    plain = {r.commune.code: r for r in sel.by_commune(area=dataset.area.district, start=data.START, end=data.END)}
    assert plain["xa-kien-an"].trap_value is None and plain["xa-kien-an"].trap_nights == 2


def test_weekly_trend(dataset):
    rice_hopper = Organism.objects.get(code="ray-nau")
    weeks = sel.weekly(area=dataset.area.district, organism=rice_hopper, end=data.END, weeks=2)
    assert [(w.start, w.end) for w in weeks] == [
        (dt.date(2025, 6, 30), dt.date(2025, 7, 6)),
        (dt.date(2025, 7, 7), dt.date(2025, 7, 13)),
    ]
    assert [w.trap_value for w in weeks] == [D("40.00"), D("160.00")]
    assert [w.density for w in weeks] == [None, D("1500.00")]
    assert [w.season_trap_value for w in weeks] == [None, D("40.00")]  # 30/6–06/7/2024 had no counts


def test_bad_area_and_period(dataset, pest_area):
    with pytest.raises(DomainError) as error:
        sel.densities(area=pest_area.plant_protection, start=data.START, end=data.END)
    assert error.value.field == "area" and "xã, phường" in error.value.message
    with pytest.raises(DomainError) as error:
        sel.densities(area=pest_area.district, start=data.END, end=data.START)
    assert error.value.field == "to"


def test_commune_officers_see_their_communes_only(dataset, commune_officer, pest_officer, admin_user):
    assert sel.visible_communes(pest_officer) is None
    assert dataset.area.commune_a.pk in sel.visible_communes(commune_officer)
    sel.densities(area=dataset.area.commune_a, start=data.START, end=data.END, user=commune_officer)
    for area in (dataset.area.district, dataset.merged, dataset.area.province):
        with pytest.raises(NotFound):
            sel.densities(area=area, start=data.START, end=data.END, user=commune_officer)
    # an officer of another agency without the grant sees nothing
    stranger = accounts.create_officer(
        actor=admin_user,
        username="so-tu-phap.cv",
        password="Mat-khau-2025",
        full_name="Nguyễn Văn An",
        memberships=[(Agency.objects.get(code="so-tu-phap"), Role.SPECIALIST)],
    )
    assert sel.visible_communes(stranger) == frozenset() and not sel.sees_surveillance(stranger)


def test_query_count_does_not_grow_with_stations(dataset):
    """A district query is a fixed number of aggregates, however many stations and nights."""
    with CaptureQueriesContext(connection) as first:
        sel.densities(area=dataset.area.district, start=data.START, end=data.END)
    for n in range(20):
        trap = data.station(f"bd-them-{n}", dataset.area.commune_a)
        data.counts(trap, dt.date(2025, 7, 8), {"ray-nau": 10, "ray-lung-trang": 5})
    with CaptureQueriesContext(connection) as second:
        sel.densities(area=dataset.area.district, start=data.START, end=data.END)
    assert len(second.captured_queries) == len(first.captured_queries)


# ---------------------------------------------------------------- the pages


def test_overview_page_with_map_and_tables(client, dataset, pest_officer):
    client.force_login(pest_officer)
    response = client.get(
        "/can-bo/sau-benh/giam-sat/",
        {"dia-ban": dataset.area.district.code, "tu": "2025-07-07", "den": "2025-07-13", "sinh-vat": "ray-nau"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    for words in (
        "UBND huyện Chợ Mới",
        "160,00",  # rầy nâu con/bẫy/đêm
        "+300,0%",
        "Vụ Hè Thu 2024: 40,00",
        "1.500,00 con/m²",
        "1 : 37,5",
        "133,33",  # the merged commune's row
        'id="ban-do-mat-do-points"',
        '"kind": "low"',
    ):
        assert words in html, words
    assert "<script>" not in html


def test_commune_officers_overview_is_their_commune(client, dataset, commune_officer):
    client.force_login(commune_officer)
    page = client.get("/can-bo/sau-benh/giam-sat/", {"tu": "2025-07-07", "den": "2025-07-13"})
    assert page.status_code == 200 and "Sinh vật gây hại: UBND xã Kiến An" in page.content.decode()
    refused = client.get("/can-bo/sau-benh/giam-sat/", {"dia-ban": dataset.area.district.code})
    assert refused.status_code == 404
    bad = client.get("/can-bo/sau-benh/giam-sat/", {"tu": "2025-07-13", "den": "2025-07-07"})
    assert bad.status_code == 400 and "Ngày cuối kỳ" in bad.content.decode()


def test_trend_page_draws_the_weeks(client, dataset, pest_officer):
    client.force_login(pest_officer)
    response = client.get(
        "/can-bo/sau-benh/giam-sat/xu-huong/ray-nau/", {"dia-ban": dataset.area.district.code, "den": "2025-07-13"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<svg" in html and "Cùng kỳ vụ trước" in html
    assert "07/07/2025 – 13/07/2025" in html and "160,00" in html


def test_the_menu_asks_one_query_and_links_the_first_page_each_officer_may_open(
    dataset, pest_officer, commune_officer, officers, django_assert_num_queries
):
    from django.contrib.auth.models import Group, Permission

    from chinhquyenso.pests.context_processors import pests_menu

    expert = officers["tu_phap"]["leader"]
    experts = Group.objects.create(name="Chuyên gia BVTV")
    experts.permissions.add(Permission.objects.get(content_type__app_label="pests", codename="confirm_identification"))
    expert.groups.add(experts)
    cases = (
        (pest_officer, "/can-bo/sau-benh/giam-sat/"),
        (commune_officer, "/can-bo/sau-benh/giam-sat/"),
        (expert, "/can-bo/sau-benh/nhan-dang/"),
        (officers["tu_phap"]["specialist"], ""),
    )
    for user, expected in cases:
        with django_assert_num_queries(1):
            assert pests_menu(user) == expected

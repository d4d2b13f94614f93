"""Fair rankings: a unit with fewer dossiers than the minimum (a setting,
shown on the page) is listed apart as "chưa đủ số hồ sơ để xếp hạng", equal
values share a rank, and the agencies' table sorts by any column on the
server (links: no script) and is collapsed beyond its first rows."""

from decimal import Decimal

import pytest

from chinhquyenso.dashboard import selectors
from chinhquyenso.indicators.selectors import IndicatorValue, Unit
from tests.dashboard.conftest import signed_in
from tests.dashboard.test_pages import text_of

pytestmark = pytest.mark.django_db
Q1 = {"ky": "2025-Q1"}


def minimum(settings, k):
    settings.CQS = {**settings.CQS, "DASHBOARD_RANKING_MIN_DOSSIERS": k}


def test_default_minimum_lists_small_communes_apart(dataset, admin_user, settings):
    minimum(settings, 10)  # the default
    text = text_of(signed_in(admin_user).get("/dieu-hanh/", {**Q1, "chi_so": "on_time_rate"}))
    assert "Chỉ xếp hạng cơ quan có từ 10 hồ sơ đã giải quyết trở lên trong kỳ" in text
    # Kiến An has 2/2 on time (100%): no longer first, but listed apart with its volume.
    assert (
        "Chưa đủ số hồ sơ để xếp hạng (dưới 10 hồ sơ đã giải quyết): "
        "UBND xã Kiến An (100,0%, 2 hồ sơ), UBND xã Kiến Thành (50,0%, 2 hồ sơ)." in text
    )
    assert "1 UBND xã Kiến An" not in text


def test_only_units_with_enough_dossiers_are_ranked(dataset, admin_user, settings):
    minimum(settings, 3)
    text = text_of(signed_in(admin_user).get("/dieu-hanh/", {**Q1, "chi_so": "online_rate_all"}))
    assert "1 UBND xã Kiến An 66,7% 2/3" in text  # 3 received online or not
    assert "UBND xã Kiến Thành (50,0%, 2 hồ sơ)" in text.split("Chưa đủ số hồ sơ để xếp hạng")[1]


def test_a_leader_below_the_minimum_is_told_so_not_ranked(dataset, officers, settings):
    minimum(settings, 3)
    text = text_of(signed_in(officers["xa_b"]["leader"]).get("/dieu-hanh/", {**Q1, "chi_so": "online_rate_all"}))
    assert "UBND xã Kiến Thành chưa đủ số hồ sơ để xếp hạng" in text and "xếp thứ" not in text


def _unit(i, name):
    return Unit(id=i, code=f"u{i}", name=name, kind="commune_committee", parent_id=None)


def _rate(numerator, denominator):
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return IndicatorValue(
        code="on_time_rate",
        name="Đúng hạn",
        unit="%",
        numerator=numerator,
        denominator=denominator,
        value=value,
        decimals=1,
        value_type="ratio",
    )


def test_ties_share_a_rank_and_the_larger_volume_comes_first():
    values = [
        (_unit(1, "A"), _rate(9, 10), 10),
        (_unit(2, "B"), _rate(18, 20), 20),
        (_unit(3, "C"), _rate(10, 10), 10),
        (_unit(4, "D"), _rate(1, 1), 1),
        (_unit(5, "E"), _rate(8, 10), 10),
    ]
    rows, missing, too_few = selectors._ranked(values, True, 10)
    assert [(r.rank, r.unit.name, r.tied) for r in rows] == [
        (1, "C", False),
        (2, "B", True),
        (2, "A", True),
        (4, "E", False),
    ]
    assert [r.unit.name for r in too_few] == ["D"] and missing == []


def test_the_agencies_table_sorts_on_the_server(dataset, admin_user):
    client = signed_in(admin_user)
    html = client.get("/dieu-hanh/co-quan/ubnd-cho-moi/", {**Q1, "sap_xep": "ten", "chieu": "giam"}).content.decode()
    table = html.split('id="theo-co-quan"')[1]
    assert table.index("UBND xã Kiến Thành") < table.index("UBND xã Kiến An")
    assert 'aria-sort="descending"' in table
    assert 'href="?ky=2025-Q1&amp;sap_xep=ten&amp;chieu=tang#theo-co-quan"' in table  # again: the other way
    by_name = client.get("/dieu-hanh/co-quan/ubnd-cho-moi/", {**Q1, "sap_xep": "ten"}).content.decode()
    table = by_name.split('id="theo-co-quan"')[1]
    assert table.index("UBND xã Kiến An") < table.index("UBND xã Kiến Thành")
    # Default: the most overdue first (Kiến An has the overdue dossier).
    default = client.get("/dieu-hanh/co-quan/ubnd-cho-moi/", Q1).content.decode().split('id="theo-co-quan"')[1]
    assert default.index("UBND xã Kiến An") < default.index("UBND xã Kiến Thành")


def test_long_tables_are_collapsed_with_see_all(dataset, admin_user, monkeypatch):
    monkeypatch.setattr(selectors, "UNITS_SHOWN", 2)
    client = signed_in(admin_user)
    text = text_of(client.get("/dieu-hanh/co-quan/ubnd-cho-moi/", Q1))
    assert (
        "Xem tất cả 3 cơ quan" in text
        and "UBND xã Kiến Thành" not in text.split("Theo cơ quan")[1].split("Xem tất cả")[0]
    )
    full = text_of(client.get("/dieu-hanh/co-quan/ubnd-cho-moi/", {**Q1, "co_quan": "tat-ca"}))
    assert "Xem tất cả 3 cơ quan" not in full

"""The dashboard pages on a small province with known numbers (see conftest):
who may open them, the tiles and their change against the previous quarter,
the drill-down province → agency → procedure → overdue dossiers, the charts,
the ranking, e-government completion and the cache."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chinhquyenso.core.registry import DASHBOARD_TILES, TileSection
from chinhquyenso.dashboard import cache as figures
from chinhquyenso.dashboard import selectors
from chinhquyenso.indicators import assessments
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.indicators.selectors import compute
from tests.dashboard.conftest import finish, signed_in

pytestmark = pytest.mark.django_db
Q1 = {"ky": "2025-Q1"}


def text_of(response) -> str:
    """The page's visible text, one space between words."""
    html = response.content.decode()
    html = re.sub(r"<(svg|select|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&gt;", ">").replace("&lt;", "<")


def tile(response, key) -> str:
    html = response.content.decode()
    found = re.search(rf'<li class="tile" id="o-{key}">(.*?)</li>', html, flags=re.S)
    assert found, f"tile {key} missing"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


# ---------------------------------------------------------------- access


def test_leaders_admin_and_auditor_open_it_others_do_not(dataset, officers, admin_user, auditor, citizen, client):
    anonymous = client.get("/dieu-hanh/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/dang-nhap/?next=/dieu-hanh/")
    for user in (officers["xa_a"]["leader"], officers["huyen"]["leader"], admin_user, auditor):
        page = signed_in(user).get("/dieu-hanh/", Q1)
        assert page.status_code == 200, user
        assert 'href="/dieu-hanh/">Điều hành (IOC)</a>' in page.content.decode()
    for user in (
        officers["xa_a"]["specialist"],
        officers["xa_a"]["counter_officer"],
        officers["xa_a"]["agency_admin"],
        citizen,
    ):
        page = signed_in(user).get("/dieu-hanh/", Q1)
        assert page.status_code == 403, user
        assert "chỉ dành cho lãnh đạo cơ quan" in page.content.decode()
    inbox = signed_in(officers["xa_a"]["specialist"]).get("/can-bo/").content.decode()
    assert "Điều hành (IOC)" not in inbox


def test_default_period_is_the_last_complete_quarter(dataset, admin_user):
    page = signed_in(admin_user).get("/dieu-hanh/")
    current = selectors.default_period()
    assert current.end < selectors.today()
    assert page.status_code == 200 and f"Số liệu {current.label}" in text_of(page)
    assert f'<option value="{current.code}" selected>' in page.content.decode()


def test_an_unreadable_period_falls_back_and_says_why(dataset, admin_user):
    page = signed_in(admin_user).get("/dieu-hanh/", {"ky": "quý 5"})
    assert page.status_code == 200
    assert "không hợp lệ" in text_of(page) and selectors.default_period().label in text_of(page)
    future = signed_in(admin_user).get("/dieu-hanh/", {"ky": "2099-Q1"})
    assert "chưa bắt đầu" in text_of(future)


# ---------------------------------------------------------------- tiles


def test_tiles_and_change_against_the_previous_quarter(dataset, admin_user):
    page = signed_in(admin_user).get("/dieu-hanh/", Q1)
    assert "Số liệu quý I năm 2025; so sánh với quý IV năm 2024" in text_of(page)
    assert tile(page, "received") == "Hồ sơ tiếp nhận 5 hồ sơ ▲ tăng 3 hồ sơ (+150,0%) — tốt hơn Kỳ trước: 2 hồ sơ"
    assert tile(page, "online_rate_all") == (
        "Nộp trực tuyến 60,0% 3/5 hồ sơ ▲ tăng 10,0 điểm phần trăm — tốt hơn Kỳ trước: 50,0%"
    )
    assert tile(page, "on_time_rate") == (
        "Giải quyết đúng hạn 75,0% 3/4 hồ sơ ▲ tăng 25,0 điểm phần trăm — tốt hơn Kỳ trước: 50,0%"
    )
    assert tile(page, "digitization_rate") == "Số hóa khi tiếp nhận 0,0% 0/5 hồ sơ = không đổi Kỳ trước: 0,0%"
    # The change is told in words as well as by colour.
    assert 'class="change better">▲ tăng 10,0 điểm phần trăm — tốt hơn' in page.content.decode()


def test_the_766_tile_is_the_index_of_the_indicators_app(dataset, admin_user):
    expected = assessments.index766(compute(parse_period("2025-Q1")))
    shown = tile(signed_in(admin_user).get("/dieu-hanh/", Q1), "index766")
    assert shown.startswith(f"Điểm Bộ chỉ số 766 {selectors.number_text(expected.points)}/100 điểm")
    assert f"tính trên {selectors.number_text(expected.scored_max)}/100 điểm có số liệu" in shown


def test_a_worse_value_is_marked_worse(dataset, admin_user):
    # February 2025: one dossier, at the counter; January: two of three online.
    page = signed_in(admin_user).get("/dieu-hanh/", {"ky": "2025-M02"})
    assert tile(page, "online_rate_all") == (
        "Nộp trực tuyến 0,0% 0/1 hồ sơ ▼ giảm 66,7 điểm phần trăm — kém hơn Kỳ trước: 66,7%"
    )
    assert 'class="change worse">' in page.content.decode()


def test_a_section_an_app_registers_is_shown_on_the_page_and_in_the_api(dataset, admin_user):
    client = signed_in(admin_user)
    section = TileSection(
        title="Giải quyết trước hạn, trễ hạn",
        tiles=(("early_rate", "Giải quyết trước hạn"), ("late_rate", "Giải quyết trễ hạn")),
    )
    DASHBOARD_TILES.register("thu-nghiem", section)
    try:
        page = client.get("/dieu-hanh/", Q1)
        data = client.get("/api/dashboard/tiles", {"period": "2025-Q1"}).json()
        whole = client.get("/api/dashboard", {"period": "2025-Q1"}).json()
    finally:
        DASHBOARD_TILES.unregister("thu-nghiem")
    html = page.content.decode()
    assert '<h2 id="giai-quyet-truoc-han">Giải quyết trước hạn, trễ hạn</h2>' in html
    # One tile per indicator, computed as the headline tiles (Q1: D1, D2 early, D5 late of 4 finished).
    assert tile(page, "early_rate") == "Giải quyết trước hạn 50,0% 2/4 hồ sơ = không đổi Kỳ trước: 50,0%"
    assert tile(page, "late_rate") == (
        "Giải quyết trễ hạn 25,0% 1/4 hồ sơ ▼ giảm 25,0 điểm phần trăm — tốt hơn Kỳ trước: 50,0%"
    )
    assert "Giải quyết trễ hạn: số hồ sơ trễ hạn trên số hồ sơ đã giải quyết." in text_of(page)
    # Sections in registration order (the feedback app's first), the same in the API.
    assert html.index('id="phan-anh"') < html.index('id="giai-quyet-truoc-han"')
    for body in (data, whole):
        sections = {s["key"]: s for s in body["sections"]}
        assert list(sections)[-1] == "thu-nghiem" and "feedback" in sections
        assert sections["thu-nghiem"]["title"] == "Giải quyết trước hạn, trễ hạn"
        late = sections["thu-nghiem"]["tiles"][1]
        assert (late["key"], late["label"], late["display"], late["detail"]) == (
            "late_rate",
            "Giải quyết trễ hạn",
            "25,0%",
            "1/4 hồ sơ",
        )
        assert late["display"] in tile(page, "late_rate") and late["change"]["text"] in tile(page, "late_rate")
        # feedback_tiles: the feedback section's tiles, as before sections were registered.
        assert body["feedback_tiles"] == sections["feedback"]["tiles"]
        assert [t["key"] for t in body["feedback_tiles"]] == ["feedback_resolution_rate", "feedback_late_rate"]
    # Unregistered, it is gone; without the feedback section feedback_tiles is empty.
    feedback = DASHBOARD_TILES.get("feedback")
    DASHBOARD_TILES.unregister("feedback")
    try:
        page = client.get("/dieu-hanh/", Q1)
        data = client.get("/api/dashboard/tiles", {"period": "2025-Q1"}).json()
    finally:
        DASHBOARD_TILES.register("feedback", feedback)
    assert "Giải quyết trước hạn" not in text_of(page) and 'id="o-early_rate"' not in page.content.decode()
    assert 'id="phan-anh"' not in page.content.decode()
    assert {s["key"] for s in data["sections"]} & {"feedback", "thu-nghiem"} == set()
    assert data["feedback_tiles"] == []


# ---------------------------------------------------------------- drill-down


def test_drill_down_province_agency_procedure_overdue(dataset, admin_user):
    client = signed_in(admin_user)
    province = client.get("/dieu-hanh/", Q1)
    # One root (UBND tỉnh) over everything: the province opens on what is under it.
    assert 'href="/dieu-hanh/co-quan/ubnd-cho-moi/?ky=2025-Q1">UBND huyện Chợ Mới</a>' in province.content.decode()
    assert "UBND tỉnh An Giang (riêng cơ quan)" in text_of(province)
    # received, online, on time, overdue now (a link to the list)
    assert "UBND huyện Chợ Mới 5 60,0% 75,0% 1 " in text_of(province)
    assert (
        '<a href="/dieu-hanh/co-quan/ubnd-cho-moi/qua-han/?ky=2025-Q1" '
        'aria-label="1 hồ sơ đang quá hạn của UBND huyện Chợ Mới">1</a>'
    ) in province.content.decode()

    district = client.get("/dieu-hanh/co-quan/ubnd-cho-moi/", Q1)
    html = district.content.decode()
    assert 'href="/dieu-hanh/co-quan/xa-kien-an/?ky=2025-Q1">UBND xã Kiến An</a>' in html
    assert 'href="/dieu-hanh/co-quan/xa-kien-thanh/?ky=2025-Q1">UBND xã Kiến Thành</a>' in html
    assert "Số liệu quý I năm 2025, gồm cả các cơ quan trực thuộc" in text_of(district)

    commune = client.get("/dieu-hanh/co-quan/xa-kien-an/", Q1)
    text = text_of(commune)
    assert "Đăng ký khai sinh 1.001193 3 66,7% 100,0% 0 1" in text  # received, online, on time, late, overdue
    assert 'href="/dieu-hanh/co-quan/xa-kien-an/thu-tuc/1.001193/?ky=2025-Q1"' in commune.content.decode()

    procedure = client.get("/dieu-hanh/co-quan/xa-kien-an/thu-tuc/1.001193/", Q1)
    d3 = dataset["D3"]
    text = text_of(procedure)
    assert "Tiếp nhận 3 hồ sơ Nộp trực tuyến 66,7% (2/3) Giải quyết đúng hạn 100,0% (2/2)" in text
    assert "Hồ sơ đang quá hạn (1)" in text
    assert f'<a href="/can-bo/ho-so/{d3.code}/">{d3.code}</a>' in procedure.content.decode()
    # Who holds it (no specialist named: the agency) and at which step.
    assert "Tiếp nhận 10/02/2025, UBND xã Kiến An UBND xã Kiến An Bước: Thụ lý 17:00 13/02/2025" in text
    days = re.search(r"(\d[\d.]*) ngày", text.split(d3.code)[-1]).group(1)
    assert int(days.replace(".", "")) > 400  # working days since February 2025

    overdue = client.get("/dieu-hanh/co-quan/ubnd-cho-moi/qua-han/", Q1)
    assert d3.code in overdue.content.decode() and "1 hồ sơ đang giải quyết đã quá hạn" in text_of(overdue)
    assert "Không có hồ sơ nào đang quá hạn" in text_of(client.get("/dieu-hanh/co-quan/xa-kien-thanh/qua-han/"))


def test_unknown_agency_or_procedure_is_a_404(dataset, admin_user):
    client = signed_in(admin_user)
    assert client.get("/dieu-hanh/co-quan/khong-co/").status_code == 404
    assert client.get("/dieu-hanh/co-quan/xa-kien-an/thu-tuc/9.999999/").status_code == 404


# ---------------------------------------------------------------- scoping


def test_a_commune_leader_sees_only_their_commune(dataset, officers):
    client = signed_in(officers["xa_a"]["leader"])
    home = client.get("/dieu-hanh/", Q1)
    assert "Điều hành: UBND xã Kiến An" in text_of(home)
    assert tile(home, "received").startswith("Hồ sơ tiếp nhận 3 hồ sơ")
    assert "Toàn tỉnh" not in text_of(home).split("Kỳ số liệu")[0]  # no way up to the province
    assert "UBND xã Kiến Thành" not in text_of(home)
    # Its rank among the province's communes, without the others' figures.
    assert "xếp thứ 1/2 trong các UBND cấp xã" in text_of(home)
    for path in (
        "/dieu-hanh/co-quan/xa-kien-thanh/",
        "/dieu-hanh/co-quan/xa-kien-thanh/qua-han/",
        "/dieu-hanh/co-quan/xa-kien-thanh/thu-tuc/1.001193/",
        "/dieu-hanh/co-quan/ubnd-cho-moi/",
        "/dieu-hanh/co-quan/so-tu-phap/",
    ):
        page = client.get(path, Q1)
        assert page.status_code == 403, path
        assert "chỉ xem được số liệu của cơ quan mình" in page.content.decode()
    assert client.get("/dieu-hanh/co-quan/xa-kien-an/thu-tuc/1.001193/", Q1).status_code == 200


def test_a_district_leader_sees_the_district_and_its_communes(dataset, officers):
    client = signed_in(officers["huyen"]["leader"])
    home = client.get("/dieu-hanh/", Q1)
    assert "Điều hành: UBND huyện Chợ Mới" in text_of(home)
    assert "UBND xã Kiến An" in text_of(home) and "UBND xã Kiến Thành" in text_of(home)
    assert client.get("/dieu-hanh/co-quan/xa-kien-thanh/", Q1).status_code == 200
    assert client.get("/dieu-hanh/co-quan/so-tu-phap/", Q1).status_code == 403
    assert client.get("/dieu-hanh/co-quan/ubnd-tinh/", Q1).status_code == 403


def test_a_district_leader_sees_the_communes_overdue_dossiers_but_opens_only_their_own(dataset, officers):
    """The dashboard supervises the agencies under a leader's; the back
    office, where dossiers are acted on, stays the leader's own agency's."""
    d3 = dataset["D3"].code
    district = signed_in(officers["huyen"]["leader"])
    html = district.get("/dieu-hanh/co-quan/ubnd-cho-moi/qua-han/", Q1).content.decode()
    assert "Hồ sơ đang quá hạn (1)" in text_of(district.get("/dieu-hanh/co-quan/xa-kien-an/thu-tuc/1.001193/", Q1))
    assert d3 in html and f'href="/can-bo/ho-so/{d3}/"' not in html
    assert district.get(f"/can-bo/ho-so/{d3}/").status_code == 404
    rows = district.get("/api/dashboard/overdue", {"period": "2025-Q1", "agency": "ubnd-cho-moi"}).json()
    assert [r["code"] for r in rows["dossiers"]] == [d3]
    commune = signed_in(officers["xa_a"]["leader"]).get("/dieu-hanh/co-quan/xa-kien-an/qua-han/", Q1)
    assert f'<a href="/can-bo/ho-so/{d3}/">{d3}</a>' in commune.content.decode()
    assert signed_in(officers["xa_b"]["leader"]).get("/dieu-hanh/co-quan/xa-kien-an/qua-han/", Q1).status_code == 403


# ---------------------------------------------------------------- charts


def test_trend_charts_are_inline_svg_with_title_and_a_table(dataset, admin_user):
    html = signed_in(admin_user).get("/dieu-hanh/", Q1).content.decode()
    # Two trend charts and three distributions (by channel, by status, agencies by on-time rate).
    assert html.count('<svg viewBox="0 0 360 220" role="img"') == 5
    assert 'aria-labelledby="bieu-do-tiep-nhan-t bieu-do-tiep-nhan-d"' in html
    assert '<title id="bieu-do-tiep-nhan-t">Hồ sơ tiếp nhận theo tháng, theo hình thức nộp</title>' in html
    assert (
        "từ tháng 04/2024 đến tháng 03/2025: tổng 7 hồ sơ, trong đó trực tuyến 4, trực tiếp 2, qua bưu chính 1" in html
    )
    table = html.split("<caption>Số liệu của biểu đồ: Hồ sơ tiếp nhận theo tháng")[1].split("</table>")[0]
    assert table.count('<th scope="row">') == 12
    assert '<th scope="row">tháng 01/2025</th><td>2</td><td>0</td><td>1</td>' in table
    rates = html.split("<caption>Số liệu của biểu đồ: Tỷ lệ nộp trực tuyến")[1].split("</table>")[0]
    assert '<th scope="row">tháng 01/2025</th><td>66,7%</td><td>100,0%</td>' in rates
    assert "<title>tháng 01/2025 — Trực tuyến: 2</title>" in html  # bars say what they are
    assert "<script" not in html.split("<main")[1]  # nothing drawn by JavaScript


# ---------------------------------------------------------------- ranking


def test_ranking_of_communes_by_the_chosen_indicator(dataset, admin_user):
    client = signed_in(admin_user)
    online = text_of(client.get("/dieu-hanh/", {**Q1, "chi_so": "online_rate_all"}))
    assert "UBND cấp xã (2 cơ quan)" in online
    assert "1 UBND xã Kiến An 66,7% 2/3 2 UBND xã Kiến Thành 50,0% 1/2" in online
    late = text_of(client.get("/dieu-hanh/", {**Q1, "chi_so": "late_rate"}))
    assert "giá trị thấp xếp trước" in late
    assert "1 UBND xã Kiến An 0,0% 0/2 2 UBND xã Kiến Thành 50,0% 1/2" in late
    # Provincial agencies with nothing to measure are named, not ranked.
    assert "Chưa có số liệu: Công an tỉnh, Sở Tư pháp, UBND tỉnh An Giang." in late


def test_long_rankings_show_top_and_bottom(dataset, admin_user, province):
    from chinhquyenso.dashboard.selectors import RankGroup, RankRow

    rows = [RankRow(i, None, None) for i in range(1, 13)]
    group = RankGroup("commune", "UBND cấp xã", rows, [])
    assert group.shortened and [r.rank for r in group.top] == [1, 2, 3, 4, 5]
    assert [r.rank for r in group.bottom] == [8, 9, 10, 11, 12] and group.hidden == 2


# ---------------------------------------------------------------- e-government completion


def test_egov_completion_per_agency_with_gaps_and_shares(dataset, admin_user):
    text = text_of(signed_in(admin_user).get("/dieu-hanh/", Q1))
    assert "Hoàn thiện chính quyền điện tử (tháng 3 năm 2025)" in text
    assert "TC1: Dịch vụ công trực tuyến xử lý bằng hồ sơ điện tử (≥ 90%)" in text
    assert "Cơ quan cấp tỉnh: 0/3 cơ quan đạt, 0,0%" in text
    assert "UBND cấp huyện: 0/1 cơ quan đạt, 0,0%" in text
    assert "UBND huyện Chợ Mới ✗ thiếu" in text and "✗ chưa có số liệu" in text


def test_egov_share_counts_complete_agencies(dataset, admin_user, province):
    from chinhquyenso.indicators.models import Indicator
    from chinhquyenso.indicators.periods import month
    from chinhquyenso.indicators.services import record_reported_value

    march = month(2025, 3)
    doc, cert = (
        Indicator.objects.get(code="doc_exchange_electronic_rate"),
        Indicator.objects.get(code="has_signature_certificate"),
    )
    for key in ("tu_phap", "cong_an"):
        record_reported_value(
            indicator=doc,
            agency=province[key],
            period_start=march.start,
            period_end=march.end,
            numerator=95,
            denominator=100,
            actor=admin_user,
        )
        record_reported_value(
            indicator=cert,
            agency=province[key],
            period_start=march.start,
            period_end=march.end,
            value=1,
            actor=admin_user,
        )
    text = text_of(signed_in(admin_user).get("/dieu-hanh/", Q1))
    # No online dossiers in the departments: TC1 has nothing to measure, so they still miss it.
    assert "Sở Tư pháp ✗ chưa có số liệu ✓ đạt ✓ đạt" in text


# ---------------------------------------------------------------- compliance (LRIS)


def test_reporting_compliance_when_lris_is_there(dataset, admin_user, province):
    if selectors.lris_selectors() is None:
        pytest.skip("LRIS is not installed: the compliance section is left out")
    import datetime as dt

    from chinhquyenso.indicators.periods import month
    from chinhquyenso.lris import services as lris
    from chinhquyenso.lris.models import ReportForm

    lris.load_forms(actor=admin_user)
    form = ReportForm.objects.get(code="chinh-quyen-dien-tu")
    lris.assign_form(
        actor=admin_user,
        form=form,
        period=month(2025, 3),
        deadline=dt.date(2025, 4, 5),
        agencies=[province["tu_phap"], province["huyen"]],
    )
    text = text_of(signed_in(admin_user).get("/dieu-hanh/", Q1))
    assert "Chấp hành chế độ báo cáo số liệu" in text
    assert f"{form.name} tháng 3 năm 2025 0,0% (0/2) 0,0% (0/2) Sở Tư pháp, UBND huyện Chợ Mới" in text
    district = text_of(signed_in(admin_user).get("/dieu-hanh/co-quan/ubnd-cho-moi/", Q1))
    assert "UBND huyện Chợ Mới và các cơ quan trực thuộc" in district
    assert f"{form.name} tháng 3 năm 2025 0,0% (0/1) 0,0% (0/1) UBND huyện Chợ Mới" in district
    commune = text_of(signed_in(admin_user).get("/dieu-hanh/co-quan/xa-kien-an/", Q1))
    assert "Không có báo cáo nào được giao trong kỳ." in commune


def test_without_lris_the_section_is_left_out(dataset, admin_user, monkeypatch):
    monkeypatch.setattr(selectors, "lris_selectors", lambda: None)
    text = text_of(signed_in(admin_user).get("/dieu-hanh/", Q1))
    assert "Chấp hành chế độ báo cáo" not in text and "Điểm Bộ chỉ số 766" in text


# ---------------------------------------------------------------- cache and cost


def test_figures_are_at_most_a_minute_old_overdue_lists_are_live(dataset, admin_user, officers, monkeypatch):
    import time

    from django.core.cache.backends import locmem

    client = signed_in(admin_user)
    assert tile(client.get("/dieu-hanh/", Q1), "on_time_rate").startswith("Giải quyết đúng hạn 75,0% 3/4")
    finish(dataset["D3"], officers["xa_a"], at=dataset["D3"].due_at.replace(year=2025, month=3, day=25))
    cached = client.get("/dieu-hanh/", Q1)
    assert tile(cached, "on_time_rate").startswith("Giải quyết đúng hạn 75,0% 3/4")  # from the cache …
    assert "UBND huyện Chợ Mới 5 60,0% 75,0% 0 " in text_of(cached)  # … but the overdue count is live
    later = time.time() + figures.CACHE_SECONDS + 1
    monkeypatch.setattr(locmem.time, "time", lambda: later)
    fresh = client.get("/dieu-hanh/", Q1)
    assert tile(fresh, "on_time_rate").startswith("Giải quyết đúng hạn 60,0% 3/5")
    assert "UBND huyện Chợ Mới 5 60,0% 60,0% 0 " in text_of(fresh)


def test_a_cached_page_reads_little(dataset, admin_user):
    client = signed_in(admin_user)
    client.get("/dieu-hanh/co-quan/xa-kien-an/", Q1)
    with CaptureQueriesContext(connection) as first:
        client.get("/dieu-hanh/co-quan/xa-kien-an/", Q1)
    # Session, user, data version, agency lookup, 766 rules, overdue counts … but no fact aggregation.
    assert len(first) <= 30, [q["sql"][:120] for q in first.captured_queries]
    assert not any("indicators_dossierfact" in q["sql"] for q in first.captured_queries)

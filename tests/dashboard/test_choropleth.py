"""The choropleth of communes by on-time rate: server-side SVG circles at
the communes' reference points (sized by volume, coloured by class), outlines
from a GeoJSON file when the province provides one, a legend with the class
breaks, a table with the same figures, and the wall mode."""

import json

import pytest

from chinhquyenso.feedback.models import AreaPoint
from tests.dashboard.conftest import signed_in
from tests.dashboard.test_pages import text_of

pytestmark = pytest.mark.django_db
Q1 = {"ky": "2025-Q1"}
BLUE, RED = "#4575b4", "#d73027"


@pytest.fixture
def points(province):
    AreaPoint.objects.create(agency=province["xa_a"], latitude="10.3865", longitude="105.4352")
    AreaPoint.objects.create(agency=province["xa_b"], latitude="10.4500", longitude="105.5100")


def map_svg(html: str) -> str:
    return html.split('class="choropleth">')[1].split("</svg>")[0]


def test_communes_are_circles_coloured_by_on_time_class(dataset, points, admin_user):
    html = signed_in(admin_user).get("/dieu-hanh/", Q1).content.decode()
    svg = map_svg(html)
    # Kiến An 2/2 on time (≥ 95%), Kiến Thành 1/2 (under 70%); equal volumes, equal circles.
    assert svg.count("<circle") == 2
    assert f'fill="{BLUE}" stroke="#1b1b1b"' in svg and f'fill="{RED}" stroke="#1b1b1b"' in svg
    assert "<title>UBND xã Kiến An: 100,0% (2 hồ sơ)</title>" in svg
    text = text_of(type("R", (), {"content": html.encode()}))
    # The legend names each class with its breaks and how many communes are in it.
    assert "dưới 70% (1) 70% – dưới 85% (0) 85% – dưới 95% (0) từ 95% trở lên (1) chưa đủ số hồ sơ (0)" in text
    assert "Chưa có ranh giới xã (tệp GeoJSON)" in text
    # The same figures as a table.
    assert "UBND xã Kiến An 100,0% 2 từ 95% trở lên" in text and "UBND xã Kiến Thành 50,0% 2 dưới 70%" in text


def test_communes_with_too_few_dossiers_are_hollow(dataset, points, admin_user, settings):
    settings.CQS = {**settings.CQS, "DASHBOARD_RANKING_MIN_DOSSIERS": 10}
    html = signed_in(admin_user).get("/dieu-hanh/", Q1).content.decode()
    assert map_svg(html).count('fill="none" stroke-dasharray="2 2"') == 2
    assert "chưa đủ số hồ sơ (2)" in text_of(type("R", (), {"content": html.encode()}))


def test_outlines_from_the_provinces_geojson(dataset, points, admin_user, settings, tmp_path):
    ring = [[105.40, 10.36], [105.47, 10.36], [105.47, 10.42], [105.40, 10.42], [105.40, 10.36]]
    outlines = tmp_path / "xa.geojson"
    outlines.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": "xa-kien-an", "name": "Kiến An"},
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    settings.CQS = {**settings.CQS, "COMMUNE_OUTLINES": str(outlines)}
    html = signed_in(admin_user).get("/dieu-hanh/", Q1).content.decode()
    svg = map_svg(html)
    assert svg.count('<path class="outline"') == 1 and '<path class="outline" d="M' in svg
    assert f'fill="{BLUE}" fill-opacity=".55"' in svg
    assert "Chưa có ranh giới xã" not in html


def test_without_points_the_map_says_so(dataset, admin_user):
    text = text_of(signed_in(admin_user).get("/dieu-hanh/", Q1))
    assert "Chưa có tọa độ xã, phường để vẽ bản đồ." in text


def test_wall_mode_full_screen_dark_and_refreshing(dataset, points, admin_user):
    client = signed_in(admin_user)
    for page in (client.get("/dieu-hanh/trinh-chieu/", Q1), client.get("/dieu-hanh/", {**Q1, "che-do": "trinh-chieu"})):
        html = page.content.decode()
        assert page.status_code == 200
        # Reloaded every minute without script (the Refresh header), with a way to stop it (WCAG 2.2.1).
        assert page["Refresh"] == "60" and "dừng tự làm mới" in html
        assert 'class="wall"' in html and "dashboard/wall.css" in html
        assert 'id="so-qua-han"' in html and 'class="choropleth"' in html and 'id="o-on_time_rate"' in html
        assert "<script" not in html and '<header class="top">' not in html  # no site menu on the wall
    stopped = client.get("/dieu-hanh/trinh-chieu/", {**Q1, "tu-lam-moi": "tat"})
    assert not stopped.has_header("Refresh") and "đã dừng tự làm mới" in stopped.content.decode()
    agency = client.get("/dieu-hanh/co-quan/xa-kien-an/", {**Q1, "che-do": "trinh-chieu"}).content.decode()
    assert "Điều hành: UBND xã Kiến An" in agency and 'href="/dieu-hanh/co-quan/xa-kien-an/?ky=2025-Q1"' in agency

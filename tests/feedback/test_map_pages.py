"""The feedback pages' maps (core.maps, cqs/_map.html, cqs/map.js): the tile server comes from
settings (none in tests: the offline base layer of the communes' points); the form keeps no raw
latitude/longitude boxes (without JavaScript the commune and address say where); the officer's
page shows the point on a small map with a directions link; the public map clusters rounded
points; the Content-Security-Policy names the tile server only when one is configured."""

import json
import re

import pytest
from django.test import Client

from chinhquyenso.core import maps
from chinhquyenso.core.headers import CONTENT_SECURITY_POLICY, content_security_policy
from chinhquyenso.feedback.models import Feedback
from tests.feedback.test_pages import EXACT, NAME, PHONE, form, signed_in, text

pytestmark = pytest.mark.django_db

OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def tiles(settings, url: str, attribution: str = "© OpenStreetMap"):
    settings.CQS = {**settings.CQS, "MAP_TILES": {"URL": url, "ATTRIBUTION": attribution, "MAX_ZOOM": 18}}


def map_element(html: str, map_id: str) -> str:
    match = re.search(rf'<div id="{map_id}" class="cqs-map[^"]*"[^>]*>', html)
    assert match, f"no map {map_id}"
    return match.group(0)


def json_script(html: str, script_id: str) -> dict:
    match = re.search(rf'<script id="{script_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"no JSON {script_id}"
    return json.loads(match.group(1))


@pytest.fixture
def pinned_report(report):
    """A report with the reporter's exact point (and name, phone), filed through Open311."""
    return report(
        reporter=None, name=NAME, phone=PHONE, latitude=EXACT[0], longitude=EXACT[1], area_code="", channel="open311"
    )


def csp(response) -> str:
    return response["Content-Security-Policy"]


# ---------------------------------------------------------------- settings drive the base layer


def test_the_tile_server_and_its_attribution_come_from_settings(categories, points, citizen, settings):
    tiles(settings, OSM, '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>')
    response = signed_in(citizen).get("/phan-anh/gui/")
    element = map_element(text(response), "ban-do-chon-vi-tri")
    assert f'data-tiles="{OSM}"' in element and 'data-max-zoom="18"' in element
    assert 'data-attribution="© &lt;a href=&quot;https://www.openstreetmap.org/copyright&quot;&gt;' in element
    assert csp(response).split("img-src ")[1].split(";")[0] == "'self' data: https://tile.openstreetmap.org"


def test_offline_the_map_has_no_tiles_and_draws_the_communes_points(categories, points, citizen):
    # tests/conftest.py: CQS_MAP_TILE_URL empty in every test.
    response = signed_in(citizen).get("/phan-anh/gui/")
    html = text(response)
    element = map_element(html, "ban-do-chon-vi-tri")
    assert 'data-tiles=""' in element and 'data-base="ban-do-chon-vi-tri-base"' in element
    places = json_script(html, "ban-do-chon-vi-tri-base")
    named = {
        f["properties"]["code"]: (f["properties"]["name"], f["geometry"]["coordinates"]) for f in places["features"]
    }
    assert named == {"xa-kien-an": ("xã Kiến An", [105.48, 10.48]), "xa-kien-thanh": ("xã Kiến Thành", [105.52, 10.43])}
    assert "img-src 'self' data:;" in csp(response) and "tile" not in csp(response)
    # The map is drawn by its script only; the vendored Leaflet comes from the platform itself.
    assert 'class="cqs-map-wrap" hidden' in html
    assert '<script src="/static/vendor/leaflet/leaflet.js" defer></script>' in html
    assert '<script src="/static/cqs/map.js" defer></script>' in html


def test_the_policy_names_the_tile_host_only_when_configured(settings):
    assert maps.tile_source("") == ""
    assert maps.tile_source(OSM) == "https://tile.openstreetmap.org"
    assert (
        maps.tile_source("https://{s}.tile.example.vn:8443/ban-do/{z}/{x}/{y}.png") == "https://*.tile.example.vn:8443"
    )
    assert maps.tile_source("/ban-do-nen/{z}/{x}/{y}.png") == ""  # the platform's own: 'self'
    assert maps.tile_source("javascript:alert(1)") == ""
    assert maps.tile_source("https://tiles.example.vn;script-src *") == ""
    assert content_security_policy("") == CONTENT_SECURITY_POLICY
    assert "img-src 'self' data: https://t.example.vn;" in content_security_policy("https://t.example.vn")
    # Every HTML page carries the policy of the current settings, the map's pages or not.
    assert "tile.openstreetmap.org" not in csp(Client().get("/phan-anh/"))
    tiles(settings, OSM)
    assert "img-src 'self' data: https://tile.openstreetmap.org;" in csp(Client().get("/phan-anh/"))
    assert "script-src 'self';" in csp(Client().get("/phan-anh/"))  # nothing else widened


# ---------------------------------------------------------------- the form


def test_the_form_has_no_raw_coordinate_boxes_and_asks_for_commune_and_address(categories, points, citizen):
    html = text(signed_in(citizen).get("/phan-anh/gui/"))
    assert '<input type="hidden" id="latitude" name="latitude" value="">' in html
    assert '<input type="hidden" id="longitude" name="longitude" value="">' in html
    assert not re.search(r'<input[^>]+name="(latitude|longitude)"[^>]+type="number"', html)
    assert '<label for="latitude">' not in html and "Vĩ độ" not in html
    # Without JavaScript: the commune select and the address field, as before.
    assert '<select id="area_code" name="area_code"' in html and '<input id="address" name="address"' in html
    # With it: the map picks, "use my location" (hidden until the script finds geolocation).
    element = map_element(html, "ban-do-chon-vi-tri")
    for attribute in (
        'data-pick-lat="latitude"',
        'data-pick-lon="longitude"',
        'data-pick-area="area_code"',
        'data-pick-max-km="15"',
        'data-locate="dung-vi-tri"',
        'data-bounds="10.200000,10.950000,104.800000,105.600000"',
    ):
        assert attribute in element, attribute
    assert '<button type="button" class="secondary" id="dung-vi-tri" hidden>Dùng vị trí của tôi</button>' in html


def test_a_pin_from_the_map_is_filed_and_routed_to_the_nearest_commune(categories, points, citizen):
    client = signed_in(citizen)
    response = client.post("/phan-anh/gui/", form(area_code="", latitude="10.431000", longitude="105.519000"))
    assert response.status_code == 302
    feedback = Feedback.objects.get()
    assert feedback.area.code == "xa-kien-thanh" and str(feedback.latitude) == "10.431000"


def test_a_refused_pin_is_kept_on_the_map_with_its_message(categories, points, citizen):
    response = signed_in(citizen).post("/phan-anh/gui/", form(latitude="21.028500", longitude="105.854200"))
    assert response.status_code == 400
    html = text(response)
    assert (
        '<input type="hidden" id="latitude" name="latitude" value="21.028500" aria-describedby="latitude-err">' in html
    )
    assert re.search(r'<p class="error" id="latitude-err">Ghim trên bản đồ: [^<]+</p>', html)


# ---------------------------------------------------------------- officers


def test_the_officer_sees_the_point_on_a_map_with_a_directions_link(pinned_report, officers):
    html = text(signed_in(officers["xa_a"]["specialist"]).get(f"/can-bo/phan-anh/{pinned_report.code}/"))
    assert f"{EXACT[0]}, {EXACT[1]}" in html  # still as text, to copy
    directions = f"https://www.google.com/maps/dir/?api=1&amp;destination={EXACT[0]},{EXACT[1]}"
    assert f'<a href="{directions}" rel="noopener noreferrer" target="_blank">Chỉ đường đến nơi xảy ra' in html
    assert f'<a href="geo:{EXACT[0]},{EXACT[1]}">Mở bằng ứng dụng bản đồ</a>' in html
    element = map_element(html, "ban-do-noi-xay-ra")
    assert f'data-center="{EXACT[0]},{EXACT[1]}" data-zoom="16"' in element
    pin = json_script(html, "ban-do-noi-xay-ra-points")["features"]
    assert [f["geometry"]["coordinates"] for f in pin] == [[float(EXACT[1]), float(EXACT[0])]]
    # Nothing of the reporter in the link: only the point.
    assert NAME not in directions and PHONE not in directions and NAME in html


def test_the_directions_link_follows_settings_and_holds_only_the_point(settings):
    settings.CQS = {**settings.CQS, "MAP_DIRECTIONS_URL": "https://www.openstreetmap.org/directions?to={lat}%2C{lon}"}
    assert (
        maps.directions_url("10.4812", "105.48") == "https://www.openstreetmap.org/directions?to=10.481200%2C105.480000"
    )


def test_officers_who_may_not_read_the_address_get_no_map(pinned_report, officers):
    other = officers["xa_b"]["specialist"]
    response = signed_in(other).get(f"/can-bo/phan-anh/{pinned_report.code}/")
    assert response.status_code == 404 or "ban-do-noi-xay-ra" not in text(response)


def test_a_report_without_a_point_has_no_map(report, officers):
    feedback = report()
    html = text(signed_in(officers["xa_a"]["specialist"]).get(f"/can-bo/phan-anh/{feedback.code}/"))
    assert "ban-do-noi-xay-ra" not in html and "Chỉ đường" not in html


# ---------------------------------------------------------------- the public map


def test_the_public_map_clusters_rounded_points_with_links(report, django_assert_max_num_queries):
    pinned = report(latitude="10.481234", longitude="105.481234", area_code="", description="Cây đổ chắn đường.")
    unpinned = report(description="Không có tọa độ.")
    for i in range(30):
        report(latitude=f"10.48{i:02d}00", longitude="105.480000", area_code="", description=f"Rác số {i} ven kênh.")
    with django_assert_max_num_queries(12):
        response = Client().get("/phan-anh/ban-do/")
    html = text(response)
    element = map_element(html, "ban-do-phan-anh")
    assert 'data-cluster="1"' in element and 'data-points="ban-do-phan-anh-points"' in element
    assert "markercluster/leaflet.markercluster.js" in html
    features = json_script(html, "ban-do-phan-anh-points")["features"]
    assert len(features) == 31
    mine = next(f for f in features if f["properties"]["url"] == f"/phan-anh/{pinned.code}/")
    assert mine["geometry"]["coordinates"] == [105.481, 10.481]  # rounded: the place, not the house
    assert mine["properties"]["label"].startswith(f"{pinned.code}: Môi trường") and mine["properties"]["kind"] == "open"
    assert unpinned.code not in json.dumps(features)
    assert "10.481234" not in html and "105.481234" not in html
    # Offline, the communes' points are its base layer; the table is the text alternative.
    assert len(json_script(html, "ban-do-phan-anh-base")["features"]) == 2
    table = html[html.index("<table") :]
    assert f'<a href="/phan-anh/{pinned.code}/">{pinned.code}</a>' in table and "10.481, 105.481" in table


def test_with_tiles_the_public_map_sends_no_base_points(report, settings):
    tiles(settings, OSM)
    report(latitude="10.480000", longitude="105.480000", area_code="")
    html = text(Client().get("/phan-anh/ban-do/"))
    assert "ban-do-phan-anh-base" not in html and f'data-tiles="{OSM}"' in html


def test_the_filters_apply_to_the_map(report):
    light = report(latitude="10.480000", longitude="105.480000", area_code="", category_code="giao-thong")
    trash = report(latitude="10.430000", longitude="105.520000", area_code="")
    html = text(Client().get("/phan-anh/ban-do/", {"linh_vuc": "giao-thong"}))
    urls = [f["properties"]["url"] for f in json_script(html, "ban-do-phan-anh-points")["features"]]
    assert urls == [f"/phan-anh/{light.code}/"] and trash.code not in html

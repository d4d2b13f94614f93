"""Routing: where it happened (pin, agency code, address text) and who
handles the category there (commune, district, fixed agency, or the IOC
queue), before and after reorganizations."""

import datetime as dt

import pytest

from chinhquyenso.feedback import services
from chinhquyenso.feedback.models import Category, Feedback, Status
from chinhquyenso.feedback.routing import haversine_km, locate, route, route_category
from chinhquyenso.org import services as org
from chinhquyenso.org.models import AgencyKind
from tests.conftest import vn

pytestmark = pytest.mark.django_db


def test_haversine_distance():
    # Long Xuyên → Châu Đốc, about 50 km as the crow flies
    assert 45 < haversine_km(10.3865, 105.4352, 10.7069, 105.1175) < 52
    assert haversine_km(10.5, 105.5, 10.5, 105.5) == 0


def test_a_pin_goes_to_the_nearest_commune_within_the_limit(points, province, settings):
    assert locate(latitude="10.479", longitude="105.481") == province["xa_a"]
    assert locate(latitude="10.440", longitude="105.515") == province["xa_b"]
    # ~40 km away: no commune point within 15 km
    assert locate(latitude="10.80", longitude="105.30") is None
    settings.CQS = {**settings.CQS, "FEEDBACK_PIN_MAX_KM": 60}
    assert locate(latitude="10.80", longitude="105.30") == province["xa_a"]


def test_an_agency_code_or_electronic_code(province):
    assert locate(area_code="xa-kien-thanh") == province["xa_b"]
    assert locate(area_code="000.07.01.H01") == province["xa_a"]
    assert locate(area_code="ubnd-cho-moi") == province["huyen"]
    assert locate(area_code="so-tu-phap") is None  # not a place


@pytest.mark.parametrize(
    "address, key",
    [
        ("Ấp 3, xã Kiến Thành, huyện Chợ Mới, An Giang", "xa_b"),
        ("ap 3 kien thanh cho moi", "xa_b"),  # typed without diacritics
        ("KIẾN AN", "xa_a"),
        ("Chợ Mới, An Giang", "huyen"),  # only the district is named
    ],
)
def test_address_text_matches_commune_then_district_names(province, address, key):
    assert locate(address=address) == province[key]


def test_the_pin_wins_over_code_and_address(points, province):
    assert locate(latitude="10.43", longitude="105.52", area_code="xa-kien-an", address="Kiến An") == province["xa_b"]
    assert locate(latitude="11.9", longitude="107.0", area_code="xa-kien-an") == province["xa_a"]  # pin too far: code


def test_categories_route_by_level_kind_or_fixed_agency(categories, province):
    a, huyen = province["xa_a"], province["huyen"]
    assert route_category(categories["moi-truong"], a) == a
    assert route_category(categories["dat-dai-xay-dung"], a) == huyen  # district matter: the district above
    assert route_category(categories["moi-truong"], huyen) == huyen  # only the district is known: it dispatches
    assert route_category(categories["an-ninh-trat-tu"], a) == province["cong_an"]  # fixed agency
    assert route_category(categories["an-ninh-trat-tu"], None) == province["cong_an"]
    # "Y tế" is fixed to Sở Y tế, absent from the test province: a department cannot be chosen by place → IOC
    assert categories["y-te"].handling_agency is None
    assert route_category(categories["y-te"], a) is None
    assert route_category(categories["moi-truong"], None) is None


def test_route_of_a_report_is_pure(categories, points, province, citizen):
    fb = Feedback(category=categories["giao-thong"], latitude="10.431", longitude="105.519")
    assert route(fb) == province["xa_b"] and fb.pk is None
    assert route(Feedback(category=categories["giao-thong"], address="nơi nào đó")) is None


def test_unknown_place_goes_to_the_ioc_queue(categories, citizen):
    fb = services.submit(
        services.Submission(category_code="giao-thong", description="Ổ gà.", latitude="10.9", longitude="105.0"),
        reporter=citizen,
        at=vn(2025, 3, 3, 9),
    )
    assert fb.agency is None and fb.area is None and fb.status == Status.RECEIVED


@pytest.fixture
def merged(categories, points, province, officers, citizen, admin_user, report):
    """Before: one open and one resolved report in Kiến An. 01/7/2025: Kiến
    An and Kiến Thành merge into xã Chợ Mới."""
    open_one = report(description="Rác ven kênh.", at=vn(2025, 6, 2, 9))
    done = report(description="Đèn đường hỏng.", category_code="giao-thong", at=vn(2025, 6, 2, 9))
    services.resolve(done, actor=officers["xa_a"]["specialist"], public_reply="Đã thay bóng.", at=vn(2025, 6, 5, 9))
    new = org.merge(
        actor=admin_user,
        sources=[province["xa_a"], province["xa_b"]],
        name="UBND xã Chợ Mới",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=province["huyen"],
        effective_date=dt.date(2025, 7, 1),
    )
    return new, open_one, done


def test_open_feedback_follows_the_reorganization_finished_feedback_stays(merged, province, officers):
    new, open_one, done = merged
    open_one.refresh_from_db()
    done.refresh_from_db()
    assert open_one.agency == new and done.agency == province["xa_a"]
    assert open_one.events.filter(action="reassign", agency=new).exists()
    # the former officers now work in the successor and finish it
    services.resolve(open_one, actor=officers["xa_a"]["specialist"], public_reply="Đã thu gom.", at=vn(2025, 7, 2, 9))
    assert open_one.status == Status.RESOLVED


def test_a_merged_commune_routes_to_its_successor(merged, categories, citizen):
    new = merged[0]
    assert locate(latitude="10.479", longitude="105.481") == new  # the old commune's point
    assert locate(area_code="xa-kien-an") == new  # the old code
    assert locate(address="Ấp 1, xã Kiến Thành") == new  # an old address
    fb = services.submit(
        services.Submission(category_code="moi-truong", description="Khói bụi.", area_code="000.07.02.H01"),
        reporter=citizen,
        at=vn(2025, 7, 3, 9),
    )
    assert fb.agency == new and fb.area == new


def test_without_districts_a_district_matter_goes_to_the_commune(categories, province, admin_user):
    org.dissolve(
        actor=admin_user, agency=province["huyen"], successor=province["ubnd"], effective_date=dt.date(2025, 7, 1)
    )
    commune = locate(area_code="xa-kien-an")
    assert commune.is_current and commune.parent == province["ubnd"] and commune.name == "UBND xã Kiến An"
    assert route_category(categories["dat-dai-xay-dung"], commune) == commune


def test_a_fixed_agency_that_was_merged_routes_to_its_successor(categories, province, admin_user):
    category = categories["an-ninh-trat-tu"]
    new = org.rename(
        actor=admin_user,
        agency=province["cong_an"],
        new_name="Công an tỉnh An Giang",
        effective_date=dt.date(2025, 7, 1),
    )
    category.refresh_from_db()
    assert route_category(category, None) == new


def test_loading_categories_is_idempotent_and_keeps_edits(categories, admin_user):
    Category.objects.filter(code="giao-thong").update(handling_days=10)
    result = services.load_categories(actor=admin_user)
    assert result["created"] == 0 and result["existing"] == 11
    assert Category.objects.get(code="giao-thong").handling_days == 10
    assert set(result["unresolved_agencies"]) == {
        "so-y-te",
        "so-giao-duc-dao-tao",
        "so-cong-thuong",
        "trung-tam-phvhc-tinh",
    }

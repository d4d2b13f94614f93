"""Shared fixtures: a small province, officers in each role, a procedure."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole, Role
from chinhquyenso.org import services as org
from chinhquyenso.org.models import AgencyKind
from chinhquyenso.procedures import services as procedures

# Shared datasets (the hand-computed Q1/2025 province of the indicator tests).
pytest_plugins = ["tests.datasets", "tests.signing.fixtures"]

VN = ZoneInfo("Asia/Ho_Chi_Minh")
_ids = itertools.count(1)


def vn(*args) -> dt.datetime:
    """Local (Asia/Ho_Chi_Minh) datetime: vn(2025, 1, 20, 9, 30)."""
    return dt.datetime(*args, tzinfo=VN)


def new_citizen_id() -> str:
    return f"0890{next(_ids):08d}"


@pytest.fixture(autouse=True)
def site_url(monkeypatch):
    """Links in e-mails are absolute: the installation's address (CQS_SITE_URL)."""
    from django.conf import settings

    monkeypatch.setitem(settings.CQS, "SITE_URL", "https://dvc.example.gov.vn")
    return "https://dvc.example.gov.vn"


@pytest.fixture(autouse=True)
def offline_maps(monkeypatch):
    """Tests never reach a tile server: the maps draw their offline base layer (CQS_MAP_TILE_URL="")."""
    from django.conf import settings

    monkeypatch.setitem(settings.CQS, "MAP_TILES", {**settings.CQS["MAP_TILES"], "URL": ""})


@pytest.fixture
def admin_user(db):
    return accounts.create_officer(
        actor=None,
        username="qt.tinh",
        password="Mat-khau-2025",
        full_name="Quản trị tỉnh",
        global_role=GlobalRole.PROVINCE_ADMIN,
    )


@pytest.fixture
def province(db, admin_user):
    """UBND tỉnh, two departments, one district with two communes."""
    ubnd = org.create_agency(
        actor=admin_user,
        name="UBND tỉnh An Giang",
        kind=AgencyKind.PROVINCE_COMMITTEE,
        electronic_code="000.00.00.H01",
        code="ubnd-tinh",
    )
    tu_phap = org.create_agency(
        actor=admin_user,
        name="Sở Tư pháp",
        kind=AgencyKind.DEPARTMENT,
        parent=ubnd,
        electronic_code="000.00.15.H01",
        code="so-tu-phap",
    )
    cong_an = org.create_agency(
        actor=admin_user,
        name="Công an tỉnh",
        kind=AgencyKind.SPECIAL_UNIT,
        parent=ubnd,
        electronic_code="000.00.30.H01",
        code="cong-an-tinh",
    )
    huyen = org.create_agency(
        actor=admin_user,
        name="UBND huyện Chợ Mới",
        kind=AgencyKind.DISTRICT_COMMITTEE,
        parent=ubnd,
        electronic_code="000.00.07.H01",
        code="ubnd-cho-moi",
    )
    xa_a = org.create_agency(
        actor=admin_user,
        name="UBND xã Kiến An",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=huyen,
        electronic_code="000.07.01.H01",
        code="xa-kien-an",
    )
    xa_b = org.create_agency(
        actor=admin_user,
        name="UBND xã Kiến Thành",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=huyen,
        electronic_code="000.07.02.H01",
        code="xa-kien-thanh",
    )
    return {"ubnd": ubnd, "tu_phap": tu_phap, "cong_an": cong_an, "huyen": huyen, "xa_a": xa_a, "xa_b": xa_b}


@pytest.fixture
def officers(province, admin_user):
    """officers[agency_key][role] → user with that one role in that agency."""
    result = {}
    for key, agency in province.items():
        result[key] = {
            role: accounts.create_officer(
                actor=admin_user,
                username=f"{key}.{role}",
                password="Mat-khau-2025",
                full_name=f"Cán bộ {key} {role}",
                memberships=[(agency, role)],
            )
            for role in Role.values
        }
    return result


def make_procedure(admin_user, agencies, **overrides):
    data = {
        "code": "1.001193",
        "name": "Đăng ký khai sinh",
        "field_code": "ho-tich",
        "field_name": "Hộ tịch",
        "levels": ["commune"],
        "service_level": "full_online",
        "processing_days": 3,
        "fee": 0,
        "charge": 8000,
        "online_discount_percent": 50,
        "result_type": "giay-khai-sinh",
        "result_name": "Giấy khai sinh",
        "components": [
            {"name": "Tờ khai đăng ký khai sinh"},
            {"name": "Giấy chứng sinh"},
            {"name": "Giấy tờ tùy thân của người đi đăng ký", "mandatory": False},
        ],
        "steps": [
            {"name": "Thụ lý", "role": "specialist", "days": 2},
            {"name": "Phê duyệt", "role": "leader", "days": 1},
        ],
        "agencies": [a.code for a in agencies],
    }
    data.update(overrides)
    return procedures.save_procedure(actor=admin_user, data=data)


@pytest.fixture
def birth_procedure(province, admin_user):
    return make_procedure(admin_user, [province["xa_a"], province["xa_b"]])


@pytest.fixture
def citizen(db):
    return accounts.create_citizen(identity_number="089012345678", full_name="Nguyễn Thị Hoà", password="Cong-dan-2025")


@pytest.fixture(scope="session", autouse=True)
def _audit_checkpoints_outside_data_dir(tmp_path_factory):
    """Module-scoped fixtures (the demo province) sign audit checkpoints too: never into ./var."""
    from django.test import override_settings

    bus = tmp_path_factory.mktemp("bus")
    with override_settings(
        AUDIT_CHECKPOINT_DIR=tmp_path_factory.mktemp("audit-checkpoints"),
        BUS_KEY_FILE=bus / "bus.key",
        BUS_CERT_FILE=bus / "bus.crt",
        BUS_LOG_SEAL_DIR=bus / "bus-log-seals",
        BUS_LOG_ARCHIVE_DIR=bus / "bus-log-archive",
    ):
        yield


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    from django.core.cache import cache

    from chinhquyenso.assistant import index
    from chinhquyenso.exchange.bus import registry as bus_registry

    cache.clear()  # pages cache catalog lists; each test builds its own catalog
    index.invalidate()  # the search index is checked against this test's catalog
    bus_registry.invalidate()  # the bus registry's per-process snapshot: never another test's rows or settings
    settings.MEDIA_ROOT = tmp_path / "files"
    # Each test's audit chain starts empty: so do its signed checkpoints (core.audit).
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"
    settings.BUS_LOG_SEAL_DIR = tmp_path / "bus-log-seals"  # and the bus's message log its seals
    settings.BUS_LOG_ARCHIVE_DIR = tmp_path / "bus-log-archive"
    # Fixtures create dozens of accounts; argon2 is tested in tests/accounts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A refresh thread would not see the test's transaction; tests/dashboard/test_cache.py covers it.
    # Results issued unsigned unless a test configures an agency key (tests/dossiers/test_signed_results.py
    # covers both): the fixtures' agencies have none.
    # The bus registry's snapshot is rebuilt when older than BUS_REGISTRY_CHECK_SECONDS: on a loaded machine a
    # page making several bus calls could cross that age mid-request and count the rebuild's queries. Within
    # one test process every registry change invalidates the snapshot itself (tests/exchange/bus/test_registry.py
    # sets the period to 0 where it tests the expiry).
    settings.CQS = {
        **settings.CQS,
        "DASHBOARD_BACKGROUND_REFRESH": False,
        "RESULTS_REQUIRE_SIGNATURE": False,
        "BUS_REGISTRY_CHECK_SECONDS": 3600,
    }


@pytest.fixture
def registry(db, admin_user):
    """The default indicator registry (indicators, formulas, targets, 766, e-government criteria)."""
    from chinhquyenso.indicators.services import load_registry

    load_registry(actor=admin_user)

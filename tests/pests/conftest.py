"""Shared fixtures of the pest surveillance tests: the shipped catalog, a district with three communes
and its plant-protection station, officers, smart traps with credentials, and a private Mosquitto
broker (a real one, spawned per test on a free port, restartable with its persistence kept)."""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import socket
import subprocess
import time
import types
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import Role
from chinhquyenso.org import services as org
from chinhquyenso.org.models import AgencyKind
from tests.external_tools import find_program, program_missing, require

MOSQUITTO = find_program("mosquitto", "/usr/sbin") or "/usr/sbin/mosquitto"
PASSWORD = "Mat-khau-2025"


@pytest.fixture
def pest_catalog(db):
    """The shipped catalog (pests/data/catalog.json) loaded; returns load_catalog's counts."""
    from chinhquyenso.pests.services.catalog import load_catalog

    return load_catalog()


@pytest.fixture
def pest_area(province, admin_user):
    """The shared `province` (UBND tỉnh An Giang, UBND huyện Chợ Mới with xã Kiến An and Kiến Thành)
    plus a third commune, Sở Nông nghiệp và Môi trường, its Chi cục Trồng trọt và Bảo vệ thực vật and
    the district's Trạm Trồng trọt và Bảo vệ thực vật. Attributes: province, district, communes (3),
    commune_a/b/c, department, subdepartment, plant_protection (the district's station)."""
    xa_c = org.create_agency(
        actor=admin_user,
        name="UBND xã Long Điền A",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=province["huyen"],
        electronic_code="000.07.03.H01",
        code="xa-long-dien-a",
    )
    department = org.create_agency(
        actor=admin_user,
        name="Sở Nông nghiệp và Môi trường",
        kind=AgencyKind.DEPARTMENT,
        parent=province["ubnd"],
        electronic_code="000.00.12.H01",
        code="so-nong-nghiep",
    )
    subdepartment = org.create_agency(
        actor=admin_user,
        name="Chi cục Trồng trọt và Bảo vệ thực vật",
        kind=AgencyKind.SPECIAL_UNIT,
        parent=department,
        electronic_code="000.12.10.H01",
        code="chi-cuc-bvtv",
    )
    station = org.create_agency(
        actor=admin_user,
        name="Trạm Trồng trọt và Bảo vệ thực vật huyện Chợ Mới",
        kind=AgencyKind.SPECIAL_UNIT,
        parent=subdepartment,
        electronic_code="000.12.17.H01",
        code="tram-bvtv-cho-moi",
    )
    return types.SimpleNamespace(
        province=province["ubnd"],
        district=province["huyen"],
        communes=[province["xa_a"], province["xa_b"], xa_c],
        commune_a=province["xa_a"],
        commune_b=province["xa_b"],
        commune_c=xa_c,
        department=department,
        subdepartment=subdepartment,
        plant_protection=station,
    )


def grant_pests(user, *codenames: str):
    """Give `user` the app's grants as the administration does: through a group (and forget the
    permission caches of this user object)."""
    group, _ = Group.objects.get_or_create(name="Sâu bệnh " + "+".join(sorted(codenames)))
    group.permissions.set(Permission.objects.filter(content_type__app_label="pests", codename__in=codenames))
    user.groups.add(group)
    for attribute in ("_perm_cache", "_group_perm_cache", "_user_perm_cache"):
        if hasattr(user, attribute):
            delattr(user, attribute)
    return user


@pytest.fixture
def pest_grant(db):
    """pest_grant(user, "survey_pests", "issue_pest_bulletin", …) → user with those grants."""
    return grant_pests


@pytest.fixture
def pest_officer(pest_area, admin_user):
    """A specialist of the district's plant-protection station with pests.survey_pests."""
    user = accounts.create_officer(
        actor=admin_user,
        username="bvtv.cho-moi",
        password=PASSWORD,
        full_name="Trần Văn Bảo",
        memberships=[(pest_area.plant_protection, Role.SPECIALIST)],
    )
    return grant_pests(user, "survey_pests")


@pytest.fixture
def commune_officer(pest_area, admin_user):
    """A specialist of xã Kiến An (commune_a) with pests.survey_pests: sees only that commune
    (pests.access.scope_communes)."""
    user = accounts.create_officer(
        actor=admin_user,
        username="nongnghiep.kien-an",
        password=PASSWORD,
        full_name="Lê Thị Mai",
        memberships=[(pest_area.commune_a, Role.SPECIALIST)],
    )
    return grant_pests(user, "survey_pests")


@pytest.fixture
def make_trap(pest_catalog, pest_area):
    """make_trap(code, commune=None, **fields) → (Station, secret): a smart light trap on rice sown 30
    days ago (đẻ nhánh), followed by the district's plant-protection station, with credentials."""
    from chinhquyenso.pests.models import Crop, Station
    from chinhquyenso.pests.services.catalog import season_on
    from chinhquyenso.pests.services.stations import issue_credentials

    def make(code: str, commune=None, **fields):
        sown_on = fields.pop("sown_on", timezone.localdate() - dt.timedelta(days=30))
        station = Station.objects.create(
            code=code,
            kind=fields.pop("kind", Station.Kind.SMART_TRAP),
            name=fields.pop("name", f"Bẫy đèn {code}"),
            commune=commune or pest_area.commune_a,
            crop=fields.pop("crop", None) or Crop.objects.get(code="lua"),
            sown_on=sown_on,
            season=fields.pop("season", None) or season_on(sown_on),
            agency=fields.pop("agency", pest_area.plant_protection),
            owner=fields.pop("owner", "Trạm Trồng trọt và Bảo vệ thực vật huyện Chợ Mới"),
            latitude=fields.pop("latitude", "10.552000"),
            longitude=fields.pop("longitude", "105.402000"),
            **fields,
        )
        if station.kind != Station.Kind.SMART_TRAP:
            return station, None
        return station, issue_credentials(station, actor=None)

    return make


@pytest.fixture
def smart_trap(make_trap):
    """(station, secret): smart trap "bd-kien-an-01" in xã Kiến An, device id = its code."""
    return make_trap("bd-kien-an-01", name="Bẫy đèn thông minh xã Kiến An")


def last_night() -> dt.date:
    """The trap-night that ended this morning (local date it began)."""
    return timezone.localdate() - dt.timedelta(days=1)


@pytest.fixture
def ingest_counts(db):
    """ingest_counts(station, secret, counts, night=None, **kw) → IngestResult: a signed message through
    services.ingest (transport "http"), no broker needed."""
    from chinhquyenso.pests.services.ingest import ingest, sign
    from chinhquyenso.pests.simulate import trap_payload

    def send(station, secret, counts: dict, night: dt.date | None = None, *, message_id=None, images=(), **kw):
        payload = trap_payload(
            station.device_id, counts, night=night or last_night(), message_id=message_id, images=images
        )
        return ingest(
            payload,
            transport=kw.pop("transport", "http"),
            device_id=station.device_id,
            signature=sign(payload, secret),
            **kw,
        )

    return send


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """A private broker: listener on 127.0.0.1:<port>, anonymous access, persistence in `directory`
    (a restart keeps the persistent sessions and their queued QoS 1 messages)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = _free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.config = directory / "mosquitto.conf"
        self.log = directory / "mosquitto.log"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {directory}/\n"
            # Started as root, mosquitto drops to the "mosquitto" user, who may not write in tmp_path.
            f"user {getpass.getuser()}\n"
            "max_queued_messages 0\n"
            "max_inflight_messages 100\n"
            f"log_dest file {self.log}\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto stopped: {self.log.read_text() if self.log.exists() else ''}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening in 10 s")

    def stop(self) -> None:
        """SIGTERM: the broker writes its persistence file and exits."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def mosquitto(tmp_path):
    """A running private Mosquitto; `.url` ("mqtt://127.0.0.1:<port>"), `.restart()`, `.stop()`, `.start()`."""
    require(program_missing("mosquitto", "mosquitto", "/usr/sbin"))  # CI (CQS_REQUIRE_TOOLS=1): fails, never skips
    directory = tmp_path / "mosquitto"
    directory.mkdir()
    broker = Mosquitto(directory)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def publish_counts():
    """publish_counts(url, device_id, secret, counts, *, night=None, message_id=None, images=(), window=None,
    signature=None, payload=None) → the payload bytes published (QoS 1, PUBACK awaited) on
    cqs/pests/traps/<device_id>/counts. `secret` None and no `signature`: sent unsigned; `payload`
    replaces the built one (malformed input)."""
    from chinhquyenso.pests import mqtt
    from chinhquyenso.pests.services.ingest import sign
    from chinhquyenso.pests.simulate import Publisher, trap_payload

    counter = iter(range(1, 10**9))

    def publish(
        url,
        device_id,
        secret,
        counts=None,
        *,
        night=None,
        message_id=None,
        images=(),
        window=None,
        signature=None,
        payload=None,
        topic=None,
    ):
        if payload is None:
            payload = trap_payload(
                device_id,
                counts or {},
                night=night or last_night(),
                message_id=message_id,
                images=images,
                window=window,
            )
        if signature is None and secret:
            signature = sign(payload, secret)
        with Publisher(url, f"test-device-{device_id}-{next(counter)}") as publisher:
            publisher.publish(topic or mqtt.topic_for(device_id), payload, signature)
        return payload

    return publish

"""Crop-pest surveillance of the demo province (`cqs seed-demo`), made after the province is built.

What it makes (demo/data/pests.json says which communes, how many and who; all invented):

- the shipped catalog (pests.services.catalog.load_catalog);
- two accounts of the current Sở Nông nghiệp và Môi trường, with the app's grants through groups (as
  the administration gives them): a plant-protection officer (surveys, alerts, bulletins, the catalog)
  and an expert who confirms farmers' photos;
- in a few communes of the former An Giang (Mỹ Hòa Hưng, whose officers are the demo's commune
  accounts, and others drawn with the seed) smart light traps and fixed survey points, placed near the
  commune's map point (feedback.AreaPoint), on rice sown about a month before the last day, followed by
  the Sở — each trap with credentials (services.stations.issue_credentials);
- one season of trap data: a message per trap and night for the last `nights` nights up to `until`,
  with the counts of the simulator's model (pests.simulate.night_counts: rầy nâu peaking about three
  weeks after sowing, lognormal noise), signed with the trap's secret and fed to `services.ingest.ingest` directly as if
  the broker had delivered it a few minutes after the night (transport "mqtt") — no MQTT broker is
  needed; `cqs pests simulate-traps` publishes the same kind of data to a real broker. In the last
  nights Mỹ Hòa Hưng's traps catch ten times the usual planthoppers — rầy nâu above the warning level;
- a survey a week at every survey point (through services.surveys.submit, by the officer), a couple of
  weeks left out so "surveys on time" is not 100 %, the last one with rầy nâu above the đẻ nhánh
  warning level in Mỹ Hòa Hưng;
- subscribers to Mỹ Hòa Hưng's warnings (registered by the officer: SMS and Zalo, invented numbers);
- the alerts of the last week (services.alerts.evaluate, which also queues the warnings to the
  subscribers and the in-app notices to the commune's officers), and the province's bulletin of that
  week (services.bulletins.issue: DOCX and PDF);
- a farmer's identification request of two photos, sent to the expert (no model is configured in the
  demo: docs/pests.md says how to configure one)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import re
import time
import uuid
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import Role, User
from chinhquyenso.core.calendar import LOCAL_TZ
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import fold
from chinhquyenso.demo.services import ADMIN_USERNAME, load
from chinhquyenso.org.models import Agency, AgencyKind, Succession
from chinhquyenso.org.selectors import current_successor

DATA = "pests.json"
# The classes whose numbers explode in the demo's outbreak (a planthopper flight), and by how much.
OUTBREAK_CLASSES = ("ray-nau", "ray-lung-trang")
OUTBREAK = 10.0
CROP_DAYS = 105  # one rice crop, sowing to harvest (the catalog's last stage ends at day 105)


@dataclass
class DemoPests:
    stations: int = 0
    traps: int = 0
    points: int = 0
    communes: tuple[str, ...] = ()
    messages: int = 0
    refused: int = 0
    surveys: int = 0
    subscribers: int = 0
    alerts: int = 0
    warnings: int = 0
    bulletin: str = ""
    identification: str = ""
    accounts: tuple[str, ...] = ()
    first_night: dt.date | None = None
    last_night: dt.date | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def spec() -> dict:
    return load(DATA)


# ---------------------------------------------------------------- accounts


def follower() -> Agency:
    """The agency following the demo's stations (and issuing the bulletin): the current Sở named in
    pests.json."""
    name = spec()["follower"]
    agency = Agency.objects.current().filter(name=name, kind=AgencyKind.DEPARTMENT).order_by("pk").first()
    if agency is None:
        raise DomainError(f"Tỉnh mẫu chưa có “{name}”: không có cơ quan theo dõi trạm bẫy đèn.", "pests")
    return agency


def pest_accounts(agency: Agency) -> dict[str, User]:
    """The officer and the expert of pests.json: officers of `agency` (specialists) with the demo's
    password, given the app's grants through one group each."""
    password = User.objects.filter(username=ADMIN_USERNAME).values_list("password", flat=True).first()
    out = {}
    for key, account in spec()["accounts"].items():
        user = User.objects.filter(username=account["username"]).first()
        if user is None:
            user = accounts.create_officer(
                actor=None,
                username=account["username"],
                password=None,
                full_name=account["full_name"],
                memberships=[(agency, Role.SPECIALIST)],
            )
            if password:
                User.objects.filter(pk=user.pk).update(password=password)
        group, _ = Group.objects.get_or_create(name=f"Sâu bệnh — {account['who']}")
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="pests", codename__in=account["grants"])
        )
        user.groups.add(group)
        out[key] = User.objects.get(pk=user.pk)  # fresh: has_perm caches what it looked up
    return out


# ---------------------------------------------------------------- stations


def demo_communes(rng: random.Random) -> list[Agency]:
    """The named communes (their current versions) and `more_communes` others drawn among the current
    communes formed from the former An Giang's (those with predecessors in the demo)."""
    data = spec()
    chosen: list[Agency] = []
    for code in data["communes"]:
        agency = Agency.objects.filter(code=code).first()
        agency = current_successor(agency) if agency is not None else None
        if agency is not None and agency.kind == AgencyKind.COMMUNE_COMMITTEE and agency not in chosen:
            chosen.append(agency)
    formed = set(Succession.objects.values_list("successor_id", flat=True))
    pool = [
        a
        for a in Agency.objects.current()
        .filter(kind=AgencyKind.COMMUNE_COMMITTEE, name__startswith="UBND xã")
        .order_by("code")
        if a.pk in formed and a not in chosen
    ]
    chosen += rng.sample(pool, min(data["more_communes"], len(pool)))
    if not chosen:
        raise DomainError("Tỉnh mẫu chưa có xã nào để đặt trạm bẫy đèn.", "pests")
    return chosen


def _slug(agency: Agency) -> str:
    place = re.sub(r"^UBND (xã|phường|đặc khu)\s+", "", agency.name)
    return re.sub(r"[^a-z0-9]+", "-", fold(place).lower()).strip("-")


def _point(agency: Agency) -> tuple[float, float]:
    from chinhquyenso.feedback.models import AreaPoint

    row = AreaPoint.objects.filter(agency=agency).values_list("latitude", "longitude").first()
    return (float(row[0]), float(row[1])) if row else (10.5, 105.2)


def _near(lat: float, lon: float, key: str) -> tuple[str, str]:
    """A point within about a kilometre of (lat, lon), fixed by `key`."""
    h = hashlib.sha256(key.encode()).digest()
    return f"{lat + (h[0] / 255 - 0.5) * 0.02:.6f}", f"{lon + (h[1] / 255 - 0.5) * 0.02:.6f}"


def build_stations(communes: list[Agency], *, sown_on: dt.date, since: dt.datetime, agency: Agency, rng):
    """Smart traps (with their secrets) and survey points in each commune."""
    from chinhquyenso.pests.models import Crop, Station
    from chinhquyenso.pests.services.catalog import season_on
    from chinhquyenso.pests.services.stations import issue_credentials

    data = spec()
    rice = Crop.objects.get(code="lua")
    traps, points = [], []
    for commune in communes:
        slug, (lat, lon) = _slug(commune), _point(commune)
        place = re.sub(r"^UBND\s+", "", commune.name)
        # Fields of one commune are sown within a few days of each other.
        sown = sown_on + dt.timedelta(days=rng.randint(-3, 3))
        for kind, count, prefix, label in (
            (Station.Kind.SMART_TRAP, data["traps_per_commune"], "bd", "Bẫy đèn thông minh"),
            (Station.Kind.SURVEY_POINT, data["points_per_commune"], "dd", "Điểm điều tra cố định"),
        ):
            for number in range(1, count + 1):
                code = f"{prefix}-{slug}-{number:02d}"
                latitude, longitude = _near(lat, lon, code)
                station = Station.objects.create(
                    code=code,
                    kind=kind,
                    name=f"{label} {place} số {number}",
                    commune=commune,
                    latitude=latitude,
                    longitude=longitude,
                    crop=rice,
                    sown_on=sown,
                    season=season_on(sown),
                    owner=agency.name,
                    agency=agency,
                )
                if kind == Station.Kind.SMART_TRAP:
                    traps.append((station, issue_credentials(station, actor=None)))
                else:
                    points.append(station)
    # Installed before the data starts (the indicators count stations from their set-up day).
    Station.objects.filter(pk__in=[s.pk for s, _ in traps] + [p.pk for p in points]).update(created_at=since)
    return traps, points


# ---------------------------------------------------------------- trap nights


def crop_day(sown_on: dt.date, night: dt.date) -> int:
    """Days since the sowing of the crop in the field on `night` (one crop every CROP_DAYS days)."""
    return (night - sown_on).days % CROP_DAYS


def counts_of(rng: random.Random, *, night: dt.date, sown_on: dt.date, outbreak: bool) -> dict[str, int]:
    """One trap-night's counts (zeros left out), from the simulator's model (pests.simulate.night_counts:
    the same as `cqs pests simulate-traps`), for the crop in the field that night; in an outbreak the
    planthoppers' numbers are multiplied."""
    from chinhquyenso.pests.simulate import PROFILES, night_counts

    sown = night - dt.timedelta(days=crop_day(sown_on, night))
    others = [code for code in PROFILES if code not in OUTBREAK_CLASSES]
    counts = night_counts(rng, night=night, sown_on=sown, classes=others)
    counts.update(
        night_counts(rng, night=night, sown_on=sown, classes=OUTBREAK_CLASSES, intensity=OUTBREAK if outbreak else 1.0)
    )
    return counts


def ingest_season(traps, *, nights: list[dt.date], hot: set[int], hot_from: dt.date, rng) -> tuple[int, int]:
    """A signed message per trap and night through services.ingest (see the module's docstring)."""
    from chinhquyenso.pests.services.ingest import ingest, sign
    from chinhquyenso.pests.simulate import night_window, trap_payload

    stored = refused = 0
    with transaction.atomic():
        for station, secret in traps:
            for night in nights:
                outbreak = station.commune_id in hot and night >= hot_from
                counts = counts_of(rng, night=night, sown_on=station.sown_on, outbreak=outbreak)
                payload = trap_payload(station.device_id, counts, night=night)
                received = night_window(night)[1] + dt.timedelta(minutes=rng.randint(2, 40))
                result = ingest(
                    payload,
                    transport="mqtt",
                    device_id=station.device_id,
                    signature=sign(payload, secret),
                    received_at=received,
                )
                if result.status in ("accepted", "flagged"):
                    stored += 1
                else:
                    refused += 1
    return stored, refused


# ---------------------------------------------------------------- surveys


def build_surveys(points, *, officer, first: dt.date, last: dt.date, hot: set[int], seed: int) -> int:
    """One survey a week (Tuesday) at each point, through the surveys service; pests.json's
    `skipped_survey_weeks` are left out (counted from the first week)."""
    from chinhquyenso.pests.models import Crop
    from chinhquyenso.pests.services.catalog import stage_on
    from chinhquyenso.pests.services.surveys import submit
    from chinhquyenso.pests.simulate import expected_count

    rice = Crop.objects.get(code="lua")
    skipped = set(spec()["skipped_survey_weeks"])
    rng = random.Random(seed)
    tuesday = first - dt.timedelta(days=first.weekday()) + dt.timedelta(days=1)
    if tuesday < first:
        tuesday += dt.timedelta(days=7)
    made, week = 0, 0
    while tuesday <= last:
        week += 1
        for point in points:
            if week in skipped and point.pk % 2 == week % 2:
                continue
            if not point.commune.is_valid_on(tuesday):  # before the 2025 mergers made its commune
                continue
            day = crop_day(point.sown_on, tuesday)
            sown = tuesday - dt.timedelta(days=day)
            stage = stage_on(rice, sown, tuesday) or rice.stages[-1]["code"]
            hot_week = point.commune_id in hot and tuesday + dt.timedelta(days=7) > last
            # Planthoppers per m² follow the trap's model (about as many per m² as a trap catches a night).
            brown = 3600 if hot_week else expected_count("ray-nau", day) * rng.uniform(0.6, 1.1)
            observations = [
                {"organism": "ray-nau", "density_per_m2": f"{brown:.0f}"},
                {"organism": "ray-lung-trang", "density_per_m2": f"{brown * rng.uniform(0.2, 0.4):.0f}"},
                {"organism": "sau-cuon-la-nho", "density_per_m2": f"{rng.uniform(3, 18):.0f}"},
                {"organism": "dao-on", "infestation_pct": f"{rng.uniform(0, 1.5):.1f}"},
                {"organism": "nhen-soi", "density_per_m2": f"{rng.uniform(15, 60):.0f}"},
                {"organism": "bo-xit-mu-xanh", "density_per_m2": f"{rng.uniform(10, 45):.0f}"},
            ]
            submit(
                actor=officer,
                data={
                    "client_id": str(
                        uuid.UUID(bytes=hashlib.sha256(f"{seed}:{point.code}:{tuesday}".encode()).digest()[:16])
                    ),
                    "station": point.code,
                    "stage": stage,
                    "surveyed_on": tuesday.isoformat(),
                    "area_ha": "25",
                    "observations": observations,
                },
            )
            made += 1
        tuesday += dt.timedelta(days=7)
    return made


# ---------------------------------------------------------------- warnings, alerts, bulletin, photos


def build_subscribers(commune: Agency, officer) -> int:
    from chinhquyenso.pests.services.subscriptions import register

    for row in spec()["subscribers"]:
        register(actor=officer, commune=commune, channel=row["channel"], address=row["address"], name=row["name"])
    return len(spec()["subscribers"])


def field_photo(rng: random.Random, brown: bool) -> bytes:
    """A small JPEG of a rice field (green), with brown patches when `brown`."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (64 + rng.randint(0, 30), 140 + rng.randint(0, 40), 60))
    draw = ImageDraw.Draw(image)
    for _ in range(40 if brown else 5):
        x, y = rng.randint(0, 620), rng.randint(0, 460)
        draw.ellipse((x, y, x + rng.randint(4, 18), y + rng.randint(4, 18)), fill=(120, 80, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def build_identification(commune: Agency, rng: random.Random) -> str:
    from chinhquyenso.pests.models import Crop
    from chinhquyenso.pests.services.identification import submit

    request = submit(
        photos=[field_photo(rng, True), field_photo(rng, True)],
        commune=commune,
        crop=Crop.objects.get(code="lua"),
        client_id=uuid.UUID(int=rng.getrandbits(128)),
    )
    return request.get_status_display()


def build_pests(*, seed: int, until: dt.date, log=None) -> DemoPests:
    """Everything of the module's docstring; the last trap-night is `until`."""
    from chinhquyenso.pests.models import Alert
    from chinhquyenso.pests.services import alerts, bulletins
    from chinhquyenso.pests.services.catalog import load_catalog

    log = log or (lambda message: None)
    data = spec()
    rng = random.Random(f"pests:{seed}")
    stats = DemoPests()
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        stats.seconds[name] = round(time.monotonic() - clock, 1)
        clock = time.monotonic()

    load_catalog()
    agency = follower()
    people = pest_accounts(agency)
    officer, expert = people["officer"], people["expert"]
    stats.accounts = (officer.username, expert.username)
    nights = [until - dt.timedelta(days=n) for n in range(data["nights"] - 1, -1, -1)]
    stats.first_night, stats.last_night = nights[0], nights[-1]
    since = dt.datetime.combine(nights[0] - dt.timedelta(days=7), dt.time(9), tzinfo=LOCAL_TZ)
    communes = demo_communes(rng)
    stats.communes = tuple(c.name for c in communes)
    # The crop now in the field was sown about a month ago: đẻ nhánh in the last week.
    with transaction.atomic():
        traps, points = build_stations(
            communes, sown_on=until - dt.timedelta(days=30), since=since, agency=agency, rng=rng
        )
    stats.traps, stats.points = len(traps), len(points)
    stats.stations = stats.traps + stats.points
    hot_code = data["hot_commune"]
    hot = {c.pk for c in communes if c.code == hot_code or _is_successor_of(c, hot_code)} or {communes[0].pk}
    lap("stations")
    stats.messages, stats.refused = ingest_season(
        traps, nights=nights, hot=hot, hot_from=until - dt.timedelta(days=data["hot_nights"] - 1), rng=rng
    )
    lap("trap_data")
    with transaction.atomic():
        stats.surveys = build_surveys(points, officer=officer, first=nights[0], last=until, hot=hot, seed=seed)
    lap("surveys")
    hot_commune = next(c for c in communes if c.pk in hot)
    stats.subscribers = build_subscribers(hot_commune, officer)
    moment = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(7), tzinfo=LOCAL_TZ)
    result = alerts.evaluate(now=moment)
    stats.alerts, stats.warnings = Alert.objects.count(), result["messages"]
    lap("alerts")
    province = Agency.objects.current().filter(kind=AgencyKind.PROVINCE_COMMITTEE).order_by("pk").first()
    bulletin = bulletins.issue(area=province, week_start=until, actor=officer)
    stats.bulletin = bulletin.number
    lap("bulletin")
    stats.identification = build_identification(hot_commune, rng)
    lap("identification")
    log(
        f"Sâu bệnh ({sum(stats.seconds.values()):.1f} giây): {stats.traps} bẫy đèn thông minh và {stats.points} điểm "
        f"điều tra ở {len(communes)} xã; {stats.messages} tin nhắn của bẫy (đêm {stats.first_night:%d/%m/%Y} – "
        f"{stats.last_night:%d/%m/%Y}, nạp thẳng, không qua MQTT), {stats.surveys} phiếu điều tra, {stats.alerts} "
        f"cảnh báo ({stats.warnings} tin nhắn cảnh báo chờ gửi), thông báo số {stats.bulletin}; "
        f"tài khoản: {', '.join(stats.accounts)}."
    )
    return stats


def _is_successor_of(agency: Agency, code: str) -> bool:
    old = Agency.objects.filter(code=code).first()
    return old is not None and (current_successor(old) or old).pk == agency.pk

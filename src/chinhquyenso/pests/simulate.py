"""Smart light traps, simulated: each device sends one signed message per night over MQTT
(`cqs pests simulate-traps`), with counts from `night_counts` — a plain model of what a light trap in a
rice field catches: migrating planthoppers peaking about 20–25 days after sowing and a second
generation about 4 weeks later, leaf-folder and stem-borer moths in flights, rice bugs at heading,
natural enemies following their prey, and lognormal night-to-night noise."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import threading
from zoneinfo import ZoneInfo

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from chinhquyenso.pests import mqtt
from chinhquyenso.pests.services.ingest import sign

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def night_window(night: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A trap-night: 18:00 local on `night` to 06:00 the next morning."""
    start = dt.datetime.combine(night, dt.time(18, 0), tzinfo=VN)
    return start, start + dt.timedelta(hours=12)


def trap_payload(
    device_id: str,
    counts: dict[str, int],
    *,
    night: dt.date,
    message_id: str | None = None,
    images: list[str] | tuple = (),
    window: tuple[dt.datetime, dt.datetime] | None = None,
) -> bytes:
    """The JSON a trap sends (docs/pests.md), as UTF-8 bytes: sign these exact bytes."""
    start, end = window or night_window(night)
    body = {
        "device_id": device_id,
        "message_id": message_id or f"{device_id}-{night:%Y%m%d}",
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "counts": counts,
        "images": list(images),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def publish_properties(signature: str | None) -> Properties:
    properties = Properties(PacketTypes.PUBLISH)
    if signature is not None:
        properties.UserProperty = ("signature", signature)
    return properties


class Publisher:
    """A device-side MQTT connection that publishes QoS 1 messages and waits for the broker's PUBACK."""

    def __init__(self, url: str, client_id: str, *, persistent: bool = False, username: str = "", password: str = ""):
        self.broker = mqtt.Broker.from_url(url, username=username, password=password)
        self.client = mqtt.new_client(self.broker, client_id, persistent=persistent)
        self.connected = threading.Event()
        self.client.on_connect = lambda client, userdata, flags, reason, properties: (
            self.connected.set() if not reason.is_failure else None
        )
        self.client.on_disconnect = lambda *args: self.connected.clear()
        self.acknowledged: set[int] = set()
        self._acked = threading.Condition()
        self.client.on_publish = self._on_publish
        mqtt.connect(self.client, self.broker, persistent=persistent)
        self.client.loop_start()
        if not self.connected.wait(10):
            self.close()
            raise ConnectionError(f"Không kết nối được máy chủ MQTT {self.broker.host}:{self.broker.port}.")

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._acked:
            self.acknowledged.add(mid)
            self._acked.notify_all()

    def wait_for(self, mids, timeout: float = 30) -> bool:
        """Wait until the broker acknowledged every message id in `mids` (sent now or, for messages
        published while the connection was down, after paho reconnected and sent them)."""
        mids = set(mids)
        with self._acked:
            done = self._acked.wait_for(lambda: mids <= self.acknowledged, timeout)
            if done:
                self.acknowledged -= mids  # message ids are reused after 65,535
            return done

    def publish(self, topic: str, payload: bytes, signature: str | None, *, qos: int = 1, wait: bool = True):
        """Publish; with `wait`, until the broker's PUBACK (QoS 1). Returns paho's MQTTMessageInfo (its
        `mid` for `wait_for`); while disconnected paho keeps a QoS 1 message and sends it on reconnect."""
        info = self.client.publish(topic, payload, qos=qos, properties=publish_properties(signature))
        if wait and qos and not self.wait_for([info.mid]):
            raise TimeoutError("Máy chủ MQTT không xác nhận đã nhận tin nhắn trong 30 giây.")
        return info

    def send(self, device_id: str, secret: str | None, payload: bytes, *, qos: int = 1, wait: bool = True):
        signature = sign(payload, secret) if secret else None
        return self.publish(mqtt.topic_for(device_id), payload, signature, qos=qos, wait=wait)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------------------------------------ the model

# class code → (background per night, [(days after sowing of a peak, spread in days, height per night)])
PROFILES: dict[str, tuple[float, list[tuple[float, float, float]]]] = {
    "ray-nau": (40, [(22, 5, 2400), (50, 6, 1500)]),
    "ray-lung-trang": (30, [(16, 5, 900), (42, 6, 400)]),
    "ray-xanh-duoi-den": (60, [(30, 10, 500)]),
    "ray-zic-zac": (10, [(35, 10, 60)]),
    "sau-cuon-la-nho": (8, [(30, 5, 180), (60, 5, 120)]),
    "sau-cuon-la-lon": (1, [(45, 10, 8)]),
    "sau-duc-than-2-cham": (3, [(12, 4, 60), (55, 5, 90)]),
    "sau-duc-than-5-vach": (1, [(20, 5, 15), (60, 5, 20)]),
    "sau-duc-than-cu-meo": (1, [(40, 10, 6)]),
    "sau-can-gie": (0.5, [(70, 8, 10)]),
    "sau-phao": (2, [(15, 6, 30)]),
    "sau-do-xanh": (1, [(25, 8, 10)]),
    "sau-khoang": (1, [(40, 15, 5)]),
    "muoi-hanh": (2, [(25, 7, 20)]),
    "bo-xit-dai": (1, [(78, 7, 40)]),
    "bo-xit-den": (2, [(45, 10, 25)]),
    "bo-xit-gai-vai-dai": (0.5, [(80, 7, 12)]),
    "bo-xit-xanh": (0.5, [(70, 10, 6)]),
    "sau-gai": (1, [(20, 6, 15)]),
    "cao-cao-nho": (2, [(50, 20, 8)]),
    "chau-chau-lua": (1, [(55, 20, 5)]),
    "de-nhui": (3, [(10, 8, 10)]),
    "bo-hung": (2, [(5, 10, 8)]),
    "bo-xit-mu-xanh": (20, [(28, 7, 300), (55, 7, 200)]),
    "bo-rua-do": (3, [(35, 15, 20)]),
    "bo-ba-khoang": (3, [(35, 12, 25)]),
    "kien-ba-khoang": (5, [(40, 15, 40)]),
    "chuon-chuon-kim": (1, [(40, 20, 6)]),
    "ong-ky-sinh": (10, [(35, 12, 80)]),
    "bo-xit-nuoc": (4, [(30, 12, 30)]),
    "ngai-khac": (30, [(40, 25, 80)]),
    "ray-khac": (40, [(35, 20, 120)]),
    "canh-cung-khac": (15, [(40, 25, 30)]),
    "ruoi-muoi": (80, [(30, 30, 150)]),
    "con-trung-khac": (20, [(40, 30, 40)]),
}
NOISE_SIGMA = 0.6  # lognormal: a night is often half or double its neighbours


def expected_count(code: str, days_after_sowing: int | None) -> float:
    """The mean catch of one trap-night for a class, `days_after_sowing` into the crop (background only
    when the sowing date is unknown or the field is harvested)."""
    background, peaks = PROFILES.get(code, (2, []))
    if days_after_sowing is None or not 0 <= days_after_sowing <= 110:
        return background
    return background + sum(
        height * math.exp(-0.5 * ((days_after_sowing - centre) / spread) ** 2) for centre, spread, height in peaks
    )


def night_counts(
    rng: random.Random,
    *,
    night: dt.date,
    sown_on: dt.date | None,
    classes: list[str] | tuple[str, ...] | None = None,
    intensity: float = 1.0,
) -> dict[str, int]:
    """One trap-night's counts per class code (zeros left out): the class's mean for the crop's age,
    times `intensity` (the demo's outbreak), times lognormal noise. Pure: no broker, no database."""
    days = (night - sown_on).days if sown_on is not None else None
    counts = {}
    for code in classes if classes is not None else PROFILES:
        mean = expected_count(code, days) * intensity
        value = int(mean * rng.lognormvariate(-(NOISE_SIGMA**2) / 2, NOISE_SIGMA) + rng.random())
        if value > 0:
            counts[code] = value
    return counts


# ------------------------------------------------------------------------------------------ simulate-traps


def _simulated_stations(devices: int, *, create: bool, first_night: dt.date, rng: random.Random) -> tuple[list, int]:
    from chinhquyenso.org.models import Agency, AgencyKind
    from chinhquyenso.pests.models import Crop, Station
    from chinhquyenso.pests.services import stations as station_service
    from chinhquyenso.pests.services.catalog import season_on

    existing = list(
        Station.objects.filter(kind=Station.Kind.SMART_TRAP, active=True)
        .exclude(device_id=None)
        .exclude(device_secret_hash="")
        .order_by("code")[:devices]
    )
    created = 0
    if len(existing) < devices and create:
        communes = list(Agency.objects.current().filter(kind=AgencyKind.COMMUNE_COMMITTEE).order_by("code"))
        if not communes:
            from chinhquyenso.core.errors import DomainError

            raise DomainError("Chưa có xã, phường nào trong cơ cấu tổ chức để đặt bẫy mô phỏng.", "devices")
        crop = Crop.objects.get(code="lua")
        number = 0
        while len(existing) < devices:
            number += 1
            code = f"bd-mo-phong-{number:03d}"
            if Station.objects.filter(code=code).exists():
                station = Station.objects.get(code=code)
                if station in existing:
                    continue
            else:
                sown_on = first_night - dt.timedelta(days=rng.randint(0, 14))
                commune = communes[(number - 1) % len(communes)]
                station = Station.objects.create(
                    code=code,
                    kind=Station.Kind.SMART_TRAP,
                    name=f"Bẫy đèn mô phỏng số {number} — {commune.name}",
                    commune=commune,
                    crop=crop,
                    sown_on=sown_on,
                    season=season_on(sown_on),
                    owner="Mô phỏng (cqs pests simulate-traps)",
                )
                created += 1
            if not station.device_secret_hash:
                station_service.issue_credentials(station, actor=None)
            existing.append(station)
    return existing, created


def simulate_traps(
    devices: int,
    nights: int,
    *,
    url: str,
    start: dt.date | None = None,
    seed: int = 1,
    create_stations: bool = False,
    intensity: float = 1.0,
) -> dict:
    """Publish `nights` nights of counts for `devices` smart traps (the existing ones by code; with
    `create_stations`, missing ones are created with credentials, spread over the communes) as real MQTT
    messages (QoS 1, signed with each trap's secret) to `url`. The first night is `start` (default: so
    that the last night is yesterday's). Returns what was sent."""
    from django.conf import settings
    from django.utils import timezone

    from chinhquyenso.core.errors import DomainError
    from chinhquyenso.pests.models import TrapClass
    from chinhquyenso.pests.services.stations import device_secrets

    if devices < 1 or nights < 1:
        raise DomainError("Số bẫy và số đêm phải từ 1 trở lên.", "devices")
    today = timezone.localdate()
    start = start or today - dt.timedelta(days=nights)
    last = start + dt.timedelta(days=nights - 1)
    if last >= today:
        raise DomainError("Đêm cuối phải trước đêm nay (khoảng đếm kết thúc sáng hôm sau).", "start")
    if (today - start).days > settings.CQS["PESTS_MAX_AGE_DAYS"]:
        raise DomainError(
            f"Đêm đầu cách đây quá {settings.CQS['PESTS_MAX_AGE_DAYS']} ngày: máy chủ sẽ từ chối tin quá cũ; "
            "số liệu cũ nhập bằng tệp CSV (cqs pests import-traps).",
            "start",
        )
    rng = random.Random(seed)
    traps, created = _simulated_stations(devices, create=create_stations, first_night=start, rng=rng)
    if not traps:
        raise DomainError(
            "Chưa có bẫy đèn thông minh nào có mã bí mật: thêm --create-stations để tạo bẫy mô phỏng.", "devices"
        )
    classes = list(TrapClass.objects.order_by("code").values_list("code", flat=True))
    secrets = {t.pk: device_secrets(t)[0] for t in traps}
    sent = 0
    with Publisher(url, f"cqs-pests-simulator-{seed}") as publisher:
        pending = []
        for offset in range(nights):
            night = start + dt.timedelta(days=offset)
            for trap in traps:
                counts = night_counts(rng, night=night, sown_on=trap.sown_on, classes=classes, intensity=intensity)
                payload = trap_payload(trap.device_id, counts, night=night)
                pending.append(publisher.send(trap.device_id, secrets[trap.pk], payload, wait=False).mid)
                sent += 1
                if len(pending) >= 500:
                    if not publisher.wait_for(pending, timeout=60):
                        raise TimeoutError("Máy chủ MQTT không xác nhận các tin nhắn đã gửi.")
                    pending = []
        if pending and not publisher.wait_for(pending, timeout=60):
            raise TimeoutError("Máy chủ MQTT không xác nhận các tin nhắn đã gửi.")
    return {
        "devices": len(traps),
        "nights": nights,
        "messages": sent,
        "created_stations": created,
        "first_night": start.isoformat(),
        "last_night": last.isoformat(),
    }

"""The platform's MQTT client (Eclipse Paho 2, MQTT v5): the subscriber `cqs pests listen` runs."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
import urllib.parse

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

TOPIC_PREFIX = "cqs/pests/traps/"
TOPIC_FILTER = "cqs/pests/traps/+/counts"
SESSION_EXPIRY_SECONDS = 7 * 24 * 3600  # the broker keeps our queued messages a week while we are away


def topic_for(device_id: str) -> str:
    return f"{TOPIC_PREFIX}{device_id}/counts"


def device_of(topic: str) -> str | None:
    """The <device_id> of cqs/pests/traps/<device_id>/counts, None for any other topic."""
    if not topic.startswith(TOPIC_PREFIX) or not topic.endswith("/counts"):
        return None
    middle = topic[len(TOPIC_PREFIX) : -len("/counts")]
    return middle if middle and "/" not in middle else None


@dataclasses.dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str = ""
    password: str = ""

    @classmethod
    def from_url(cls, url: str, *, username: str = "", password: str = "") -> Broker:
        """mqtt://host:port or mqtts://host:port (TLS); credentials in the URL or given apart."""
        parts = urllib.parse.urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"Địa chỉ máy chủ MQTT phải bắt đầu bằng mqtt:// hoặc mqtts:// (đang là “{url}”).")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=urllib.parse.unquote(parts.username or "") or username,
            password=urllib.parse.unquote(parts.password or "") or password,
        )


def new_client(broker: Broker, client_id: str, *, persistent: bool, manual_ack: bool = False) -> paho.Client:
    """A paho client (MQTT v5) for `broker`; call `connect(client, broker, persistent=…)` to connect."""
    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=paho.MQTTv5,
        manual_ack=manual_ack,
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password or None)
    if broker.tls:
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


def connect_properties(persistent: bool) -> Properties:
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = SESSION_EXPIRY_SECONDS if persistent else 0
    return properties


def connect(client: paho.Client, broker: Broker, *, persistent: bool, keepalive: int = 30) -> None:
    """Connect (clean_start=False with a session expiry when `persistent`, so the broker keeps the
    session's subscriptions and QoS 1 messages while the client is away)."""
    client.connect(
        broker.host,
        broker.port,
        keepalive=keepalive,
        clean_start=not persistent,
        properties=connect_properties(persistent),
    )


# ------------------------------------------------------------------------------------------ subscriber

log = logging.getLogger(__name__)


def signature_of(message) -> str | None:
    """The `signature` user property of an MQTT v5 PUBLISH (None when absent)."""
    properties = getattr(message, "properties", None)
    for name, value in getattr(properties, "UserProperty", None) or []:
        if name == "signature":
            return value
    return None


class Subscriber:
    """Receives the traps' messages and stores them (services.ingest).

    - a fixed client id and a persistent session (clean_start=False, session expiry a week): while the
      subscriber is away — restarted, deployed, or the broker restarted — the broker keeps its
      subscription and the QoS 1 messages for it;
    - manual acknowledgements: a message is acknowledged only after `ingest()` has committed (or refused
      it for good), so a crash or a database failure before the commit leaves it unacknowledged and the
      broker sends it again when the subscriber reconnects; the (station, message id) uniqueness absorbs
      the second delivery;
    - reconnects with back-off (1 s doubling to 60 s) whenever the connection drops;
    - a message that makes `ingest()` fail in an unexpected way is logged (device id and error type, no
      content), kept as an IngestProblem and acknowledged, so one bad message cannot block the queue.

    `run()` is the loop; it processes the network in the calling thread (tests call it with `until=`)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        evaluate_alerts: bool = False,
    ):
        from django.conf import settings

        cqs = settings.CQS
        self.broker = Broker.from_url(
            url or cqs["PESTS_MQTT_URL"],
            username=cqs["PESTS_MQTT_USERNAME"] if username is None else username,
            password=cqs["PESTS_MQTT_PASSWORD"] if password is None else password,
        )
        self.client_id = client_id or cqs["PESTS_MQTT_CLIENT_ID"]
        self.evaluate_alerts = evaluate_alerts
        self.client = new_client(self.broker, self.client_id, persistent=True, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.connected = False
        self.subscribed = False
        self.database_failed = False
        self.backoff = 1.0
        self.next_attempt = 0.0
        self.stats = {"received": 0, "accepted": 0, "duplicate": 0, "flagged": 0, "rejected": 0, "errors": 0}
        self._last_evaluation = 0.0

    # --- paho callbacks (run inside client.loop(), in the caller's thread)

    def _on_connect(self, client, userdata, flags, reason, properties):
        if reason.is_failure:
            log.warning("pests: the MQTT broker refused the connection: %s", reason)
            return
        self.connected, self.backoff = True, 1.0
        log.info(
            "pests: connected to %s:%s (session kept: %s)", self.broker.host, self.broker.port, flags.session_present
        )
        client.subscribe(TOPIC_FILTER, qos=1)

    def _on_disconnect(self, client, userdata, flags, reason, properties):
        self.connected = self.subscribed = False

    def _on_message(self, client, userdata, message):
        from django.db import DatabaseError

        self.stats["received"] += 1
        try:
            result = self.handle(message)
        except DatabaseError:
            # Not stored and not acknowledged: the broker delivers it again after we reconnect.
            log.exception("pests: database error while storing a trap message; reconnecting later")
            self.stats["errors"] += 1
            self.database_failed = True
            return
        except Exception as error:  # noqa: BLE001 — one bad message must not stop the subscriber
            log.error("pests: unexpected %s on a message of device %s", type(error).__name__, device_of(message.topic))
            self.stats["errors"] += 1
            self._keep_problem(message, error)
        else:
            self.stats[result.status] = self.stats.get(result.status, 0) + 1
            if result.alerts_due:
                self._evaluate_alerts()
        client.ack(message.mid, message.qos)

    # --- work

    def handle(self, message):
        """Store one MQTT message (the device id is the topic's)."""
        from chinhquyenso.pests.services.ingest import ingest

        device_id = device_of(message.topic)
        return ingest(
            message.payload,
            transport="mqtt",
            device_id=device_id if device_id is not None else message.topic[:80],
            signature=signature_of(message),
        )

    def _keep_problem(self, message, error: Exception) -> None:
        from chinhquyenso.pests.models import IngestProblem, Transport
        from chinhquyenso.pests.services.ingest import _excerpt

        try:
            IngestProblem.objects.create(
                transport=Transport.MQTT,
                device_id=(device_of(message.topic) or "")[:80],
                reason=f"Lỗi không lường trước khi xử lý tin nhắn ({type(error).__name__}); đã ghi nhật ký.",
                excerpt=_excerpt(bytes(message.payload)),
            )
        except Exception:  # noqa: BLE001 — the database itself failing: logged above already
            log.exception("pests: could not keep the problem row")

    def _evaluate_alerts(self) -> None:
        """Check thresholds soon after a high count (at most once a minute); the periodic job covers the rest."""
        if not self.evaluate_alerts or time.monotonic() - self._last_evaluation < 60:
            return
        self._last_evaluation = time.monotonic()
        try:
            from chinhquyenso.pests.services import alerts

            alerts.evaluate()
        except Exception:  # noqa: BLE001 — the periodic job runs it again
            log.exception("pests: alert evaluation after a trap message failed")

    # --- connection

    def _try_connect(self) -> None:
        if time.monotonic() < self.next_attempt:
            time.sleep(min(0.2, self.next_attempt - time.monotonic()))
            return
        try:
            connect(self.client, self.broker, persistent=True)
        except OSError as error:
            log.warning(
                "pests: MQTT broker %s:%s unreachable (%s); retrying in %.0f s",
                self.broker.host,
                self.broker.port,
                type(error).__name__,
                self.backoff,
            )
            self.next_attempt = time.monotonic() + self.backoff
            self.backoff = min(self.backoff * 2, 60.0)

    def _drop_after_database_failure(self) -> None:
        from django.db import connection

        self.database_failed = False
        self.client.disconnect()  # the unacknowledged messages come again on the next connection
        self.connected = False
        if not connection.in_atomic_block:
            connection.close()  # a fresh connection next time
        self.next_attempt = time.monotonic() + self.backoff
        self.backoff = min(self.backoff * 2, 60.0)

    def run(self, *, stop: threading.Event | None = None, until=None, timeout: float | None = None) -> None:
        """Connect, receive and store until `stop` is set, `until()` is true or `timeout` seconds passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        socket_open = self.client.socket() is not None
        while not (stop is not None and stop.is_set()):
            if (until is not None and until()) or (deadline is not None and time.monotonic() > deadline):
                break
            if not socket_open:
                self._try_connect()
                socket_open = self.client.socket() is not None
                continue
            rc = self.client.loop(timeout=0.2)
            if self.database_failed:
                self._drop_after_database_failure()
                socket_open = False
            elif rc != paho.MQTT_ERR_SUCCESS:
                log.warning("pests: MQTT connection lost (%s); reconnecting", paho.error_string(rc))
                self.connected = False
                socket_open = False
                self.next_attempt = time.monotonic() + self.backoff
                self.backoff = min(self.backoff * 2, 60.0)
        if self.client.socket() is not None:
            self.client.loop_write()  # the acknowledgements of what was just stored

    def close(self) -> None:
        """Disconnect cleanly (the session stays on the broker for the next start)."""
        if self.client.socket() is not None:
            self.client.disconnect()
            with contextlib.suppress(Exception):
                self.client.loop(timeout=0.1)
        self.connected = False

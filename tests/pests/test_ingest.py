"""services.ingest.ingest: the message format, the signature, idempotency, the refusals and flags, the
trap-night rule, the stations' last message and silence, and credentials."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chinhquyenso.core.audit import AuditRecord
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.pests.models import IngestProblem, Station, TrapCount, TrapMessage
from chinhquyenso.pests.services import stations
from chinhquyenso.pests.services.ingest import ingest, night_of, sign
from chinhquyenso.pests.simulate import trap_payload

pytestmark = pytest.mark.django_db
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def nights_ago(days):
    return timezone.localdate() - dt.timedelta(days=days)


def body(device_id="bd-kien-an-01", **changes):
    night = nights_ago(1)
    start = dt.datetime.combine(night, dt.time(18), tzinfo=VN)
    data = {
        "device_id": device_id,
        "message_id": f"{device_id}-{night:%Y%m%d}",
        "window": {"start": start.isoformat(), "end": (start + dt.timedelta(hours=12)).isoformat()},
        "counts": {"ray-nau": 120},
        "images": ["sd://anh/0001.jpg"],
    }
    data.update(changes)
    return data


def send(secret, data, **kw):
    raw = json.dumps(data, ensure_ascii=False).encode()
    kw.setdefault("transport", "http")
    return ingest(raw, signature=sign(raw, secret), **kw)


def test_an_accepted_message_is_stored_with_its_counts_and_night(smart_trap):
    station, secret = smart_trap
    result = send(secret, body(counts={"ray-nau": 1200, "bo-xit-mu-xanh": 35, "sau-cuon-la-nho": 0}))
    assert result.status == "accepted" and result.reason == "" and not result.alerts_due
    message = result.message
    assert (message.station, message.transport, message.images) == (station, "http", ["sd://anh/0001.jpg"])
    counts = {c.trap_class.code: (c.count, c.night, c.accepted) for c in message.counts.all()}
    assert counts == {
        "ray-nau": (1200, nights_ago(1), True),
        "bo-xit-mu-xanh": (35, nights_ago(1), True),
        "sau-cuon-la-nho": (0, nights_ago(1), True),
    }
    station.refresh_from_db()
    assert station.last_message_at is not None and station.silent_since is None


def test_a_count_at_the_per_trap_night_warning_level_says_alerts_are_due(smart_trap):
    _, secret = smart_trap
    assert send(secret, body(counts={"ray-nau": 5000})).alerts_due


def test_the_same_message_twice_is_a_duplicate_and_other_content_under_its_id_is_refused(smart_trap):
    _, secret = smart_trap
    first = send(secret, body())
    again = send(secret, body())
    assert (again.status, again.message) == ("duplicate", first.message)
    changed = send(secret, body(counts={"ray-nau": 121}))
    assert changed.status == "rejected" and "nội dung khác" in changed.reason and changed.field == "message_id"
    assert TrapMessage.objects.count() == 1 and TrapCount.objects.get().count == 120
    assert IngestProblem.objects.get().message_id == first.message.message_id


def test_a_late_message_is_accepted_and_a_duplicate_stays_one_even_past_the_maximum_age(smart_trap, settings):
    _, secret = smart_trap
    start = dt.datetime.combine(nights_ago(20), dt.time(18), tzinfo=VN)
    late = body(
        message_id="late-1", window={"start": start.isoformat(), "end": (start + dt.timedelta(hours=12)).isoformat()}
    )
    assert send(secret, late).status == "accepted"
    assert TrapCount.objects.get().night == nights_ago(20)
    # Redelivered long after, when the window has gone past the maximum age: still the same message.
    settings.CQS = {**settings.CQS, "PESTS_MAX_AGE_DAYS": 10}
    assert send(secret, late).status == "duplicate"
    assert TrapCount.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-12-06T18:00:00+07:00", dt.date(2026, 12, 6)),
        ("2026-12-07T02:00:00+07:00", dt.date(2026, 12, 6)),  # an hourly message after midnight
        ("2026-12-07T11:59:00+07:00", dt.date(2026, 12, 6)),
        ("2026-12-07T12:00:00+07:00", dt.date(2026, 12, 7)),
        ("2026-12-06T19:30:00Z", dt.date(2026, 12, 6)),  # 02:30 on the 7th in Việt Nam: that night
        ("2026-12-06T10:00:00Z", dt.date(2026, 12, 6)),  # 17:00 local
    ],
)
def test_the_night_is_the_local_date_the_window_began_minus_one_in_the_morning(start, expected):
    assert night_of(dt.datetime.fromisoformat(start)) == expected


def window(start, hours=12.0):
    return {"start": start.isoformat(), "end": (start + dt.timedelta(hours=hours)).isoformat()}


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"message_id": ""}, "message_id", "Thiếu mã tin nhắn"),
        ({"message_id": "x" * 81}, "message_id", "80 ký tự"),
        ({"window": None}, "window", "khoảng thời gian"),
        ({"window": {"start": "hôm qua", "end": "2026-01-01T00:00:00+07:00"}}, "window.start", "ISO 8601"),
        ({"window": {"start": "2026-12-06T18:00:00", "end": "2026-12-07T06:00:00"}}, "window.start", "múi giờ"),
        ({"window": "later"}, "window", "khoảng thời gian"),
        ({"counts": [1, 2]}, "counts", "counts"),
        ({"counts": {"ray-nau": -1}}, "counts.ray-nau", "số âm"),
        ({"counts": {"ray-nau": 2.5}}, "counts.ray-nau", "số nguyên"),
        ({"counts": {"ray-nau": "12"}}, "counts.ray-nau", "số nguyên"),
        ({"counts": {"ray-nau": True}}, "counts.ray-nau", "số nguyên"),
        ({"counts": {"ray-nau": 10**30}}, "counts.ray-nau", "quá lớn"),
        ({"images": "anh.jpg"}, "images", "ảnh"),
        ({"images": [""]}, "images", "ảnh"),
    ],
)
def test_malformed_content_is_rejected_with_the_field_named(smart_trap, changes, field, words):
    _, secret = smart_trap
    result = send(secret, body(**changes))
    assert (result.status, result.field) == ("rejected", field)
    assert words.lower() in result.reason.lower()
    problem = IngestProblem.objects.get()
    assert (problem.reason, problem.device_id, problem.transport) == (result.reason, "bd-kien-an-01", "http")
    assert not TrapMessage.objects.exists()


def test_windows_out_of_time_are_rejected(smart_trap, settings):
    _, secret = smart_trap
    now = timezone.now()
    cases = [
        (window(now - dt.timedelta(hours=10), hours=-1), "trước thời điểm bắt đầu"),
        (window(now - dt.timedelta(hours=40), hours=37), "36 giờ"),
        (window(now - dt.timedelta(hours=1), hours=2), "đồng hồ"),  # ends an hour from now (skew 30 min)
        (window(now - dt.timedelta(days=61)), "quá cũ"),
    ]
    for n, (w, words) in enumerate(cases):
        result = send(secret, body(message_id=f"m{n}", window=w))
        assert result.status == "rejected" and words in result.reason, (w, result.reason)
    # Within the allowed clock skew: accepted.
    assert (
        send(secret, body(message_id="ok", window=window(now - dt.timedelta(hours=1), hours=1.4))).status == "accepted"
    )


def test_unknown_classes_and_implausible_counts_are_flagged_not_counted(smart_trap):
    _, secret = smart_trap
    result = send(secret, body(counts={"ray-nau": 10, "bo-la-la": 3, "con-gi-do": 1}))
    assert result.status == "flagged" and "bo-la-la, con-gi-do" in result.reason
    assert list(result.message.counts.values_list("trap_class__code", "count", "accepted")) == [("ray-nau", 10, False)]
    result = send(secret, body(message_id="nhieu", counts={"chau-chau-lua": 90000, "ray-nau": 10}))
    assert result.status == "flagged" and "chau-chau-lua: 90000 (tối đa 5000)" in result.reason
    assert not result.alerts_due
    assert not TrapCount.objects.filter(accepted=True).exists()


def test_authentication_unknown_device_bad_or_missing_signature_wrong_topic(smart_trap, make_trap):
    station, secret = smart_trap
    raw = json.dumps(body()).encode()
    cases = [
        (dict(signature=sign(raw, "0" * 64)), "signature", "Chữ ký"),
        (dict(signature=None), "signature", "thiếu chữ ký"),
        (dict(signature="abc"), "signature", "Chữ ký"),
        (dict(signature=sign(raw, secret), device_id="bd-khac"), "device_id", "khác mã thiết bị"),
    ]
    for kw, field, words in cases:
        result = ingest(raw, transport="mqtt", **kw)
        assert (result.status, result.field) == ("rejected", field) and words.lower() in result.reason.lower()
    # The signature is over the exact bytes: the same JSON spaced differently does not verify.
    assert (
        ingest(json.dumps(body(), indent=1).encode(), transport="mqtt", signature=sign(raw, secret)).status
        == "rejected"
    )
    unknown = json.dumps(body("bd-la")).encode()
    assert "chưa được đăng ký" in ingest(unknown, transport="http", signature=sign(unknown, secret)).reason
    # A station read by hand has no device credentials.
    make_trap("bd-ghi-tay", kind=Station.Kind.LIGHT_TRAP)
    assert IngestProblem.objects.count() == 6 and not TrapMessage.objects.exists()
    # The accepted "sha256=" prefix and upper case.
    assert ingest(raw, transport="http", signature="sha256=" + sign(raw, secret).upper()).status == "accepted"


def test_an_inactive_station_is_refused(smart_trap):
    station, secret = smart_trap
    Station.objects.filter(pk=station.pk).update(active=False)
    assert "ngừng hoạt động" in send(secret, body()).reason


def test_csv_and_manual_transports_need_no_signature(smart_trap):
    result = ingest(body(), transport="manual")
    assert result.status == "accepted" and result.message.transport == "manual"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300))
def test_random_bytes_never_crash(smart_trap, raw):
    assert ingest(raw, transport="mqtt", device_id="bd-kien-an-01", signature="00").status == "rejected"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "device_id": st.sampled_from(["bd-kien-an-01", "bd-la"]) | json_values,
        "message_id": st.text(max_size=90) | json_values,
        "window": st.fixed_dictionaries(
            {},
            optional={"start": st.text(max_size=40) | st.datetimes(timezones=st.just(VN)).map(str), "end": json_values},
        )
        | json_values,
        "counts": st.dictionaries(st.sampled_from(["ray-nau", "bo-rua-do", "la"]) | st.text(max_size=8), json_values)
        | json_values,
        "images": st.lists(st.text(max_size=20)) | json_values,
    },
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=fields)
def test_random_json_signed_by_the_device_never_crashes(smart_trap, data):
    _, secret = smart_trap
    raw = json.dumps(data, ensure_ascii=False).encode("utf-8", errors="surrogatepass")
    result = ingest(raw, transport="mqtt", signature=sign(raw, secret))
    assert result.status in {"accepted", "duplicate", "flagged", "rejected"}
    assert (result.status == "rejected") == (result.message is None)


def test_issue_credentials_renews_and_audits(smart_trap, pest_officer, pest_grant, admin_user):
    station, secret = smart_trap
    raw = json.dumps(body()).encode()
    with pytest.raises(PermissionDenied):
        stations.issue_credentials(station, actor=pest_officer)
    pest_grant(pest_officer, "manage_pest_catalog")
    new_secret = stations.issue_credentials(station, actor=pest_officer)
    assert new_secret != secret and len(new_secret) == 64
    assert "Chữ ký" in ingest(raw, transport="http", signature=sign(raw, secret)).reason
    assert ingest(raw, transport="http", signature=sign(raw, new_secret)).status == "accepted"
    record = AuditRecord.objects.filter(action="pests.station.credentials").last()
    assert record.after == {"device_id": "bd-kien-an-01", "renewed": True}
    assert secret not in json.dumps(record.after) and new_secret not in station.device_secret_hash


def test_the_secret_follows_the_installation_key_and_its_fallbacks(smart_trap, settings):
    station, secret = smart_trap
    raw = json.dumps(body()).encode()
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "x" * 50, [old_key]
    assert ingest(raw, transport="http", signature=sign(raw, secret)).status == "accepted"
    settings.SECRET_KEY_FALLBACKS = []
    assert stations.device_secrets(station)[0] != secret


def test_only_smart_traps_get_credentials(make_trap):
    station, _ = make_trap("diem-dieu-tra-1", kind=Station.Kind.SURVEY_POINT)
    with pytest.raises(DomainError):
        stations.issue_credentials(station, actor=None)


def test_silent_traps_are_flagged_and_a_message_clears_the_flag(smart_trap, make_trap):
    station, secret = smart_trap
    quiet, _ = make_trap("bd-kien-thanh-01")
    now = timezone.now()
    three_nights_ago = window(dt.datetime.combine(nights_ago(3), dt.time(18), tzinfo=VN))
    send(secret, body(window=three_nights_ago), received_at=now - dt.timedelta(hours=40))
    Station.objects.filter(pk=quiet.pk).update(created_at=now - dt.timedelta(days=3))
    assert stations.flag_silent(now) == {"traps": 2, "newly_silent": 2, "silent": 2}
    assert stations.flag_silent(now)["newly_silent"] == 0
    station.refresh_from_db()
    assert station.silent_since == now - dt.timedelta(hours=40) and stations.status(station, now) == "silent"
    send(secret, body(message_id="moi"), received_at=now)
    station.refresh_from_db()
    assert station.silent_since is None and stations.status(station, now) == "online"
    # A late message received earlier than the last one does not move last_message_at back.
    send(secret, body(message_id="cu"), received_at=now - dt.timedelta(hours=5))
    station.refresh_from_db()
    assert station.last_message_at == now


def test_the_fixture_payload_is_the_documented_shape(smart_trap, ingest_counts):
    station, secret = smart_trap
    payload = json.loads(trap_payload(station.device_id, {"ray-nau": 5}, night=nights_ago(1)))
    assert set(payload) == {"device_id", "message_id", "window", "counts", "images"}
    assert payload["window"]["start"].endswith("18:00:00+07:00")
    assert ingest_counts(station, secret, {"ray-nau": 5}).status == "accepted"


@pytest.mark.django_db(transaction=True)
def test_simultaneous_deliveries_of_one_message_store_it_once(smart_trap):
    """The broker redelivering while the first delivery is still being stored, an HTTP retry racing the
    MQTT copy: several connections at once (PostgreSQL)."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("several connections at once need PostgreSQL; run with DATABASE_URL=postgres://…")
    _, secret = smart_trap
    raw = json.dumps(body(counts={"ray-nau": 4321, "bo-rua-do": 7})).encode()
    workers = 6
    barrier, results, errors = threading.Barrier(workers), [], []

    def deliver():
        try:
            barrier.wait()
            results.append(ingest(raw, transport="mqtt", signature=sign(raw, secret)).status)
        except Exception as error:  # noqa: BLE001 — asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(results) == ["accepted"] + ["duplicate"] * (workers - 1)
    assert TrapMessage.objects.count() == 1 and TrapCount.objects.count() == 2

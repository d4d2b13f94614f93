"""Measures of crop-pest surveillance for indicator formulas (core.registry.INDICATOR_MEASURES, registered
in PestsConfig.ready()) and the dashboard's section of them (core.registry.DASHBOARD_TILES). The
indicators are rows of indicators/data/registry.json:

- pests_traps_online = pests_smart_traps_online / pests_smart_traps: active smart traps that sent a
  message (accepted or flagged — a refused one is no sign of a working trap) in the
  CQS["PESTS_SILENT_AFTER_HOURS"] before the period's end (now, for a period not over), over the active
  smart traps installed before that moment; per the commune version the trap was placed in;
- pests_surveys_on_time = pests_survey_weeks_done / pests_survey_weeks_due: each active fixed survey
  point owes `surveys_per_point_per_week` surveys (pests/data/indicators.json: one, QCVN 01-38:2010's
  "every 7 days") in each Monday–Sunday week that ends inside the period and is over, from the first
  week that begins after the point was set up; a point-week is done when the point has that many surveys
  dated inside it; per the point's commune version;
- pests_alerts_issued = pests_alerts: alerts created in the period, per the alert's commune version;
- pests_identification_accuracy = pests_photos_top1_correct / pests_photos_confirmed: photos an expert
  confirmed in the period whose model's first answer was the confirmed class, over the confirmed photos
  the model had scored (selectors.accuracy.accuracy_summary, every model version together; photos sent
  while no model was configured are not measured); the province's only — a farmer's request need not
  name a commune.

Figures of the past are computed from what was recorded then (messages' and surveys' dates); the one
thing read as it is now is whether a station is active (stations keep no history of being switched off).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from chinhquyenso.core.calendar import LOCAL_TZ, local_date
from chinhquyenso.core.registry import TileSection

DATA_FILE = Path(__file__).parent / "data" / "indicators.json"

MEASURES: dict[str, str] = {
    "pests_smart_traps": "bẫy đèn thông minh đang dùng, lắp đặt trước cuối kỳ",
    "pests_smart_traps_online": "bẫy đèn thông minh có tin nhắn trong thời gian im lặng cho phép trước cuối kỳ",
    "pests_survey_weeks_due": "lượt điều tra định kỳ phải làm (điểm điều tra cố định × tuần kết thúc trong kỳ)",
    "pests_survey_weeks_done": "lượt điều tra định kỳ đã làm (tuần có đủ phiếu điều tra của điểm)",
    "pests_alerts": "cảnh báo sinh vật gây hại phát ra trong kỳ",
    "pests_photos_confirmed": "ảnh nhận dạng được chuyên gia xác nhận trong kỳ",
    "pests_photos_top1_correct": "ảnh nhận dạng có kết quả đầu tiên của mô hình đúng với xác nhận của chuyên gia",
}

CODES = (
    "pests_traps_online",
    "pests_surveys_on_time",
    "pests_alerts_issued",
    "pests_identification_accuracy",
)
TILES = TileSection(
    title="Sinh vật gây hại cây trồng",
    tiles=(
        ("pests_traps_online", "Bẫy đèn thông minh đang hoạt động"),
        ("pests_surveys_on_time", "Điều tra định kỳ đúng lịch"),
        ("pests_alerts_issued", "Cảnh báo sinh vật gây hại"),
        ("pests_identification_accuracy", "Nhận dạng qua ảnh đúng"),
    ),
    counts="",  # bẫy, lượt điều tra, ảnh: each tile's name says what it counts
)


@cache
def rules() -> dict:
    """pests/data/indicators.json (read once per process)."""
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def surveys_per_week() -> int:
    return max(1, int(rules()["surveys_on_time"]["surveys_per_point_per_week"]))


def _moment_after(day: dt.date) -> dt.datetime:
    """The local midnight that ends `day`."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ)


def indicator_measures(start: dt.date, end: dt.date, now: dt.datetime | None = None) -> dict:
    """{commune version id | None (the province only): {measure: number}} over the local dates
    start..end; nothing at all when the province has no station and no identification to count."""
    now = now or timezone.now()
    out: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for part in (_traps_online(end, now), _surveys_on_time(start, end, now), _alerts(start, end)):
        for agency_id, measures in part.items():
            for name, number in measures.items():
                out[agency_id][name] += number
    for name, number in _accuracy(start, end).items():
        out[None][name] += number
    return {agency_id: dict(measures) for agency_id, measures in out.items()}


def _traps_online(end: dt.date, now: dt.datetime) -> dict:
    from chinhquyenso.pests.models import Station, TrapMessage

    moment = min(_moment_after(end), now)
    since = moment - dt.timedelta(hours=settings.CQS["PESTS_SILENT_AFTER_HOURS"])
    heard = TrapMessage.objects.filter(station=OuterRef("pk"), received_at__gt=since, received_at__lte=moment).exclude(
        status=TrapMessage.Status.REJECTED
    )
    rows = (
        Station.objects.filter(kind=Station.Kind.SMART_TRAP, active=True, created_at__lt=moment)
        .annotate(online=Exists(heard))
        .values_list("commune_id", "online")
    )
    out: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for commune_id, online in rows:
        out[commune_id]["pests_smart_traps"] += 1
        out[commune_id]["pests_smart_traps_online"] += int(online)
    return out


def _surveys_on_time(start: dt.date, end: dt.date, now: dt.datetime) -> dict:
    """Point-weeks due and done: weeks (Monday–Sunday) whose Sunday is in start..end and before today."""
    from chinhquyenso.pests.models import Station, Survey

    today = local_date(now)
    last_sunday = min(end, today - dt.timedelta(days=1))
    last_sunday -= dt.timedelta(days=(last_sunday.weekday() - 6) % 7)  # back to a Sunday
    first_monday = start - dt.timedelta(days=start.weekday())  # the week of the first Sunday ≥ start
    if last_sunday < first_monday:
        return {}
    points = list(
        Station.objects.filter(
            kind=Station.Kind.SURVEY_POINT, active=True, created_at__lt=_moment_after(last_sunday - dt.timedelta(6))
        ).values_list("pk", "commune_id", "created_at")
    )
    if not points:
        return {}
    done_weeks = defaultdict(int)  # (point, Monday) → surveys
    rows = (
        Survey.objects.filter(
            station_id__in=[pk for pk, _, _ in points], surveyed_on__range=(first_monday, last_sunday)
        )
        .values_list("station_id", "surveyed_on")
        .annotate(n=Count("id"))
        .order_by()
    )
    for station_id, day, n in rows:
        done_weeks[(station_id, day - dt.timedelta(days=day.weekday()))] += n
    needed = surveys_per_week()
    out: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pk, commune_id, created_at in points:
        # Owed from the first week beginning on or after the day the point was set up (a point set
        # up on a Wednesday owes its first survey the next week).
        created = local_date(created_at)
        monday = max(first_monday, created + dt.timedelta(days=(7 - created.weekday()) % 7))
        while monday <= last_sunday:
            out[commune_id]["pests_survey_weeks_due"] += 1
            out[commune_id]["pests_survey_weeks_done"] += int(done_weeks.get((pk, monday), 0) >= needed)
            monday += dt.timedelta(days=7)
    return out


def _alerts(start: dt.date, end: dt.date) -> dict:
    from chinhquyenso.pests.models import Alert

    rows = (
        Alert.objects.filter(
            created_at__gte=_moment_after(start - dt.timedelta(days=1)), created_at__lt=_moment_after(end)
        )
        .values_list("commune_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {commune_id: {"pests_alerts": n} for commune_id, n in rows}


def _accuracy(start: dt.date, end: dt.date) -> dict[str, int]:
    """Photos confirmed in the period that the model had scored, and those its first answer got right
    (selectors.accuracy.accuracy_summary; photos sent while no model was configured are not measured)."""
    from chinhquyenso.pests.selectors.accuracy import accuracy_summary

    summary = accuracy_summary(start, end)
    if not summary["photos"]:
        return {}
    return {"pests_photos_confirmed": summary["photos"], "pests_photos_top1_correct": summary["top1"]}

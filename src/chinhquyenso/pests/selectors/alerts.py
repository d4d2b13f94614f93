"""The alerts an officer sees (reads only): plant-protection officers (`pests.survey_pests`) every
commune's, commune officers their communes' (with the communes those succeeded)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db.models import QuerySet

from chinhquyenso.core.errors import NotFound
from chinhquyenso.pests.models import Alert, Station, Survey, TrapMessage
from chinhquyenso.pests.selectors.densities import visible_communes

STATUS_FILTERS = {
    "dang-canh-bao": [Alert.Status.OPEN],
    "chua-ket-thuc": [Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED],
    "da-tiep-nhan": [Alert.Status.ACKNOWLEDGED],
    "da-ket-thuc": [Alert.Status.CLOSED],
    "tat-ca": None,
}


def visible_alerts(user) -> QuerySet[Alert]:
    communes = visible_communes(user)
    alerts = Alert.objects.select_related("organism", "commune", "threshold", "threshold__crop")
    if communes is None:
        return alerts
    return alerts.filter(commune_id__in=communes)


def alert_list(user, *, status: str = "chua-ket-thuc") -> QuerySet[Alert]:
    alerts = visible_alerts(user)
    statuses = STATUS_FILTERS.get(status, STATUS_FILTERS["chua-ket-thuc"])
    if statuses is not None:
        alerts = alerts.filter(status__in=statuses)
    return alerts.order_by("-period_start", "-created_at", "-id")


def get_alert(user, pk: int) -> Alert:
    alert = visible_alerts(user).filter(pk=pk).first()
    if alert is None:
        raise NotFound("Không tìm thấy cảnh báo này (hoặc nó không thuộc phạm vi bạn được xem).")
    return alert


def open_count(user) -> int:
    return visible_alerts(user).filter(status=Alert.Status.OPEN).count()


def _day(text) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def _decimal(text) -> Decimal | None:
    try:
        return Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None


def evidence_of(alert: Alert) -> dict:
    """The data behind an alert as the page shows it: its evidence (stored when it was issued)
    with the stations, messages and surveys it names read back, those still in the database."""
    evidence = alert.evidence or {}
    station_ids = [s.get("id") for s in evidence.get("stations", []) if s.get("id")]
    message_ids = [m.get("id") for m in evidence.get("messages", []) if m.get("id")]
    survey_ids = [s.get("id") for s in evidence.get("surveys", []) if s.get("id")]
    # Growth stages are stored as the crop's codes; the page names them.
    stage_names = {stage.get("code"): stage.get("name", "") for stage in alert.threshold.crop.stages or []}

    def named(item: dict) -> dict:
        return {**item, "stage": stage_names.get(item.get("stage")) or item.get("stage")}

    return {
        "rule": evidence.get("rule", {}),
        "stations": [
            {**named(item), "station": stations.get(item.get("id"))}
            for stations in [Station.objects.in_bulk(station_ids)]
            for item in evidence.get("stations", [])
        ],
        "messages": [
            {**item, "night": _day(item.get("night")), "message": messages.get(item.get("id"))}
            for messages in [TrapMessage.objects.select_related("station").in_bulk(message_ids)]
            for item in evidence.get("messages", [])
        ],
        "surveys": [
            {
                **named(item),
                "surveyed_on": _day(item.get("surveyed_on")),
                "value": _decimal(item.get("value")),
                "survey": surveys.get(item.get("id")),
            }
            for surveys in [Survey.objects.select_related("commune").in_bulk(survey_ids)]
            for item in evidence.get("surveys", [])
        ],
        "messages_left_out": evidence.get("messages_left_out", 0),
        "last_night": _day((evidence.get("nights") or {}).get("to")),
    }

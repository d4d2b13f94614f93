"""Alerts: a threshold of the catalog crossed in a commune, with the rule and the data behind it.

`evaluate(now=None)` (the worker's `pests_alerts` job, every 15 minutes) compares the latest week
with every threshold in force:

- the week is the Monday–Sunday week of the latest finished trap-night (the night that began
  yesterday, local time): the figures are those of the week so far, and the alert is the week's;
- a **per_trap_night** threshold reads the trap density of the organism's trap classes (their
  accepted counts summed ÷ the trap-nights with a message) of the commune's traps growing the
  threshold's crop at the threshold's stage — each trap's stage is its crop's stage on the latest
  night, from the trap's sowing date (Station.sown_on) and the crop's stage days; a threshold
  without a stage takes every trap of the crop, one with a stage skips traps without a sowing date;
- a **per_m2** or **infestation_pct** threshold reads the mean density (con/m²) or infestation (%)
  of the week's surveys of the commune on that crop, recorded at that stage;
- per_clump thresholds have no data source yet (the surveys record con/m²) and are skipped;
- the commune is each station's or survey's commune as it stands on the latest night (a commune
  merged away counts for its successor);
- at or above `action_level` → an alert of level "action"; at or above `warn_level` → "warn"
  (not issued when the week already has the action alert). One alert per threshold, commune,
  week and level (a unique constraint): re-evaluating never repeats one, and concurrent
  evaluations (several workers) end with one — the loser's insert waits for the winner's commit
  and fails on the constraint;
- each new alert and its warnings (`services.warnings.send_alert`: SMS and chat to the commune's
  subscribers, in-app notices to its officers, through the outbox) are written in one transaction:
  an alert is never stored without its warnings, nor warned twice.

The alert's `evidence` keeps what was compared: the rule (threshold, its levels and source), the
stations (code, stage, trap-nights, count) and their messages, or the surveys (date, value).

Officers acknowledge an alert (open → acknowledged) and close it (→ closed) through the `ALERTS`
workflow: one transaction, the row locked, audited (pests.alert.acknowledge / pests.alert.close)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from chinhquyenso.accounts.access import refuse_read_only
from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import PermissionDenied
from chinhquyenso.core.workflow import Workflow, atomic_retrying
from chinhquyenso.pests.models import (
    Alert,
    Measure,
    Station,
    SurveyObservation,
    Threshold,
    TrapClass,
    TrapCount,
)
from chinhquyenso.pests.selectors.densities import TRAP_KINDS, CommuneHistory, per, visible_communes
from chinhquyenso.pests.services.catalog import stage_on

MAX_MESSAGES = 200  # messages listed in an alert's evidence (the rest are counted)


def week_of(now: dt.datetime) -> tuple[dt.date, dt.date, dt.date]:
    """(Monday, Sunday, latest night) of the week of the latest finished trap-night."""
    latest = local_date(now) - dt.timedelta(days=1)
    monday = latest - dt.timedelta(days=latest.weekday())
    return monday, monday + dt.timedelta(days=6), latest


def _in_force(day: dt.date):
    return (
        Threshold.objects.filter(organism__active=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        .select_related("organism", "crop")
        .order_by("pk")
    )


def level_of(threshold: Threshold, value: Decimal) -> str | None:
    if threshold.action_level is not None and value >= threshold.action_level:
        return Alert.Level.ACTION
    if value >= threshold.warn_level:
        return Alert.Level.WARN
    return None


def _rule(threshold: Threshold) -> dict:
    return {
        "threshold": threshold.pk,
        "organism": threshold.organism.code,
        "organism_name": threshold.organism.name,
        "crop": threshold.crop.code,
        "crop_name": threshold.crop.name,
        "stage": threshold.stage,
        "stage_name": next((s.get("name", "") for s in threshold.crop.stages if s.get("code") == threshold.stage), ""),
        "measure": threshold.measure,
        "unit": threshold.get_measure_display(),
        "warn_level": str(threshold.warn_level),
        "action_level": "" if threshold.action_level is None else str(threshold.action_level),
        "source": threshold.source,
    }


@dataclass
class Crossing:
    threshold: Threshold
    commune_id: int
    level: str
    value: Decimal
    evidence: dict
    trap_rows: dict = field(default_factory=dict)  # station id → classes, for the messages


class _Week:
    """The week's data, read once for every threshold: trap counts per (station, class), trap-nights
    per station, survey observations."""

    def __init__(self, monday: dt.date, latest: dt.date):
        self.monday, self.latest = monday, latest
        self.history = CommuneHistory()
        counts = TrapCount.objects.filter(night__gte=monday, night__lte=latest, accepted=True)
        self.totals: dict[int, dict[int, int]] = defaultdict(dict)
        for station, trap_class, total in (
            counts.values("station_id", "trap_class_id")
            .annotate(total=Sum("count"))
            .order_by()
            .values_list("station_id", "trap_class_id", "total")
        ):
            self.totals[station][trap_class] = total
        self.nights = dict(
            counts.values("station_id")
            .annotate(n=Count("night", distinct=True))
            .order_by()
            .values_list("station_id", "n")
        )
        self.stations = {
            s.pk: s for s in Station.objects.filter(pk__in=self.nights, kind__in=TRAP_KINDS).select_related("crop")
        }
        self.classes: dict[int, list[int]] = defaultdict(list)  # organism id → trap class ids
        for pk, organism in TrapClass.objects.filter(organism__isnull=False).values_list("id", "organism_id"):
            self.classes[organism].append(pk)
        self.observations = list(
            SurveyObservation.objects.filter(
                survey__surveyed_on__gte=monday, survey__surveyed_on__lte=latest
            ).values_list(
                "survey_id",
                "survey__surveyed_on",
                "survey__commune_id",
                "survey__crop_id",
                "survey__stage",
                "organism_id",
                "density_per_m2",
                "infestation_pct",
            )
        )

    def commune(self, pk: int) -> int:
        return self.history.successor_on(pk, self.latest) or pk

    def trap_crossings(self, threshold: Threshold) -> list[Crossing]:
        classes = set(self.classes.get(threshold.organism_id, ()))
        if not classes:
            return []
        per_commune: dict[int, list] = defaultdict(list)
        for station in self.stations.values():
            if station.crop_id != threshold.crop_id:
                continue
            stage = stage_on(station.crop, station.sown_on, self.latest)
            if threshold.stage and stage != threshold.stage:
                continue
            count = sum(total for c, total in self.totals[station.pk].items() if c in classes)
            per_commune[self.commune(station.commune_id)].append((station, stage, self.nights[station.pk], count))
        out = []
        for commune, rows in per_commune.items():
            nights = sum(r[2] for r in rows)
            total = sum(r[3] for r in rows)
            value = per(total, nights)
            level = value is not None and level_of(threshold, value)
            if not level:
                continue
            evidence = {
                "rule": _rule(threshold),
                "value": str(value),
                "total": total,
                "trap_nights": nights,
                "nights": {"from": self.monday.isoformat(), "to": self.latest.isoformat()},
                "stations": [
                    {"id": s.pk, "code": s.code, "name": s.name, "stage": stage, "nights": n, "count": c}
                    for s, stage, n, c in sorted(rows, key=lambda r: r[0].code)
                ],
            }
            out.append(Crossing(threshold, commune, level, value, evidence, {r[0].pk: classes for r in rows}))
        return out

    def survey_crossings(self, threshold: Threshold) -> list[Crossing]:
        column = 6 if threshold.measure == Measure.PER_M2 else 7
        per_commune: dict[int, list] = defaultdict(list)
        for row in self.observations:
            survey, day, commune, crop, stage, organism = row[:6]
            value = row[column]
            if organism != threshold.organism_id or crop != threshold.crop_id or value is None:
                continue
            if threshold.stage and stage != threshold.stage:
                continue
            per_commune[self.commune(commune)].append((survey, day, stage, value))
        out = []
        for commune, rows in per_commune.items():
            value = per(sum(Decimal(r[3]) for r in rows), len(rows))
            level = level_of(threshold, value)
            if not level:
                continue
            evidence = {
                "rule": _rule(threshold),
                "value": str(value),
                "surveys_counted": len(rows),
                "nights": {"from": self.monday.isoformat(), "to": self.latest.isoformat()},
                "surveys": [
                    {"id": s, "surveyed_on": d.isoformat(), "stage": st, "value": str(v)}
                    for s, d, st, v in sorted(rows, key=lambda r: (r[1], r[0]))
                ],
            }
            out.append(Crossing(threshold, commune, level, value, evidence))
        return out


def _messages(crossing: Crossing, monday: dt.date, latest: dt.date) -> None:
    """The trap messages behind a crossing, into its evidence (at most MAX_MESSAGES listed)."""
    q = Q()
    for station, classes in crossing.trap_rows.items():
        q |= Q(station_id=station, trap_class_id__in=sorted(classes))
    rows = (
        TrapCount.objects.filter(q, night__gte=monday, night__lte=latest, accepted=True)
        .values("message_id", "message__message_id", "station__code", "night")
        .annotate(count=Sum("count"))
        .order_by("night", "station__code", "message_id")
    )
    listed = list(rows[: MAX_MESSAGES + 1])
    crossing.evidence["messages"] = [
        {
            "id": r["message_id"],
            "message_id": r["message__message_id"],
            "station": r["station__code"],
            "night": r["night"].isoformat(),
            "count": r["count"],
        }
        for r in listed[:MAX_MESSAGES]
    ]
    if len(listed) > MAX_MESSAGES:
        crossing.evidence["messages_left_out"] = rows.count() - MAX_MESSAGES


def _send(alert: Alert) -> int:
    from chinhquyenso.pests.services import warnings

    return warnings.send_alert(alert)


def _issue(crossing: Crossing, monday: dt.date, sunday: dt.date) -> tuple[Alert, int] | None:
    """The alert and its warnings in one transaction; None when the week already has it."""

    def body():
        if (
            crossing.level == Alert.Level.WARN
            and Alert.objects.filter(
                threshold=crossing.threshold,
                commune_id=crossing.commune_id,
                period_start=monday,
                level=Alert.Level.ACTION,
            ).exists()
        ):
            return None
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    threshold=crossing.threshold,
                    organism=crossing.threshold.organism,
                    commune_id=crossing.commune_id,
                    level=crossing.level,
                    value=crossing.value,
                    period_start=monday,
                    period_end=sunday,
                    evidence=crossing.evidence,
                )
        except IntegrityError:
            return None  # issued already (by this job before, or by another worker just now)
        return alert, _send(alert)

    return atomic_retrying(body)


def evaluate(now: dt.datetime | None = None) -> dict:
    """Compare the latest week with every threshold in force; issue the new alerts and their
    warnings. Returns what it did: the week, thresholds read, crossings found, alerts issued,
    messages enqueued."""
    now = now or timezone.now()
    monday, sunday, latest = week_of(now)
    thresholds = list(_in_force(latest))
    result = {
        "from": monday.isoformat(),
        "to": latest.isoformat(),
        "thresholds": len(thresholds),
        "crossings": 0,
        "issued": 0,
        "messages": 0,
    }
    if not thresholds:
        return result
    week = _Week(monday, latest)
    existing = set(Alert.objects.filter(period_start=monday).values_list("threshold_id", "commune_id", "level"))
    for threshold in thresholds:
        if threshold.measure == Measure.PER_TRAP_NIGHT:
            crossings = week.trap_crossings(threshold)
        elif threshold.measure in (Measure.PER_M2, Measure.INFESTATION_PCT):
            crossings = week.survey_crossings(threshold)
        else:
            continue
        for crossing in crossings:
            result["crossings"] += 1
            if (threshold.pk, crossing.commune_id, crossing.level) in existing:
                continue
            if crossing.trap_rows:
                _messages(crossing, monday, latest)
            issued = _issue(crossing, monday, sunday)
            if issued is not None:
                result["issued"] += 1
                result["messages"] += issued[1] or 0
    return result


# ---------------------------------------------------------------- acknowledge, close


def _snapshot(alert: Alert) -> dict:
    return {
        "status": alert.status,
        "level": alert.level,
        "threshold": alert.threshold_id,
        "organism": alert.organism_id,
        "commune": alert.commune_id,
        "period_start": alert.period_start.isoformat(),
    }


ALERTS = Workflow(
    Alert,
    noun="cảnh báo",
    audit_prefix="pests.alert",
    snapshot=_snapshot,
    agency_of=lambda alert: alert.commune_id,
    guard=refuse_read_only,
)


def may_handle(user, alert: Alert) -> bool:
    """Officers who see the alert's commune: the plant-protection officers with the grant, the
    commune's officers."""
    communes = visible_communes(user)
    return communes is None or alert.commune_id in communes


def _require_handler(actor, alert: Alert) -> None:
    if not may_handle(actor, alert):
        raise PermissionDenied("Bạn không phụ trách xã, phường của cảnh báo này.")


@ALERTS.action
def acknowledge(alert: Alert, *, actor, at=None) -> Alert:
    """The commune or the plant-protection station has taken the alert in hand."""
    alert, at = ALERTS.begin(alert, actor, at)
    _require_handler(actor, alert)
    ALERTS.require(alert, Alert.Status.OPEN, action="tiếp nhận")
    ALERTS.transition(alert, actor=actor, action="acknowledge", to_status=Alert.Status.ACKNOWLEDGED, at=at)
    return alert


@ALERTS.action
def close(alert: Alert, *, actor, at=None) -> Alert:
    """The situation is over (treated, or the density fell): the alert is closed."""
    alert, at = ALERTS.begin(alert, actor, at)
    _require_handler(actor, alert)
    ALERTS.require(alert, Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED, action="kết thúc")
    ALERTS.transition(alert, actor=actor, action="close", to_status=Alert.Status.CLOSED, at=at)
    return alert

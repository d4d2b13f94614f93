"""Warnings of an alert to the people of its commune, through the outbox (never a network call).

`send_alert(alert)` is called by `services.alerts.evaluate` inside the transaction that creates the
alert, so a rolled-back evaluation sends nothing. It writes:

- one SMS (`pests.alert.sms`) per active SMS subscription of the commune, short — organism, commune,
  level, the measured value, what to do, and the unsubscribe link — within 160 characters where the
  site's address allows (the value is left out when it would not fit);
- one Zalo message (`pests.alert.chat`, the outbox's "zalo" channel: the OA adapter or its simulator,
  exchange.senders.zalo_sender) per active Zalo subscription, longer: the value against the threshold
  and its source, the week, and the catalog's management advice;
- one in-app notice (`pests.alert.notice`) to each officer of the commune (members of the commune's
  committee), with a link to the alert's page.

A subscription to a commune merged since (its predecessor) receives the alerts of the commune that
replaced it. Every message has a dedup key (`pests.alert:<alert>:sub:<subscription>`,
`pests.alert:<alert>:user:<user>`), so running the evaluation again never sends twice, and a
subscription ended before the alert receives nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.urls import NoReverseMatch, reverse

from chinhquyenso.accounts.models import Membership, User
from chinhquyenso.core.text import format_number
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.consent import sms_text
from chinhquyenso.org.selectors import current_successor, with_predecessors
from chinhquyenso.pests.models import Alert, Subscription
from chinhquyenso.pests.services.subscriptions import area_name

SMS_LIMIT = 160  # one GSM-7 segment; with diacritics a text is UCS-2 (70 per segment) unless CQS_SMS_UNACCENTED
CHAT_LIMIT = 2000  # exchange.senders.ZALO_TEXT_MAX
ADVICE_LIMIT = 700  # characters of the catalog's management text in a Zalo message

LEVEL_TEXT = {
    Alert.Level.WARN: "đến ngưỡng cảnh báo",
    Alert.Level.ACTION: "vượt ngưỡng phòng trừ",
}
TO_DO = {
    Alert.Level.WARN: "Thăm ruộng, theo dõi sát.",
    Alert.Level.ACTION: "Cần phòng trừ, hỏi cán bộ BVTV xã.",
}


def figure(value) -> str:
    """6200 → '6.200'; 12.5 → '12,5'; 0.25 → '0,25' (no trailing zeros)."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return format_number(int(value))
    decimals = min(2, max(0, -value.normalize().as_tuple().exponent))
    return format_number(float(value), decimals)


def unsubscribe_url(subscription: Subscription) -> str:
    return outbox.absolute_url(reverse("pests_public:unsubscribe", args=[subscription.unsubscribe_token]))


def _unit(alert: Alert) -> str:
    return alert.threshold.get_measure_display()


def sms_for(alert: Alert, subscription: Subscription) -> str:
    """The SMS: within SMS_LIMIT characters where possible."""
    organism, place = alert.organism.name, area_name(alert.commune)
    head = f"{organism} {place} {LEVEL_TEXT[alert.level]}"
    tail = f"{TO_DO[alert.level]} Hủy: {unsubscribe_url(subscription)}"
    text = f"{head} ({figure(alert.value)} {_unit(alert)}). {tail}"
    if len(text) > SMS_LIMIT:
        text = f"{head}. {tail}"
    return sms_text(text)


def _period(alert: Alert) -> str:
    start, end = alert.period_start, alert.period_end
    if start == end:
        return f"ngày {end:%d/%m/%Y}"
    return f"từ {start:%d/%m} đến {end:%d/%m/%Y}"


def stage_name(crop, code: str) -> str:
    """A growth stage's name from the crop's list ("de-nhanh" → "Đẻ nhánh"); the code when unknown."""
    for stage in crop.stages or []:
        if isinstance(stage, dict) and stage.get("code") == code:
            return str(stage.get("name") or code)
    return code


def _rule(alert: Alert) -> str:
    threshold, unit = alert.threshold, _unit(alert)
    level = threshold.action_level if alert.level == Alert.Level.ACTION else threshold.warn_level
    name = "ngưỡng phòng trừ" if alert.level == Alert.Level.ACTION else "ngưỡng cảnh báo"
    stage = f", giai đoạn {stage_name(threshold.crop, threshold.stage).lower()}" if threshold.stage else ""
    source = f"; căn cứ: {threshold.source}" if threshold.source else ""
    return f"{name} {figure(level)} {unit} ({threshold.crop.name}{stage}{source})"


def _advice(alert: Alert) -> str:
    text = " ".join((alert.organism.management or "").split())
    if len(text) > ADVICE_LIMIT:
        text = text[: ADVICE_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    return text


def chat_for(alert: Alert, subscription: Subscription) -> str:
    """The Zalo message: the same warning with the rule behind it and the catalog's advice."""
    organism = alert.organism
    scientific = f" ({organism.scientific_name})" if organism.scientific_name else ""
    lines = [
        f"CẢNH BÁO SINH VẬT GÂY HẠI – {area_name(alert.commune).upper()}",
        f"{organism.name}{scientific}: {figure(alert.value)} {_unit(alert)} {_period(alert)}, "
        f"{LEVEL_TEXT[alert.level]} — {_rule(alert)}.",
        TO_DO[alert.level],
    ]
    advice = _advice(alert)
    if advice:
        lines.append(f"Biện pháp: {advice}")
    lines.append(f"Ngừng nhận cảnh báo: {unsubscribe_url(subscription)}")
    return "\n".join(lines)[:CHAT_LIMIT]


def notice_for(alert: Alert) -> tuple[str, str]:
    """(subject, body) of the officers' in-app notice."""
    place = area_name(alert.commune)
    subject = f"Cảnh báo {alert.organism.name} tại {place}: {LEVEL_TEXT[alert.level]}"
    body = (
        f"{alert.organism.name}: {figure(alert.value)} {_unit(alert)} {_period(alert)}, "
        f"{LEVEL_TEXT[alert.level]} — {_rule(alert)}. "
        "Số liệu căn cứ và việc tiếp nhận cảnh báo ở trang cảnh báo."
    )
    return subject, body


def _alert_link(alert: Alert) -> str:
    """The alert's page among the surveillance pages (else their list)."""
    for name, args in (("pests:alert", [alert.pk]), ("pests:alerts", [])):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return ""


def commune_officers(commune):
    """Active officers with a membership in the commune's committee (its current version)."""
    current = current_successor(commune) or commune
    user_ids = Membership.objects.filter(agency_id=current.pk).values_list("user_id", flat=True)
    return User.objects.filter(pk__in=user_ids, is_active=True, kind=User.Kind.OFFICER).order_by("pk")


def subscriptions_for(commune):
    """Active subscriptions to the commune, to the version valid today and to every commune it replaced."""
    current = current_successor(commune) or commune
    ids = with_predecessors({current.pk}) | {commune.pk}
    return Subscription.objects.filter(commune_id__in=ids, active=True).order_by("pk")


def send_alert(alert: Alert) -> int:
    """Write the alert's messages in the current transaction; how many were new."""
    alert = Alert.objects.select_related("organism", "commune", "threshold__crop").get(pk=alert.pk)
    common = {"source": alert, "agency_id": alert.commune_id, "at": alert.created_at}
    messages = []
    for subscription in subscriptions_for(alert.commune):
        if subscription.channel == Subscription.Channel.SMS:
            channel, kind, body = "sms", "pests.alert.sms", sms_for(alert, subscription)
        else:
            channel, kind, body = "zalo", "pests.alert.chat", chat_for(alert, subscription)
        messages.append(
            outbox.build(
                channel=channel,
                recipient=subscription.address,
                kind=kind,
                subject=f"Cảnh báo {alert.organism.name}",
                body=body,
                dedup_key=f"pests.alert:{alert.pk}:sub:{subscription.pk}",
                **common,
            )
        )
    subject, body = notice_for(alert)
    link = _alert_link(alert)
    for officer in commune_officers(alert.commune):
        messages.append(
            outbox.build(
                channel="in_app",
                user=officer,
                kind="pests.alert.notice",
                subject=subject,
                body=body,
                link=link,
                dedup_key=f"pests.alert:{alert.pk}:user:{officer.pk}",
                **common,
            )
        )
    return outbox.enqueue_many(messages)

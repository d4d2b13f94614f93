"""Subscriptions to pest warnings: a farmer (or anyone) asks for the warnings of a commune by SMS or
by Zalo, and ends it from the link every warning carries.

Subscribing is a double opt-in, as feedback's anonymous reporters verify their phone, but pests may
not use feedback's PhoneVerification (the two apps are siblings), so the state lives on the
subscription itself:

1. `request_subscription` stores a pending subscription (active=False, confirmed_at and ended_at
   empty) and sends a 6-digit code on the chosen channel — an SMS to the phone, a Zalo message to the
   Zalo id — so nobody can subscribe someone else's phone. The code is never stored: it is an HMAC
   of the SECRET_KEY with the subscription's id and its random token, valid CODE_MINUTES.
2. `confirm` checks the code (MAX_ATTEMPTS wrong tries end the pending subscription) and activates
   it, audited `pests.subscription.create` with the subscription's id and commune only — never the
   phone number or Zalo id. An address already subscribed to that commune keeps its one active
   subscription (the pending one is ended): confirming twice is harmless.

An officer registering a farmer who agreed on paper (`register`) skips the code: the officer answers
for the consent, and the audit names the officer.

`unsubscribe(token)` ends a subscription from its link (`/sau-benh/huy-dang-ky/<token>/`; the token is
a random secret, not personal data; the page asks before the POST ends it). The address is erased
when a subscription ends (Nghị định 13/2023: kept no longer than needed), and pending subscriptions
nobody confirmed are deleted after a day (`forget_unconfirmed`, run on every new request).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction

from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.core.text import nfc
from chinhquyenso.core.throttle import PerMinute
from chinhquyenso.core.workflow import actor_or_none, now
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.consent import normalize_phone, sms_text
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.org.selectors import current_successor
from chinhquyenso.pests import access
from chinhquyenso.pests.models import Subscription

Channel = Subscription.Channel

CODE_MINUTES = 30
MAX_ATTEMPTS = 5
REQUESTS_PER_ADDRESS_PER_HOUR = 3
UNCONFIRMED_KEPT = dt.timedelta(days=1)
# A Zalo user id as the Official Account sees it (digits in practice; letters, "-" and "_" allowed).
ZALO_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
# The subscription page is anonymous: at most this many requests per minute from one address
# (CQS["PESTS_SUBSCRIBE_PER_MINUTE"] may change it).
REQUESTS_PER_MINUTE = PerMinute(
    name="pests-subscribe",
    setting="PESTS_SUBSCRIBE_PER_MINUTE",
    default=5,
    message="Bạn đã gửi nhiều yêu cầu đăng ký trong một phút; vui lòng thử lại sau.",
    field="address",
)
# How the message carrying the code is sent, per channel of the subscription.
OUTBOX_CHANNEL = {Channel.SMS: "sms", Channel.CHAT: "zalo"}

PENDING_GONE = "Yêu cầu đăng ký đã hết hạn hoặc không còn; hãy đăng ký lại để nhận mã mới."


def area_name(agency: Agency) -> str:
    """ "xã Kiến An" for "UBND xã Kiến An": the place, as people say it."""
    return re.sub(r"^(UBND|Ủy ban nhân dân)\s+", "", agency.name, flags=re.IGNORECASE).strip() or agency.name


def is_pending(subscription: Subscription) -> bool:
    return not subscription.active and subscription.confirmed_at is None and subscription.ended_at is None


def clean_address(channel: str, value: str, field: str = "address") -> str:
    if channel == Channel.SMS:
        return normalize_phone(value, field)
    if channel == Channel.CHAT:
        text = nfc(value).replace(" ", "")
        if not text:
            raise DomainError("Hãy nhập mã người dùng Zalo của bạn.", field)
        if not ZALO_ID.fullmatch(text):
            raise DomainError("Mã người dùng Zalo chỉ gồm chữ số và chữ cái, tối đa 64 ký tự.", field)
        return text
    raise DomainError("Hãy chọn nhận cảnh báo qua tin nhắn SMS hoặc Zalo.", "channel")


def commune_for(commune, field: str = "commune") -> Agency:
    """A commune-level committee (an Agency or its code) valid today (a merged commune gives its successor)."""
    if not isinstance(commune, Agency):
        code = str(commune or "").strip()[:60]
        commune = Agency.objects.filter(code=code, kind=AgencyKind.COMMUNE_COMMITTEE).first() if code else None
    elif commune.kind != AgencyKind.COMMUNE_COMMITTEE:
        commune = None
    if commune is not None and not commune.is_current:
        commune = current_successor(commune)
    if commune is None or commune.kind != AgencyKind.COMMUNE_COMMITTEE:
        raise DomainError("Hãy chọn xã, phường nơi có ruộng.", field)
    return commune


def communes():
    """The communes one may subscribe to, with their district, for the form's list."""
    return (
        Agency.objects.current()
        .filter(kind=AgencyKind.COMMUNE_COMMITTEE)
        .select_related("parent")
        .order_by("parent__name", "name")
    )


def code_for(subscription: Subscription) -> str:
    """The subscription's 6-digit confirmation code (never stored)."""
    message = f"pests-subscription:{subscription.pk}:{subscription.unsubscribe_token}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**6:06d}"


def _new_token() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, 96 random bits: short enough for an SMS


def forget_unconfirmed(at: dt.datetime | None = None) -> int:
    """Delete pending subscriptions nobody confirmed within a day (their address included)."""
    at = now(at)
    deleted, _ = Subscription.objects.filter(
        active=False, confirmed_at__isnull=True, ended_at__isnull=True, created_at__lt=at - UNCONFIRMED_KEPT
    ).delete()
    return deleted


def request_subscription(
    *,
    commune,
    channel: str,
    address: str,
    name: str = "",
    user=None,
    client: str = "",
    at: dt.datetime | None = None,
) -> Subscription:
    """Store a pending subscription and send its confirmation code on `channel` (the outbox's worker
    delivers it right after commit). `client`: the caller's address for the per-minute limit."""
    at = now(at)
    if client:
        REQUESTS_PER_MINUTE.check(client)
    if channel not in Channel.values:
        raise DomainError("Hãy chọn nhận cảnh báo qua tin nhắn SMS hoặc Zalo.", "channel")
    commune = commune_for(commune)
    address = clean_address(channel, address)
    name = nfc(name)[:150]
    forget_unconfirmed(at)
    recent = Subscription.objects.filter(
        channel=channel, address=address, created_at__gte=at - dt.timedelta(hours=1), confirmed_at__isnull=True
    ).count()
    if recent >= REQUESTS_PER_ADDRESS_PER_HOUR:
        raise DomainError(
            f"Đã gửi {REQUESTS_PER_ADDRESS_PER_HOUR} mã xác nhận đến địa chỉ này trong một giờ qua; "
            "vui lòng thử lại sau.",
            "address",
        )
    with transaction.atomic():
        subscription = Subscription.objects.create(
            commune=commune,
            channel=channel,
            address=address,
            name=name,
            user=user if getattr(user, "pk", None) else None,
            unsubscribe_token=_new_token(),
            active=False,
        )
        # auto_now_add ignores a given time; the code's validity counts from `at`.
        Subscription.objects.filter(pk=subscription.pk).update(created_at=at)
        subscription.created_at = at
        text = (
            f"Mã xác nhận đăng ký nhận cảnh báo sâu bệnh {area_name(commune)}: {code_for(subscription)} "
            f"(hiệu lực {CODE_MINUTES} phút). Không chia sẻ mã này."
        )
        outbox.enqueue(
            channel=OUTBOX_CHANNEL[channel],
            recipient=address,
            kind="pests.subscription.code",
            subject="Mã xác nhận đăng ký nhận cảnh báo",
            body=sms_text(text) if channel == Channel.SMS else text,
            agency_id=commune.pk,
            source=subscription,
            at=at,
            urgent=True,
            secret=True,  # the code is a key: the outbox erases the text once sent
        )
    return subscription


def _activate(subscription: Subscription, *, actor, at: dt.datetime) -> Subscription:
    """In the caller's transaction: make a pending subscription active, or end it when the address
    already has an active subscription to that commune (returned instead)."""
    existing = (
        Subscription.objects.filter(
            commune_id=subscription.commune_id,
            channel=subscription.channel,
            address=subscription.address,
            active=True,
        )
        .exclude(pk=subscription.pk)
        .first()
    )
    if existing is None:
        subscription.active, subscription.confirmed_at = True, at
        try:
            with transaction.atomic():
                subscription.save(update_fields=["active", "confirmed_at"])
        except IntegrityError:  # confirmed at the same moment by another request
            existing = Subscription.objects.filter(
                commune_id=subscription.commune_id,
                channel=subscription.channel,
                address=subscription.address,
                active=True,
            ).first()
            subscription.active, subscription.confirmed_at = False, None
        else:
            audit.record(
                actor=actor or "người đăng ký",
                action="pests.subscription.create",
                obj=subscription,
                agency_id=subscription.commune_id,
                after={"commune": subscription.commune_id, "channel": subscription.channel},
                at=at,
            )
            return subscription
    subscription.ended_at, subscription.address = at, ""
    subscription.save(update_fields=["ended_at", "address"])
    return existing


def confirm(subscription_id, code: str, *, actor=None, at: dt.datetime | None = None) -> Subscription:
    """The code sent for a pending subscription: activate it. A wrong code counts a try (kept even
    though the request is refused); MAX_ATTEMPTS wrong tries end it."""
    at = now(at)
    code = "".join(nfc(code).split())
    if not code:
        raise DomainError("Hãy nhập mã xác nhận vừa nhận được.", "code")
    wrong = None
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().filter(pk=subscription_id).first()
        if subscription is None:
            raise DomainError(PENDING_GONE, "code")
        if subscription.active or subscription.confirmed_at is not None:
            return subscription  # already confirmed (the form sent twice)
        if subscription.ended_at is not None or subscription.created_at < at - dt.timedelta(minutes=CODE_MINUTES):
            raise DomainError(PENDING_GONE, "code")
        if not hmac.compare_digest(code, code_for(subscription)):
            subscription.confirm_attempts += 1
            left = MAX_ATTEMPTS - subscription.confirm_attempts
            fields = ["confirm_attempts"]
            if left <= 0:
                subscription.ended_at, subscription.address = at, ""
                fields += ["ended_at", "address"]
            subscription.save(update_fields=fields)
            wrong = (
                f"Mã xác nhận không đúng; còn {left} lần thử."
                if left > 0
                else f"Đã nhập sai mã {MAX_ATTEMPTS} lần; hãy đăng ký lại để nhận mã mới."
            )
        else:
            return _activate(subscription, actor=actor_or_none(actor), at=at)
    raise DomainError(wrong, "code")


def register(
    *, actor, commune, channel: str, address: str, name: str = "", at: dt.datetime | None = None
) -> Subscription:
    """An officer registers someone who agreed (on paper, at a meeting) to receive the warnings of a
    commune in the officer's scope: active at once, audited under the officer's name. An address
    already subscribed to that commune keeps its subscription (returned)."""
    at = now(at)
    access.refuse_read_only(actor)
    access.require_survey(actor)
    commune = commune_for(commune)
    scope = access.scope_communes(actor)
    if scope is not None and commune.pk not in scope:
        raise DomainError("Xã, phường này không thuộc địa bàn bạn phụ trách.", "commune")
    if channel not in Channel.values:
        raise DomainError("Hãy chọn nhận cảnh báo qua tin nhắn SMS hoặc Zalo.", "channel")
    address = clean_address(channel, address)
    existing = Subscription.objects.filter(commune=commune, channel=channel, address=address, active=True).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        subscription = Subscription.objects.create(
            commune=commune,
            channel=channel,
            address=address,
            name=nfc(name)[:150],
            unsubscribe_token=_new_token(),
            active=False,
        )
        return _activate(subscription, actor=actor, at=at)


def for_token(token: str) -> Subscription:
    """The subscription an unsubscribe link names; NotFound for anything else."""
    token = str(token or "")
    subscription = None
    if 16 <= len(token) <= 64:
        subscription = Subscription.objects.select_related("commune").filter(unsubscribe_token=token).first()
    if subscription is None or is_pending(subscription):
        raise NotFound("Đường dẫn hủy đăng ký không đúng hoặc đã hết hiệu lực.")
    return subscription


def unsubscribe(token: str, *, actor=None, at: dt.datetime | None = None) -> Subscription:
    """End the subscription of an unsubscribe link (a POST; the GET only asks). Ending it twice is
    harmless: the second time changes nothing and records nothing."""
    at = now(at)
    for_token(token)
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(unsubscribe_token=token)
        if subscription.active:
            subscription.active, subscription.ended_at, subscription.address = False, at, ""
            subscription.save(update_fields=["active", "ended_at", "address"])
            audit.record(
                actor=actor_or_none(actor) or "người đăng ký",
                action="pests.subscription.end",
                obj=subscription,
                agency_id=subscription.commune_id,
                after={"commune": subscription.commune_id, "channel": subscription.channel},
                at=at,
            )
    return subscription


def masked(subscription: Subscription) -> str:
    """ "*******678" — enough for its owner to recognise, nothing for anyone else."""
    address = subscription.address
    return ("*" * max(0, len(address) - 3) + address[-3:]) if address else ""

"""Citizens' consent to be told about their dossiers and reports by SMS, e-mail or Zalo, and the
one function every app calls to tell a citizen something (`tell_citizen`).

Nghị định 13/2023/NĐ-CP (personal data protection): consent is explicit (a box the citizen ticks
themselves, never pre-ticked), recorded (the wording agreed to and the time, on the consent row;
every give and withdraw in the audit chain, without the address) and withdrawable at any time,
as easily as it was given. Without consent only the in-app notice is written: it stays inside
the citizen's own account and needs no transfer of their phone or e-mail to a gateway.

Zalo: the platform has no way to know a citizen's Zalo user id (the Official Account sees an
app-scoped id, and no sign-in links it to an account), so the preferences page does not offer
Zalo; a consent row for Zalo (written by a future linking step) is honoured here."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import nfc
from chinhquyenso.core.workflow import now
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message, NotificationConsent

Channel = NotificationConsent.Channel

# What the citizen agrees to, per channel; stored with the consent (the wording may change later).
WORDING = {
    Channel.SMS: (
        "Tôi đồng ý để Cổng dịch vụ công tỉnh {province} gửi tin nhắn SMS tới số điện thoại {address} "
        "khi hồ sơ, phản ánh của tôi thay đổi trạng thái (tiếp nhận, yêu cầu bổ sung, có kết quả, từ chối, "
        "trả lời). Tin nhắn chỉ có mã hồ sơ và tình trạng, được gửi qua nhà mạng. "
        "Tôi có thể rút lại đồng ý bất cứ lúc nào tại trang Cài đặt thông báo."
    ),
    Channel.EMAIL: (
        "Tôi đồng ý để Cổng dịch vụ công tỉnh {province} gửi thư điện tử tới địa chỉ {address} "
        "khi hồ sơ, phản ánh của tôi thay đổi trạng thái, với nội dung cần thiết để tôi thực hiện "
        "(nội dung cần bổ sung, lý do từ chối, nơi nhận kết quả). "
        "Tôi có thể rút lại đồng ý bất cứ lúc nào tại trang Cài đặt thông báo."
    ),
    Channel.ZALO: (
        "Tôi đồng ý để Cổng dịch vụ công tỉnh {province} gửi tin nhắn Zalo qua tài khoản Official Account "
        "khi hồ sơ, phản ánh của tôi thay đổi trạng thái. "
        "Tôi có thể rút lại đồng ý bất cứ lúc nào tại trang Cài đặt thông báo."
    ),
}
# The channels a citizen may turn on from the preferences page (Zalo: see the module).
OFFERED = [Channel.SMS, Channel.EMAIL]


def wording(channel: str, address: str = "") -> str:
    return WORDING[channel].format(province=settings.CQS["PROVINCE_NAME"], address=address or "…")


# ---------------------------------------------------------------- addresses


def normalize_phone(value: str, field: str = "address") -> str:
    """A Vietnamese phone number as digits starting with 0 (+84 / 84 accepted), 10–11 digits."""
    raw = nfc(value)
    digits = "".join(ch for ch in raw if ch.isdigit())
    if raw.lstrip().startswith("+84") or (digits.startswith("84") and len(digits) in (11, 12)):
        digits = "0" + digits[2:]
    if not (digits.startswith("0") and 10 <= len(digits) <= 11) or any(ch not in "0123456789 .-+()" for ch in raw):
        raise DomainError("Số điện thoại không hợp lệ (ví dụ 0912 345 678).", field)
    return digits


def clean_address(channel: str, value: str, field: str = "address") -> str:
    value = nfc(value)
    if not value:
        raise DomainError("Hãy nhập địa chỉ nhận thông báo.", field)
    if channel == Channel.SMS:
        return normalize_phone(value, field)
    if channel == Channel.EMAIL:
        if len(value) > 254:
            raise DomainError("Địa chỉ thư điện tử quá dài.", field)
        try:
            validate_email(value)
        except ValidationError:
            raise DomainError("Địa chỉ thư điện tử không hợp lệ (ví dụ ten@example.vn).", field) from None
        return value
    if channel == Channel.ZALO:
        if not re.fullmatch(r"[0-9]{5,40}", value):
            raise DomainError("Mã người dùng Zalo không hợp lệ.", field)
        return value
    raise DomainError("Kênh nhận thông báo không hợp lệ.", "channel")


# ---------------------------------------------------------------- reads


def consents(user) -> dict[str, NotificationConsent]:
    """channel → the account's consent row (given or withdrawn); no row: never asked."""
    if not getattr(user, "pk", None):
        return {}
    return {c.channel: c for c in NotificationConsent.objects.filter(user=user)}


def active_addresses(user) -> dict[str, str]:
    """channel → address, for the channels the account consents to now."""
    if not getattr(user, "pk", None):
        return {}
    rows = NotificationConsent.objects.filter(user=user, given_at__isnull=False, withdrawn_at__isnull=True)
    return dict(rows.values_list("channel", "address"))


# ---------------------------------------------------------------- writes


def _require_citizen(user) -> None:
    if not getattr(user, "pk", None) or not getattr(user, "is_citizen", False):
        raise DomainError("Chỉ tài khoản công dân, tổ chức mới cài đặt nhận thông báo.", "user")


def _audit(user, consent: NotificationConsent, action: str, at) -> None:
    # The address is personal data: the audit chain keeps the channel and the times only.
    audit.record(
        actor=user,
        action=f"notification_consent.{action}",
        obj=consent,
        at=at,
        after={"channel": consent.channel, "given_at": consent.given_at, "withdrawn_at": consent.withdrawn_at},
    )


def give(user, *, channel: str, address: str, at: dt.datetime | None = None) -> NotificationConsent:
    """Record the citizen's consent on `channel` to `address` (the citizen's own act)."""
    _require_citizen(user)
    if channel not in Channel.values:
        raise DomainError("Kênh nhận thông báo không hợp lệ.", "channel")
    address = clean_address(channel, address)
    at = now(at)
    with transaction.atomic():
        consent, _ = NotificationConsent.objects.select_for_update().get_or_create(
            user=user, channel=channel, defaults={"address": address}
        )
        if consent.active and consent.address == address:
            return consent  # nothing changes: no second record
        consent.address, consent.wording = address, wording(channel, address)
        consent.given_at, consent.withdrawn_at = at, None
        consent.save()
        _audit(user, consent, "give", at)
    return consent


def withdraw(user, *, channel: str, at: dt.datetime | None = None) -> NotificationConsent | None:
    """Withdraw consent on `channel`: from now on nothing is sent there. Messages already written
    to the outbox for that channel and not yet sent are removed with it (never sent: a dead
    letter an officer could send again would break the withdrawal)."""
    _require_citizen(user)
    at = now(at)
    with transaction.atomic():
        consent = NotificationConsent.objects.select_for_update().filter(user=user, channel=channel).first()
        if consent is None or not consent.active:
            return consent
        consent.withdrawn_at = at
        consent.save(update_fields=["withdrawn_at"])
        Message.objects.filter(
            user=user,
            channel=channel,
            state__in=[Message.State.PENDING, Message.State.FAILED, Message.State.DEAD],
            dedup_key__endswith=f":{channel}",  # written by tell_citizen under this consent
        ).delete()
        _audit(user, consent, "withdraw", at)
    return consent


# ---------------------------------------------------------------- SMS text


def unaccent(text: str) -> str:
    """Vietnamese without diacritics (đ → d), for gateways configured for GSM-7 texts."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")


def sms_segments(text: str) -> tuple[str, int]:
    """("gsm7" or "ucs2", how many SMS segments the text takes): GSM-7 160 characters in one
    segment, 153 each when split; UCS-2 (any Vietnamese letter with a diacritic) 70, then 67."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text):
        length = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
        return "gsm7", 1 if length <= 160 else -(-length // 153)
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return "ucs2", 1 if units <= 70 else -(-units // 67)


def sms_text(text: str) -> str:
    """The SMS as it is sent: without diacritics where CQS_SMS_UNACCENTED=1 (one GSM segment
    of 160 characters instead of 70 with diacritics), else as written."""
    text = " ".join(nfc(text).split())
    return unaccent(text) if settings.CQS.get("SMS_UNACCENTED") else text


# ---------------------------------------------------------------- telling a citizen


def tell_citizen(
    user,
    *,
    kind: str,
    subject: str,
    body: str,
    sms: str = "",
    link: str = "",
    source=None,
    agency_id: int | None = None,
    dedup: str,
    at: dt.datetime | None = None,
) -> int:
    """Write, in the current transaction, the in-app notice (always) and one message per channel
    the citizen consents to: the e-mail (subject, body and link), the SMS (`sms`, short), Zalo
    (the body). `dedup`: a key for this one event ("<kind>:<record>:<step>"), so telling twice
    writes once. Returns how many messages were written."""
    if not getattr(user, "pk", None):
        return 0
    at = now(at)

    def key(channel: str) -> str:
        return f"{dedup[:190]}:{channel}"

    common = {"kind": kind, "source": source, "agency_id": agency_id, "at": at}
    messages = [
        outbox.build(
            channel=Message.Channel.IN_APP,
            user=user,
            subject=subject,
            body=body,
            link=link,
            dedup_key=key("in_app"),
            **common,
        )
    ]
    if getattr(user, "is_citizen", False):
        for channel, address in active_addresses(user).items():
            text = {"sms": sms_text(sms or subject), "email": body, "zalo": body[:2000]}.get(channel)
            if text is None:
                continue
            messages.append(
                outbox.build(
                    channel=channel,
                    recipient=address,
                    user=user,
                    subject=subject,
                    body=text,
                    link=link if channel == Message.Channel.EMAIL else "",
                    dedup_key=key(channel),
                    **common,
                )
            )
    return outbox.enqueue_many(messages)

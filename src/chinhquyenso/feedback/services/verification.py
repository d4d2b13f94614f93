"""Phone verification for anonymous web reporters: a 6-digit code by SMS,
valid for a few minutes and a few tries. PhoneVerification keeps only its
keyed hash; the SMS itself is an outbox message (exchange.Message)."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets

from django.db import transaction
from django.db.models import F

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import nfc
from chinhquyenso.core.workflow import now
from chinhquyenso.exchange import outbox
from chinhquyenso.feedback.conf import conf
from chinhquyenso.feedback.models import PhoneVerification
from chinhquyenso.feedback.services.common import TooManyRequests, keyed_hash, normalize_phone


class WrongCode(DomainError):
    """A wrong code: the submission that carried it counts the try
    (intake.submit, after its transaction is rolled back)."""

    def __init__(self, entry_id: int):
        super().__init__("Mã xác minh không đúng.", "verification_code")
        self.entry_id = entry_id


def count_wrong_try(error: WrongCode) -> None:
    """A wrong try sticks although the submission is refused: called outside
    the submission's rolled-back transaction."""
    PhoneVerification.objects.filter(pk=error.entry_id).update(attempts=F("attempts") + 1)


def check_code(phone: str, code: str, at) -> None:
    """The code sent to this phone: not expired, at most N wrong tries."""
    code = nfc(code).replace(" ", "")
    if not code:
        raise DomainError("Hãy nhập mã xác minh đã gửi đến số điện thoại.", "verification_code")
    entry = PhoneVerification.objects.filter(phone=phone, expires_at__gt=at).order_by("-created_at").first()
    if entry is None:
        raise DomainError("Mã xác minh đã hết hạn hoặc chưa được gửi; hãy yêu cầu mã mới.", "verification_code")
    limit = conf("FEEDBACK_CODE_MAX_ATTEMPTS")
    if entry.attempts >= limit:
        raise DomainError(f"Đã nhập sai mã quá {limit} lần; hãy yêu cầu mã mới.", "verification_code")
    if not hmac.compare_digest(entry.code_hash, keyed_hash("code", phone, code)):
        raise WrongCode(entry.pk)
    if entry.verified_at is None:
        PhoneVerification.objects.filter(pk=entry.pk, verified_at__isnull=True).update(verified_at=at)


def send_verification_code(phone: str, *, client_ip: str = "", at=None) -> PhoneVerification:
    """Text a 6-digit code to an anonymous reporter's phone. The code is
    stored only as its keyed hash (the SMS in the outbox carries it, and it
    expires after FEEDBACK_CODE_MINUTES); FEEDBACK_CODE_MAX_ATTEMPTS tries.
    The SMS is written with the code, in one transaction, and delivered by
    the outbox's worker right after commit (urgent)."""
    at = now(at)
    phone = normalize_phone(phone)
    if not phone:
        raise DomainError("Hãy nhập số điện thoại để nhận mã xác minh.", "phone")
    limit = conf("FEEDBACK_CODES_PER_PHONE_PER_HOUR")
    if PhoneVerification.objects.filter(phone=phone, created_at__gte=at - dt.timedelta(hours=1)).count() >= limit:
        raise TooManyRequests(
            f"Đã gửi {limit} mã xác minh đến số này trong một giờ qua; vui lòng thử lại sau.", "phone"
        )
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = conf("FEEDBACK_CODE_MINUTES")
    with transaction.atomic():
        entry = PhoneVerification.objects.create(
            phone=phone,
            code_hash=keyed_hash("code", phone, code),
            created_at=at,
            expires_at=at + dt.timedelta(minutes=minutes),
        )
        outbox.enqueue(
            channel="sms",
            recipient=phone,
            kind="feedback.verification_code",
            subject="Mã xác minh",
            body=f"Mã xác minh phản ánh, kiến nghị: {code} (hiệu lực {minutes} phút). Không chia sẻ mã này.",
            at=at,
            urgent=True,
            secret=True,  # only the code's hash is kept: the text is erased once sent or given up
        )
    return entry

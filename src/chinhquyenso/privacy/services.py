"""A data subject's requests (Decree 13/2023/NĐ-CP, Articles 9, 14, 15, 16):
find a citizen, export everything the platform holds about them, rectify
their contact details, erase what the law lets go.

Who: the province administrator only. A request concerns every agency's
records at once (dossiers anywhere in the province, feedback, messages), and
the controller answering it is the province (the platform's operator), not
one agency; an agency's officers have no access (`require_controller`).

Erasure anonymizes in place instead of deleting rows: dossiers that must be
kept (privacy/data/retention.json) point to the account and to feedback rows
count in reports, so the rows stay and lose what identifies the person. No
foreign key changes: nothing that must go is held by a PROTECT key (drafts
cascade; uploaded e-data items that a dossier reused are kept with it).

Every action is audited with ids and counts only, never the data itself."""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chinhquyenso.accounts.models import ApiToken, User
from chinhquyenso.accounts.selectors import is_province_admin
from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.privacy import mask_personal_data
from chinhquyenso.core.text import nfc
from chinhquyenso.dossiers.models import OPEN_STATUSES, Dossier, EDataItem
from chinhquyenso.exchange.models import Message
from chinhquyenso.feedback.models import Feedback, FeedbackEvent, PhoneVerification
from chinhquyenso.feedback.selectors import public_point
from chinhquyenso.feedback.services import normalize_phone
from chinhquyenso.privacy import retention

CONTROLLER_ONLY = "Trang này chỉ dành cho quản trị tỉnh (xử lý yêu cầu của chủ thể dữ liệu cá nhân)."
ERASED_NAME = "Người dùng đã xóa dữ liệu"
ERASED_TEXT = "(đã xóa theo yêu cầu của chủ thể dữ liệu)"
NAME_MASK = "[họ tên đã ẩn]"


def require_controller(user) -> None:
    if not is_province_admin(user):
        raise PermissionDenied(CONTROLLER_ONLY)


def find_subject(actor, identity_number: str) -> User:
    """The citizen's or organization's account with this ID number (CCCD or tax code)."""
    require_controller(actor)
    number = re.sub(r"\s", "", nfc(identity_number))
    if not number:
        raise DomainError("Hãy nhập số định danh cá nhân (CCCD) hoặc mã số thuế.", "identity_number")
    subject = User.objects.filter(identity_number=number, kind__in=[User.Kind.CITIZEN, User.Kind.ORGANIZATION]).first()
    if subject is None:
        raise NotFound("Không có tài khoản công dân, tổ chức với số định danh này.")
    return subject


def get_subject(actor, pk: int) -> User:
    require_controller(actor)
    subject = User.objects.filter(pk=pk, kind__in=[User.Kind.CITIZEN, User.Kind.ORGANIZATION]).first()
    if subject is None:
        raise NotFound("Không tìm thấy tài khoản công dân, tổ chức.")
    return subject


# ---------------------------------------------------------------- what is theirs


def dossiers_of(subject: User):
    return Dossier.objects.filter(applicant=subject).select_related("procedure", "receiving_agency")


def feedback_of(subject: User):
    """Reports they sent signed in, and those sent anonymously from their phone once verified."""
    mine = Q(reporter=subject)
    if subject.phone:
        mine |= Q(phone_verified=True, reporter_phone=subject.phone, reporter__isnull=True)
    return Feedback.objects.filter(mine).select_related("category")


def messages_to(subject: User):
    to = Q(user=subject)
    for address in (subject.phone, subject.email):
        if address:
            to |= Q(recipient=address)
    return Message.objects.filter(to)


def _uploads_only(subject: User):
    """E-data items the citizen uploaded themselves and no dossier used."""
    return EDataItem.objects.filter(owner=subject, source_dossier__isnull=True, reuses__isnull=True)


def _when(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def collect(subject: User) -> dict:
    """Everything the platform holds about the subject, as plain data (JSON and the PDF)."""
    return {
        "generated_at": _when(timezone.now()),
        "account": {
            "username": subject.username,
            "full_name": subject.full_name,
            "kind": subject.get_kind_display(),
            "identity_number": subject.identity_number,
            "phone": subject.phone,
            "email": subject.email,
            "is_active": subject.is_active,
            "date_joined": _when(subject.date_joined),
            "last_login": _when(subject.last_login),
        },
        "dossiers": [
            {
                "code": d.code,
                "procedure": d.procedure.name,
                "status": d.get_status_display(),
                "receiving_agency": d.receiving_agency.name,
                "submitted_at": _when(d.submitted_at),
                "due_at": _when(d.due_at),
                "finished_at": _when(d.finished_at),
                "applicant_name": d.applicant_name,
                "applicant_identity": d.applicant_identity,
                "applicant_phone": d.applicant_phone,
                "applicant_address": d.applicant_address,
                "form_data": d.form_data,
            }
            for d in dossiers_of(subject).order_by("submitted_at", "pk")
        ],
        "edata": [
            {
                "title": item.title,
                "result_type": item.result_type,
                "issued_at": _when(item.issued_at),
                "source_dossier": item.source_dossier.code if item.source_dossier else None,
            }
            for item in EDataItem.objects.filter(owner=subject).select_related("source_dossier").order_by("issued_at")
        ],
        "feedback": [
            {
                "code": f.code,
                "category": f.category.name,
                "status": f.get_status_display(),
                "received_at": _when(f.received_at),
                "title": f.title,
                "description": f.description,
                "address": f.address,
                "reporter_name": f.reporter_name,
                "reporter_phone": f.reporter_phone,
                "reporter_email": f.reporter_email,
                "rating": f.rating,
                "rating_comment": f.rating_comment,
            }
            for f in feedback_of(subject).order_by("received_at", "pk")
        ],
        "messages": [
            {
                "channel": m.get_channel_display(),
                "kind": m.kind,
                "recipient": m.recipient,
                "subject": m.subject,
                "body": m.body,
                "state": m.get_state_display(),
                "created_at": _when(m.created_at),
            }
            for m in messages_to(subject).order_by("created_at", "pk")
        ],
        "notification_consents": [
            {
                "channel": consent.get_channel_display(),
                "address": consent.address,
                "wording": consent.wording,
                "given_at": _when(consent.given_at),
                "withdrawn_at": _when(consent.withdrawn_at),
            }
            for consent in subject.notification_consents.order_by("channel")
        ],
        "identity_links": [
            {
                "issuer": link.issuer,
                "subject": link.subject,
                "first_seen": _when(link.first_seen),
                "last_seen": _when(link.last_seen),
            }
            for link in subject.identity_links.order_by("first_seen")
        ],
        "drafts": [
            {"procedure_id": draft.procedure_id, "applicant": draft.applicant, "updated_at": _when(draft.updated_at)}
            for draft in subject.submission_drafts.all()  # portal sits above this app: read through the relation
        ],
        "retention": list(retention.table().values()),
    }


def _counts(data: dict) -> dict:
    return {key: len(data[key]) for key in ("dossiers", "edata", "feedback", "messages", "drafts")}


def export(actor, subject: User, fmt: str) -> dict:
    """The subject's data, audited (format and counts only)."""
    require_controller(actor)
    data = collect(subject)
    with transaction.atomic():
        audit.record(actor=actor, action="privacy.export", obj=subject, after={"format": fmt, **_counts(data)})
    return data


# ---------------------------------------------------------------- rectify


def rectify(actor, subject: User, *, full_name: str, phone: str, email: str, address: str) -> list[str]:
    """Correct the account's name, phone and e-mail, and the contact details of
    the subject's open dossiers (those still being handled; a finished dossier
    stays as it was filed). Returns the changed fields; the audit record names
    the fields, not their values."""
    require_controller(actor)
    full_name, address, email = nfc(full_name), nfc(address), nfc(email).lower()
    if not full_name:
        raise DomainError("Họ và tên không được để trống.", "full_name")
    if len(full_name) > 150:
        raise DomainError("Họ và tên dài quá 150 ký tự.", "full_name")
    phone = normalize_phone(phone)
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise DomainError("Thư điện tử không hợp lệ (ví dụ ten@gmail.com).", "email")
    if len(address) > 300:
        raise DomainError("Địa chỉ dài quá 300 ký tự.", "address")
    with transaction.atomic():
        subject = User.objects.select_for_update().get(pk=subject.pk)
        wanted = {"full_name": full_name, "phone": phone, "email": email}
        changed = [name for name, value in wanted.items() if getattr(subject, name) != value]
        for name in changed:
            setattr(subject, name, wanted[name])
        if changed:
            subject.save(update_fields=changed)
        contact = {"applicant_name": full_name, "applicant_phone": phone}
        if address:
            contact["applicant_address"] = address
        open_dossiers = dossiers_of(subject).filter(status__in=OPEN_STATUSES).exclude(**contact)
        dossier_ids = list(open_dossiers.values_list("pk", flat=True))
        Dossier.objects.filter(pk__in=dossier_ids).update(**contact)
        if address and "address" not in changed and dossier_ids:
            changed.append("address")
        audit.record(
            actor=actor, action="privacy.rectify", obj=subject, after={"fields": changed, "open_dossiers": dossier_ids}
        )
    return changed


# ---------------------------------------------------------------- erase


def _scrub(text: str, names: list[str]) -> str:
    """Free text without the subject's names, ID numbers, phones and e-mails."""
    for name in names:
        if len(name.split()) >= 2:  # a full name; one word ("An") would also hit "An Giang"
            text = re.sub(re.escape(name), NAME_MASK, text, flags=re.IGNORECASE)
    return mask_personal_data(text)


def _anonymize_feedback(subject: User, names: list[str]) -> int:
    reports = list(feedback_of(subject).select_for_update())
    for report in reports:
        point = public_point(report)
        report.latitude, report.longitude = point if point else (None, None)
        for field in ("title", "description", "rating_comment"):
            setattr(report, field, _scrub(getattr(report, field), [*names, report.reporter_name]))
        report.reporter, report.reporter_name, report.reporter_phone, report.reporter_email = None, "", "", ""
        report.address = ""
        report.save(
            update_fields=[
                "latitude",
                "longitude",
                "reporter",
                "reporter_name",
                "reporter_phone",
                "reporter_email",
                "address",
                "title",
                "description",
                "rating_comment",
            ]
        )
        # Photos that kept their GPS position place the reporter's home: dropped, the others stay.
        report.photos.filter(kept_location=True).delete()
    # What the reporter wrote in the exchanges (answers, ratings, reopen reasons).
    for event in FeedbackEvent.objects.filter(feedback__in=reports, actor=subject).exclude(text=""):
        event.text = _scrub(event.text, names)
        event.save(update_fields=["text"])
    if subject.phone:
        PhoneVerification.objects.filter(phone=subject.phone).delete()
    return len(reports)


def _anonymize_messages(subject: User, names: list[str]) -> int:
    rows = messages_to(subject)
    # A message not yet sent must not go out to an address that is being erased.
    rows.filter(state__in=[Message.State.PENDING, Message.State.FAILED]).update(
        state=Message.State.DEAD, last_error=ERASED_TEXT
    )
    return rows.update(recipient="", subject="", body=ERASED_TEXT, link="", user=None)


def _delete_drafts(subject: User, names: list[str]) -> int:
    return subject.submission_drafts.all().delete()[0]


def _delete_uploads(subject: User, names: list[str]) -> int:
    return _uploads_only(subject).delete()[0]


def _anonymize_account(subject: User, names: list[str]) -> int:
    """Deactivate and strip the account. A new unusable password changes the
    session hash, so every open session of the account stops working at its
    next request; API tokens are revoked."""
    subject.username = f"da-xoa-{subject.pk}"
    subject.full_name = ERASED_NAME
    subject.first_name = subject.last_name = subject.email = subject.phone = subject.identity_number = ""
    subject.is_active = False
    subject.set_unusable_password()
    subject.save()
    ApiToken.objects.filter(user=subject, revoked_at__isnull=True).update(revoked_at=timezone.now())
    # The addresses the person agreed to be told at, and the link to their national identity: a later
    # VNeID sign-in starts a new account instead of finding this one.
    subject.notification_consents.all().delete()
    subject.identity_links.all().delete()
    return 1


# kind (retention.json) → {action: handler}. "keep" needs none. The table decides; a kind or an
# action the code cannot carry out stops erasure before anything changes.
ERASERS = {
    "feedback": {"anonymize": _anonymize_feedback},
    "messages": {"anonymize": _anonymize_messages},
    "drafts": {"delete": _delete_drafts},
    "edata_uploads": {"delete": _delete_uploads},
    "account": {"anonymize": _anonymize_account},
}


def erasure_plan() -> list[tuple[str, str]]:
    """(kind, action) for every kind in the retention table, checked against ERASERS."""
    plan = []
    for kind, row in retention.table().items():
        action = row["on_erasure"]
        if action != "keep" and action not in ERASERS.get(kind, {}):
            raise DomainError(f"Bảng thời hạn lưu trữ: chưa có cách «{action}» cho loại dữ liệu «{kind}».")
        plan.append((kind, action))
    return plan


def erase(actor, subject: User) -> dict[str, int]:
    """Erase or anonymize what the retention table lets go; keep the rest.
    Returns the count per kind handled; audited with those counts only."""
    require_controller(actor)
    plan = erasure_plan()
    with transaction.atomic():
        subject = User.objects.select_for_update().get(pk=subject.pk)
        if not subject.is_active and subject.username == f"da-xoa-{subject.pk}":
            raise DomainError("Dữ liệu của tài khoản này đã được xóa.", "erase")
        names = [subject.full_name, subject.get_full_name()]
        done = {}
        # The account goes last: the other kinds find their rows by its phone and e-mail.
        for kind, action in sorted(plan, key=lambda step: step[0] == "account"):
            if action != "keep":
                done[kind] = ERASERS[kind][action](subject, names)
        kept = {kind: action for kind, action in plan if action == "keep"}
        audit.record(
            actor=actor,
            action="privacy.erase",
            obj=subject,
            after={"done": done, "kept": sorted(kept), "dossiers_kept": dossiers_of(subject).count()},
        )
    return done

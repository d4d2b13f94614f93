"""Signing a dossier's electronic result (issue 21).

The result an officer attaches is signed with the key of the agency issuing it — the dossier's
current agency at that moment — BEFORE dossiers.services.attach_result opens its transaction: a
time stamp (PAdES-B-T), revocation answers (B-LT) and remote signers are network calls, which never
run inside a transaction (signing.services.sign_pdf refuses to). The signed bytes are then stored,
in that one transaction, with the dossier and in the applicant's e-data store; when signing fails
nothing is stored and the officer reads why.

The signature's visible appearance carries a QR code to the public authenticity page
(/xac-thuc/ket-qua/<verification_code>/, portal.authenticity_views): it shows the result's code,
agency, date and signature status — never whom the result is about.

An uploaded result that already carries signatures (an officer's USB token) keeps them: the agency
signature is added in an incremental update after them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import StoredFile
from chinhquyenso.dossiers.models import SignatureStatus, new_verification_code
from chinhquyenso.exchange.outbox import absolute_url
from chinhquyenso.signing import services as signing
from chinhquyenso.signing.verify import verify_pdf

NO_KEY = (
    "Cơ quan chưa cấu hình chữ ký số nên chưa thể trả kết quả điện tử; đề nghị quản trị hệ thống cấu hình "
    "khóa ký số của cơ quan rồi đính kèm lại kết quả."
)
NOT_PDF = "Kết quả điện tử phải là tệp PDF để cơ quan ký số; hãy tải lên bản PDF của kết quả."
NOT_VALID = (
    "Chữ ký số của cơ quan trên kết quả không được xác nhận là hợp lệ ({problems}); kết quả chưa được trả. "
    "Đề nghị quản trị hệ thống kiểm tra khóa ký và chứng thư số của cơ quan."
)
REASON = "Ban hành kết quả giải quyết thủ tục hành chính"


@dataclass(frozen=True)
class PreparedResult:
    """What attach_result stores: the code of the QR link and, when the agency signed, the signed PDF."""

    verification_code: str
    agency_id: int
    data: bytes | None = None  # None: issued as uploaded, unsigned (CQS_RESULTS_REQUIRE_SIGNATURE=0, no key)
    status: str = SignatureStatus.UNSIGNED
    signed_at: dt.datetime | None = None

    @property
    def signed(self) -> bool:
        return self.data is not None


def signature_required() -> bool:
    """CQS_RESULTS_REQUIRE_SIGNATURE (default on): an agency with no key may not issue e-results."""
    return bool(settings.CQS.get("RESULTS_REQUIRE_SIGNATURE", True))


def authenticity_path(code: str) -> str:
    return reverse("portal:result_authenticity", args=[code])


def authenticity_url(code: str) -> str:
    """The QR code's link: CQS_SITE_URL + /xac-thuc/ket-qua/<code>/."""
    return absolute_url(authenticity_path(code))


def field_name(code: str) -> str:
    """The agency signature's field: named after the result, so its report is found among earlier ones."""
    return f"KetQua_{code}"


def _read(file: StoredFile) -> bytes:
    # Bounded: uploads are refused above CQS_UPLOAD_MAX_BYTES (core.uploads).
    with file.file.open("rb") as handle:
        return handle.read()


def prepare(
    *, agency_id: int, file: StoredFile, dossier_code: str, number: str, actor, at: dt.datetime | None = None
) -> PreparedResult:
    """Sign `file` for the agency `agency_id` (outside any transaction) or decide it is issued unsigned.

    DomainError (field "file") when the agency has no key and a signature is required, when the file
    is not a PDF, when signing fails (signing.SigningError: TSA down, wrong passphrase…) or when the
    fresh signature does not verify as valid (untrusted certificate, misconfigured trust roots): a
    result the authenticity page would call invalid is never issued."""
    code = new_verification_code()
    key = signing.agency_key_or_none(agency_id)
    if key is None:
        if signature_required():
            raise DomainError(NO_KEY, "file")
        return PreparedResult(verification_code=code, agency_id=agency_id)
    if file.content_type != "application/pdf":
        raise DomainError(NOT_PDF, "file")
    day = local_date(at or timezone.now()).strftime("%d/%m/%Y")
    lines = (f"Kết quả hồ sơ {dossier_code}",) + ((f"Số: {number}",) if number else ()) + (f"Ngày {day}",)
    appearance = signing.Appearance(
        kind="agency",
        signer_name=key.signer_name,
        signer_title=key.signer_title,
        lines=lines,
        qr_url=authenticity_url(code),
    )
    signed = signing.sign_pdf(
        _read(file),
        key=key,
        profile=settings.CQS.get("SIGNING_DEFAULT_PROFILE") or "B-T",
        appearance=appearance,
        field_name=field_name(code),
        reason=REASON,
        actor=actor,
    )
    ours = _own_report(signed, field_name(code))
    return PreparedResult(
        verification_code=code,
        agency_id=agency_id,
        data=signed,
        status=SignatureStatus.VALID,
        signed_at=ours.timestamp_at or ours.signed_at or timezone.now(),
    )


def _own_report(signed: bytes, name: str):
    """The verifier's report on the agency signature just made; refused unless valid. Earlier
    signatures (an officer's token issued by another CA) are kept as they are and not judged here."""
    reports = verify_pdf(signed)
    ours = next((report for report in reports if report.field == name), None)
    if ours is None or not ours.valid:
        problems = "; ".join(ours.problems) if ours is not None and ours.problems else "không đọc được chữ ký"
        raise DomainError(NOT_VALID.format(problems=problems), "file")
    return ours

"""The public authenticity page of a signed electronic result (/xac-thuc/ket-qua/<code>/), the page
the QR code in the result's signature opens (dossiers.results).

Anyone holding the paper or the file may open it, so it shows only what the holder already sees on
the result: the dossier's code, the result's type and number, the issuing agency, the date and the
signature status — computed again, each time, by the platform's verifier on the STORED file. Never
the applicant's name, number or address, and no download: the page confirms a document, it does not
hand one out.

An unknown code is the same 404 as any unknown address (it never says whether a code exists), and
an address that misses too many codes in a minute is refused for the rest of it, so codes cannot be
enumerated (they are 120 random bits anyway: dossiers.models.new_verification_code).

The holder of the FILE checks it on the same page: they upload the copy they hold (POST, field `file`,
counted like /xac-thuc/ by signing.throttle) and the page says whether it is this result as the agency
signed it, or was changed after signing — the check a citizen needs after downloading their result,
since the stored copy being intact says nothing of theirs. The upload is verified and dropped."""

from __future__ import annotations

import hashlib
import re

from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.http import client_ip
from chinhquyenso.core.throttle import PerMinute, RateLimited
from chinhquyenso.dossiers import selectors as dossiers
from chinhquyenso.dossiers.results import field_name
from chinhquyenso.signing import throttle as verify_throttle
from chinhquyenso.signing.verify import NO_FILE, overall, read_upload, verify_pdf

# Base32 lower-case, as dossiers.models.new_verification_code writes it: anything else is not looked up.
CODE_SHAPE = re.compile(r"[a-z2-7]{16,40}")
# Unknown codes one address may try per minute before every lookup from it is refused that minute.
MISSES = PerMinute(
    name="portal:result-check:miss",
    setting="RESULT_CHECK_MISSES_PER_MINUTE",
    default=10,
    message="Bạn đã tra quá nhiều mã xác thực không đúng trong một phút; vui lòng chờ một phút rồi thử lại.",
    field="code",
)

VERDICTS = {
    "valid": ("valid", "Hợp lệ"),
    "modified": ("modified", "Tài liệu đã bị sửa sau khi ký"),
    "invalid": ("invalid", "Chữ ký không hợp lệ"),
    "unsigned": ("unsigned", "Kết quả này không được ký số"),
}


def _read(result) -> bytes:
    with result.file.file.open("rb") as handle:
        return handle.read()


def signature_summary(result) -> dict:
    """What the page says of the stored file's signatures: the verdict, the agency signature's
    report (the one the QR code was placed with) and every signature found."""
    try:
        reports = verify_pdf(_read(result)) if result.file.content_type == "application/pdf" else []
    except (DomainError, OSError):  # the stored bytes are no longer a readable PDF
        reports = []
    ours = next((r for r in reports if r.field == field_name(result.verification_code)), None)
    if ours is None and result.signed:
        verdict = "modified"  # issued signed, and the stored file no longer carries the agency's signature
    elif ours is None:
        verdict = overall(reports)
        ours = reports[-1] if reports else None
    else:
        # The agency's signature decides: it is the last one, so a change after it shows on it; an
        # officer's earlier token signature from another CA does not make the agency's invalid.
        verdict = "valid" if ours.valid else "modified" if ours.modified_after_signing else "invalid"
    css, label = VERDICTS.get(verdict, VERDICTS["invalid"])
    return {"verdict": verdict, "css": css, "label": label, "agency_signature": ours, "reports": reports}


HELD_VERDICTS = {
    "valid": ("valid", "Hợp lệ — đúng là kết quả đã cấp, chưa bị sửa sau khi ký"),
    "modified": ("modified", "Tài liệu đã bị sửa sau khi ký"),
    "invalid": ("invalid", "Chữ ký không hợp lệ"),
    "other": ("invalid", "Tệp này không phải bản kết quả đã cấp với mã này"),
}


def held_file_summary(result, data: bytes) -> dict:
    """What the page says of a copy its holder uploads. The agency's signature (the field named after this
    result's code) decides, as on the stored file; and the copy must begin with exactly the bytes issued
    (result.file: size and SHA-256 recorded at issue, not read back from the storage), so a PDF another
    certificate signed under a field of the same name is not taken for this result. DomainError ("file")
    for an upload that is not a readable PDF."""
    reports = verify_pdf(data)
    ours = next((r for r in reports if r.field == field_name(result.verification_code)), None)
    issued = hashlib.sha256(data[: result.file.size]).hexdigest() == result.file.sha256
    if ours is None:
        verdict = "other"
    elif not ours.intact or ours.modified_after_signing:
        verdict = "modified"  # what the holder sees is not what was signed: they must know that first
    elif not issued:
        verdict = "other"
    else:
        verdict = "valid" if ours.valid else "invalid"
    css, label = HELD_VERDICTS[verdict]
    return {"verdict": verdict, "css": css, "label": label, "agency_signature": ours}


def _verify_page_url() -> str:
    try:
        return reverse("signing:verify")
    except NoReverseMatch:  # the signing app's public page is not mounted
        return ""


@never_cache
@require_http_methods(["GET", "POST"])
def result_authenticity(request, code: str):
    caller = client_ip(request)
    MISSES.refuse_if_spent(caller)
    result = dossiers.result_by_verification_code(code) if CODE_SHAPE.fullmatch(code) else None
    if result is None:
        MISSES.add(caller)
        raise Http404()
    agency = result.agency or result.dossier.current_agency
    context = {
        "result": result,
        "dossier_code": result.dossier.code,
        "result_name": result.dossier.procedure.result_name or result.dossier.procedure.name,
        "agency_name": agency.name if agency else "",
        "signature": signature_summary(result),
        "verify_page_url": _verify_page_url(),
    }
    status, retry_after = 200, None
    if request.method == "POST" and result.signed:  # an unsigned result has no signature to check a copy against
        try:
            verify_throttle.VERIFICATIONS.check(caller)
            upload = request.FILES.get("file")
            if upload is None:
                raise DomainError(NO_FILE, "file")
            context["held"] = held_file_summary(result, read_upload(upload))
        except DomainError as error:
            context["held_error"] = error.message
            status = error.status_code
            retry_after = error.retry_after if isinstance(error, RateLimited) else None
    response = render(request, "portal/result_authenticity.html", context, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response

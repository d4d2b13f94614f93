"""The public authenticity page of a signed electronic result (/xac-thuc/ket-qua/<code>/), the page
the QR code in the result's signature opens (dossiers.results).

Anyone holding the paper or the file may open it, so it shows only what the holder already sees on
the result: the dossier's code, the result's type and number, the issuing agency, the date and the
signature status — computed again, each time, by the platform's verifier on the STORED file. Never
the applicant's name, number or address, and no download: the page confirms a document, it does not
hand one out.

An unknown code is the same 404 as any unknown address (it never says whether a code exists), and
an address that misses too many codes in a minute is refused for the rest of it, so codes cannot be
enumerated (they are 120 random bits anyway: dossiers.models.new_verification_code)."""

from __future__ import annotations

import re

from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.http import client_ip
from chinhquyenso.core.throttle import PerMinute
from chinhquyenso.dossiers import selectors as dossiers
from chinhquyenso.dossiers.results import field_name
from chinhquyenso.signing.verify import overall, verify_pdf

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


def _verify_page_url() -> str:
    try:
        return reverse("signing:verify")
    except NoReverseMatch:  # the signing app's public page is not mounted
        return ""


@never_cache
def result_authenticity(request, code: str):
    caller = client_ip(request)
    MISSES.refuse_if_spent(caller)
    result = dossiers.result_by_verification_code(code) if CODE_SHAPE.fullmatch(code) else None
    if result is None:
        MISSES.add(caller)
        raise Http404()
    agency = result.agency or result.dossier.current_agency
    return render(
        request,
        "portal/result_authenticity.html",
        {
            "result": result,
            "dossier_code": result.dossier.code,
            "result_name": result.dossier.procedure.result_name or result.dossier.procedure.name,
            "agency_name": agency.name if agency else "",
            "signature": signature_summary(result),
            "verify_page_url": _verify_page_url(),
        },
    )

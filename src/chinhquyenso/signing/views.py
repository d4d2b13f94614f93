"""The public verification page /xac-thuc/: anyone uploads a PDF and reads, in plain Vietnamese, each
signature in it. The file is checked and dropped — never stored, never logged — and the answer is not
cached (it names the signers)."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.http import client_ip
from chinhquyenso.core.throttle import RateLimited
from chinhquyenso.signing import throttle
from chinhquyenso.signing.verify import NO_FILE, OVERALL_LABELS, overall, verify_upload


def _context(**extra) -> dict:
    return {"max_megabytes": settings.CQS["UPLOAD_MAX_BYTES"] // (1024 * 1024), **extra}


@never_cache
@require_http_methods(["GET", "POST"])
def verify_page(request):
    if request.method != "POST":
        return render(request, "signing/verify.html", _context())
    try:
        throttle.VERIFICATIONS.check(client_ip(request))
        upload = request.FILES.get("file")
        if upload is None:
            raise DomainError(NO_FILE, "file")
        reports = verify_upload(upload)
    except DomainError as error:
        response = render(request, "signing/verify.html", _context(error=error.message), status=error.status_code)
        if isinstance(error, RateLimited):
            response["Retry-After"] = str(error.retry_after)
        return response
    status = overall(reports)
    return render(
        request,
        "signing/verify.html",
        _context(reports=reports, status=status, status_label=OVERALL_LABELS[status], checked=True),
    )

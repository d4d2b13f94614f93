from django.conf import settings
from django.http import FileResponse, HttpResponse


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    """A PDF shown in the browser (inline), saved under `filename`."""
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def stored_file_response(stored, *, download: bool = False, public: bool = False) -> FileResponse:
    """An uploaded file (core.StoredFile) served with the type its content was
    checked as, never sniffed or run by the browser; cached by shared caches
    only when `public` (a page anyone may see shows it). A file missing from
    the disk is a 404 (core.storage.MissingFile), not a 500."""
    extension = stored.file.name.rsplit(".", 1)[-1]
    response = FileResponse(
        stored.file.open("rb"),
        content_type=stored.content_type,
        as_attachment=download,
        filename=f"{stored.sha256[:16]}.{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    # A private file (a dossier's papers) is not kept even by the browser: counters share computers.
    response["Cache-Control"] = "public, max-age=86400" if public else "private, no-store"
    return response


def client_ip(request) -> str:
    """The caller's address, for per-address rate limits. Behind N trusted
    reverse proxies (CQS_TRUSTED_PROXIES=N) it is the address the outermost of
    them saw, read from the right of X-Forwarded-For: the left part is
    whatever the client chose to send and cannot be trusted."""
    proxies = int(settings.CQS.get("TRUSTED_PROXIES", 0))
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")

import json
import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.html import escape

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import UNSTORABLE_MESSAGE, unstorable_field

log = logging.getLogger(__name__)


def _unstorable_input(request) -> str | None:
    """The first input field holding an unstorable character, or None."""
    if unstorable_field(request.path):
        return "path"
    field = unstorable_field(dict(request.GET.lists()))
    if field is None and request.method in ("POST", "PUT", "PATCH"):
        if request.content_type == "application/json":
            try:
                return unstorable_field(json.loads(request.body))
            except ValueError:
                return None  # not JSON: the view reports that
        field = unstorable_field(dict(request.POST.lists()))
    return field.rsplit(".", 1)[0] if field else None  # "q.0" → "q": query values come as lists


class RejectUnstorableInput:
    """Input with NUL, other control characters or lone surrogates — in the
    path, the query string, a form or a JSON body — gets a 400 naming the
    field before any view runs: PostgreSQL would fail on it mid-request (a
    500) and SQLite would store garbage."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = _unstorable_input(request)
        if field is None:
            return self.get_response(request)
        message = f"{UNSTORABLE_MESSAGE} Trường “{field}”."
        # An API with its own error format (Open311) marks its views with a responder.
        try:
            responder = getattr(resolve(request.path_info).func, "unstorable_input_response", None)
        except Resolver404:
            responder = None
        if responder:
            return responder(request, field)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "field": field, "code": "invalid"}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


PAGE_TITLES = {
    400: "Yêu cầu chưa hợp lệ",
    403: "Không có quyền truy cập",
    404: "Không tìm thấy",
    409: "Chưa thực hiện được",
    429: "Quá nhiều yêu cầu",
}


DATABASE_UNAVAILABLE = "Hệ thống đang tạm thời không kết nối được cơ sở dữ liệu; vui lòng thử lại sau ít phút."
RETRY_AFTER_SECONDS = 30


def database_unavailable(request) -> HttpResponse:
    """503 with Retry-After in the caller's format: JSON for the API, Open311's
    error list for Open311 (XML for .xml), the Vietnamese page for pages."""
    path = request.path
    if path.startswith("/open311/"):
        if path.endswith(".xml"):
            body = (
                '<?xml version="1.0" encoding="utf-8"?>\n<errors><error><code>503</code>'
                f"<description>{escape(DATABASE_UNAVAILABLE)}</description></error></errors>"
            )
            response = HttpResponse(body, content_type="text/xml; charset=utf-8", status=503)
        else:
            response = JsonResponse([{"code": 503, "description": DATABASE_UNAVAILABLE}], safe=False, status=503)
    elif path.startswith("/api/"):
        response = JsonResponse({"detail": DATABASE_UNAVAILABLE, "field": None, "code": "unavailable"}, status=503)
    else:
        context = {
            "title": "Hệ thống tạm thời gián đoạn",
            "reason": DATABASE_UNAVAILABLE,
            "status": 503,
            "province_name": settings.CQS["PROVINCE_NAME"],
        }
        # Rendered without the request: the page's context processors would query the database again.
        response = HttpResponse(render_to_string("error.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DomainErrorPages:
    """A domain error a page lets through becomes the Vietnamese page for its
    status (403, 404, 409, …) with its message — one mapping for every app's
    pages. The HTTP API maps the same errors to JSON (chinhquyenso.api) and
    Open311 to its own format (feedback.open311); both catch them before this.
    A database that cannot be reached (or a deadlock that outlived its
    retries) is a 503 with Retry-After in every format, not a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            log.warning("database unavailable for %s: %s", request.path, type(exception).__name__)
            return database_unavailable(request)
        if not isinstance(exception, DomainError):
            return None
        status = exception.status_code
        # A 404 never says what exists: another agency's record reads as absent.
        reason = "Địa chỉ không đúng, hoặc bạn không có quyền xem nội dung này." if status == 404 else exception.message
        context = {"title": PAGE_TITLES.get(status, PAGE_TITLES[400]), "reason": reason, "status": status}
        return render(request, "error.html", context, status=status)

import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.html import escape

from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import UNSTORABLE_MESSAGE, unstorable_field
from chinhquyenso.core.throttle import RateLimited

log = logging.getLogger(__name__)


def _unstorable_input(request) -> str | None:
    """The first input field holding an unstorable character, or None."""
    if unstorable_field(request.path):
        return "path"
    field = unstorable_field(dict(request.GET.lists()))
    if field is None and request.method in ("POST", "PUT", "PATCH"):
        if _view_attribute(request, "checks_own_body"):
            return None  # the view reads and checks its body itself (the data bus's /r1/: its limit, its log)
        if request.content_type == "application/json":
            try:
                field = unstorable_field(params.loads(request.body))
            except DomainError:
                return None  # not JSON, or JSON too deep or not finite: the view reports that
            return field
        field = unstorable_field(dict(request.POST.lists()))
    return field.rsplit(".", 1)[0] if field else None  # "q.0" → "q": query values come as lists


def _view_attribute(request, name: str):
    try:
        return getattr(resolve(request.path_info).func, name, None)
    except Resolver404:
        return None


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
        responder = _view_attribute(request, "unstorable_input_response")
        if responder:
            return responder(request, field)
        return error_response(request, 400, message, field=field)


PAGE_TITLES = {
    400: "Yêu cầu chưa hợp lệ",
    401: "Cần đăng nhập",
    403: "Không có quyền truy cập",
    404: "Không tìm thấy",
    405: "Yêu cầu chưa hợp lệ",
    409: "Chưa thực hiện được",
    413: "Nội dung quá lớn",
    429: "Quá nhiều yêu cầu",
    500: "Hệ thống gặp lỗi",
    503: "Hệ thống tạm thời gián đoạn",
}

DATABASE_UNAVAILABLE = "Hệ thống đang tạm thời không kết nối được cơ sở dữ liệu; vui lòng thử lại sau ít phút."
RETRY_AFTER_SECONDS = 30
NOT_FOUND = "Địa chỉ không đúng, hoặc bạn không có quyền xem nội dung này."
# What an error says when nothing more precise is known (Django's own 404, 405, 413, 500, …).
STATUS_MESSAGES = {
    400: ("Yêu cầu không hợp lệ.", "invalid"),
    401: ("Bạn cần đăng nhập hoặc cung cấp mã API hợp lệ.", "unauthenticated"),
    403: ("Bạn không có quyền thực hiện thao tác này.", "forbidden"),
    404: (NOT_FOUND, "not_found"),
    405: ("Phương thức (GET, POST, …) này không dùng được ở địa chỉ này.", "method_not_allowed"),
    409: ("Yêu cầu xung đột với dữ liệu hiện có.", "conflict"),
    413: ("Nội dung gửi lên quá lớn.", "too_large"),
    429: ("Quá nhiều yêu cầu; vui lòng thử lại sau.", "throttled"),
    500: ("Hệ thống gặp lỗi ngoài dự kiến; lỗi đã được ghi lại, vui lòng thử lại sau.", "server_error"),
    503: (DATABASE_UNAVAILABLE, "unavailable"),
}
CSRF_MESSAGE = (
    "Yêu cầu thiếu hoặc sai mã chống giả mạo (CSRF). Nếu vừa gửi biểu mẫu, hãy tải lại trang rồi thử lại; "
    "ứng dụng gọi API bằng phiên đăng nhập cần gửi kèm tiêu đề X-CSRFToken."
)


def error_format(path: str) -> str:
    """Who reads an error at this path: "api" (JSON {detail, field, code}),
    "open311" (the spec's error list, XML for .xml), "ckan" (the CKAN Action API's
    envelope, opendata.ckan) or "page" (the Vietnamese page)."""
    if path.startswith("/open311/"):
        return "open311"
    if path.startswith(CKAN_ACTION_PATHS):
        return "ckan"
    if path.startswith(("/api/", "/r1/")):  # /r1/: the data bus (exchange.bus.views), JSON like the API
        return "api"
    return "page"


# The CKAN Action API (opendata.ckan): /api/3/action/<name> and /api/action/<name>, which ckanapi calls.
CKAN_ACTION_PATHS = ("/api/3/action/", "/api/action/")
# CKAN's error types by status: what its clients (ckanapi) turn into their exceptions.
CKAN_ERROR_TYPES = {
    400: "Validation Error",
    403: "Authorization Error",
    404: "Not Found Error",
    409: "Validation Error",
    413: "Validation Error",
}
# A 400 that is not about one value: CKAN names these by kind, and ckanapi raises SearchQueryError for the
# first (a bad fq or sort) and its generic CKANAPIError for the second (an action name CKAN does not know).
CKAN_ERROR_TYPES_BY_CODE = {"search_query": "Search Query Error", "bad_request": "Bad request"}


def ckan_error(path: str, status: int, message: str, *, field: str | None = None, code: str | None = None) -> dict:
    """CKAN's envelope for an error: `help` (the action's address), `success` false and `error` with
    `__type` and `message`; a validation error also names its field the way CKAN does
    ({field: [message]}), so a client shows which value was wrong."""
    error = {"__type": CKAN_ERROR_TYPES_BY_CODE.get(code or "")}
    if error["__type"] is None:
        error["__type"] = CKAN_ERROR_TYPES.get(status, "Internal Error" if status >= 500 else "Validation Error")
    error["message"] = message
    if field and error["__type"] == "Validation Error":
        error[field] = [message]
    return {"help": path, "success": False, "error": error}


def error_response(
    request, status: int, message: str | None = None, *, field: str | None = None, code: str | None = None
) -> HttpResponse:
    """An error in the format of the path it answers — the one place every
    error shape is written (domain errors on pages, Django's 400/403/404/413/500,
    CSRF failures, an unreachable database)."""
    default_message, default_code = STATUS_MESSAGES.get(status, STATUS_MESSAGES[400])
    message, code = message or default_message, code or default_code
    kind = error_format(request.path)
    if kind == "open311":
        if request.path.endswith(".xml"):
            body = (
                '<?xml version="1.0" encoding="utf-8"?>\n<errors><error>'
                f"<code>{status}</code><description>{escape(message)}</description></error></errors>"
            )
            return HttpResponse(body, content_type="text/xml; charset=utf-8", status=status)
        return _json([{"code": status, "description": message}], status)
    if kind == "api":
        return _json({"detail": message, "field": field, "code": code}, status)
    if kind == "ckan":
        return _json(ckan_error(request.path, status, message, field=field, code=code), status)
    context = {
        "title": PAGE_TITLES.get(status, PAGE_TITLES[400]),
        "reason": message,
        "status": status,
        "province_name": settings.CQS["PROVINCE_NAME"],
    }
    if status >= 500 or not hasattr(request, "user"):
        # Rendered without the request: the page's context processors would query the database
        # again (the cause of a 503, maybe of the 500), or need the user that the middleware
        # refusing the request (an oversized body) runs before.
        return HttpResponse(render_to_string("error.html", context), status=status)
    return render(request, "error.html", context, status=status)


def _json(data, status: int) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False)
    return HttpResponse(body.encode(), content_type="application/json; charset=utf-8", status=status)


def database_unavailable(request) -> HttpResponse:
    """503 with Retry-After in the caller's format."""
    response = error_response(request, 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


# Django's error views (urls.py handler400/403/404/500, settings.CSRF_FAILURE_VIEW), in each format.


def bad_request(request, exception=None):
    """400; a body over DATA_UPLOAD_MAX_MEMORY_SIZE (or with too many fields) is a 413."""
    if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent)):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return error_response(
            request, 413, f"Nội dung gửi lên quá lớn (tối đa {limit / (1024 * 1024):.1f} MB, không kể tệp đính kèm)."
        )
    return error_response(request, 400)


def permission_denied(request, exception=None):
    return error_response(request, 403)


def page_not_found(request, exception=None):
    return error_response(request, 404)


def server_error(request):
    if error_format(request.path) == "page":
        # A standalone page (no base template, no context): it renders whatever failed.
        return HttpResponse(render_to_string("500.html"), status=500)
    return error_response(request, 500)


def csrf_failure(request, reason=""):
    """A write without a valid CSRF token (an expired page, another site)."""
    return error_response(request, 403, CSRF_MESSAGE, code="csrf")


class DomainErrorPages:
    """A domain error a page lets through becomes the Vietnamese page for its
    status (403, 404, 409, …) with its message — one mapping for every app's
    pages. The HTTP API maps the same errors to JSON (chinhquyenso.api) and
    Open311 to its own format (feedback.open311); both catch them before this.
    A database that cannot be reached (or a deadlock that outlived its
    retries) is a 503 with Retry-After in every format, not a 500. An error
    answer under /api/ or /open311/ that is not in that API's shape (Django's
    405, a page's HTML) is rewritten in it: clients parse one shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        kind = error_format(request.path)
        if kind != "page" and response.status_code >= 400 and not _in_api_shape(response, kind):
            shaped = error_response(request, response.status_code)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    shaped[header] = response[header]
            return shaped
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            log.warning("database unavailable for %s: %s", request.path, type(exception).__name__)
            return database_unavailable(request)
        if not isinstance(exception, DomainError):
            return None
        status = exception.status_code
        # A 404 never says what exists: another agency's record reads as absent.
        reason = NOT_FOUND if status == 404 else exception.message
        response = error_response(request, status, reason, field=exception.field, code=exception.code)
        if isinstance(exception, RateLimited):
            response["Retry-After"] = str(exception.retry_after)
        return response


def _in_api_shape(response, kind: str) -> bool:
    content_type = response.get("Content-Type", "")
    return content_type.startswith("application/json") or (kind == "open311" and content_type.startswith("text/xml"))

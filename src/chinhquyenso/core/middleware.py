import json

from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import UNSTORABLE_MESSAGE, unstorable_field


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


class DomainErrorPages:
    """A domain error a page lets through becomes the Vietnamese page for its
    status (403, 404, 409, …) with its message — one mapping for every app's
    pages. The HTTP API maps the same errors to JSON (chinhquyenso.api) and
    Open311 to its own format (feedback.open311); both catch them before this."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        status = exception.status_code
        # A 404 never says what exists: another agency's record reads as absent.
        reason = "Địa chỉ không đúng, hoặc bạn không có quyền xem nội dung này." if status == 404 else exception.message
        context = {"title": PAGE_TITLES.get(status, PAGE_TITLES[400]), "reason": reason, "status": status}
        return render(request, "error.html", context, status=status)

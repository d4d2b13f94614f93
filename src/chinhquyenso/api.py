"""The HTTP API: one NinjaAPI, routers from each app, errors as Vietnamese JSON.

Every error body is {"detail": "<Vietnamese message>", "field": "<offending field or null>", "code": "..."}
(`ErrorOut`), and the published OpenAPI lists each operation's error answers with it. JSON
bodies are parsed by core.params.loads (finite numbers, bounded depth)."""

from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from chinhquyenso.accounts.api import router as accounts_router
from chinhquyenso.assistant.api import router as assistant_router
from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.middleware import STATUS_MESSAGES
from chinhquyenso.core.throttle import RateLimited
from chinhquyenso.dashboard.api import router as dashboard_router
from chinhquyenso.dossiers.api import router as dossiers_router
from chinhquyenso.indicators.api import router as indicators_router
from chinhquyenso.lris.api import router as lris_router
from chinhquyenso.pests.api import router as pests_router
from chinhquyenso.pests.api_devices import router as pests_devices_router
from chinhquyenso.procedures.api import router as procedures_router
from chinhquyenso.signing.api import router as signing_router


class ErrorOut(Schema):
    detail: str
    field: str | None
    code: str


class BoundedJsonParser(Parser):
    """JSON bodies through core.params.loads: NaN, Infinity, numbers that overflow
    to infinity and nesting deeper than params.JSON_MAX_DEPTH are refused (400)."""

    def parse_body(self, request):
        return params.loads(request.body)


ERROR_DESCRIPTIONS = {
    400: "Dữ liệu không hợp lệ (nêu trường trong `field`)",
    401: "Chưa đăng nhập, hoặc mã API không hợp lệ",
    403: "Không có quyền, hoặc phiên đăng nhập gửi thiếu mã CSRF (code: csrf)",
    404: "Không tìm thấy (hoặc không thuộc phạm vi được xem)",
    409: "Xung đột: đã được xử lý, hoặc Idempotency-Key dùng cho yêu cầu khác",
    413: "Nội dung gửi lên quá lớn",
    415: "Nội dung không đúng kiểu (Content-Type) thao tác này nhận",
    422: "Tham số hoặc nội dung sai kiểu, thiếu, ngoài giới hạn",
    429: "Quá nhiều lần thử; chờ theo Retry-After",
    503: "Cơ sở dữ liệu tạm thời không kết nối được (Retry-After)",
}


class Api(NinjaAPI):
    """The OpenAPI document also lists, for every operation, the error answers
    it can give, each an ErrorOut: 400, 422 and 503 everywhere; 401 and 403
    behind authentication; 404 with path parameters; 403 (CSRF), 409, 413 and
    415 with a body; 429 for writes open to anyone. An operation's own
    `response` entries win."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorOut"] = ErrorOut.json_schema()
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                statuses = {400, 422, 503}
                if operation.get("security"):
                    statuses |= {401, 403}
                if "{" in path:
                    statuses.add(404)
                if method in ("post", "put", "patch"):
                    statuses |= {403, 409, 413, 415}
                    if not operation.get("security"):
                        statuses.add(429)  # writes open to anyone (signing in) are rate-limited
                responses = operation.setdefault("responses", {})
                for status in sorted(statuses):
                    responses.setdefault(
                        status,
                        {
                            "description": ERROR_DESCRIPTIONS[status],
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
                        },
                    )
        return schema


api = Api(
    parser=BoundedJsonParser(),
    title="Chính quyền số — API",
    version="1",
    description="Danh mục thủ tục hành chính, nộp và tra cứu hồ sơ, thao tác của cán bộ. "
    "Xác thực: phiên đăng nhập (cookie) hoặc `Authorization: Bearer <mã API>` của hệ thống.",
    urls_namespace="api",
)
api.add_router("/procedures", procedures_router, tags=["Thủ tục hành chính"])
api.add_router("/dossiers", dossiers_router, tags=["Hồ sơ"])
api.add_router("/lris", lris_router, tags=["Báo cáo số liệu (LRIS)"])
api.add_router("/", accounts_router, tags=["Tài khoản"])
api.add_router("/indicators", indicators_router, tags=["Chỉ tiêu, đánh giá"])
api.add_router("/dashboard", dashboard_router, tags=["Điều hành (IOC)"])
api.add_router("/assistant", assistant_router, tags=["Trợ lý thủ tục hành chính"])
api.add_router("/signatures", signing_router, tags=["Chữ ký số"])
api.add_router("/pests/traps", pests_devices_router, tags=["Bẫy đèn thông minh"])
api.add_router("/pests", pests_router, tags=["Sinh vật gây hại cây trồng"])

FIELD_MESSAGES = {
    "missing": "thiếu trường bắt buộc",
    "string_type": "phải là chuỗi ký tự",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "bool_type": "phải là true hoặc false",
    "bool_parsing": "phải là true hoặc false",
    "date_from_datetime_parsing": "phải là ngày dạng YYYY-MM-DD",
    "date_parsing": "phải là ngày dạng YYYY-MM-DD",
    "list_type": "phải là danh sách",
    "dict_type": "phải là đối tượng JSON",
    "model_attributes_type": "phải là đối tượng JSON",
    "string_too_long": "quá dài",
    "string_too_short": "không được để trống",
    "greater_than": "phải lớn hơn {gt}",
    "greater_than_equal": "phải từ {ge} trở lên",
    "less_than": "phải nhỏ hơn {lt}",
    "less_than_equal": "tối đa {le}",
    "too_long": "quá nhiều phần tử (tối đa {max_length})",
    "date_from_datetime_inexact": "phải là ngày dạng YYYY-MM-DD",
    "datetime_from_date_parsing": "phải là ngày giờ ISO 8601",
    "datetime_parsing": "phải là ngày giờ ISO 8601",
    "float_parsing": "phải là số",
    "float_type": "phải là số",
    "finite_number": "phải là số hữu hạn",
    "union_tag_invalid": "không hợp lệ",
    "extra_forbidden": "không được phép",
    "literal_error": "không thuộc các giá trị cho phép",
    "enum": "không thuộc các giá trị cho phép",
}


def _field_name(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "form", "file")]
    return ".".join(parts) or "body"


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError):
    response = api.create_response(request, exc.as_dict(), status=exc.status_code)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError):
    errors = []
    for error in exc.errors:
        field = _field_name(error.get("loc", ()))
        kind = error.get("type", "")
        reason = FIELD_MESSAGES.get(kind, "không hợp lệ").format_map(error.get("ctx") or {})
        if kind == "json_invalid" or "parse" in str(error.get("msg", "")).lower() and field == "body":
            reason, field = "nội dung gửi lên không phải JSON hợp lệ", "body"
        errors.append({"field": field, "detail": f"Trường “{field}”: {reason}."})
    first = errors[0] if errors else {"field": None, "detail": "Dữ liệu gửi lên không hợp lệ."}
    return api.create_response(
        request, {"detail": first["detail"], "field": first["field"], "code": "invalid", "errors": errors}, status=422
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc):
    return api.create_response(
        request,
        {"detail": "Bạn cần đăng nhập hoặc cung cấp mã API hợp lệ.", "field": None, "code": "unauthenticated"},
        status=401,
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    # ninja wraps what the body parser raised (core.params.loads: a DomainError naming the problem).
    if isinstance(exc.__cause__, DomainError):
        return domain_error(request, exc.__cause__)
    message, code = STATUS_MESSAGES.get(exc.status_code, STATUS_MESSAGES[400])
    return api.create_response(request, {"detail": message, "field": None, "code": code}, status=exc.status_code)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404):
    message, code = STATUS_MESSAGES[404]
    return api.create_response(request, {"detail": message, "field": None, "code": code}, status=404)

"""The HTTP API: one NinjaAPI, routers from each app, errors as Vietnamese JSON.

Every error body is {"detail": "<Vietnamese message>", "field": "<offending field or null>", "code": "..."}."""

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from chinhquyenso.accounts.api import router as accounts_router
from chinhquyenso.core.errors import DomainError
from chinhquyenso.dashboard.api import router as dashboard_router
from chinhquyenso.dossiers.api import router as dossiers_router
from chinhquyenso.indicators.api import router as indicators_router
from chinhquyenso.lris.api import router as lris_router
from chinhquyenso.procedures.api import router as procedures_router

api = NinjaAPI(
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
    "greater_than": "phải lớn hơn 0",
    "greater_than_equal": "không được âm",
    "extra_forbidden": "không được phép",
    "literal_error": "không thuộc các giá trị cho phép",
    "enum": "không thuộc các giá trị cho phép",
}


def _field_name(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "form", "file")]
    return ".".join(parts) or "body"


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status_code)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError):
    errors = []
    for error in exc.errors:
        field = _field_name(error.get("loc", ()))
        kind = error.get("type", "")
        reason = FIELD_MESSAGES.get(kind, "không hợp lệ")
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
    return api.create_response(request, {"detail": str(exc), "field": None, "code": "error"}, status=exc.status_code)

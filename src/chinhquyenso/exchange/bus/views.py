"""The bus's door for other systems: `/r1/<instance>/<class>/<member>/<subsystem>/<service>/<path>`
with the calling subsystem in `X-Road-Client` and a signed token in `X-Road-Signature`
(exchange.bus.security). The call is authenticated here and then runs through the one pipeline
(exchange.bus.gateway.dispatch) like every other call. Every refusal — a malformed address, an
oversized or unstorable body, a bad or replayed token — is a JSON error body (BusError.body())
with its status, and an entry in the message log; never a 500 (docs/data-bus.md, "Addressing and access")."""

from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import unquote

from django.http import HttpResponse
from django.urls import resolve
from django.views.decorators.csrf import csrf_exempt

from chinhquyenso.core import params as core_params
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import UNSTORABLE_MESSAGE, unstorable_field
from chinhquyenso.exchange.bus import gateway, ids, security
from chinhquyenso.exchange.bus.errors import BusError

log = logging.getLogger(__name__)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def _clean(text: str, limit: int = 300) -> str:
    """A value from outside made safe for the log (no control characters, bounded)."""
    return _CONTROL.sub("\ufffd", text or "")[:limit]


def _json_response(
    status: int, body: dict | bytes, message_id: str, entry: int | None, content_type=""
) -> HttpResponse:
    if isinstance(body, dict):
        import json

        body, content_type = json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8"
    response = HttpResponse(body, status=status, content_type=content_type or "application/json")
    response["X-Road-Id"] = message_id
    # The message log records every call; Django's request log would write the path (which may
    # hold a person's identifier) in plain text for each 4xx/5xx: not for the bus.
    response._has_been_logged = True
    if entry is not None:
        response["X-Road-Log-Entry"] = str(entry)
    return response


def _error_response(error: BusError, request: gateway.BusRequest) -> HttpResponse:
    response = _json_response(error.status, error.body(), request.message_id, error.entry)
    if error.code == "unauthenticated":
        response["WWW-Authenticate"] = 'X-Road-Signature realm="bus"'
    if error.retry_after is not None:
        from django.utils import timezone

        response["Retry-After"] = str(max(1, int((error.retry_after - timezone.now()).total_seconds())))
    return response


def _read_body(request) -> bytes:
    """The raw body, at most BUS_MAX_BODY_BYTES; read here (never through request.body, whose
    DATA_UPLOAD_MAX_MEMORY_SIZE check would answer in Django's format)."""
    limit = gateway.max_body_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BusError("bad_request", "Tiêu đề Content-Length không hợp lệ.", field="body") from None
    if declared > limit:
        raise BusError("body_too_large", f"Nội dung gửi vượt quá {limit:,} byte cho phép của trục.", field="body")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise BusError("body_too_large", f"Nội dung gửi vượt quá {limit:,} byte cho phép của trục.", field="body")
    return body


def _address(address: str) -> tuple[str, str]:
    """`VN/GOV/000.00.00.H01/mot-cua/lien-thong/parts/x/status` → (service id, "/parts/x/status")."""
    parts = address.split("/", 5)
    service_id = "/".join(parts[:5])
    if len(parts) < 5 or ids.parse_service(service_id) is None:
        raise BusError(
            "bad_request",
            "Địa chỉ gọi phải có dạng /r1/{vùng}/{loại thành viên}/{mã thành viên}/{mã hệ thống}/{mã dịch vụ}/{đường dẫn}; "
            "mỗi mã gồm chữ cái, chữ số, dấu chấm, gạch ngang.",
            field="path",
        )
    rest = "/" + parts[5] if len(parts) > 5 else "/"
    return service_id, rest


def _check_storable(rest: str, query: str, body: bytes) -> None:
    if unstorable_field(rest) or unstorable_field(unquote(query)):
        raise BusError("bad_request", f"{UNSTORABLE_MESSAGE} Trường “path”.", field="path")
    if b"\x00" in body:
        raise BusError("bad_request", f"{UNSTORABLE_MESSAGE} Trường “body”.", field="body")
    if body:
        try:
            payload = core_params.loads(body)
        except DomainError:
            return  # not JSON: the pipeline answers that (invalid_body) once the operation is known
        field = unstorable_field(payload)
        if field:
            raise BusError("bad_request", f"{UNSTORABLE_MESSAGE} Trường “{field}”.", field=field)


@csrf_exempt
def endpoint(request, address: str) -> HttpResponse:
    """One call from another system through the bus (see the module's docstring)."""
    started = time.perf_counter()
    claimed_id = request.headers.get("X-Road-Id", "").strip()
    bus_request = gateway.BusRequest(
        client=_clean(request.headers.get(security.CLIENT_HEADER, "").strip()),
        service=_clean(address, 300),
        method=_clean(request.method, 8),
        path="",
        message_id=claimed_id if _MESSAGE_ID.match(claimed_id) else uuid.uuid4().hex,
        asynchronous=False,
    )
    try:
        if claimed_id and not _MESSAGE_ID.match(claimed_id):
            raise BusError(
                "bad_request", "Mã thông điệp X-Road-Id chỉ gồm chữ, số, . _ : - (tối đa 64 ký tự).", field="X-Road-Id"
            )
        if request.method not in METHODS:
            raise BusError("bad_request", f"Trục chỉ nhận các phương thức {', '.join(METHODS)}.", field="method")
        key = request.headers.get("Idempotency-Key", "").strip()
        if key and not _KEY.match(key):
            raise BusError(
                "bad_request",
                "Khóa chống xử lý trùng (Idempotency-Key) gồm tối đa 200 ký tự ASCII in được, không có khoảng trắng.",
                field="Idempotency-Key",
            )
        bus_request.idempotency_key = key
        bus_request.body = _read_body(request)
        service_id, rest = _address(address)
        bus_request.service, bus_request.path = service_id, rest
        query = request.META.get("QUERY_STRING", "")
        bus_request.query = _clean(query, 2000)
        _check_storable(rest, query, bus_request.body)
        bus_request.client = security.authenticate(
            request.headers,
            service_id=service_id,
            method=request.method,
            path=rest + (f"?{query}" if query else ""),
            body=bus_request.body,
        )
    except BusError as error:
        gateway.refuse(bus_request, error, started=started)
        return _error_response(error, bus_request)
    try:
        answer = gateway.dispatch(bus_request)
    except BusError as error:
        return _error_response(error, bus_request)
    except Exception:
        # A local handler that failed: the caller gets the bus's error body, the log the refusal.
        log.exception("bus: local handler failed for %s", bus_request.service)
        error = BusError("remote_error", "Hệ thống cung cấp dịch vụ gặp lỗi khi xử lý yêu cầu; hãy thử lại sau.")
        gateway.refuse(bus_request, error, started=started, outcome=gateway.Outcome.REMOTE_ERROR)
        return _error_response(error, bus_request)
    return _json_response(answer.status, answer.body, answer.message_id, answer.log_entry, answer.content_type)


def _unstorable_input_response(request, field: str) -> HttpResponse:
    """RejectUnstorableInput found an unstorable character in the path or query: the bus answers
    in its own format and logs it (the endpoint checks those itself)."""
    return endpoint(request, resolve(request.path_info).kwargs.get("address", ""))


# core.middleware.RejectUnstorableInput leaves the body to this view, answers path/query problems through it.
endpoint.checks_own_body = True
endpoint.unstorable_input_response = _unstorable_input_response

"""The bus's one pipeline: every call — from an app of this installation (`call`), from the outbox
worker (exchange.bus.delivery) or from another system through `/r1/…` (exchange.bus.views) — is
resolved in the registry, checked against the access rights, size and schema, let through the
service's circuit breaker, forwarded (to the remote provider with a timeout, or to the local
handler), and written to the message log, refusals included. Never inside a transaction."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote

import httpx
import jsonschema
from django.conf import settings
from django.utils import timezone

from chinhquyenso.core import params as core_params
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.registry import BUS_HANDLERS
from chinhquyenso.exchange.bus import circuit, receipts, registry, security
from chinhquyenso.exchange.bus import log as message_log
from chinhquyenso.exchange.bus.errors import BusError
from chinhquyenso.exchange.models import BusLogEntry

log = logging.getLogger(__name__)

Outcome = BusLogEntry.Outcome
BODY_METHODS = ("POST", "PUT", "PATCH")


def max_body_bytes() -> int:
    return int(settings.CQS.get("BUS_MAX_BODY_BYTES", 1_000_000))


@dataclass
class BusRequest:
    client: str  # the calling subsystem's id
    service: str  # the service's id
    method: str
    path: str  # under the service, e.g. "/dossiers/000.07.01.H01-250120-0001/status"
    body: bytes = b""
    query: str = ""
    operation: str = ""  # the operation's code, when the caller names it (internal calls)
    message_id: str = ""
    idempotency_key: str = ""
    correlation: str = ""  # what the call is about (a dossier code): searchable in the log
    asynchronous: bool = False
    timeout: float | None = None
    params: dict[str, str] = field(default_factory=dict)  # filled from the path by the gateway
    # A provider's own credentials (e.g. `Authorization` for the payment platform), passed on as they are.
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class BusResponse:
    status: int
    body: bytes
    content_type: str = "application/json"
    message_id: str = ""
    log_entry: int | None = None
    duration_ms: float = 0.0

    def json(self):
        """The body as JSON (None when empty); a body that is not JSON is the provider's error."""
        if not self.body.strip():
            return None
        try:
            return core_params.loads(self.body)
        except (ValueError, DomainError):
            raise BusError("remote_error", "Hệ thống cung cấp trả về dữ liệu không đúng định dạng JSON.") from None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


_client: httpx.Client | None = None


def _http() -> httpx.Client:
    # One pooled client per process: keep-alive connections to each provider.
    global _client
    if _client is None:
        _client = httpx.Client(follow_redirects=False, limits=httpx.Limits(max_connections=50))
    return _client


@lru_cache(maxsize=512)
def _validator(schema_json: str):
    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_errors(schema: dict, payload) -> str:
    """'' when `payload` fits `schema`, else the first problem, naming where it is."""
    if not schema:
        return ""
    error = jsonschema.exceptions.best_match(_validator(json.dumps(schema, sort_keys=True)).iter_errors(payload))
    if error is None:
        return ""
    where = "/".join(str(p) for p in error.absolute_path) or "(toàn bộ nội dung)"
    return f"trường “{where}”: {error.message}"


def call(
    *,
    client: str,
    service: str,
    operation: str,
    params: dict | None = None,
    json_body=None,
    query: dict | None = None,
    idempotency_key: str = "",
    correlation: str = "",
    timeout: float | None = None,
    asynchronous: bool = False,
    message_id: str = "",
    headers: dict[str, str] | None = None,
) -> BusResponse:
    """Call `operation` of `service` as `client` (both registry ids). Path parameters fill the
    operation's template; `json_body` is sent as JSON. Returns the provider's answer (any status
    below 500: a 404 may be a valid "not found"); raises BusError when the bus refuses the call or
    the provider cannot answer (timeout, unreachable, 5xx, open circuit)."""
    resolved = registry.resolve(service)
    template = resolved.operation(operation) if resolved else None
    path = _fill(template.path, params or {}) if template else ""
    body = b"" if json_body is None else json.dumps(json_body, ensure_ascii=False).encode()
    request = BusRequest(
        client=client,
        service=service,
        method=template.method if template else "",
        path=path,
        body=body,
        query=httpx.QueryParams(query or {}).__str__(),
        operation=operation,
        message_id=message_id,
        idempotency_key=idempotency_key,
        correlation=correlation,
        asynchronous=asynchronous,
        timeout=timeout,
        headers=dict(headers or {}),
    )
    return dispatch(request, resolved=resolved)


def _fill(template: str, params: dict) -> str:
    path = template
    for name, value in params.items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    return path


_UNRESOLVED = object()


def dispatch(request: BusRequest, *, resolved=_UNRESOLVED) -> BusResponse:
    """Run one call through the pipeline (see the module's docstring)."""
    from chinhquyenso.core.workflow import in_transaction

    if in_transaction():
        raise RuntimeError("the bus is called only outside a transaction (ask before, or send through the outbox)")
    started = time.perf_counter()
    request.message_id = request.message_id or uuid.uuid4().hex
    service = registry.resolve(request.service) if resolved is _UNRESOLVED else resolved
    try:
        operation = _admit(request, service)
    except BusError as error:
        _record(request, started, outcome=Outcome.REFUSED, error=error)
        raise
    try:
        circuit.check(service.id)
    except BusError as error:
        _record(request, started, outcome=Outcome.CIRCUIT_OPEN, error=error)
        raise
    if service.local:
        response = _run_local(request, service, operation)
    else:
        response = _forward(request, service, started)
    response.message_id = request.message_id
    response.duration_ms = (time.perf_counter() - started) * 1000
    entry = _record(request, started, outcome=Outcome.OK, response=response)
    response.log_entry = entry.seq
    return response


def _admit(request: BusRequest, service) -> registry.Operation:
    """The operation the request calls, once the registry, the access rights, the size and the
    schema allow it; otherwise the BusError that refuses it."""
    if service is None:
        raise BusError("unknown_service", "Không có dịch vụ này trên trục liên thông.", field="service")
    if request.operation:
        operation = service.operation(request.operation)
        matched = operation and service.match(operation.method, request.path)
        request.params = matched[1] if matched else {}
    else:
        matched = service.match(request.method, request.path or "/")
        operation, request.params = matched if matched else (None, {})
        request.operation = operation.code if operation else ""
    if operation is None:
        raise BusError("unknown_operation", "Dịch vụ không có thao tác này (phương thức, đường dẫn).", field="path")
    if not service.allows(request.client, operation.code):
        raise BusError(
            "access_denied",
            f"Hệ thống {request.client} chưa được cấp quyền gọi thao tác “{operation.name}” của dịch vụ {service.name}.",
            field="client",
        )
    if len(request.body) > max_body_bytes():
        raise BusError("body_too_large", "Nội dung gửi vượt quá dung lượng cho phép của trục.", field="body")
    if request.method in BODY_METHODS or request.body:
        try:
            payload = core_params.loads(request.body) if request.body else None
        except (ValueError, DomainError):
            raise BusError("invalid_body", "Nội dung gửi không phải JSON hợp lệ.", field="body") from None
        problem = schema_errors(operation.request_schema, payload)
        if problem:
            raise BusError("invalid_body", f"Nội dung gửi không đúng lược đồ của thao tác: {problem}.", field="body")
    return operation


def _run_local(request: BusRequest, service, operation) -> BusResponse:
    key = f"{service.code}.{operation.code}"
    if key not in BUS_HANDLERS:
        raise BusError("unreachable", f"Hệ thống này chưa cài đặt dịch vụ {key}.")
    handler = BUS_HANDLERS.get(key)

    def run() -> tuple[int, bytes]:
        payload = core_params.loads(request.body) if request.body else None
        status, answer = handler(request, request.params, payload)
        return status, b"" if answer is None else json.dumps(answer, ensure_ascii=False, default=str).encode()

    # With an Idempotency-Key the handler runs once, in a transaction with its receipt (exchange.bus.receipts).
    status, body = receipts.once(request, run)
    return BusResponse(status=status, body=body)


def _forward(request: BusRequest, service, started: float) -> BusResponse:
    if not service.address.startswith(("http://", "https://")):
        error = BusError(
            "unreachable",
            f"Chưa cấu hình địa chỉ của hệ thống cung cấp dịch vụ {service.name}; hãy liên hệ quản trị hệ thống.",
        )
        _record(request, started, outcome=Outcome.UNREACHABLE, error=error)
        raise error
    timeout = min(request.timeout or service.timeout, service.timeout)
    headers = {
        **request.headers,
        "Accept": "application/json",
        "X-Road-Client": request.client,
        "X-Road-Service": service.id,
        "X-Road-Id": request.message_id,
        **security.outgoing_headers(
            service_id=service.id,
            method=request.method,
            path=request.path + (f"?{request.query}" if request.query else ""),
            body=request.body,
            client=request.client,
        ),
    }
    if request.body:
        headers["Content-Type"] = "application/json"
    if request.idempotency_key:
        headers["Idempotency-Key"] = request.idempotency_key
    url = service.address + request.path + (f"?{request.query}" if request.query else "")
    try:
        answer = _http().request(request.method, url, content=request.body or None, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        return _fail(
            request,
            started,
            service,
            Outcome.TIMEOUT,
            "timeout",
            f"{service.name} không phản hồi trong {timeout:g} giây.",
        )
    except httpx.TransportError as error:
        log.warning("bus %s: cannot connect (%s)", service.id, type(error).__name__)
        return _fail(
            request, started, service, Outcome.UNREACHABLE, "unreachable", f"Không kết nối được {service.name}."
        )
    response = BusResponse(
        status=answer.status_code, body=answer.content, content_type=answer.headers.get("content-type", "")
    )
    if answer.status_code >= 500:
        return _fail(
            request,
            started,
            service,
            Outcome.REMOTE_ERROR,
            "remote_error",
            f"{service.name} đang gặp sự cố (mã lỗi HTTP {answer.status_code}).",
            response=response,
        )
    circuit.success(service.id)
    return response


def _fail(request, started, service, outcome, code, message, *, response=None):
    circuit.failure(service.id, message)
    error = BusError(code, message + " Hãy thử lại sau.")
    entry = _record(request, started, outcome=outcome, error=error, response=response)
    error.entry = entry.seq
    raise error


def refuse(request: BusRequest, error: BusError, *, started: float | None = None, outcome=Outcome.REFUSED) -> BusError:
    """Log a call refused before it reached the pipeline (the `/r1/` endpoint: a malformed address,
    an oversized body, a failed signature, a replay) like any other refusal; returns the error, its
    `entry` set to the log entry's number."""
    request.message_id = request.message_id or uuid.uuid4().hex
    _record(request, time.perf_counter() if started is None else started, outcome=outcome, error=error)
    return error


def _text(body: bytes) -> str:
    # Bytes that are not UTF-8 become U+FFFD; NUL, which PostgreSQL cannot store in text, too.
    return body.decode("utf-8", "replace").replace("\x00", "\ufffd")


def _record(request: BusRequest, started: float, *, outcome, error: BusError | None = None, response=None):
    entry = message_log.append(
        at=timezone.now(),
        message_id=request.message_id or uuid.uuid4().hex,
        client=request.client[:300],
        service=request.service[:300],
        operation=request.operation[:80],
        method=request.method[:8],
        status=response.status if response is not None else (error.status if error else None),
        outcome=outcome,
        error_code=error.code if error else "",
        duration_ms=(time.perf_counter() - started) * 1000,
        asynchronous=request.asynchronous,
        idempotency_key=request.idempotency_key[:200],
        correlation=request.correlation[:80],
        request_body=_text(request.body),
        response_body=_text(response.body) if response is not None else "",
    )
    if error is not None:
        error.entry = entry.seq
    return entry

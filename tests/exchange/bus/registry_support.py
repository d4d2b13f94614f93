"""A small bus for the registry, access and endpoint tests: a local test provider with three
operations, client subsystems with generated certificates and different rights, and helpers that
sign and send calls to the real `/r1/` endpoint of a live server."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from chinhquyenso.core.registry import BUS_HANDLERS
from chinhquyenso.exchange.bus import keys, registry, security
from chinhquyenso.exchange.models import (
    BusAccessRight,
    BusLogEntry,
    BusMember,
    BusOperation,
    BusService,
    BusSubsystem,
)

PROVIDER = "VN/GOV/000.00.00.T01/thu-nghiem"
SERVICE = f"{PROVIDER}/kho"
INACTIVE_SERVICE = f"{PROVIDER}/kho-cu"
CLIENT_MEMBER = "VN/GOV/000.00.00.T02"
ITEM_SCHEMA = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 50}},
}


def _read(request, params, payload):
    return 200, {"id": params["id"], "client": request.client, "query": request.query}


def _write(request, params, payload):
    return 201, {"created": payload["name"]}


def _remove(request, params, payload):
    if params["id"] == "loi":
        raise ValueError("a handler's own bug")
    return 204, None


HANDLERS = {"kho.read": _read, "kho.write": _write, "kho.remove": _remove, "kho-cu.read": _read}


def register_handlers():
    for name, handler in HANDLERS.items():
        BUS_HANDLERS.register(name, handler)


def unregister_handlers():
    for name in HANDLERS:
        BUS_HANDLERS.unregister(name)


@dataclass
class Caller:
    id: str
    key_pem: str
    cert_pem: str

    def headers(self, service: str, method: str, path: str, body: bytes = b"", **claims) -> dict[str, str]:
        token = security.sign_token(
            self.key_pem, self.cert_pem, client=self.id, service=service, method=method, path=path, body=body, **claims
        )
        return {"X-Road-Client": self.id, "X-Road-Signature": token, "Content-Type": "application/json"}


def _subsystem(member, code, name, *, active=True, local=False):
    key_pem, cert_pem = keys.generate_identity(code)
    subsystem = BusSubsystem.objects.create(
        member=member, code=code, name=name, certificate=cert_pem, active=active, local=local
    )
    return subsystem, Caller(subsystem.identifier, key_pem, cert_pem)


def make_bus() -> dict[str, Caller]:
    """The shipped registry plus the test provider and four clients:
    `full` (every operation), `reader` (only `read`), `stranger` (no right), `inactive` (a right,
    but the subsystem is switched off)."""
    registry.load_defaults()
    provider_member = BusMember.objects.create(
        instance="VN", member_class="GOV", code="000.00.00.T01", name="Hệ thống thử nghiệm cung cấp"
    )
    provider = BusSubsystem.objects.create(member=provider_member, code="thu-nghiem", name="Kho thử nghiệm", local=True)
    service = BusService.objects.create(subsystem=provider, code="kho", version="v1", name="Kho dữ liệu thử nghiệm")
    read = BusOperation.objects.create(service=service, code="read", name="Đọc mục", method="GET", path="/items/{id}")
    BusOperation.objects.create(
        service=service, code="write", name="Thêm mục", method="POST", path="/items", request_schema=ITEM_SCHEMA
    )
    BusOperation.objects.create(service=service, code="remove", name="Xóa mục", method="DELETE", path="/items/{id}")
    old = BusService.objects.create(
        subsystem=provider, code="kho-cu", version="v1", name="Kho cũ (ngừng)", active=False
    )
    BusOperation.objects.create(service=old, code="read", name="Đọc mục", method="GET", path="/items/{id}")

    client_member = BusMember.objects.create(
        instance="VN", member_class="GOV", code="000.00.00.T02", name="Hệ thống thử nghiệm gọi"
    )
    callers = {}
    for name, code, active in (
        ("full", "toan-quyen", True),
        ("reader", "chi-doc", True),
        ("stranger", "khong-quyen", True),
        ("inactive", "ngung", False),
    ):
        subsystem, callers[name] = _subsystem(client_member, code, f"Hệ thống {code}", active=active)
        if name in ("full", "inactive"):
            BusAccessRight.objects.create(client=subsystem, service=service)
            BusAccessRight.objects.create(client=subsystem, service=old)
        elif name == "reader":
            BusAccessRight.objects.create(client=subsystem, service=service, operation=read)
    return callers


def send(
    base_url: str,
    caller: Caller | None,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    service: str = SERVICE,
    headers: dict | None = None,
    query: str = "",
) -> httpx.Response:
    """Sign (unless `headers` are given) and send one call to the live server's `/r1/` endpoint."""
    signed_path = path + (f"?{query}" if query else "")
    if headers is None:
        headers = caller.headers(service, method, signed_path, body)
    url = f"{base_url}/r1/{service}{signed_path}"
    return httpx.request(method, url, content=body or None, headers=headers, timeout=20)


def log_entry(response: httpx.Response) -> BusLogEntry:
    """The message-log entry the answer names (X-Road-Log-Entry)."""
    return BusLogEntry.objects.get(seq=int(response.headers["X-Road-Log-Entry"]))


def assert_refused(response: httpx.Response, status: int, code: str) -> dict:
    """A refusal: its status, the bus's JSON error body, and an entry in the message log."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.headers["content-type"]
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"], body
    entry = log_entry(response)
    assert body["log_entry"] == entry.seq
    assert entry.error_code == code and entry.status == status
    assert response.headers["X-Road-Id"] == entry.message_id
    return body

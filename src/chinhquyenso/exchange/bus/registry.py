"""Reading the bus registry (members, subsystems, services, operations, access rights).

`resolve(service_id)` gives a plain snapshot of one service — its address, operations and who may
call what — so the gateway never queries per call more than it must. (Owner: registry work.)"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from django.conf import settings

from chinhquyenso.exchange.bus import ids
from chinhquyenso.exchange.models import BusAccessRight, BusService

ALL_OPERATIONS = "*"


@dataclass(frozen=True)
class Operation:
    code: str
    name: str
    method: str
    path: str
    pattern: re.Pattern
    request_schema: dict
    response_schema: dict


@dataclass(frozen=True)
class Service:
    id: str
    code: str
    version: str
    name: str
    provider: str  # subsystem id
    local: bool
    address: str  # base URL of a remote provider ("" for a local one)
    timeout: float
    operations: tuple[Operation, ...]
    # client subsystem id → operation codes it may call (ALL_OPERATIONS: every one)
    access: dict[str, frozenset[str]] = field(default_factory=dict)

    def operation(self, code: str) -> Operation | None:
        return next((op for op in self.operations if op.code == code), None)

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for a method and a concrete path, with the path's parameters."""
        for op in self.operations:
            if op.method == method:
                found = op.pattern.match(path)
                if found:
                    return op, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def allows(self, client: str, operation: str) -> bool:
        allowed = self.access.get(client)
        return bool(allowed) and (ALL_OPERATIONS in allowed or operation in allowed)


def path_pattern(template: str) -> re.Pattern:
    """`/persons/{id}` → a regex whose groups are the parameters (one path segment each)."""
    out, pos = [], 0
    for found in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", template):
        out.append(re.escape(template[pos : found.start()]))
        out.append(f"(?P<{found.group(1)}>[^/]+)")
        pos = found.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


def provider_address(subsystem) -> str:
    """Where a remote provider answers: the CQS setting named by `address_setting` when it is set
    (the real endpoint, or a simulator started by tests or the demo), otherwise `base_url`."""
    configured = settings.CQS.get(subsystem.address_setting, "") if subsystem.address_setting else ""
    return (configured or subsystem.base_url).strip().rstrip("/")


def _snapshot(service: BusService) -> Service:
    subsystem = service.subsystem
    access: dict[str, set[str]] = {}
    rights = BusAccessRight.objects.filter(service=service, client__active=True).select_related(
        "client__member", "operation"
    )
    for right in rights:
        access.setdefault(right.client.identifier, set()).add(
            right.operation.code if right.operation_id else ALL_OPERATIONS
        )
    return Service(
        id=service.identifier,
        code=service.code,
        version=service.version,
        name=service.name,
        provider=subsystem.identifier,
        local=subsystem.local,
        address="" if subsystem.local else provider_address(subsystem),
        timeout=service.timeout_seconds,
        operations=tuple(
            Operation(
                code=op.code,
                name=op.name,
                method=op.method,
                path=op.path,
                pattern=path_pattern(op.path),
                request_schema=op.request_schema or {},
                response_schema=op.response_schema or {},
            )
            for op in service.operations.all()
        ),
        access={client: frozenset(codes) for client, codes in access.items()},
    )


def resolve(service_id: str) -> Service | None:
    """The active service with this id (`<instance>/<class>/<member>/<subsystem>/<code>`), None if unknown."""
    parsed = ids.parse_service(service_id)
    if parsed is None:
        return None
    provider = parsed.provider
    service = (
        BusService.objects.filter(
            active=True,
            code=parsed.service,
            subsystem__active=True,
            subsystem__code=provider.subsystem,
            subsystem__member__active=True,
            subsystem__member__instance=provider.instance,
            subsystem__member__member_class=provider.member_class,
            subsystem__member__code=provider.member,
        )
        .select_related("subsystem__member")
        .prefetch_related("operations")
        .order_by("-version")
        .first()
    )
    return _snapshot(service) if service is not None else None

"""The bus registry: members, subsystems, services, operations, access rights.

Reading: `resolve(service_id)` gives a plain snapshot of one service — its address, operations and
who may call what — and `client(subsystem_id)` the calling subsystem with its certificate, both
from a per-process cache of the whole registry (no query per call). The cache is rebuilt after
`invalidate()` — called by every change in this process (the loader, the admin, any save or delete
of a registry row) — and at most every CHECK_SECONDS otherwise, so a change made by another process
is seen there within that time (docs/data-bus.md, "Members and services").

Loading: `load_defaults()` reads the registry files shipped in the repository
(exchange/connectors/registry/*.json) and creates what is missing (idempotent); with `replace=True`
it also brings names, addresses, paths and schemas back to the files' values."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chinhquyenso.core.errors import DomainError
from chinhquyenso.exchange.bus import ids
from chinhquyenso.exchange.models import BusAccessRight, BusMember, BusOperation, BusService, BusSubsystem

ALL_OPERATIONS = "*"
SELF = "$self"
CONNECTORS_DIR = Path(__file__).resolve().parent.parent / "connectors"
REGISTRY_DIR = CONNECTORS_DIR / "registry"
SCHEMA_DIR = CONNECTORS_DIR / "schemas"
REGISTRY_MODELS = (BusMember, BusSubsystem, BusService, BusOperation, BusAccessRight)


# ---------------------------------------------------------------------- identifiers


def self_member() -> str:
    """This province's member without the instance: `GOV/<CQS BUS_MEMBER_CODE>`."""
    return f"GOV/{settings.CQS.get('BUS_MEMBER_CODE', '000.00.00.H01')}"


def full_id(text: str) -> str:
    """An id as the registry files write it (no instance, `$self` for this province's member) →
    the full id: `$self/mot-cua` → `VN/GOV/000.00.00.H01/mot-cua`. A full id is returned as is."""
    text = (text or "").strip().strip("/")
    if text == SELF or text.startswith(SELF + "/"):
        text = self_member() + text[len(SELF) :]
    first = text.split("/", 1)[0]
    if first in BusMember.MemberClass.values:
        text = f"{ids.instance()}/{text}"
    return text


def self_subsystem(code: str) -> str:
    """This province's subsystem `code` (`mot-cua`, `thanh-toan`, `van-ban`) as a full id."""
    return full_id(f"{SELF}/{code}")


def self_service(subsystem: str, code: str) -> str:
    """A service this province provides, as a full id (`self_service("mot-cua", "lien-thong")`)."""
    return full_id(f"{SELF}/{subsystem}/{code}")


# ---------------------------------------------------------------------- snapshots


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
    base_url: str
    address_setting: str
    timeout: float
    operations: tuple[Operation, ...]
    # client subsystem id → operation codes it may call (ALL_OPERATIONS: every one)
    access: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def address(self) -> str:
        """Base URL of a remote provider ("" for a local one), read from the settings at each call:
        the switch to the real endpoint (or to a simulator a test started) needs no registry change."""
        if self.local:
            return ""
        configured = settings.CQS.get(self.address_setting, "") if self.address_setting else ""
        return (configured or self.base_url).strip().rstrip("/")

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


@dataclass(frozen=True)
class Client:
    """An active subsystem (of an active member) that may call the bus, with its certificate."""

    id: str
    name: str
    certificate: str  # PEM, "" when none is registered
    thumbprint: str  # base64url SHA-256 of the certificate's DER ("" when none or unreadable)
    not_before: dt.datetime | None
    not_after: dt.datetime | None


def path_pattern(template: str) -> re.Pattern:
    """`/requests/{request_id}` → a regex whose groups are the parameters (one path segment each)."""
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


def _client_snapshot(subsystem: BusSubsystem) -> Client:
    from cryptography import x509

    from chinhquyenso.exchange.bus import keys

    pem = (subsystem.certificate or "").strip()
    thumb, not_before, not_after = "", None, None
    if pem:
        try:
            cert = x509.load_pem_x509_certificate(pem.encode())
            thumb = keys.thumbprint(pem)
            not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        except ValueError:
            pass
    return Client(
        id=subsystem.identifier,
        name=subsystem.name,
        certificate=pem,
        thumbprint=thumb,
        not_before=not_before,
        not_after=not_after,
    )


@dataclass
class _Snapshot:
    services: dict[str, Service]
    clients: dict[str, Client]


def _build() -> _Snapshot:
    """The whole registry in three queries: services (with provider and member), their
    operations, the access rights of active clients; and the active subsystems as clients."""
    services = (
        BusService.objects.filter(active=True, subsystem__active=True, subsystem__member__active=True)
        .select_related("subsystem__member")
        .prefetch_related("operations")
        .order_by("id")
    )
    access: dict[int, dict[str, set[str]]] = {}
    rights = BusAccessRight.objects.filter(client__active=True, client__member__active=True).select_related(
        "client__member", "operation"
    )
    for right in rights:
        access.setdefault(right.service_id, {}).setdefault(right.client.identifier, set()).add(
            right.operation.code if right.operation_id else ALL_OPERATIONS
        )
    found: dict[str, Service] = {}
    for service in services:
        subsystem = service.subsystem
        snapshot = Service(
            id=service.identifier,
            code=service.code,
            version=service.version,
            name=service.name,
            provider=subsystem.identifier,
            local=subsystem.local,
            base_url=subsystem.base_url,
            address_setting=subsystem.address_setting,
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
                for op in sorted(service.operations.all(), key=lambda op: op.id)
            ),
            access={client: frozenset(codes) for client, codes in access.get(service.id, {}).items()},
        )
        # Several versions of one service: the highest answers at its address.
        if snapshot.id not in found or snapshot.version > found[snapshot.id].version:
            found[snapshot.id] = snapshot
    clients = {
        sub.identifier: _client_snapshot(sub)
        for sub in BusSubsystem.objects.filter(active=True, member__active=True).select_related("member")
    }
    return _Snapshot(services=found, clients=clients)


def check_seconds() -> float:
    return float(settings.CQS.get("BUS_REGISTRY_CHECK_SECONDS", 5))


_lock = threading.Lock()
_state: dict = {"snapshot": None, "built": 0.0, "generation": 0}


def _current() -> _Snapshot:
    snapshot = _state["snapshot"]
    if snapshot is not None and time.monotonic() - _state["built"] < check_seconds():
        return snapshot
    with _lock:
        snapshot = _state["snapshot"]
        if snapshot is not None and time.monotonic() - _state["built"] < check_seconds():
            return snapshot
        generation = _state["generation"]
        started = time.monotonic()
        snapshot = _build()
        # An invalidation while building (a change committed meanwhile) leaves the cache stale.
        if generation == _state["generation"]:
            _state["snapshot"], _state["built"] = snapshot, started
        return snapshot


def invalidate(*args, **kwargs) -> None:
    """Rebuild the snapshot on the next read (a change of the registry in this process). Safe to
    connect to model signals and to transaction.on_commit."""
    _state["generation"] += 1
    _state["snapshot"] = None


def invalidate_after_commit() -> None:
    """Invalidate now (this transaction's own reads) and again after commit (everyone's)."""
    invalidate()
    transaction.on_commit(invalidate)


def changed(*args, **kwargs) -> None:
    """Receiver of post_save / post_delete on the registry's models (ExchangeConfig.ready)."""
    invalidate_after_commit()


def resolve(service_id: str) -> Service | None:
    """The active service with this id (`<instance>/<class>/<member>/<subsystem>/<code>`), None if
    unknown or inactive (itself, its subsystem or its member)."""
    if ids.parse_service(service_id) is None:
        return None
    return _current().services.get(service_id.strip())


def client(subsystem_id: str) -> Client | None:
    """The active subsystem with this id (of an active member), None if unknown or inactive."""
    return _current().clients.get((subsystem_id or "").strip())


def services() -> list[Service]:
    """Every active service, by id."""
    return sorted(_current().services.values(), key=lambda s: s.id)


# ---------------------------------------------------------------------- loading the shipped files


class RegistryFileError(DomainError):
    """A registry file that cannot be loaded; the message names the file and what is wrong."""


def _fail(where: str, message: str):
    raise RegistryFileError(f"{where}: {message}")


def _schema(where: str, relative: str) -> dict:
    if not relative:
        return {}
    path = (SCHEMA_DIR / relative).resolve()
    if SCHEMA_DIR.resolve() not in path.parents:
        _fail(where, f"đường dẫn lược đồ “{relative}” nằm ngoài thư mục lược đồ.")
    if not path.is_file():
        _fail(where, f"không có tệp lược đồ “{relative}” (trong {SCHEMA_DIR}).")
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        _fail(where, f"tệp lược đồ “{relative}” không phải JSON hợp lệ ({error}).")
    if not isinstance(schema, dict):
        _fail(where, f"tệp lược đồ “{relative}” phải là một đối tượng JSON.")
    return schema


def _code(where: str, value, what: str) -> str:
    if not isinstance(value, str) or not ids.valid_segment(value):
        _fail(where, f"{what} “{value}” không hợp lệ (chữ cái, chữ số, dấu chấm, gạch ngang, gạch dưới).")
    return value


def read_files(directory: Path | None = None) -> dict:
    """Every registry file of `directory` (by name), merged and checked: members by class and
    code, their subsystems by code, services by code and version; the access list concatenated."""
    directory = Path(directory or REGISTRY_DIR)
    members: dict[tuple[str, str], dict] = {}
    access: list[tuple[str, dict]] = []
    for path in sorted(directory.glob("*.json")):
        where = path.name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            _fail(where, f"không phải JSON hợp lệ ({error}).")
        if not isinstance(data, dict):
            _fail(where, "phải là một đối tượng JSON với “members” và “access”.")
        for m in data.get("members") or []:
            mclass = m.get("class", "")
            if mclass not in BusMember.MemberClass.values:
                _fail(where, f"loại thành viên “{mclass}” không hợp lệ (GOV, COM, ORG).")
            code = m.get("code", "")
            if code != SELF:
                _code(where, code, "mã thành viên")
            member = members.setdefault(
                (mclass, code), {"class": mclass, "code": code, "name": "", "subsystems": {}, "file": where}
            )
            member["name"] = member["name"] or m.get("name", "")
            for s in m.get("subsystems") or []:
                scode = _code(where, s.get("code"), "mã hệ thống")
                subsystem = member["subsystems"].setdefault(
                    scode,
                    {
                        "code": scode,
                        "name": s.get("name", ""),
                        "local": bool(s.get("local", False)),
                        "base_url": s.get("base_url", ""),
                        "address_setting": s.get("address_setting", ""),
                        "services": {},
                    },
                )
                for v in s.get("services") or []:
                    vcode = _code(where, v.get("code"), "mã dịch vụ")
                    version = v.get("version", "v1")
                    service = subsystem["services"].setdefault(
                        (vcode, version),
                        {
                            "code": vcode,
                            "version": version,
                            "name": v.get("name", "") or vcode,
                            "description": v.get("description", ""),
                            "timeout_seconds": float(v.get("timeout_seconds", 5)),
                            "operations": {},
                        },
                    )
                    for o in v.get("operations") or []:
                        ocode = _code(where, o.get("code"), "mã thao tác")
                        method = (o.get("method") or "").upper()
                        if method not in BusOperation.Method.values:
                            _fail(where, f"phương thức “{method}” của thao tác {ocode} không hợp lệ.")
                        path_ = o.get("path") or ""
                        if not path_.startswith("/"):
                            _fail(where, f"đường dẫn của thao tác {ocode} phải bắt đầu bằng “/”.")
                        service["operations"][ocode] = {
                            "code": ocode,
                            "name": o.get("name", "") or ocode,
                            "method": method,
                            "path": path_,
                            "request_schema": _schema(where, o.get("request_schema", "")),
                            "response_schema": _schema(where, o.get("response_schema", "")),
                        }
        for a in data.get("access") or []:
            access.append((where, a))
    return {"members": list(members.values()), "access": access}


def _province_agency():
    """The province's root agency (the provincial People's Committee with no parent), if any."""
    from chinhquyenso.org.models import AgencyKind
    from chinhquyenso.org.selectors import agencies_valid_on

    today = timezone.localdate()
    return (
        agencies_valid_on(today).filter(kind=AgencyKind.PROVINCE_COMMITTEE, parent__isnull=True).order_by("id").first()
    )


def _update(obj, values: dict, replace: bool) -> bool:
    """Set `values` on an existing row when replacing; True if anything changed (and was saved)."""
    if not replace:
        return False
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.save(update_fields=changed)
    return bool(changed)


def load_defaults(replace: bool = False, actor=None, directory: Path | None = None) -> dict[str, int]:
    """Load the shipped registry files: create the members, subsystems, services, operations and
    access rights that are missing (the province's edits stay); `replace` also brings existing rows'
    names, addresses, method/path and schemas back to the files' values. Access rights are only
    ever added. Returns what was created (and `updated`: rows changed by `replace`)."""
    from chinhquyenso.core import audit

    data = read_files(directory)
    counts = dict.fromkeys(("members", "subsystems", "services", "operations", "access_rights", "updated"), 0)
    instance = ids.instance()
    with transaction.atomic():
        for m in data["members"]:
            code = m["code"] if m["code"] != SELF else self_member().split("/", 1)[1]
            member = BusMember.objects.filter(instance=instance, member_class=m["class"], code=code).first()
            if member is None:
                member = BusMember.objects.create(
                    instance=instance,
                    member_class=m["class"],
                    code=code,
                    name=m["name"] or code,
                    agency=_province_agency() if m["code"] == SELF else None,
                )
                counts["members"] += 1
            else:
                values = {"name": m["name"] or code}
                if m["code"] == SELF and member.agency_id is None:
                    values["agency"] = _province_agency()
                counts["updated"] += _update(member, values, replace)
            for s in m["subsystems"].values():
                values = {k: s[k] for k in ("name", "local", "base_url", "address_setting")}
                subsystem = BusSubsystem.objects.filter(member=member, code=s["code"]).first()
                if subsystem is None:
                    subsystem = BusSubsystem.objects.create(member=member, code=s["code"], **values)
                    counts["subsystems"] += 1
                else:
                    counts["updated"] += _update(subsystem, values, replace)
                for v in s["services"].values():
                    values = {k: v[k] for k in ("name", "description", "timeout_seconds")}
                    service = BusService.objects.filter(
                        subsystem=subsystem, code=v["code"], version=v["version"]
                    ).first()
                    if service is None:
                        service = BusService.objects.create(
                            subsystem=subsystem, code=v["code"], version=v["version"], **values
                        )
                        counts["services"] += 1
                    else:
                        counts["updated"] += _update(service, values, replace)
                    for o in v["operations"].values():
                        values = {k: o[k] for k in ("name", "method", "path", "request_schema", "response_schema")}
                        operation = BusOperation.objects.filter(service=service, code=o["code"]).first()
                        if operation is None:
                            if BusOperation.objects.filter(
                                service=service, method=o["method"], path=o["path"]
                            ).exists():
                                _fail(
                                    m["file"],
                                    f"dịch vụ {v['code']} đã có thao tác khác với {o['method']} {o['path']}; "
                                    f"không thêm được thao tác {o['code']}.",
                                )
                            BusOperation.objects.create(service=service, code=o["code"], **values)
                            counts["operations"] += 1
                        else:
                            counts["updated"] += _update(operation, values, replace)
        for where, a in data["access"]:
            counts["access_rights"] += _grant_from_file(where, a, actor)
        if any(counts.values()):
            audit.record(
                actor=actor,
                action="bus.registry.load",
                object_type="exchange.BusService",
                after={**counts, "replace": replace},
            )
    invalidate_after_commit()
    return counts


def _subsystem_by_id(subsystem_id: str) -> BusSubsystem | None:
    parsed = ids.parse_subsystem(subsystem_id)
    if parsed is None:
        return None
    return BusSubsystem.objects.filter(
        member__instance=parsed.instance,
        member__member_class=parsed.member_class,
        member__code=parsed.member,
        code=parsed.subsystem,
    ).first()


def services_by_id(service_id: str):
    """Every version of the service with this id (active or not), as rows."""
    parsed = ids.parse_service(service_id)
    if parsed is None:
        return BusService.objects.none()
    provider = parsed.provider
    return BusService.objects.filter(
        code=parsed.service,
        subsystem__code=provider.subsystem,
        subsystem__member__instance=provider.instance,
        subsystem__member__member_class=provider.member_class,
        subsystem__member__code=provider.member,
    ).order_by("version")


def _grant_from_file(where: str, entry: dict, actor) -> int:
    client_id, service_id = full_id(entry.get("client", "")), full_id(entry.get("service", ""))
    subsystem = _subsystem_by_id(client_id)
    if subsystem is None:
        _fail(where, f"quyền gọi: không có hệ thống gọi “{entry.get('client')}” trong danh mục.")
    rows = list(services_by_id(service_id))
    if not rows:
        _fail(where, f"quyền gọi: không có dịch vụ “{entry.get('service')}” trong danh mục.")
    operations = entry.get("operations", ALL_OPERATIONS)
    created = 0
    for service in rows:
        if operations == ALL_OPERATIONS:
            targets = [None]
        else:
            if isinstance(operations, str):
                operations = [operations]
            targets = []
            for code in operations:
                operation = BusOperation.objects.filter(service=service, code=code).first()
                if operation is None:
                    _fail(where, f"quyền gọi: dịch vụ “{entry.get('service')}” không có thao tác “{code}”.")
                targets.append(operation)
        for operation in targets:
            _, made = BusAccessRight.objects.get_or_create(
                client=subsystem,
                service=service,
                operation=operation,
                defaults={
                    "granted_by": actor if getattr(actor, "pk", None) else None,
                    "note": entry.get("note", "") or f"Nạp từ tệp danh mục {where}",
                },
            )
            created += made
    return created

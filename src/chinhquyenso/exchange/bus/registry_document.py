"""The signed registry document: the whole bus registry (members, subsystems with their certificates,
services, operations with their schemas, access rights) as one file signed with the bus's key, like
X-Road's global configuration — for a second installation, a backup or the national registry.

The file is two lines: the registry as canonical JSON (sorted keys, no spaces — the signed bytes),
then the signature (ES256 over those bytes, base64url) with the signer's key id, also canonical.
Any changed byte on either line makes it unverifiable (docs/data-bus.md, "Members and services")."""

from __future__ import annotations

import json

from django.db import transaction
from django.utils import timezone

from chinhquyenso.core.errors import DomainError
from chinhquyenso.exchange.bus import ids, keys, registry
from chinhquyenso.exchange.models import BusAccessRight, BusMember, BusOperation, BusService, BusSubsystem

FORMAT = "cqs-bus-registry/1"


class RegistryDocumentError(DomainError):
    """A registry document that cannot be trusted or loaded; the message says why (Vietnamese)."""


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content() -> dict:
    """The registry as plain data (what the document signs)."""
    members = []
    for member in BusMember.objects.order_by("member_class", "code").prefetch_related(
        "subsystems__services__operations"
    ):
        members.append(
            {
                "class": member.member_class,
                "code": member.code,
                "name": member.name,
                "active": member.active,
                "subsystems": [
                    {
                        "code": sub.code,
                        "name": sub.name,
                        "local": sub.local,
                        "base_url": sub.base_url,
                        "address_setting": sub.address_setting,
                        "certificate": sub.certificate,
                        "active": sub.active,
                        "services": [
                            {
                                "code": service.code,
                                "version": service.version,
                                "name": service.name,
                                "description": service.description,
                                "timeout_seconds": service.timeout_seconds,
                                "active": service.active,
                                "operations": [
                                    {
                                        "code": op.code,
                                        "name": op.name,
                                        "method": op.method,
                                        "path": op.path,
                                        "request_schema": op.request_schema or {},
                                        "response_schema": op.response_schema or {},
                                    }
                                    for op in sorted(service.operations.all(), key=lambda o: o.code)
                                ],
                            }
                            for service in sorted(sub.services.all(), key=lambda s: (s.code, s.version))
                        ],
                    }
                    for sub in sorted(member.subsystems.all(), key=lambda s: s.code)
                ],
            }
        )
    access = [
        {
            "client": right.client.identifier,
            "service": right.service.identifier,
            "version": right.service.version,
            "operation": right.operation.code if right.operation_id else registry.ALL_OPERATIONS,
            "note": right.note,
        }
        for right in BusAccessRight.objects.select_related(
            "client__member", "service__subsystem__member", "operation"
        ).order_by("id")
    ]
    access.sort(key=lambda a: (a["client"], a["service"], a["version"], a["operation"]))
    return {"members": members, "access": access}


def export() -> bytes:
    """The signed document of the registry as it is now."""
    identity = keys.identity()
    document = {
        "format": FORMAT,
        "instance": ids.instance(),
        "issued_at": timezone.now().isoformat(timespec="seconds"),
        "signer": identity.cert_pem,
        **content(),
    }
    signed = _canonical(document)
    signature = {"alg": "ES256", "key_id": identity.key_id, "signature": identity.sign(signed)}
    return signed + b"\n" + _canonical(signature) + b"\n"


def verify(data: bytes, trusted_cert_pem: str) -> dict:
    """The document's content once its signature by the trusted certificate is checked; a
    RegistryDocumentError saying what is wrong otherwise."""
    lines = data.split(b"\n")
    if len(lines) != 3 or lines[2] != b"":
        raise RegistryDocumentError("Tệp không phải văn bản danh mục trục có chữ ký (cần đúng hai dòng).")
    signed, signature_line = lines[0], lines[1]
    try:
        signature = json.loads(signature_line)
        document = json.loads(signed)
    except (ValueError, UnicodeDecodeError):
        raise RegistryDocumentError("Văn bản danh mục đã bị sửa đổi hoặc hỏng: không đọc được nội dung.") from None
    if not isinstance(signature, dict) or not isinstance(document, dict) or _canonical(signature) != signature_line:
        raise RegistryDocumentError("Văn bản danh mục đã bị sửa đổi hoặc hỏng: phần chữ ký không đúng dạng.")
    if _canonical(document) != signed:
        raise RegistryDocumentError("Văn bản danh mục đã bị sửa đổi: nội dung không còn ở dạng đã ký.")
    try:
        trusted_id = keys.thumbprint(trusted_cert_pem)
    except ValueError:
        raise RegistryDocumentError("Chứng thư tin cậy (--trust) không đọc được (cần tệp PEM).") from None
    if (
        signature.get("key_id") != trusted_id
        or keys.thumbprint(document.get("signer") or trusted_cert_pem) != trusted_id
    ):
        raise RegistryDocumentError("Văn bản danh mục do một bên không được tin cậy ký (khác chứng thư đã chỉ định).")
    if not keys.verify(signed, str(signature.get("signature", "")), trusted_cert_pem):
        raise RegistryDocumentError("Chữ ký của văn bản danh mục không hợp lệ: văn bản đã bị sửa đổi sau khi ký.")
    if document.get("format") != FORMAT:
        raise RegistryDocumentError(f"Văn bản danh mục không đúng định dạng {FORMAT}.")
    return document


def verify_and_load(data: bytes, trusted_cert_pem: str, *, actor=None) -> dict[str, int]:
    """Check the document (see verify) and bring the registry to it: every member, subsystem
    (certificate included), service and operation it holds is created or updated; access rights
    it grants are added. Nothing it lacks is deleted. Returns the counts created and updated."""
    from chinhquyenso.core import audit

    document = verify(data, trusted_cert_pem)
    if document.get("instance") != ids.instance():
        raise RegistryDocumentError(
            f"Văn bản danh mục thuộc vùng trục “{document.get('instance')}”, hệ thống này thuộc vùng “{ids.instance()}”."
        )
    counts = dict.fromkeys(("members", "subsystems", "services", "operations", "access_rights", "updated"), 0)
    instance = ids.instance()

    def put(model, lookup: dict, values: dict, count: str):
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            counts[count] += 1
            return model.objects.create(**lookup, **values)
        changed = [k for k, v in values.items() if getattr(obj, k) != v]
        for k in changed:
            setattr(obj, k, values[k])
        if changed:
            obj.save(update_fields=changed)
            counts["updated"] += 1
        return obj

    with transaction.atomic():
        for m in document.get("members", []):
            member = put(
                BusMember,
                {"instance": instance, "member_class": m["class"], "code": m["code"]},
                {"name": m["name"], "active": m["active"]},
                "members",
            )
            for s in m["subsystems"]:
                values = {k: s[k] for k in ("name", "local", "base_url", "address_setting", "certificate", "active")}
                subsystem = put(BusSubsystem, {"member": member, "code": s["code"]}, values, "subsystems")
                for v in s["services"]:
                    values = {k: v[k] for k in ("name", "description", "timeout_seconds", "active")}
                    service = put(
                        BusService,
                        {"subsystem": subsystem, "code": v["code"], "version": v["version"]},
                        values,
                        "services",
                    )
                    for o in v["operations"]:
                        values = {k: o[k] for k in ("name", "method", "path", "request_schema", "response_schema")}
                        put(BusOperation, {"service": service, "code": o["code"]}, values, "operations")
        for a in document.get("access", []):
            client = registry._subsystem_by_id(a["client"])
            service = registry.services_by_id(a["service"]).filter(version=a["version"]).first()
            if client is None or service is None:
                raise RegistryDocumentError(
                    f"Quyền gọi {a['client']} → {a['service']} nêu hệ thống hoặc dịch vụ không có."
                )
            operation = None
            if a["operation"] != registry.ALL_OPERATIONS:
                operation = BusOperation.objects.filter(service=service, code=a["operation"]).first()
                if operation is None:
                    raise RegistryDocumentError(f"Quyền gọi nêu thao tác “{a['operation']}” không có.")
            _, made = BusAccessRight.objects.get_or_create(
                client=client,
                service=service,
                operation=operation,
                defaults={"note": a.get("note", ""), "granted_by": actor if getattr(actor, "pk", None) else None},
            )
            counts["access_rights"] += made
        audit.record(
            actor=actor,
            action="bus.registry.import",
            object_type="exchange.BusService",
            after={**counts, "issued_at": document.get("issued_at"), "signer": keys.thumbprint(trusted_cert_pem)},
        )
    registry.invalidate_after_commit()
    return counts

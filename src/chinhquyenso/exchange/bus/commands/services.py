"""`cqs bus services [--json]`: every service on the bus — provider, version, operations, and who
may call what."""

from __future__ import annotations

import json

from chinhquyenso.exchange.bus import registry


def add(actions) -> None:
    parser = actions.add_parser(
        "services", help="Liệt kê dịch vụ trên trục: hệ thống cung cấp, phiên bản, thao tác, ai được gọi gì."
    )
    parser.add_argument("--json", action="store_true", help="In kết quả dạng JSON.")


def rows() -> list[dict]:
    registry.invalidate()  # the registry as it is now, not this process's cached copy
    out = []
    for service in registry.services():
        out.append(
            {
                "service": service.id,
                "name": service.name,
                "version": service.version,
                "provider": service.provider,
                "local": service.local,
                "address": service.address,
                "timeout_seconds": service.timeout,
                "operations": [
                    {"code": op.code, "name": op.name, "method": op.method, "path": op.path}
                    for op in service.operations
                ],
                "access": {client: sorted(codes) for client, codes in sorted(service.access.items())},
            }
        )
    return out


def run(command, options) -> None:
    services = rows()
    if options["json"]:
        command.stdout.write(json.dumps(services, ensure_ascii=False, indent=2))
        return
    if not services:
        command.stdout.write("Chưa có dịch vụ nào đang hoạt động trên trục (nạp danh mục: cqs bus registry load).")
        return
    for service in services:
        where = "chạy trong hệ thống này" if service["local"] else (service["address"] or "chưa cấu hình địa chỉ")
        command.stdout.write(f"{service['service']} ({service['version']}) — {service['name']}")
        command.stdout.write(f"  Hệ thống cung cấp: {service['provider']} ({where})")
        for op in service["operations"]:
            command.stdout.write(f"  • {op['code']}: {op['method']} {op['path']} — {op['name']}")
        if not service["operations"]:
            command.stdout.write("  (chưa có thao tác)")
        if service["access"]:
            for client, codes in service["access"].items():
                allowed = "mọi thao tác" if registry.ALL_OPERATIONS in codes else ", ".join(codes)
                command.stdout.write(f"  Được gọi: {client} — {allowed}")
        else:
            command.stdout.write("  Được gọi: chưa cấp quyền cho hệ thống nào")

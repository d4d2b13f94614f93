"""`cqs bus registry load | export | import`: the bus registry from the shipped files, and as a
signed document (exchange.bus.registry_document)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from chinhquyenso.core.errors import DomainError, os_reason
from chinhquyenso.exchange.bus import registry, registry_document

NAMES = {
    "members": "thành viên",
    "subsystems": "hệ thống",
    "services": "dịch vụ",
    "operations": "thao tác",
    "access_rights": "quyền gọi",
    "updated": "bản ghi cập nhật",
}


def add(actions) -> None:
    parser = actions.add_parser(
        "registry",
        help="Danh mục trục: nạp từ tệp kèm phần mềm (load), xuất (export) và nhập (import) văn bản danh mục có chữ ký.",
    )
    steps = parser.add_subparsers(
        dest="registry_action", metavar="{load,export,import}", required=True, help="Việc cần làm với danh mục:"
    )
    load = steps.add_parser("load", help="Nạp thành viên, dịch vụ, quyền gọi từ các tệp danh mục kèm phần mềm.")
    load.add_argument(
        "--replace",
        action="store_true",
        help="Đưa tên, địa chỉ, đường dẫn, lược đồ của các bản ghi đã có về giá trị trong tệp (mặc định chỉ thêm cái thiếu).",
    )
    export = steps.add_parser("export", help="Xuất toàn bộ danh mục thành văn bản có chữ ký của trục.")
    export.add_argument("file", metavar="TỆP", help="Tệp sẽ ghi văn bản danh mục (- : in ra màn hình).")
    load_doc = steps.add_parser("import", help="Kiểm tra chữ ký rồi nạp văn bản danh mục của một trục tin cậy.")
    load_doc.add_argument("file", metavar="TỆP", help="Tệp văn bản danh mục có chữ ký.")
    load_doc.add_argument(
        "--trust", required=True, metavar="CHỨNG_THƯ", help="Tệp chứng thư (PEM) của trục được tin cậy đã ký văn bản."
    )


def _counts(counts: dict) -> str:
    return ", ".join(f"{counts[key]} {name}" for key, name in NAMES.items())


def run(command, options) -> None:
    action = options["registry_action"]
    try:
        if action == "load":
            counts = registry.load_defaults(replace=options["replace"])
            command.stdout.write(f"Đã nạp danh mục trục từ {registry.REGISTRY_DIR}: thêm {_counts(counts)}.")
        elif action == "export":
            data = registry_document.export()
            if options["file"] == "-":
                command.stdout.write(data.decode(), ending="")
                return
            Path(options["file"]).write_bytes(data)
            command.stdout.write(f"Đã xuất văn bản danh mục có chữ ký vào {options['file']}.")
        else:
            data = Path(options["file"]).read_bytes()
            trusted = Path(options["trust"]).read_text(encoding="utf-8")
            counts = registry_document.verify_and_load(data, trusted)
            command.stdout.write(f"Chữ ký hợp lệ; đã nạp danh mục từ {options['file']}: thêm {_counts(counts)}.")
    except DomainError as error:
        raise CommandError(error.message) from None
    except OSError as error:
        raise CommandError(f"Không đọc, ghi được tệp: {os_reason(error)}.") from None
    except UnicodeDecodeError:
        raise CommandError("Tệp chứng thư phải là văn bản PEM.") from None

"""`cqs report …`: official reports from the command line.

    cqs report build TEMPLATE --period 2024-9M [--agency CODE] --format docx|pdf --out FILE
    cqs report check FILE [--json] [--all] [--text]
    cqs report load-templates [FILE]

Subcommands are argparse subparsers, each with a `handle_<name>` method.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import CommandError

from chinhquyenso.core.errors import DomainError, os_reason
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.reports import checker


class Command(BaseCommand):
    help = (
        "Báo cáo chính thức: dựng báo cáo từ mẫu (build), kiểm tra tỷ lệ và tổng số in trong một báo cáo (check), "
        "nạp mẫu báo cáo (load-templates)."
    )
    requires_system_checks = []  # reads files only; no database, no models

    def add_arguments(self, parser):
        actions = parser.add_subparsers(
            dest="action", metavar="{build,check,load-templates}", required=True, help="Việc cần làm:"
        )
        build = actions.add_parser(
            "build",
            help="Dựng báo cáo (dự thảo) từ mẫu và số liệu hiện có.",
            description="Dựng báo cáo từ một mẫu báo cáo và số liệu của kỳ; phần do cán bộ soạn lấy nội dung mặc định.",
        )
        build.add_argument("template", help="Mã mẫu báo cáo, ví dụ cds-9-thang, cqdt-thang, cds-quy")
        build.add_argument(
            "--period", required=True, help="2024-M03, 2024-Q3, 2024-H1, 2024-9M, 2024 hoặc 2024-01-01..2024-09-30"
        )
        build.add_argument("--agency", default="", help="Mã cơ quan (mặc định: số liệu toàn tỉnh)")
        build.add_argument("--format", choices=["docx", "pdf"], default="pdf", help="Định dạng tệp (mặc định pdf)")
        build.add_argument("--out", required=True, help="Tệp đích")
        load = actions.add_parser("load-templates", help="Nạp các mẫu báo cáo còn thiếu từ tệp JSON.")
        load.add_argument("file", nargs="?", default="", help="Tệp JSON (mặc định: mẫu của hệ thống)")
        check = actions.add_parser(
            "check",
            help="Kiểm tra tỷ lệ và tổng số trong báo cáo (TXT, DOCX hoặc PDF).",
            description="Liệt kê mọi tỷ lệ, tổng số kiểm tra được; mã thoát 1 khi có số liệu sai.",
        )
        check.add_argument("file", help="Tệp báo cáo: .txt, .docx hoặc .pdf")
        check.add_argument("--json", action="store_true", help="In kết quả dạng JSON")
        check.add_argument("--all", action="store_true", help="In cả các số liệu kiểm tra đúng")
        check.add_argument("--text", action="store_true", help="Chỉ in văn bản đã trích ra, đánh số dòng")

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action.replace('-', '_')}")(**options)

    def handle_build(self, *, template, period, agency, format, out, **options):
        from chinhquyenso.reports.services import build

        try:
            data = build(template, period, agency, format)
            Path(out).write_bytes(data)
        except DomainError as error:
            raise CommandError(error.message) from None
        except OSError as error:
            raise CommandError(f"Không ghi được tệp {out}: {os_reason(error)}.") from None
        self.stdout.write(f"Đã ghi {out} ({len(data) // 1024} KB).")

    def handle_load_templates(self, *, file, **options):
        from chinhquyenso.reports.services import DEFAULT_TEMPLATES, load_templates

        self.stdout.write(f"Đã tạo {load_templates(file or DEFAULT_TEMPLATES)} mẫu báo cáo.")

    def handle_check(self, *, file, json: bool = False, all: bool = False, text: bool = False, **options):
        try:
            if text:
                for line in checker.extract_lines(file):
                    self.stdout.write(f"{line.number:>5}  {line.text}")
                return
            report = checker.check_file(file)
        except DomainError as error:
            raise CommandError(error.message, returncode=2) from error
        if json:
            self.stdout.write(_json(report.as_dict()))
        else:
            self.stdout.write(render(report, show_verified=all))
        if report.errors:
            sys.exit(1)


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def render(report: checker.CheckReport, *, show_verified: bool = False) -> str:
    """A plain-text table of the findings, then the counts."""
    lines = [f"Kiểm tra số liệu: {report.source}"]
    if report.errors:
        lines += ["", "Số liệu sai:", *_table(report.errors)]
    if show_verified and report.verified:
        lines += ["", "Số liệu đúng:", *_table(report.verified)]
    lines += ["", f"Kết quả: {len(report.errors)} số liệu sai; {len(report.verified)} số liệu kiểm tra đúng."]
    if not report.errors and not report.verified:
        lines.append("Không tìm thấy tỷ lệ hay tổng số nào kiểm tra được.")
    return "\n".join(lines)


def _table(checks: list[checker.Check]) -> list[str]:
    headers = ("Dòng", "Loại", "In", "Đúng là", "Đoạn trích")
    rows = [(str(item.line), item.label, item.printed, item.expected, _short(item.excerpt)) for item in checks]
    widths = [max(len(header), *(len(row[column]) for row in rows)) for column, header in enumerate(headers)]
    widths[-1] = len(headers[-1])  # the excerpt runs to the end of the line

    def line(values):
        return "  ".join(
            value.ljust(width) if column < len(values) - 1 else value
            for column, (value, width) in enumerate(zip(values, widths))
        ).rstrip()

    out = [line(headers), line(["-" * width for width in widths[:-1]] + ["-" * 10])]
    for item, row in zip(checks, rows):
        out.append(line(row))
        out.append(" " * (sum(widths[:-1]) + 2 * (len(widths) - 1)) + item.note)
    return out


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

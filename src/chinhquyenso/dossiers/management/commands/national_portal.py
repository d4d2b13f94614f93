"""`cqs national-portal catalog [--json]`: the national catalog compared with ours (read-only)."""

import json

from chinhquyenso.core.management.base import BaseCommand, CommandError
from chinhquyenso.core.text import format_number
from chinhquyenso.dossiers import national_sync
from chinhquyenso.exchange.national.base import NationalSystemError


class Command(BaseCommand):
    help = (
        "Cổng Dịch vụ công quốc gia qua trục liên thông: so sánh danh mục thủ tục quốc gia với danh mục "
        "của tỉnh (catalog) — chỉ báo cáo, không sửa danh mục."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="portal_action", metavar="{catalog}", required=True, help="Việc cần làm:")
        catalog = actions.add_parser(
            "catalog",
            help="So sánh danh mục thủ tục trên Cổng Dịch vụ công quốc gia với danh mục của tỉnh: thủ tục "
            "còn thiếu ở mỗi bên, khác tên, thời hạn giải quyết, phí hoặc lệ phí.",
        )
        catalog.add_argument("--json", action="store_true", help="In kết quả dạng JSON (cho máy đọc).")

    def handle(self, *args, portal_action, **options):
        try:
            result = national_sync.compare_catalog()
        except NationalSystemError as error:
            raise CommandError(error.message) from None
        if options.get("json"):
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2, default=str))
            return
        n = lambda value: format_number(value) if isinstance(value, int) else str(value)  # noqa: E731
        out = [
            f"Danh mục quốc gia: {n(result.national_count)} thủ tục; danh mục của tỉnh: {n(result.our_count)} "
            "thủ tục đang áp dụng.",
        ]
        if result.missing_here:
            out.append(f"Có trên Cổng quốc gia, tỉnh chưa có ({n(len(result.missing_here))}):")
            out += [f"  {p['code']}  {p['name']}" for p in result.missing_here]
        if result.missing_there:
            out.append(f"Tỉnh có, Cổng quốc gia không có ({n(len(result.missing_there))}):")
            out += [f"  {p['code']}  {p['name']}" for p in result.missing_there]
        if result.changed:
            out.append(f"Khác nhau ({n(len(result.changed))}):")
            out += [
                f"  {d.code}  {national_sync.FIELD_LABELS[d.field]}: tỉnh “{n(d.ours)}”, quốc gia “{n(d.national)}”"
                for d in result.changed
            ]
        if not (result.missing_here or result.missing_there or result.changed):
            out.append("Hai danh mục khớp nhau.")
        self.stdout.write("\n".join(out))

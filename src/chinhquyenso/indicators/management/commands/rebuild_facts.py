"""`cqs rebuild-facts`: aggregate every dossier again (repair, after restores)."""

from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.core.text import format_number
from chinhquyenso.indicators.services import rebuild_facts


class Command(BaseCommand):
    help = "Tổng hợp lại toàn bộ số liệu hồ sơ dùng cho chỉ tiêu (sau khi khôi phục dữ liệu hoặc để sửa lỗi)."

    def handle(self, *args, **options):
        self.stdout.write(f"Đã tổng hợp {format_number(rebuild_facts())} dòng số liệu.")

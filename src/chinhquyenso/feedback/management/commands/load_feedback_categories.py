"""`cqs load-feedback-categories [FILE]`: create the feedback categories from data."""

from django.core.management.base import CommandError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.feedback.services import DEFAULT_CATEGORIES, load_categories


class Command(BaseCommand):
    help = (
        "Nạp lĩnh vực phản ánh, kiến nghị (cơ quan xử lý, thời hạn, thông tin bổ sung Open311); "
        "lĩnh vực đã có giữ nguyên chỉnh sửa của tỉnh."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            nargs="?",
            default=str(DEFAULT_CATEGORIES),
            help="Tệp JSON (mặc định: danh mục có sẵn của hệ thống).",
        )

    def handle(self, *args, file, **options):
        try:
            result = load_categories(file)
        except (DomainError, OSError, ValueError) as error:
            raise CommandError(getattr(error, "message", str(error))) from None
        self.stdout.write(f"Đã nạp {result['created']} lĩnh vực mới, {result['existing']} lĩnh vực đã có.")
        if result["unresolved_agencies"]:
            self.stdout.write(
                "Chưa có cơ quan (xử lý theo cấp nơi xảy ra): " + ", ".join(result["unresolved_agencies"])
            )

"""`cqs load-assistant [--synonyms FILE] [--faq FILE]`: load the assistant's default data."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from chinhquyenso.assistant import services
from chinhquyenso.core.errors import DomainError, os_reason
from chinhquyenso.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Nạp dữ liệu của trợ lý thủ tục: bảng từ đồng nghĩa (cách người dân hỏi) và câu hỏi thường gặp "
        "của các thủ tục đã có trong danh mục. Chỉ thêm mục còn thiếu; mục cán bộ đã sửa được giữ nguyên."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--synonyms",
            default=str(services.DEFAULT_SYNONYMS),
            metavar="TỆP",
            help="Tệp JSON từ đồng nghĩa (mặc định: bảng có sẵn của hệ thống).",
        )
        parser.add_argument(
            "--faq",
            default=str(services.DEFAULT_FAQ),
            metavar="TỆP",
            help="Tệp JSON có danh sách “faq” (mặc định: câu hỏi thường gặp của danh mục mở rộng).",
        )
        parser.add_argument("--user", help="Tên đăng nhập của người thực hiện, ghi vào nhật ký kiểm toán.")

    def handle(self, *args, synonyms, faq, user=None, **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"Không có người dùng “{user}”.")
        try:
            loaded = services.load_synonyms(synonyms, actor=actor)
            answers = services.load_faq(faq, actor=actor)
        except OSError as exc:
            raise CommandError(f"Không đọc được tệp: {os_reason(exc)}.") from None
        except (DomainError, ValueError) as error:
            raise CommandError(getattr(error, "message", str(error))) from None
        self.stdout.write(f"Từ đồng nghĩa: thêm {loaded['created']}, đã có {loaded['existing']}.")
        line = f"Câu hỏi thường gặp: thêm {answers['created']}, đã có {answers['existing']}"
        if answers["no_procedure"]:
            line += f", bỏ qua {answers['no_procedure']} câu vì thủ tục chưa có trong danh mục"
        self.stdout.write(line + ".")

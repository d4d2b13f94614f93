from django.core.management.base import CommandError

from chinhquyenso.accounts import services
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Mở khoá đăng nhập bị hạn chế do nhập sai nhiều lần: "
        "`cqs unlock-login TÊN_ĐĂNG_NHẬP`, `cqs unlock-login --ip ĐỊA_CHỈ`, hoặc cả hai."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="", help="Tên đăng nhập của tài khoản cần mở khóa.")
        parser.add_argument("--ip", default="", help="Địa chỉ IP bị hạn chế (như trong nhật ký kiểm toán).")

    def handle(self, *args, username, ip, **options):
        try:
            count = services.unlock_login(actor="cqs unlock-login", username=username, ip=ip)
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Đã xoá {count} lần đăng nhập sai; có thể đăng nhập lại ngay.")

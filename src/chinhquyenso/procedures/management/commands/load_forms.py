"""`cqs load-forms`: publish the e-forms (tờ khai điện tử) shipped as data for the catalog's procedures."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.procedures import services


class Command(BaseCommand):
    help = (
        "Nạp tờ khai điện tử (JSON Schema và bố cục) cho các thủ tục có trong danh mục, từ các tệp "
        "procedures/data/forms/*.json hoặc một thư mục khác. Tờ khai đã có mà nội dung đổi thì ban hành "
        "phiên bản mới; nội dung không đổi thì giữ phiên bản cũ."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="Thư mục chứa các tệp tờ khai .json (mặc định: tờ khai đi kèm phần mềm).")
        parser.add_argument("--user", help="Tên đăng nhập của người thực hiện, ghi vào nhật ký kiểm toán.")

    def handle(self, *args, dir=None, user=None, **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"Không có người dùng “{user}”.")
        directory = Path(dir) if dir else None
        if directory is not None and not directory.is_dir():
            raise CommandError(f"Không có thư mục {dir}.")
        try:
            lines = services.load_forms(actor=actor, directory=directory)
        except DomainError as error:
            raise CommandError(f"{error.message} ({error.field})") from error
        for line in lines:
            self.stdout.write(line)

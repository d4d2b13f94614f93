from django.core.management.base import CommandError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.feedback import api_clients
from chinhquyenso.feedback.models import ApiClient


class Command(BaseCommand):
    help = (
        "Mã API cho ứng dụng gửi phản ánh qua Open311: "
        '`cqs open311-client issue "Tên ứng dụng" [--contact ...]`, `list`, `revoke "Tên ứng dụng"`.'
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "subcommand",
            choices=["issue", "list", "revoke"],
            help="issue: cấp mã API mới; list: liệt kê các ứng dụng; revoke: thu hồi mã API.",
        )
        parser.add_argument("name", nargs="?", default="", help="Tên ứng dụng (với issue và revoke).")
        parser.add_argument("--contact", default="", help="Đơn vị phụ trách ứng dụng, địa chỉ liên hệ.")

    def handle(self, *args, subcommand, name, contact, **options):
        try:
            if subcommand == "issue":
                client, key = api_clients.issue(actor=None, name=name, contact=contact)
                self.stdout.write(f"Đã cấp mã API cho «{client.name}» (chỉ hiện một lần, hãy lưu lại):")
                self.stdout.write(key)
            elif subcommand == "revoke":
                client = api_clients.revoke(actor=None, name=name)
                self.stdout.write(f"Đã thu hồi mã API của «{client.name}».")
            else:
                for client in ApiClient.objects.all():
                    state = "đã thu hồi" if client.revoked_at else "đang dùng"
                    self.stdout.write(f"{client.name}\t{api_clients.KEY_PREFIX}{client.key_prefix}…\t{state}")
        except DomainError as error:
            raise CommandError(f"{error.field}: {error.message}" if error.field else error.message)

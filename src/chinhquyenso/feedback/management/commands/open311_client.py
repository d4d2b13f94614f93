from django.core.management.base import BaseCommand, CommandError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.feedback import api_clients
from chinhquyenso.feedback.models import ApiClient


class Command(BaseCommand):
    help = (
        "Mã API cho ứng dụng gửi phản ánh qua Open311: "
        '`cqs open311-client issue "Tên ứng dụng" [--contact ...]`, `list`, `revoke "Tên ứng dụng"`.'
    )

    def add_arguments(self, parser):
        parser.add_argument("subcommand", choices=["issue", "list", "revoke"])
        parser.add_argument("name", nargs="?", default="")
        parser.add_argument("--contact", default="", help="đơn vị phụ trách ứng dụng, địa chỉ liên hệ")

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

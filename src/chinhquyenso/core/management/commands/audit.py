from django.core.management.base import BaseCommand, CommandError

from chinhquyenso.core import audit


class Command(BaseCommand):
    help = "Kiểm tra chuỗi nhật ký kiểm toán: `cqs audit verify`."

    def add_arguments(self, parser):
        parser.add_argument("subcommand", choices=["verify"])

    def handle(self, *args, subcommand, **options):
        ok, message = audit.verify()
        if not ok:
            raise CommandError(message)
        self.stdout.write(self.style.SUCCESS(message))

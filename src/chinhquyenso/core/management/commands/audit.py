from django.core.management.base import CommandError

from chinhquyenso.core import audit
from chinhquyenso.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Nhật ký kiểm toán: `cqs audit verify` kiểm tra chuỗi với các điểm mốc có chữ ký; "
        "`cqs audit checkpoint` ký và ghi một điểm mốc ngay."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "subcommand",
            choices=["verify", "checkpoint"],
            help="verify: kiểm tra chuỗi kiểm toán; checkpoint: ký và ghi một điểm mốc ngay.",
        )

    def handle(self, *args, subcommand, **options):
        if subcommand == "checkpoint":
            try:
                written = audit.checkpoint()
            except audit.ChainBroken as error:
                raise CommandError(error.message) from None
            if not written:
                self.stdout.write("Không có bản ghi kiểm toán mới kể từ điểm mốc trước; không ghi thêm.")
            else:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Đã ký {len(written)} điểm mốc, tới bản ghi số {written[-1].seq}, "
                        f"vào {audit.checkpoint_directory()}."
                    )
                )
            return
        result = audit.verify()
        if not result.ok:
            raise CommandError(result.message)
        self.stdout.write(self.style.SUCCESS(result.message))
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(warning))

"""`cqs sign IN.pdf OUT.pdf --agency CODE [--profile B-B|B-T|B-LT]`: sign a PDF with the agency's key."""

import os
import tempfile
from pathlib import Path

from django.core.management.base import CommandError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.org.selectors import resolve_agency
from chinhquyenso.signing import services


class Command(BaseCommand):
    help = (
        "Ký số một tệp PDF bằng khoá ký số đã cấu hình của cơ quan (PAdES; chữ ký có hình ảnh con dấu "
        "đặt theo Nghị định 30/2020). Tệp kết quả chỉ được ghi khi ký thành công."
    )

    def add_arguments(self, parser):
        parser.add_argument("input", metavar="VÀO.pdf", help="tệp PDF cần ký")
        parser.add_argument("output", metavar="RA.pdf", help="tệp PDF đã ký sẽ được ghi ra (không ghi đè tệp vào)")
        parser.add_argument(
            "--agency", required=True, metavar="MÃ", help="mã định danh điện tử, mã nội bộ hoặc tên cơ quan ký"
        )
        parser.add_argument(
            "--profile",
            choices=list(services.PROFILES),
            default=None,
            help="B-B: không dấu thời gian; B-T: có dấu thời gian (mặc định CQS_SIGNING_DEFAULT_PROFILE); "
            "B-LT: thêm thông tin thu hồi (OCSP/CRL) để kiểm tra lâu dài",
        )
        parser.add_argument("--invisible", action="store_true", help="ký không kèm hình ảnh chữ ký (chữ ký ẩn)")
        parser.add_argument("--reason", default="", metavar="LÝ_DO", help="lý do ký ghi vào chữ ký (tuỳ chọn)")

    def handle(self, *args, input, output, agency, profile, invisible, reason, **options):
        source, target = Path(input), Path(output)
        if source.resolve() == target.resolve():
            raise CommandError("Tệp ra phải khác tệp vào (tệp gốc được giữ nguyên).")
        try:
            data = source.read_bytes()
        except OSError:
            raise CommandError(f"Không đọc được tệp {source}.") from None
        try:
            found = resolve_agency(agency)
            key = services.agency_key(found.pk)
            appearance = None if invisible else services.Appearance(kind="agency")
            signed = services.sign_pdf(data, key=key, profile=profile, appearance=appearance, reason=reason)
        except DomainError as error:
            raise CommandError(error.message) from None
        # Written to a temporary file beside the target, then moved: never a half-written PDF.
        handle, temporary = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", suffix=".pdf.tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(signed)
            os.replace(temporary, target)
        except OSError:
            Path(temporary).unlink(missing_ok=True)
            raise CommandError(f"Không ghi được tệp {target}.") from None
        self.stdout.write(
            self.style.SUCCESS(f"Đã ký {source.name} bằng khoá của {found.name} ({profile or 'mặc định'}): {target}")
        )

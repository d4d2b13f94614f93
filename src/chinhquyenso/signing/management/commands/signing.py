"""`cqs signing demo-pki DIR` and `cqs signing check-key --agency CODE`."""

from pathlib import Path

from django.core.management.base import CommandError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.org.selectors import resolve_agency
from chinhquyenso.signing import pki, services


class Command(BaseCommand):
    help = (
        "Chữ ký số: `cqs signing demo-pki THƯ_MỤC` tạo một PKI thử nghiệm (CA gốc, CA trung gian, TSA, OCSP, "
        "khoá cho các cơ quan) — CHỈ để trình diễn và kiểm thử, không bao giờ dùng khi vận hành thật; "
        "`cqs signing check-key --agency MÃ` mở khoá ký số của cơ quan, in chủ thể và hạn của chứng thư, "
        "ghi dấu vân tay chứng thư."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "subcommand",
            choices=["demo-pki", "check-key"],
            help="demo-pki: tạo PKI thử nghiệm (chỉ để trình diễn, kiểm thử); check-key: kiểm tra khoá ký số của cơ quan",
        )
        parser.add_argument(
            "directory", nargs="?", metavar="THƯ_MỤC", help="demo-pki: thư mục ghi PKI thử nghiệm (tạo nếu chưa có)"
        )
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8790",
            metavar="ĐỊA_CHỈ",
            help="demo-pki: địa chỉ dịch vụ TSA/OCSP/CRL ghi vào chứng thư (mặc định http://127.0.0.1:8790)",
        )
        parser.add_argument(
            "--issue",
            action="append",
            default=[],
            metavar="TÊN",
            help="demo-pki: cấp thêm một chứng thư (tệp .p12) cho chủ thể có tên này; lặp lại được",
        )
        parser.add_argument(
            "--agency", metavar="MÃ", help="check-key: mã định danh điện tử, mã nội bộ hoặc tên cơ quan"
        )

    def handle(self, *args, subcommand, directory, url, issue, agency, **options):
        if subcommand == "demo-pki":
            return self.demo_pki(directory, url, issue)
        if not agency:
            raise CommandError("Cần --agency MÃ (cơ quan có khoá cần kiểm tra).")
        try:
            key = services.agency_key(resolve_agency(agency).pk)
            result = services.check_key(key)
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Chủ thể: {result.subject}")
        self.stdout.write(f"Cấp bởi: {result.issuer}")
        self.stdout.write(f"Hết hạn: {result.not_after:%d/%m/%Y %H:%M} (UTC)")
        self.stdout.write(self.style.SUCCESS(f"Dấu vân tay SHA-256: {result.fingerprint}"))

    def demo_pki(self, directory, url, issue):
        if not directory:
            raise CommandError("Cần THƯ_MỤC để ghi PKI thử nghiệm.")
        target = Path(directory)
        if (target / pki.MANIFEST).exists():
            raise CommandError(f"{target} đã có một PKI thử nghiệm; chọn thư mục khác.")
        built = pki.build_pki(target, base_url=url)
        pki.write_seal_image(target / "seal.png")
        for name in issue:
            issued = built.issue(name, organization=name)
            self.stdout.write(f"Đã cấp chứng thư cho {name}: {issued.p12_path}")
        self.stdout.write(
            self.style.WARNING("PKI THỬ NGHIỆM — chỉ dùng để trình diễn và kiểm thử, không dùng khi vận hành thật.")
        )
        self.stdout.write(f"Chứng thư gốc (CQS_SIGNING_TRUST_ROOTS): {built.root_cert_path}")
        self.stdout.write(f"Mật khẩu các tệp .p12: {built.passphrase}")
        self.stdout.write(
            f"Chạy dịch vụ TSA/OCSP/CRL: python -m chinhquyenso.signing.pki_server --config {target}  "
            f"(CQS_SIGNING_TSA_URL={built.tsa_url})"
        )

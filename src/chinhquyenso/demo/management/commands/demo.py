import logging.config
import os
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command

from chinhquyenso.core import simulators
from chinhquyenso.core.logs import logging_config
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.demo.services import account_lines
from chinhquyenso.org.models import Agency

DEMO_DOSSIERS = 20000
DEMO_LOG = "logs/demo.log"  # under CQS_DATA_DIR


def log_to_file() -> str:
    """Send this process's log lines, and (through CQS_LOG_FILE) the worker's, to the demo's
    log file; the console keeps warnings and errors. An operator's own CQS_LOG_FILE wins."""
    if settings.LOG_FILE:
        return str(settings.LOG_FILE)
    path = settings.DATA_DIR / DEMO_LOG
    os.environ["CQS_LOG_FILE"] = str(path)  # read by the worker's settings
    logging.config.dictConfig(logging_config(path))
    return str(path)


def start_vneid_simulator(out):
    """Sign-in with VNeID in the demo: without CQS_OIDC_* set, the VNeID simulator
    (accounts.oidc_simulator) runs beside the server and the platform is pointed at it."""
    from chinhquyenso.accounts import oidc
    from chinhquyenso.accounts.oidc_simulator import spawn

    if oidc.is_configured():
        return None

    client_id, secret = "cqs-demo", "cqs-demo-" + os.urandom(8).hex()
    try:
        process, url = spawn("--client-id", client_id, "--client-secret", secret)
    except (OSError, RuntimeError):
        out.write("Không chạy được máy mô phỏng VNeID; trang đăng nhập chỉ có tên đăng nhập và mật khẩu.")
        return None
    settings.CQS.update(
        OIDC_DISCOVERY_URL=f"{url}/.well-known/openid-configuration",
        OIDC_CLIENT_ID=client_id,
        OIDC_CLIENT_SECRET=secret,
    )
    out.write(f"VNeID mô phỏng (đăng nhập công dân bằng số định danh bất kỳ gồm 12 chữ số): {url}")
    return process


def start_payment_simulator(out):
    """Online payment in the demo: unless an operator set CQS_PAYMENT_ADAPTER=http, the payment platform
    simulator (payments.simulator) runs beside the server and the platform is pointed at it."""
    if settings.CQS.get("PAYMENT_ADAPTER") == "http":
        return None
    token, secret = "cqs-demo-" + os.urandom(8).hex(), "cqs-demo-" + os.urandom(16).hex()
    try:
        process, url = simulators.spawn(
            "chinhquyenso.payments.simulator", "PAYMENT_SIMULATOR", "--secret", secret, "--token", token
        )
    except (OSError, RuntimeError):
        out.write("Không chạy được máy mô phỏng nền tảng thanh toán; thanh toán trực tuyến dùng bản mô phỏng nội bộ.")
        return None
    settings.CQS.update(PAYMENT_ADAPTER="http", PAYMENT_BASE_URL=url, PAYMENT_TOKEN=token, PAYMENT_SECRET=secret)
    out.write(f"Nền tảng thanh toán mô phỏng (trang thanh toán có nút “Thanh toán” và “Hủy”): {url}")
    return process


class Command(BaseCommand):
    help = "Chạy bản trình diễn: tạo CSDL, dựng tỉnh mẫu nếu CSDL trống, chạy máy chủ web và tiến trình nền."

    def add_arguments(self, parser):
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="Địa chỉ và cổng của máy chủ web (mặc định 127.0.0.1:8000)."
        )
        parser.add_argument(
            "--dossiers",
            type=int,
            default=DEMO_DOSSIERS,
            help=f"Số hồ sơ giả lập khi dựng tỉnh mẫu (mặc định {DEMO_DOSSIERS}).",
        )
        parser.add_argument("--no-server", action="store_true", help="Chỉ chuẩn bị dữ liệu, không chạy máy chủ.")

    def handle(self, *args, addr, dossiers, no_server, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if not Agency.objects.exists():
            self.stdout.write(f"Đang dựng tỉnh mẫu An Giang ({dossiers} hồ sơ)…")
            call_command("seed_demo", dossiers=dossiers)
        else:
            self.stdout.write("CSDL đã có dữ liệu; giữ nguyên.\n" + "\n".join(account_lines()))
        if no_server:
            return
        log_file = log_to_file()
        self.stdout.write(f"Nhật ký chi tiết của máy chủ web và tiến trình nền: {log_file}")
        # The worker's own output (not only its log lines) goes to the file too; its errors stay on screen.
        with open(log_file, "a", encoding="utf-8") as log:
            worker = subprocess.Popen([sys.executable, "-m", "chinhquyenso.cli", "worker"], stdout=log)
        vneid = start_vneid_simulator(self.stdout)
        payment = start_payment_simulator(self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Mở trình duyệt: http://{addr}/   (API: http://{addr}/api/docs)"))
        try:
            call_command("runserver", addr, use_reloader=False, insecure_serving=True)
        finally:
            worker.terminate()
            if vneid is not None:
                vneid.terminate()
            if payment is not None:
                payment.terminate()

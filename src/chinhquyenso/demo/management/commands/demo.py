import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

from chinhquyenso.demo.services import account_lines
from chinhquyenso.org.models import Agency

DEMO_DOSSIERS = 20000


class Command(BaseCommand):
    help = "Chạy bản trình diễn: tạo CSDL, dựng tỉnh mẫu nếu CSDL trống, chạy máy chủ web và tiến trình nền."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--dossiers", type=int, default=DEMO_DOSSIERS)
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
        worker = subprocess.Popen([sys.executable, "-m", "chinhquyenso.cli", "worker"])
        self.stdout.write(self.style.SUCCESS(f"Mở trình duyệt: http://{addr}/   (API: http://{addr}/api/docs)"))
        try:
            call_command("runserver", addr, use_reloader=False, insecure_serving=True)
        finally:
            worker.terminate()

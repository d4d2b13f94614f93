import threading
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from chinhquyenso.core.scheduler import enqueue_due_jobs


class Command(BaseCommand):
    help = "Chạy tác vụ nền (hàng đợi trong cơ sở dữ liệu) và các tác vụ định kỳ (quét hạn xử lý hồ sơ)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Chạy các tác vụ đến hạn một lần rồi dừng.")
        parser.add_argument("--interval", type=float, default=1.0, help="Giây giữa hai lần kiểm tra hàng đợi.")

    def handle(self, *args, batch, interval, **options):
        if batch:
            enqueue_due_jobs()
            call_command("db_worker", batch=True, interval=interval, startup_delay=False, reload=False)
            return
        threading.Thread(target=self._schedule_forever, daemon=True, name="cqs-scheduler").start()
        call_command("db_worker", interval=interval, reload=False)

    def _schedule_forever(self):
        while True:
            try:
                enqueue_due_jobs()
            except Exception:  # keep scheduling after a transient database error
                self.stderr.write("Lỗi khi lập lịch tác vụ định kỳ; thử lại sau 30 giây.")
            finally:
                close_old_connections()
            time.sleep(30)

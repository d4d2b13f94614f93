import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.db import close_old_connections

from chinhquyenso.core.checks import require_ready
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.core.scheduler import enqueue_due_jobs


class Command(BaseCommand):
    help = (
        "Chạy tác vụ nền (hàng đợi trong cơ sở dữ liệu, hoặc Redis khi CQS_TASK_BACKEND=redis) "
        "và các tác vụ định kỳ (quét hạn xử lý hồ sơ)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Chạy các tác vụ đến hạn một lần rồi dừng.")
        parser.add_argument("--interval", type=float, default=1.0, help="Giây giữa hai lần kiểm tra hàng đợi.")

    def handle(self, *args, batch, interval, **options):
        require_ready()  # the worker sends the e-mails: their links need CQS_SITE_URL
        if batch:
            enqueue_due_jobs()
        else:
            threading.Thread(target=self._schedule_forever, daemon=True, name="cqs-scheduler").start()
        if settings.TASK_QUEUE == "redis":
            self._rq_worker(batch)
        else:
            call_command("db_worker", batch=batch, interval=interval, startup_delay=not batch, reload=False)

    def _rq_worker(self, batch: bool):
        import django_rq
        from django_tasks_rq import Job
        from rq.worker import SimpleWorker, Worker

        queues = [django_rq.get_queue(name, job_class=Job) for name in settings.TASKS["default"]["QUEUES"]]
        # A batch run works through the queue in this process; a long-running
        # worker forks a work horse per job, as RQ recommends.
        worker_class = SimpleWorker if batch else Worker
        worker_class(queues, connection=queues[0].connection, job_class=Job).work(burst=batch)

    def _schedule_forever(self):
        while True:
            try:
                enqueue_due_jobs()
            except Exception:  # keep scheduling after a transient database error
                self.stderr.write("Lỗi khi lập lịch tác vụ định kỳ; thử lại sau 30 giây.")
            finally:
                close_old_connections()
            time.sleep(30)

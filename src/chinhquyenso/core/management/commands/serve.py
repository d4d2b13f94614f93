"""`cqs serve`: the production web server (gunicorn) with this platform's
settings, so an installation does not assemble them by hand
(docs/operations.md, "Chạy dịch vụ web")."""

import os
import sys

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections
from django.db.migrations.executor import MigrationExecutor

from chinhquyenso.core.checks import require_ready
from chinhquyenso.core.management.base import BaseCommand

# The request line without its query string (%(U)s is the path only): a query may carry a citizen ID,
# a follow-link token or a search for a name, and logs must hold none of them. No referrer either,
# for the same reason.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


def default_workers() -> int:
    """Gunicorn's rule of thumb, 2 × CPUs + 1, for the CPUs this process may use (a container's share)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 * cpus + 1


def gunicorn_arguments(*, bind, workers, timeout, graceful_timeout, max_requests, forwarded_allow_ips) -> list[str]:
    if forwarded_allow_ips is None:
        # The reverse proxy on this machine, when the installation says there is one (CQS_TRUSTED_PROXIES);
        # otherwise nobody may claim HTTPS through X-Forwarded-Proto.
        forwarded_allow_ips = "127.0.0.1,::1" if settings.CQS.get("TRUSTED_PROXIES", 0) else ""
    args = [f"--bind={address}" for address in bind]
    args += [
        f"--workers={workers}",
        f"--timeout={timeout}",  # a worker stuck this long is killed and replaced
        f"--graceful-timeout={graceful_timeout}",  # SIGHUP/SIGTERM: requests under way get this long to finish
        # Workers are replaced after about this many requests (spread, so they do not all restart at once):
        # a slow leak in any library cannot grow for ever.
        f"--max-requests={max_requests}",
        f"--max-requests-jitter={max(max_requests // 10, 1) if max_requests else 0}",
        "--keep-alive=5",
        # The application is loaded once, in the master: a worker forked on a reload (SIGHUP) or after
        # max-requests answers at once, where one importing Django itself would leave the port without a
        # ready worker for seconds. New code therefore needs a restart, not a reload (docs/operations.md).
        "--preload",
        f"--forwarded-allow-ips={forwarded_allow_ips}",
        # Workers die with their master (post_fork), so a server started right after a `kill -9` binds
        # the port again (with gunicorn's SO_REUSEADDR, sockets left in TIME_WAIT do not stand in the way).
        # No SO_REUSEPORT: a second server started by mistake on the same port would share it silently.
        "--config=python:chinhquyenso.core.gunicorn_conf",
        # No pid file (systemd follows the process itself; a file left by kill -9 blocked the next start)
        # and no control socket (its default path is shared by every instance of the account).
        "--no-control-socket",
        "--access-logfile=-",
        f"--access-logformat={ACCESS_LOG_FORMAT}",
        "--error-logfile=-",
    ]
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        args.append("--worker-tmp-dir=/dev/shm")  # heartbeat files in memory, never a slow or read-only disk
    return args


class Command(BaseCommand):
    help = "Chạy máy chủ web cho môi trường thật (gunicorn), sau khi kiểm tra cấu hình và cơ sở dữ liệu."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            action="append",
            help="Địa chỉ lắng nghe, ví dụ 127.0.0.1:8000 (mặc định) hoặc unix:/run/cqs/web.sock; lặp lại được.",
        )
        parser.add_argument("--workers", type=int, default=default_workers(), help="Số tiến trình (mặc định 2×CPU+1).")
        parser.add_argument("--timeout", type=int, default=60, help="Giây tối đa cho một yêu cầu (mặc định 60).")
        parser.add_argument(
            "--graceful-timeout", type=int, default=30, help="Giây chờ yêu cầu đang chạy khi khởi động lại (30)."
        )
        parser.add_argument(
            "--max-requests", type=int, default=1000, help="Thay tiến trình sau chừng này yêu cầu (1000; 0: không)."
        )
        parser.add_argument(
            "--forwarded-allow-ips",
            help="Địa chỉ reverse proxy được tin (mặc định 127.0.0.1,::1 khi CQS_TRUSTED_PROXIES > 0, nếu không: không ai).",
        )

    def handle(self, *args, bind, workers, timeout, graceful_timeout, max_requests, forwarded_allow_ips, **options):
        require_ready()  # before any worker starts: settings that would send broken links (cqs.E001)
        self._check_migrations()
        arguments = gunicorn_arguments(
            bind=bind or ["127.0.0.1:8000"],
            workers=workers,
            timeout=timeout,
            graceful_timeout=graceful_timeout,
            max_requests=max_requests,
            forwarded_allow_ips=forwarded_allow_ips,
        )
        self.stdout.write(f"cqs serve: gunicorn {' '.join(arguments)}")
        self.stdout.flush()
        connections.close_all()
        # exec: gunicorn's master keeps this process id (systemd's MAINPID, the target of `systemctl reload`).
        os.execv(sys.executable, [sys.executable, "-m", "gunicorn", *arguments, "chinhquyenso.wsgi:application"])

    def _check_migrations(self):
        """Refuse to serve a schema older than the code (every page would fail); start anyway when the
        database is down — the pages then answer 503 until it is back."""
        try:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as error:
            self.stderr.write(f"Chưa kết nối được cơ sở dữ liệu ({type(error).__name__}); vẫn khởi động.")
            return
        if pending:
            raise CommandError(f"Còn {len(pending)} migration chưa chạy: chạy `cqs migrate` trước khi khởi động web.")

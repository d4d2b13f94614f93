import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """The process is alive and answers (no dependency checked): for the supervisor's liveness probe."""
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _storage() -> None:
    """Local storage: its folder (created on the first upload) or the nearest existing parent is
    writable. Object storage: it answers a lookup."""
    location = getattr(default_storage, "location", None)
    if location is not None:
        folder = Path(location)
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not os.access(folder, os.W_OK):
            raise OSError("the file storage folder is not writable")
    default_storage.exists("healthz-probe")


def _queue() -> None:
    if settings.TASK_QUEUE != "redis":
        return _database()  # the task queue is a table of the same database
    import redis

    redis.Redis.from_url(settings.RQ_QUEUES["default"]["URL"], socket_connect_timeout=2, socket_timeout=2).ping()


@never_cache
def readyz(request):
    """Whether this process can serve: database, file storage and task queue
    reachable. 503 with the failing part named (never its error text, which may
    carry addresses) so the load balancer stops sending requests here."""
    checks = {}
    for name, check in (("database", _database), ("storage", _storage), ("queue", _queue)):
        try:
            check()
            checks[name] = "ok"
        except Exception:  # any failure of a dependency means "not ready"
            checks[name] = "unavailable"
    ready = all(state == "ok" for state in checks.values())
    response = JsonResponse({"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = "30"
    return response

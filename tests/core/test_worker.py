"""`cqs worker --batch`: the scheduler enqueues the deadline sweep through
Django's task interface and the worker runs it, on the database queue and on
the Redis queue."""

import os
import signal

import pytest
from django.core.management import call_command

from chinhquyenso.core.models import ScheduledJob
from chinhquyenso.dossiers import services
from chinhquyenso.exchange.models import Message
from tests.conftest import vn

pytestmark = pytest.mark.django_db
PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]


@pytest.fixture
def overdue(birth_procedure, officers, citizen):
    dossier = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        at=vn(2025, 3, 10, 9),
    )
    services.accept(dossier, actor=officers["xa_a"]["counter_officer"], at=vn(2025, 3, 10, 10))  # due 13/3/2025
    return dossier


def assert_leader_was_told(overdue, officers):
    note = Message.objects.get(kind="dossiers.overdue", source_id=str(overdue.pk))
    assert note.user == officers["xa_a"]["leader"]
    assert ScheduledJob.objects.get(name="sweep_deadlines").last_run_at is not None


# The database worker closes its connections between tasks, as a long-running
# process must; so this test commits for real instead of running in a rolled-back transaction.
@pytest.mark.django_db(transaction=True)
def test_batch_worker_runs_the_deadline_sweep_from_the_database_queue(overdue, officers):
    call_command("worker", batch=True)
    assert_leader_was_told(overdue, officers)
    call_command("worker", batch=True)  # the job is not due again yet: nothing is enqueued twice
    assert Message.objects.filter(kind="dossiers.overdue").count() == 1


@pytest.fixture
def redis_queue(settings):
    redis = pytest.importorskip("redis")
    # CQS_TEST_REDIS_URL: another database for a second test run at the same time (.ci/run's PostgreSQL pass).
    url = os.environ.get("CQS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    # Tasks name the "default" queue; the test keeps to its own Redis database and empties it around itself.
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    settings.TASK_QUEUE = "redis"
    settings.RQ_QUEUES = {"default": {"URL": url}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    # RQ's worker, run in this process, takes over SIGTERM and SIGINT and leaves them so: a later SIGTERM
    # (CI stopping this run) would raise StopRequested inside some other test instead of ending the run.
    handlers = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    yield "default"
    for number, handler in handlers.items():
        signal.signal(number, handler)
    connection.flushdb()


def test_batch_worker_runs_the_deadline_sweep_from_the_redis_queue(redis_queue, overdue, officers):
    import django_rq

    call_command("worker", batch=True)
    assert_leader_was_told(overdue, officers)
    assert django_rq.get_queue(redis_queue).count == 0

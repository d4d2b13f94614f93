"""Reminders before an assignment's deadline and overdue notices (in-app, through the outbox), at
most once a day per assignment, whatever how often the job runs; the job is registered."""

import datetime as dt

import pytest

from chinhquyenso.core.registry import JOBS
from chinhquyenso.documents import jobs, selectors
from chinhquyenso.documents.services import incoming as svc
from chinhquyenso.documents.services.incoming import Assignee
from chinhquyenso.exchange.models import Message
from tests.conftest import vn

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(officers, province):
    document = svc.register_incoming(
        officers["huyen"]["clerk"],
        agency=province["huyen"],
        document_type="cong-van",
        excerpt="Đề nghị báo cáo số liệu hạn mặn",
        sender_name="Sở Nông nghiệp",
        at=vn(2025, 3, 7, 9),
    )
    (assignment,) = svc.assign(
        document,
        officers["huyen"]["leader"],
        assignees=[Assignee(user_id=officers["huyen"]["specialist"].pk)],
        deadline=dt.date(2025, 3, 12),
        at=vn(2025, 3, 7, 10),
    )
    return assignment


def notices(kind):
    return list(Message.objects.filter(kind=f"documents.{kind}").order_by("pk"))


def test_reminded_the_working_day_before_and_on_the_day_then_overdue(task, officers):
    person, leader = officers["huyen"]["specialist"], officers["huyen"]["leader"]
    assert jobs.remind(at=vn(2025, 3, 10, 8)) == {"reminded": 0, "escalated": 0}  # due in two working days
    assert jobs.remind(at=vn(2025, 3, 11, 8)) == {"reminded": 1, "escalated": 0}  # due the next working day
    assert jobs.remind(at=vn(2025, 3, 11, 8, 15)) == {"reminded": 0, "escalated": 0}  # once a day
    assert jobs.remind(at=vn(2025, 3, 12, 8)) == {"reminded": 1, "escalated": 0}  # due today
    (first, second) = notices("due_soon")
    assert first.user_id == second.user_id == person.pk and first.channel == "in_app"
    assert "đến hạn xử lý ngày 12/03/2025" in first.body and first.agency_id == task.document.agency_id
    # Overdue: the assignee and the leader who assigned it; the count of working days late.
    assert jobs.remind(at=vn(2025, 3, 13, 8)) == {"reminded": 0, "escalated": 2}
    assert {m.user_id for m in notices("overdue")} == {person.pk, leader.pk}
    assert "quá hạn xử lý từ ngày 12/03/2025 (1 ngày làm việc)" in notices("overdue")[0].body
    assert jobs.remind(at=vn(2025, 3, 13, 16)) == {"reminded": 0, "escalated": 0}
    # Thursday, Friday, Monday: the weekend counts no working day
    assert jobs.remind(at=vn(2025, 3, 17, 8)) == {"reminded": 0, "escalated": 2}
    assert "(3 ngày làm việc)" in notices("overdue")[-1].body
    # Overdue lists: the assignee's and the leader's; not a colleague's.
    assert list(selectors.overdue(person, today=dt.date(2025, 3, 13))) == [task]
    assert list(selectors.overdue(leader, today=dt.date(2025, 3, 13))) == [task]
    assert list(selectors.overdue(officers["huyen"]["clerk"], today=dt.date(2025, 3, 13))) == []
    assert list(selectors.overdue(person, today=dt.date(2025, 3, 12))) == []
    # Once done, nobody is reminded.
    svc.complete(task, person, result_note="Đã báo cáo.", at=vn(2025, 3, 17, 9))
    assert jobs.remind(at=vn(2025, 3, 18, 8)) == {"reminded": 0, "escalated": 0}
    assert list(selectors.overdue(person, today=dt.date(2025, 3, 18))) == []


def test_a_rolled_back_run_sends_nothing_and_the_next_run_does(task, monkeypatch):
    from chinhquyenso.exchange import outbox

    def broken(messages):
        raise RuntimeError("database went away")

    monkeypatch.setattr(outbox, "enqueue_many", broken)
    with pytest.raises(RuntimeError):
        jobs.remind(at=vn(2025, 3, 11, 8))
    monkeypatch.undo()
    task.refresh_from_db()
    assert task.last_reminded_on is None and not notices("due_soon")
    assert jobs.remind(at=vn(2025, 3, 11, 9)) == {"reminded": 1, "escalated": 0}


def test_the_jobs_are_registered():
    assert JOBS.get("document_reminders").task == "chinhquyenso.documents.jobs.send_reminders"
    assert JOBS.get("document_text_index").task == "chinhquyenso.documents.jobs.index_texts"


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_remind_once(officers, province):
    """Four workers run the job at the same moment: each assignment is reminded once."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the test database on SQLite is in memory and shared between threads only with table locks")
    import threading

    for n in range(5):
        document = svc.register_incoming(
            officers["huyen"]["clerk"],
            agency=province["huyen"],
            document_type="cong-van",
            excerpt=f"Văn bản {n}",
            sender_name="Sở Nội vụ",
            at=vn(2025, 3, 7, 9),
        )
        svc.assign(
            document,
            officers["huyen"]["leader"],
            assignees=[Assignee(user_id=officers["huyen"]["specialist"].pk)],
            deadline=dt.date(2025, 3, 10),
            at=vn(2025, 3, 7, 10),
        )
    results, errors = [], []

    def worker():
        try:
            results.append(jobs.remind(at=vn(2025, 3, 11, 8)))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r["escalated"] for r in results) == 10  # 5 assignments × (assignee + leader)
    assert Message.objects.filter(kind="documents.overdue").count() == 10

"""The one write path (core.workflow): keys per caller, one transaction per
action, and several clients at once on PostgreSQL."""

import threading

import pytest
from django.db import connection, transaction

from chinhquyenso.accounts import services as accounts
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.models import AuditRecord, DomainEvent
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier, DossierEvent, Status
from tests.conftest import new_citizen_id, vn

pytestmark = pytest.mark.django_db
PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]


def at_counter(officer, key: str, name: str = "Trần Văn Bình", identity: str = "089099000001"):
    return services.submit(
        actor=officer,
        procedure_code="1.001193",
        channel="counter",
        agency_code="xa-kien-an",
        applicant={"full_name": name, "identity_number": identity},
        components=PAPER,
        idempotency_key=key,
        at=vn(2025, 3, 10, 9),
    )


def second_counter_officer(province):
    from chinhquyenso.accounts.models import Role

    return accounts.create_officer(
        actor=None,
        username="mot-cua-2",
        password="Mat-khau-2025",
        full_name="Cán bộ một cửa thứ hai",
        memberships=[(province["xa_a"], Role.COUNTER_OFFICER)],
    )


def test_a_key_belongs_to_its_caller(birth_procedure, officers, province):
    first_officer, other_officer = officers["xa_a"]["counter_officer"], second_counter_officer(province)
    first = at_counter(first_officer, "phieu-1")
    again = at_counter(first_officer, "phieu-1")
    assert again.pk == first.pk and again.replayed
    # Another caller's identical key is another request: it neither collides with nor reads the first.
    other = at_counter(other_officer, "phieu-1", name="Lê Thị Cúc", identity="089099000002")
    assert other.pk != first.pk and not getattr(other, "replayed", False)
    with pytest.raises(DomainError) as reused:
        at_counter(first_officer, "phieu-1", name="Người khác")
    assert reused.value.status_code == 409


def test_an_action_is_one_transaction(birth_procedure, officers, monkeypatch):
    dossier = at_counter(officers["xa_a"]["counter_officer"], "")
    before = (DossierEvent.objects.count(), AuditRecord.objects.count(), DomainEvent.objects.count())

    def broken_publish(name, **payload):
        raise RuntimeError("the event store is down")

    monkeypatch.setattr("chinhquyenso.core.events.publish", broken_publish)
    with pytest.raises(RuntimeError):
        services.accept(dossier, actor=officers["xa_a"]["counter_officer"], at=vn(2025, 3, 10, 10))
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED  # nothing of the action stayed
    assert (DossierEvent.objects.count(), AuditRecord.objects.count(), DomainEvent.objects.count()) == before


def test_read_only_accounts_and_other_agencies_are_refused(birth_procedure, officers, province):
    from chinhquyenso.accounts.models import GlobalRole

    dossier = at_counter(officers["xa_a"]["counter_officer"], "")
    auditor = accounts.create_officer(
        actor=None, username="kiem-tra", password="Mat-khau-2025", full_name="Kiểm tra", global_role=GlobalRole.AUDITOR
    )
    for actor in (auditor, officers["xa_b"]["counter_officer"]):
        with pytest.raises(PermissionDenied):
            services.accept(dossier, actor=actor, at=vn(2025, 3, 10, 10))


def run_at_once(count, work):
    """`count` threads, each with its own database connection, start `work(i)` together."""
    if connection.vendor != "postgresql":
        pytest.skip("several clients at once: PostgreSQL (the SQLite test database is in memory)")
    barrier, results = threading.Barrier(count), [None] * count

    def client(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_the_same_form_sent_by_several_clients_at_once_makes_one_dossier(birth_procedure, officers):
    officer = officers["xa_a"]["counter_officer"]
    results = run_at_once(6, lambda i: at_counter(officer, "gui-lai-6-lan"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1
    assert Dossier.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_officers_deciding_on_one_dossier_at_once_one_wins(birth_procedure, officers, province):
    first_officer = officers["xa_a"]["counter_officer"]
    other_officer = second_counter_officer(province)
    dossier = at_counter(first_officer, "")
    actors = [first_officer, other_officer]

    def decide(i):
        if i == 0:
            return services.accept(dossier, actor=actors[0], at=vn(2025, 3, 10, 10))
        return services.refuse(dossier, actor=actors[1], reason="Thiếu giấy tờ", at=vn(2025, 3, 10, 10))

    results = run_at_once(2, decide)
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1 and isinstance(failures[0], DomainError), results  # the row lock serialized them
    dossier.refresh_from_db()
    assert dossier.status in (Status.IN_PROCESS, Status.REFUSED)
    assert DossierEvent.objects.filter(dossier=dossier).exclude(action="submit").count() == 1


@pytest.mark.django_db(transaction=True)
def test_many_submissions_at_once_get_distinct_codes(birth_procedure, officers):
    officer = officers["xa_a"]["counter_officer"]
    results = run_at_once(8, lambda i: at_counter(officer, f"k{i}", identity=new_citizen_id()))
    assert not [r for r in results if isinstance(r, Exception)], results
    codes = [r.code for r in results]
    assert len(set(codes)) == 8 and sorted(int(c.rsplit("-", 1)[1]) for c in codes) == list(range(1, 9))
    with transaction.atomic():
        assert AuditRecord.objects.filter(action="dossier.submit").count() == 8


@pytest.mark.django_db(transaction=True)
def test_counter_and_online_submissions_at_once_never_deadlock(birth_procedure, officers, citizen):
    """A walk-in's new account is audited and an online dossier is not: both take the code counter
    before the audit head (the documented lock order), so mixing them cannot deadlock."""
    officer = officers["xa_a"]["counter_officer"]

    def client(round_, i):
        if i % 2:
            return at_counter(officer, f"quay-{round_}-{i}", identity=new_citizen_id())
        return services.submit(
            actor=citizen,
            procedure_code="1.001193",
            channel="online",
            agency_code="xa-kien-an",
            components=PAPER,
            idempotency_key=f"mang-{round_}-{i}",
            at=vn(2025, 3, 10, 9),
        )

    for round_ in range(3):
        results = run_at_once(6, lambda i, round_=round_: client(round_, i))
        assert not [r for r in results if isinstance(r, Exception)], results
    assert Dossier.objects.count() == 18


@pytest.mark.django_db(transaction=True)
def test_two_counters_receiving_the_same_new_citizen_at_once_make_one_account(
    birth_procedure, officers, province, caplog
):
    from chinhquyenso.accounts.models import User

    officers_ = [officers["xa_a"]["counter_officer"], second_counter_officer(province)]
    results = run_at_once(2, lambda i: at_counter(officers_[i], f"cung-nguoi-{i}", identity="089099000777"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert "089099000777" not in caplog.text  # the ID number never reaches the server log
    assert User.objects.filter(identity_number="089099000777").count() == 1
    assert {r.applicant_id for r in results} == {User.objects.get(identity_number="089099000777").pk}


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_victim_is_run_again_and_both_writers_finish(db):
    """Two transactions lock two counters in opposite orders: PostgreSQL rolls one back as a
    deadlock victim, and atomic_retrying runs it again instead of answering a 500."""
    from chinhquyenso.core.codes import next_number
    from chinhquyenso.core.models import CodeCounter
    from chinhquyenso.core.workflow import atomic_retrying

    with transaction.atomic():
        next_number("deadlock:a"), next_number("deadlock:b")
    both_hold_one = threading.Barrier(2)
    runs = [0, 0]

    def opposite_orders(i):
        first, second = ("deadlock:a", "deadlock:b") if i == 0 else ("deadlock:b", "deadlock:a")

        def body():
            runs[i] += 1
            next_number(first)
            if runs[i] == 1:  # only the first attempts meet: a retry finds the other one gone
                both_hold_one.wait(timeout=10)
            return next_number(second)

        return atomic_retrying(body)

    results = run_at_once(2, opposite_orders)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(runs) == [1, 2]  # one victim, run once more
    assert set(CodeCounter.objects.filter(key__startswith="deadlock:").values_list("value", flat=True)) == {3}

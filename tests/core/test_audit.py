import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from chinhquyenso.core import audit
from chinhquyenso.core.models import AuditHead, AuditRecord

pytestmark = pytest.mark.django_db


def _write(n):
    for i in range(n):
        with transaction.atomic():
            audit.record(actor=None, action="test.change", object_type="x", object_id=i, after={"i": i})


def test_intact_chain_verifies():
    _write(5)
    ok, message, _ = audit.verify()
    assert ok, message
    call_command("audit", "verify")


def test_altered_record_is_named():
    _write(5)
    AuditRecord.objects.filter(seq=3).update(after={"i": 999})
    ok, message, _ = audit.verify()
    assert not ok and "số 3" in message
    with pytest.raises(CommandError, match="số 3"):
        call_command("audit", "verify")


def test_deleted_record_is_named():
    _write(5)
    AuditRecord.objects.filter(seq=2).delete()
    ok, message, _ = audit.verify()
    assert not ok and "số 2" in message


def test_deleting_the_newest_records_is_detected():
    _write(5)
    AuditRecord.objects.filter(seq__gte=4).delete()
    ok, message, _ = audit.verify()
    assert not ok and "số 4" in message


def test_rehashed_forgery_breaks_the_next_link():
    _write(4)
    forged = AuditRecord.objects.get(seq=2)
    forged.after = {"i": 42}
    forged.hash = audit._digest(forged)
    forged.save()
    ok, message, _ = audit.verify()
    # Without a checkpoint either record 2 was re-hashed or record 3 forged: both are named
    # (tests/core/test_audit_checkpoints.py: a checkpoint tells them apart).
    assert not ok and "số 3 không nối với bản ghi số 2" in message and "bản ghi số 2 đã bị sửa" in message


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        audit.record(actor=None, action="x", object_type="x", object_id=1)
    assert not AuditHead.objects.exists()


def test_a_time_given_in_vietnam_time_verifies_as_read_back(db):
    from tests.conftest import vn

    with transaction.atomic():
        audit.record(actor=None, action="test.change", object_type="x", object_id=1, at=vn(2025, 3, 10, 9))
    ok, message, _ = audit.verify()
    assert ok, message


def test_a_citizen_is_shown_by_account_number_never_by_id_number(citizen):
    with transaction.atomic():
        entry = audit.record(actor=citizen, action="test.change", object_type="x", object_id=1)
    assert entry.actor_label == f"công dân #{citizen.pk}"
    assert citizen.identity_number not in entry.actor_label

"""Identification requests written at once by several clients (threads, each with its own connection) on
PostgreSQL: a form sent twice at the same moment (a double tap on a slow network) makes one request;
two experts confirming the same photo at once write one label change, one audit record and tell the
farmer once."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import Role
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.exchange.models import Message
from chinhquyenso.pests.models import Identification, IdentificationPhoto
from chinhquyenso.pests.services import identification as service
from tests.pests import identify_fixtures
from tests.pests.conftest import PASSWORD, grant_pests
from tests.pests.onnx_models import photo

tiny_model = identify_fixtures.tiny_model  # fixtures shared by the identification tests
expert = identify_fixtures.expert

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip(
            "several connections at once need PostgreSQL (SQLite's test database is in memory, one writer); "
            "run with DATABASE_URL=postgres://…"
        )


def at_once(work, count: int) -> tuple[list, list]:
    barrier, results, errors, lock = threading.Barrier(count), [], [], threading.Lock()

    def client(index):
        try:
            barrier.wait()
            result = work(index)
            with lock:
                results.append(result)
        except Exception as error:  # noqa: BLE001 — the caller asserts on them
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_a_form_sent_twice_at_once_is_one_request(pest_catalog, tiny_model):
    client_id = uuid.uuid4()
    photos = [photo("red"), photo("blue")]
    results, errors = at_once(lambda _: service.submit(photos=photos, client_id=client_id).pk, 4)
    assert not errors, errors
    assert len(set(results)) == 1
    assert Identification.objects.count() == 1 and IdentificationPhoto.objects.count() == 2


def test_two_experts_confirming_at_once_change_it_once(pest_catalog, tiny_model, expert, pest_area, admin_user):
    second = accounts.create_officer(
        actor=admin_user,
        username="chuyengia.2",
        password=PASSWORD,
        full_name="Chuyên Gia Hai",
        memberships=[(pest_area.subdepartment, Role.SPECIALIST)],
    )
    grant_pests(second, "confirm_identification")
    identification = service.submit(photos=[photo("purple")], phone="0912345678")
    only = identification.photos.get()
    experts = [expert, second]

    def confirm(index):
        fresh = Identification.objects.get(pk=identification.pk)
        return service.confirm(actor=experts[index], identification=fresh, labels={only.pk: "ray-nau"}).status

    results, errors = at_once(confirm, 2)
    assert not errors, errors
    assert results == ["confirmed", "confirmed"]
    assert AuditRecord.objects.filter(action="pests.identify.confirm").count() == 1
    assert Message.objects.filter(kind="pests.identify.answer").count() == 1
    assert Identification.objects.get(pk=identification.pk).phone == ""

"""Datasets written at once by several clients (threads, each with its own connection) on PostgreSQL:
8 publishers creating datasets with the same title all succeed, under 8 names; two leaders approving
the same dataset at once publish it once (one approve step, one version, one audit record)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import Role
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.opendata.models import Dataset, DatasetVersion
from chinhquyenso.opendata.services import datasets

CLIENTS = 8

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("licences_and_themes")]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip(
            "several connections at once need PostgreSQL (SQLite's test database is in memory, one writer); "
            "run with DATABASE_URL=postgres://…"
        )


def at_once(work, count: int) -> tuple[list, list]:
    """Run work(i) in `count` threads released together; (results, errors)."""
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


def test_eight_publishers_with_the_same_title_get_eight_names(province, officers):
    officer, agency = officers["tu_phap"]["specialist"], province["tu_phap"]

    def create(_):
        return datasets.create_dataset(actor=officer, agency=agency, fields={"title": "Danh sách trường học"}).name

    names, errors = at_once(create, CLIENTS)
    assert not errors, errors
    expected = ["danh-sach-truong-hoc"] + [f"danh-sach-truong-hoc-{n}" for n in range(2, CLIENTS + 1)]
    assert sorted(names) == sorted(expected)
    assert Dataset.objects.count() == CLIENTS
    assert DatasetVersion.objects.filter(action="create").count() == CLIENTS


def test_two_leaders_approving_at_once_publish_once(province, officers):
    agency = province["tu_phap"]
    second = accounts.create_officer(
        actor=None,
        username="lanh-dao-2",
        password="Mat-khau-2025",
        full_name="Lãnh đạo",
        memberships=[(agency, Role.LEADER)],
    )
    leaders = [officers["tu_phap"]["leader"], second]
    dataset = datasets.create_dataset(
        actor=officers["tu_phap"]["specialist"], agency=agency, fields={"title": "Hộ tịch"}, submit=True
    )

    def approve(index):
        return datasets.approve(Dataset.objects.get(pk=dataset.pk), actor=leaders[index]).status

    statuses, errors = at_once(approve, 2)
    assert statuses == ["public"]
    assert len(errors) == 1 and isinstance(errors[0], DomainError) and errors[0].field == "status"
    assert DatasetVersion.objects.filter(dataset_id=dataset.pk, action="approve").count() == 1
    assert AuditRecord.objects.filter(action="opendata.approve").count() == 1
    dataset.refresh_from_db()
    assert dataset.revision == 3

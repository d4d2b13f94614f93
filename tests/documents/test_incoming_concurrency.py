"""Arrival numbers under concurrency: eight clerks registering at once get distinct numbers with no
gap (PostgreSQL; the in-memory SQLite test database is shared between threads only with table locks)."""

import threading

import pytest
from django.db import connection

from chinhquyenso.documents.models import Document
from chinhquyenso.documents.services import incoming as svc
from tests.conftest import vn


@pytest.mark.django_db(transaction=True)
def test_eight_clerks_at_once(officers, province, admin_user):
    if connection.vendor != "postgresql":
        pytest.skip("the test database on SQLite is in memory and shared between threads only with table locks")
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import Role

    clerks = [
        accounts.create_officer(
            actor=admin_user,
            username=f"van.thu.{i}",
            password="Mat-khau-2025",
            full_name=f"Văn thư {i}",
            memberships=[(province["ubnd"], Role.CLERK)],
        )
        for i in range(8)
    ]
    errors = []

    def clerk(user):
        try:
            for n in range(5):
                svc.register_incoming(
                    user,
                    agency=province["ubnd"],
                    document_type="cong-van",
                    excerpt=f"Văn bản {user.pk}-{n}",
                    sender_name="Sở Nội vụ",
                    at=vn(2025, 3, 7, 9),
                )
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=clerk, args=(user,)) for user in clerks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(Document.objects.values_list("arrival_number", flat=True))
    assert numbers == list(range(1, 41))

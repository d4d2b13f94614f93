"""Two officers attaching the same dossier's result at once (a double click, two tabs): both may sign
— outside any transaction — but the locked row lets one issue; the other is refused and its signed
copy is never stored against the dossier. PostgreSQL only (threads need their own connections)."""

from __future__ import annotations

import pytest

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import EDataItem, ElectronicResult
from tests.conftest import vn
from tests.core.test_workflow import run_at_once
from tests.dossiers.test_signed_results import PAPER, make_pdf


@pytest.mark.django_db(transaction=True)
def test_two_attaches_at_once_issue_one_signed_result(
    birth_procedure, officers, province, citizen, pki_services, signing_keys, settings
):
    settings.CQS = {**settings.CQS, "RESULTS_REQUIRE_SIGNATURE": True}
    signing_keys.for_agency(province["xa_a"])
    xa = officers["xa_a"]
    dossier = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        at=vn(2025, 3, 10, 9),
    )
    services.accept(dossier, actor=xa["counter_officer"], at=vn(2025, 3, 10, 10))
    services.forward(dossier, actor=xa["specialist"], at=vn(2025, 3, 11, 9))
    services.forward(dossier, actor=xa["leader"], at=vn(2025, 3, 11, 10))
    actors = [xa["counter_officer"], xa["leader"]]
    uploads = [store_upload(make_pdf(f"Ket qua {i}"), original_name="kq.pdf", user=actors[i]) for i in range(2)]

    outcomes = run_at_once(
        2, lambda i: services.attach_result(dossier, actor=actors[i], file=uploads[i], number=f"{i + 1}/GKS")
    )
    issued = [o for o in outcomes if isinstance(o, ElectronicResult)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(issued) == 1 and len(refused) == 1, outcomes
    assert "đã có kết quả điện tử" in refused[0].message
    assert ElectronicResult.objects.filter(dossier=dossier).count() == 1
    assert EDataItem.objects.filter(owner=citizen).count() == 1
    assert ElectronicResult.objects.get(dossier=dossier).signed

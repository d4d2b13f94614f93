"""Datasets shared by several test packages (registered in tests/conftest.py)."""

import datetime as dt

import pytest

from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier
from chinhquyenso.org import services as org
from chinhquyenso.org.models import AgencyKind
from tests.conftest import make_procedure, vn

PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]


def finish(dossier, o, *, at):
    services.forward(dossier, actor=o["specialist"], at=at)
    services.forward(dossier, actor=o["leader"], at=at + dt.timedelta(minutes=30))


@pytest.fixture
def quarter(registry, province, officers, birth_procedure, citizen, admin_user):
    """Q1/2025. Working days: Tết holidays 25/1–2/2/2025."""
    info = make_procedure(
        admin_user,
        [province["tu_phap"]],
        code="2.000908",
        name="Cấp bản sao trích lục hộ tịch",
        levels=["province"],
        service_level="info_only",
        processing_days=1,
        charge=0,
        online_discount_percent=0,
        components=[{"name": "Tờ khai cấp bản sao trích lục"}],
        steps=[{"name": "Thụ lý", "role": "specialist", "days": 1}],
    )
    a, b, tp = officers["xa_a"], officers["xa_b"], officers["tu_phap"]
    d = {}
    # D1 xã Kiến An, online, early; paid online.
    d[1] = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        at=vn(2025, 1, 6, 8),
    )
    services.accept(d[1], actor=a["counter_officer"], at=vn(2025, 1, 6, 9))
    services.record_payment(
        d[1],
        actor=citizen,
        amount=d[1].fee_due,
        method="online",
        transaction_ref="PAY-1",
        at=vn(2025, 1, 6, 9, 30),
        confirmed_by_gateway=True,
    )
    finish(d[1], a, at=vn(2025, 1, 7, 9))
    # D2 xã Kiến An, counter: paused one day for a supplement, then late even so.
    d[2] = services.receive_at_counter(
        actor=a["counter_officer"],
        procedure_code="1.001193",
        agency_code="xa-kien-an",
        applicant={"identity_number": citizen.identity_number, "full_name": citizen.full_name},
        components=PAPER,
        decision="accept",
        at=vn(2025, 1, 8, 9),
    )
    services.request_supplement(
        d[2], actor=a["specialist"], items=["Bản sao giấy chứng sinh rõ nét"], at=vn(2025, 1, 9, 9)
    )
    services.supplement(d[2], actor=a["counter_officer"], at=vn(2025, 1, 10, 9))
    finish(d[2], a, at=vn(2025, 1, 22, 9))
    # D3 xã Kiến An, online, accepted and still open at the end of March: overdue.
    d[3] = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        at=vn(2025, 2, 10, 8),
    )
    services.accept(d[3], actor=a["counter_officer"], at=vn(2025, 2, 10, 9))
    # D4 xã Kiến Thành, by post, on time (finished on its due day).
    d[4] = services.submit(
        actor=b["counter_officer"],
        procedure_code="1.001193",
        channel="post",
        agency_code="xa-kien-thanh",
        applicant={"identity_number": citizen.identity_number, "full_name": citizen.full_name},
        components=PAPER,
        at=vn(2025, 1, 13, 8),
    )
    services.accept(d[4], actor=b["counter_officer"], at=vn(2025, 1, 13, 9))
    finish(d[4], b, at=vn(2025, 1, 16, 9))
    # The two communes merge on 15/02/2025.
    merged = org.merge(
        actor=admin_user,
        sources=[province["xa_a"], province["xa_b"]],
        name="UBND xã Kiến An mới",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=province["huyen"],
        effective_date=dt.date(2025, 2, 15),
    )
    # D5 received by the merged commune, online, early.
    d[5] = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code=merged.code,
        components=PAPER,
        at=vn(2025, 3, 3, 8),
    )
    services.accept(d[5], actor=a["counter_officer"], at=vn(2025, 3, 3, 9))  # officers moved to the merged commune
    finish(d[5], a, at=vn(2025, 3, 4, 9))
    # D6 Sở Tư pháp, information-only procedure at the counter, late.
    d[6] = services.receive_at_counter(
        actor=tp["counter_officer"],
        procedure_code="2.000908",
        agency_code="so-tu-phap",
        applicant={"identity_number": citizen.identity_number, "full_name": citizen.full_name},
        components=[{"order": 1, "on_paper": True}],
        decision="accept",
        at=vn(2025, 3, 10, 9),
    )
    services.forward(d[6], actor=tp["specialist"], at=vn(2025, 3, 14, 9))
    d = {k: Dossier.objects.get(pk=v.pk) for k, v in d.items()}
    return {"dossiers": d, "merged": merged, "info": info}

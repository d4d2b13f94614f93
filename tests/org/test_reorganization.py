"""Reorganizations keep history: closed dossiers keep their agency, open ones
follow the successor, and past-period figures do not change."""

import datetime as dt

import pytest
from django.db.models import Count

from chinhquyenso.accounts.selectors import agency_ids
from chinhquyenso.core.errors import DomainError
from chinhquyenso.dossiers import selectors, services
from chinhquyenso.dossiers.models import Dossier, Status
from chinhquyenso.org import services as org
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.org.selectors import current_successor
from chinhquyenso.procedures.selectors import handling_agencies
from chinhquyenso.procedures.services import transfer_procedure
from tests.conftest import make_procedure, vn

pytestmark = pytest.mark.django_db
PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]


def received_by_agency(start, end):
    """What a report for a past period reads: dossiers received, per receiving agency."""
    rows = (
        Dossier.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
        .values("receiving_agency__name", "status")
        .annotate(n=Count("id"))
        .order_by("receiving_agency__name", "status")
    )
    return [(r["receiving_agency__name"], r["status"], r["n"]) for r in rows]


@pytest.fixture
def history(birth_procedure, officers, citizen):
    """Two dossiers in each commune: one returned in 2024, one still open."""
    made = {}
    for key, code in (("xa_a", "xa-kien-an"), ("xa_b", "xa-kien-thanh")):
        o = officers[key]
        done = services.submit(
            actor=citizen,
            procedure_code="1.001193",
            channel="online",
            agency_code=code,
            components=PAPER,
            at=vn(2024, 5, 6, 9),
        )
        services.accept(done, actor=o["counter_officer"], at=vn(2024, 5, 6, 10))
        services.forward(done, actor=o["specialist"], at=vn(2024, 5, 7, 10))
        services.forward(done, actor=o["leader"], at=vn(2024, 5, 8, 10))
        services.record_payment(
            done,
            actor=citizen,
            amount=done.fee_due,
            method="online",
            transaction_ref=f"T-{key}",
            confirmed_by_gateway=True,
        )
        services.return_result(done, actor=o["counter_officer"], delivery="counter", at=vn(2024, 5, 8, 11))
        open_ = services.submit(
            actor=citizen,
            procedure_code="1.001193",
            channel="online",
            agency_code=code,
            components=PAPER,
            at=vn(2024, 6, 3, 9),
        )
        services.accept(open_, actor=o["counter_officer"], at=vn(2024, 6, 3, 10))
        made[key] = (done, open_)
    return made


def test_merge_moves_open_work_and_keeps_past_figures(
    province, officers, history, admin_user, birth_procedure, citizen
):
    before = received_by_agency(vn(2024, 1, 1), vn(2025, 1, 1))
    merged = org.merge(
        actor=admin_user,
        sources=[province["xa_a"], province["xa_b"]],
        name="UBND xã Kiến An mới",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=province["huyen"],
        effective_date=dt.date(2025, 7, 1),
        electronic_code="000.07.01.H01",
        legal_basis="Nghị quyết 1654/NQ-UBTVQH15",
    )
    assert received_by_agency(vn(2024, 1, 1), vn(2025, 1, 1)) == before
    for key in ("xa_a", "xa_b"):
        done, open_ = (Dossier.objects.get(pk=d.pk) for d in history[key])
        assert done.current_agency == province[key] and done.receiving_agency == province[key]
        assert open_.current_agency == merged and open_.receiving_agency == province[key]
        assert open_.events.filter(action="reassign", to_agency=merged).exists()
        assert Agency.objects.get(pk=province[key].pk).valid_to == dt.date(2025, 7, 1)
    # the officers now work in the merged commune and can finish the open work
    specialist = officers["xa_a"]["specialist"]
    assert agency_ids(specialist) == {merged.pk}
    open_b = history["xa_b"][1]
    services.forward(open_b, actor=specialist, at=vn(2025, 7, 2, 9))
    leader = officers["xa_b"]["leader"]
    services.forward(open_b, actor=leader, at=vn(2025, 7, 2, 10))
    open_b.refresh_from_db()
    assert open_b.status == Status.RESULT_READY and open_b.current_agency == merged
    # history stays visible to the successor's officers
    assert selectors.visible_dossiers(specialist).filter(pk=history["xa_b"][0].pk).exists()
    assert current_successor(province["xa_b"]) == merged

    # the merged commune handles the procedure from the effective date, so citizens can keep submitting
    assert set(handling_agencies(birth_procedure, dt.date(2025, 6, 30))) == {province["xa_a"], province["xa_b"]}
    assert list(handling_agencies(birth_procedure, dt.date(2025, 7, 1))) == [merged]
    new = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code=merged.code,
        components=PAPER,
        at=vn(2025, 7, 2, 9),
    )
    assert new.receiving_agency == merged


def test_rename_keeps_electronic_code_and_history(province, history, admin_user):
    renamed = org.rename(
        actor=admin_user, agency=province["xa_a"], new_name="UBND phường Kiến An", effective_date=dt.date(2025, 7, 1)
    )
    assert renamed.electronic_code == "000.07.01.H01" and renamed.is_current
    assert Dossier.objects.get(pk=history["xa_a"][0].pk).receiving_agency.name == "UBND xã Kiến An"
    assert Dossier.objects.get(pk=history["xa_a"][1].pk).current_agency == renamed


def test_split_sends_open_work_to_the_chosen_part(province, history, admin_user):
    parts = org.split(
        actor=admin_user,
        agency=province["xa_a"],
        effective_date=dt.date(2025, 7, 1),
        open_work_to=1,
        parts=[
            {
                "name": "UBND xã Kiến An Bắc",
                "kind": AgencyKind.COMMUNE_COMMITTEE,
                "parent": province["huyen"],
                "electronic_code": "000.07.11.H01",
            },
            {
                "name": "UBND xã Kiến An Nam",
                "kind": AgencyKind.COMMUNE_COMMITTEE,
                "parent": province["huyen"],
                "electronic_code": "000.07.12.H01",
            },
        ],
    )
    assert Dossier.objects.get(pk=history["xa_a"][1].pk).current_agency == parts[1]


def test_dissolving_a_district_moves_its_communes(province, admin_user):
    org.dissolve(
        actor=admin_user, agency=province["huyen"], successor=province["ubnd"], effective_date=dt.date(2025, 7, 1)
    )
    communes = Agency.objects.current().filter(kind=AgencyKind.COMMUNE_COMMITTEE)
    assert {c.name for c in communes} == {"UBND xã Kiến An", "UBND xã Kiến Thành"}
    assert all(c.parent == province["ubnd"] for c in communes)
    assert Agency.objects.valid_on(dt.date(2025, 6, 30)).filter(kind=AgencyKind.DISTRICT_COMMITTEE).count() == 1
    assert Agency.objects.valid_on(dt.date(2025, 7, 1)).filter(kind=AgencyKind.DISTRICT_COMMITTEE).count() == 0


def test_move_under_another_parent(province, admin_user):
    moved = org.move(
        actor=admin_user, agency=province["xa_b"], new_parent=province["ubnd"], effective_date=dt.date(2025, 7, 1)
    )
    assert moved.parent == province["ubnd"] and Agency.objects.get(pk=province["xa_b"].pk).parent == province["huyen"]


def test_reorganization_input_is_validated(province, admin_user):
    with pytest.raises(DomainError) as error:
        org.merge(
            actor=admin_user,
            sources=[province["xa_a"]],
            name="X",
            kind=AgencyKind.COMMUNE_COMMITTEE,
            parent=None,
            effective_date=dt.date(2025, 7, 1),
        )
    assert error.value.field == "sources"
    with pytest.raises(DomainError) as error:
        org.rename(actor=admin_user, agency=province["xa_a"], new_name="X", effective_date=dt.date(2999, 1, 1))
    assert error.value.field == "effective_date"
    with pytest.raises(DomainError) as error:
        org.create_agency(
            actor=admin_user, name="Trùng mã", kind=AgencyKind.DEPARTMENT, electronic_code="000.00.15.H01"
        )
    assert error.value.field == "electronic_code"
    org.rename(actor=admin_user, agency=province["xa_a"], new_name="Đã đổi", effective_date=dt.date(2025, 7, 1))
    with pytest.raises(DomainError, match="hết hiệu lực"):
        org.rename(actor=admin_user, agency=province["xa_a"], new_name="Lần nữa", effective_date=dt.date(2025, 8, 1))


def test_procedure_transfer_moves_open_dossiers_only(province, officers, admin_user, citizen):
    judicial = make_procedure(
        admin_user,
        [province["tu_phap"]],
        code="2.000488",
        name="Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam",
        field_code="ly-lich-tu-phap",
        field_name="Lý lịch tư pháp",
        levels=["province"],
        processing_days=10,
        result_type="",
    )
    tp = officers["tu_phap"]
    old = services.submit(
        actor=citizen, procedure_code="2.000488", channel="online", components=PAPER, at=vn(2025, 2, 3, 9)
    )
    services.accept(old, actor=tp["counter_officer"], at=vn(2025, 2, 3, 10))
    services.forward(old, actor=tp["specialist"], at=vn(2025, 2, 4, 10))
    services.forward(old, actor=tp["leader"], at=vn(2025, 2, 5, 10))
    services.record_payment(
        old, actor=citizen, amount=old.fee_due, method="online", transaction_ref="T-LLTP", confirmed_by_gateway=True
    )
    services.return_result(old, actor=tp["counter_officer"], delivery="counter", at=vn(2025, 2, 5, 11))
    pending = services.submit(
        actor=citizen, procedure_code="2.000488", channel="online", components=PAPER, at=vn(2025, 2, 27, 9)
    )
    services.accept(pending, actor=tp["counter_officer"], at=vn(2025, 2, 27, 10))
    transfer_procedure(
        actor=admin_user,
        procedure=judicial,
        source=province["tu_phap"],
        target=province["cong_an"],
        effective_date=dt.date(2025, 3, 1),
        legal_basis="Thông báo 100/TB-STP ngày 11/11/2024",
    )
    assert list(handling_agencies(judicial, dt.date(2025, 2, 28))) == [province["tu_phap"]]
    assert list(handling_agencies(judicial, dt.date(2025, 3, 1))) == [province["cong_an"]]
    old.refresh_from_db()
    pending.refresh_from_db()
    assert old.current_agency == province["tu_phap"]  # finished: stays where it was handled
    assert pending.current_agency == province["cong_an"]
    new = services.submit(
        actor=citizen, procedure_code="2.000488", channel="online", components=PAPER, at=vn(2025, 3, 3, 9)
    )
    assert new.receiving_agency == province["cong_an"]

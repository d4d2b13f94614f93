"""The officers' queues, counts, registers and directive tasks: who sees what, never another
agency's documents, in the order officers work through them, with a bounded number of queries."""

import datetime as dt

import pytest

from chinhquyenso.core.errors import NotFound
from chinhquyenso.documents import selectors
from chinhquyenso.documents.models import Document
from chinhquyenso.documents.services import incoming as svc
from chinhquyenso.documents.services import outgoing
from chinhquyenso.documents.services.incoming import Assignee
from tests.conftest import vn

from .incoming_support import deliver_internally, issued_outgoing, pdf_with_text

pytestmark = pytest.mark.django_db
TODAY = dt.date(2025, 3, 20)


@pytest.fixture
def world(officers, province):
    h = officers["huyen"]
    w = {}
    w["draft"] = outgoing.create_draft(
        h["specialist"],
        agency=province["huyen"],
        document_type="cong-van",
        excerpt="Dự thảo công văn",
        file=pdf_with_text("Dự thảo"),
        at=vn(2025, 3, 3, 9),
    )
    w["in_review"] = outgoing.create_draft(
        h["specialist"],
        agency=province["huyen"],
        document_type="cong-van",
        excerpt="Công văn trình duyệt",
        file=pdf_with_text("Trình duyệt"),
        at=vn(2025, 3, 3, 9),
    )
    outgoing.submit(w["in_review"], h["specialist"], at=vn(2025, 3, 3, 10))
    w["issued"] = issued_outgoing(province["huyen"], excerpt="Quyết định đã ban hành", at=vn(2025, 3, 4, 9))
    w["foreign_draft"] = outgoing.create_draft(
        officers["xa_b"]["specialist"],
        agency=province["xa_b"],
        document_type="cong-van",
        excerpt="Dự thảo của xã",
        file=pdf_with_text("Xã"),
        at=vn(2025, 3, 3, 9),
    )

    # Incoming at the district: one waiting for assignment (urgent), one assigned and overdue,
    # a directive one on time; one at the commune.
    def paper(excerpt, urgency="normal", where="huyen", is_directive=False):
        return svc.register_incoming(
            officers[where]["clerk"],
            agency=province[where],
            document_type="cong-van",
            excerpt=excerpt,
            sender_name="Sở Nội vụ",
            urgency=urgency,
            is_directive=is_directive,
            at=vn(2025, 3, 5, 9),
        )

    w["waiting_normal"] = paper("Thường, chờ phân công")
    w["waiting_flash"] = paper("Hỏa tốc, chờ phân công", urgency="flash")
    w["late"] = paper("Đã giao, quá hạn")
    (w["late_task"],) = svc.assign(
        w["late"],
        h["leader"],
        assignees=[Assignee(user_id=h["specialist"].pk)],
        deadline=dt.date(2025, 3, 10),
        at=vn(2025, 3, 5, 10),
    )
    directive = deliver_internally(
        issued_outgoing(province["ubnd"], excerpt="Chỉ thị", at=vn(2025, 3, 5, 9), is_directive=True),
        province["huyen"],
        at=vn(2025, 3, 5, 11),
    )
    w["directive"] = directive
    w["directive_on_time"], w["directive_late"] = svc.assign(
        directive,
        h["leader"],
        assignees=[
            Assignee(agency_id=province["xa_a"].pk, role="lead", deadline=dt.date(2025, 3, 28)),
            Assignee(agency_id=province["xa_b"].pk, role="support", deadline=dt.date(2025, 3, 14)),
        ],
        at=vn(2025, 3, 5, 12),
    )
    w["commune"] = paper("Của xã", where="xa_a")
    return w


def pks(rows):
    return [row.pk for row in rows]


def test_queues_of_each_role(world, officers):
    h = officers["huyen"]
    assert pks(selectors.queue(h["specialist"], "du-thao")) == [world["draft"].pk]
    assert pks(selectors.queue(h["leader"], "du-thao")) == []  # someone else's draft
    assert pks(selectors.queue(h["leader"], "cho-duyet")) == [world["in_review"].pk]  # default flow: the leader
    assert pks(selectors.queue(h["specialist"], "cho-duyet")) == []
    assert pks(selectors.queue(officers["xa_b"]["leader"], "cho-duyet")) == []
    # urgent first
    assert pks(selectors.queue(h["leader"], "den-cho-phan-cong")) == [
        world["waiting_flash"].pk,
        world["waiting_normal"].pk,
    ]
    assert pks(selectors.queue(h["clerk"], "den-cho-phan-cong"))[:1] == [world["waiting_flash"].pk]
    assert pks(selectors.queue(h["specialist"], "den-cho-phan-cong")) == []
    assert pks(selectors.queue(h["specialist"], "giao-toi")) == [world["late"].pk]
    assert pks(selectors.queue(h["specialist"], "qua-han", today=TODAY)) == [world["late"].pk]
    # the leader sees every overdue assignment of the district's documents, the oldest deadline first
    assert pks(selectors.queue(h["leader"], "qua-han", today=TODAY)) == [world["late"].pk, world["directive"].pk]
    assert pks(selectors.overdue(h["leader"], today=TODAY)) == [world["late_task"].pk, world["directive_late"].pk]
    # the communes' leaders see the directive document among what they are given
    assert pks(selectors.queue(officers["xa_b"]["leader"], "giao-toi")) == [world["directive"].pk]
    with pytest.raises(NotFound):
        selectors.queue(h["leader"], "khong-co")


def test_counts(world, officers, django_assert_max_num_queries):
    h = officers["huyen"]
    with django_assert_max_num_queries(30):
        counts = selectors.queue_counts(h["leader"], today=TODAY)
    assert list(counts) == list(selectors.QUEUES)
    assert counts == {
        "du-thao": 0,
        "cho-duyet": 1,
        "cho-ky": 0,
        "cho-ban-hanh": 0,
        "den-cho-phan-cong": 2,
        "giao-toi": 0,
        "qua-han": 2,
        "chi-dao": 1,
    }
    assert selectors.queue_counts(h["specialist"], today=TODAY)["giao-toi"] == 1
    assert selectors.queue_counts(officers["tu_phap"]["leader"], today=TODAY) == dict.fromkeys(selectors.QUEUES, 0)


def test_directive_tasks_overdue_first(world, officers, province):
    tasks = list(selectors.directive_tasks(officers["huyen"]["leader"], today=TODAY))
    assert pks(tasks) == [world["directive_late"].pk, world["directive_on_time"].pk]
    assert [t.is_overdue for t in tasks] == [True, False]
    assert pks(selectors.directive_tasks(officers["huyen"]["leader"], agency_id=province["xa_a"].pk)) == []
    assert pks(selectors.directive_tasks(officers["tu_phap"]["leader"])) == []
    svc.complete(world["directive_late"], officers["xa_b"]["leader"], result_note="Xong", at=vn(2025, 3, 20, 9))
    assert pks(selectors.directive_tasks(officers["huyen"]["leader"], today=TODAY)) == [world["directive_on_time"].pk]
    everything = selectors.directive_tasks(officers["huyen"]["leader"], open_only=False, today=TODAY)
    assert len(everything) == 2


def test_registers_and_scope(world, officers, province, admin_user):
    h = officers["huyen"]
    incoming = pks(selectors.incoming_register(h["clerk"], year=2025))
    assert world["commune"].pk not in incoming  # the commune's register is the commune's
    assert incoming[0] == world["directive"].pk and len(incoming) == 4
    assert pks(selectors.incoming_register(h["clerk"], year=2024)) == []
    assert pks(selectors.outgoing_register(h["clerk"], year=2025)) == [world["issued"].pk]
    assert pks(selectors.outgoing_register(h["clerk"], year=2025, document_type="cong-van")) == []
    assert pks(selectors.outgoing_register(officers["ubnd"]["clerk"], year=2025, agency_id=province["huyen"].pk)) == []
    assert selectors.get_document(h["specialist"], world["draft"].pk) == world["draft"]
    for user, document in [
        (h["specialist"], world["foreign_draft"]),
        (officers["xa_b"]["specialist"], world["draft"]),
        (officers["tu_phap"]["leader"], world["late"]),
    ]:
        with pytest.raises(NotFound):
            selectors.get_document(user, document.pk)
    with pytest.raises(NotFound):
        selectors.get_document(h["specialist"], "abc")
    assert selectors.get_document(admin_user, world["foreign_draft"].pk) == world["foreign_draft"]
    assert set(selectors.register_agencies(h["clerk"])) == {province["huyen"]}
    assert selectors.visible_documents(h["clerk"]).filter(pk=world["commune"].pk).count() == 0
    assert Document.objects.filter(pk=world["commune"].pk).exists()


def test_timeline_and_assignments(world):
    steps = list(selectors.timeline(world["late"]).values_list("action", flat=True))
    assert steps == ["incoming_register", "assign"]
    assert pks(selectors.assignments_of(world["directive"])) == [
        world["directive_on_time"].pk,
        world["directive_late"].pk,
    ]
    assert selectors.is_overdue(world["late_task"], today=TODAY)
    assert not selectors.is_overdue(world["directive_on_time"], today=TODAY)

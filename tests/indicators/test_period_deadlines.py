"""Open dossiers of a past period are judged against the deadline in force at
the period's end (issue 17, item 2): a Mẫu 04 reschedule made after the end
does not move a dossier between "in time" and "overdue" for that period."""

import datetime as dt

import pytest

from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier, DossierEvent
from chinhquyenso.indicators.models import DeadlineChange, StaleDossier
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.indicators.selectors import compute
from chinhquyenso.indicators.services import rebuild_facts
from tests.conftest import vn

pytestmark = pytest.mark.django_db


def open_figures(period: str) -> tuple:
    c = compute(parse_period(period))
    return tuple(c.get(code).numerator for code in ("open_total", "open_in_time_rate", "open_overdue_rate"))


def test_reschedule_after_the_quarter_leaves_the_quarter_unchanged(quarter, officers):
    d3 = quarter["dossiers"][3]  # accepted 10/02/2025, due in February, still open: overdue at the end of Q1
    assert open_figures("2025-Q1") == (1, 0, 1)
    services.reschedule(
        d3,
        actor=officers["xa_a"]["leader"],
        new_due_date=dt.date(2025, 5, 20),
        reason="Chờ xác minh",
        at=vn(2025, 4, 2, 9),
    )
    assert open_figures("2025-Q1") == (1, 0, 1)  # read-repair: the reschedule is in April
    assert open_figures("2025-M04") == (1, 1, 0)  # April's end is judged on the new deadline (20/5)
    rebuild_facts()  # the same from a full rebuild
    assert open_figures("2025-Q1") == (1, 0, 1)
    assert open_figures("2025-M04") == (1, 1, 0)


def test_reschedule_inside_the_quarter_counts_for_it(quarter, officers):
    d3 = quarter["dossiers"][3]
    services.reschedule(
        d3,
        actor=officers["xa_a"]["leader"],
        new_due_date=dt.date(2025, 4, 15),
        reason="Chờ xác minh",
        at=vn(2025, 3, 20, 9),
    )
    assert open_figures("2025-Q1") == (1, 1, 0)  # in force at 31/3: 15/4
    assert open_figures("2025-M04") == (1, 0, 1)


def test_a_deadline_moved_earlier_after_the_quarter_leaves_it_in_time(quarter, officers):
    """The reverse: in time at the end, the deadline later moved before that end
    (a correction recorded on the timeline) — the quarter still says in time."""
    d3 = quarter["dossiers"][3]
    services.reschedule(
        d3,
        actor=officers["xa_a"]["leader"],
        new_due_date=dt.date(2025, 4, 15),
        reason="Chờ xác minh",
        at=vn(2025, 3, 20, 9),
    )
    assert open_figures("2025-Q1") == (1, 1, 0)
    corrected = vn(2025, 3, 25, 17)
    Dossier.objects.filter(pk=d3.pk).update(due_at=corrected)
    DossierEvent.objects.create(
        dossier=d3, at=vn(2025, 4, 3, 9), action="reschedule", to_status=d3.status, due_at=corrected
    )
    StaleDossier.objects.create(dossier_id=d3.pk)
    assert open_figures("2025-Q1") == (1, 1, 0)
    assert DeadlineChange.objects.filter(dossier_id=d3.pk, at=vn(2025, 4, 3, 9)).exists()
    assert open_figures("2025-M04") == (1, 0, 1)


def test_restart_after_a_supplement_after_the_end(quarter, officers):
    """Paused in March with its deadline passed (overdue at the end of March),
    resumed in April with the days that were left: March is unchanged."""
    a = officers["xa_a"]
    d = services.receive_at_counter(
        actor=a["counter_officer"],
        procedure_code="1.001193",
        agency_code=quarter["merged"].code,
        applicant={"identity_number": "089099999999", "full_name": "Lê Văn Tám"},
        components=[{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}],
        decision="accept",
        at=vn(2025, 3, 26, 9),
    )
    services.request_supplement(d, actor=a["specialist"], items=["Giấy chứng sinh rõ nét"], at=vn(2025, 3, 27, 9))
    before = open_figures("2025-M03")
    services.supplement(d, actor=a["counter_officer"], at=vn(2025, 4, 10, 9))
    assert open_figures("2025-M03") == before

"""One wording of a report's state, decided by the deadline, on every surface:
the agency's list, the report page, the review queue, the compliance page and
the API. A report nobody started after its deadline is "Quá hạn, chưa nộp",
never "Chưa nhập"; one first sent after the deadline is "Nộp trễ"."""

import datetime as dt

import pytest

from chinhquyenso.lris import selectors, services
from chinhquyenso.lris.models import FormAssignment
from chinhquyenso.lris.validation import Entry
from tests.conftest import vn
from tests.lris.conftest import DEADLINE, MARCH, signed_in

pytestmark = pytest.mark.django_db

VALID = [
    Entry("doc_exchange_electronic_rate", numerator="1.250", denominator="1.280"),
    Entry("has_signature_certificate", value="Có"),
    Entry("it_staff", value="12"),
    Entry("it_staff_dedicated", value="3"),
    Entry("trainings_held", value="2"),
]
COMPLIANCE = "/can-bo/bao-cao-so-lieu/tinh-hinh-nop/"
QUEUE = "/can-bo/bao-cao-so-lieu/cho-duyet/"


def fresh(assignment):
    return FormAssignment.objects.select_related("submission").get(pk=assignment.pk)


def send(assignment, user, at):
    return services.save_values(actor=user, assignment=assignment, entries=VALID, submit=True, at=at)


def test_state_follows_the_deadline(assignments, officers, admin_user):
    tu_phap, huyen, cong_an = (assignments[c] for c in ("so-tu-phap", "ubnd-cho-moi", "cong-an-tinh"))
    before, after = DEADLINE - dt.timedelta(days=10), DEADLINE + dt.timedelta(days=1)
    assert selectors.state_of(cong_an, before).label == "Chưa nhập"
    assert selectors.state_of(cong_an, DEADLINE).label.startswith("Chưa nhập")  # the deadline day is still in time
    overdue = selectors.state_of(cong_an, after)
    assert (overdue.label, overdue.overdue, overdue.css) == ("Quá hạn, chưa nộp", True, "overdue")

    services.save_values(actor=officers["cong_an"]["leader"], assignment=cong_an, entries=VALID[:1], submit=False)
    assert selectors.state_of(fresh(cong_an), after).label == "Quá hạn, đang nhập, chưa gửi"

    send(tu_phap, officers["tu_phap"]["leader"], vn(2025, 4, 5, 16, 59))  # on the deadline day
    late = send(huyen, officers["huyen"]["specialist"], vn(2025, 4, 7, 9))  # two days late
    assert selectors.state_of(fresh(tu_phap), after).label == "Đã gửi, chờ duyệt"
    state = selectors.state_of(fresh(huyen), after)
    assert (state.label, state.late, state.overdue) == ("Nộp trễ, chờ duyệt", True, False)
    services.approve(actor=admin_user, submission=late)
    assert selectors.state_of(fresh(huyen), after).label == "Nộp trễ, đã duyệt"


def test_compliance_page_and_api_mark_overdue_and_late(monthly, assignments, officers, admin_user):
    send(assignments["ubnd-cho-moi"], officers["huyen"]["specialist"], vn(2025, 4, 7, 9))  # late
    result = selectors.compliance(monthly, MARCH.start, MARCH.end, today=DEADLINE + dt.timedelta(days=3))
    assert {m.agency_name: m.status_label for m in result.missing} == {
        "Công an tỉnh": "Quá hạn, chưa nộp",
        "Sở Tư pháp": "Quá hạn, chưa nộp",
    }
    assert [(m.agency_name, m.status_label) for m in result.late] == [("UBND huyện Chợ Mới", "Nộp trễ, chờ duyệt")]
    # Before the deadline nothing is overdue yet.
    early = selectors.compliance(monthly, MARCH.start, MARCH.end, today=DEADLINE - dt.timedelta(days=5))
    assert {m.status_label for m in early.missing} == {"Chưa nhập"}

    client = signed_in(admin_user)
    page = client.get(COMPLIANCE, {"form": monthly.code, "ky": "2025-M03"}).content.decode()  # today: long after
    assert "Chưa nhập" not in page and page.count("Quá hạn, chưa nộp") == 2
    assert "Cơ quan nộp trễ hạn (1)" in page and "Nộp trễ, chờ duyệt" in page

    body = client.get("/api/lris/compliance", {"form": monthly.code, "period": "2025-M03"}).json()
    assert {m["status_label"] for m in body["missing"]} == {"Quá hạn, chưa nộp"}
    assert [m["agency_name"] for m in body["late"]] == ["UBND huyện Chợ Mới"]
    listed = {a["agency_code"]: a for a in client.get("/api/lris/assignments").json()}
    assert listed["ubnd-cho-moi"]["status_label"] == "Nộp trễ, chờ duyệt" and listed["ubnd-cho-moi"]["late"]
    assert listed["cong-an-tinh"]["status_label"] == "Quá hạn, chưa nộp" and listed["cong-an-tinh"]["overdue"]


def test_review_queue_marks_late_reports(assignments, officers, admin_user):
    send(assignments["so-tu-phap"], officers["tu_phap"]["leader"], vn(2025, 4, 4, 9))  # on time
    send(assignments["ubnd-cho-moi"], officers["huyen"]["specialist"], vn(2025, 4, 7, 9))  # late
    page = signed_in(admin_user).get(QUEUE).content.decode()
    rows = {row.split("</td>")[2].rsplit(">", 1)[-1]: row for row in page.split("<tr")[2:]}
    assert "Nộp trễ, chờ duyệt" in rows["UBND huyện Chợ Mới"] and "05/04/2025" in rows["UBND huyện Chợ Mới"]
    assert "Đã gửi, chờ duyệt" in rows["Sở Tư pháp"] and "Nộp trễ" not in rows["Sở Tư pháp"]


def test_agency_list_says_overdue_not_started(assignments, officers):
    text = signed_in(officers["tu_phap"]["specialist"]).get("/can-bo/bao-cao-so-lieu/").content.decode()
    assert 'class="overdue"' in text and "Quá hạn, chưa nộp" in text and "Chưa nhập" not in text

"""Reporting rate and on-time rate (DHIS2 definitions) per form and period,
and the reminder job: once per assignment and kind, by email and on screen."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from chinhquyenso.accounts.models import Role, User
from chinhquyenso.core import scheduler
from chinhquyenso.core.calendar import local_date
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message
from chinhquyenso.indicators.periods import month
from chinhquyenso.lris import selectors, services, tasks
from chinhquyenso.lris.models import Reminder
from chinhquyenso.lris.validation import Entry
from tests.conftest import vn
from tests.lris.conftest import MARCH, VALID_POST, signed_in

pytestmark = pytest.mark.django_db
# The officers fixture gives each agency one officer per role, each with an e-mail address (with_email).
PER_AGENCY = len(Role.values)

VALID = [
    Entry("doc_exchange_electronic_rate", numerator="1.250", denominator="1.280"),
    Entry("has_signature_certificate", value="Có"),
    Entry("it_staff", value="12"),
    Entry("it_staff_dedicated", value="3"),
    Entry("trainings_held", value="2"),
]


def send(assignment, officer, at):
    return services.save_values(actor=officer, assignment=assignment, entries=VALID, submit=True, at=at)


def test_rates_with_one_on_time_one_late_and_one_missing(monthly, assignments, officers, admin_user):
    on_time = send(assignments["so-tu-phap"], officers["tu_phap"]["leader"], vn(2025, 4, 5, 16, 59))  # the deadline day
    send(assignments["ubnd-cho-moi"], officers["huyen"]["specialist"], vn(2025, 4, 7, 9))  # two days late
    result = selectors.compliance(monthly, MARCH.start, MARCH.end)
    assert (result.expected, result.reported, result.on_time) == (3, 2, 1)
    assert result.reporting_rate == Decimal("66.67") and result.on_time_rate == Decimal("33.33")
    assert result.reporting_rate_text == "66,7% (2/3)" and result.on_time_rate_text == "33,3% (1/3)"
    assert [m.agency_name for m in result.missing] == ["Công an tỉnh"]
    assert result.missing[0].status_label == "Quá hạn, chưa nộp"  # the deadline 05/4/2025 has passed
    assert (result.period_code, result.period_label) == ("2025-M03", "tháng 3 năm 2025")

    # A returned report no longer counts as reported; sent again after the deadline it is still on time,
    # because timeliness is that of the first sending.
    services.return_submission(actor=admin_user, submission=on_time, reason="Thiếu số lớp tập huấn.")
    result = selectors.compliance(monthly, MARCH.start, MARCH.end)
    assert (result.reported, result.on_time, result.returned) == (1, 0, 1)
    assert [m.agency_name for m in result.missing] == ["Công an tỉnh", "Sở Tư pháp"]
    services.submit(actor=officers["tu_phap"]["leader"], assignment=assignments["so-tu-phap"], at=vn(2025, 4, 10, 9))
    services.approve(actor=admin_user, submission=on_time)
    result = selectors.compliance(monthly, MARCH.start, MARCH.end)
    assert (result.reported, result.on_time, result.approved, result.awaiting_review) == (2, 1, 1, 1)

    # Another period and an empty one.
    assert selectors.compliance(monthly, month(2025, 4).start, month(2025, 4).end).expected == 0
    assert selectors.compliance(monthly, month(2025, 4).start, month(2025, 4).end).reporting_rate is None

    page = signed_in(admin_user).get("/can-bo/bao-cao-so-lieu/tinh-hinh-nop/", {"form": monthly.code, "ky": "2025-M03"})
    text = page.content.decode()
    assert "66,7% (2/3)" in text and "33,3% (1/3)" in text and "Công an tỉnh" in text
    assert signed_in(officers["tu_phap"]["leader"]).get("/can-bo/bao-cao-so-lieu/tinh-hinh-nop/").status_code == 403


def test_compliance_seen_by_an_officer_counts_only_their_agencies(monthly, assignments, officers):
    result = selectors.compliance(monthly, MARCH.start, MARCH.end, user=officers["huyen"]["leader"])
    assert result.expected == 1 and result.missing[0].agency_name == "UBND huyện Chợ Mới"


@pytest.fixture
def with_email(officers):
    for key in ("tu_phap", "huyen", "cong_an"):
        for role, user in officers[key].items():
            User.objects.filter(pk=user.pk).update(email=f"{key}.{role}@angiang.gov.vn")


def test_reminders_are_sent_once_before_the_deadline_and_once_after(assignments, officers, with_email, admin_user):
    send(assignments["ubnd-cho-moi"], officers["huyen"]["specialist"], vn(2025, 4, 2, 9))  # already sent: no reminder
    assert services.send_reminders(now=vn(2025, 4, 2, 8)) == {"due_soon": 0, "overdue": 0, "emails": 0}
    assert mail.outbox == []

    first = services.send_reminders(now=vn(2025, 4, 3, 8))  # two days before 05/4
    assert first == {"due_soon": 2, "overdue": 0, "emails": 2 * PER_AGENCY}  # 2 agencies × their officers
    assert mail.outbox == []  # queued in the outbox with the reminder, sent by the worker after commit
    assert outbox.deliver_due(vn(2025, 4, 3, 8, 1)) == (4 * PER_AGENCY, 0)  # as many e-mails as on-screen notices
    assert services.send_reminders(now=vn(2025, 4, 3, 8)) == {"due_soon": 0, "overdue": 0, "emails": 0}
    assert services.send_reminders(now=vn(2025, 4, 5, 16)) == {"due_soon": 0, "overdue": 0, "emails": 0}
    assert len(mail.outbox) == 2 * PER_AGENCY
    message = next(m for m in mail.outbox if m.to == ["tu_phap.leader@angiang.gov.vn"])
    assert message.subject == "Sắp đến hạn nộp báo cáo: Chính quyền điện tử — tháng 3 năm 2025"
    assert "sắp đến hạn nộp ngày 05/04/2025 (còn 2 ngày)" in message.body
    # An absolute link that opens the form (CQS_SITE_URL + the form's page).
    link = f"https://dvc.example.gov.vn/can-bo/bao-cao-so-lieu/{assignments['so-tu-phap'].pk}/"
    assert link in message.body
    page = signed_in(officers["tu_phap"]["leader"]).get(link.removeprefix("https://dvc.example.gov.vn"))
    assert page.status_code == 200 and "Chính quyền điện tử" in page.content.decode()

    # On screen too.
    listing = signed_in(officers["tu_phap"]["counter_officer"]).get("/can-bo/bao-cao-so-lieu/").content.decode()
    assert "Nhắc nhở" in listing and "sắp đến hạn nộp ngày 05/04/2025" in listing

    # Công an tỉnh sends on time; Sở Tư pháp does not, and gets the overdue reminder once.
    send(assignments["cong-an-tinh"], officers["cong_an"]["leader"], vn(2025, 4, 4, 9))
    late = services.send_reminders(now=vn(2025, 4, 6, 8))
    assert late == {"due_soon": 0, "overdue": 1, "emails": PER_AGENCY}
    outbox.deliver_due(vn(2025, 4, 6, 8, 1))
    assert services.send_reminders(now=vn(2025, 4, 7, 8)) == {"due_soon": 0, "overdue": 0, "emails": 0}
    overdue = [m for m in mail.outbox if m.subject.startswith("Quá hạn")]
    assert len(overdue) == PER_AGENCY and all("Sở Tư pháp" in m.body and "trễ 1 ngày" in m.body for m in overdue)
    assert set(Reminder.objects.values_list("assignment__agency__code", "kind")) == {
        ("so-tu-phap", "due_soon"),
        ("cong-an-tinh", "due_soon"),
        ("so-tu-phap", "overdue"),
    }
    notices = Message.objects.filter(user=officers["tu_phap"]["leader"], channel="in_app", kind__startswith="lris.")
    assert notices.count() == 2
    # The notice goes away once the report is sent.
    send(assignments["so-tu-phap"], officers["tu_phap"]["leader"], vn(2025, 4, 8, 9))
    assert selectors.notices(officers["tu_phap"]["leader"]) == []
    # Long-forgotten reports do not start a flood of reminders.
    assert services.send_reminders(now=vn(2025, 6, 1, 8))["overdue"] == 0


def test_reminder_job_runs_from_the_scheduler(monthly, province, officers, admin_user, with_email):
    assert scheduler.JOBS.get("lris_reminders").task == "chinhquyenso.lris.tasks.send_reminders"
    today = local_date(timezone.now())
    period = month(today.year, today.month)
    services.assign_form(
        actor=admin_user,
        form=monthly,
        agencies=[province["tu_phap"]],
        period=period,
        deadline=today + dt.timedelta(days=1),
    )
    assert tasks.send_reminders.call() == {"due_soon": 1, "overdue": 0, "emails": PER_AGENCY}
    assert tasks.send_reminders.call() == {"due_soon": 0, "overdue": 0, "emails": 0}


def test_overdue_rows_are_red_on_the_list(assignments, officers):
    text = signed_in(officers["tu_phap"]["specialist"]).get("/can-bo/bao-cao-so-lieu/").content.decode()
    assert 'class="overdue"' in text and "Quá hạn, chưa nộp" in text and "05/04/2025" in text


def test_sent_values_survive_a_page_round_trip(assignments, officers):
    client = signed_in(officers["tu_phap"]["specialist"])
    url = f"/can-bo/bao-cao-so-lieu/{assignments['so-tu-phap'].pk}/"
    client.post(url, {**VALID_POST, "action": "save"})
    text = client.get(url).content.decode()
    assert 'value="1.250"' in text and 'value="1.280"' in text and 'value="Có" checked' in text

"""Reporters are told through the outbox (exchange.outbox): by e-mail when
they gave one, by SMS otherwise (the SMS sender chosen by setting),
including the reporters of merged duplicates; messages are claimed once
even with two workers."""

import pytest
from django.core import mail

from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message
from chinhquyenso.exchange.selectors import for_source
from chinhquyenso.exchange.senders import ConsoleSmsSender
from chinhquyenso.feedback import services
from tests.conftest import vn

pytestmark = pytest.mark.django_db


def test_an_anonymous_reporter_is_told_by_sms_a_signed_in_one_by_email(report, officers, province):
    services.send_verification_code("0912345678", at=vn(2025, 3, 3, 8, 55))
    assert outbox.deliver_due(vn(2025, 3, 3, 8, 55)) == (1, 0)  # the code, by the console SMS sender
    code = ConsoleSmsSender.sent[-1][1].split(": ")[1][:6]
    anonymous = services.submit(
        services.Submission(
            category_code="giao-thong", description="Ổ gà lớn.", area_code="xa-kien-an", phone="0912345678"
        ),
        verification_code=code,
        at=vn(2025, 3, 3, 9),
    )
    signed_in = report()
    a = officers["xa_a"]
    for fb in (anonymous, signed_in):
        services.resolve(fb, actor=a["specialist"], public_reply="Đã sửa chữa.", at=vn(2025, 3, 5, 9))
    by_report = {fb.pk: for_source(fb).get(kind="feedback.resolved") for fb in (anonymous, signed_in)}
    assert (by_report[anonymous.pk].channel, by_report[anonymous.pk].recipient) == ("sms", "0912345678")
    assert (by_report[signed_in.pk].channel, by_report[signed_in.pk].recipient) == ("email", "hoa@example.vn")
    assert {m.agency for m in by_report.values()} == {province["xa_a"]}
    ConsoleSmsSender.sent.clear()
    assert outbox.deliver_due(vn(2025, 3, 5, 9, 1)) == (2, 0)
    assert ConsoleSmsSender.sent[0][0] == "0912345678" and anonymous.code in ConsoleSmsSender.sent[0][1]
    assert mail.outbox[0].to == ["hoa@example.vn"] and "Đã sửa chữa." in mail.outbox[0].body
    assert "7 ngày" in mail.outbox[0].body  # how to reopen
    assert f"https://dvc.example.gov.vn/phan-anh/{signed_in.code}/" in mail.outbox[0].body  # the report's page


def test_the_reporter_is_asked_for_information(report, officers):
    fb = report()
    services.request_info(fb, actor=officers["xa_a"]["specialist"], question="Đoạn kênh nào?", at=vn(2025, 3, 4, 9))
    note = Message.objects.get(kind="feedback.info_requested")
    assert "Đoạn kênh nào?" in note.body and note.recipient == "hoa@example.vn"


def test_a_report_without_any_contact_is_simply_not_told(categories, province, officers, ioc_operator):
    fb = services.submit(
        services.Submission(category_code="moi-truong", description="Rác.", area_code="xa-kien-an"),
        channel="ioc",
        reporter=ioc_operator,
        at=vn(2025, 3, 3, 9),
    )
    services.resolve(fb, actor=officers["xa_a"]["specialist"], public_reply="Xong.", at=vn(2025, 3, 4, 9))
    assert not for_source(fb).exists()


def test_a_message_is_claimed_once_by_parallel_workers(report, officers):
    fb = report()
    services.comment(fb, actor=officers["xa_a"]["specialist"], text="Đã tiếp nhận.", public=True, at=vn(2025, 3, 3, 10))
    note = Message.objects.get()
    # another worker claimed it a moment ago: its lease moved next_attempt_at
    Message.objects.filter(pk=note.pk).update(next_attempt_at=vn(2025, 3, 3, 10, 5))
    assert outbox.deliver_due(vn(2025, 3, 3, 10, 1)) == (0, 0)
    assert outbox.deliver([note], vn(2025, 3, 3, 10, 1)) == (0, 0)  # the copy read before the claim
    assert not mail.outbox

"""Submitting and handling reports: every transition and every forbidden one,
who may act, duplicates merged and reports split, idempotent submission,
rate limits, phone verification, photos checked by content and stripped of
their GPS position, and no personal data in the audit trail."""

import datetime as dt
import io
import json

import pytest
from PIL import Image

from chinhquyenso.core.errors import Conflict, DomainError, PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message
from chinhquyenso.exchange.selectors import for_source, undelivered
from chinhquyenso.feedback import selectors, services
from chinhquyenso.feedback.models import Feedback, FeedbackEvent, PhoneVerification, Status
from tests.conftest import vn
from tests.feedback.conftest import code_sent, file_report, jpeg, png, sms_written

pytestmark = pytest.mark.django_db


def statuses(feedback):
    return [(e.action, e.to_status) for e in feedback.events.order_by("at", "id")]


# ---------------------------------------------------------------- submission


def test_a_signed_in_citizen_files_a_report_routed_to_the_commune(report, province, citizen):
    fb = report()
    assert fb.code == "PA-2025-000001" and len(fb.token) >= 30
    assert fb.status == Status.ASSIGNED and fb.agency == province["xa_a"] and fb.area == province["xa_a"]
    assert fb.reporter == citizen and fb.reporter_name == "Nguyễn Thị Hoà"
    assert statuses(fb) == [("submit", "received"), ("assign", "assigned")]
    # 15 working days from Monday 03/3/2025 (the day itself not counted): Monday 24/3, 17:00
    assert fb.due_at == vn(2025, 3, 24, 17)
    second = report(description="Đèn đường hỏng cả tuần nay.", category_code="giao-thong")
    assert second.code == "PA-2025-000002"


def test_text_is_stored_as_nfc_plain_text_and_nothing_is_refused_for_markup(report):
    nfd = "Ra\u0301c thải <script>alert(1)</script> & \u201cô nhiễm\u201d"
    fb = report(description=nfd)
    assert fb.description == "Rác thải <script>alert(1)</script> & “ô nhiễm”"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"category_code": "khong-co"}, "category_code"),
        ({"description": "   "}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({"area_code": "", "address": ""}, "location"),
        ({"area_code": "xa-khong-co"}, "area_code"),
        ({"latitude": "10.5"}, "longitude"),
        ({"latitude": "95", "longitude": "105"}, "latitude"),
        ({"latitude": "abc", "longitude": "105"}, "latitude"),
        ({"phone": "12345"}, "phone"),
        ({"email": "khong-phai-email"}, "email"),
        ({"channel": "fax"}, "channel"),
        ({"dossier_code": "KHONG-CO"}, "dossier_code"),
        ({"category_code": "dien-nuoc"}, "attribute_values.dich_vu"),
        ({"category_code": "dien-nuoc", "attribute_values": {"dich_vu": "gas"}}, "attribute_values.dich_vu"),
        ({"attribute_values": {"la": "x"}}, "attribute_values.la"),
        ({"photos": [jpeg()] * 6}, "photos"),
        ({"photos": [jpeg(), b"%PDF-1.4 not an image"]}, "photos[1]"),
        ({"photos": [b"GIF89a......"]}, "photos[0]"),
        ({"photos": [b"\xff\xd8\xff\xe0 broken jpeg"]}, "photos[0]"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(report, overrides, field):
    with pytest.raises(DomainError) as error:
        report(**overrides)
    assert error.value.field == field
    assert error.value.message[0].isupper()  # a Vietnamese sentence, not a code
    assert (
        not Feedback.objects.exists() and not AuditRecord.objects.filter(action__startswith="feedback.submit").exists()
    )


def test_a_report_about_a_dossier_links_to_it(report, birth_procedure, citizen):
    from chinhquyenso.dossiers import services as dossiers

    dossier = dossiers.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=[{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}],
        at=vn(2025, 3, 1, 9),
    )
    fb = report(
        category_code="thu-tuc-hanh-chinh",
        dossier_code=dossier.code,
        description="Hồ sơ khai sinh trễ hẹn.",
        attribute_values={"ma_ho_so": dossier.code},
    )
    assert fb.dossier == dossier and fb.attribute_values == {"ma_ho_so": dossier.code}


def test_same_device_category_and_text_within_ten_minutes_returns_the_first_report(report):
    first = report(device_id="may-1")
    again = report(
        device_id="may-1", description="  RÁC THẢI đổ bừa bãi ven kênh,   bốc mùi hôi thối. ", at=vn(2025, 3, 3, 9, 9)
    )
    assert again.pk == first.pk and again.replayed
    other_category = report(device_id="may-1", category_code="trat-tu-do-thi", at=vn(2025, 3, 3, 9, 9))
    later = report(device_id="may-1", at=vn(2025, 3, 3, 9, 11))
    assert len({first.pk, other_category.pk, later.pk}) == 3


def test_an_idempotency_key_returns_the_first_report_and_a_different_body_is_a_conflict(report):
    first = report(idempotency_key="k-1")
    assert report(idempotency_key="k-1", at=vn(2025, 3, 5, 9)).pk == first.pk
    with pytest.raises(Conflict) as error:
        report(idempotency_key="k-1", description="Nội dung khác hẳn.")
    assert error.value.status_code == 409
    assert Feedback.objects.count() == 1


def test_rate_limits_per_phone_and_per_ip(report, settings):
    settings.CQS = {**settings.CQS, "FEEDBACK_PER_PHONE_PER_HOUR": 2, "FEEDBACK_PER_IP_PER_HOUR": 2}
    report(phone="0912345678", description="Phản ánh một", client_ip="203.0.113.5")
    report(phone="0912 345 678", description="Phản ánh hai", client_ip="203.0.113.5", at=vn(2025, 3, 3, 9, 20))
    with pytest.raises(services.TooManyRequests) as error:
        report(phone="+84912345678", description="Phản ánh ba", at=vn(2025, 3, 3, 9, 40))
    assert error.value.field == "phone" and error.value.status_code == 429 and "một giờ" in error.value.message
    report(phone="0912345678", description="Phản ánh ba", at=vn(2025, 3, 3, 10, 1))  # an hour later: allowed
    with pytest.raises(services.TooManyRequests) as error:
        report(phone="0987654321", description="Phản ánh bốn", client_ip="203.0.113.5", at=vn(2025, 3, 3, 9, 50))
    assert error.value.field == "client_ip"
    # the address itself is never stored, only a keyed hash
    assert not Feedback.objects.filter(client_hash__contains="203.0.113").exists()


def test_anonymous_web_reports_need_the_code_sent_to_the_phone(categories, points, province):
    def submit(**overrides):
        data = {
            "category_code": "giao-thong",
            "description": "Ổ gà lớn giữa đường.",
            "latitude": "10.4801",
            "longitude": "105.4795",
            "phone": "0912345678",
            "at": vn(2025, 3, 3, 9),
        }
        data.update(overrides)
        return file_report(**data)

    with pytest.raises(DomainError) as error:
        submit(phone="")
    assert error.value.field == "phone"
    with pytest.raises(DomainError) as error:
        submit(verification_code="123456")
    assert error.value.field == "verification_code" and "chưa được gửi" in error.value.message
    entry = services.send_verification_code("0912 345 678", at=vn(2025, 3, 3, 8, 58))
    code = code_sent()
    assert sms_written()[-1][0] == "0912345678" and code not in entry.code_hash
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(DomainError):
        submit(verification_code=wrong)
    assert PhoneVerification.objects.get().attempts == 1  # the wrong try counts although the submission failed
    fb = submit(verification_code=code)
    assert fb.phone_verified and fb.reporter is None and fb.agency == province["xa_a"]
    # expired after 10 minutes
    with pytest.raises(DomainError) as error:
        submit(verification_code=code, description="Ổ gà khác.", at=vn(2025, 3, 3, 9, 9))
    assert error.value.field == "verification_code"


def test_a_code_stops_working_after_five_wrong_tries(categories, points):
    services.send_verification_code("0912345678", at=vn(2025, 3, 3, 9))
    code = code_sent()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(DomainError):
            services.submit(
                services.Submission(
                    category_code="giao-thong", description="Ổ gà.", area_code="xa-kien-an", phone="0912345678"
                ),
                verification_code=wrong,
                at=vn(2025, 3, 3, 9, 1),
            )
    with pytest.raises(DomainError) as error:
        services.submit(
            services.Submission(
                category_code="giao-thong", description="Ổ gà.", area_code="xa-kien-an", phone="0912345678"
            ),
            verification_code=code,
            at=vn(2025, 3, 3, 9, 2),
        )
    assert "quá 5 lần" in error.value.message


def test_codes_per_phone_are_limited(categories, settings):
    settings.CQS = {**settings.CQS, "FEEDBACK_CODES_PER_PHONE_PER_HOUR": 2}
    services.send_verification_code("0912345678", at=vn(2025, 3, 3, 9))
    services.send_verification_code("0912345678", at=vn(2025, 3, 3, 9, 5))
    with pytest.raises(services.TooManyRequests):
        services.send_verification_code("0912345678", at=vn(2025, 3, 3, 9, 10))


def test_the_code_is_written_with_its_sms_and_a_failing_gateway_is_retried(categories, settings, ioc_operator):
    settings.CQS = {**settings.CQS, "OUTBOX_SENDERS": {"sms": "tests.feedback.test_services.BrokenSender"}}
    entry = services.send_verification_code("0912345678", at=vn(2025, 3, 3, 9))
    (sms,) = Message.objects.filter(kind="feedback.verification_code")
    assert sms.recipient == "0912345678" and sms.state == Message.State.PENDING
    assert code_sent("0912345678") not in entry.code_hash  # the code itself is kept only as a keyed hash
    # Nothing is sent in the request: the worker delivers after commit; a failing gateway is retried.
    assert outbox.deliver_due(vn(2025, 3, 3, 9)) == (0, 1)
    sms.refresh_from_db()
    assert sms.state == Message.State.FAILED and "gateway down" in sms.last_error
    assert sms in undelivered(ioc_operator, kind_prefix="feedback.")


class BrokenSender:
    def send(self, message):
        raise ConnectionError("gateway down")


# ---------------------------------------------------------------- photos


def gps_of(data: bytes) -> dict:
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825))


def test_photos_lose_their_gps_position_but_keep_orientation(report):
    fb = report(photos=[jpeg(gps=True, orientation=6), png()])
    first, second = [p.file for p in fb.photos.order_by("order")]
    stored = first.file.open("rb").read()
    assert gps_of(stored) == {} and Image.open(io.BytesIO(stored)).getexif()[0x0112] == 6
    assert first.content_type == "image/jpeg" and second.content_type == "image/png"
    assert not fb.photos.first().kept_location


def test_the_citizen_may_keep_the_photo_location(report):
    original = jpeg(gps=True)
    fb = report(photos=[original], keep_photo_location=True)
    stored = fb.photos.get().file.file.open("rb").read()
    assert stored == original and gps_of(stored)[1] == "N" and fb.photos.get().kept_location


def test_a_photo_without_gps_is_stored_untouched(report):
    original = jpeg(orientation=3)
    fb = report(photos=[original])
    assert fb.photos.get().file.file.open("rb").read() == original


# ---------------------------------------------------------------- lifecycle


@pytest.fixture
def handled(report, officers):
    return report(), officers["xa_a"]


def test_the_whole_life_of_a_report(handled, officers, citizen):
    fb, a = handled
    services.start(fb, actor=a["specialist"], at=vn(2025, 3, 4, 8))
    services.comment(fb, actor=a["specialist"], text="Đã liên hệ tổ vệ sinh môi trường.", at=vn(2025, 3, 4, 9))
    services.request_info(fb, actor=a["specialist"], question="Xin cho biết đoạn kênh nào?", at=vn(2025, 3, 5, 10))
    services.provide_info(fb, text="Đoạn gần cầu Kiến An.", actor=citizen, at=vn(2025, 3, 6, 9))
    services.resolve(
        fb, actor=a["leader"], public_reply="Đã thu gom rác và đặt biển cấm đổ rác.", at=vn(2025, 3, 12, 10)
    )
    services.rate(fb, rating=5, comment="Cảm ơn", actor=citizen, at=vn(2025, 3, 13, 9))
    fb.refresh_from_db()
    assert statuses(fb) == [
        ("submit", "received"),
        ("assign", "assigned"),
        ("start", "in_progress"),
        ("comment", "in_progress"),
        ("request_info", "waiting_info"),
        ("provide_info", "in_progress"),
        ("resolve", "resolved"),
        ("rate", "closed"),
    ]
    assert fb.status == Status.CLOSED and fb.on_time and fb.rating == 5 and fb.closed_at == vn(2025, 3, 13, 9)
    # every transition is audited
    actions = list(
        AuditRecord.objects.filter(object_type="feedback.Feedback", object_id=str(fb.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions == [
        "feedback.submit",
        "feedback.assign",
        "feedback.start",
        "feedback.comment",
        "feedback.request_info",
        "feedback.provide_info",
        "feedback.resolve",
        "feedback.rate",
    ]
    # the public page shows the public entries only
    assert [e.action for e in selectors.public_timeline(fb)] == ["submit", "assign", "start", "resolve"]
    assert [e.action for e in selectors.reporter_timeline(fb)] == [
        "submit",
        "assign",
        "start",
        "request_info",
        "provide_info",
        "resolve",
        "rate",
    ]


def test_forbidden_transitions_are_refused_with_a_vietnamese_message(handled, officers, citizen):
    fb, a = handled
    with pytest.raises(DomainError) as error:
        services.provide_info(fb, text="x", actor=citizen)
    assert error.value.field == "status" and "Chờ người phản ánh" not in error.value.message
    assert "Đã chuyển cơ quan xử lý" in error.value.message
    for call in (
        lambda: services.rate(fb, rating=5, actor=citizen),
        lambda: services.reopen(fb, reason="x", actor=citizen),
    ):
        with pytest.raises(DomainError) as error:
            call()
        assert error.value.field == "status"
    services.start(fb, actor=a["specialist"], at=vn(2025, 3, 4, 8))
    with pytest.raises(DomainError):
        services.start(fb, actor=a["specialist"])
    services.resolve(fb, actor=a["specialist"], public_reply="Đã xử lý.", at=vn(2025, 3, 5, 8))
    for call in (
        lambda: services.start(fb, actor=a["specialist"]),
        lambda: services.resolve(fb, actor=a["specialist"], public_reply="Lần nữa"),
        lambda: services.request_info(fb, actor=a["specialist"], question="?"),
        lambda: services.reject(fb, actor=a["leader"], reason="x"),
        lambda: services.assign(fb, actor=a["leader"], agency_code="xa-kien-thanh"),
    ):
        with pytest.raises(DomainError) as error:
            call()
        assert error.value.field == "status" and "Đã xử lý xong" in error.value.message
    services.rate(fb, rating=2, actor=citizen, at=vn(2025, 3, 6, 8))
    with pytest.raises(DomainError):
        services.reopen(fb, reason="Chưa xong", actor=citizen)  # rated: closed


def test_only_the_handling_agency_acts_and_auditors_only_read(handled, officers, citizen, province, admin_user):
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import GlobalRole

    fb, a = handled
    auditor = accounts.create_officer(
        actor=admin_user, username="kiem.tra", password=None, full_name="Kiểm tra", global_role=GlobalRole.AUDITOR
    )
    for actor in (officers["xa_b"]["specialist"], officers["huyen"]["leader"], citizen, a["agency_admin"], auditor):
        with pytest.raises(PermissionDenied):
            services.start(fb, actor=actor)
    assert selectors.visible_feedback(auditor).filter(pk=fb.pk).exists()
    assert not selectors.visible_feedback(officers["xa_b"]["leader"]).filter(pk=fb.pk).exists()
    with pytest.raises(PermissionDenied):
        services.assign(fb, actor=a["specialist"], agency_code="xa-kien-thanh")  # only leaders and the IOC reassign
    with pytest.raises(PermissionDenied):
        services.reject(fb, actor=a["counter_officer"], reason="Không thuộc phạm vi")


def test_citizens_act_only_on_their_own_reports_by_account_or_token(handled, officers, citizen):
    from chinhquyenso.accounts import services as accounts

    fb, a = handled
    services.start(fb, actor=a["specialist"], at=vn(2025, 3, 4, 8))
    services.request_info(fb, actor=a["specialist"], question="Đoạn kênh nào?", at=vn(2025, 3, 4, 9))
    other = accounts.create_citizen(identity_number="089099999999", full_name="Trần Văn B")
    with pytest.raises(PermissionDenied):
        services.provide_info(fb, text="x", actor=other)
    with pytest.raises(PermissionDenied):
        services.provide_info(fb, text="x", token="sai-ma")
    services.provide_info(fb, text="Gần cầu.", token=fb.token, at=vn(2025, 3, 4, 10))
    assert fb.status == Status.IN_PROGRESS
    assert selectors.get_for_citizen(fb.code, token=fb.token) == fb
    with pytest.raises(DomainError):
        selectors.get_for_citizen(fb.code, user=other)


def test_reassignment_by_a_leader_or_the_ioc_keeps_the_citizens_deadline(handled, officers, ioc_operator, province):
    fb, a = handled
    due = fb.due_at
    services.assign(
        fb, actor=a["leader"], agency_code="xa-kien-thanh", note="Đoạn kênh thuộc xã Kiến Thành.", at=vn(2025, 3, 4, 9)
    )
    assert fb.agency == province["xa_b"] and fb.status == Status.ASSIGNED and fb.due_at == due
    with pytest.raises(PermissionDenied):
        services.assign(fb, actor=a["leader"], agency_code="xa-kien-an")  # no longer theirs
    services.assign(fb, actor=ioc_operator, agency_code="ubnd-cho-moi", at=vn(2025, 3, 4, 10))
    assert fb.agency == province["huyen"]
    with pytest.raises(DomainError) as error:
        services.assign(fb, actor=ioc_operator, agency_code="ubnd-cho-moi")
    assert error.value.field == "agency_code"
    # the former holders still see it (it passed through them), with its history
    assert selectors.visible_feedback(officers["xa_a"]["specialist"]).filter(pk=fb.pk).exists()


def test_public_replies_reach_the_reporter_internal_comments_do_not(handled, citizen):
    fb, a = handled
    services.comment(fb, actor=a["specialist"], text="Ghi chú nội bộ.")
    services.comment(fb, actor=a["specialist"], text="Cơ quan đã tiếp nhận, sẽ kiểm tra.", public=True)
    notes = list(for_source(fb))
    assert [n.kind for n in notes] == ["feedback.reply"]
    with pytest.raises(PermissionDenied):
        services.comment(fb, actor=citizen, text="x")


def test_rejection_records_whether_it_came_within_the_refusal_window(report, officers, ioc_operator):
    a = officers["xa_a"]
    # received Monday 03/3 09:00 → refusal within 2 working days: by Wednesday 05/3
    on_time = report()
    services.reject(on_time, actor=a["leader"], reason="Thuộc thẩm quyền Công an.", at=vn(2025, 3, 5, 16))
    assert on_time.status == Status.REJECTED and on_time.refusal_on_time is True
    late = report(description="Khói bụi từ xưởng gỗ.", category_code="moi-truong", device_id="d2")
    services.reject(late, actor=a["specialist"], reason="Không thuộc phạm vi.", at=vn(2025, 3, 6, 8))
    assert late.refusal_on_time is False
    assert for_source(late).filter(kind="feedback.rejected").exists()


def test_reopen_within_seven_days_continues_the_clock(handled, citizen):
    fb, a = handled
    services.start(fb, actor=a["specialist"], at=vn(2025, 3, 4, 8))
    # due Monday 24/3; resolved Thursday 20/3 with 2 working days left (21/3, 24/3)
    services.resolve(fb, actor=a["specialist"], public_reply="Đã thu gom.", at=vn(2025, 3, 20, 10))
    assert fb.on_time and fb.handling_working_days == 13
    services.reopen(fb, reason="Rác vẫn còn.", actor=citizen, at=vn(2025, 3, 25, 16))
    # after 15:00: counting restarts Wednesday 26/3 with the 2 days left → Friday 28/3
    assert fb.status == Status.IN_PROGRESS and fb.due_at == vn(2025, 3, 28, 17)
    assert fb.resolved_at is None and fb.on_time is None and fb.reopened_count == 1
    services.resolve(fb, actor=a["specialist"], public_reply="Đã thu gom triệt để.", at=vn(2025, 3, 31, 9))
    assert fb.on_time is False
    # 03/3 → 31/3 is 20 working days, of which 4 (21, 24, 25, 26/3) the report stood resolved
    assert fb.handling_working_days == 16


def test_reopen_after_seven_days_is_refused(handled, citizen):
    fb, a = handled
    services.resolve(fb, actor=a["specialist"], public_reply="Đã thu gom.", at=vn(2025, 3, 10, 10))
    with pytest.raises(DomainError) as error:
        services.reopen(fb, reason="Rác vẫn còn.", actor=citizen, at=vn(2025, 3, 17, 10, 1))
    assert "7 ngày" in error.value.message
    assert fb.status == Status.RESOLVED


def test_reports_nobody_rated_are_closed_after_the_reopening_window(handled, report, officers, citizen):
    fb, a = handled
    services.resolve(fb, actor=a["specialist"], public_reply="Đã thu gom.", at=vn(2025, 3, 10, 10))
    refused = report(description="Xin cấp lại sổ đỏ bị mất.", phone="0912000111", device_id="r")
    services.reject(refused, actor=officers["xa_a"]["specialist"], reason="Không phải phản ánh.", at=vn(2025, 3, 4, 9))
    rated = report(description="Đèn đường hỏng trước chợ.", phone="0912000222", device_id="q")
    services.resolve(rated, actor=officers["xa_a"]["specialist"], public_reply="Đã thay bóng.", at=vn(2025, 3, 5, 9))
    services.rate(rated, rating=5, actor=citizen, at=vn(2025, 3, 5, 10))

    assert services.close_unrated(vn(2025, 3, 17, 9)) == 1  # the refusal: 13 days; the resolution: 6 days 23 h
    refused.refresh_from_db()
    assert refused.status == Status.CLOSED and refused.closed_at == vn(2025, 3, 17, 9)
    assert services.close_unrated(vn(2025, 3, 17, 10, 1)) == 1
    fb.refresh_from_db()
    assert fb.status == Status.CLOSED and fb.rating is None
    assert fb.events.last().action == "auto_close" and fb.events.last().is_public
    with pytest.raises(DomainError):
        services.reopen(fb, reason="Rác vẫn còn.", actor=citizen, at=vn(2025, 3, 17, 11))
    assert services.close_unrated(vn(2025, 4, 30)) == 0  # the rated one was closed by its rating


def test_a_duplicate_is_merged_its_reporter_told_now_and_when_the_original_is_resolved(
    report, officers, ioc_operator, citizen
):
    a = officers["xa_a"]
    original = report(phone="0912345678", device_id="a")
    duplicate = report(
        reporter=None,
        channel="ioc",
        phone="0987654321",
        email="b@example.vn",
        device_id="b",
        description="Kênh bị đổ rác, rất hôi.",
        at=vn(2025, 3, 3, 10),
    )
    services.merge(duplicate, into=original, actor=ioc_operator, at=vn(2025, 3, 3, 11))
    duplicate.refresh_from_db()
    assert duplicate.status == Status.MERGED and duplicate.merged_into == original and duplicate.closed_at
    assert selectors.final_report(duplicate) == original
    told = for_source(duplicate).get(kind="feedback.merged")
    assert told.recipient == "b@example.vn" and original.code in told.body
    assert told.link == f"https://dvc.example.gov.vn/phan-anh/{duplicate.code}/"  # an e-mail links to the report
    with pytest.raises(DomainError):
        services.merge(original, into=duplicate, actor=ioc_operator)  # not into a merged one
    with pytest.raises(DomainError):
        services.merge(original, into=original, actor=ioc_operator)
    services.resolve(original, actor=a["specialist"], public_reply="Đã thu gom rác.", at=vn(2025, 3, 4, 10))
    follow_up = for_source(duplicate).get(kind="feedback.original_resolved")
    assert follow_up.recipient == "b@example.vn" and "Đã thu gom rác." in follow_up.body
    assert for_source(original).filter(kind="feedback.resolved").count() == 1


def test_a_report_about_several_matters_is_split_and_each_part_routed(report, ioc_operator, officers, province):
    original = report(description="Rác ven kênh và có nhóm thanh niên đua xe mỗi tối.", photos=[jpeg()])
    with pytest.raises(DomainError) as error:
        services.split(original, actor=ioc_operator, parts=[{"category_code": "moi-truong", "description": "Rác"}])
    assert error.value.field == "parts"
    with pytest.raises(PermissionDenied):
        services.split(original, actor=officers["xa_a"]["specialist"], parts=[])
    parts = services.split(
        original,
        actor=ioc_operator,
        at=vn(2025, 3, 3, 14),
        parts=[
            {"category_code": "moi-truong", "description": "Rác thải ven kênh."},
            {"category_code": "an-ninh-trat-tu", "description": "Thanh niên đua xe mỗi tối."},
        ],
    )
    original.refresh_from_db()
    assert original.status == Status.SPLIT and original.closed_at == vn(2025, 3, 3, 14)
    assert [p.agency for p in parts] == [province["xa_a"], province["cong_an"]]
    assert all(
        p.split_from == original and p.received_at == original.received_at and p.photos.count() == 1 for p in parts
    )
    assert parts[0].due_at == original.due_at  # the citizen's clock does not restart
    assert for_source(original).get(kind="feedback.split").body.count("PA-2025-") >= 3


def test_a_report_that_cannot_be_located_waits_in_the_ioc_queue(categories, citizen, ioc_operator, province):
    fb = services.submit(
        services.Submission(
            category_code="moi-truong",
            description="Nước thải đen chảy ra sông.",
            address="Ấp Hòa Bình, một nơi không rõ",
        ),
        reporter=citizen,
        at=vn(2025, 3, 3, 9),
    )
    assert fb.status == Status.RECEIVED and fb.agency is None
    assert list(selectors.operator_queue()) == [fb]
    assert "assign" in selectors.available_actions(ioc_operator, fb)
    services.assign(fb, actor=ioc_operator, agency_code="xa-kien-thanh", at=vn(2025, 3, 3, 10))
    assert fb.agency == province["xa_b"] and not selectors.operator_queue().exists()
    services.reject(fb, actor=ioc_operator, reason="Trùng phản ánh đã xử lý.", at=vn(2025, 3, 3, 11))
    assert fb.status == Status.REJECTED


def test_contact_details_only_for_the_handling_agency_and_the_ioc(handled, officers, ioc_operator, admin_user):
    fb, a = handled
    assert selectors.can_read_contact(a["specialist"], fb) and selectors.can_read_contact(ioc_operator, fb)
    assert not selectors.can_read_contact(officers["xa_b"]["leader"], fb)
    assert not selectors.can_read_contact(admin_user, fb)


def test_public_reads_carry_no_personal_data(report):
    fb = report(
        phone="0912345678",
        email="hoa@example.vn",
        address="Số 12 đường Kênh Xáng",
        latitude="10.481234",
        longitude="105.479876",
    )
    row = selectors.public_reports().get(pk=fb.pk)
    deferred = row.get_deferred_fields()
    assert {"reporter_name", "reporter_phone", "reporter_email", "address", "token", "reporter_id"} <= deferred
    assert selectors.public_point(row) == (
        pytest.approx(__import__("decimal").Decimal("10.481")),
        pytest.approx(__import__("decimal").Decimal("105.480")),
    )


def test_audit_records_carry_no_personal_data(report, officers, citizen):
    fb = report(
        phone="0912345678",
        email="hoa@example.vn",
        address="Số 12 đường Kênh Xáng",
        description="Nhà ông Nguyễn Văn Tám đổ rác ra kênh.",
    )
    a = officers["xa_a"]
    services.comment(fb, actor=a["specialist"], text="Gọi cho chị Hoà 0912345678.")
    services.resolve(fb, actor=a["specialist"], public_reply="Đã nhắc nhở hộ Nguyễn Văn Tám.")
    services.rate(fb, rating=4, comment="Chị Hoà cảm ơn", token=fb.token)
    dump = json.dumps(
        list(AuditRecord.objects.filter(action__startswith="feedback.").values("before", "after")),
        ensure_ascii=False,
        default=str,
    )
    for secret in ("0912345678", "hoa@example.vn", "Kênh Xáng", "Nguyễn", "Hoà", fb.token):
        assert secret not in dump


def test_events_are_timestamped_with_their_agency(handled):
    fb, a = handled
    services.start(fb, actor=a["specialist"], at=vn(2025, 3, 4, 8))
    event = FeedbackEvent.objects.filter(feedback=fb, action="start").get()
    assert event.at == vn(2025, 3, 4, 8) and event.agency == fb.agency and event.actor == a["specialist"]
    assert event.from_status == Status.ASSIGNED and event.to_status == Status.IN_PROGRESS


def test_available_actions_follow_roles_and_states(handled, officers, citizen, ioc_operator):
    fb, a = handled
    assert selectors.available_actions(a["specialist"], fb) == ["start", "request_info", "resolve", "reject", "comment"]
    assert "assign" in selectors.available_actions(a["leader"], fb)
    assert selectors.available_actions(officers["xa_b"]["leader"], fb) == []
    assert selectors.available_actions(citizen, fb) == []
    services.resolve(fb, actor=a["specialist"], public_reply="Xong.", at=dt.datetime.now(dt.UTC))
    assert selectors.available_actions(citizen, fb) == ["rate", "reopen"]
    assert selectors.available_actions(None, fb, token=fb.token) == ["rate", "reopen"]
    assert "merge" not in selectors.available_actions(ioc_operator, fb)


# ---------------------------------------------------------------- the transition matrix

ALLOWED = {
    "assign": {"received", "assigned", "in_progress"},
    "start": {"assigned"},
    "request_info": {"assigned", "in_progress"},
    "provide_info": {"waiting_info"},
    "resolve": {"assigned", "in_progress"},
    "reject": {"received", "assigned", "in_progress", "waiting_info"},
    "merge": {"received", "assigned", "in_progress", "waiting_info"},
    "split": {"received", "assigned", "in_progress", "waiting_info"},
    "rate": {"resolved", "rejected"},
    "reopen": {"resolved"},
}


@pytest.mark.parametrize("status", Status.values)
def test_every_action_in_every_status(report, officers, ioc_operator, citizen, status):
    a = officers["xa_a"]
    other = report(description="Phản ánh gốc khác", device_id="goc", at=vn(2025, 3, 3, 8))
    calls = {
        "assign": lambda fb: services.assign(fb, actor=ioc_operator, agency_code="ubnd-cho-moi"),
        "start": lambda fb: services.start(fb, actor=a["specialist"]),
        "request_info": lambda fb: services.request_info(fb, actor=a["specialist"], question="?", at=vn(2025, 3, 4, 9)),
        "provide_info": lambda fb: services.provide_info(fb, text="Bổ sung.", actor=citizen, at=vn(2025, 3, 4, 10)),
        "resolve": lambda fb: services.resolve(fb, actor=a["specialist"], public_reply="Xong.", at=vn(2025, 3, 4, 11)),
        "reject": lambda fb: services.reject(fb, actor=ioc_operator, reason="Ngoài phạm vi.", at=vn(2025, 3, 4, 11)),
        "merge": lambda fb: services.merge(fb, into=other, actor=ioc_operator, at=vn(2025, 3, 4, 11)),
        "split": lambda fb: services.split(
            fb,
            actor=ioc_operator,
            at=vn(2025, 3, 4, 11),
            parts=[
                {"category_code": "moi-truong", "description": "Phần 1"},
                {"category_code": "giao-thong", "description": "Phần 2"},
            ],
        ),
        "rate": lambda fb: services.rate(fb, rating=4, actor=citizen, at=vn(2025, 3, 5, 9)),
        "reopen": lambda fb: services.reopen(fb, reason="Chưa xong.", actor=citizen, at=vn(2025, 3, 5, 9)),
    }
    for action, call in calls.items():
        fb = report(description=f"Phản ánh {action} {status}", device_id=action)
        Feedback.objects.filter(pk=fb.pk).update(
            status=status,
            resolved_at=vn(2025, 3, 4, 9) if status in ("resolved", "closed") else None,
            paused_at=vn(2025, 3, 4, 8) if status == "waiting_info" else None,
            paused_remaining_days=10 if status == "waiting_info" else None,
        )
        fb.refresh_from_db()
        if status in ALLOWED[action]:
            call(fb)
            assert Feedback.objects.get(pk=fb.pk).status != status or action == "assign"
        else:
            with pytest.raises(DomainError) as error:
                call(fb)
            assert error.value.field == "status", (action, status)
            assert "Không thể" in error.value.message and Status(status).label in error.value.message
            assert Feedback.objects.get(pk=fb.pk).status == status


def test_description_keeps_the_lines_the_citizen_typed(report):
    """Issue 17, item 8: multi-line texts keep their line breaks (core.text.nfc_lines); the
    title made from the description stays one line."""
    fb = report(description="Đường ngập sau mưa:\r\n-  đoạn trước chợ;\r\n\r\n\r\n- đoạn cầu Kiến An.  \r\n")
    fb.refresh_from_db()
    assert fb.description == "Đường ngập sau mưa:\n- đoạn trước chợ;\n\n- đoạn cầu Kiến An."
    assert fb.title == "Đường ngập sau mưa: - đoạn trước chợ; - đoạn cầu Kiến An."

"""The officers' document pages (/can-bo/van-ban/): each page opens for the officers it is for,
another agency's document is the 404 page, the primary actions post and come back to the
document, forms show the service's refusals on their fields, and lists cost a bounded number
of queries however many documents they hold."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from chinhquyenso.core.uploads import store_generated
from chinhquyenso.documents import edxml, services
from chinhquyenso.documents.models import Assignment, Direction, Document, Recipient
from chinhquyenso.documents.services import incoming
from tests.documents.incoming_support import issued_outgoing

Status = Document.Status
BASE = "/can-bo/van-ban/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def stored(pdf: bytes, user=None):
    return store_generated(pdf, content_type="application/pdf", extension="pdf", name="du-thao.pdf", user=user)


def make_draft(officers, province, pdf, *, agency="tu_phap", excerpt="Quyết định công bố thủ tục hành chính", **fields):
    fields.setdefault("recipients", [{"agency": province["ubnd"]}])
    return services.create_draft(
        officers[agency]["specialist"],
        agency=province[agency],
        document_type="quyet-dinh",
        excerpt=excerpt,
        file=stored(pdf),
        signer_name="Trần Văn Bình",
        signer_title="Giám đốc",
        **fields,
    )


def draft_form(province, pdf, **extra) -> dict:
    data = {
        "agency": str(province["tu_phap"].pk),
        "document_type": "cong-van",
        "unit_abbreviation": "VP",
        "place": "An Giang",
        "excerpt": "Về việc rà soát thủ tục hành chính năm 2026",
        "urgency": "urgent",
        "confidentiality": "normal",
        "signer_name": "Trần Văn Bình",
        "signer_title": "Giám đốc",
        "recipient_agencies": [str(province["ubnd"].pk), str(province["huyen"].pk)],
        "external_recipients": "000.00.00.G22; Bộ Nội vụ",
        "file": SimpleUploadedFile("du-thao.pdf", pdf, content_type="application/pdf"),
    }
    data.update(extra)
    return data


def sender_html(client, document) -> str:
    return client.get(BASE + f"{document.pk}/").content.decode()


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def bb_profile(settings, signing_settings):
    """PAdES-B-B: no time-stamp authority needed here (the signer's tests cover B-T)."""
    settings.CQS["SIGNING_DEFAULT_PROFILE"] = "B-B"


# ---------------------------------------------------------------- pages open for whom they are for


@pytest.mark.django_db
def test_every_page_opens_for_an_officer_and_not_for_a_citizen(officers, citizen, admin_user):
    specialist = signed_in(officers["tu_phap"]["specialist"])
    for path in ("", "soan-thao/", "so-di/", "so-den/", "tim-kiem/", "so-di/?nam=2025", "so-den/?loai=quyet-dinh"):
        response = specialist.get(BASE + path)
        assert response.status_code == 200, (path, response.status_code)
    page = specialist.get(BASE).content.decode()
    assert "Dự thảo của tôi (0)" in page and "Vào sổ văn bản đến" not in page  # not a clerk
    assert specialist.get(BASE + "vao-so/").status_code == 403
    clerk = signed_in(officers["tu_phap"]["clerk"])
    assert "Vào sổ văn bản đến" in clerk.get(BASE).content.decode()
    assert clerk.get(BASE + "vao-so/").status_code == 200
    assert signed_in(citizen).get(BASE).status_code == 403
    # The province administrator reads every register but drafts for no agency.
    admin = signed_in(admin_user)
    assert admin.get(BASE).status_code == 200 and admin.get(BASE + "so-den/").status_code == 200
    assert admin.get(BASE + "soan-thao/").status_code == 403
    assert Client().get(BASE)["Location"].startswith("/dang-nhap/")


@pytest.mark.django_db
def test_bad_query_values_are_named_not_500(officers):
    client = signed_in(officers["tu_phap"]["specialist"])
    assert client.get(BASE + "so-di/?nam=20x5").status_code == 400
    assert client.get(BASE + "so-di/?trang=999999").status_code == 400
    assert (
        client.get(BASE + f"so-di/?co_quan={officers['xa_a']['clerk'].memberships.get().agency_id}").status_code == 400
    )
    assert client.get(BASE + "so-den/?nam=²⁰²⁵").status_code == 400
    assert client.get(BASE + "soan-thao/?thay_the=²").status_code == 400
    assert client.get(BASE + "99999999999999999999/").status_code == 404
    assert client.get(BASE + "?hang=khong-co").status_code == 200  # an unknown queue falls back to the first


@pytest.mark.django_db
def test_hostile_action_values_are_messages_not_500(officers, province, sample_pdf):
    document = make_draft(officers, province, sample_pdf)
    client = signed_in(officers["tu_phap"]["specialist"])
    assert client.get(BASE + f"{document.pk}/phien-ban/99999999999999999999/").status_code == 404
    assert client.get(BASE + f"{document.pk}/dinh-kem/99999999999999999999/").status_code == 404
    response = client.post(BASE + f"{document.pk}/comment/", {"text": "x" * 4001}, follow=True)
    assert response.status_code == 200 and "Góp ý: Nội dung dài quá 4000 ký tự." in text_of(response)
    assert not document.comments.exists()


@pytest.mark.django_db
def test_the_back_office_links_the_documents_and_counts_the_officers_work(officers, province, sample_pdf):
    document = make_draft(officers, province, sample_pdf)
    services.submit(document, officers["tu_phap"]["specialist"])
    inbox = signed_in(officers["tu_phap"]["leader"]).get("/can-bo/").content.decode()
    nav = re.search(r'<nav aria-label="Chính">(.*?)</nav>', inbox, re.S).group(1)
    assert f'href="{BASE}"' in nav and ">Văn bản</a>" in nav
    assert f'<a href="{BASE}?hang=cho-duyet">Chờ tôi duyệt (1)</a>' in inbox
    assert f'<a href="{BASE}?hang=giao-toi">Được giao xử lý (0)</a>' in inbox
    assert "Quá hạn xử lý (0)" in inbox
    assert "Chờ tôi duyệt (0)" in signed_in(officers["xa_a"]["leader"]).get("/can-bo/").content.decode()


@pytest.mark.django_db
def test_the_back_office_counts_and_lists_an_overdue_assignment(officers, province):
    """A document assigned three weeks ago with a deadline ten days ago: the assignee's /can-bo/
    counts it under “Quá hạn xử lý”, and the overdue queue lists it; its leader sees it too."""
    long_ago = timezone.now() - dt.timedelta(days=21)
    document = incoming.register_incoming(
        officers["ubnd"]["clerk"],
        agency=province["ubnd"],
        document_type="cong-van",
        excerpt="Về việc báo cáo kết quả rà soát quá hạn",
        sender_name="Bộ Nội vụ",
        at=long_ago,
    )
    assignee = officers["ubnd"]["specialist"]
    incoming.assign(
        document,
        officers["ubnd"]["leader"],
        assignees=[incoming.Assignee(user_id=assignee.pk, role=Assignment.Role.LEAD)],
        deadline=(timezone.now() - dt.timedelta(days=10)).date(),
        at=long_ago,
    )
    for who in (assignee, officers["ubnd"]["leader"]):
        inbox = signed_in(who).get("/can-bo/").content.decode()
        assert f'<a href="{BASE}?hang=qua-han">Quá hạn xử lý (1)</a>' in inbox, who
        queue = text_of(signed_in(who).get(BASE + "?hang=qua-han"))
        assert "Về việc báo cáo kết quả rà soát quá hạn" in queue
    # Not another agency's.
    assert "Quá hạn xử lý (0)" in signed_in(officers["xa_a"]["leader"]).get("/can-bo/").content.decode()


# ---------------------------------------------------------------- a new draft


@pytest.mark.django_db
def test_a_draft_is_created_from_the_form_with_its_recipients(officers, province, sample_pdf):
    client = signed_in(officers["tu_phap"]["specialist"])
    response = client.post(BASE + "soan-thao/", draft_form(province, sample_pdf))
    document = Document.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{BASE}{document.pk}/"
    assert (document.status, document.urgency, document.document_type.code) == (Status.DRAFT, "urgent", "cong-van")
    assert document.current_file.content_type == "application/pdf" and document.versions.count() == 1
    recipients = {(r.channel, r.agency_id or r.electronic_code) for r in document.recipients.all()}
    assert recipients == {
        (Recipient.Channel.INTERNAL, province["ubnd"].pk),
        (Recipient.Channel.INTERNAL, province["huyen"].pk),
        (Recipient.Channel.BUS, "000.00.00.G22"),
    }
    page = text_of(client.get(response["Location"]))
    assert "Dự thảo văn bản đi" in page and "Bộ Nội vụ" in page and "Trình duyệt" in page


@pytest.mark.django_db
def test_the_place_is_asked_for_prefilled_and_reaches_the_envelope(officers, province, sample_pdf, settings):
    """Địa danh (Nghị định 30/2020): the form starts with the province's name, then with the place
    the agency last wrote; it is required, and the edXML envelope's PromulgationInfo/Place carries it."""
    settings.CQS["PROVINCE_NAME"] = "An Giang"
    client = signed_in(officers["tu_phap"]["specialist"])
    assert 'id="place" name="place" value="An Giang"' in client.get(BASE + "soan-thao/").content.decode()
    missing = client.post(BASE + "soan-thao/", draft_form(province, sample_pdf, place=""))
    assert missing.status_code == 400 and 'id="place-err"' in missing.content.decode()
    assert not Document.objects.exists()
    client.post(BASE + "soan-thao/", draft_form(province, sample_pdf, place="Long Xuyên"))
    document = Document.objects.get()
    assert document.place == "Long Xuyên" and "Địa danh Long Xuyên" in text_of(client.get(BASE + f"{document.pk}/"))
    assert edxml.envelope_for(document, document.recipients.all(), at=timezone.now()).place == "Long Xuyên"
    assert 'id="place" name="place" value="Long Xuyên"' in client.get(BASE + "soan-thao/").content.decode()


@pytest.mark.django_db
def test_the_form_shows_what_is_wrong_and_keeps_what_was_typed(officers, province, sample_pdf):
    client = signed_in(officers["tu_phap"]["specialist"])
    response = client.post(
        BASE + "soan-thao/",
        draft_form(province, sample_pdf, excerpt="", external_recipients="khong co ma; Bo Noi vu"),
    )
    html = response.content.decode()
    assert response.status_code == 400 and not Document.objects.exists()
    assert 'id="excerpt-err"' in html and "Hãy nhập trích yếu" in html
    assert 'id="external_recipients-err"' in html and "Dòng 1" in html
    assert 'value="Trần Văn Bình"' in html  # kept


@pytest.mark.django_db
def test_a_secret_document_is_refused_with_the_service_message(officers, province, sample_pdf):
    client = signed_in(officers["tu_phap"]["specialist"])
    response = client.post(BASE + "soan-thao/", draft_form(province, sample_pdf, confidentiality="secret"))
    html = response.content.decode()
    assert response.status_code == 400 and not Document.objects.exists()
    message = re.search(r'<p class="error" id="confidentiality-err">([^<]+)</p>', html)
    assert message and "mật" in message.group(1), html[:2000]


@pytest.mark.django_db
def test_a_non_pdf_is_refused(officers, province):
    client = signed_in(officers["tu_phap"]["specialist"])
    fake = SimpleUploadedFile("du-thao.pdf", b"not a pdf at all", content_type="application/pdf")
    response = client.post(BASE + "soan-thao/", draft_form(province, b"", file=fake))
    assert response.status_code == 400 and 'id="file-err"' in response.content.decode()
    assert not Document.objects.exists()


# ---------------------------------------------------------------- isolation


@pytest.mark.django_db
def test_another_agencys_document_is_not_found(officers, province, sample_pdf):
    document = make_draft(officers, province, sample_pdf)
    version = document.versions.get()
    outsider = signed_in(officers["xa_b"]["leader"])
    for path in (f"{document.pk}/", f"{document.pk}/tep/", f"{document.pk}/phien-ban/{version.number}/"):
        assert outsider.get(BASE + path).status_code == 404, path
    assert outsider.post(BASE + f"{document.pk}/submit/").status_code == 404
    assert outsider.post(BASE + f"{document.pk}/comment/", {"text": "xem trộm"}).status_code == 404
    document.refresh_from_db()
    assert document.status == Status.DRAFT and not document.comments.exists()
    assert document.excerpt not in outsider.get(BASE + "?hang=du-thao").content.decode()
    # The drafter's agency sees it and its file, never cached.
    insider = signed_in(officers["tu_phap"]["leader"])
    answer = insider.get(BASE + f"{document.pk}/tep/")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert "no-store" in answer["Cache-Control"]
    assert insider.get(BASE + f"{document.pk}/phien-ban/9/").status_code == 404


# ---------------------------------------------------------------- primary actions


@pytest.mark.django_db
def test_each_officer_sees_the_one_action_their_role_takes_next(officers, province, sample_pdf):
    document = make_draft(officers, province, sample_pdf)
    specialist, leader = signed_in(officers["tu_phap"]["specialist"]), signed_in(officers["tu_phap"]["leader"])
    page = specialist.get(BASE + f"{document.pk}/").content.decode()
    assert "Trình duyệt</button>" in page and "Duyệt văn bản</button>" not in page
    assert "Duyệt văn bản</button>" not in leader.get(BASE + f"{document.pk}/").content.decode()

    response = specialist.post(BASE + f"{document.pk}/submit/")
    assert response.status_code == 302 and response["Location"] == f"{BASE}{document.pk}/"
    document.refresh_from_db()
    assert document.status == Status.IN_REVIEW
    page = text_of(leader.get(BASE + f"{document.pk}/"))
    assert "Chờ: Lãnh đạo — bước 1" in page and "Duyệt văn bản" in page
    assert "Duyệt văn bản</button>" not in specialist.get(BASE + f"{document.pk}/").content.decode()

    # Returning asks for the reason; then the drafter has it back.
    leader.post(BASE + f"{document.pk}/return/", {"reason": ""})
    document.refresh_from_db()
    assert document.status == Status.IN_REVIEW
    leader.post(BASE + f"{document.pk}/return/", {"reason": "Sửa căn cứ pháp lý"})
    document.refresh_from_db()
    assert document.status == Status.DRAFT
    specialist.post(BASE + f"{document.pk}/comment/", {"text": "Đã sửa căn cứ"})
    specialist.post(
        BASE + f"{document.pk}/version/",
        {"file": SimpleUploadedFile("v2.pdf", sample_pdf, content_type="application/pdf"), "note": "Sửa căn cứ"},
    )
    specialist.post(BASE + f"{document.pk}/submit/")
    response = leader.post(BASE + f"{document.pk}/approve/", {"note": "Đồng ý"})
    follow = leader.get(response["Location"])
    document.refresh_from_db()
    assert document.status == Status.APPROVED and document.versions.count() == 2
    page = text_of(follow)
    assert "Đã duyệt văn bản. Văn bản chờ lãnh đạo ký số." in page
    assert "Sửa căn cứ pháp lý" in page and "Đã sửa căn cứ" in page  # timeline and comments
    assert "Ký số (chữ ký lãnh đạo)" in page


@pytest.mark.django_db
def test_a_refused_action_is_a_message_and_changes_nothing(officers, province, sample_pdf):
    document = make_draft(officers, province, sample_pdf)
    specialist = signed_in(officers["tu_phap"]["specialist"])
    response = specialist.post(BASE + f"{document.pk}/approve/", follow=True)
    document.refresh_from_db()
    assert document.status == Status.DRAFT
    assert "Duyệt:" in text_of(response)
    assert specialist.post(BASE + f"{document.pk}/khong-co/").status_code == 404
    assert specialist.get(BASE + f"{document.pk}/submit/").status_code == 405


@pytest.mark.django_db
def test_recall_needs_the_confirmation_box(officers, province, sample_pdf):
    document = make_draft(officers, province, sample_pdf)
    Document.objects.filter(pk=document.pk).update(status=Status.ISSUED, symbol="01/QĐ-STP")
    leader = signed_in(officers["tu_phap"]["leader"])
    page = leader.get(BASE + f"{document.pk}/").content.decode()
    assert "Thu hồi văn bản" in page and "Soạn văn bản thay thế" in page
    leader.post(BASE + f"{document.pk}/recall/", {"reason": "Sai thể thức"})
    document.refresh_from_db()
    assert document.status == Status.ISSUED
    leader.post(BASE + f"{document.pk}/recall/", {"reason": "Sai thể thức", "xac_nhan": "1"})
    document.refresh_from_db()
    assert document.status == Status.RECALLED and document.recall_reason == "Sai thể thức"


# ---------------------------------------------------------------- the whole outgoing → incoming path


@pytest.mark.django_db(transaction=True)
def test_draft_to_issue_to_the_recipients_register_and_back(officers, province, sample_pdf, signing_keys, bb_profile):
    signing_keys.for_agency(province["tu_phap"])
    signing_keys.for_user(officers["tu_phap"]["leader"], title="Giám đốc")
    document = make_draft(officers, province, sample_pdf)
    specialist, leader, clerk = (signed_in(officers["tu_phap"][role]) for role in ("specialist", "leader", "clerk"))
    specialist.post(BASE + f"{document.pk}/submit/")
    leader.post(BASE + f"{document.pk}/approve/")
    leader.post(BASE + f"{document.pk}/sign/")
    document.refresh_from_db()
    assert document.status == Status.SIGNED and document.signature_count == 1
    assert "Cấp số, ký số cơ quan và ban hành</button>" in clerk.get(BASE + f"{document.pk}/").content.decode()
    response = clerk.post(BASE + f"{document.pk}/issue/")
    document.refresh_from_db()
    assert document.status == Status.ISSUED and document.number == 1 and document.signature_count == 2
    page = text_of(clerk.get(response["Location"]))
    assert f"Đã ban hành văn bản số {document.symbol}" in page and "Kiểm tra chữ ký số" in page
    signed = clerk.get(BASE + f"{document.pk}/tep/?tai=1")
    assert signed.status_code == 200 and "attachment" in signed["Content-Disposition"]

    # It is in the sender's outgoing register and the recipient's incoming register.
    assert document.symbol in clerk.get(BASE + "so-di/").content.decode()
    copy = Document.objects.get(direction=Direction.INCOMING, source_document=document)
    ubnd_leader = signed_in(officers["ubnd"]["leader"])
    register = text_of(ubnd_leader.get(BASE + "so-den/"))
    assert document.symbol in register and "Sở Tư pháp" in register
    assert "Văn bản đến chờ phân công (1)" in ubnd_leader.get(BASE).content.decode()

    # The recipient's leader assigns it; a bad form is shown with its messages.
    bad = ubnd_leader.post(BASE + f"{copy.pk}/assign/", {"lead_person": "999999"})
    assert bad.status_code == 400 and 'id="lead_person-err"' in bad.content.decode()
    assignee = officers["ubnd"]["specialist"]
    response = ubnd_leader.post(
        BASE + f"{copy.pk}/assign/",
        {"lead_person": str(assignee.pk), "instructions": "Giao chuyên viên tham mưu", "deadline": "2199-01-31"},
    )
    assert response.status_code == 302
    copy.refresh_from_db()
    task = copy.assignments.get()
    assert copy.status == Status.ASSIGNED and task.user == assignee and task.role == Assignment.Role.LEAD

    # The assignee handles it and reports done; the sender sees each status.
    handler = signed_in(assignee)
    assert "Được giao xử lý (1)" in handler.get(BASE).content.decode()
    handler.post(BASE + f"{copy.pk}/start/", {"assignment": str(task.pk), "note": "Đang rà soát"})
    handler.post(
        BASE + f"{copy.pk}/complete/", {"assignment": str(task.pk), "result_note": "Đã tham mưu văn bản trả lời"}
    )
    copy.refresh_from_db()
    assert copy.status == Status.DONE
    page = text_of(handler.get(BASE + f"{copy.pk}/"))
    assert "Đã phân công" in page and "Đang xử lý" in page and "Đã xử lý xong" in page
    sender_page = text_of(specialist.get(BASE + f"{document.pk}/"))
    assert "Chuyển văn bản đến nơi nhận trong tỉnh" in sender_page and "recipient_status" not in sender_page
    assert re.search(r"UBND tỉnh An Giang 000.00.00.H01 Trong tỉnh \(trực tiếp\) Đã xử lý xong", sender_page), (
        sender_page
    )
    # Not only the last status: the sender's page lists each one the recipient reported, with its time.
    row = next(r for r in re.findall(r"<tr>.*?</tr>", sender_html(specialist, document), re.S) if "000.00.00.H01" in r)
    trail = re.findall(r"<li>([^<:]+): (\d\d:\d\d \d\d/\d\d/\d{4})</li>", row)
    assert [label for label, _ in trail] == ["Đã gửi", "Đã nhận", "Đã phân công", "Đang xử lý", "Đã xử lý xong"], row


@pytest.mark.django_db
def test_the_clerk_registers_a_paper_document_once(officers, province, sample_pdf):
    clerk = signed_in(officers["xa_a"]["clerk"])
    form = {
        "agency": str(province["xa_a"].pk),
        "document_type": "cong-van",
        "sender_name": "Bộ Tư pháp",
        "sender_code": "000.00.00.G08",
        "symbol": "123/BTP-HTQTCT",
        "number": "123",
        "issued_on": "2026-11-20",
        "excerpt": "Về việc hướng dẫn đăng ký khai sinh",
        "urgency": "normal",
        "confidentiality": "normal",
        "idempotency_key": "k-1",
    }
    response = clerk.post(BASE + "vao-so/", {**form, "file": SimpleUploadedFile("cv.pdf", sample_pdf)})
    document = Document.objects.get()
    assert response["Location"] == f"{BASE}{document.pk}/"
    assert (document.direction, document.arrival_number, document.status) == ("incoming", 1, Status.REGISTERED)
    again = clerk.post(BASE + "vao-so/", {**form, "file": SimpleUploadedFile("cv.pdf", sample_pdf)})
    assert again["Location"] == response["Location"] and Document.objects.count() == 1
    bad = clerk.post(BASE + "vao-so/", {**form, "number": "12a", "idempotency_key": "k-2", "sender_name": ""})
    html = bad.content.decode()
    assert bad.status_code == 400 and 'id="number-err"' in html and 'id="sender_name-err"' in html
    assert Document.objects.count() == 1


@pytest.mark.django_db
def test_search_posts_and_finds_without_diacritics(officers, province, sample_pdf):
    for agency, excerpt in (("tu_phap", "Quyết định thành lập tổ công tác"), ("xa_b", "Quyết định của xã khác")):
        incoming.register_incoming(
            officers[agency]["clerk"],
            agency=province[agency],
            document_type="quyet-dinh",
            excerpt=excerpt,
            sender_name="UBND tỉnh An Giang",
            file=stored(sample_pdf),
        )
    make_draft(officers, province, sample_pdf, excerpt="Dự thảo quyết định thành lập hội đồng")
    client = signed_in(officers["tu_phap"]["specialist"])
    response = client.post(BASE + "tim-kiem/", {"q": "quyet dinh thanh lap"})
    assert response.status_code == 302 and "quyet" not in response["Location"]
    page = text_of(client.get(response["Location"]))
    assert "Quyết định thành lập tổ công tác" in page and "xã khác" not in page
    assert "Dự thảo quyết định thành lập hội đồng" in page and ": 2 văn bản" in page  # outgoing ones too
    assert client.get(BASE + "tim-kiem/?q=quyet").status_code == 302  # terms never in the address


# ---------------------------------------------------------------- query counts


LISTS = (  # (who, page, a text the 12th document puts there)
    ("specialist", BASE + "?hang=du-thao", "Dự thảo số 10"),
    ("leader", BASE + "?hang=cho-duyet", "Dự thảo số 11"),
    ("leader", BASE + "so-di/", "Quyết định số 11"),
    ("clerk", BASE + "so-den/", "Công văn đến số 11"),
    ("leader", BASE + "?hang=den-cho-phan-cong", "Công văn đến số 11"),
)


def add_documents(officers, province, pdf, start: int, count: int) -> None:
    """Drafts (half of them submitted) of the Sở Tư pháp, and paper documents in its incoming register."""
    for n in range(start, start + count):
        document = make_draft(officers, province, pdf, excerpt=f"Dự thảo số {n}")
        if n % 2:
            services.submit(document, officers["tu_phap"]["specialist"])
        incoming.register_incoming(
            officers["tu_phap"]["clerk"],
            agency=province["tu_phap"],
            document_type="cong-van",
            excerpt=f"Công văn đến số {n}",
            sender_name="Bộ Tư pháp",
        )
        issued_outgoing(province["tu_phap"], excerpt=f"Quyết định số {n}", at=timezone.now())


@pytest.mark.django_db
def test_lists_cost_the_same_queries_for_many_documents(officers, province, sample_pdf, django_assert_max_num_queries):
    clients = {role: signed_in(officers["tu_phap"][role]) for role in ("specialist", "leader", "clerk")}
    add_documents(officers, province, sample_pdf, 0, 2)
    costs = {}
    for role, path, _ in LISTS:
        # 32 at most, the menu's checks included (the person index's grant and the pest pages' link are
        # one query each).
        with django_assert_max_num_queries(32) as few:
            assert clients[role].get(path).status_code == 200
        costs[path] = len(few.captured_queries)
    add_documents(officers, province, sample_pdf, 2, 10)
    for role, path, newest in LISTS:
        with django_assert_max_num_queries(costs[path]):  # not one more per row
            html = clients[role].get(path).content.decode()
        assert newest in html, path


@pytest.mark.django_db
def test_an_assigned_document_is_handled_from_its_page(officers, province, sample_pdf):
    """Without the outgoing side: a paper document registered by the clerk, assigned to a unit."""
    document = incoming.register_incoming(
        officers["ubnd"]["clerk"],
        agency=province["ubnd"],
        document_type="cong-van",
        excerpt="Về việc báo cáo tình hình",
        sender_name="Bộ Nội vụ",
        file=stored(sample_pdf),
    )
    leader = signed_in(officers["ubnd"]["leader"])
    page = leader.get(BASE + f"{document.pk}/").content.decode()
    assert "Phân công xử lý</button>" in page and "Đơn vị chủ trì" in page
    leader.post(BASE + f"{document.pk}/assign/", {"lead_unit": str(province["tu_phap"].pk), "instructions": "Chủ trì"})
    task = document.assignments.get()
    assert task.agency_id == province["tu_phap"].pk
    # A leader of the unit handles it (the unit, not a person, was named): it is in their queue
    # and its page opens for them, though the document is the province committee's.
    unit_leader = signed_in(officers["tu_phap"]["leader"])
    assert "Được giao xử lý (1)" in unit_leader.get(BASE).content.decode()
    page = unit_leader.get(BASE + f"{document.pk}/")
    assert page.status_code == 200 and "Báo cáo đã xử lý xong</button>" in page.content.decode()
    unit_leader.post(BASE + f"{document.pk}/complete/", {"assignment": str(task.pk), "result_note": "Đã báo cáo"})
    document.refresh_from_db()
    assert document.status == Status.DONE
    # Another unit's officer still gets the 404 page.
    assert signed_in(officers["cong_an"]["leader"]).get(BASE + f"{document.pk}/").status_code == 404


@pytest.mark.django_db
def test_a_replacement_starts_from_the_issued_document(officers, province, sample_pdf):
    issued = issued_outgoing(province["tu_phap"], excerpt="Quyết định có sai sót", at=timezone.now())
    Recipient.objects.create(
        document=issued, channel=Recipient.Channel.INTERNAL, agency=province["huyen"], name=province["huyen"].name
    )
    client = signed_in(officers["tu_phap"]["specialist"])
    form = client.get(BASE + f"soan-thao/?thay_the={issued.pk}").content.decode()
    assert f"Soạn văn bản thay thế {issued.symbol}" in form and "Quyết định có sai sót</textarea>" in form
    assert re.search(rf'<option value="{province["huyen"].pk}" selected>', form)
    data = draft_form(
        province, sample_pdf, excerpt="Quyết định thay thế", recipient_agencies=[str(province["huyen"].pk)]
    )
    response = client.post(BASE + f"soan-thao/?thay_the={issued.pk}", data)
    replacement = Document.objects.get(replaces=issued)
    assert response["Location"] == f"{BASE}{replacement.pk}/" and replacement.status == Status.DRAFT
    assert f"Thay thế văn bản {issued.symbol}" in text_of(client.get(response["Location"]))
    # Only an issued document of one's own agency is replaced.
    assert signed_in(officers["xa_a"]["specialist"]).get(BASE + f"soan-thao/?thay_the={issued.pk}").status_code == 404
    assert client.get(BASE + f"soan-thao/?thay_the={replacement.pk}").status_code == 403

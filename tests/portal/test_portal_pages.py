"""The citizen portal as a citizen uses it: find a procedure, submit online
through the wizard, come back after a lost connection, track the dossier."""

import io
import re

import pytest
from django.test import Client
from pypdf import PdfReader

from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier, EDataItem
from chinhquyenso.portal.models import SubmissionDraft

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_search_page_without_diacritics_and_with_a_typo(birth_procedure):
    html = Client().get("/thu-tuc/", {"q": "dang ky khai sinh"}).content.decode()
    assert "Đăng ký khai sinh" in html and "1 thủ tục phù hợp" in html
    assert "Đăng ký khai sinh" in Client().get("/thu-tuc/", {"q": "khai sinj"}).content.decode()
    assert "cdn" not in html.lower()


def test_home_lists_fields_and_agencies(birth_procedure):
    html = Client().get("/").content.decode()
    assert "Hộ tịch" in html and "UBND xã Kiến An" in html
    by_agency = Client().get("/thu-tuc/", {"co_quan": "xa-kien-an"}).content.decode()
    assert "Đăng ký khai sinh" in by_agency
    assert "Đăng ký khai sinh" not in Client().get("/thu-tuc/", {"co_quan": "so-tu-phap"}).content.decode()


def test_procedure_page_shows_what_a_citizen_needs(birth_procedure):
    html = Client().get("/thu-tuc/1.001193/").content.decode()
    for text in (
        "Đăng ký khai sinh",
        "3 ngày làm việc",
        "8.000 đồng",
        "4.000 đồng (giảm 50%)",
        "Giấy chứng sinh",
        "Nộp hồ sơ trực tuyến",
        "UBND xã Kiến An",
        "Trực tuyến toàn trình",
    ):
        assert text in html, text
    assert Client().get("/thu-tuc/khong-co/").status_code == 404


def test_submission_requires_a_citizen_account(birth_procedure, officers):
    assert Client().get("/thu-tuc/1.001193/nop-truc-tuyen/")["Location"].startswith("/dang-nhap/?next=")
    assert signed_in(officers["xa_a"]["counter_officer"]).get("/thu-tuc/1.001193/nop-truc-tuyen/").status_code == 403


def wizard_start(client) -> int:
    response = client.get("/thu-tuc/1.001193/nop-truc-tuyen/")
    return int(re.search(r"/nop-ho-so/(\d+)/", response["Location"]).group(1))


def test_wizard_prefills_from_account_and_population_registry(birth_procedure, citizen):
    client = signed_in(citizen)
    draft_id = wizard_start(client)
    html = client.get(f"/nop-ho-so/{draft_id}/nguoi-nop/").content.decode()
    assert "Nguyễn Thị Hoà" in html and "089012345678" in html
    assert "Cơ sở dữ liệu quốc gia về dân cư" in html
    assert "tỉnh An Giang" in html  # address from the population simulator


def test_wizard_end_to_end_with_upload_and_reuse(birth_procedure, citizen, province, admin_user):
    # The citizen already holds an electronic birth certificate in the e-data store.
    old = store_upload(PDF + b"old", original_name="giay-chung-sinh.pdf")
    item = EDataItem.objects.create(
        owner=citizen,
        result_type="giay-chung-sinh",
        title="Giấy chứng sinh (điện tử)",
        file=old,
        issued_at="2024-05-01T08:00:00+07:00",
    )
    client = signed_in(citizen)
    draft_id = wizard_start(client)
    step1 = client.post(
        f"/nop-ho-so/{draft_id}/nguoi-nop/",
        {"phone": "0912345678", "address": "Ấp Long Hòa", "agency_code": "xa-kien-an", "note": "Khai sinh cho con"},
    )
    assert step1["Location"].endswith("/giay-to/")
    with open_upload("to-khai.pdf", PDF) as upload:
        step2 = client.post(
            f"/nop-ho-so/{draft_id}/giay-to/", {"component-1": upload, "component-2-edata": item.pk, "next": "1"}
        )
    assert step2["Location"].endswith("/xem-lai/"), step2.content.decode()[:500]
    review = client.get(f"/nop-ho-so/{draft_id}/xem-lai/").content.decode()
    assert "4.000 đồng" in review and "to-khai.pdf" in review and "dùng lại từ kho dữ liệu" in review
    refused = client.post(f"/nop-ho-so/{draft_id}/xem-lai/", {})
    assert "cam đoan" in refused.content.decode() and not Dossier.objects.exists()
    done = client.post(f"/nop-ho-so/{draft_id}/xem-lai/", {"pledge": "1"})
    dossier = Dossier.objects.get()
    assert done["Location"] == f"/ho-so/{dossier.code}/bien-nhan/"
    assert dossier.channel == "online" and dossier.applicant_phone == "0912345678"
    assert dossier.components.get(required__order=2).reused_from == item
    # A second click (the same form posted again) does not submit twice.
    again = client.post(f"/nop-ho-so/{draft_id}/xem-lai/", {"pledge": "1"})
    assert again["Location"] == f"/ho-so/{dossier.code}/bien-nhan/" and Dossier.objects.count() == 1
    receipt = client.get(done["Location"]).content.decode()
    assert dossier.code in receipt and "dự kiến" in receipt
    pdf = client.get(f"/ho-so/{dossier.code}/bien-nhan.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert dossier.code in " ".join(text.split()) and "Nguyễn Thị Hoà" in text
    store = client.get("/ca-nhan/kho-du-lieu/").content.decode()
    assert "Giấy chứng sinh (điện tử)" in store and dossier.code in store


class open_upload:
    def __init__(self, name, data):
        from django.core.files.uploadedfile import SimpleUploadedFile

        self.file = SimpleUploadedFile(name, data)

    def __enter__(self):
        return self.file

    def __exit__(self, *exc):
        return False


def test_a_refused_upload_keeps_what_was_typed_and_uploaded(birth_procedure, citizen):
    client = signed_in(citizen)
    draft_id = wizard_start(client)
    client.post(
        f"/nop-ho-so/{draft_id}/nguoi-nop/",
        {"phone": "0912345678", "address": "Ấp Long Hòa", "agency_code": "xa-kien-an"},
    )
    with open_upload("to-khai.pdf", PDF) as good, open_upload("virus.pdf", b"MZ\x90\x00 not a pdf") as bad:
        page = client.post(f"/nop-ho-so/{draft_id}/giay-to/", {"component-1": good, "component-2": bad, "next": "1"})
    html = page.content.decode()
    assert page.status_code == 200 and "định dạng" in html and "to-khai.pdf" in html
    draft = SubmissionDraft.objects.get(pk=draft_id)
    assert "1" in draft.components and "2" not in draft.components
    assert draft.applicant["address"] == "Ấp Long Hòa"


def test_draft_survives_a_lost_connection(birth_procedure, citizen):
    first = signed_in(citizen)
    draft_id = wizard_start(first)
    first.post(
        f"/nop-ho-so/{draft_id}/nguoi-nop/",
        {"phone": "0912345678", "address": "Ấp Long Hòa 2", "agency_code": "xa-kien-an"},
    )
    later = signed_in(citizen)  # a new browser session
    assert wizard_start(later) == draft_id
    assert "Ấp Long Hòa 2" in later.get(f"/nop-ho-so/{draft_id}/nguoi-nop/").content.decode()
    assert "Đăng ký khai sinh" in later.get("/ca-nhan/").content.decode()


def test_invalid_phone_is_shown_next_to_the_field_and_kept(birth_procedure, citizen):
    client = signed_in(citizen)
    draft_id = wizard_start(client)
    page = client.post(
        f"/nop-ho-so/{draft_id}/nguoi-nop/", {"phone": "12ab", "address": "Ấp Long Hòa", "agency_code": "xa-kien-an"}
    )
    html = page.content.decode()
    assert 'id="phone-err"' in html and "Số điện thoại không hợp lệ" in html and 'value="12ab"' in html


def test_drafts_of_others_are_not_reachable(birth_procedure, citizen):
    from chinhquyenso.accounts import services as accounts

    other = accounts.create_citizen(identity_number="089012345670", full_name="Lê Văn Tư", password="Cong-dan-2025")
    draft_id = wizard_start(signed_in(citizen))
    assert signed_in(other).get(f"/nop-ho-so/{draft_id}/nguoi-nop/").status_code == 404


def test_tracking_public_shows_status_only_owner_sees_everything(birth_procedure, citizen, officers):
    upload = store_upload(PDF, original_name="to-khai.pdf", user=citizen)
    dossier = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=[{"order": 1, "file_id": upload.sha256}, {"order": 2, "on_paper": True}],
    )
    public = Client().get("/tra-cuu/", {"ma": dossier.code}).content.decode()
    assert "Chờ tiếp nhận" in public and "Đăng ký khai sinh" in public
    assert "Nguyễn Thị Hoà" not in public and "xem tệp" not in public
    owner = signed_in(citizen).get("/tra-cuu/", {"ma": dossier.code}).content.decode()
    assert "xem tệp" in owner and "Quá trình xử lý" in owner
    assert "Không tìm thấy hồ sơ" in Client().get("/tra-cuu/", {"ma": "KHONG-CO"}).content.decode()


def test_electronic_result_downloadable_by_owner_only(birth_procedure, citizen, officers):
    xa = officers["xa_a"]
    dossier = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=[{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}],
    )
    services.accept(dossier, actor=xa["counter_officer"])
    services.forward(dossier, actor=xa["specialist"])
    result_file = store_upload(PDF + b"result", original_name="gks.pdf", user=xa["leader"])
    services.attach_result(dossier, actor=xa["leader"], file=result_file, number="123/GKS")
    page = signed_in(citizen).get("/tra-cuu/", {"ma": dossier.code}).content.decode()
    assert f"/tep/{result_file.sha256}/?tai=1" in page
    download = signed_in(citizen).get(f"/tep/{result_file.sha256}/", {"tai": "1"})
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff" and "sandbox" in download["Content-Security-Policy"]
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    from chinhquyenso.accounts import services as accounts

    stranger = accounts.create_citizen(identity_number="089012345670", full_name="Lê Văn Tư", password="Cong-dan-2025")
    assert signed_in(stranger).get(f"/tep/{result_file.sha256}/").status_code == 404
    assert Client().get(f"/tep/{result_file.sha256}/").status_code == 302


def test_login_page_and_session_cookie_flags(citizen):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/dang-nhap/")
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    token = page.cookies["csrftoken"].value
    wrong = client.post("/dang-nhap/", {"username": "089012345678", "password": "sai", "csrfmiddlewaretoken": token})
    assert (
        "Tên đăng nhập hoặc mật khẩu không đúng" in wrong.content.decode()
        and 'id="password-err"' in wrong.content.decode()
    )
    ok = client.post(
        "/dang-nhap/",
        {
            "username": "089012345678",
            "password": "Cong-dan-2025",
            "csrfmiddlewaretoken": token,
            "next": "https://evil.example/",
        },
    )
    assert ok["Location"] == "/ca-nhan/"  # an outside `next` is ignored
    cookie = ok.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


def test_forms_refuse_posts_without_csrf_token(birth_procedure, citizen):
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)
    draft_id = wizard_start(client)
    assert client.post(f"/nop-ho-so/{draft_id}/xem-lai/", {"pledge": "1"}).status_code == 403
    assert not Dossier.objects.exists()


def test_output_is_escaped(birth_procedure):
    html = Client().get("/thu-tuc/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html

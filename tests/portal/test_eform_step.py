"""The wizard's "Tờ khai" step without JavaScript: prefill, field-by-field Vietnamese errors,
saved with the draft, the declaration PDF attached at submission, the typed values on the
officer's page, the version kept by the dossier, and the subject of the result in the e-data store."""

import copy
import io
import re

import pytest
from django.test import Client
from pypdf import PdfReader

from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier, EDataItem
from chinhquyenso.portal.models import SubmissionDraft
from chinhquyenso.procedures import services as procedures
from chinhquyenso.procedures.models import ProcedureForm

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
CHILD = {
    # The requester's fields as prefilled (a browser posts them back).
    "nyc_ho_ten": "Nguyễn Thị Hoà",
    "nyc_so_dinh_danh": "089012345678",
    "nyc_noi_cu_tru": "Ấp Long Hòa, xã Kiến An",
    "nyc_quan_he": "Mẹ",
    "ho_ten": "Nguyễn Văn An",
    "ngay_sinh": "01/02/2026",
    "gioi_tinh": "Nam",
    "dan_toc": "Kinh",
    "quoc_tich": "Việt Nam",
    "noi_sinh": "Bệnh viện Đa khoa khu vực tỉnh An Giang",
    "me_ho_ten": "Nguyễn Thị Hoà",
}


@pytest.fixture
def birth_form(birth_procedure, admin_user):
    procedures.load_forms(actor=admin_user, codes=["1.001193"])
    return ProcedureForm.objects.get(procedure=birth_procedure)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def start(client) -> int:
    response = client.get("/thu-tuc/1.001193/nop-truc-tuyen/")
    draft_id = int(re.search(r"/nop-ho-so/(\d+)/", response["Location"]).group(1))
    step1 = client.post(
        f"/nop-ho-so/{draft_id}/nguoi-nop/",
        {"phone": "0912345678", "address": "Ấp Long Hòa, xã Kiến An", "agency_code": "xa-kien-an"},
    )
    assert step1.status_code == 302, step1.content.decode()[:1000]
    return draft_id, step1["Location"]


def test_the_step_comes_after_the_applicant_and_is_prefilled(birth_form, citizen):
    client = signed_in(citizen)
    draft_id, after_applicant = start(client)
    assert after_applicant == f"/nop-ho-so/{draft_id}/to-khai/"
    page = client.get(after_applicant)
    html = page.content.decode()
    assert page.status_code == 200
    assert '<li aria-current="step">Tờ khai</li>' in html
    assert "điền sẵn từ tài khoản, Cơ sở dữ liệu quốc gia về dân cư" in html
    # The applicant (a mother: "Thị") fills the requester's and the mother's fields.
    assert re.search(r'id="f-nyc_ho_ten" name="nyc_ho_ten" value="Nguyễn Thị Hoà"', html)
    assert re.search(r'id="f-me_ho_ten" name="me_ho_ten" value="Nguyễn Thị Hoà"', html)
    assert re.search(
        r'id="f-nyc_so_dinh_danh" name="nyc_so_dinh_danh" value="089012345678"[^>]*inputmode="numeric"', html
    )
    assert (
        'id="f-ngay_sinh" name="ngay_sinh" value="" placeholder="ngày/tháng/năm" maxlength="10" inputmode="numeric"'
        in html
    )
    assert 'autocomplete="name"' in html and 'for="f-ho_ten"' in html
    assert "<legend>Giới tính *</legend>" in html.replace('<span aria-hidden="true">*</span>', "*")


def test_prefill_from_the_edata_store(birth_form, citizen):
    """The father's name comes from the marriage certificate the couple got online."""
    EDataItem.objects.create(
        owner=citizen,
        result_type="giay-chung-nhan-ket-hon",
        title="Giấy chứng nhận kết hôn",
        subject="Trần Văn Bình và Nguyễn Thị Hoà",
        facts={"ho_ten_chong": "Trần Văn Bình", "so_dinh_danh_chong": "089098765432"},
        file=store_upload(PDF + b"kh", original_name="kh.pdf"),
        issued_at="2024-05-01T08:00:00+07:00",
    )
    client = signed_in(citizen)
    draft_id, url = start(client)
    html = client.get(url).content.decode()
    assert 'name="cha_ho_ten" value="Trần Văn Bình"' in html
    assert 'name="cha_so_dinh_danh" value="089098765432"' in html


def test_errors_without_javascript_name_each_field_in_vietnamese_and_keep_what_was_typed(birth_form, citizen):
    client = signed_in(citizen)
    draft_id, url = start(client)
    typed = {**CHILD, "ho_ten": "", "ngay_sinh": "31/02/2026", "cha_so_dinh_danh": "123", "next": "1"}
    page = client.post(url, typed)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Tờ khai còn 3 mục cần sửa" in html
    assert '<a href="#f-ho_ten">Hãy nhập “Họ, chữ đệm, tên”.</a>' in html
    assert 'aria-invalid="true" aria-describedby="f-ho_ten-help f-ho_ten-err"' in html
    assert '<p class="error" id="f-ngay_sinh-err">“Ngày, tháng, năm sinh”: hãy nhập ngày có thật' in html
    assert "“Số định danh cá nhân của người cha” gồm 12 chữ số" in html
    assert "required property" not in html and "does not match" not in html
    assert 'name="ngay_sinh" value="31/02/2026"' in html  # shown again as typed
    draft = SubmissionDraft.objects.get(pk=draft_id)
    assert draft.form_values["noi_sinh"] == CHILD["noi_sinh"] and draft.form_version == 1
    assert "1" not in draft.components  # an invalid form does not stand in for the declaration


def test_filled_form_replaces_the_upload_and_becomes_the_declaration_pdf(birth_form, citizen, officers):
    client = signed_in(citizen)
    draft_id, url = start(client)
    saved = client.post(url, {**CHILD, "next": "1"})
    assert saved["Location"] == f"/nop-ho-so/{draft_id}/giay-to/"
    draft = SubmissionDraft.objects.get(pk=draft_id)
    assert draft.form_values["ngay_sinh"] == "2026-02-01" and draft.form_version == 1
    components = client.get(saved["Location"]).content.decode()
    assert "Tờ khai điện tử (đã khai trực tuyến)" in components
    assert f'href="/nop-ho-so/{draft_id}/to-khai/">Quay lại' in components
    with open_upload("chung-sinh.pdf", PDF) as upload:
        step = client.post(saved["Location"], {"component-2": upload, "next": "1"})
    assert step["Location"].endswith("/xem-lai/"), step.content.decode()[:800]
    review = client.get(step["Location"]).content.decode()
    assert "Nguyễn Văn An" in review and "01/02/2026" in review and "Sửa tờ khai" in review
    done = client.post(step["Location"], {"pledge": "1"})
    dossier = Dossier.objects.get()
    assert done["Location"] == f"/ho-so/{dossier.code}/bien-nhan/"
    assert dossier.form_data["version"] == 1
    assert dossier.form_data["values"]["ho_ten"] == "Nguyễn Văn An"
    declaration = dossier.components.get(required__order=1)
    assert declaration.file.content_type == "application/pdf"
    assert declaration.file.original_name == "to-khai-dang-ky-khai-sinh.pdf"
    with declaration.file.file.open("rb") as handle:
        text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(handle.read())).pages)
    assert "TỜ KHAI ĐĂNG KÝ KHAI SINH" in text and "Nguyễn Văn An" in text and "01/02/2026" in text

    # The officer reads the typed values, not only a file.
    officer = signed_in(officers["xa_a"]["counter_officer"])
    page = officer.get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    assert "Tờ khai đăng ký khai sinh" in page and "tờ khai điện tử, phiên bản 1" in page
    assert "<dt>Họ, chữ đệm, tên</dt><dd>Nguyễn Văn An</dd>" in page
    assert "<dt>Ngày, tháng, năm sinh</dt><dd>01/02/2026</dd>" in page


def test_a_dossier_keeps_its_form_version_after_the_form_changes(birth_form, citizen, officers, admin_user):
    dossier = _submitted(citizen)
    layout = copy.deepcopy(birth_form.layout)
    layout["sections"][1]["fields"][0]["label"] = "Họ và tên của trẻ"
    procedures.publish_form(
        actor=admin_user, procedure=birth_form.procedure, schema=birth_form.schema, layout=layout, note="Đổi nhãn"
    )
    dossier.refresh_from_db()
    assert dossier.form_data["version"] == 1
    page = signed_in(officers["xa_a"]["counter_officer"]).get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    assert "<dt>Họ, chữ đệm, tên</dt><dd>Nguyễn Văn An</dd>" in page and "Họ và tên của trẻ" not in page
    # A new draft is filled in the new version.
    other = _new_draft_form(citizen)
    assert "Họ và tên của trẻ" in other


def test_the_result_in_the_edata_store_says_whose_it_is(birth_form, citizen, officers):
    dossier = _submitted(citizen)
    xa = officers["xa_a"]
    services.accept(dossier, actor=xa["counter_officer"])
    services.forward(dossier, actor=xa["specialist"])
    result = store_upload(PDF + b"gks", original_name="gks.pdf", user=xa["leader"])
    services.attach_result(dossier, actor=xa["leader"], file=result, number="12/GKS")
    item = EDataItem.objects.get(source_dossier=dossier)
    assert item.subject == "Nguyễn Văn An, sinh ngày 01/02/2026"
    assert item.facts["ho_ten"] == "Nguyễn Văn An" and item.facts["ngay_sinh"] == "2026-02-01"
    store = signed_in(citizen).get("/ca-nhan/kho-du-lieu/").content.decode()
    assert "Giấy khai sinh</strong>: Nguyễn Văn An, sinh ngày 01/02/2026" in store


def test_procedures_without_a_form_skip_the_step(birth_procedure, citizen):
    client = signed_in(citizen)
    draft_id, after_applicant = start(client)
    assert after_applicant == f"/nop-ho-so/{draft_id}/giay-to/"
    assert client.get(f"/nop-ho-so/{draft_id}/to-khai/")["Location"] == f"/nop-ho-so/{draft_id}/giay-to/"
    assert "Tờ khai</li>" not in client.get(after_applicant).content.decode()


def test_the_form_of_another_citizens_draft_is_not_reachable(birth_form, citizen):
    from chinhquyenso.accounts import services as accounts

    draft_id, url = start(signed_in(citizen))
    stranger = accounts.create_citizen(identity_number="089012345670", full_name="Lê Văn Tư", password="Cong-dan-2025")
    assert signed_in(stranger).get(url).status_code == 404
    assert signed_in(stranger).post(url, {**CHILD, "next": "1"}).status_code == 404


# ---------------------------------------------------------------- helpers


def _submitted(citizen) -> Dossier:
    client = signed_in(citizen)
    draft_id, url = start(client)
    client.post(url, {**CHILD, "next": "1"})
    with open_upload("chung-sinh.pdf", PDF) as upload:
        client.post(f"/nop-ho-so/{draft_id}/giay-to/", {"component-2": upload, "next": "1"})
    client.post(f"/nop-ho-so/{draft_id}/xem-lai/", {"pledge": "1"})
    return Dossier.objects.get(applicant=citizen)


def _new_draft_form(citizen) -> str:
    client = signed_in(citizen)
    draft_id, url = start(client)
    return client.get(url).content.decode()


class open_upload:
    def __init__(self, name, data):
        from django.core.files.uploadedfile import SimpleUploadedFile

        self.file = SimpleUploadedFile(name, data)

    def __enter__(self):
        return self.file

    def __exit__(self, *exc):
        return False


# ---------------------------------------------------------------- several clients at once (PostgreSQL)


@pytest.mark.django_db(transaction=True)
def test_two_maintainers_publishing_at_once_get_two_versions(birth_form, admin_user):
    from tests.core.test_workflow import run_at_once

    def publish(i):
        layout = copy.deepcopy(birth_form.layout)
        layout["pledge"] = f"Cam đoan {i}"
        return procedures.publish_form(
            actor=admin_user, procedure=birth_form.procedure, schema=birth_form.schema, layout=layout
        ).version

    results = run_at_once(2, publish)
    assert sorted(results) == [2, 3], results


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_submit_with_an_eform_makes_one_dossier(birth_form, citizen):
    """Both requests render the same declaration PDF (same bytes, same file id), so the
    idempotent submission sees one payload and returns the first dossier to the second."""
    from chinhquyenso.portal import services as portal
    from tests.core.test_workflow import run_at_once

    client = signed_in(citizen)
    draft_id, url = start(client)
    client.post(url, {**CHILD, "next": "1"})
    with open_upload("chung-sinh.pdf", PDF) as upload:
        client.post(f"/nop-ho-so/{draft_id}/giay-to/", {"component-2": upload, "next": "1"})
    draft = SubmissionDraft.objects.get(pk=draft_id)
    results = run_at_once(2, lambda i: portal.submit_draft(draft))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1 and Dossier.objects.count() == 1
    assert Dossier.objects.get().form_data["values"]["ho_ten"] == "Nguyễn Văn An"

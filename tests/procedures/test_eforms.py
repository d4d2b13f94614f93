"""Tờ khai điện tử as data: the shipped forms, checking a definition, versions, the API,
Vietnamese field-by-field validation, the subject of a result, the declaration PDF."""

import copy
import datetime as dt
import io
import json
import re

import pytest
from django.test import Client
from pypdf import PdfReader

from chinhquyenso.core.errors import DomainError
from chinhquyenso.procedures import eforms, selectors, services
from chinhquyenso.procedures.models import ProcedureForm

pytestmark = pytest.mark.django_db

FORM_FILES = sorted(services.FORMS_DIR.glob("*.json"))
ENGLISH = re.compile(r"is a required property|is not valid|does not match|is not of type|too long|Failed validating")


def shipped(code: str) -> dict:
    return next(json.loads(p.read_text(encoding="utf-8")) for p in FORM_FILES if p.name.startswith(code))


def birth_form(admin_user) -> ProcedureForm:
    services.load_forms(actor=admin_user, codes=["1.001193"])
    return ProcedureForm.objects.get(procedure__code="1.001193")


# ---------------------------------------------------------------- the shipped forms


def test_forms_ship_for_the_most_submitted_procedures():
    codes = {json.loads(p.read_text(encoding="utf-8"))["procedure"] for p in FORM_FILES}
    # birth, death, marriage, marital status, judicial record, certified copy, house permit, land-use change
    assert {"1.001193", "1.000656", "1.000894", "1.004873", "2.900189", "2.900111", "2.900149", "2.900142"} <= codes
    for path in FORM_FILES:
        data = json.loads(path.read_text(encoding="utf-8"))
        definition = eforms.check_definition(data["schema"], data["layout"])
        assert data["layout"]["component"] and data["layout"]["subject"], path.name
        assert all(not ENGLISH.search(f.label) for f in definition.fields)


def test_load_forms_publishes_once_and_matches_procedures_by_code(birth_procedure, admin_user):
    lines = services.load_forms(actor=admin_user)
    assert any("1.001193" in line and "phiên bản 1" in line for line in lines)
    assert any("bỏ qua" in line for line in lines)  # the test catalog has only the birth procedure
    services.load_forms(actor=admin_user)  # again: the same content publishes nothing
    assert list(ProcedureForm.objects.values_list("procedure__code", "version")) == [("1.001193", 1)]


def test_load_forms_adds_the_declaration_component_a_catalog_lacks(province, admin_user):
    from tests.conftest import make_procedure

    procedure = make_procedure(
        admin_user,
        [province["xa_a"]],
        code="2.900111",
        name="Chứng thực bản sao từ bản chính",
        components=[{"name": "Bản chính giấy tờ"}, {"name": "Bản sao cần chứng thực"}],
    )
    services.load_forms(actor=admin_user, codes=["2.900111"])
    assert list(procedure.components.values_list("order", "name")) == [
        (1, "Bản chính giấy tờ"),
        (2, "Bản sao cần chứng thực"),
        (3, "Phiếu yêu cầu chứng thực bản sao"),
    ]


# ---------------------------------------------------------------- checking a definition


def test_a_broken_definition_is_refused_in_vietnamese():
    data = shipped("1.001193")
    schema, layout = data["schema"], data["layout"]
    cases = []
    bad = copy.deepcopy(schema)
    bad["properties"]["ho_ten"]["type"] = "strin"
    cases.append((bad, layout, "draft 2020-12"))
    bad = copy.deepcopy(schema)
    bad["properties"]["ghi_chu"] = {"type": "string"}
    cases.append((bad, layout, "chưa xếp vào bố cục: ghi_chu"))
    bad = copy.deepcopy(schema)
    bad["properties"]["ho_ten"] = {"type": "object"}
    cases.append((bad, layout, "kiểu đơn"))
    wrong = copy.deepcopy(layout)
    wrong["sections"][1]["fields"][0]["prefill"] = ["http://example.com"]
    cases.append((schema, wrong, "Nguồn điền sẵn"))
    wrong = copy.deepcopy(layout)
    wrong["sections"][1]["fields"][0]["width"] = "wide"
    cases.append((schema, wrong, "Độ rộng"))
    wrong = copy.deepcopy(layout)
    wrong["subject"] = ["khong_co"]
    cases.append((schema, wrong, "subject"))
    for s, lay, expected in cases:
        with pytest.raises(DomainError) as raised:
            eforms.check_definition(s, lay)
        assert expected in raised.value.message
        assert not ENGLISH.search(raised.value.message)
    with pytest.raises(DomainError, match="không có thành phần hồ sơ"):
        eforms.check_definition(schema, layout, ["Giấy chứng sinh"])


# ---------------------------------------------------------------- versions


def test_a_change_is_a_new_version_and_old_versions_never_change(birth_procedure, admin_user):
    first = birth_form(admin_user)
    data = shipped("1.001193")
    layout = copy.deepcopy(data["layout"])
    layout["sections"][1]["fields"][0]["label"] = "Họ và tên trẻ"
    second = services.publish_form(
        actor=admin_user, procedure=birth_procedure, schema=data["schema"], layout=layout, note="Đổi nhãn"
    )
    assert (first.version, second.version) == (1, 2)
    assert selectors.current_form(birth_procedure) == second
    first.refresh_from_db()
    assert first.layout == data["layout"]
    first.title = "Sửa thẳng"
    with pytest.raises(DomainError, match="không được sửa"):
        first.save()


def test_admin_checks_the_schema_and_saves_a_change_as_a_new_version(birth_procedure, admin_user):
    form = birth_form(admin_user)
    client = Client()
    client.force_login(admin_user)
    data = shipped("1.001193")
    bad = copy.deepcopy(data["schema"])
    bad["properties"]["ho_ten"]["maxLength"] = -1
    page = client.post(
        f"/quan-tri/procedures/procedureform/{form.pk}/change/",
        {"title": form.title, "schema": json.dumps(bad), "layout": json.dumps(data["layout"]), "note": ""},
    )
    assert page.status_code == 200 and "JSON Schema không hợp lệ" in page.content.decode()
    assert ProcedureForm.objects.count() == 1
    layout = copy.deepcopy(data["layout"])
    layout["pledge"] = "Tôi cam đoan."
    saved = client.post(
        f"/quan-tri/procedures/procedureform/{form.pk}/change/",
        {"title": form.title, "schema": json.dumps(data["schema"]), "layout": json.dumps(layout), "note": "Sửa"},
    )
    assert saved.status_code == 302
    assert list(ProcedureForm.objects.order_by("version").values_list("version", flat=True)) == [1, 2]
    assert ProcedureForm.objects.get(version=1).layout == data["layout"]
    assert ProcedureForm.objects.get(version=2).layout["pledge"] == "Tôi cam đoan."
    assert client.get("/quan-tri/procedures/procedureform/add/").status_code == 200
    procedure_page = client.get(f"/quan-tri/procedures/procedure/{birth_procedure.pk}/change/").content.decode()
    assert "tờ khai điện tử (các phiên bản)" in procedure_page.lower()


# ---------------------------------------------------------------- API


def test_api_returns_the_form_with_schema_layout_and_version(birth_procedure, admin_user):
    birth_form(admin_user)
    response = Client().get("/api/procedures/1.001193/form")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1 and body["procedure"] == "1.001193"
    assert body["schema"]["$schema"] == eforms.SCHEMA_DIALECT and "ho_ten" in body["schema"]["properties"]
    assert body["layout"]["sections"][0]["fields"][0]["name"] == "nyc_ho_ten"
    openapi = Client().get("/api/openapi.json").json()
    assert "/api/procedures/{code}/form" in openapi["paths"]


@pytest.mark.parametrize("code", ["1.001193", "khong-co", "x" * 300, "%C3%A9", "1.001193%20", "%F0%9F%98%80"])
def test_api_answers_404_in_vietnamese_for_any_code_without_a_form(birth_procedure, code):
    response = Client().get(f"/api/procedures/{code}/form")
    assert response.status_code == 404
    assert response.json()["detail"] == "Thủ tục này chưa có tờ khai điện tử."


@pytest.mark.parametrize("code", ["%00", "%EF%BF%BF"])
def test_api_refuses_a_control_character_in_the_code_like_every_route(birth_procedure, code):
    response = Client().get(f"/api/procedures/{code}/form")
    assert response.status_code == 400 and response.json()["field"] == "path"


# ---------------------------------------------------------------- values and messages


def test_values_typed_the_vietnamese_way_are_converted():
    form = eforms.of(ProcedureForm(**_unsaved("2.900149")))
    values = eforms.values_from_post(
        form,
        {
            "chu_dau_tu": "  Trần   Văn Bình ",
            "dien_tich_lo_dat": "120,5",
            "so_tang": "3",
            "thoi_gian_hoan_thanh": "1.200",
            "chieu_cao": "abc",
        },
    )
    assert values["chu_dau_tu"] == "Trần Văn Bình"
    assert values["dien_tich_lo_dat"] == 120.5 and values["so_tang"] == 3 and values["thoi_gian_hoan_thanh"] == 1200
    assert values["chieu_cao"] == "abc"  # kept as typed, refused with a message naming the field
    errors = eforms.errors_of(form, values)
    assert errors["chieu_cao"] == "“Chiều cao công trình (m)” phải là số, ví dụ 120,5."
    assert errors["thoi_gian_hoan_thanh"] == "“Dự kiến thời gian hoàn thành (tháng)” phải không quá 120."
    assert eforms.parse_date("1/2/2026") == "2026-02-01" and eforms.parse_date("31/02/2026") is None


def test_every_error_names_its_field_in_vietnamese():
    form = eforms.of(ProcedureForm(**_unsaved("1.001193")))
    values = eforms.values_from_post(
        form, {"ngay_sinh": "31/02/2026", "cha_so_dinh_danh": "12345", "gioi_tinh": "Khác", "ho_ten": "x" * 150}
    )
    errors = eforms.errors_of(form, values, today=dt.date(2026, 12, 6))
    assert errors["ho_ten"] == "“Họ, chữ đệm, tên” dài quá 100 ký tự."
    assert errors["ngay_sinh"].startswith("“Ngày, tháng, năm sinh”: hãy nhập ngày có thật")
    assert errors["gioi_tinh"] == "“Giới tính”: hãy chọn một trong các giá trị: Nam, Nữ."
    assert errors["cha_so_dinh_danh"].startswith("“Số định danh cá nhân của người cha” gồm 12 chữ số")
    assert errors["noi_sinh"] == "Hãy nhập “Nơi sinh”."
    assert errors["nyc_quan_he"] == "Hãy chọn “Quan hệ với người được khai”."
    assert list(errors)[0] == "nyc_ho_ten"  # in the form's order
    assert not any(ENGLISH.search(m) for m in errors.values())
    future = eforms.errors_of(form, {"ngay_sinh": "2027-01-01"}, today=dt.date(2026, 12, 6))
    assert future["ngay_sinh"] == "“Ngày, tháng, năm sinh” không được sau ngày hôm nay."
    land = eforms.of(ProcedureForm(**_unsaved("2.900142")))
    assert eforms.errors_of(land, eforms.values_from_post(land, {}))["cam_ket"].startswith("Hãy đánh dấu “Cam kết")


def test_prefill_from_account_population_and_edata():
    form = eforms.of(ProcedureForm(**_unsaved("1.001193")))
    applicant = {"full_name": "Lê Thị Mai", "identity_number": "089012345678", "address": "Ấp Long Hòa", "gender": "Nữ"}
    applicant["birth_date"] = "05/06/1995"
    values = eforms.prefill(
        form, applicant=applicant, edata={"giay-chung-nhan-ket-hon": {"ho_ten_chong": "Trần Văn Bình"}}
    )
    assert values["nyc_ho_ten"] == "Lê Thị Mai" and values["nyc_noi_cu_tru"] == "Ấp Long Hòa"
    assert values["me_ho_ten"] == "Lê Thị Mai" and values["me_ngay_sinh"] == "1995-06-05"  # she is the mother
    assert values["cha_ho_ten"] == "Trần Văn Bình"  # from the marriage certificate in the e-data store
    assert "cha_so_dinh_danh" not in values


def test_subject_and_facts_of_a_result():
    form = eforms.of(ProcedureForm(**_unsaved("1.001193")))
    values = {"ho_ten": "Nguyễn Văn An", "ngay_sinh": "2026-02-01", "gioi_tinh": "Nam", "me_ho_ten": "Lê Thị Mai"}
    assert eforms.subject_of(form, values) == "Nguyễn Văn An, sinh ngày 01/02/2026"
    assert eforms.facts_of(form, values) == {
        "ho_ten": "Nguyễn Văn An",
        "ngay_sinh": "2026-02-01",
        "gioi_tinh": "Nam",
        "ho_ten_me": "Lê Thị Mai",
    }
    assert eforms.subject_of(form, {}) == ""


def test_declaration_pdf_prints_the_values_and_the_blank_form(birth_procedure, admin_user):
    form = birth_form(admin_user)
    pdf = eforms.declaration_pdf(
        form, {"ho_ten": "Nguyễn Văn An", "ngay_sinh": "2026-02-01"}, place_date="An Giang, ngày 06 tháng 12 năm 2026"
    )
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "TỜ KHAI ĐĂNG KÝ KHAI SINH" in text and "Nguyễn Văn An" in text and "01/02/2026" in text
    blank = Client().get("/thu-tuc/1.001193/to-khai.pdf")
    assert blank.status_code == 200 and blank["Content-Type"] == "application/pdf"
    assert "to-khai-dang-ky-khai-sinh-mau-trong.pdf" in blank["Content-Disposition"]
    blank_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(blank.content)).pages)
    assert "Họ, chữ đệm, tên" in blank_text and "Nguyễn Văn An" not in blank_text
    assert Client().get("/thu-tuc/khong-co/to-khai.pdf").status_code == 404
    page = Client().get("/thu-tuc/1.001193/").content.decode()
    assert "/thu-tuc/1.001193/to-khai.pdf" in page


def _unsaved(code: str) -> dict:
    data = shipped(code)
    return {"title": data["title"], "schema": data["schema"], "layout": data["layout"], "version": 1}


def test_cqs_load_forms_command(birth_procedure, admin_user, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    call_command("load_forms", user=admin_user.username, stdout=out)
    assert "1.001193 — Tờ khai đăng ký khai sinh, phiên bản 1." in out.getvalue()
    (tmp_path / "hong.json").write_text("{không phải JSON", encoding="utf-8")
    with pytest.raises(CommandError, match="không phải JSON hợp lệ"):
        call_command("load_forms", dir=str(tmp_path), stdout=io.StringIO())

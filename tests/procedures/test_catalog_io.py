"""Catalog import/export: round trips, all-or-nothing validation, idempotent re-import, commands."""

import copy
import io
import json
import unicodedata

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from openpyxl import load_workbook

from chinhquyenso.cli import main as cqs
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.procedures.catalog_io import CatalogImportError, import_catalog, render_catalog
from chinhquyenso.procedures.models import Field, Procedure, ProcedureAgency, ProcessStep, RequiredComponent
from chinhquyenso.procedures.selectors import catalog_entries
from tests.conftest import make_procedure


@pytest.fixture
def catalog(province, admin_user):
    """Three procedures covering every column: decimal step days, a step in another
    agency, an optional reusable component, fees, a text that looks like a formula."""
    make_procedure(admin_user, [province["xa_a"], province["xa_b"]])
    make_procedure(
        admin_user,
        [province["cong_an"]],
        code="2.001417",
        name="Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam",
        field_code="ly-lich-tu-phap",
        field_name="Lý lịch tư pháp",
        levels=["province"],
        service_level="partly_online",
        processing_days=10,
        fee=200000,
        charge=0,
        online_discount_percent=0,
        result_type="phieu-ly-lich-tu-phap",
        result_name="Phiếu lý lịch tư pháp",
        legal_basis="Luật Lý lịch tư pháp 2009; Thông tư 244/2016/TT-BTC",
        components=[
            {"name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "copies": 0},
            {
                "name": "Bản chụp Căn cước công dân",
                "originals": 0,
                "copies": 1,
                "mandatory": False,
                "reusable_result_type": "can-cuoc",
            },
        ],
        steps=[
            {"name": "Tiếp nhận", "role": "counter_officer", "days": 0.5},
            {"name": "Tra cứu, xác minh", "role": "specialist", "days": 8, "agency": "so-tu-phap"},
            {"name": "Ký duyệt", "role": "leader", "days": 1.5},
        ],
    )
    make_procedure(
        admin_user,
        [province["huyen"]],
        code="1.000894",
        name="Hòa giải tranh chấp đất đai",
        field_code="dat-dai",
        field_name="Đất đai",
        levels=["district", "commune"],
        service_level="info_only",
        processing_days=45,
        charge=0,
        online_discount_percent=0,
        result_type="",
        result_name="=Biên bản hòa giải",
        components=[],
        steps=[],
    )
    return catalog_entries()


def empty_catalog():
    Procedure.objects.all().delete()
    Field.objects.all().delete()


def as_json(entries) -> bytes:
    return json.dumps(entries, ensure_ascii=False).encode()


def messages(exc_info) -> list[str]:
    return [str(issue) for issue in exc_info.value.errors]


def counts():
    return (
        Procedure.objects.count(),
        RequiredComponent.objects.count(),
        ProcessStep.objects.count(),
        ProcedureAgency.objects.count(),
        Field.objects.count(),
        AuditRecord.objects.count(),
    )


# ------------------------------------------------------------------ round trips


def test_export_json_has_the_save_procedure_format(catalog):
    entries = json.loads(render_catalog(catalog, "json"))
    lltp = next(e for e in entries if e["code"] == "2.001417")
    assert list(lltp) == [
        "code",
        "name",
        "field_code",
        "field_name",
        "levels",
        "service_level",
        "processing_days",
        "fee",
        "charge",
        "online_discount_percent",
        "result_type",
        "result_name",
        "legal_basis",
        "components",
        "steps",
        "agencies",
    ]
    assert lltp["steps"] == [
        {"name": "Tiếp nhận", "role": "counter_officer", "days": 0.5, "agency": ""},
        {"name": "Tra cứu, xác minh", "role": "specialist", "days": 8, "agency": "so-tu-phap"},
        {"name": "Ký duyệt", "role": "leader", "days": 1.5, "agency": ""},
    ]
    assert lltp["components"][1] == {
        "name": "Bản chụp Căn cước công dân",
        "originals": 0,
        "copies": 1,
        "mandatory": False,
        "reusable_result_type": "can-cuoc",
    }
    assert lltp["agencies"] == ["cong-an-tinh"]
    assert [e["code"] for e in entries] == ["1.000894", "1.001193", "2.001417"]
    assert next(e for e in entries if e["code"] == "1.001193")["agencies"] == ["xa-kien-an", "xa-kien-thanh"]


def test_json_round_trip_on_empty_catalog(catalog, admin_user):
    exported = render_catalog(catalog, "json")
    empty_catalog()
    summary = import_catalog(actor=admin_user, content=exported)
    assert sorted(summary.created) == ["1.000894", "1.001193", "2.001417"]
    assert render_catalog(catalog_entries(), "json") == exported


def test_xlsx_round_trip_on_empty_catalog(catalog, admin_user):
    exported_json = render_catalog(catalog, "json")
    workbook = render_catalog(catalog, "xlsx")
    empty_catalog()
    summary = import_catalog(actor=admin_user, content=workbook)
    assert len(summary.created) == 3
    assert render_catalog(catalog_entries(), "json") == exported_json
    assert Field.objects.get(code="dat-dai").name == "Đất đai"


def test_xlsx_sheets_and_vietnamese_headers(catalog):
    book = load_workbook(io.BytesIO(render_catalog(catalog, "xlsx")))
    assert book.sheetnames == ["Thủ tục", "Thành phần hồ sơ", "Quy trình", "Cơ quan giải quyết"]
    main = book["Thủ tục"]
    assert [c.value for c in main[1]] == [
        "Mã thủ tục",
        "Tên thủ tục",
        "Mã lĩnh vực",
        "Tên lĩnh vực",
        "Cấp thực hiện",
        "Mức độ dịch vụ công",
        "Thời hạn giải quyết (ngày làm việc)",
        "Phí (đồng)",
        "Lệ phí (đồng)",
        "Giảm khi nộp trực tuyến (%)",
        "Mã loại kết quả",
        "Tên kết quả",
        "Căn cứ pháp lý",
    ]
    rows = {r[0]: r for r in main.iter_rows(min_row=2, values_only=True)}
    assert rows["1.000894"][4] == "Cấp huyện, Cấp xã"
    assert rows["1.001193"][5] == "Trực tuyến toàn trình"
    assert rows["1.000894"][11] == "=Biên bản hòa giải"  # kept as text, not turned into a formula
    assert main.cell(row=2, column=12).data_type == "s"
    assert [c.value for c in book["Thành phần hồ sơ"][1]] == [
        "Mã thủ tục",
        "Tên giấy tờ",
        "Số bản chính",
        "Số bản sao",
        "Bắt buộc",
        "Thay bằng kết quả điện tử loại",
    ]
    assert ("2.001417", "Bản chụp Căn cước công dân", 0, 1, "Không", "can-cuoc") in set(
        book["Thành phần hồ sơ"].iter_rows(min_row=2, values_only=True)
    )
    assert ("2.001417", "Tra cứu, xác minh", "Chuyên viên thụ lý", 8, "so-tu-phap") in set(
        book["Quy trình"].iter_rows(min_row=2, values_only=True)
    )
    assert ("1.001193", "xa-kien-an", "UBND xã Kiến An") in set(
        book["Cơ quan giải quyết"].iter_rows(min_row=2, values_only=True)
    )


# ------------------------------------------------------------------ idempotency


def test_reimport_changes_nothing(catalog, admin_user):
    for content in (render_catalog(catalog, "json"), render_catalog(catalog, "xlsx")):
        before = counts()
        component_ids = sorted(RequiredComponent.objects.values_list("pk", flat=True))
        summary = import_catalog(actor=admin_user, content=content)
        assert (summary.created, summary.updated) == ([], [])
        assert sorted(summary.unchanged) == ["1.000894", "1.001193", "2.001417"]
        assert counts() == before  # no duplicates, no audit noise
        assert sorted(RequiredComponent.objects.values_list("pk", flat=True)) == component_ids


def test_import_twice_into_empty_catalog_gives_same_result(catalog, admin_user):
    exported = render_catalog(catalog, "json")
    empty_catalog()
    import_catalog(actor=admin_user, content=exported)
    after_first = counts()
    second = import_catalog(actor=admin_user, content=exported)
    assert len(second.unchanged) == 3 and counts() == after_first


def test_changed_entry_is_updated_others_untouched(catalog, admin_user):
    entries = copy.deepcopy(catalog)
    entries[1]["processing_days"] = 2
    entries[1]["components"].append(
        {"name": "Văn bản ủy quyền", "originals": 1, "copies": 0, "mandatory": False, "reusable_result_type": ""}
    )
    summary = import_catalog(actor=admin_user, content=as_json(entries))
    assert summary.updated == ["1.001193"] and len(summary.unchanged) == 2
    birth = Procedure.objects.get(code="1.001193")
    assert birth.processing_days == 2 and birth.components.count() == 4
    assert "1 thủ tục cập nhật" in summary.as_text() and "2 thủ tục không thay đổi" in summary.as_text()


def test_agency_by_electronic_code_and_nfd_text(province, admin_user):
    entry = {
        "code": "1.001193",
        "name": unicodedata.normalize("NFD", "Đăng ký  khai sinh"),
        "field_code": "ho-tich",
        "field_name": "Hộ tịch",
        "levels": ["commune"],
        "processing_days": 3,
        "components": [{"name": unicodedata.normalize("NFD", "Tờ khai")}],
        "agencies": ["000.07.01.H01"],
    }
    import_catalog(actor=admin_user, content=as_json([entry]))
    stored = catalog_entries()[0]
    assert stored["name"] == unicodedata.normalize("NFC", "Đăng ký khai sinh")
    assert stored["components"][0]["name"] == unicodedata.normalize("NFC", "Tờ khai")
    assert stored["agencies"] == ["xa-kien-an"]
    assert import_catalog(actor=admin_user, content=as_json([entry])).unchanged == ["1.001193"]


# ------------------------------------------------------------------ rejection


def good_entry(code="1.000001"):
    return {
        "code": code,
        "name": "Chứng thực bản sao từ bản chính",
        "field_code": "chung-thuc",
        "field_name": "Chứng thực",
        "levels": ["district", "commune"],
        "service_level": "full_online",
        "processing_days": 1,
        "fee": 0,
        "charge": 2000,
        "online_discount_percent": 50,
        "result_type": "",
        "result_name": "Bản sao được chứng thực",
        "legal_basis": "Nghị định 23/2015/NĐ-CP",
        "components": [
            {"name": "Bản chính giấy tờ", "originals": 1, "copies": 0, "mandatory": True},
            {"name": "Bản sao cần chứng thực", "originals": 0, "copies": 1},
        ],
        "steps": [{"name": "Thụ lý", "role": "specialist", "days": 0.5}, {"name": "Ký", "role": "leader", "days": 0.5}],
        "agencies": ["xa-kien-an"],
    }


def _without(key):
    return lambda e: e.pop(key)


def _set(path, value):
    def mutate(entry):
        target = entry
        *parents, last = path
        for p in parents:
            target = target[p]
        target[last] = value

    return mutate


BAD_ENTRIES = [
    ("missing code", _without("code"), "code", "Mã thủ tục không được để trống."),
    ("blank code", _set(["code"], "  "), "code", "Mã thủ tục không được để trống."),
    ("missing name", _without("name"), "name", "Tên thủ tục không được để trống."),
    ("missing field code", _set(["field_code"], ""), "field_code", "Thiếu mã lĩnh vực."),
    ("unknown level", _set(["levels"], ["ward"]), "levels", "Cấp thực hiện"),
    ("no level", _set(["levels"], []), "levels", "Cấp thực hiện"),
    ("levels not a list", _set(["levels"], "commune"), "levels", "Cấp thực hiện"),
    ("bad service level", _set(["service_level"], "online"), "service_level", "Mức độ dịch vụ"),
    ("text processing days", _set(["processing_days"], "ba"), "processing_days", "phải là số nguyên"),
    ("fractional processing days", _set(["processing_days"], 2.5), "processing_days", "phải là số nguyên"),
    ("negative processing days", _set(["processing_days"], -1), "processing_days", "phải là số nguyên không nhỏ hơn 0"),
    ("missing processing days", _without("processing_days"), "processing_days", "phải là số nguyên"),
    ("huge processing days", _set(["processing_days"], 40000), "processing_days", "Không được lớn hơn 32.767"),
    ("negative fee", _set(["fee"], -5), "fee", "phải là số nguyên"),
    ("fee as text", _set(["fee"], "8.000"), "fee", "phải là số nguyên"),
    ("negative charge", _set(["charge"], -1), "charge", "phải là số nguyên"),
    (
        "discount over 100",
        _set(["online_discount_percent"], 150),
        "online_discount_percent",
        "không được vượt quá 100%",
    ),
    ("unknown step role", _set(["steps", 1, "role"], "clerk"), "steps[2].role", "Vai trò của bước"),
    ("empty step name", _set(["steps", 0, "name"], ""), "steps[1].name", "Tên bước không được để trống."),
    ("negative step days", _set(["steps", 0, "days"], -1), "steps[1].days", "Thời gian của bước"),
    ("step days as text", _set(["steps", 0, "days"], "hai"), "steps[1].days", "Thời gian của bước"),
    (
        "unknown step agency",
        _set(["steps", 0, "agency"], "so-khong-co"),
        "steps[1].agency",
        "Không tìm thấy cơ quan có mã “so-khong-co”",
    ),
    (
        "unknown agency code",
        _set(["agencies"], ["xa-kien-an", "xa-khong-co"]),
        "agencies[2]",
        "Không tìm thấy cơ quan có mã “xa-khong-co”",
    ),
    (
        "empty component name",
        _set(["components", 1, "name"], " "),
        "components[2].name",
        "Tên thành phần hồ sơ không được để trống.",
    ),
    ("negative copies", _set(["components", 0, "copies"], -1), "components[1].copies", "phải là số nguyên"),
    ("mandatory not boolean", _set(["components", 0, "mandatory"], "no"), "components[1].mandatory", "true/false"),
    ("component not an object", _set(["components", 0], "Bản chính"), "components[1]", "đối tượng"),
    ("name not text", _set(["name"], ["Chứng thực"]), "name", "chuỗi ký tự"),
    ("name too long", _set(["name"], "x" * 501), "name", "Dài quá 500 ký tự."),
    ("misspelt key", _set(["processing_day"], 3), "processing_day", "không có trong định dạng"),
]


@pytest.mark.parametrize("mutate, field, message", [b[1:] for b in BAD_ENTRIES], ids=[b[0] for b in BAD_ENTRIES])
def test_bad_entry_is_rejected_naming_the_field_and_nothing_is_written(province, admin_user, mutate, field, message):
    bad = good_entry("1.000002")
    mutate(bad)
    before = counts()
    with pytest.raises(CatalogImportError) as exc_info:
        import_catalog(actor=admin_user, content=as_json([good_entry("1.000001"), bad, good_entry("1.000003")]))
    errors = messages(exc_info)
    assert len(errors) == 1, errors
    assert errors[0].startswith("Mục 2"), errors
    assert f", {field}: " in errors[0] and message in errors[0], errors
    assert counts() == before


def test_error_report_format_lists_every_problem_in_file_order(province, admin_user):
    first, second = good_entry("1.000001"), good_entry("1.000002")
    first["processing_days"] = "ba ngày"
    first["steps"][0]["role"] = "clerk"
    first["agencies"] = ["khong-co"]
    second["online_discount_percent"] = 101
    with pytest.raises(CatalogImportError) as exc_info:
        import_catalog(actor=admin_user, content=as_json([first, second, good_entry("1.000003")]))
    assert messages(exc_info) == [
        "Mục 1 (mã 1.000001), processing_days: phải là số nguyên không nhỏ hơn 0.",
        "Mục 1 (mã 1.000001), steps[1].role: Vai trò của bước phải là counter_officer, specialist, leader hoặc agency_admin.",
        "Mục 1 (mã 1.000001), agencies[1]: Không tìm thấy cơ quan có mã “khong-co”.",
        "Mục 2 (mã 1.000002), online_discount_percent: Tỷ lệ giảm không được vượt quá 100%.",
    ]
    assert exc_info.value.message == "Tệp danh mục có 4 lỗi; chưa nhập thủ tục nào."
    assert not Procedure.objects.exists()


def test_duplicate_code_in_file_is_rejected(province, admin_user):
    with pytest.raises(CatalogImportError) as exc_info:
        import_catalog(actor=admin_user, content=as_json([good_entry(), good_entry()]))
    assert messages(exc_info) == ["Mục 2 (mã 1.000001), code: Mã thủ tục “1.000001” trùng với mục 1 (mã 1.000001)."]


def test_import_is_atomic_for_an_existing_catalog(catalog, admin_user):
    entries = copy.deepcopy(catalog)
    for entry in entries:
        entry["processing_days"] += 1
        entry["name"] += " (sửa đổi)"
    entries.append(good_entry())
    entries[-1]["steps"][0]["role"] = "clerk"
    before, stored = counts(), catalog_entries()
    with pytest.raises(CatalogImportError):
        import_catalog(actor=admin_user, content=as_json(entries))
    assert counts() == before and catalog_entries() == stored


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "JSON không hợp lệ ở dòng 1, cột 1"),
        (b'[{"code": "1",}]', "JSON không hợp lệ ở dòng 1"),
        (b'{"code": "1.000001"}', "phải là một danh sách"),
        (b"[]", "không có thủ tục nào"),
        (b"\xff\xfe\x00", "không phải JSON (UTF-8) cũng không phải XLSX"),
        (b"PK\x03\x04 not really a zip", "Tệp XLSX bị hỏng"),
    ],
)
def test_unreadable_files(province, admin_user, content, message):
    with pytest.raises(CatalogImportError) as exc_info:
        import_catalog(actor=admin_user, content=content)
    assert message in messages(exc_info)[0]


# ------------------------------------------------------------------ XLSX errors


def _xlsx(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row_of(sheet, code, column=1):
    return next(r[0].row for r in sheet.iter_rows(min_row=2) if r[column - 1].value == code)


def test_xlsx_errors_name_row_sheet_and_column(catalog, admin_user):
    book = load_workbook(io.BytesIO(render_catalog(catalog, "xlsx")))
    main, components, steps, agencies = (book[n] for n in book.sheetnames)
    main_row = _row_of(main, "2.001417")
    main.cell(main_row, 7).value = "mười ngày"
    main.cell(main_row, 10).value = 120
    component_row = _row_of(components, "Bản chụp Căn cước công dân", column=2)
    components.cell(component_row, 2).value = None
    components.cell(component_row, 5).value = "Có lẽ"
    steps.cell(_row_of(steps, "Ký duyệt", column=2), 3).value = "Thư ký"
    agencies.append(["1.001193", "xa-khong-co"])
    agencies.append(["9.999999", "xa-kien-an"])
    empty_catalog()
    with pytest.raises(CatalogImportError) as exc_info:
        import_catalog(actor=admin_user, content=_xlsx(book))
    step_row = _row_of(steps, "Ký duyệt", column=2)
    last = agencies.max_row
    assert messages(exc_info) == [
        f"Dòng {main_row} (sheet Thủ tục), cột Thời hạn giải quyết (ngày làm việc): phải là số nguyên không nhỏ hơn 0.",
        f"Dòng {main_row} (sheet Thủ tục), cột Giảm khi nộp trực tuyến (%): Tỷ lệ giảm không được vượt quá 100%.",
        f"Dòng {component_row} (sheet Thành phần hồ sơ), cột Tên giấy tờ: Tên thành phần hồ sơ không được để trống.",
        f"Dòng {component_row} (sheet Thành phần hồ sơ), cột Bắt buộc: Phải là true/false (Có/Không).",
        f"Dòng {step_row} (sheet Quy trình), cột Vai trò thực hiện: Vai trò của bước phải là counter_officer, specialist, leader hoặc agency_admin.",
        f"Dòng {last - 1} (sheet Cơ quan giải quyết), cột Mã cơ quan: Không tìm thấy cơ quan có mã “xa-khong-co”.",
        f"Dòng {last} (sheet Cơ quan giải quyết), cột Mã thủ tục: Không có thủ tục mã “9.999999” trong sheet Thủ tục.",
    ]
    assert not Procedure.objects.exists()


def test_xlsx_accepts_codes_labels_and_vietnamese_numbers(province, admin_user):
    from openpyxl import Workbook

    from chinhquyenso.procedures.catalog_io import SHEETS

    book = Workbook()
    book.remove(book.active)
    for title, columns in SHEETS.values():
        # Columns in another order and without the informational one: matched by header.
        book.create_sheet(title).append([h for k, h in reversed(columns) if k])
    book["Thủ tục"].append(
        [
            "",
            "Giấy chứng nhận kết hôn",
            "",
            "0",
            "8.000",
            0,
            "15",
            "full_online",
            "cấp xa; Cap huyen",
            "Hộ tịch",
            "ho-tich",
            "Đăng ký kết hôn",
            "1.000894",
        ]
    )
    book["Thành phần hồ sơ"].append(["", "không", 0, 1, "Tờ khai đăng ký kết hôn", "1.000894"])
    book["Quy trình"].append(["", "1,5", "lãnh đạo", "Phê duyệt", "1.000894"])
    book["Cơ quan giải quyết"].append(["000.07.02.H01", "1.000894"])
    import_catalog(actor=admin_user, content=_xlsx(book))
    entry = catalog_entries()[0]
    assert (entry["levels"], entry["service_level"], entry["processing_days"], entry["fee"], entry["charge"]) == (
        ["commune", "district"],
        "full_online",
        15,
        0,
        8000,
    )
    assert entry["components"] == [
        {"name": "Tờ khai đăng ký kết hôn", "originals": 1, "copies": 0, "mandatory": False, "reusable_result_type": ""}
    ]
    assert entry["steps"] == [{"name": "Phê duyệt", "role": "leader", "days": 1.5, "agency": ""}]
    assert entry["agencies"] == ["xa-kien-thanh"]


def test_xlsx_missing_sheet_or_column(catalog, admin_user):
    book = load_workbook(io.BytesIO(render_catalog(catalog, "xlsx")))
    del book["Quy trình"]
    book["Thủ tục"].delete_cols(7)
    with pytest.raises(CatalogImportError) as exc_info:
        import_catalog(actor=admin_user, content=_xlsx(book))
    assert messages(exc_info) == [
        "Tệp: Thiếu sheet “Quy trình”.",
        "Dòng 1 (sheet Thủ tục): Thiếu cột “Thời hạn giải quyết (ngày làm việc)”.",
    ]


# ------------------------------------------------------------------ commands


def test_export_and_import_commands(catalog, tmp_path, capsys):
    call_command("export_catalog", str(tmp_path / "tthc.json"))
    call_command("export_catalog", str(tmp_path / "tthc.xlsx"))
    assert "Đã xuất 3 thủ tục" in capsys.readouterr().out
    assert (tmp_path / "tthc.xlsx").read_bytes()[:4] == b"PK\x03\x04"
    exported = (tmp_path / "tthc.json").read_bytes()
    empty_catalog()
    # Format comes from the content, not the name: an XLSX saved as .json still imports.
    (tmp_path / "misnamed.json").write_bytes((tmp_path / "tthc.xlsx").read_bytes())
    call_command("import_catalog", str(tmp_path / "misnamed.json"), "--user", "qt.tinh")
    assert capsys.readouterr().out.strip() == (
        "Đã nhập danh mục: 3 thủ tục thêm mới, 0 thủ tục cập nhật, 0 thủ tục không thay đổi."
    )
    assert render_catalog(catalog_entries(), "json") == exported
    assert AuditRecord.objects.filter(action="procedure.catalog_import", actor__username="qt.tinh").count() == 1
    call_command("import_catalog", str(tmp_path / "tthc.json"))
    assert "0 thủ tục thêm mới, 0 thủ tục cập nhật, 3 thủ tục không thay đổi" in capsys.readouterr().out


def test_import_command_reports_errors_and_exits_1(province, tmp_path, capsys, monkeypatch):
    # run_from_argv closes every connection when it ends, the test's own included.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    bad = good_entry()
    bad["fee"] = -1
    path = tmp_path / "bad.json"
    path.write_bytes(as_json([good_entry("1.000009"), bad]))
    with pytest.raises(SystemExit) as exit_info:
        cqs(["import-catalog", str(path)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "- Mục 2 (mã 1.000001), fee: phải là số nguyên không nhỏ hơn 0." in err
    assert "Tệp danh mục có 1 lỗi; chưa nhập thủ tục nào." in err
    assert not Procedure.objects.exists()


def test_import_command_dry_run_writes_nothing(province, tmp_path, capsys):
    path = tmp_path / "ok.json"
    path.write_bytes(as_json([good_entry()]))
    call_command("import_catalog", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "chạy thử" in out and "1 thủ tục thêm mới" in out
    assert not Procedure.objects.exists()


def test_export_command_rejects_unknown_extension(db, tmp_path):
    with pytest.raises(CommandError, match=r"\.json hoặc \.xlsx"):
        call_command("export_catalog", str(tmp_path / "tthc.csv"))

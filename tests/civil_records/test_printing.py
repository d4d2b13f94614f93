"""Extract copies (trích lục bản sao) of imported register entries, rendered
to PDF and read back with pypdf: the right form per record type, values as the
register has them (impossible dates, "không rõ", blanks), corrections, the
issuing commune after a merger.

Set CQS_PRINT_SAMPLES=/some/dir to keep the rendered PDFs for a visual check."""

import csv
import datetime as dt
import io
import os
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from chinhquyenso.civil_records import importer, printing, services
from chinhquyenso.civil_records.models import CivilRecord
from chinhquyenso.core.errors import DomainError
from chinhquyenso.org import services as org
from chinhquyenso.org.models import AgencyKind

pytestmark = pytest.mark.django_db

A4 = (595.3, 841.9)
COPY_DATE = dt.date(2025, 3, 5)
SIGNER = {"signer": "Võ Thị Mỹ Duyên", "signer_title": "Công chức tư pháp - hộ tịch"}
TITLES = {"birth": "TRÍCH LỤC KHAI SINH", "death": "TRÍCH LỤC KHAI TỬ", "marriage": "TRÍCH LỤC KẾT HÔN"}

BIRTHS = [
    [
        "Quyển số",
        "Số đăng ký",
        "Năm đăng ký",
        "Ngày đăng ký",
        "Họ và tên",
        "Giới tính",
        "Ngày sinh",
        "Nơi sinh",
        "Quê quán",
        "Dân tộc",
        "Quốc tịch",
        "Họ và tên mẹ",
        "Năm sinh mẹ",
        "Dân tộc mẹ",
        "Quốc tịch mẹ",
        "Nơi cư trú mẹ",
        "Họ và tên cha",
        "Năm sinh cha",
        "Dân tộc cha",
        "Quốc tịch cha",
        "Nơi cư trú cha",
        "Ghi chú",
    ],
    [
        "01",
        "12",
        "1968",
        "20/05/1968",
        "Trần Văn Hùng",
        "trai",
        "12/05/1968",
        "Xã Kiến An, quận Chợ Mới, tỉnh Long Xuyên",
        "Kiến An",
        "Kinh",
        "Việt Nam",
        "Lê Thị Ngọc Ánh",
        "1945",
        "Kinh",
        "Việt Nam",
        "Ấp Long Hòa",
        "Trần Văn Tư",
        "1940",
        "Kinh",
        "Việt Nam",
        "Ấp Long Hòa",
        "",
    ],
    # An impossible date, an illegible place, no father: flagged, and printed all the same.
    ["01", "13", "1967", "02/03/1967", "Phạm Thị Lụa", "Nữ", "29/02/1967", "không rõ", "", "", "", "Phạm Thị Huệ"]
    + [""] * 9
    + ["Cha không rõ"],
    ["01", "14", "1968", "01/06/1968", "Đỗ Văn Thạnh", "Nam", "12/3/1968 âm lịch", "Kiến An"],
]
DEATHS = [
    [
        "Quyển số",
        "Số đăng ký",
        "Năm đăng ký",
        "Ngày đăng ký",
        "Họ và tên người chết",
        "Giới tính",
        "Ngày sinh",
        "Dân tộc",
        "Quốc tịch",
        "Nơi cư trú cuối cùng",
        "Ngày chết",
        "Giờ chết",
        "Nơi chết",
        "Nguyên nhân chết",
        "Người đi khai",
        "Ghi chú",
    ],
    [
        "02",
        "7",
        "1975",
        "10/04/1975",
        "Huỳnh Văn Bảy",
        "Nam",
        "1920",
        "Kinh",
        "Việt Nam",
        "Ấp Kiến Bình",
        "08/04/1975",
        "14 giờ 30",
        "Tại nhà",
        "Bệnh già",
        "Huỳnh Văn Tám",
        "",
    ],
]
MARRIAGES = [
    [
        "Quyển số",
        "Số đăng ký",
        "Năm đăng ký",
        "Ngày đăng ký",
        "Họ và tên chồng",
        "Năm sinh chồng",
        "Dân tộc chồng",
        "Quốc tịch chồng",
        "Nơi cư trú chồng",
        "Họ và tên vợ",
        "Năm sinh vợ",
        "Dân tộc vợ",
        "Quốc tịch vợ",
        "Nơi cư trú vợ",
        "Ghi chú",
    ],
    [
        "03",
        "21",
        "1990",
        "15/08/1990",
        "Nguyễn Văn Lộc",
        "03/02/1965",
        "Kinh",
        "Việt Nam",
        "Ấp Long Hòa",
        "Châu Thị Bích Ngân",
        "1968",
        "Hoa",
        "Việt Nam",
        "Ấp Kiến Bình",
        "",
    ],
]


def import_csv(tmp_path, commune, record_type: str, rows: list[list[str]]) -> dict[str, CivilRecord]:
    """Import `rows` (header first) as a CSV file through the real importer; records by register number."""
    path = tmp_path / f"{record_type}.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    batch = services.create_batch(record_type=record_type, commune=commune, file_name=path.name)
    batch = importer.run_batch(batch, path)
    assert batch.status == "done" and batch.rejected == 0, batch.message
    return {r.number: r for r in CivilRecord.objects.filter(batch=batch)}


@pytest.fixture
def births(province, tmp_path):
    return import_csv(tmp_path, province["xa_a"], "birth", BIRTHS)


def render(record, **kwargs) -> bytes:
    record.refresh_from_db()
    data = printing.extract_pdf(record, **{**SIGNER, "copy_date": COPY_DATE, **kwargs})
    folder = os.environ.get("CQS_PRINT_SAMPLES")
    if folder:
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].split(" ")[0]
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{test}-{record.record_type}-{record.number}.pdf").write_bytes(data)
    return data


def text_of(data: bytes) -> str:
    """All pages' text, NFC, whitespace collapsed (pypdf's spacing follows the layout)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(unicodedata.normalize("NFC", " ".join(page.extract_text() for page in reader.pages)).split())


def assert_one_a4_page(data: bytes):
    assert data.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) == 1
    box = pages[0].mediabox
    assert (float(box.width), float(box.height)) == (pytest.approx(A4[0], abs=1), pytest.approx(A4[1], abs=1))


# ---------------------------------------------------------------- words and formatting


@pytest.mark.parametrize(
    "number, words",
    [
        (0, "không"),
        (1, "một"),
        (4, "bốn"),
        (5, "năm"),
        (10, "mười"),
        (14, "mười bốn"),
        (15, "mười lăm"),
        (20, "hai mươi"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (25, "hai mươi lăm"),
        (31, "ba mươi mốt"),
        (105, "một trăm linh năm"),
        (1900, "một nghìn chín trăm"),
        (1901, "một nghìn chín trăm linh một"),
        (1968, "một nghìn chín trăm sáu mươi tám"),
        (2000, "hai nghìn"),
        (2005, "hai nghìn không trăm linh năm"),
        (2010, "hai nghìn không trăm mười"),
        (2024, "hai nghìn không trăm hai mươi tư"),
    ],
)
def test_numbers_in_words(number, words):
    assert printing.number_words(number) == words


def test_dates_in_words_and_stored_dates_as_printed():
    assert printing.date_words(dt.date(1968, 5, 12)) == "Ngày mười hai, tháng năm, năm một nghìn chín trăm sáu mươi tám"
    assert printing.date_words(dt.date(2001, 4, 1)) == "Ngày một, tháng tư, năm hai nghìn không trăm linh một"
    assert (
        printing.date_words(dt.date(1975, 12, 25))
        == "Ngày hai mươi lăm, tháng mười hai, năm một nghìn chín trăm bảy mươi lăm"
    )
    assert printing.normalized_date_text("1968-05-12") == "12/05/1968"
    assert printing.normalized_date_text("1968-05") == "05/1968"
    assert printing.normalized_date_text("1968") == "1968"


def test_every_record_type_has_a_form():
    from chinhquyenso.civil_records.models import RecordType

    assert set(printing.FORMS) == set(RecordType.values)
    for code, form in printing.FORMS.items():
        assert form["title"].upper() == TITLES[code]
        assert "04/2020/TT-BTP" in form["legal_basis"]


# ---------------------------------------------------------------- birth


def test_birth_extract_prints_the_register_entry(births):
    data = render(births["12"])
    assert_one_a4_page(data)
    text = text_of(data)
    assert "TRÍCH LỤC KHAI SINH" in text and "(BẢN SAO)" in text
    assert "KHAI TỬ" not in text and "KẾT HÔN" not in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "ỦY BAN NHÂN DÂN XÃ KIẾN AN" in text
    assert "Số: 12" in text and "Quyển số: 01" in text
    assert "Họ, chữ đệm, tên: Trần Văn Hùng" in text
    assert "Ngày, tháng, năm sinh: 12/05/1968" in text
    assert "Ghi bằng chữ: Ngày mười hai, tháng năm, năm một nghìn chín trăm sáu mươi tám" in text
    assert "Giới tính: Nam" in text  # "trai" in the register, normalized
    # A pre-1975 place name is printed as the register has it.
    assert "Nơi sinh: Xã Kiến An, quận Chợ Mới, tỉnh Long Xuyên" in text
    assert "Họ, chữ đệm, tên người mẹ: Lê Thị Ngọc Ánh" in text
    assert "Họ, chữ đệm, tên người cha: Trần Văn Tư" in text
    assert text.index("người mẹ") < text.index("người cha") < text.index("Nơi đăng ký khai sinh")
    assert "Nơi đăng ký khai sinh: Ủy ban nhân dân xã Kiến An, huyện Chợ Mới, tỉnh An Giang" in text
    assert "Ngày, tháng, năm đăng ký: 20/05/1968" in text
    assert "Sao từ Sổ đăng ký khai sinh số 12, quyển số 01, năm 1968" in text
    assert "An Giang, ngày 05 tháng 3 năm 2025" in text
    assert "NGƯỜI KÝ TRÍCH LỤC" in text
    assert "(Ký, ghi rõ họ, chữ đệm, tên, chức vụ và đóng dấu)" in text
    assert "Công chức tư pháp - hộ tịch" in text and "Võ Thị Mỹ Duyên" in text


def test_incomplete_and_impossible_entries_still_print_as_written(births):
    record = births["13"]
    assert record.flags  # impossible date, illegible place, missing father
    text = text_of(render(record))
    assert "Họ, chữ đệm, tên: Phạm Thị Lụa" in text
    assert "Ngày, tháng, năm sinh: 29/02/1967" in text
    assert "Ghi bằng chữ" not in text  # not an exact date: no words
    assert "Nơi sinh: không rõ" in text
    assert "Quê quán: ………" in text
    assert "Họ, chữ đệm, tên người cha: ………" in text
    assert "Ghi chú: Cha không rõ" in text


def test_a_lunar_date_is_printed_as_written_without_words(births):
    text = text_of(render(births["14"]))
    assert "Ngày, tháng, năm sinh: 12/3/1968 âm lịch" in text
    assert "Ghi bằng chữ" not in text


def test_a_corrected_field_prints_the_registrars_value(births, admin_user):
    record = births["13"]
    services.review_field(
        actor=admin_user,
        record=record,
        field="born_on",
        action="corrected",
        value="28/02/1967",
        note="Đối chiếu sổ gốc",
    )
    services.review_field(
        actor=admin_user, record=record, field="birth_place", action="corrected", value="Ấp Long Hòa, xã Kiến An"
    )
    text = text_of(render(record))
    assert "Ngày, tháng, năm sinh: 28/02/1967" in text and "29/02/1967" not in text
    assert "Ghi bằng chữ: Ngày hai mươi tám, tháng hai, năm một nghìn chín trăm sáu mươi bảy" in text
    assert "Nơi sinh: Ấp Long Hòa, xã Kiến An" in text and "Nơi sinh: không rõ" not in text
    # A partial correction prints as mm/yyyy, without words.
    services.review_field(actor=admin_user, record=record, field="born_on", action="corrected", value="02/1967")
    text = text_of(render(record))
    assert "Ngày, tháng, năm sinh: 02/1967" in text and "Ghi bằng chữ" not in text


def test_a_spreadsheet_day_number_prints_as_the_date(province, tmp_path):
    rows = [["Số đăng ký", "Năm đăng ký", "Họ và tên", "Ngày sinh"], ["5", "1968", "Mai Văn Sáu", "24970"]]
    record = import_csv(tmp_path, province["xa_a"], "birth", rows)["5"]
    assert record.data["born_on"] == "1968-05-12"
    text = text_of(render(record))
    assert "Ngày, tháng, năm sinh: 12/05/1968" in text and "24970" not in text
    assert "Ghi bằng chữ: Ngày mười hai, tháng năm, năm một nghìn chín trăm sáu mươi tám" in text


def test_a_confirmed_field_keeps_the_register_text(births, admin_user):
    record = births["13"]
    services.review_field(actor=admin_user, record=record, field="born_on", action="confirmed")
    assert "Ngày, tháng, năm sinh: 29/02/1967" in text_of(render(record))


def test_a_record_without_verbatim_text_prints(province):
    record = CivilRecord.objects.create(
        record_type="birth",
        commune=province["xa_a"],
        identity_key="k:x1",
        subject_name="Lý Văn Nam",
        sex="Nam",
        data={"name": "Lý Văn Nam", "sex": "Nam", "born_on": "1950-07", "notes": "Sổ cũ <rách>"},
    )
    data = render(record)
    assert_one_a4_page(data)
    text = text_of(data)
    assert "Họ, chữ đệm, tên: Lý Văn Nam" in text
    assert "Ngày, tháng, năm sinh: 07/1950" in text and "Ghi bằng chữ" not in text
    assert "Số: ………" in text and "Quyển số: ………" in text
    blank = printing.BLANK
    assert blank.startswith("………")
    assert f"Sao từ Sổ đăng ký khai sinh số {blank}, quyển số {blank}, năm {blank}" in text
    assert "Nơi sinh: ………" in text
    assert "Ghi chú: Sổ cũ <rách>" in text  # text, never markup


def test_after_a_merger_the_successor_issues_and_the_old_commune_stays_the_place(births, province, admin_user):
    merged = org.merge(
        actor=admin_user,
        sources=[province["xa_a"], province["xa_b"]],
        name="UBND xã Long Kiến",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=province["huyen"],
        effective_date=dt.date(2025, 1, 1),
    )
    context = printing.extract_context(births["12"], **SIGNER, copy_date=COPY_DATE)
    assert context["issuer"] == merged.name == "UBND xã Long Kiến"
    text = text_of(render(births["12"]))
    assert "ỦY BAN NHÂN DÂN XÃ LONG KIẾN" in text and "XÃ KIẾN AN" not in text
    assert "Nơi đăng ký khai sinh: Ủy ban nhân dân xã Kiến An, huyện Chợ Mới, tỉnh An Giang" in text


def test_the_signer_is_required_and_the_copy_date_defaults_to_today(births, monkeypatch):
    with pytest.raises(DomainError) as error:
        printing.extract_pdf(births["12"], signer=" ", signer_title="Chủ tịch")
    assert error.value.field == "signer"
    with pytest.raises(DomainError):
        printing.extract_pdf(births["12"], signer="Võ Thị Mỹ Duyên", signer_title="")
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: dt.date(2025, 1, 2))
    assert printing.extract_context(births["12"], **SIGNER)["place_date"] == "An Giang, ngày 02 tháng 01 năm 2025"


# ---------------------------------------------------------------- death and marriage


def test_death_extract(province, tmp_path):
    record = import_csv(tmp_path, province["xa_a"], "death", DEATHS)["7"]
    data = render(record)
    assert_one_a4_page(data)
    text = text_of(data)
    assert "TRÍCH LỤC KHAI TỬ" in text and "(BẢN SAO)" in text
    assert "KHAI SINH" not in text and "KẾT HÔN" not in text
    assert "Họ, chữ đệm, tên người đã chết: Huỳnh Văn Bảy" in text
    assert "Ngày, tháng, năm sinh: 1920" in text
    assert "Nơi cư trú cuối cùng: Ấp Kiến Bình" in text
    assert "Đã chết vào lúc: 14 giờ 30, ngày 08/04/1975" in text
    assert "Nơi chết: Tại nhà" in text and "Nguyên nhân chết: Bệnh già" in text
    assert "Họ, chữ đệm, tên người đi khai tử: Huỳnh Văn Tám" in text
    assert "Nơi đăng ký khai tử: Ủy ban nhân dân xã Kiến An" in text
    assert "Sao từ Sổ đăng ký khai tử số 7, quyển số 02, năm 1975" in text
    assert "NGƯỜI KÝ TRÍCH LỤC" in text and "Võ Thị Mỹ Duyên" in text


def test_marriage_extract_shows_both_spouses(province, tmp_path):
    record = import_csv(tmp_path, province["xa_a"], "marriage", MARRIAGES)["21"]
    data = render(record)
    assert_one_a4_page(data)
    text = text_of(data)
    assert "TRÍCH LỤC KẾT HÔN" in text and "(BẢN SAO)" in text
    assert "KHAI SINH" not in text and "KHAI TỬ" not in text
    assert "Chồng" in text and "Vợ" in text
    assert "Nguyễn Văn Lộc" in text and "Châu Thị Bích Ngân" in text
    assert text.index("Nguyễn Văn Lộc") < text.index("Châu Thị Bích Ngân")
    assert "03/02/1965" in text and "1968" in text and "Hoa" in text
    assert "Ngày, tháng, năm đăng ký kết hôn: 15/08/1990" in text
    assert "Nơi đăng ký kết hôn: Ủy ban nhân dân xã Kiến An" in text
    assert "Sao từ Sổ đăng ký kết hôn số 21, quyển số 03, năm 1990" in text


def test_the_forms_load_nothing_from_outside(births):
    from django.template.loader import render_to_string

    for form in printing.FORMS.values():
        html = render_to_string(form["template"], printing.extract_context(births["12"], **SIGNER, copy_date=COPY_DATE))
        assert "http" not in html and "<img" not in html and "<link" not in html

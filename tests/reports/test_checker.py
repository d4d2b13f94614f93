"""`cqs report check` on small reports written for the test: each kind of finding, the
things it must not report, TXT/DOCX/PDF input, and the command's output."""

import json
import logging
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chinhquyenso.core.official.document import Bullet, Paragraph
from chinhquyenso.core.official.docx_writer import write_docx
from chinhquyenso.core.official.pdf_writer import write_pdf
from chinhquyenso.reports.checker import check_lines, check_text, extract_bytes, judge_percentage, parse_number
from tests.reports.samples import report


def findings(text: str):
    result = check_text(text)
    return (
        [(item.line, item.kind, item.printed, item.expected) for item in result.errors],
        [(item.line, item.kind, item.printed) for item in result.verified],
    )


# ---------------------------------------------------------------- numbers and rounding


@pytest.mark.parametrize(
    "raw, value, decimals",
    [
        ("1.697.083", Decimal("1697083"), 0),
        ("59.721,6", Decimal("59721.6"), 1),
        ("85,7", Decimal("85.7"), 1),
        ("1916", Decimal("1916"), 0),
        ("1,483,017", Decimal("1483017"), 0),
        ("85.7", Decimal("85.7"), 1),
        ("0,21", Decimal("0.21"), 2),
        ("1,234.5", Decimal("1234.5"), 1),
    ],
)
def test_parse_number_vietnamese_first_english_tolerated(raw, value, decimals):
    assert parse_number(raw) == (value, decimals)


@pytest.mark.parametrize(
    "numerator, denominator, printed, decimals, verdict",
    [
        (11, 14, "78.6", 1, None),
        (11, 14, "85.7", 1, "ratio"),
        (1697083, 1026794, "165.3", 1, None),
        (1697083, 1026794, "165.2", 1, "rounding"),  # truncated
        (383, 399, "95.98", 2, "rounding"),
        (3, 9, "33.3", 1, None),
        (40, 40, "100", 0, None),
        (1, 8, "12.5", 1, None),
        (1, 8, "13", 0, None),
        (1, 8, "12", 0, None),  # a tie may go either way
        (2, 3, "66.6", 1, "rounding"),
        (2, 3, "66.8", 1, "rounding"),
        (2, 3, "66.5", 1, "ratio"),
    ],
)
def test_judge_percentage(numerator, denominator, printed, decimals, verdict):
    assert judge_percentage(Decimal(numerator), Decimal(denominator), Decimal(printed), decimals) == verdict


# ---------------------------------------------------------------- each kind in plain text


def test_fraction_and_percentage_that_disagree():
    errors, verified = findings(
        "Tổng số cơ quan hoàn thiện là 11/14 cơ quan, tỷ lệ 85,7%.\nDữ liệu mở: 178/180 cơ quan, đạt tỉ lệ 98,9%."
    )
    assert errors == [(1, "ratio", "85,7%", "78,6%")]
    assert verified == [(2, "ratio", "98,9%")]


def test_rounding_slips_are_told_apart():
    errors, _ = findings(
        "Thu nhận 1.697.083/1.026.794 hồ sơ, tỷ lệ 165,2%; kích hoạt 1.127.989/1.026.794 tài khoản, "
        "tỷ lệ 109,85%; cấp 2/3 giấy phép (66,8%)."
    )
    assert errors == [
        (1, "rounding", "165,2%", "165,3%"),
        (1, "rounding", "109,85%", "109,86%"),
        (1, "rounding", "66,8%", "66,7%"),
    ]


def test_english_number_format_is_tolerated():
    errors, verified = findings("Processed 1,697,083/1,026,794 hồ sơ, tỷ lệ 165.28%.\nĐạt 11/14 cơ quan, tỷ lệ 85.7%.")
    assert verified == [(1, "ratio", "165.28%")]
    assert errors == [(2, "ratio", "85.7%", "78,6%")]


def test_percentage_before_its_fraction_and_in_a_table_row():
    errors, verified = findings("Tỷ lệ hoàn thành 85% (17/20 xã).\nVăn phòng UBND tỉnh 11/14 78,6%")
    assert errors == []
    assert verified == [(1, "ratio", "85%"), (2, "ratio", "78,6%")]


def test_part_with_its_whole_stated_before():
    text = (
        "Hệ thống đã tiếp nhận 399 phản ánh, kiến nghị, cụ thể:\n"
        "+ Đã giải quyết: 383 phản ánh, kiến nghị (đạt 95,98%).\n"
        "+ Đang xử lý: 16 phản ánh, kiến nghị."
    )
    errors, verified = findings(text)
    assert errors == [(2, "rounding", "95,98%", "95,99%")]
    assert verified == [(1, "total", "399")]


def test_a_whole_found_by_its_unit_is_trusted_only_for_rounding():
    """383 of 500 is 76,6%, far from 95,98%: the 500 may not be the whole meant, so nothing is said."""
    errors, verified = findings("Tiếp nhận 500 phản ánh. Đã giải quyết 383 phản ánh (đạt 95,98%).")
    assert errors == [] and verified == []


def test_totals_that_add_up_and_that_do_not():
    text = (
        "Tổng số dịch vụ công: 1916 dịch vụ. Trong đó: số dịch vụ cung cấp thông tin: 319 DVC; "
        "số DVCTT một phần: 797 DVC; số DVCTT toàn trình: 900 DVC.\n"
        "Toàn tỉnh có 188 cơ quan gồm: 21 sở, ngành tỉnh; 11 UBND cấp huyện; 150 UBND cấp xã.\n"
        "Nhận 262 tài liệu (210 ấn phẩm Báo An Giang; 52 tài liệu không kinh doanh)."
    )
    errors, verified = findings(text)
    assert errors == [(1, "total", "1916", "2.016"), (2, "total", "188", "182")]
    assert verified == [(3, "total", "262")]


def test_total_note_shows_the_addition():
    [error] = check_text("Có 188 cơ quan gồm: 21 sở; 11 UBND cấp huyện; 150 UBND cấp xã.").errors
    assert error.note == "21 + 11 + 150 = 182" and error.label == "sai tổng"


def test_parts_after_trong_do_may_leave_some_out():
    """'of which' need not name every part: a smaller sum is no error, a larger one is."""
    errors, verified = findings(
        "Cung cấp 2.068 dịch vụ. Trong đó: mức độ 3: 517 dịch vụ; mức độ 4: 943 dịch vụ.\n"
        "Cung cấp 1.000 dịch vụ. Trong đó: mức độ 3: 517 dịch vụ; mức độ 4: 943 dịch vụ."
    )
    assert errors == [(2, "total", "1.000", "1.460")]
    assert verified == []


def test_first_parts_make_the_total_and_the_rest_says_more():
    errors, verified = findings(
        "180 cơ quan gồm: 14 sở, ngành tỉnh; 11 UBND cấp huyện; 155 UBND cấp xã; còn 2 cơ quan chưa thực hiện."
    )
    assert errors == [] and verified == [(1, "total", "180")]


def test_things_that_are_not_checked():
    text = "\n".join(
        [
            "Tăng 272.136 tài khoản, tương ứng tăng 16,10% so với cùng kỳ.",  # growth, not a share
            "Giảm 7,13% so với tháng 02/2025 (đạt 85,7%).",  # a date is no fraction
            "Ngày 15/10/2024 đạt 50%; Kế hoạch số 214/KH-UBND đạt 30%.",  # dates and codes
            "Đạt 11/14 tiêu chí, tỷ lệ hồ sơ trực tuyến đạt 45%.",  # a share of something else
            "Có hơn 165 trang. Trong đó, có 01 cổng, 01 báo và 200 trang.",  # approximate total
            "Số vị trí cột là 2.189. Trong đó, số trạm thu phát sóng là: 4.918;",  # one part only
            "Đạt 30% so với mục tiêu 30%.",
            "Năm 2024. Trong đó, kiểm tra 11 huyện và 3 sở.",  # a year is no total
        ]
    )
    assert findings(text) == ([], [])


def test_footnote_number_on_its_own_line_and_broken_lines():
    """PDF text: the line breaks mid-sentence and footnote 15 sits on its own line."""
    text = (
        "- Tính đến tháng 03/2025, tổng số cơ quan nhà nước cấp tỉnh hoàn thiện \n\n"
        "Chính quyền điện tử là 11/14\n15\n\n cơ quan, tỷ lệ 85,7% (giảm so với \n\ntháng trước)."
    )
    errors, _ = findings(text)
    assert errors == [(3, "ratio", "85,7%", "78,6%")]


def test_footnote_number_stuck_to_the_denominator():
    """PDF text '179/18810': footnote 10 (the footnotes 1 … 10 are found at the page feet)."""
    footnotes = "".join(f"{number} Kế hoạch số {number}/KH-UBND.\n" for number in range(1, 10))
    text = (
        "dữ liệu mở là \n179/18810 cơ quan, đạt tỉ lệ 95,2%.\n"
        + footnotes
        + "10 188 cơ quan gồm: 21 sở; 11 UBND cấp huyện; 156 UBND cấp xã.\n"
    )
    result = check_text(text)
    assert result.errors == []
    ratio = next(item for item in result.verified if item.kind == "ratio")
    assert ratio.printed == "95,2%" and "chú thích 10" in ratio.note


def test_unknown_stuck_footnote_is_no_alarm():
    """Without footnotes to explain '18810', a figure that far off is not reported."""
    assert findings("dữ liệu mở là 179/18810 cơ quan, đạt tỉ lệ 95,2%.") == ([], [])


def test_markdown_footnotes_and_emphasis_are_ignored():
    errors, verified = findings("số lượng là 179/188<sup>10</sup> cơ quan, đạt tỉ lệ **94,2%**.")
    assert errors == [(1, "ratio", "94,2%", "95,2%")]


# ---------------------------------------------------------------- DOCX and PDF written by this app

MISTAKES = [
    Paragraph(
        "Tổng số cơ quan nhà nước cấp tỉnh hoàn thiện Chính quyền điện tử là 11/14 cơ quan, tỷ lệ 85,7%. "
        "Thu nhận 1.697.083/1.026.794 hồ sơ, tỷ lệ 165,2%."
    ),
    Paragraph("Hệ thống đã tiếp nhận 399 phản ánh, kiến nghị của người dân, cụ thể:"),
    Bullet("Đã giải quyết: 383 phản ánh, kiến nghị (đạt 95,98%).", marker="+"),
    Bullet("Đang xử lý: 16 phản ánh, kiến nghị.", marker="+"),
    Paragraph(
        "Tổng số dịch vụ công: 1.916 dịch vụ. Trong đó: số dịch vụ cung cấp thông tin: 319 DVC; "
        "số DVCTT một phần: 797 DVC; số DVCTT toàn trình: 900 DVC."
    ),
]
EXPECTED = [
    ("ratio", "85,7%", "78,6%"),
    ("rounding", "165,2%", "165,3%"),
    ("rounding", "95,98%", "95,99%"),
    ("total", "1.916", "2.016"),
]
VERIFIED = [("ratio", "98,9%"), ("ratio", "41,5%"), ("total", "399")]  # from samples.report
# PDF text keeps a table row on one line, "Văn phòng UBND tỉnh 11/14 78,6%", so the appendix is checked too.
APPENDIX_ROWS = [("ratio", "78,6%"), ("ratio", "100%"), ("ratio", "85,7%")]


@pytest.fixture(scope="module")
def mistaken():
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    document = report(paragraphs=2, extra=MISTAKES)
    return {"docx": write_docx(document), "pdf": write_pdf(document)}


@pytest.mark.parametrize("kind", ["docx", "pdf"])
def test_written_documents_are_checked(mistaken, kind):
    lines = extract_bytes(mistaken[kind])
    result = check_lines(lines)
    assert [(item.kind, item.printed, item.expected) for item in result.errors] == EXPECTED
    assert sorted((item.kind, item.printed) for item in result.verified) == sorted(
        VERIFIED + (APPENDIX_ROWS if kind == "pdf" else [])
    )
    by_number = {line.number: line.text for line in lines}
    for item in result.errors:  # the line number points at the printed figure's first line
        assert item.excerpt.split()[0] in by_number[item.line]


def test_pdf_lines_are_joined_again(mistaken):
    """The PDF breaks the 1.916 paragraph over two lines; the finding is still made."""
    lines = [line.text for line in extract_bytes(mistaken["pdf"])]
    assert not any("1.916 dịch vụ" in line and "900 DVC" in line for line in lines)


# ---------------------------------------------------------------- the command


@pytest.fixture
def files(tmp_path, mistaken):
    paths = {}
    for kind, data in mistaken.items():
        paths[kind] = tmp_path / f"bao-cao.{kind}"
        paths[kind].write_bytes(data)
    paths["ok"] = tmp_path / "dung.txt"
    paths["ok"].write_text("Dữ liệu mở: 178/180 cơ quan, đạt tỉ lệ 98,9%.\n", encoding="utf-8")
    return paths


def run(*args):
    from io import StringIO

    out = StringIO()
    try:
        call_command("report", *map(str, args), stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


def test_command_prints_a_vietnamese_table_and_exits_1_on_errors(files):
    code, out = run("check", files["pdf"])
    assert code == 1
    assert "Số liệu sai:" in out and "Dòng" in out and "Đúng là" in out
    assert "sai tỷ lệ" in out and "78,6%" in out and "sai làm tròn" in out and "sai tổng" in out
    assert "Kết quả: 4 số liệu sai; 6 số liệu kiểm tra đúng." in out
    assert "Số liệu đúng:" not in out
    assert "Số liệu đúng:" in run("check", files["pdf"], "--all")[1]


def test_command_exits_0_when_everything_checks(files):
    code, out = run("check", files["ok"])
    assert code == 0 and "Kết quả: 0 số liệu sai; 1 số liệu kiểm tra đúng." in out


def test_command_json(files):
    code, out = run("check", files["docx"], "--json")
    data = json.loads(out)
    assert code == 1
    assert data["error_count"] == 4 and data["verified_count"] == 3
    first = data["errors"][0]
    assert {"line", "kind", "excerpt", "printed", "expected", "note", "label", "ok"} <= set(first)
    assert (first["kind"], first["printed"], first["expected"], first["ok"]) == ("ratio", "85,7%", "78,6%", False)


def test_command_text_shows_the_numbered_lines(files):
    code, out = run("check", files["ok"], "--text")
    assert code == 0 and out.strip() == "1  Dữ liệu mở: 178/180 cơ quan, đạt tỉ lệ 98,9%."


def test_command_refuses_a_missing_or_unreadable_file(tmp_path):
    with pytest.raises(CommandError, match="Không đọc được tệp") as missing:
        call_command("report", "check", str(tmp_path / "khong-co.pdf"))
    assert missing.value.returncode == 2
    broken = tmp_path / "hong.pdf"
    broken.write_bytes(b"%PDF-1.7 not really")
    with pytest.raises(CommandError, match="PDF"):
        call_command("report", "check", str(broken))
    binary = tmp_path / "anh.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(CommandError, match="UTF-8"):
        call_command("report", "check", str(binary))


def test_command_needs_a_subcommand():
    with pytest.raises(CommandError):
        call_command("report")

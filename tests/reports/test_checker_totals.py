"""`cqs report check`: a total written after its parts, and totals in tables (issue 17, item 5).

Before, only a total followed by "trong đó" / "gồm" / "(" was read, so "215 hồ sơ, 48 hồ sơ và 37 hồ sơ,
tổng cộng 310 hồ sơ" (really 300) passed, and so did a wrong "Tổng cộng" row or column of a table."""

import io
import json

from django.core.management import call_command

from chinhquyenso.reports.checker import check_lines, check_text, extract_bytes


def results(report):
    return (
        [(item.line, item.kind, item.printed, item.expected, item.note) for item in report.errors],
        [(item.line, item.kind, item.printed, item.note) for item in report.verified],
    )


# ---------------------------------------------------------------- running text


ISSUE_SENTENCE = "…215 hồ sơ, 48 hồ sơ và 37 hồ sơ, tổng cộng 310 hồ sơ"


def test_the_issue_sentence_is_reported_with_its_parts():
    [error] = check_text(ISSUE_SENTENCE).errors
    assert (error.kind, error.label, error.printed, error.expected) == ("total", "sai tổng", "310", "300")
    assert error.note == "215 + 48 + 37 = 300"
    assert error.excerpt == "215 hồ sơ, 48 hồ sơ và 37 hồ sơ, tổng cộng 310 hồ sơ"


def test_total_after_its_parts_in_a_sentence():
    errors, verified = results(
        check_text(
            "Quý III, ba xã tiếp nhận 215 hồ sơ, 48 hồ sơ và 37 hồ sơ, tổng cộng 310 hồ sơ.\n"
            "Quý IV, ba xã tiếp nhận 215 hồ sơ, 48 hồ sơ và 37 hồ sơ, tổng cộng 300 hồ sơ.\n"
            "Xã Mỹ Hòa Hưng: 215; xã Bình Đức: 48; tổng số: 263.\n"
            "Ba xã (215 hồ sơ, 48 hồ sơ, tổng cộng là 273 hồ sơ) đã hoàn thành."
        )
    )
    assert errors == [
        (1, "total", "310", "300", "215 + 48 + 37 = 300"),
        (4, "total", "273", "263", "215 + 48 = 263"),
    ]
    assert verified == [(2, "total", "300", "215 + 48 + 37 = 300"), (3, "total", "263", "215 + 48 = 263")]


def test_total_after_a_list_of_bullets_is_reported_on_its_own_line():
    errors, _ = results(
        check_text("Kết quả tiếp nhận:\n- Xã Mỹ Hòa Hưng: 215 hồ sơ;\n- Xã Bình Đức: 48 hồ sơ.\nTổng cộng: 273 hồ sơ.")
    )
    assert errors == [(4, "total", "273", "263", "215 + 48 = 263")]


def test_totals_before_their_parts_are_read_as_before():
    errors, verified = results(
        check_text(
            "Tổng cộng 310 hồ sơ, gồm: 215 hồ sơ; 48 hồ sơ; 37 hồ sơ.\nTiếp nhận 300 hồ sơ (215 trực tiếp; 85 trực tuyến)."
        )
    )
    assert errors == [(1, "total", "310", "300", "215 + 48 + 37 = 300")]
    assert verified == [(2, "total", "300", "215 + 85 = 300")]


def test_what_a_total_after_parts_does_not_report():
    text = "\n".join(
        [
            # the last parts make the total; the count before them says more
            "Năm 2025 tiếp nhận 500 hồ sơ, xã Mỹ Hòa Hưng 215 hồ sơ và xã Bình Đức 85 hồ sơ, tổng cộng 300 hồ sơ.",
            # another count before the parts: they may not be all that is summed
            "Có 3 xã báo cáo, xã Mỹ Hòa Hưng 215 hồ sơ và xã Bình Đức 48 hồ sơ, tổng cộng 310 hồ sơ.",
            # a part larger than the "total": no sum
            "Xã Mỹ Hòa Hưng 215 hồ sơ, xã Bình Đức 48 hồ sơ, tổng số 200 hồ sơ.",
            # one part is no sum; an approximate total is not checked
            "Xã Mỹ Hòa Hưng 215 hồ sơ, tổng cộng 310 hồ sơ.",
            "Xã Mỹ Hòa Hưng 215 hồ sơ, xã Bình Đức 48 hồ sơ, tổng cộng khoảng 300 hồ sơ.",
        ]
    )
    errors, verified = results(check_text(text))
    assert errors == []
    assert verified == [(1, "total", "300", "215 + 85 = 300")]


# ---------------------------------------------------------------- tables

MARKDOWN_TABLE = """Bảng 1. Hồ sơ tiếp nhận quý III năm 2025

| STT | Xã | Trực tiếp | Trực tuyến | Tổng cộng |
|---|---|---|---|---|
| 1 | Mỹ Hòa Hưng | 150 | 65 | 215 |
| 2 | Bình Đức | 30 | 18 | {row2} |
| 3 | Long Xuyên | 20 | 17 | 37 |
| | Tổng cộng | 200 | 100 | {total} |
"""


def test_table_with_a_total_row_at_the_bottom_and_a_total_column_at_the_right():
    errors, verified = results(check_text(MARKDOWN_TABLE.format(row2=50, total=310)))
    assert errors == [
        (6, "total", "50", "48", "dòng “Bình Đức”, cột “Tổng cộng”: 30 + 18 = 48"),
        (8, "total", "310", "302", "dòng “Tổng cộng”, cột “Tổng cộng”: 215 + 50 + 37 = 302"),
        (8, "total", "310", "300", "dòng “Tổng cộng”, cột “Tổng cộng”: 200 + 100 = 300"),
    ]
    assert (8, "total", "200", "dòng “Tổng cộng”, cột “Trực tiếp”: 150 + 30 + 20 = 200") in verified
    assert len(verified) == 4  # rows 1 and 3, the columns Trực tiếp and Trực tuyến

    errors, verified = results(check_text(MARKDOWN_TABLE.format(row2=48, total=300)))
    assert errors == [] and len(verified) == 7


def docx_table(rows) -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph("Bảng 2. Hồ sơ tiếp nhận quý III năm 2025")
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for row_index, row in enumerate(rows):
        for column, value in enumerate(row):
            table.cell(row_index, column).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_table_with_the_totals_first():
    """A "Tổng cộng" row above its parts and a "Tổng số" column left of them, in a DOCX file."""
    rows = [
        ["STT", "Xã", "Tổng số", "Trực tiếp", "Trực tuyến"],
        ["", "Tổng cộng", "310", "200", "110"],
        ["1", "Mỹ Hòa Hưng", "215", "150", "65"],
        ["2", "Bình Đức", "95", "50", "45"],
        ["3", "Long Xuyên", "1.000", "1.000", "-"],
    ]
    lines = extract_bytes(docx_table(rows))
    errors, verified = results(check_lines(lines))
    line_of = {line.text: line.number for line in lines}
    assert errors == [
        (line_of["310"], "total", "310", "1.310", "dòng “Tổng cộng”, cột “Tổng số”: 215 + 95 + 1.000 = 1.310"),
        (line_of["200"], "total", "200", "1.200", "dòng “Tổng cộng”, cột “Trực tiếp”: 150 + 50 + 1.000 = 1.200"),
    ]
    assert (line_of["110"], "total", "110", "dòng “Tổng cộng”, cột “Trực tuyến”: 65 + 45 + 0 = 110") in verified
    assert (line_of["215"], "total", "215", "dòng “Mỹ Hòa Hưng”, cột “Tổng số”: 150 + 65 = 215") in verified


def test_tables_that_are_not_sums_are_not_checked():
    text = "\n".join(
        [
            # a list of figures headed "Tổng số …", not a total row
            "| Chỉ tiêu | Số hồ sơ |",
            "|---|---|",
            "| Tổng số hồ sơ tiếp nhận | 500 |",
            "| Đã giải quyết | 450 |",
            "| Trong đó đúng hạn | 400 |",
            "",
            # a column headed "Tổng số" that never adds up: a list, not a sum
            "| Xã | Tổng số hồ sơ | Đã giải quyết | Đúng hạn |",
            "|---|---|---|---|",
            "| Mỹ Hòa Hưng | 215 | 200 | 190 |",
            "| Bình Đức | 48 | 40 | 38 |",
            "",
            # rates and a table with groups (subtotals inside)
            "| Xã | Tỷ lệ (%) |",
            "|---|---|",
            "| Mỹ Hòa Hưng | 80 |",
            "| Bình Đức | 70 |",
            "| Tổng cộng | 75 |",
            "",
            "| STT | Đơn vị | Số hồ sơ |",
            "|---|---|---|",
            "| I | Cấp tỉnh | 20 |",
            "| 1 | Sở Tư pháp | 10 |",
            "| 2 | Sở Y tế | 10 |",
            "| II | Cấp xã | 30 |",
            "| 1 | Xã Mỹ Hòa Hưng | 30 |",
            "| | Tổng cộng | 50 |",
        ]
    )
    assert results(check_text(text)) == ([], [])


def test_command_reports_the_total_after_its_parts(tmp_path):
    path = tmp_path / "bao-cao.txt"
    path.write_text("Quý III, ba xã tiếp nhận " + ISSUE_SENTENCE.lstrip("…") + ".\n", encoding="utf-8")
    out = io.StringIO()
    try:
        call_command("report", "check", str(path), "--json", stdout=out)
    except SystemExit as exit_:
        assert exit_.code == 1
    data = json.loads(out.getvalue())
    assert data["error_count"] == 1
    error = data["errors"][0]
    assert (error["line"], error["label"], error["printed"], error["expected"], error["note"]) == (
        1,
        "sai tổng",
        "310",
        "300",
        "215 + 48 + 37 = 300",
    )

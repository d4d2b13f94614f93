"""The neutral document structure: the lines it prints and what it refuses."""

import datetime as dt

import pytest

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.official.document import Appendix, Bullet, OfficialDocument, Table, short_date


def document(**values) -> OfficialDocument:
    base = {
        "parent_agency": "UBND tỉnh An Giang",
        "issuing_agency": "Sở Thông tin và Truyền thông",
        "symbol": "BC-STTTT",
        "place": "An Giang",
    }
    return OfficialDocument(**{**base, **values})


def test_number_and_symbol():
    assert document(number=238).number_symbol == "Số: 238/BC-STTTT"
    assert document(number=5).number_symbol == "Số: 05/BC-STTTT"  # Nghị định 30/2020: below 10, a leading zero
    assert document().number_symbol == "Số:      /BC-STTTT"  # not issued yet: the clerk writes the number


@pytest.mark.parametrize(
    "day, expected",
    [
        (dt.date(2025, 4, 8), "An Giang, ngày 08 tháng 4 năm 2025"),
        (dt.date(2025, 1, 20), "An Giang, ngày 20 tháng 01 năm 2025"),  # months 1 and 2 take a zero
        (dt.date(2022, 9, 22), "An Giang, ngày 22 tháng 9 năm 2022"),
        (dt.date(2024, 12, 31), "An Giang, ngày 31 tháng 12 năm 2024"),
    ],
)
def test_place_and_date(day, expected):
    assert document(date=day).place_date == expected


def test_draft_date_leaves_day_and_month_blank():
    assert document(year=2024).place_date == "An Giang, ngày     tháng     năm 2024"
    assert document().place_date.endswith(f"năm {dt.date.today().year}")


def test_appendix_reference():
    assert (
        document(number=238, date=dt.date(2022, 9, 22)).reference == "(Kèm theo Báo cáo số 238/BC-STTTT ngày 22/9/2022)"
    )
    assert document(year=2025).reference == "(Kèm theo Báo cáo số     /BC-STTTT ngày     /    /2025)"
    assert short_date(dt.date(2025, 2, 3)) == "03/02/2025"


def test_bullets_and_summary_lines():
    assert Bullet("Thuê bao di động: 2.164.505;").line == "- Thuê bao di động: 2.164.505;"
    assert Bullet("Tỷ lệ 83,17%.", marker="+").line == "+ Tỷ lệ 83,17%."
    assert Bullet("- đã có dấu").line == "- đã có dấu"
    assert document(summary="Kết quả chuyển đổi số\n 9 tháng đầu năm 2024 \n").summary_lines == [
        "Kết quả chuyển đổi số",
        "9 tháng đầu năm 2024",
    ]


def test_appendices_may_be_plain_tuples():
    table = Table("", ["STT", "Nội dung"], [["1", "Hạ tầng"]])
    doc = document(appendices=[("Phụ lục 1", "CHỈ TIÊU", table)])
    assert doc.appendices == [Appendix("Phụ lục 1", "CHỈ TIÊU", table)]


def test_table_widths_are_shares():
    assert Table("", ["a", "b"], [], widths=[1, 3]).fractions() == [0.25, 0.75]
    assert Table("", ["a", "b", "c", "d"], []).fractions() == [0.25] * 4


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: Table("Phụ lục", ["STT", "Nội dung"], [["1"]]), "rows"),
        (lambda: Table("Phụ lục", [], []), "columns"),
        (lambda: Table("Phụ lục", ["a", "b"], [], widths=[1]), "widths"),
        (lambda: document(issuing_agency=" "), "issuing_agency"),
        (lambda: document(symbol=""), "symbol"),
        (lambda: document(body=["văn bản thường"]), "body"),
    ],
)
def test_refusals_name_the_field(make, field):
    with pytest.raises(DomainError) as error:
        make()
    assert error.value.field == field

"""Normalising person fields for linking (persons.normalize) and the linkage frame built from them."""

import datetime as dt

import pandas as pd
import pytest

from chinhquyenso.persons.linkage.frame import FRAME_COLUMNS, build_frame, frame_row
from chinhquyenso.persons.normalize import (
    Birth,
    NameParts,
    accent_key,
    fold_name,
    id_agrees,
    insurance_code,
    normalize_id,
    normalize_phone,
    normalize_sex,
    parse_birth,
    split_name,
)

TODAY = dt.date(2025, 10, 1)


@pytest.mark.parametrize(
    ("a", "b", "folded"),
    [
        ("Nguyễn Thị Thuý", "NGUYEN THI THÚY", "nguyen thi thuy"),
        ("Hoà", "Hòa", "hoa"),
        ("Lý", "Lí", "li"),
        ("Mỹ", "Mĩ", "mi"),
        ("Kỳ", "Kì", "ki"),
        ("Quý", "Quí", "qui"),
        ("Đặng  Văn\tĐạt", "dang van dat", "dang van dat"),
        ("Sa-Rươne", "Sa Rươne", "sa ruone"),
        # decomposed input (combining marks after the letters) is NFC-normalised first
        ("Nguye\u0302\u0303n", "Nguyễn", "nguyen"),
    ],
)
def test_fold_name_unifies_spelling_variants(a, b, folded):
    assert fold_name(a) == fold_name(b) == folded


@pytest.mark.parametrize("vowel_group", ["Thuỳ", "Huy", "Tây", "Duy", "Y"])
def test_fold_name_keeps_y_inside_a_vowel_group(vowel_group):
    assert fold_name(vowel_group).endswith("y")


def test_accent_key_unifies_tone_placement_but_keeps_tones_and_vowels_apart():
    assert accent_key("Hoà") == accent_key("Hòa") == "hoa2"
    assert accent_key("Thuý") == accent_key("Thúy") == "thuy1"
    assert accent_key("Lý") == accent_key("Lí") == "li1"
    assert accent_key("Hùng") != accent_key("Hưng")
    assert accent_key("Đạt") != accent_key("Dat")
    assert fold_name("Hùng") == fold_name("Hưng")


@pytest.mark.parametrize(
    ("full", "parts"),
    [
        ("Nguyễn Văn An", NameParts("nguyen", "van", "an")),
        ("Phạm Thị Ngọc Lan", NameParts("pham", "thi ngoc", "lan")),
        ("Lan", NameParts("", "", "lan")),
        ("", NameParts("", "", "")),
        ("Chau Sóc Kha", NameParts("soc", "", "kha", "chau")),
        ("Sóc Kha", NameParts("soc", "", "kha")),
        ("Néang Sa Rươne", NameParts("sa", "", "ruone", "neang")),
        ("Thạch Thị Sa Rết", NameParts("thach", "thi sa", "ret")),
        # Châu is also a family name: followed by a middle name, or by the given name alone, it is one
        ("Châu Văn Liêm", NameParts("chau", "van", "liem")),
        ("Châu Liêm", NameParts("chau", "", "liem")),
        ("Lâm Chí Phát", NameParts("lam", "chi", "phat")),
    ],
)
def test_split_name(full, parts):
    assert split_name(full) == parts


@pytest.mark.parametrize(
    ("value", "birth"),
    [
        (dt.date(1990, 3, 5), Birth(1990, 3, 5)),
        (dt.datetime(1990, 3, 5, 8, 30), Birth(1990, 3, 5)),
        ("05/03/1990", Birth(1990, 3, 5)),
        ("5-3-1990", Birth(1990, 3, 5)),
        ("5.3.1990", Birth(1990, 3, 5)),
        ("1990-03-05", Birth(1990, 3, 5)),
        ("1990-03-05 00:00:00", Birth(1990, 3, 5)),
        ("199003050000", Birth(1990, 3, 5)),
        ("19900305", Birth(1990, 3, 5)),
        ("03/1990", Birth(1990, 3, None)),
        ("1990", Birth(1990, None, None)),
        (1990, Birth(1990, None, None)),
        (1990.0, Birth(1990, None, None)),
        ("00/00/1990", Birth(1990, None, None)),
        ("00/03/1990", Birth(1990, 3, None)),
        ("29/02/2000", Birth(2000, 2, 29)),
        ("", Birth()),
        (None, Birth()),
        (float("nan"), Birth()),
    ],
)
def test_parse_birth_reads_the_usual_forms(value, birth):
    assert parse_birth(value, today=TODAY) == birth


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("31/02/1990", "Ngày sinh không có thật (tháng đó không có ngày này)."),
        ("29/02/1990", "Ngày sinh không có thật (tháng đó không có ngày này)."),
        ("1899", "Năm sinh trước năm 1900, không hợp lệ."),
        ("02/10/2025", "Ngày sinh ở tương lai, không hợp lệ."),
        ("11/2025", "Ngày sinh ở tương lai, không hợp lệ."),
        ("2026", "Ngày sinh ở tương lai, không hợp lệ."),
        ("05/13/1990", "Tháng sinh phải từ 1 đến 12."),
        ("15/00/1990", "Ngày sinh không có thật: có ngày nhưng tháng là 0."),
        ("mùng 5 tháng 3", "Không đọc được ngày sinh"),
        ("1990/3", "Không đọc được ngày sinh"),
        (True, "Không đọc được ngày sinh"),
    ],
)
def test_parse_birth_refuses_unreadable_or_impossible_dates(value, message):
    with pytest.raises(ValueError) as error:
        parse_birth(value, today=TODAY)
    assert str(error.value).startswith(message)


def test_birth_isoformat():
    assert Birth(1990, 3, 5).isoformat() == "1990-03-05"
    assert Birth(1990, 3).isoformat() == "1990-03"
    assert Birth(1990).isoformat() == "1990"
    assert Birth().isoformat() == ""
    assert Birth(1990, 3, 5).complete and not Birth(1990, 3).complete


@pytest.mark.parametrize(
    ("value", "sex"),
    [
        ("Nam", "nam"),
        ("NAM", "nam"),
        ("male", "nam"),
        ("M", "nam"),
        ("1", "nam"),
        (1, "nam"),
        ("Nữ", "nu"),
        ("nu", "nu"),
        ("Female", "nu"),
        ("F", "nu"),
        ("0", "nu"),
        (0, "nu"),
        ("2", "nu"),
        ("", ""),
        (None, ""),
        ("Không rõ", ""),
    ],
)
def test_normalize_sex(value, sex):
    assert normalize_sex(value) == sex


def test_normalize_sex_refuses_other_text():
    with pytest.raises(ValueError, match="Giới tính không hợp lệ: ghi Nam hoặc Nữ"):
        normalize_sex("trai gái")


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("089 090 001 234", "089090001234"),
        ("089.090.001.234", "089090001234"),
        ("352-123-456", "352123456"),
        ("352123456", "352123456"),
        (89090001234, "089090001234"),  # a spreadsheet dropped the leading zero
        ("89090001234", "089090001234"),
        (12345678, "012345678"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_id(value, number):
    assert normalize_id(value) == number


@pytest.mark.parametrize("value", ["12345", "0890900012345", "08909000123A", "０８９０９０００１２３４", "99090001234"])
def test_normalize_id_refuses_other_lengths_and_non_digits(value):
    with pytest.raises(
        ValueError, match=r"Số CMND/CCCD không hợp lệ: phải có 9 chữ số \(CMND\) hoặc 12 chữ số \(CCCD\)"
    ):
        normalize_id(value)


@pytest.mark.parametrize(
    ("number", "sex", "year", "agrees"),
    [
        ("089090001234", "nam", 1990, True),  # An Giang, 20th century man, born '90
        ("089190001234", "nu", 1990, True),  # 20th century woman
        ("089215001234", "nam", 2015, True),  # 21st century man
        ("089315001234", "nu", 2015, True),
        ("089090001234", "nu", 1990, False),  # sex digit says a man
        ("089090001234", "nam", 1991, False),  # year digits say '90
        ("089090001234", "nam", 2090, False),  # century digit says 1900s
        ("089080001234", "nam", 2015, False),  # a father's ID on a child's record
        ("003090001234", "nam", 1990, False),  # 003 is no province's code
        ("089090001234", "", None, None),  # nothing to check against
        ("089090001234", "", 1990, True),
        ("352123456", "nam", 1990, None),  # a 9-digit ID carries none of this
        ("", "nam", 1990, None),
    ],
)
def test_id_agrees(number, sex, year, agrees):
    assert id_agrees(number, sex, year) is agrees


@pytest.mark.parametrize(
    ("value", "phone"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("091.234.5678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("912345678", "0912345678"),
        (912345678, "0912345678"),
        # the 2018 change: old 11-digit mobiles get their new prefix
        ("01689123456", "0389123456"),
        ("0162 912 3456", "0329123456"),
        ("0120 123 4567", "0701234567"),
        ("0121 123 4567", "0791234567"),
        ("0122 123 4567", "0771234567"),
        ("0126 123 4567", "0761234567"),
        ("0128 123 4567", "0781234567"),
        ("0123 123 4567", "0831234567"),
        ("0124 123 4567", "0841234567"),
        ("0125 123 4567", "0851234567"),
        ("0127 123 4567", "0811234567"),
        ("0129 123 4567", "0821234567"),
        ("0186 123 4567", "0561234567"),
        ("0188 123 4567", "0581234567"),
        ("0199 123 4567", "0591234567"),
        ("+84 168 912 3456", "0389123456"),
        (1689123456, "0389123456"),
        ("0296 3 852 123", "02963852123"),  # An Giang landline
        ("0912345678 / 0987654321", "0912345678"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_phone(value, phone):
    assert normalize_phone(value) == phone


@pytest.mark.parametrize("value", ["12345", "0112345678", "01301234567", "không có", "09123456789", "0912-345-67x"])
def test_normalize_phone_refuses_what_is_not_a_phone_number(value):
    with pytest.raises(ValueError, match="Số điện thoại không hợp lệ: ghi 10 chữ số"):
        normalize_phone(value)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("GD4898912345678", "8912345678"),
        ("gd4 89 8912345678", "8912345678"),
        ("DN4-79-7912345678", "7912345678"),
        ("8912345678", "8912345678"),
        ("", ""),
        (None, ""),
    ],
)
def test_insurance_code(value, code):
    assert insurance_code(value) == code


@pytest.mark.parametrize("value", ["GD489891234567", "G14898912345678", "891234567", "GD48989123456789"])
def test_insurance_code_refuses_malformed_numbers(value):
    with pytest.raises(ValueError, match="Số thẻ BHYT không hợp lệ: ghi đủ 15 ký tự"):
        insurance_code(value)


def test_frame_row_derives_the_features():
    row = frame_row(
        {
            "unique_id": 7,
            "full_name": "Chau Sóc Kha",
            "sex": "Nam",
            "birth_year": 1989,
            "birth_month": 12,
            "birth_day": 5,
            "id_number": "089 089 001 234",
            "insurance_number": "GD4898912345678",
            "phone": "01689123456",
            "commune_id": 30,
            "address": "ấp Phước Lợi",
        }
    )
    assert set(row) == set(FRAME_COLUMNS)
    assert row["unique_id"] == 7
    assert (row["particle"], row["family"], row["middle"], row["given"]) == ("chau", "soc", None, "kha")
    assert row["name"] == "soc kha" and row["name_sorted"] == "kha soc"
    assert row["given_accent"] == "kha"
    assert row["sex"] == "nam"
    assert (row["birth_date"], row["birth_ym"]) == ("1989-12-05", "1989-12")
    assert row["birth_swapped"] == "1989-05-12"
    assert row["id_number"] == "089089001234" and row["id_kind"] == "cccd" and not row["id_conflict"]
    assert row["insurance"] == "8912345678"
    assert row["phone"] == "0389123456"
    assert row["commune_id"] == 30


def test_frame_row_dates():
    swapped = frame_row({"unique_id": 1, "birth_year": 1990, "birth_month": 3, "birth_day": 5})
    assert swapped["birth_swapped"] == "1990-05-03"
    assert swapped["birth_lunar"] == "1990-03-31"  # 5/3 âm lịch Canh Ngọ is 31/3/1990
    same = frame_row({"unique_id": 1, "birth_year": 1990, "birth_month": 3, "birth_day": 3})
    assert same["birth_swapped"] is None
    late = frame_row({"unique_id": 1, "birth_year": 1990, "birth_month": 3, "birth_day": 25})
    assert late["birth_swapped"] is None
    year_only = frame_row({"unique_id": 1, "birth_year": 1990, "birth_day": 5})
    assert (year_only["birth_year"], year_only["birth_month"], year_only["birth_day"]) == (1990, None, None)
    assert year_only["birth_date"] is year_only["birth_ym"] is year_only["birth_lunar"] is None
    impossible = frame_row({"unique_id": 1, "birth_year": 1990, "birth_month": 2, "birth_day": 31})
    assert (impossible["birth_month"], impossible["birth_day"], impossible["birth_ym"]) == (2, None, "1990-02")
    nothing = frame_row({"unique_id": 1, "birth_year": 1800})
    assert nothing["birth_year"] is None


def test_frame_row_drops_an_id_that_cannot_be_the_records_own():
    child = frame_row({"unique_id": 1, "sex": "nam", "birth_year": 2015, "id_number": "089080001234"})
    assert child["id_number"] is None and child["id_kind"] == "cccd" and child["id_conflict"]
    # a birth year one off (a lunar year) does not disown it
    own = frame_row({"unique_id": 1, "sex": "nam", "birth_year": 1981, "id_number": "089080001234"})
    assert own["id_number"] == "089080001234" and not own["id_conflict"]
    old = frame_row({"unique_id": 1, "id_number": "352123456"})
    assert (old["id_number"], old["id_kind"]) == ("352123456", "cmnd")


def test_frame_row_turns_unreadable_values_into_empty_ones():
    row = frame_row(
        {"unique_id": "x", "full_name": None, "sex": "?", "phone": "abc", "id_number": "12", "commune_id": ""}
    )
    assert row["unique_id"] == "x"
    for column in FRAME_COLUMNS[1:]:
        if column != "id_conflict":
            assert row[column] is None, column


def test_build_frame_has_the_columns_and_nullable_integers():
    frame = build_frame(
        [
            {"unique_id": 1, "full_name": "Nguyễn Văn An", "birth_year": 1990, "commune_id": 3},
            {"unique_id": 2, "full_name": "Lê Thị Bình"},
        ]
    )
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert str(frame["birth_year"].dtype) == "Int64" and str(frame["commune_id"].dtype) == "Int64"
    assert pd.isna(frame.loc[1, "birth_year"]) and frame.loc[1, "middle_core"] is None
    assert frame.loc[0, "middle"] == "van" and frame.loc[0, "middle_core"] is None
    assert build_frame([]).columns.tolist() == list(FRAME_COLUMNS)

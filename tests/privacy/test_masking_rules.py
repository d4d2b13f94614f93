"""core.privacy.mask_personal_data: which numbers are ID numbers or phones,
how e-mails are masked, what is left alone (amounts, codes, dates)."""

import pytest

from chinhquyenso.core.privacy import mask_personal_data


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # Mobile numbers, every way people write them.
        ("gọi 0912345678", "gọi 09******78"),
        ("gọi 0912 345 678", "gọi 09******78"),
        ("gọi 0912.345.678", "gọi 09******78"),
        ("gọi 091-234-5678", "gọi 09******78"),
        ("gọi +84 912 345 678", "gọi +84*******78"),
        ("gọi +84912345678", "gọi +84*******78"),
        ("gọi 84912345678", "gọi 84*******78"),
        ("gọi (+84) 912 345 678", "gọi (+84*******78"),
        ("số 0387654321.", "số 03******21."),
        # Landlines: 02 + area code + number.
        ("bàn 0296 3852 123", "bàn 02*******23"),
        ("bàn (028) 3822 1234", "bàn (02*******34"),
        ("bàn +84 28 3822 1234", "bàn +84********34"),
        # Citizen ID (CCCD, 12 digits) and the old ID card (CMND, 9 digits).
        ("CCCD 089012345678", "CCCD *********678"),
        ("CCCD 0890 1234 5678", "CCCD *********678"),
        ("CMND 351234567", "CMND ******567"),
        # E-mail addresses.
        ("thư nguyen.van.a@gmail.com", "thư n***@gmail.com"),
        ("thư a_b+c@angiang.gov.vn.", "thư a***@angiang.gov.vn."),
        # Several in one run, and a stray number after a phone.
        ("0912345678 0987654321", "09******78 09******21"),
        ("0912345678 5 người", "09******78 5 người"),
        ("0912 345 678, 0987.654.321", "09******78, 09******21"),
    ],
)
def test_masks(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "giá 150.000.000 đồng",  # amounts the Vietnamese way
        "1,500,000,000 đồng",
        "mã phản ánh PA-2025-000123",
        "hồ sơ 000.00.12.H01-250301-0001",
        "ngày 12/03/1990, năm 2025",
        "số nhà 123, tổ 4, ấp 5",
        "mã xác minh 123456",
        "",
    ],
)
def test_leaves_other_numbers(text):
    assert mask_personal_data(text) == text


def test_masking_twice_changes_nothing():
    once = mask_personal_data("gọi 0912 345 678, CCCD 089012345678, thư a@b.vn")
    assert mask_personal_data(once) == once
    assert mask_personal_data(None) == ""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from chinhquyenso.core.text import fold, format_number, format_ratio, nfc, nfc_lines, unstorable_field


def test_fold_removes_diacritics_and_d_stroke():
    assert fold("Đăng ký khai sinh") == "dang ky khai sinh"
    assert fold("ĐẤT ĐAI") == "dat dai"


def test_fold_ignores_tone_placement_and_normal_form():
    assert fold("hoà") == fold("hòa") == fold(unicodedata.normalize("NFD", "hòa")) == "hoa"


def test_nfc_normalizes_and_collapses_spaces():
    assert nfc(unicodedata.normalize("NFD", "  Nguyễn   Văn  A ")) == "Nguyễn Văn A"
    assert nfc(None) == ""


def test_nfc_drops_characters_a_database_cannot_store():
    assert nfc("Trần\x00 Văn\x07\ud800 An\tB") == "Trần Văn An B"


def test_noncharacters_are_unstorable_too():
    """U+FFFE / U+FFFF made Open311's requests.xml not well-formed for every reader."""
    for ch in ("\ufffe", "\uffff", "\ufdd0", "\U0001fffe", "\U0010ffff"):
        assert nfc(f"Đèn{ch} hỏng") == "Đèn hỏng"
        assert unstorable_field({"description": f"a{ch}"}) == "description"
    assert unstorable_field({"description": "Đèn \U0001f4a1 hỏng, ký tự riêng \ue000"}) is None


def test_unstorable_field_names_the_path():
    assert unstorable_field({"a": [1, "ok", {"b": "x\x00"}]}) == "a.2.b"
    assert unstorable_field({"a\x00": 1}) == "a\x00"
    assert unstorable_field({"a": "Đăng ký\nkhai sinh\t", "n": 5}) is None


def test_vietnamese_number_format():
    assert format_number(513808) == "513.808"
    assert format_number(41.5, 1) == "41,5"
    assert format_ratio(213163, 513808, 1) == "41,5%"
    assert format_ratio(1, 0) == "—"


@given(st.text(alphabet="aăâeêioôơuưyđAĂÂĐáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệóòỏõọốồổỗộớờởỡợíìỉĩịúùủũụứừửữựýỳỷỹỵ ", max_size=40))
def test_fold_is_stable_under_normal_forms(text):
    assert fold(text) == fold(unicodedata.normalize("NFD", text)) == fold(fold(text))
    assert fold(text).isascii()


# The fast nfc()/fold() (bulk imports call them millions of times) against their plain definitions.


def _reference_nfc(value):
    import re

    noncharacters = "\ufdd0-\ufdef" + "".join(chr(p * 0x10000 + n) for p in range(17) for n in (0xFFFE, 0xFFFF))
    cleaned = re.sub(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff{noncharacters}]", "", value)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", cleaned)).strip()


def _reference_fold(value):
    decomposed = unicodedata.normalize("NFD", _reference_nfc(value).lower())
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").replace("đ", "d")


def test_fast_fold_and_nfc_match_their_definitions_on_every_bmp_character():
    for code in range(0x10000):
        ch = chr(code)
        assert nfc(f" a{ch}b ") == _reference_nfc(f" a{ch}b "), hex(code)
        assert fold(ch) == _reference_fold(ch), hex(code)


@given(st.text(max_size=30))
def test_fast_fold_and_nfc_match_their_definitions(text):
    assert nfc(text) == _reference_nfc(text)
    assert fold(text) == _reference_fold(text)


def test_nfc_lines_keeps_line_structure_and_normalizes_within_lines():
    typed = unicodedata.normalize("NFD", "\r\n\n  - Đường\t\tngập  \r\n- Đèn hỏng\x00\rGhi chú\u00a0cuối  \n")
    assert nfc_lines(typed) == "- Đường ngập\n- Đèn hỏng\nGhi chú cuối"


def test_nfc_lines_keeps_at_most_one_blank_line_and_drops_blank_ends():
    assert nfc_lines("\n \t\nĐoạn một.\n\n\n \nĐoạn hai.\n\n") == "Đoạn một.\n\nĐoạn hai."
    assert nfc_lines(" \r\n\t") == nfc_lines(None) == ""
    assert nfc_lines("Dòng một\u2028dòng hai") == "Dòng một\ndòng hai"  # a Unicode line separator is a line end


@given(st.text())
def test_nfc_lines_is_nfc_on_each_line_and_idempotent(text):
    lines = nfc_lines(text)
    assert nfc_lines(lines) == lines
    assert all(line == nfc(line) for line in lines.split("\n"))
    assert nfc(lines) == nfc(text)  # only line breaks differ from nfc()

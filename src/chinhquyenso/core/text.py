"""Vietnamese text: NFC on the way in, diacritic folding for search."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(value: str | None) -> str:
    """Normalize to NFC and collapse runs of whitespace; None becomes ''."""
    if value is None:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(value))).strip()


def fold(value: str | None) -> str:
    """Lower-case, strip every diacritic (đ → d too) and collapse spaces.

    Folding removes tone marks entirely, so old-style ("hoà") and new-style
    ("hòa") tone placement, NFD input and upper case all meet at "hoa".
    """
    decomposed = unicodedata.normalize("NFD", nfc(value).lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.replace("đ", "d")


def format_number(value: int | float, decimals: int = 0) -> str:
    """513808 → '513.808'; 41.5 with decimals=1 → '41,5' (Vietnamese style)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_ratio(numerator: int, denominator: int, decimals: int = 2) -> str:
    """Percentage from stored numerator and denominator: (213163, 513808) → '41,49%'."""
    if not denominator:
        return "—"
    return format_number(100 * numerator / denominator, decimals) + "%"

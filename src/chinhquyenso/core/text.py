"""Vietnamese text: NFC on the way in, diacritic folding for search."""

import re
import unicodedata

# Control characters other than whitespace, lone surrogates and Unicode noncharacters: PostgreSQL
# cannot store them (NUL), they are not text at all (surrogates), or they make an XML answer not
# well-formed for everyone (U+FFFE, U+FFFF in Open311's requests.xml).
NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    chr(plane * 0x10000 + 0xFFFE) + chr(plane * 0x10000 + 0xFFFF) for plane in range(17)
)
_UNSTORABLE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff{NONCHARACTERS}]")
UNSTORABLE_MESSAGE = "Dữ liệu chứa ký tự điều khiển hoặc ký tự không hợp lệ."


def nfc(value: str | None) -> str:
    """Normalize to NFC, drop unstorable characters and collapse runs of
    whitespace; None becomes ''."""
    if value is None:
        return ""
    value = drop_unstorable(str(value))
    # str.split() splits on exactly the characters \s matches (str.isspace).
    return " ".join(unicodedata.normalize("NFC", value).split())


def nfc_lines(value: str | None) -> str:
    """nfc() for multi-line text (a narrative, a description, a reply): the
    same normalization within each line, but the line breaks an officer or a
    citizen typed are kept, since lists and paragraphs are built from them.

    \r\n and \r become \n; at most one blank line in a row is kept (a
    paragraph break); blank lines at the start and the end are dropped.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", drop_unstorable(str(value)))
    # splitlines() also breaks on \x85, U+2028 and U+2029 (line ends to a reader; \v and \f are
    # unstorable and already gone). Within a line, spaces and tabs collapse as in nfc().
    lines = [" ".join(line.split()) for line in text.splitlines()]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept)


def drop_unstorable(text: str) -> str:
    return _UNSTORABLE.sub("", text) if _UNSTORABLE.search(text) else text


def unstorable_field(value, path: str = "") -> str | None:
    """The path ("a.b.0") of the first string in a JSON-like value that holds
    an unstorable character, or None. Keys are checked too."""
    if isinstance(value, str):
        return (path or "body") if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        child = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and _UNSTORABLE.search(key):
            return child
        found = unstorable_field(item, child)
        if found:
            return found
    return None


class _FoldTable(dict):
    """str.translate table: a character → the same without diacritics (its
    NFD form less the combining marks), computed the first time it is met."""

    def __missing__(self, code: int) -> str:
        bare = "".join(ch for ch in unicodedata.normalize("NFD", chr(code)) if unicodedata.category(ch) != "Mn")
        self[code] = bare
        return bare


_FOLD = _FoldTable({ord("đ"): "d"})


def fold(value: str | None) -> str:
    """Lower-case, strip every diacritic (đ → d too) and collapse spaces.

    Folding removes tone marks entirely, so old-style ("hoà") and new-style
    ("hòa") tone placement, NFD input and upper case all meet at "hoa".
    """
    return fold_normalized(nfc(value))


def fold_normalized(text: str) -> str:
    """fold() of text that has already been through nfc() (bulk imports fold millions of values)."""
    text = text.lower()
    return text if text.isascii() else text.translate(_FOLD)


def format_number(value: int | float, decimals: int = 0) -> str:
    """513808 → '513.808'; 41.5 with decimals=1 → '41,5' (Vietnamese style)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_ratio(numerator: int, denominator: int, decimals: int = 2) -> str:
    """Percentage from stored numerator and denominator: (213163, 513808) → '41,49%'."""
    if not denominator:
        return "—"
    return format_number(100 * numerator / denominator, decimals) + "%"

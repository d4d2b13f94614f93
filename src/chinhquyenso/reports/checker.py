"""`cqs report check`: verify the ratios and totals printed in a report.

A report is read as lines (TXT, DOCX paragraphs and table cells in order, or
PDF text), the lines of one paragraph are joined again (PDF extraction breaks
them mid-sentence and leaves footnote numbers on lines of their own), and four
kinds of figures are checked in the joined text:

- a percentage printed after its fraction, "11/14 cơ quan, tỷ lệ 85,7%";
- a percentage printed after its part when the whole was stated just before
  with the same unit: "tiếp nhận 399 phản ánh … Đã giải quyết: 383 phản ánh
  (đạt 95,98%)";
- a total followed by its parts: "1916 dịch vụ. Trong đó: … 319 DVC; … 697 DVC;
  … 900 DVC", "188 cơ quan gồm: 21 …; 11 …; 156 …", "262 tài liệu (210 …; 52 …)";
- a total after its parts: "215 hồ sơ, 48 hồ sơ và 37 hồ sơ, tổng cộng 310 hồ sơ",
  or after a list of bullets ("Tổng cộng: 310 hồ sơ.").

Tables (DOCX tables, TXT tables written with '|') are also read by rows and columns:
a "Tổng cộng" row against the rows above or below it, a "Tổng cộng" column against
the columns left or right of it.

A percentage is right when it equals the exact ratio rounded half up to the
printed number of decimals. False alarms cost more than misses, so the checker
is conservative (docs/reports.md lists each rule and what it finds in the seeds):
a whole found only by its unit is trusted for rounding slips, never for larger
differences; parts after "trong đó" (of which) may leave some of the total out,
so only parts adding up to more than the total are reported; only "gồm" (made up
of) must add up exactly.

Every position in the joined text maps back to its line in the extracted text,
and findings carry that line number.
"""

from __future__ import annotations

import bisect
import io
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from chinhquyenso.core.errors import DomainError, os_reason
from chinhquyenso.core.text import fold, format_number

KIND_LABELS = {"ratio": "sai tỷ lệ", "rounding": "sai làm tròn", "total": "sai tổng"}
CHECK_LABELS = {"ratio": "tỷ lệ", "total": "tổng"}

# ---------------------------------------------------------------- numbers

# Vietnamese first (1.697.083; 59.721,6; 85,7), English where unambiguous
# (1,483,017; 85.7). A single comma is a decimal comma: the text is Vietnamese.
_NUMBER = (
    r"(?<![\w])(?<!\d[.,])"
    r"(?:\d{1,3}(?:\.\d{3})+(?:,\d+)?"  # 1.697.083  59.721,6
    r"|\d{1,3}(?:,\d{3}){2,}(?:\.\d+)?"  # 1,483,017
    r"|\d{1,3}(?:,\d{3})+\.\d+"  # 1,234.5
    r"|\d+,\d+"  # 85,7
    r"|\d+\.\d+"  # 85.7 (not 3 digits after the dot: matched above)
    r"|\d+)"
    r"(?![\w])(?![.,]\d)"
)
NUMBER_RE = re.compile(_NUMBER)

# Words before a number that make it a name, a date or a rank, not a count.
_IDENTIFIER_WORDS = {
    "số",
    "năm",
    "tháng",
    "ngày",
    "quý",
    "đoạn",
    "thứ",
    "khóa",
    "khoá",
    "lần",
    "phiên",
    "điều",
    "khoản",
    "điểm",
    "mục",
    "độ",
    "bản",
    "hạng",
    "lục",
    "kỳ",
    "giờ",
    "phút",
    "tuổi",
    "lớp",
}
# Words before a number that make it approximate.
_APPROXIMATE_WORDS = {"hơn", "trên", "gần", "khoảng", "ước", "xấp", "chừng", "tới", "dưới"}


def parse_number(raw: str) -> tuple[Decimal, int]:
    """'1.697.083' → (1697083, 0); '85,7' → (85.7, 1); '1,483,017' → (1483017, 0); '85.7' → (85.7, 1)."""
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", raw):
        whole, _, decimals = raw.partition(",")
        return Decimal(whole.replace(".", "") + ("." + decimals if decimals else "")), len(decimals)
    if re.fullmatch(r"\d{1,3}(?:,\d{3}){2,}(?:\.\d+)?|\d{1,3}(?:,\d{3})+\.\d+", raw):
        whole, _, decimals = raw.partition(".")
        return Decimal(whole.replace(",", "") + ("." + decimals if decimals else "")), len(decimals)
    if "," in raw:
        whole, _, decimals = raw.partition(",")
        return Decimal(f"{whole}.{decimals}"), len(decimals)
    if "." in raw:
        return Decimal(raw), len(raw.partition(".")[2])
    return Decimal(raw), 0


def vn(value, decimals: int = 0) -> str:
    return format_number(float(value), decimals) if decimals else format_number(int(value))


@dataclass
class Number:
    start: int
    end: int
    raw: str
    value: Decimal
    decimals: int
    percent: bool = False
    fraction: str = ""  # "numerator" / "denominator" of a/b; "date" or "code" when a/b is not a ratio
    identifier: bool = False  # "số 238", "năm 2024", "mức độ 3": not a count
    approximate: bool = False
    glued: bool = False  # "2019-2020", "06/CP": part of a range or a code
    unit: str = ""  # folded first word after the number ("phan", "ho", "dvc"), '' when none

    @property
    def countable(self) -> bool:
        return not (self.percent or self.fraction or self.identifier or self.approximate or self.glued)


# ---------------------------------------------------------------- extraction


@dataclass
class SourceLine:
    number: int
    text: str
    own_block: bool = False  # a DOCX paragraph or table cell: never joined with its neighbours
    cell: tuple[int, int, int] | None = None  # (table, row, column) of a DOCX table cell


def extract_lines(path: str | Path) -> list[SourceLine]:
    """The report's text, line by line, numbered from 1 (TXT, DOCX or PDF, told apart by content)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DomainError(f"Không đọc được tệp {path}: {os_reason(error)}.", field="file") from error
    return extract_bytes(data, path.name)


def extract_bytes(data: bytes, name: str = "") -> list[SourceLine]:
    if data.startswith(b"%PDF-"):
        return _pdf_lines(data)
    if data.startswith(b"PK\x03\x04"):
        return _docx_lines(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DomainError(
            f"Tệp {name or ''} không phải PDF, DOCX hay văn bản UTF-8.".replace("  ", " "), field="file"
        ) from error
    return [SourceLine(number, line) for number, line in enumerate(text.splitlines(), start=1)]


def _pdf_lines(data: bytes) -> list[SourceLine]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DomainError("Tệp PDF được mã hóa; hãy gửi bản không đặt mật khẩu.", field="file")
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except PdfReadError as error:
        raise DomainError("Không đọc được tệp PDF (tệp hỏng hoặc không đúng định dạng).", field="file") from error
    return [SourceLine(number, line) for number, line in enumerate(text.splitlines(), start=1)]


def _docx_lines(data: bytes) -> list[SourceLine]:
    from docx import Document
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph as DocxParagraph

    try:
        document = Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises several kinds for a bad package
        raise DomainError("Không đọc được tệp DOCX (tệp hỏng hoặc không đúng định dạng).", field="file") from error
    texts: list[tuple[str, tuple[int, int, int] | None]] = []
    tables = 0

    def walk(container, cell_at=None):
        nonlocal tables
        for item in container.iter_inner_content():
            if isinstance(item, DocxParagraph):
                texts.append((item.text, cell_at))
            elif isinstance(item, DocxTable):
                table, tables = tables, tables + 1
                for row_index, row in enumerate(item.rows):
                    seen = set()
                    for column, cell in enumerate(row.cells):
                        if id(cell._tc) in seen:  # a merged cell is returned once per grid column
                            continue
                        seen.add(id(cell._tc))
                        walk(cell, (table, row_index, column))

    walk(document)
    lines = []
    for text, cell_at in texts:
        text = re.sub(r"\s+", " ", text).strip()
        lines.append(SourceLine(len(lines) + 1, text, own_block=True, cell=cell_at))
    return lines


# ---------------------------------------------------------------- joining lines into blocks

_BULLET = re.compile(r"^(?:[-+•*]\s*)+(?=\S)")
_HEADING = re.compile(r"^(?:#+\s|[IVXLC]+\.\s|\d+(?:\.\d+)*\.\s|[a-zđ]\)\s)")
_FOOTNOTE = re.compile(r"^([1-9]\d?)\s+(?=[A-ZĐÀ-Ỹ0-9])")
_MARKUP = [
    (re.compile(r"<sup>\s*\d+\s*</sup>"), ""),
    (re.compile(r"</?[a-z][^<>]*>"), ""),
    (re.compile(r"\*\*+|__"), ""),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
]


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\t", " ")
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    return text.rstrip()


def _footnote_numbers(lines: list[str]) -> set[str]:
    """Footnote numbers, found as lines starting 1 …, 2 …, 3 … in increasing order (gaps of up to 2)."""
    found, last = set(), 0
    for text in lines:
        match = _FOOTNOTE.match(text.strip())
        if match and last < int(match.group(1)) <= last + 3:
            last = int(match.group(1))
            found.add(match.group(1))
    return found


def _ends_sentence(text: str) -> bool:
    # Not ';': PDF lines often end on the ';' between two items of one sentence.
    return bool(re.search(r"[.:!?…][”\"')\]]*$", text))


def _starts_paragraph(previous: str | None, text: str) -> bool:
    if previous is None or text.startswith("#") or _BULLET.match(text):
        return True
    if not _ends_sentence(previous):
        return False
    first = text[:1]
    return first.isupper() or first.isdigit() or first in '(“"' or bool(_HEADING.match(text))


@dataclass
class Joined:
    """The report as one string: blocks separated by '\\n', with a map back to line numbers."""

    text: str
    starts: list[int]  # offset where each piece of a line begins
    numbers: list[int]  # …and that line's number
    footnotes: set[str] = field(default_factory=set)

    def line_at(self, offset: int) -> int:
        return self.numbers[max(0, bisect.bisect_right(self.starts, offset) - 1)] if self.numbers else 0


def join_lines(lines: list[SourceLine]) -> Joined:
    cleaned = [(line, _clean(line.text)) for line in lines]
    footnotes = _footnote_numbers([text for _, text in cleaned])
    parts: list[str] = []
    starts: list[int] = []
    numbers: list[int] = []
    length = 0
    previous: str | None = None
    for line, text in cleaned:
        text = text.strip()
        if not text or re.fullmatch(r"\d{1,3}", text):
            continue  # blank lines mean nothing in PDF text; a lone small number is a page or footnote mark
        if re.fullmatch(r"[-_=.·…\s]{3,}", text):
            continue  # a rule line
        if line.own_block or _starts_paragraph(previous, text):
            separator = "\n" if parts else ""
        else:
            separator = " "
        parts.append(separator)
        length += len(separator)
        starts.append(length)
        numbers.append(line.number)
        parts.append(text)
        length += len(text)
        previous = None if line.own_block else text
    return Joined("".join(parts), starts, numbers, footnotes)


# ---------------------------------------------------------------- findings


@dataclass
class Check:
    line: int
    kind: str  # ratio / rounding / total
    ok: bool
    excerpt: str
    printed: str
    expected: str
    note: str = ""

    @property
    def label(self) -> str:
        return CHECK_LABELS.get(self.kind, "tỷ lệ") if self.ok else KIND_LABELS[self.kind]

    def as_dict(self) -> dict:
        return {**asdict(self), "label": self.label}


@dataclass
class CheckReport:
    source: str
    errors: list[Check]
    verified: list[Check]

    def as_dict(self) -> dict:
        return {
            "file": self.source,
            "error_count": len(self.errors),
            "verified_count": len(self.verified),
            "errors": [item.as_dict() for item in self.errors],
            "verified": [item.as_dict() for item in self.verified],
        }


def check_file(path: str | Path) -> CheckReport:
    return check_lines(extract_lines(path), source=str(path))


def check_text(text: str, source: str = "") -> CheckReport:
    return check_lines(
        [SourceLine(number, line) for number, line in enumerate(text.splitlines(), start=1)], source=source
    )


def check_lines(lines: list[SourceLine], source: str = "") -> CheckReport:
    joined = join_lines(lines)
    checker = _Checker(joined)
    checks = checker.run() + [check for table in _tables(lines) for check in _table_totals(table)]
    checks.sort(key=lambda item: (item.line, getattr(item, "position", 0)))
    return CheckReport(source, [item for item in checks if not item.ok], [item for item in checks if item.ok])


# ---------------------------------------------------------------- rounding


def _round(value: Fraction, decimals: int, mode) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=mode)


def judge_percentage(numerator: Decimal, denominator: Decimal, printed: Decimal, decimals: int) -> str | None:
    """None when `printed` is numerator/denominator in percent rounded to `decimals`;
    'rounding' when it is the truncated value or one unit off in the last place; 'ratio' otherwise."""
    exact = Fraction(numerator) * 100 / Fraction(denominator)
    right = {_round(exact, decimals, ROUND_HALF_UP), _round(exact, decimals, ROUND_HALF_EVEN)}  # ties either way
    if printed in right:
        return None
    unit = Decimal(1).scaleb(-decimals)
    if printed == _round(exact, decimals, ROUND_DOWN) or any(abs(printed - value) == unit for value in right):
        return "rounding"
    return "ratio"


def percentage_text(numerator: Decimal, denominator: Decimal, decimals: int) -> str:
    exact = Fraction(numerator) * 100 / Fraction(denominator)
    return vn(_round(exact, decimals, ROUND_HALF_UP), decimals) + "%"


def _exact_text(numerator: Decimal, denominator: Decimal) -> str:
    exact = Fraction(numerator) * 100 / Fraction(denominator)
    shown = _round(exact, 4, ROUND_DOWN)
    text = vn(shown, 4).rstrip("0").rstrip(",")
    return text + ("…" if Decimal(exact.numerator) / Decimal(exact.denominator) != shown else "") + "%"


# ---------------------------------------------------------------- the checks

_CUE_WORDS = r"(?:(?:đạt|chiếm)\s+)?(?:(?:tỷ|tỉ)\s+lệ|đạt|chiếm|bằng)"
_CUE = re.compile(rf"(?:^|(?<=[\s,(])){_CUE_WORDS}(?!\w)", re.IGNORECASE)
_CUE_AT_END = re.compile(rf"(?:^|(?<=[\s,(])){_CUE_WORDS}\s*:?\s*$", re.IGNORECASE)
_COMPARISON = re.compile(r"(?<!\w)(?:tăng|giảm|vượt|so với|cao hơn|thấp hơn|chênh)(?!\w)", re.IGNORECASE)
_KEYWORD = re.compile(r"(?<!\w)(trong đó|bao gồm|gồm|cụ thể)(?!\w)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"\.(?=\s+[A-ZĐÀ-Ỹ\-+]|\s*$)|\n")
_LABEL_NUMBER = re.compile(rf"^[^\d:;]{{2,90}}?(?::|\slà)\s*:?\s*({_NUMBER})(?!\s?%)")
# A total after its parts: "…, tổng cộng 310 hồ sơ", "; tổng số: 310", "(tổng cộng là 310 …)".
_TOTAL_AFTER = re.compile(
    rf"(?<!\w)(?:tổng\s+cộng|tổng\s+số|tổng|cộng\s+lại|tất\s+cả)(?:[ \t]+(?:là|có|được|đạt))?[ \t]*:?[ \t]*(?={_NUMBER})",
    re.IGNORECASE,
)
WHOLE_WINDOW = 400  # how far back a whole stated "nearby" may be, in characters
TOTAL_GAP = 45  # at most this much text (unit words) between a total and "trong đó"/"gồm"/"("


def _strip_groups(text: str) -> str | None:
    """`text` without its closed (…) groups, an unclosed '(' read as a space ("383 phản ánh (đạt 95,98%");
    None when a ')' closes a group opened before `text`."""
    while True:
        shorter = re.sub(r"\([^()]*\)", " ", text)
        if shorter == text:
            break
        text = shorter
    return None if ")" in text else text.replace("(", " ")


def _top_level(text: str) -> list[tuple[int, int]]:
    """Spans of `text` outside any parentheses."""
    spans, depth, begin = [], 0, 0
    for position, char in enumerate(text):
        if char == "(":
            if depth == 0 and position > begin:
                spans.append((begin, position))
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
            if depth == 0:
                begin = position + 1
    if depth == 0 and begin < len(text):
        spans.append((begin, len(text)))
    return spans


def _after_open_parenthesis(text: str, begin: int, end: int) -> int:
    """Just after the last '(' in text[begin:end] left open ("ba xã (215 hồ sơ, 48 hồ sơ, tổng cộng …"), else `begin`."""
    opened: list[int] = []
    for position in range(begin, end):
        if text[position] == "(":
            opened.append(position)
        elif text[position] == ")" and opened:
            opened.pop()
    return opened[-1] + 1 if opened else begin


def _split_list(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Top-level pieces of text[start:end] separated by ';', ',' (not a decimal comma) or 'và'."""
    piece = text[start:end]
    cuts = [0]
    for span_start, span_end in _top_level(piece):
        for separator in re.finditer(r";|,(?!\d)|\s+và\s+", piece[span_start:span_end]):
            cuts += [span_start + separator.start(), span_start + separator.end()]
    cuts.append(len(piece))
    return [
        (start + cuts[index], start + cuts[index + 1])
        for index in range(0, len(cuts), 2)
        if piece[cuts[index] : cuts[index + 1]].strip()
    ]


def _sum_of(parts: list[Number] | list[tuple[Decimal, int, str]]) -> dict:
    """'expected' and 'note' of a total: the correct sum, and the parts added up ("215 + 48 + 37 = 300")."""
    items = [(part.value, part.decimals, part.raw) if isinstance(part, Number) else part for part in parts]
    decimals = max(item[1] for item in items)
    value = sum(item[0] for item in items)
    return {
        "expected": vn(value, decimals),
        "note": " + ".join(item[2] for item in items) + f" = {vn(value, decimals)}",
    }


def _excerpt(text: str, limit: int = 160) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _Checker:
    def __init__(self, joined: Joined):
        self.joined = joined
        self.text = joined.text
        self.numbers = self._numbers()
        self.starts = [number.start for number in self.numbers]
        self.checks: list[Check] = []
        self.used_percents: set[int] = set()

    # ---- tokens

    def _numbers(self) -> list[Number]:
        text = self.text
        found = []
        for match in NUMBER_RE.finditer(text):
            value, decimals = parse_number(match.group())
            number = Number(match.start(), match.end(), match.group(), value, decimals)
            after = text[match.end() : match.end() + 2]
            number.percent = bool(re.match(r"\s?%", after))
            before_char = text[match.start() - 1 : match.start()]
            after_char = text[match.end() : match.end() + 1]
            number.glued = bool(before_char and before_char in "-–" or after_char and after_char in "-–")
            words = re.search(
                r"(?:([^\W\d_]+)\s+)?([^\W\d_]+)\s*:?\s*$", text[max(0, match.start() - 30) : match.start()]
            )
            previous_word = words.group(2).lower() if words else ""
            # "tổng số 733 học viên" counts; "Quyết định số 1407" names.
            counted = previous_word == "số" and (words.group(1) or "").lower() == "tổng"
            number.identifier = previous_word in _IDENTIFIER_WORDS and not counted
            number.approximate = previous_word in _APPROXIMATE_WORDS
            unit = re.match(r"\s+([^\W\d_]+)", text[match.end() : match.end() + 40])
            number.unit = fold(unit.group(1)) if unit and not number.percent else ""
            found.append(number)
        # a/b: a ratio, or a date (15/10/2024, 03/2025) or a code (214/KH-UBND, 06/CP).
        for index, number in enumerate(found):
            if text[number.end : number.end + 1] != "/":
                continue
            following = found[index + 1] if index + 1 < len(found) else None
            if following is None or following.start != number.end + 1:
                number.fraction = "code"
                continue
            chained = text[following.end : following.end + 1] == "/" or text[number.start - 1 : number.start] == "/"
            year_like = following.decimals == 0 and 1900 <= following.value <= 2100 and number.value <= 12
            words = re.findall(r"[^\W\d_]+", text[max(0, number.start - 12) : number.start].lower())
            dated = bool(words) and words[-1] in ("ngày", "tháng", "quý", "từ", "đến")
            if chained or year_like or dated:
                number.fraction = following.fraction = "date"
                if chained and index + 2 < len(found) and found[index + 2].start == following.end + 1:
                    found[index + 2].fraction = "date"
            else:
                number.fraction, following.fraction = "numerator", "denominator"
        for number in found:
            if text[number.start - 1 : number.start] == "/" and not number.fraction:
                number.fraction = "code"
        return found

    def _numbers_between(self, start: int, end: int) -> list[Number]:
        low = bisect.bisect_left(self.starts, start)
        high = bisect.bisect_left(self.starts, end)
        return [number for number in self.numbers[low:high] if number.end <= end]

    def _top_level_numbers(self, begin: int, end: int) -> list[Number]:
        """The numbers in text[begin:end] outside parentheses."""
        spans = _top_level(self.text[begin:end])
        return [
            number
            for number in self._numbers_between(begin, end)
            if any(begin + a <= number.start < begin + b for a, b in spans)
        ]

    def _number_at(self, start: int) -> Number | None:
        index = bisect.bisect_left(self.starts, start)
        if index < len(self.numbers) and self.numbers[index].start == start:
            return self.numbers[index]
        return None

    def percent_end(self, percent: Number) -> int:
        """Just after the '%' of a percentage ("85,7%", "80 %")."""
        return percent.end + len(re.match(r"\s?%", self.text[percent.end :]).group())

    def add(self, start: int, end: int, *, anchor: int | None = None, **values) -> None:
        """A finding on text[start:end], on the line of `anchor` (default `start`): a total after its parts is
        reported on the total's line."""
        if self.text.count("(", start, end) > self.text.count(")", start, end) and self.text[end : end + 1] == ")":
            end += 1  # "383 phản ánh (đạt 95,98%)"
        anchor = start if anchor is None else anchor
        check = Check(line=self.joined.line_at(anchor), excerpt=_excerpt(self.text[start:end]), **values)
        check.position = anchor  # reading order among findings on one line (not part of the output)
        self.checks.append(check)

    def run(self) -> list[Check]:
        self.explicit_ratios()
        self.implicit_ratios()
        self.totals()
        self.totals_after()
        return self.checks

    # ---- a/b … P%

    def _denominator_readings(self, denominator: Number) -> list[tuple[Decimal, str]]:
        """The denominator as printed, and without a footnote number stuck to it (PDF text: '179/18810')."""
        readings = [(denominator.value, "")]
        raw = denominator.raw
        if raw.isdigit():
            for footnote in sorted(self.joined.footnotes, key=len, reverse=True):
                if raw.endswith(footnote) and len(raw) > len(footnote) and int(raw[: -len(footnote)]):
                    readings.append(
                        (Decimal(raw[: -len(footnote)]), f"bỏ số chú thích {footnote} dính vào mẫu số {raw}")
                    )
        return readings

    def _ratio(
        self,
        start: int,
        end: int,
        numerator: Number,
        denominator: Number,
        percent: Number,
        *,
        whole_note: str = "",
        rounding_only: bool = False,
    ) -> None:
        if denominator.value == 0:
            return
        readings = (
            self._denominator_readings(denominator)
            if denominator.fraction == "denominator"
            else [(denominator.value, "")]
        )
        judged = [
            (judge_percentage(numerator.value, value, percent.value, percent.decimals), value, note)
            for value, note in readings
        ]
        right = [item for item in judged if item[0] is None]
        if right:
            verdict, value, note = right[0]
        else:
            # Neither reading is right: keep the one closest to what is printed.
            def distance(item):
                return abs(Fraction(numerator.value) * 100 / Fraction(item[1]) - Fraction(percent.value))

            verdict, value, note = min(judged, key=distance)
        # Five digits or more without a thousands dot are rare in Vietnamese text: more likely a
        # footnote number stuck to the figure than a figure, so then too only a slip is reported.
        suspect = any(re.fullmatch(r"\d{5,}", number.raw) for number in (numerator, denominator)) and not note
        if verdict is not None and (rounding_only or suspect) and verdict != "rounding":
            return  # the whole was inferred from its unit: trusted only for a slip in the last digit
        self.used_percents.add(percent.start)
        notes = [f"{vn(numerator.value, numerator.decimals)}/{vn(value)} = {_exact_text(numerator.value, value)}"]
        if whole_note:
            notes.append(whole_note)
        if note:
            notes.append(note)
        if verdict == "rounding":
            notes.append(
                f"làm tròn đến {percent.decimals} chữ số thập phân" if percent.decimals else "làm tròn đến hàng đơn vị"
            )
        self.add(
            start,
            end,
            kind=verdict or "ratio",
            ok=verdict is None,
            printed=percent.raw + "%",
            expected=percentage_text(numerator.value, value, percent.decimals),
            note="; ".join(notes),
        )

    def explicit_ratios(self) -> None:
        text = self.text
        for index, numerator in enumerate(self.numbers):
            if numerator.fraction != "numerator" or numerator.approximate:
                continue
            denominator = self.numbers[index + 1]
            # "11/14 cơ quan, tỷ lệ 85,7%": the next number is the percentage, after a cue word.
            following = self.numbers[index + 2] if index + 2 < len(self.numbers) else None
            if following is not None and following.percent:
                between = text[denominator.end : following.start]
                if len(between) <= 100 and not re.search(r"[;.!?\n%]", between) and not _COMPARISON.search(between):
                    cue = _CUE_AT_END.search(between)
                    # "11/14 cơ quan (78,6%)"; "11/14 78,6%" (a table row in PDF text)
                    if cue or re.fullmatch(r"[^\d()]{0,60}\(\s*|\s+", between):
                        # "11/14 tiêu chí, tỷ lệ hồ sơ trực tuyến đạt 45%": the share may be of something
                        # else; such a loose link is trusted only for a slip in the last digit.
                        first = _CUE.search(between)
                        loose = bool(cue and first and first.start() < cue.start() - 1)
                        self._ratio(
                            numerator.start,
                            self.percent_end(following),
                            numerator,
                            denominator,
                            following,
                            rounding_only=loose,
                        )
                        continue
            # "78,6% (11/14)": the percentage just before, the fraction in parentheses.
            previous = self.numbers[index - 1] if index else None
            if (
                previous is not None
                and previous.percent
                and previous.start not in self.used_percents
                and re.fullmatch(r"\s?%\s*\(\s*", text[previous.end : numerator.start])
                and re.match(r"[^\d()\n]{0,40}\)", text[denominator.end :])
            ):
                closing = text.index(")", denominator.end) + 1
                self._ratio(previous.start, closing, numerator, denominator, previous)

    # ---- part … P% with the whole stated before

    def implicit_ratios(self) -> None:
        text = self.text
        for index, percent in enumerate(self.numbers):
            if not percent.percent or percent.start in self.used_percents or percent.approximate:
                continue
            if re.match(r"\s?%\s*(?:so với|so voi)", text[percent.end : percent.end + 12], re.IGNORECASE):
                continue  # a comparison with a target or a past period, not a share
            part = None
            for candidate in reversed(self.numbers[max(0, index - 40) : index]):
                between = text[candidate.end : percent.start]
                if len(between) > 160 or "\n" in between:
                    break
                outside = _strip_groups(between)
                if outside is None:
                    continue  # the candidate sits inside a (…) group: look further back
                if re.search(r"[;!?%\d]|\.(?!\d)", outside):
                    break
                if candidate.countable and _CUE_AT_END.search(outside) and not _COMPARISON.search(outside):
                    part = candidate
                break
            if part is None or part.decimals:
                continue
            whole = self._whole_before(part)
            if whole is None:
                continue
            note = f"tổng {whole.raw} ở dòng {self.joined.line_at(whole.start)}"
            self._ratio(
                part.start, self.percent_end(percent), part, whole, percent, whole_note=note, rounding_only=True
            )

    def _whole_before(self, part: Number) -> Number | None:
        low = bisect.bisect_left(self.starts, part.start - WHOLE_WINDOW)
        high = bisect.bisect_left(self.starts, part.start)
        for candidate in reversed(self.numbers[low:high]):
            if (
                candidate.countable
                and not candidate.decimals
                and candidate.unit == part.unit
                and candidate.value >= part.value
                and candidate.value > 0
            ):
                return candidate
        return None

    # ---- totals and their parts

    def totals(self) -> None:
        text = self.text
        for match in _KEYWORD.finditer(text):
            keyword = match.group(1).lower()
            if re.match(r"\s+(?:cả|như)(?!\w)", text[match.end() :]):
                continue  # "gồm cả …", "cụ thể như …": no breakdown follows
            if re.search(r"\(\s*$", text[max(0, match.start() - 3) : match.start()]):
                continue  # "(trong đó …)": read with the parentheses below
            total = self._total_before(match.start())
            if total is None:
                continue
            segments = self._segments_after(match.end())
            self._compare(total, segments, exhaustive=keyword == "gồm")
        for match in re.finditer(r"\(", text):
            total = self._total_before(match.start(), allow_punctuation=False)
            if total is None:
                continue
            closing = self._closing(match.start())
            if closing is None:
                continue
            inner_start = match.start() + 1
            content = text[inner_start:closing]
            lead = re.match(r"\s*(trong đó|bao gồm|gồm)?\s*(?:có\s+)?:?\s*", content, re.IGNORECASE)
            exhaustive = bool(lead.group(1)) and lead.group(1).lower() == "gồm"
            segments = self._split(inner_start + lead.end(), closing)
            self._compare(total, segments, exhaustive=exhaustive)

    def _closing(self, opening: int) -> int | None:
        depth = 0
        for position in range(opening, min(len(self.text), opening + 600)):
            char = self.text[position]
            if char == "\n":
                return None
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    return position
        return None

    def _total_before(self, position: int, *, allow_punctuation: bool = True) -> Number | None:
        """The total printed just before a keyword or a '(': '1916 dịch vụ. Trong đó', '180 cơ quan gồm'."""
        candidates = self._numbers_between(max(0, position - 120), position)
        if not candidates:
            return None
        total = candidates[-1]
        between = self.text[total.end : position]
        if len(between) > TOTAL_GAP or re.search(r"\d|[()%]", between) or between.count("\n") > 1:
            return None
        if allow_punctuation:
            inner = re.sub(r"[\s.,:;]*$", "", between)
            if re.search(r";|\.(?=\s)|\n", inner):
                return None
        elif not re.fullmatch(r"(?:\s+[^\W\d_][\w&.\-]*)*\s*", between):
            return None
        if not total.countable or total.value < 2:
            return None
        return total

    def _segments_after(self, position: int) -> list[tuple[int, int]]:
        """The parts that follow a keyword: to the end of the sentence, or the bullet list below it."""
        text = self.text
        lead = re.match(r"[ ,:]*(?:có\s+)?", text[position:])
        start = position + lead.end()
        line_end = text.find("\n", start)
        line_end = len(text) if line_end == -1 else line_end
        if not text[start:line_end].strip(" :"):
            # "Trong đó:" closes its line: the parts are the bullets below, with the same marker.
            segments, cursor, marker = [], line_end + 1, None
            while cursor < len(text):
                end = text.find("\n", cursor)
                end = len(text) if end == -1 else end
                bullet = _BULLET.match(text[cursor:end])
                if not bullet or (marker is not None and bullet.group().replace(" ", "") != marker):
                    break
                marker = bullet.group().replace(" ", "")
                segments.append((cursor + bullet.end(), end))
                cursor = end + 1
            return segments
        sentence = _SENTENCE_END.search(text, start)
        end = sentence.start() if sentence else len(text)
        return self._split(start, end)

    def _split(self, start: int, end: int) -> list[tuple[int, int]]:
        """Top-level pieces separated by ';', or by ',' / 'và' when a number follows."""
        text = self.text[start:end]
        cuts = [0]
        for span_start, span_end in _top_level(text):
            piece = text[span_start:span_end]
            for separator in re.finditer(rf";|,(?=\s*{_NUMBER})|\s+và\s+(?={_NUMBER})", piece):
                cuts.append(span_start + separator.start())
                cuts.append(span_start + separator.end())
        cuts.append(len(text))
        segments = []
        for position in range(0, len(cuts), 2):
            segment_start, segment_end = cuts[position], cuts[position + 1]
            if text[segment_start:segment_end].strip():
                segments.append((start + segment_start, start + segment_end))
        return segments

    def _parts(self, total: Number, segments: list[tuple[int, int]]) -> list[Number]:
        """The parts, read the first way that fits the first two segments or more:
        a number with the total's unit; a number opening the segment; 'label: number'."""

        def collect(pick) -> list[Number]:
            parts = []
            for segment in segments:
                number = pick(segment, self._top_level_numbers(*segment))
                if number is None or not number.countable:
                    break
                parts.append(number)
            return parts

        def same_unit(segment, numbers):
            return next((number for number in numbers if total.unit and number.unit == total.unit), None)

        def leading(segment, numbers):
            begin, end = segment
            stripped = len(self.text[begin:end]) - len(self.text[begin:end].lstrip(" -+•*"))
            return numbers[0] if numbers and numbers[0].start == begin + stripped else None

        def labelled(segment, numbers):
            begin, end = segment
            match = _LABEL_NUMBER.match(self.text[begin:end].lstrip(" -+•*"))
            if not match:
                return None
            offset = begin + len(self.text[begin:end]) - len(self.text[begin:end].lstrip(" -+•*"))
            return self._number_at(offset + match.start(1))

        for pick in (same_unit, leading, labelled):
            parts = collect(pick)
            if len(parts) >= 2:
                return parts
        return []

    def _compare(self, total: Number, segments: list[tuple[int, int]], *, exhaustive: bool) -> None:
        parts = self._parts(total, segments)
        if len(parts) < 2:
            return
        ends = [next(end for begin, end in segments if begin <= part.start < end) for part in parts]
        running = Decimal(0)
        for count, part in enumerate(parts, start=1):
            running += part.value
            if count >= 2 and running == total.value:  # the first parts make the total; the rest say more
                self._total(total, parts[:count], ok=True, end=ends[count - 1])
                return
        # Only "gồm" with a number in every piece must add up exactly; "trong đó", "cụ thể", a list
        # in parentheses may leave parts out, so there only parts adding up to more than the total
        # (each no larger than it) are an error.
        complete = exhaustive and len(parts) == len(segments)
        if not complete and (running < total.value or any(part.value > total.value for part in parts)):
            return
        self._total(total, parts, ok=False, end=ends[-1])

    def _total(self, total: Number, parts: list[Number], *, ok: bool, end: int, start: int | None = None) -> None:
        """Report `total` against the sum of `parts`; `start` is where the excerpt begins when the parts come
        first ("215 hồ sơ, 48 hồ sơ và 37 hồ sơ, tổng cộng 310 hồ sơ")."""
        self.add(
            total.start if start is None else start,
            end,
            anchor=total.start,
            kind="total",
            ok=ok,
            printed=total.raw,
            **_sum_of(parts),
        )

    # ---- a total after its parts: "215 hồ sơ, 48 hồ sơ và 37 hồ sơ, tổng cộng 310 hồ sơ"

    def totals_after(self) -> None:
        text = self.text
        for match in _TOTAL_AFTER.finditer(text):
            total = self._number_at(match.end())
            if total is None or not total.countable or total.value < 2:
                continue
            if re.match(r"[^\d;.\n]{0,40}?(?<!\w)(?:trong đó|gồm|cụ thể)(?!\w)", text[total.end :], re.IGNORECASE):
                continue  # "tổng cộng 310 hồ sơ, gồm: …": the parts follow, read by totals()
            block = text.rfind("\n", 0, match.start()) + 1
            begin = max(
                [block]
                + [found.end() for found in _SENTENCE_END.finditer(text, block, match.start())]
                + [found.end() for found in _KEYWORD.finditer(text, block, match.start())]
            )
            begin = _after_open_parenthesis(text, begin, match.start())
            region_end = begin + len(re.sub(r"[\s(,;:–—-]*$", "", text[begin : match.start()]))
            if region_end > begin:
                segments = _split_list(text, begin, region_end)
            elif total.unit:
                segments = self._bullets_above(block)  # "Tổng cộng: 310 hồ sơ." under a list of bullets
            else:
                continue
            self._compare_before(total, segments)

    def _bullets_above(self, block: int) -> list[tuple[int, int]]:
        """The bullets with one marker right above the line starting at `block`, top to bottom."""
        segments, marker, end = [], None, block - 1
        while end > 0:
            start = self.text.rfind("\n", 0, end) + 1
            bullet = _BULLET.match(self.text[start:end])
            if not bullet or (marker is not None and bullet.group().replace(" ", "") != marker):
                break
            marker = bullet.group().replace(" ", "")
            segments.insert(0, (start + bullet.end(), end))
            end = start - 1
        return segments

    def _compare_before(self, total: Number, segments: list[tuple[int, int]]) -> None:
        """Parts read backwards from the total: the last number of each piece with the total's unit (without a
        unit, the number ending the piece), until a piece has none."""
        parts: list[Number] = []
        for begin, end in reversed(segments):
            numbers = self._top_level_numbers(begin, end)
            if total.unit:
                numbers = [number for number in numbers if number.unit == total.unit]
            else:
                numbers = [number for number in numbers if not self.text[number.end : end].strip(" .;,:")]
            if not numbers or not numbers[-1].countable:
                break
            parts.insert(0, numbers[-1])
        if len(parts) < 2:
            return
        end = self.percent_end(total) if total.percent else total.end
        unit = re.match(r"\s+[^\W\d_]+(?:\s+[^\W\d_]+)?", self.text[end:]) if total.unit else None
        end += unit.end() if unit else 0
        running = Decimal(0)
        for count, part in enumerate(reversed(parts), start=1):
            running += part.value
            if count >= 2 and running == total.value:  # the last parts make the total; the earlier say more
                self._total(total, parts[-count:], ok=True, end=end, start=parts[-count].start)
                return
        # "tổng cộng" sums what it follows: no other count may come before the parts in the sentence ("Quý III,
        # ba xã tiếp nhận 215 hồ sơ, …" is fine), and no part may be larger than the total.
        before = self._numbers_between(segments[0][0], parts[0].start)
        if any(number.countable for number in before) or any(part.value > total.value for part in parts):
            return
        self._total(total, parts, ok=False, end=end, start=parts[0].start)


# ---------------------------------------------------------------- totals in tables

# A total row's label or a total column's heading: "Tổng cộng", "Tổng số hồ sơ", "Cộng".
_TOTAL_LABEL = re.compile(r"^(?:tổng\s+cộng|tổng\s+số|tổng|cộng)(?!\w)", re.IGNORECASE)
# A total row is labelled with the word alone: "Tổng số hồ sơ tiếp nhận" above "Đã giải quyết" is a
# list of figures, not a sum.
_TOTAL_ROW = re.compile(
    r"^(?:tổng\s+cộng|tổng\s+số|tổng|cộng)(?:\s+(?:chung|toàn\s+tỉnh|cả\s+tỉnh))?\s*(?:\([^)]*\))?\s*:?$", re.I
)
# Columns that are no quantity: a rank, a rate, a score, an average.
_NOT_ADDED = re.compile(r"^(?:s?tt|số\s+tt|số\s+thứ\s+tự)$|tỷ\s+lệ|tỉ\s+lệ|%|bình\s+quân|trung\s+bình|điểm|hạng", re.I)
_GROUP_MARK = re.compile(r"^(?:[IVXLC]+|[A-ZĐ])\.?$")  # "I", "II.", "A": a group heading row with subtotals
_MARKDOWN_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_ZERO = {"-", "–", "—"}  # a dash in a table cell means none


@dataclass
class Cell:
    text: str
    line: int

    @property
    def number(self) -> tuple[Decimal, int, str] | None:
        """(value, decimals, raw) when the cell holds one count and nothing else; a dash is 0."""
        text = self.text.strip()
        if text in _ZERO:
            return Decimal(0), 0, "0"
        if NUMBER_RE.fullmatch(text):
            return (*parse_number(text), text)
        return None


Grid = list[list[Cell]]


def _tables(lines: list[SourceLine]) -> list[Grid]:
    """The tables of a report, as rows of cells: DOCX tables by their cells, TXT tables written with '|'.
    PDF text keeps no column boundaries, so its tables are read only as running text."""
    grids: dict[int, dict[int, dict[int, Cell]]] = {}
    for line in lines:
        if line.cell is None:
            continue
        table, row, column = line.cell
        cell = grids.setdefault(table, {}).setdefault(row, {}).setdefault(column, Cell("", line.number))
        text = _clean(line.text).strip()
        if text:
            cell.line = line.number if not cell.text else cell.line
            cell.text = f"{cell.text} {text}".strip()
    tables = []
    for rows in grids.values():
        width = 1 + max(column for row in rows.values() for column in row)
        tables.append([[row.get(column, Cell("", 0)) for column in range(width)] for _, row in sorted(rows.items())])
    current: Grid = []
    for line in lines + [SourceLine(0, "")]:
        text = line.text.strip()
        if line.cell is None and text.startswith("|") and text.endswith("|") and len(text) > 1:
            if not _MARKDOWN_RULE.match(text):
                current.append([Cell(_clean(part).strip(), line.number) for part in text[1:-1].split("|")])
            continue
        if current:
            width = max(len(row) for row in current)
            tables.append([row + [Cell("", row[0].line)] * (width - len(row)) for row in current])
            current = []
    return tables


def _row_label(row: list[Cell]) -> str:
    return next((cell.text for cell in row if cell.text and cell.number is None), "")


def _is_total_row(row: list[Cell]) -> bool:
    return bool(_TOTAL_ROW.match(_row_label(row)))


def _table_excerpt(row: list[Cell]) -> str:
    return _excerpt(" | ".join(cell.text for cell in row if cell.text))


def _table_total(total: Cell, parts: list[Cell], where: str, row: list[Cell]) -> Check:
    printed = total.number
    summed = _sum_of([part.number for part in parts])
    check = Check(
        line=total.line,
        kind="total",
        ok=printed[0] == sum(part.number[0] for part in parts),
        excerpt=_table_excerpt(row),
        printed=printed[2],
        expected=summed["expected"],
        note=f"{where}: {summed['note']}",
    )
    check.position = 0
    return check


def _table_totals(rows: Grid) -> list[Check]:
    """A "Tổng cộng" row against the rows above it (or below it, when it comes first) and a "Tổng cộng" column
    against the columns left of it (or right of it). The first row is the heading; a table with group
    rows ("I", "II": subtotals inside) is not checked, nor a column of ranks, rates or scores."""
    if len(rows) < 3 or any(_GROUP_MARK.match(_row_label(row)) or _GROUP_MARK.match(row[0].text) for row in rows):
        return []
    width = len(rows[0])
    first_data = next((index for index, row in enumerate(rows) if index and any(c.number for c in row)), None)
    if first_data is None:
        return []
    headings = [" ".join(row[column].text for row in rows[:first_data]).strip() for column in range(width)]
    added = [not _NOT_ADDED.search(heading) for heading in headings]
    total_columns = {column for column, heading in enumerate(headings) if _TOTAL_LABEL.match(heading)}
    checks = []

    def column_parts(start: int, step: int, column: int) -> list[Cell] | None:
        """The cells of `column` from row `start` on, until the heading, a total row or the table's edge;
        None when a cell holds no number (an empty cell is unknown, not 0)."""
        parts, index = [], start
        while first_data <= index < len(rows) and not _is_total_row(rows[index]):
            cell = rows[index][column]
            if cell.number is None:
                return None
            parts.append(cell)
            index += step
        return parts

    for index, row in enumerate(rows[first_data:], start=first_data):
        if not _is_total_row(row):
            continue
        label = _row_label(row)
        for column, cell in enumerate(row):
            if cell.number is None or not added[column] or not cell.text.strip("-–— "):
                continue
            above, below = column_parts(index - 1, -1, column), column_parts(index + 1, 1, column)
            parts = above if above and len(above) >= 2 else below if index == first_data else None
            if parts and len(parts) >= 2:
                where = f"dòng “{label}”, cột “{headings[column]}”"
                checks.append(_table_total(cell, parts[::-1] if parts is above else parts, where, row))

    def row_parts(row: list[Cell], column: int, step: int) -> list[Cell] | None:
        parts, index = [], column + step
        while 0 <= index < width and index not in total_columns and added[index]:
            cell = row[index]
            if cell.number is None:
                if cell.text:
                    break  # a label: the parts end here
                return None
            parts.append(cell)
            index += step
        return parts if len(parts) >= 2 else []

    for column in sorted(total_columns):
        if not added[column]:
            continue
        sides = {}
        for step in (-1, 1):
            found = [(row, row[column], row_parts(row, column, step)) for row in rows[first_data:]]
            found = [(row, cell, parts) for row, cell, parts in found if cell.number is not None and parts]
            matching = sum(cell.number[0] == sum(part.number[0] for part in parts) for _, cell, parts in found)
            sides[step] = (found, matching)
        # The parts are the side that has them; when both do, the side that adds up in more rows. A heading
        # "Tổng số …" may also head a list of figures ("Tổng số hồ sơ | Đã giải quyết | Đúng hạn"): the column
        # is taken as a sum only when it adds up in at least half of its rows.
        left, right = sides[-1], sides[1]
        if left[0] and right[0]:
            if left[1] == right[1]:
                continue
            chosen, step = (left, -1) if left[1] > right[1] else (right, 1)
        else:
            chosen, step = (left, -1) if left[0] else (right, 1)
        if chosen[1] * 2 < len(chosen[0]):
            continue
        for row, cell, parts in chosen[0]:
            ordered = parts[::-1] if step == -1 else parts
            where = f"dòng “{_row_label(row)}”, cột “{headings[column]}”"
            checks.append(_table_total(cell, ordered, where, row))
    return checks

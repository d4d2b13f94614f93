"""Extract copies (trích lục bản sao) of a civil-status register entry as PDF.

One A4 portrait form per record type — TRÍCH LỤC KHAI SINH / KHAI TỬ / KẾT
HÔN (BẢN SAO), after the forms of Thông tư 04/2020/TT-BTP as amended by
Thông tư 01/2022/TT-BTP — rendered like the one-stop slips
(`core.pdf.render_pdf`: WeasyPrint, no external resources, "Times
New Roman" → Liberation Serif) from templates under
``civil_records/print/``. The per-type title, legal basis and field order are
data (`FORMS`); the templates only lay them out.

The form shows what the register shows. For each field it prints, in order:
the registrar's correction (a FieldReview "corrected": the normalized value,
dates dd/mm/yyyy, mm/yyyy or yyyy); else the text as written in the register
(impossible dates, "không rõ", lunar dates and pre-1975 place names
included); else, for a record that carries no verbatim text, its normalized
value; else a dotted blank. Nothing is refused because a field is flagged or
empty — the old national system printing nothing for incomplete entries is
what this replaces.

The issuing authority in the header is the registering commune's current
successor when it was merged; "Nơi đăng ký" keeps the commune as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from chinhquyenso.civil_records import dates
from chinhquyenso.civil_records.fields import DATE, KINDS, YEAR_OR_DATE
from chinhquyenso.civil_records.models import CivilRecord, FieldReview
from chinhquyenso.civil_records.selectors import verbatim_value
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.pdf import place_date, render_pdf
from chinhquyenso.core.text import fold, nfc
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.org.selectors import current_successor

BLANK = "………………"  # nothing written: the form keeps a dotted blank to fill in by hand
LEGAL_BASIS = "Thông tư số 04/2020/TT-BTP, được sửa đổi, bổ sung bởi Thông tư số 01/2022/TT-BTP"
SIGNATURE_ROLE = "Người ký trích lục"
SIGNATURE_HINT = "(Ký, ghi rõ họ, chữ đệm, tên, chức vụ và đóng dấu)"
PLACE = "@place"  # pseudo-field: the commune where the entry was registered, as it was then
_COMMITTEE_PREFIXES = ("ubnd ", "uy ban nhan dan ")  # folded; "UBND xã Kiến An" → "xã Kiến An"


@dataclass(frozen=True)
class Cell:
    """One label and its value on a line of the form."""

    label: str
    key: str
    words: bool = False  # also "ghi bằng chữ" (an exact date in Vietnamese words)
    joined: bool = False  # continues the previous cell: "…, ngày 08/04/1975" (no colon)


def _line(*cells: tuple) -> tuple[Cell, ...]:
    return tuple(Cell(*cell) for cell in cells)


def _parent(prefix: str, who: str) -> tuple[tuple[Cell, ...], ...]:
    return (
        _line((f"Họ, chữ đệm, tên người {who}", f"{prefix}_name")),
        _line(
            ("Năm sinh", f"{prefix}_born"), ("Dân tộc", f"{prefix}_ethnicity"), ("Quốc tịch", f"{prefix}_nationality")
        ),
        _line(("Nơi cư trú", f"{prefix}_residence")),
    )


# Per record type: the form's title, the register it copies from, its field
# lines in the register's order (birth, death), or its two spouse columns
# (marriage) and the lines after them.
FORMS = {
    "birth": {
        "title": "Trích lục khai sinh",
        "register": "Sổ đăng ký khai sinh",
        "template": "civil_records/print/birth.html",
        "legal_basis": LEGAL_BASIS,
        "lines": (
            _line(("Họ, chữ đệm, tên", "name")),
            _line(("Ngày, tháng, năm sinh", "born_on", True)),
            _line(("Giới tính", "sex"), ("Dân tộc", "ethnicity"), ("Quốc tịch", "nationality")),
            _line(("Nơi sinh", "birth_place")),
            _line(("Quê quán", "hometown")),
            *_parent("mother", "mẹ"),
            *_parent("father", "cha"),
            _line(("Nơi đăng ký khai sinh", PLACE)),
            _line(("Ngày, tháng, năm đăng ký", "registered_on")),
            _line(("Ghi chú", "notes")),
        ),
    },
    "death": {
        "title": "Trích lục khai tử",
        "register": "Sổ đăng ký khai tử",
        "template": "civil_records/print/death.html",
        "legal_basis": LEGAL_BASIS,
        "lines": (
            _line(("Họ, chữ đệm, tên người đã chết", "name")),
            _line(("Ngày, tháng, năm sinh", "born_on")),
            _line(("Giới tính", "sex"), ("Dân tộc", "ethnicity"), ("Quốc tịch", "nationality")),
            _line(("Nơi cư trú cuối cùng", "residence")),
            _line(("Đã chết vào lúc", "died_at_time"), ("ngày", "died_on", False, True)),
            _line(("Nơi chết", "death_place")),
            _line(("Nguyên nhân chết", "cause")),
            _line(("Họ, chữ đệm, tên người đi khai tử", "declarant_name")),
            _line(("Nơi đăng ký khai tử", PLACE)),
            _line(("Ngày, tháng, năm đăng ký", "registered_on")),
            _line(("Ghi chú", "notes")),
        ),
    },
    "marriage": {
        "title": "Trích lục kết hôn",
        "register": "Sổ đăng ký kết hôn",
        "template": "civil_records/print/marriage.html",
        "legal_basis": LEGAL_BASIS,
        "spouses": {
            "heads": ("Chồng", "Vợ"),
            "prefixes": ("husband", "wife"),
            "rows": (
                ("Họ, chữ đệm, tên", "name"),
                ("Ngày, tháng, năm sinh", "born"),
                ("Dân tộc", "ethnicity"),
                ("Quốc tịch", "nationality"),
                ("Nơi cư trú", "residence"),
            ),
        },
        "lines": (
            _line(("Ngày, tháng, năm đăng ký kết hôn", "registered_on")),
            _line(("Nơi đăng ký kết hôn", PLACE)),
            _line(("Ghi chú", "notes")),
        ),
    },
}


# ---------------------------------------------------------------- numbers and dates in words

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")


def _tens(number: int, *, after_hundreds: bool) -> list[str]:
    """1–99 in words; "linh" before a single digit that follows hundreds (một trăm linh năm)."""
    tens, units = divmod(number, 10)
    if tens == 0:
        return (["linh"] if after_hundreds else []) + [_DIGITS[units]]
    words = ["mười"] if tens == 1 else [_DIGITS[tens], "mươi"]
    if units == 1 and tens > 1:
        words.append("mốt")
    elif units == 4 and tens > 1:
        words.append("tư")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(_DIGITS[units])
    return words


def number_words(number: int) -> str:
    """0–9999 in Vietnamese words: 1968 → "một nghìn chín trăm sáu mươi tám",
    2005 → "hai nghìn không trăm linh năm", 24 → "hai mươi tư"."""
    if not 0 <= number <= 9999:
        raise ValueError(number)
    if number == 0:
        return _DIGITS[0]
    thousands, rest = divmod(number, 1000)
    hundreds, rest = divmod(rest, 100)
    words = [_DIGITS[thousands], "nghìn"] if thousands else []
    if hundreds or (thousands and rest):
        words += [_DIGITS[hundreds], "trăm"]
    if rest:
        words += _tens(rest, after_hundreds=bool(words))
    return " ".join(words)


def _month_words(month: int) -> str:
    return "tư" if month == 4 else number_words(month)  # tháng tư, not "tháng bốn"


def date_words(day: dt.date) -> str:
    """12/05/1968 → "Ngày mười hai, tháng năm, năm một nghìn chín trăm sáu mươi tám"."""
    return f"Ngày {number_words(day.day)}, tháng {_month_words(day.month)}, năm {number_words(day.year)}"


def normalized_date_text(value: str) -> str:
    """A stored date value as printed: "1968-05-12" → "12/05/1968", "1968-05" → "05/1968", "1968" → "1968"."""
    parts = str(value).split("-")
    return "/".join(reversed(parts)) if all(p.isdigit() for p in parts) else str(value)


def _exact_iso(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


# ---------------------------------------------------------------- values as printed


@dataclass
class Printed:
    text: str
    exact: dt.date | None = None  # the solar day the text certainly means (for "ghi bằng chữ")

    @property
    def blank(self) -> bool:
        return self.text == BLANK


class _Values:
    """What the form prints for each field of one record."""

    def __init__(self, record: CivilRecord):
        self.record = record
        self.kind = KINDS[record.record_type]
        self.corrected = set(record.reviews.filter(action=FieldReview.Action.CORRECTED).values_list("field", flat=True))

    def _normalized(self, key: str) -> Printed | None:
        value = self.record.data.get(key)
        if value in (None, "", []):
            return None
        kind = self.kind.field(key).kind if key in self.kind.by_key else ""
        if kind in (DATE, YEAR_OR_DATE):
            return Printed(normalized_date_text(value), _exact_iso(value))
        if isinstance(value, list):
            return Printed("; ".join(str(v) for v in value))
        return Printed(str(value))

    def get(self, key: str) -> Printed:
        if key in self.corrected:
            normalized = self._normalized(key)
            if normalized is not None:
                return normalized
        if key == "sex" and self.record.data.get("sex"):  # "Nam"/"Nữ" rather than "trai", "m", "gái"
            return Printed(self.record.data["sex"])
        written = nfc(verbatim_value(self.record, key))
        if written and self._is_serial(key, written):  # a spreadsheet's day number (24970), not what the book says
            return self._normalized(key) or Printed(written)
        if written:
            return Printed(written, self._exact_written(key, written))
        return self._normalized(key) or Printed(BLANK)

    def _is_date(self, key: str) -> bool:
        return key in self.kind.by_key and self.kind.field(key).kind in (DATE, YEAR_OR_DATE)

    def _is_serial(self, key: str, written: str) -> bool:
        return self._is_date(key) and written.isdigit() and len(written) == 5

    def _exact_written(self, key: str, written: str) -> dt.date | None:
        """The day a written date means, only when nothing about it is doubtful
        (no lunar, partial, two-digit-year, illegible or impossible date)."""
        if not self._is_date(key):
            return None
        parsed = dates.parse(written, reference_year=self.record.year, years_before=self.kind.field(key).years_before)
        return parsed.exact if not parsed.flags else None

    def register(self, key: str, column) -> str:
        """Book, number, year: the record's column, else the register's text, else a blank."""
        if column not in (None, ""):
            return str(column)
        return nfc(verbatim_value(self.record, key)) or BLANK


# ---------------------------------------------------------------- the issuing commune


def _without_committee(name: str) -> str:
    """ "UBND xã Kiến An" → "xã Kiến An" (the form writes "Ủy ban nhân dân" itself)."""
    name = nfc(name)
    folded = fold(name)  # one letter per letter of the NFC name: the prefix's length carries over
    for prefix in _COMMITTEE_PREFIXES:
        if folded.startswith(prefix) and len(folded) == len(name):
            return name[len(prefix) :].strip()
    return name


def issuing_commune(commune: Agency) -> Agency:
    """The commune that issues the copy today: the registering commune, or its
    current successor after a merger (the register books went with the work).
    A commune dissolved without a successor still issues under its own name."""
    return current_successor(commune) or commune


def place_of_registration(commune: Agency) -> str:
    """ "Ủy ban nhân dân xã Kiến An, huyện Chợ Mới, tỉnh An Giang": the commune
    and its district and province as they were when it registered the entry."""
    parts = [f"Ủy ban nhân dân {_without_committee(commune.name)}"]
    parent, seen = commune.parent, {commune.pk}
    while parent is not None and parent.pk not in seen:
        seen.add(parent.pk)
        if parent.kind in (AgencyKind.DISTRICT_COMMITTEE, AgencyKind.PROVINCE_COMMITTEE):
            parts.append(_without_committee(parent.name))
        parent = parent.parent
    return ", ".join(parts)


# ---------------------------------------------------------------- context and PDF


def _cell(values: _Values, cell: Cell, place: str) -> dict:
    printed = Printed(place) if cell.key == PLACE else values.get(cell.key)
    words = date_words(printed.exact) if cell.words and printed.exact else ""
    return {"label": cell.label, "value": printed.text, "blank": printed.blank, "words": words, "joined": cell.joined}


def extract_context(
    record: CivilRecord, *, signer: str = "", signer_title: str = "", copy_date: dt.date | None = None
) -> dict:
    """Everything the extract prints, as plain strings."""
    form = FORMS[record.record_type]
    values = _Values(record)
    commune = Agency.objects.select_related("parent__parent").get(pk=record.commune_id)
    issuer = issuing_commune(commune)
    place = place_of_registration(commune)
    lines = [[_cell(values, cell, place) for cell in line] for line in form["lines"]]
    spouses = []
    if "spouses" in form:
        spec = form["spouses"]
        for label, suffix in spec["rows"]:
            spouses.append(
                {"label": label, "values": [values.get(f"{prefix}_{suffix}") for prefix in spec["prefixes"]]}
            )
    number = values.register("number", record.number)
    book = values.register("book", record.book)
    year = values.register("year", record.year)
    copy_date = copy_date or timezone.localdate()
    title = form["title"].upper()
    return {
        "title": title,
        "copy_label": "(BẢN SAO)",
        "legal_basis": form["legal_basis"],
        "doc_title": f"{form['title']} (bản sao) — số {number}, quyển số {book}, năm {year}",
        "agency_line": "ỦY BAN NHÂN DÂN",
        "commune_line": _without_committee(issuer.name).upper(),
        "issuer": issuer.name,
        "commune": commune.name,
        "place": place,
        "number": number,
        "book": book,
        "year": year,
        "lines": lines,
        "spouse_heads": form.get("spouses", {}).get("heads", ()),
        "spouses": spouses,
        "source_line": f"Sao từ {form['register']} số {number}, quyển số {book}, năm {year}",
        "place_date": place_date(copy_date),
        "copy_date": copy_date,
        "signature_role": SIGNATURE_ROLE,
        "signature_hint": SIGNATURE_HINT,
        "signer": nfc(signer) or BLANK,
        "signer_title": nfc(signer_title),
    }


def extract_pdf(record: CivilRecord, *, signer: str, signer_title: str, copy_date: dt.date | None = None) -> bytes:
    """The extract copy of `record`, signed by `signer` (`signer_title`, e.g.
    "Công chức tư pháp - hộ tịch"), dated `copy_date` (default: today in Vietnam)."""
    if not nfc(signer):
        raise DomainError("Nhập họ, chữ đệm, tên người ký trích lục.", "signer")
    if not nfc(signer_title):
        raise DomainError("Nhập chức vụ của người ký trích lục.", "signer_title")
    context = extract_context(record, signer=signer, signer_title=signer_title, copy_date=copy_date)
    return render_pdf(FORMS[record.record_type]["template"], context)

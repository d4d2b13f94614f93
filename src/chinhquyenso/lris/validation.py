"""Checking reported values before anything is stored: every problem at
once, each naming the item (code and name) and, for an uploaded workbook,
the row and column.

Numbers are read the Vietnamese way: "," is the decimal mark and "." groups
thousands ("71,29", "2.164.505"). A single "." followed by exactly three
digits is a thousands separator ("1.500" = 1500); otherwise a single "." is
taken as a decimal point ("71.29"), since spreadsheets and phones often type it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import fold, format_number, nfc

PARTS = ("value", "numerator", "denominator")
MAX_DECIMALS = 4  # what ReportedValue keeps
LIMIT = Decimal(10) ** 15  # ReportedValue: 20 digits, 4 of them decimals
HUNDRED = Decimal(100)
YES = {"co", "c", "x", "1", "true", "yes", "dung"}
NO = {"khong", "k", "0", "false", "no", "sai"}


@dataclass
class Entry:
    """What the agency gave for one item: raw text, a number from a workbook
    or JSON, or nothing. `row`/`columns` say where it was in an upload."""

    code: str
    value: object = None
    numerator: object = None
    denominator: object = None
    row: int | None = None
    columns: dict = field(default_factory=dict)  # part → "D (Giá trị)"

    def given(self, part: str) -> bool:
        raw = getattr(self, part)
        return raw is not None and not (isinstance(raw, str) and not raw.strip())

    @property
    def blank(self) -> bool:
        return not any(self.given(p) for p in PARTS)


@dataclass(frozen=True)
class Clean:
    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    raw: str = ""

    @property
    def amount(self) -> Decimal | None:
        """What a part ≤ whole check compares: the count behind a ratio."""
        return self.numerator if self.numerator is not None else self.value


@dataclass(frozen=True)
class ItemError:
    code: str
    message: str
    field: str  # the page's input name, e.g. "n-ipv6_systems_rate"
    row: int | None = None
    column: str | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "detail": self.message, "row": self.row, "column": self.column}


class ValuesInvalid(DomainError):
    """All the problems found in one save; nothing was stored."""

    def __init__(self, errors: list[ItemError]):
        self.errors = errors
        count = format_number(len(errors))
        super().__init__(
            f"Có {count} lỗi, chưa lưu số liệu nào: "
            + " ".join(e.message for e in errors[:3])
            + (" …" if len(errors) > 3 else ""),
            errors[0].field if errors else None,
        )

    def as_dict(self) -> dict:
        return {**super().as_dict(), "errors": [e.as_dict() for e in self.errors]}


class _Bad(Exception):
    pass


# ---------------------------------------------------------------- reading one cell


def _text(raw) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return nfc(str(raw))[:200]


def parse_number(raw) -> Decimal:
    if isinstance(raw, bool):
        raise _Bad("phải là số")
    if isinstance(raw, (int, Decimal)):
        number = Decimal(raw)
    elif isinstance(raw, float):
        number = Decimal(repr(raw))
    else:
        number = _parse_text(nfc(str(raw)))
    if not number.is_finite():
        raise _Bad("phải là số")
    if abs(number) >= LIMIT:
        raise _Bad("số quá lớn")
    if -number.as_tuple().exponent > MAX_DECIMALS and number != number.quantize(Decimal(1).scaleb(-MAX_DECIMALS)):
        raise _Bad(f"chỉ được tối đa {MAX_DECIMALS} chữ số sau dấu phẩy")
    return number


_GROUPED = {".": re.compile(r"\d{1,3}(\.\d{3})+"), ",": re.compile(r"\d{1,3}(,\d{3})+")}


def _parse_text(text: str) -> Decimal:
    text = text.replace(" ", "").removesuffix("%")
    sign = ""
    if text[:1] in ("+", "-"):
        sign, text = text[0], text[1:]
    if "." in text and "," in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        whole, fraction = text.rsplit(decimal_mark, 1)
        group_mark = "." if decimal_mark == "," else ","
        if not (_GROUPED[group_mark].fullmatch(whole) and fraction.isdigit()):
            raise _Bad("phải là số")
        digits = whole.replace(group_mark, "") + "." + fraction
    elif "," in text:
        if text.count(",") == 1 and re.fullmatch(r"\d+,\d+", text):
            digits = text.replace(",", ".")
        elif _GROUPED[","].fullmatch(text):
            digits = text.replace(",", "")
        else:
            raise _Bad("phải là số")
    elif "." in text:
        whole, _, fraction = text.partition(".")
        if text.count(".") > 1 or (len(fraction) == 3 and re.fullmatch(r"[1-9]\d{0,2}", whole)):
            if not _GROUPED["."].fullmatch(text):
                raise _Bad("phải là số")
            digits = text.replace(".", "")
        elif re.fullmatch(r"\d+\.\d+", text):
            digits = text
        else:
            raise _Bad("phải là số")
    elif text.isdigit() and text.isascii():
        digits = text
    else:
        raise _Bad("phải là số")
    try:
        return Decimal(sign + digits)
    except InvalidOperation:
        raise _Bad("phải là số") from None


def parse_boolean(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    folded = fold(_text(raw))
    if folded in YES:
        return True
    if folded in NO:
        return False
    raise _Bad("chỉ nhận Có hoặc Không")


# ---------------------------------------------------------------- bounds and display


def bounds(item) -> tuple[Decimal | None, Decimal | None]:
    """The form's own bounds where set, else the indicator's; ratios are
    percentages between 0 and 100 unless the indicator allows more."""
    indicator = item.indicator
    low = item.minimum if item.minimum is not None else indicator.minimum
    high = item.maximum if item.maximum is not None else indicator.maximum
    if indicator.is_ratio:
        low = Decimal(0) if low is None else low
        high = HUNDRED if high is None else high
    return low, high


def number_text(value: Decimal | None, decimals: int | None = None) -> str:
    """Vietnamese style, without trailing zeros unless `decimals` is given."""
    if value is None:
        return ""
    value = Decimal(value)
    if decimals is None:
        decimals = min(max(0, -value.normalize().as_tuple().exponent), MAX_DECIMALS)
    return format_number(value, decimals)


def display(indicator, clean) -> str:
    """How a stored value reads to people: 2.164.505; 71,29; Có; 38/40 (95%)."""
    if clean is None or (clean.value is None and clean.numerator is None):
        return ""
    if indicator.value_type == indicator.ValueType.BOOLEAN:
        return "Có" if clean.value else "Không"
    if indicator.is_ratio:
        return (
            f"{number_text(clean.numerator)} / {number_text(clean.denominator)} "
            f"({format_number(clean.value, indicator.decimals)}%)"
        )
    return number_text(clean.value)


def _ratio_value(numerator: Decimal, denominator: Decimal) -> Decimal:
    return (numerator * HUNDRED / denominator).quantize(Decimal("0.0001"))


# ---------------------------------------------------------------- checking a submission


INPUT_NAME = {"value": "v", "numerator": "n", "denominator": "d"}


class _Checker:
    def __init__(self, form_code: str):
        self.form_code = form_code
        self.errors: list[ItemError] = []

    def add(self, item, entry: Entry | None, part: str, problem: str, *, code: str | None = None):
        code = code or item.indicator.code
        name = item.indicator.name if item else ""
        column = entry.columns.get(part) if entry is not None else None
        label = f"{code} — {name}" if name else code
        if entry is not None and entry.row:
            where = f"Dòng {entry.row}" + (f", cột {column}" if column else "")
            message = f"{where}: {label}: {problem}."
        else:
            message = f"{label}: {problem}."
        self.errors.append(
            ItemError(
                code=code,
                message=message,
                field=f"{INPUT_NAME.get(part, 'v')}-{code}",
                row=entry.row if entry is not None else None,
                column=column,
            )
        )

    def number(self, item, entry: Entry, part: str) -> Decimal | None:
        raw = getattr(entry, part)
        try:
            return parse_number(raw)
        except _Bad as bad:
            what = {
                "numerator": f"tử số ({self.label(item, part)})",
                "denominator": f"mẫu số ({self.label(item, part)})",
            }
            example = "số nguyên, ví dụ 2.164.505" if item.indicator.value_type == "integer" else "số, ví dụ 71,29"
            detail = str(bad) if str(bad) != "phải là số" else f"phải là {example}"
            self.add(item, entry, part, f"{what.get(part, '')} {detail} (đã nhập «{_text(raw)}»)".lstrip())
            return None

    @staticmethod
    def label(item, part: str) -> str:
        indicator = item.indicator
        if part == "numerator":
            return indicator.numerator_label or "tử số"
        return indicator.denominator_label or "mẫu số"

    def clean(self, item, entry: Entry) -> Clean | None:
        """One item's entry → a clean value, or None with errors recorded."""
        indicator = item.indicator
        kind = indicator.value_type
        if kind == indicator.ValueType.RATIO:
            return self._ratio(item, entry)
        if entry.given("numerator") or entry.given("denominator"):
            part = "numerator" if entry.given("numerator") else "denominator"
            self.add(item, entry, part, "không phải tỷ lệ: chỉ nhập giá trị, để trống tử số và mẫu số")
            return None
        if kind == indicator.ValueType.BOOLEAN:
            try:
                yes = parse_boolean(entry.value)
            except _Bad as bad:
                self.add(item, entry, "value", f"{bad} (đã nhập «{_text(entry.value)}»)")
                return None
            return Clean(Decimal(1 if yes else 0), raw="Có" if yes else "Không")
        value = self.number(item, entry, "value")
        if value is None:
            return None
        if kind == indicator.ValueType.INTEGER and value != value.to_integral_value():
            self.add(item, entry, "value", f"phải là số nguyên (đã nhập «{_text(entry.value)}»)")
            return None
        if not self._in_range(item, entry, "value", value, f"{number_text(value)}"):
            return None
        return Clean(value, raw=_text(entry.value))

    def _in_range(self, item, entry, part, value, shown, percent=False) -> bool:
        low, high = bounds(item)
        unit = "%" if percent or item.indicator.unit == "%" else f" {item.indicator.unit}".rstrip()
        what = "tỷ lệ " if percent else ""
        if low is not None and value < low:
            self.add(item, entry, part, f"{what}{shown}{unit} nhỏ hơn mức tối thiểu {number_text(low)}{unit}")
            return False
        if high is not None and value > high:
            self.add(item, entry, part, f"{what}{shown}{unit} vượt mức tối đa {number_text(high)}{unit}")
            return False
        return True

    def _ratio(self, item, entry: Entry) -> Clean | None:
        if entry.given("value"):
            self.add(item, entry, "value", "là tỷ lệ: nhập tử số và mẫu số, không nhập giá trị (tỷ lệ được tự tính)")
            return None
        missing = [p for p in ("numerator", "denominator") if not entry.given(p)]
        if missing:
            part = missing[0]
            self.add(
                item,
                entry,
                part,
                f"cần nhập cả tử số ({self.label(item, 'numerator')}) và mẫu số ({self.label(item, 'denominator')})",
            )
            return None
        numerator = self.number(item, entry, "numerator")
        denominator = self.number(item, entry, "denominator")
        if numerator is None or denominator is None:
            return None
        if denominator <= 0:
            self.add(
                item,
                entry,
                "denominator",
                f"mẫu số ({self.label(item, 'denominator')}) phải lớn hơn 0 (đã nhập «{_text(entry.denominator)}»)",
            )
            return None
        if numerator < 0:
            self.add(item, entry, "numerator", f"tử số ({self.label(item, 'numerator')}) không được âm")
            return None
        low, high = bounds(item)
        if high <= HUNDRED and numerator > denominator:
            self.add(
                item,
                entry,
                "numerator",
                f"tử số ({self.label(item, 'numerator')}: {number_text(numerator)}) "
                f"không được lớn hơn mẫu số ({self.label(item, 'denominator')}: "
                f"{number_text(denominator)})",
            )
            return None
        value = _ratio_value(numerator, denominator)
        if not self._in_range(
            item, entry, "numerator", value, format_number(value, item.indicator.decimals), percent=True
        ):
            return None
        return Clean(value, numerator, denominator, raw=f"{_text(entry.numerator)} / {_text(entry.denominator)}")


def check(form, items, entries: list[Entry], existing: dict[str, Clean], *, require_all: bool):
    """Validate `entries` against the form's `items`, on top of the values
    already saved (`existing`, by indicator code). Returns (changes, errors):
    changes maps code → Clean, or None to clear the value."""
    checker = _Checker(form.code)
    by_code = {item.indicator.code: item for item in items}
    seen: dict[str, Entry] = {}
    changes: dict[str, Clean | None] = {}
    for entry in entries:
        code = nfc(entry.code)
        item = by_code.get(code)
        if item is None:
            checker.add(None, entry, "code", f"mã chỉ tiêu không có trong biểu mẫu {form.code}", code=code or "(trống)")
            continue
        if code in seen:
            first = seen[code]
            where = f"dòng {first.row}" if first.row else "trước đó"
            checker.add(item, entry, "code", f"chỉ tiêu này đã có ở {where}")
            continue
        seen[code] = entry
        if entry.blank:
            changes[code] = None
            continue
        clean = checker.clean(item, entry)
        if clean is not None:
            changes[code] = clean
    failed = {e.code for e in checker.errors}
    merged = {**existing, **changes}
    if require_all:
        for item in items:
            code = item.indicator.code
            if item.required and merged.get(code) is None and code not in failed:
                part = "numerator" if item.indicator.is_ratio else "value"
                checker.add(item, seen.get(code), part, "chưa nhập (chỉ tiêu bắt buộc)")
    for item in items:
        whole_indicator = item.indicator.part_of
        code = item.indicator.code
        if whole_indicator is None or whole_indicator.code not in by_code or code in failed:
            continue
        part_value, whole_value = merged.get(code), merged.get(whole_indicator.code)
        if part_value is None or whole_value is None or part_value.amount is None or whole_value.amount is None:
            continue
        if part_value.amount > whole_value.amount:
            checker.add(
                item,
                seen.get(code),
                "numerator" if item.indicator.is_ratio else "value",
                f"{number_text(part_value.amount)} lớn hơn {whole_indicator.code} — {whole_indicator.name} "
                f"({number_text(whole_value.amount)}), trong khi đây là một phần của chỉ tiêu đó",
            )
    # In the order people read them: by row of the workbook, else by line of the form.
    position = {item.indicator.code: index for index, item in enumerate(items)}
    errors = sorted(checker.errors, key=lambda e: (e.row or 0, position.get(e.code, len(position))))
    return changes, errors

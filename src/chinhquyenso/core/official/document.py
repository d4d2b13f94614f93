"""A neutral description of an official document under Nghị định 30/2020/NĐ-CP: a report
(báo cáo), a notice (thông báo), any type with the same parts.

The writers (`docx_writer.write_docx`, `pdf_writer.write_pdf`) take an
`OfficialDocument` and know nothing else: whoever fills one in (a report
template, a pest bulletin, a management command, a test) decides the words and the figures,
already formatted the Vietnamese way (513.808; 41,5%).

`LAYOUT` holds the presentation rules of Phụ lục I in numbers, so both writers
print the same page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from chinhquyenso.core.errors import DomainError

# Phụ lục I, Nghị định 30/2020: A4 portrait, margins top/bottom 20–25 mm,
# left 30–35 mm, right 15–20 mm; sizes in points.
LAYOUT = {
    "page_width_mm": 210,
    "page_height_mm": 297,
    "margin_top_mm": 20,
    "margin_bottom_mm": 20,
    "margin_left_mm": 30,
    "margin_right_mm": 15,
    # The header table: 75 + 90 = 165 mm, the text width. The right column holds
    # the Quốc hiệu (88 mm in 12 pt bold), the left one an agency name of 12 pt
    # bold up to 74 mm ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG") without wrapping.
    "header_left_mm": 75,
    "header_right_mm": 90,
    "agency_pt": 12,
    "nation_pt": 12,
    "motto_pt": 13,
    "number_pt": 13,
    "place_date_pt": 14,
    "title_pt": 14,
    "body_pt": 14,
    "page_number_pt": 13,
    "recipients_label_pt": 12,
    "recipients_pt": 11,
    "signer_pt": 14,
    "table_pt": 12,
    "table_title_pt": 13,
    "first_line_indent_cm": 1.27,
    # Line spacing as Word counts it: 1,2 × a single line (Times New Roman's
    # single line is 1,15 em, so 1,38 em in CSS).
    "line_spacing": 1.2,
    "line_height_em": 1.38,
    "paragraph_after_pt": 6,
    # The short rule under the issuing agency and the trích yếu: 1/3–1/2 of the line.
    "short_rule_ratio": 0.4,
    "signature_space_mm": 22,
}


# Row-number columns ("STT": số thứ tự) are centred; other cells holding a number are right-aligned.
ORDINAL_COLUMNS = {"STT", "TT"}


@dataclass
class Heading:
    """'I. KẾT QUẢ ĐẠT ĐƯỢC' (level 1), '1. Hạ tầng số' (level 2), '1.1. …' (level 3)."""

    level: int
    text: str


@dataclass
class Paragraph:
    """Body text: justified, first line indented."""

    text: str


@dataclass
class Bullet:
    """A '- …' line (marker '+' for a second level)."""

    text: str
    marker: str = "-"

    @property
    def line(self) -> str:
        text = self.text.strip()
        return text if text[:1] in ("-", "+", "•") else f"{self.marker} {text}"


@dataclass
class Table:
    """A bordered table. `widths` are relative column widths (any unit); equal when omitted."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    widths: list[float] | None = None

    def __post_init__(self):
        if not self.columns:
            raise DomainError(f"Bảng “{self.title}” chưa có cột nào.", field="columns")
        for number, row in enumerate(self.rows, start=1):
            if len(row) != len(self.columns):
                raise DomainError(
                    f"Bảng “{self.title}”: dòng {number} có {len(row)} ô, cần {len(self.columns)} ô.", field="rows"
                )
        if self.widths is not None and (len(self.widths) != len(self.columns) or min(self.widths) <= 0):
            raise DomainError(
                f"Bảng “{self.title}”: cần {len(self.columns)} độ rộng cột, mỗi độ rộng lớn hơn 0.", field="widths"
            )

    def fractions(self) -> list[float]:
        """Each column's share of the table width."""
        widths = self.widths or [1.0] * len(self.columns)
        total = sum(widths)
        return [width / total for width in widths]


@dataclass
class PageBreak:
    pass


Block = Heading | Paragraph | Bullet | Table | PageBreak


@dataclass
class Signer:
    """'KT. GIÁM ĐỐC' / 'PHÓ GIÁM ĐỐC' / name; note e.g. '(Đã ký)' on a copy."""

    position: str
    name: str
    authority: str = ""
    note: str = ""


@dataclass
class Appendix:
    title: str
    subtitle: str
    table: Table | None
    note: str = ""  # printed instead of the table when there is nothing to tabulate ("Chưa có chỉ tiêu …")


@dataclass
class OfficialDocument:
    parent_agency: str
    issuing_agency: str
    symbol: str  # "BC-STTTT"
    place: str  # "An Giang"
    summary: str = ""  # trích yếu; "\n" separates lines
    number: str | int | None = None  # None until the document is issued
    date: dt.date | None = None  # None for a draft
    year: int | None = None  # the year printed on a draft (default: this year)
    doc_type: str = "BÁO CÁO"
    body: list[Block] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    signer: Signer | None = None
    appendices: list[Appendix] = field(default_factory=list)

    def __post_init__(self):
        if not self.issuing_agency.strip():
            raise DomainError("Thiếu tên cơ quan ban hành.", field="issuing_agency")
        if not self.symbol.strip():
            raise DomainError("Thiếu ký hiệu văn bản (ví dụ BC-STTTT).", field="symbol")
        # Plain tuples (title, subtitle, table) are accepted for appendices.
        self.appendices = [item if isinstance(item, Appendix) else Appendix(*item) for item in self.appendices]
        for position, block in enumerate(self.body, start=1):
            if not isinstance(block, (Heading, Paragraph, Bullet, Table, PageBreak)):
                raise DomainError(
                    f"Khối thứ {position} của nội dung không phải đề mục, đoạn văn, gạch đầu dòng, "
                    "bảng hay ngắt trang.",
                    field="body",
                )

    @property
    def number_symbol(self) -> str:
        """'Số: 238/BC-STTTT'; before issue the number is left blank for the clerk."""
        if self.number in (None, ""):
            return f"Số:{' ' * 6}/{self.symbol}"
        number = str(self.number).strip()
        # Nghị định 30/2020, Phụ lục I: a number below 10 is written with a leading zero ("Số: 05/BC-…").
        return f"Số: {number.zfill(2) if number.isdigit() else number}/{self.symbol}"

    @property
    def place_date(self) -> str:
        """'An Giang, ngày 08 tháng 4 năm 2025'; a draft leaves day and month blank."""
        if self.date is None:
            year = self.year or dt.date.today().year
            return f"{self.place}, ngày{' ' * 5}tháng{' ' * 5}năm {year}"
        return f"{self.place}, ngày {self.date.day:02d} tháng {month_text(self.date.month)} năm {self.date.year}"

    @property
    def summary_lines(self) -> list[str]:
        return [line.strip() for line in self.summary.splitlines() if line.strip()]

    @property
    def reference(self) -> str:
        """'(Kèm theo Báo cáo số 238/BC-STTTT ngày 08/4/2025)' under an appendix title."""
        kind = self.doc_type.strip().capitalize()
        number = str(self.number).strip() if self.number not in (None, "") else " " * 5
        if self.date is None:
            year = self.year or dt.date.today().year
            when = f"{' ' * 4}/{' ' * 4}/{year}"
        else:
            when = short_date(self.date)
        return f"(Kèm theo {kind} số{' ' if number.strip() else ''}{number}/{self.symbol} ngày {when})"


def month_text(month: int) -> str:
    # Nghị định 30/2020: months 1 and 2 take a leading zero, the others none.
    return f"{month:02d}" if month <= 2 else str(month)


def short_date(day: dt.date) -> str:
    """'08/4/2025', '20/01/2025' (same padding rule as the place-and-date line)."""
    return f"{day.day:02d}/{month_text(day.month)}/{day.year}"

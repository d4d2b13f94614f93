"""The header row of a register list: which column holds which register field."""

from __future__ import annotations

from dataclasses import dataclass

from chinhquyenso.civil_records.fields import RecordKind, header_index, header_key
from chinhquyenso.civil_records.validation.results import Problem
from chinhquyenso.core.text import nfc

# Columns the error workbook adds; ignored when it comes back corrected.
ERROR_COLUMNS = ("Dòng gốc", "Kết quả", "Thông báo")


@dataclass
class Column:
    index: int
    header: str  # as written in the file
    field: str | None  # None: not a register field (kept verbatim only)


class FileColumns:
    """The columns of one file, from its header row: each matched to a field of the
    register `kind` or kept verbatim only; what is odd about the header row is a
    notice in `problems`."""

    def __init__(self, kind: RecordKind, headers: list):
        self.kind = kind
        self.all: list[Column] = []
        self.problems: list[Problem] = []
        index = header_index(kind)
        ignored = {header_key(h) for h in ERROR_COLUMNS}
        seen: dict[str, str] = {}
        used: set[str] = set()
        for position, raw in enumerate(headers):
            header = nfc(raw) if raw is not None else ""
            key = header_key(header)
            if key in ignored:
                self.all.append(Column(position, "", None))  # the error workbook's own columns: not kept
                continue
            if not header:
                header = f"Cột {position + 1}"
                self.all.append(Column(position, header, None))
                used.add(header)
                continue
            field_key = index.get(key)
            if field_key and field_key in seen:
                self.problems.append(
                    Problem(
                        header,
                        header,
                        "duplicate_column",
                        f"Cột “{header}” trùng với cột “{seen[field_key]}”; chỉ dùng cột đầu.",
                        "notice",
                    )
                )
                field_key = None
            elif field_key:
                seen[field_key] = header
            else:
                self.problems.append(
                    Problem(
                        header,
                        header,
                        "unknown_column",
                        f"Cột “{header}” không thuộc mẫu sổ {kind.label.lower()}; "
                        "nội dung vẫn được lưu nguyên văn nhưng không được kiểm tra.",
                        "notice",
                    )
                )
            if header in used:  # a second column of the same title keeps its own text
                header = f"{header} (cột {position + 1})"
            used.add(header)
            self.all.append(Column(position, header, field_key))
        self.by_field = {c.field: c for c in self.all if c.field}
        # The columns read, the year first: dates written with two digits are read against it.
        self.in_file = [c for c in self.all if c.header]
        self.read_order = sorted(self.in_file, key=lambda c: c.field != "year")

    def header_for(self, field_key: str) -> str:
        """The file's header of the field, or the field's label where the file has no such column."""
        column = self.by_field.get(field_key)
        return column.header if column else self.kind.field(field_key).label

"""An `OfficialDocument` as PDF, laid out per Nghị định 30/2020 (Phụ lục I).

Rendered like the one-stop forms (`core.pdf.render_pdf`): a Django
template (`cqs/official_document.html`) printed by WeasyPrint, in
"Times New Roman", which fontconfig resolves to Liberation Serif (same metrics,
Debian package fonts-liberation2). Page numbers are CSS page-margin boxes,
absent on the first page.
"""

from __future__ import annotations

import re

from chinhquyenso.core.official.document import (
    LAYOUT,
    ORDINAL_COLUMNS,
    Bullet,
    Heading,
    OfficialDocument,
    PageBreak,
    Paragraph,
    Table,
)
from chinhquyenso.core.pdf import render_pdf

TEMPLATE = "cqs/official_document.html"
_NUMERIC = re.compile(r"^[\d\s.,%+\-–/()]*\d[\d\s.,%+\-–/()]*$")


def write_pdf(doc: OfficialDocument) -> bytes:
    return render_pdf(TEMPLATE, context(doc))


def context(doc: OfficialDocument) -> dict:
    """What the template prints, as plain strings and lists."""
    ratio = LAYOUT["short_rule_ratio"]
    return {
        "doc": doc,
        "layout": LAYOUT,
        "rule": {"width": f"{ratio * 100:g}%", "half_signature": f"{LAYOUT['signature_space_mm'] / 2:g}"},
        "parent_agency": doc.parent_agency.upper().splitlines(),
        "issuing_agency": doc.issuing_agency.upper().splitlines(),
        "number_symbol": doc.number_symbol,
        "place_date": doc.place_date,
        "doc_type": doc.doc_type.upper(),
        "summary": doc.summary_lines,
        "blocks": [_block(block) for block in doc.body],
        "recipients": [
            line.strip() if line.strip().startswith("-") else f"- {line.strip()}" for line in doc.recipients
        ],
        "signer": doc.signer,
        "appendices": [
            {
                "title": item.title,
                "subtitle": item.subtitle,
                "table": _table(item.table) if item.table is not None else None,
                "note": item.note,
            }
            for item in doc.appendices
        ],
        "reference": doc.reference,
    }


def _table(table: Table) -> dict:
    return {
        "title": table.title,
        "columns": table.columns,
        "widths": [f"{share * 100:.2f}%" for share in table.fractions()],
        "rows": [
            [{"text": str(value), "align": _align(str(value), column)} for value, column in zip(row, table.columns)]
            for row in table.rows
        ],
    }


def _align(value: str, column: str) -> str:
    if column.strip().upper() in ORDINAL_COLUMNS:
        return "center"
    return "numeric" if _NUMERIC.match(value) else ""


def _block(block) -> dict:
    if isinstance(block, Heading):
        return {"kind": "heading", "text": block.text, "level": block.level}
    if isinstance(block, Paragraph):
        return {"kind": "paragraph", "text": block.text}
    if isinstance(block, Bullet):
        return {"kind": "paragraph", "text": block.line}
    if isinstance(block, Table):
        return {"kind": "table", **_table(block)}
    if isinstance(block, PageBreak):
        return {"kind": "page_break"}
    raise TypeError(block)

"""An `OfficialDocument` as a Word file laid out per Nghị định 30/2020 (Phụ lục I).

Every run and every style used carries the font "Times New Roman" for all four
script slots (ascii, hAnsi, eastAsia, cs) and the document defaults drop the
theme fonts, so Word never substitutes Calibri or an East-Asian font for
Vietnamese letters. Formatting is set on each paragraph, not left to styles, so
the file looks the same in Word, LibreOffice and WPS.
"""

from __future__ import annotations

import glob
import io
import re
import unicodedata
from functools import lru_cache

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

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

FONT = "Times New Roman"
TEXT_WIDTH_MM = LAYOUT["page_width_mm"] - LAYOUT["margin_left_mm"] - LAYOUT["margin_right_mm"]
_NUMERIC = re.compile(r"^[\d\s.,%+\-–/()]*\d[\d\s.,%+\-–/()]*$")
# Word refuses a file whose property elements are out of the schema's order, so
# elements added by hand go before the ones the schema puts after them.
_AFTER_TBLCELLMAR = ("w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
_AFTER_TBLBORDERS = ("w:shd", "w:tblLayout", "w:tblCellMar", *_AFTER_TBLCELLMAR)
_AFTER_PBDR = (
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


def write_docx(doc: OfficialDocument) -> bytes:
    word = Document()
    _set_defaults(word)
    _set_page(word)
    _header(word, doc)
    _title(word, doc)
    for block in doc.body:
        _block(word, block)
    _closing(word, doc)
    for _number, appendix in enumerate(doc.appendices, start=1):
        title = _centered(word, appendix.title, LAYOUT["title_pt"], bold=True, before=0)
        title.paragraph_format.page_break_before = True  # each appendix starts on a new page
        if appendix.subtitle:
            _centered(word, appendix.subtitle, LAYOUT["title_pt"], bold=True, before=0)
        _centered(word, doc.reference, LAYOUT["table_pt"] + 1, italic=True, before=0, after=6)
        if appendix.table is not None:
            _table(word, appendix.table)
        if appendix.note:
            _body_paragraph(word, appendix.note)
    word.core_properties.title = " ".join([doc.doc_type, *doc.summary_lines]).strip()
    word.core_properties.author = doc.issuing_agency
    word.core_properties.language = "vi-VN"
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- fonts and page


def _font_element(rpr) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)  # a theme font would win over the named one
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT)


def _set_defaults(word) -> None:
    styles = word.styles.element
    rpr_default = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _font_element(rpr_default)
    lang = rpr_default.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr_default.append(lang)
    lang.set(qn("w:val"), "vi-VN")
    # The template's default paragraph (10 pt after, 1,15 lines) would reach paragraphs added by a user.
    spacing = styles.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    if spacing is not None:
        for key, value in (("w:after", "0"), ("w:line", "240"), ("w:lineRule", "auto")):
            spacing.set(qn(key), value)
    normal = word.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(LAYOUT["body_pt"])
    _font_element(normal.element.get_or_add_rPr())
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)
    for style_name in ("Header", "Footer"):
        style = word.styles[style_name]
        style.font.name = FONT
        _font_element(style.element.get_or_add_rPr())


def _set_page(word) -> None:
    section = word.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(LAYOUT["page_width_mm"]), Mm(LAYOUT["page_height_mm"])
    section.top_margin, section.bottom_margin = Mm(LAYOUT["margin_top_mm"]), Mm(LAYOUT["margin_bottom_mm"])
    section.left_margin, section.right_margin = Mm(LAYOUT["margin_left_mm"]), Mm(LAYOUT["margin_right_mm"])
    section.header_distance = section.footer_distance = Mm(10)
    # Page numbers from page 2 on, centred in the top margin; page 1 has its own, empty header.
    section.different_first_page_header_footer = True
    first = section.first_page_header.paragraphs[0]
    _format(first, align=WD_ALIGN_PARAGRAPH.CENTER)
    number = section.header.paragraphs[0]
    _format(number, align=WD_ALIGN_PARAGRAPH.CENTER)
    _page_field(number)


def _page_field(paragraph) -> None:
    def run_with(element=None, text=None):
        run = paragraph.add_run(text)
        _run_font(run, LAYOUT["page_number_pt"])
        if element is not None:
            run._r.append(element)

    begin, separate, end = (OxmlElement("w:fldChar") for _ in range(3))
    begin.set(qn("w:fldCharType"), "begin")
    separate.set(qn("w:fldCharType"), "separate")
    end.set(qn("w:fldCharType"), "end")
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = " PAGE "
    run_with(begin)
    run_with(instruction)
    run_with(separate)
    run_with(text="2")  # shown until the reader updates fields
    run_with(end)


def _run_font(run, size: float, *, bold: bool = False, italic: bool = False) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic
    _font_element(run._r.get_or_add_rPr())


def _format(
    paragraph,
    *,
    align=WD_ALIGN_PARAGRAPH.CENTER,
    before: float = 0,
    after: float = 0,
    spacing: float = 1.0,
    indent: bool = False,
) -> None:
    fmt = paragraph.paragraph_format
    fmt.alignment = align
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.line_spacing = spacing
    fmt.first_line_indent = Cm(LAYOUT["first_line_indent_cm"]) if indent else Cm(0)


def _add(container, text: str, size: float, *, bold=False, italic=False, **fmt):
    paragraph = container.add_paragraph()
    _format(paragraph, **fmt)
    for position, line in enumerate(text.split("\n")):
        if position:
            brk = paragraph.add_run()
            _run_font(brk, size, bold=bold, italic=italic)
            brk.add_break()
        run = paragraph.add_run(line)
        _run_font(run, size, bold=bold, italic=italic)
    return paragraph


def _centered(container, text: str, size: float, *, bold=False, italic=False, before=0, after=0):
    return _add(container, text, size, bold=bold, italic=italic, before=before, after=after)


# ---------------------------------------------------------------- rules (short horizontal lines)


@lru_cache(maxsize=4)
def _metrics(bold: bool):
    """Advance widths of Liberation Serif (Times New Roman's metrics), or None when not installed."""
    style = "Bold" if bold else "Regular"
    paths = glob.glob(f"/usr/share/fonts/**/LiberationSerif-{style}.ttf", recursive=True)
    if not paths:
        return None
    from fontTools.ttLib import TTFont

    font = TTFont(paths[0], lazy=True)
    cmap, advances = font.getBestCmap(), font["hmtx"].metrics
    return {code: advances[name][0] for code, name in cmap.items()}, font["head"].unitsPerEm


def text_width_mm(text: str, size: float, bold: bool = False) -> float:
    """Printed width of one line; an average of half an em a letter without the font files."""
    text = unicodedata.normalize("NFC", text)
    metrics = _metrics(bold)
    if metrics is None:
        return len(text) * size * (0.62 if bold else 0.5) * 25.4 / 72
    advances, units = metrics
    return sum(advances.get(ord(char), units // 2) for char in text) / units * size * 25.4 / 72


def _rule(cell, width_mm: float, cell_mm: float) -> None:
    """A centred line `width_mm` long: the bottom border of an empty, 2 pt high paragraph
    whose indents leave exactly that width."""
    paragraph = cell.add_paragraph()
    side = max(0.0, (cell_mm - width_mm) / 2)
    fmt = paragraph.paragraph_format
    fmt.left_indent = fmt.right_indent = Mm(side)
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(2)
    fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().insert_element_before(borders, *_AFTER_PBDR)


# ---------------------------------------------------------------- tables


def _borders(table, visible: bool) -> None:
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:val"), "single" if visible else "nil")
        if visible:
            element.set(qn("w:sz"), "4")
            element.set(qn("w:space"), "0")
            element.set(qn("w:color"), "000000")
        borders.append(element)
    properties.insert_element_before(borders, *_AFTER_TBLBORDERS)


def _fixed_widths(table, widths_mm: list[float], *, padding_mm: float | None = None) -> None:
    table.autofit = False  # python-docx writes <w:tblLayout w:type="fixed"/>
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    properties = table._tbl.tblPr
    if padding_mm is not None:
        margins = OxmlElement("w:tblCellMar")
        for side in ("left", "right"):
            element = OxmlElement(f"w:{side}")
            element.set(qn("w:w"), str(round(padding_mm * 56.7)))
            element.set(qn("w:type"), "dxa")
            margins.append(element)
        properties.insert_element_before(margins, *_AFTER_TBLCELLMAR)
    for column, width in zip(table.columns, widths_mm):
        column.width = Mm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm):
            cell.width = Mm(width)


def _layout_table(word, widths_mm: list[float]):
    """A borderless table without cell padding, for the header and the closing."""
    table = word.add_table(rows=1, cols=len(widths_mm))
    _borders(table, visible=False)
    _fixed_widths(table, widths_mm, padding_mm=0)
    for cell in table.rows[0].cells:
        cell._tc.remove(cell.paragraphs[0]._p)  # cells are filled with add_paragraph
    return table.rows[0].cells


def _table(word, table: Table) -> None:
    if table.title:
        _centered(word, table.title, LAYOUT["table_title_pt"], bold=True, before=6, after=6)
    grid = word.add_table(rows=1 + len(table.rows), cols=len(table.columns))
    _borders(grid, visible=True)
    widths = [TEXT_WIDTH_MM * share for share in table.fractions()]
    _fixed_widths(grid, widths)
    header = grid.rows[0]
    header_properties = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page of a long table
    repeat.set(qn("w:val"), "true")
    header_properties.insert_element_before(
        repeat, "w:tblCellSpacing", "w:jc", "w:hidden", "w:ins", "w:del", "w:trPrChange"
    )
    for cell, text in zip(header.cells, table.columns):
        _cell_text(cell, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    for row, values in zip(grid.rows[1:], table.rows):
        for cell, value, column in zip(row.cells, values, table.columns):
            value = str(value)
            if column.strip().upper() in ORDINAL_COLUMNS:
                align = WD_ALIGN_PARAGRAPH.CENTER
            else:
                align = WD_ALIGN_PARAGRAPH.RIGHT if _NUMERIC.match(value) else WD_ALIGN_PARAGRAPH.LEFT
            _cell_text(cell, value, align=align)
    # A small gap so a following paragraph does not touch the table.
    _add(word, "", LAYOUT["table_pt"], after=0)


def _cell_text(cell, text: str, *, bold=False, align=WD_ALIGN_PARAGRAPH.LEFT) -> None:
    paragraph = cell.paragraphs[0]
    _format(paragraph, align=align, before=2, after=2)
    run = paragraph.add_run(text)
    _run_font(run, LAYOUT["table_pt"], bold=bold)


# ---------------------------------------------------------------- parts of the document


def _header(word, doc: OfficialDocument) -> None:
    left_mm, right_mm = LAYOUT["header_left_mm"], LAYOUT["header_right_mm"]
    left, right = _layout_table(word, [left_mm, right_mm])
    size = LAYOUT["agency_pt"]
    if doc.parent_agency.strip():
        _add(left, doc.parent_agency.upper(), size)
    _add(left, doc.issuing_agency.upper(), size, bold=True)
    widest = max(text_width_mm(line, size, bold=True) for line in doc.issuing_agency.upper().split("\n"))
    _rule(left, min(widest, left_mm) * LAYOUT["short_rule_ratio"], left_mm)
    _add(left, doc.number_symbol, LAYOUT["number_pt"], before=6)

    nation = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    motto = "Độc lập - Tự do - Hạnh phúc"
    _add(right, nation, LAYOUT["nation_pt"], bold=True)
    _add(right, motto, LAYOUT["motto_pt"], bold=True)
    _rule(right, text_width_mm(motto, LAYOUT["motto_pt"], bold=True), right_mm)  # as long as the motto
    _add(right, doc.place_date, LAYOUT["place_date_pt"], italic=True, before=6)


def _title(word, doc: OfficialDocument) -> None:
    size = LAYOUT["title_pt"]
    _centered(word, doc.doc_type.upper(), size, bold=True, before=18)
    lines = doc.summary_lines
    for line in lines:
        _centered(word, line, size, bold=True)
    if lines:
        widest = max(text_width_mm(line, size, bold=True) for line in lines)
        _rule(word, min(widest, TEXT_WIDTH_MM) * LAYOUT["short_rule_ratio"], TEXT_WIDTH_MM)
    _add(word, "", size, after=6)


def _body_paragraph(word, text: str, *, bold=False, italic=False):
    return _add(
        word,
        text,
        LAYOUT["body_pt"],
        bold=bold,
        italic=italic,
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
        after=LAYOUT["paragraph_after_pt"],
        spacing=LAYOUT["line_spacing"],
        indent=True,
    )


def _block(word, block) -> None:
    if isinstance(block, Heading):
        paragraph = _body_paragraph(word, block.text, bold=True, italic=block.level >= 3)
        paragraph.paragraph_format.keep_with_next = True
    elif isinstance(block, Paragraph):
        _body_paragraph(word, block.text)
    elif isinstance(block, Bullet):
        _body_paragraph(word, block.line)
    elif isinstance(block, Table):
        _table(word, block)
    elif isinstance(block, PageBreak):
        paragraph = word.add_paragraph()
        _format(paragraph)
        run = paragraph.add_run()
        _run_font(run, LAYOUT["body_pt"])
        brk = OxmlElement("w:br")
        brk.set(qn("w:type"), "page")
        run._r.append(brk)


def _closing(word, doc: OfficialDocument) -> None:
    """'Nơi nhận:' on the left, the signature on the right, side by side."""
    if not doc.recipients and doc.signer is None:
        return
    left_mm = 80
    left, right = _layout_table(word, [left_mm, TEXT_WIDTH_MM - left_mm])
    if doc.recipients:
        _add(
            left,
            "Nơi nhận:",
            LAYOUT["recipients_label_pt"],
            bold=True,
            italic=True,
            align=WD_ALIGN_PARAGRAPH.LEFT,
            before=6,
        )
        for recipient in doc.recipients:
            text = recipient.strip()
            _add(
                left,
                text if text.startswith("-") else f"- {text}",
                LAYOUT["recipients_pt"],
                align=WD_ALIGN_PARAGRAPH.LEFT,
            )
    else:
        _add(left, "", LAYOUT["recipients_pt"])
    signer = doc.signer
    if signer is None:
        _add(right, "", LAYOUT["signer_pt"])
        return
    size = LAYOUT["signer_pt"]
    first = True
    for line in (signer.authority, signer.position):
        if line.strip():
            _add(right, line.upper(), size, bold=True, before=6 if first else 0)
            first = False
    space = Mm(LAYOUT["signature_space_mm"]).pt
    if signer.note:
        _add(right, signer.note, size, italic=True, before=space / 2)
        _add(right, signer.name, size, bold=True, before=space / 2)
    else:
        _add(right, signer.name, size, bold=True, before=space)

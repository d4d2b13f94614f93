"""The layout of Nghị định 30/2020 (Phụ lục I) in the DOCX and the PDF writers' output."""

import datetime as dt
import io
import logging

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from pypdf import PdfReader

from chinhquyenso.core.official.docx_writer import text_width_mm, write_docx
from chinhquyenso.core.official.pdf_writer import write_pdf
from tests.reports.samples import report, with_page_break

FONT = "Times New Roman"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
LONG = 14  # filler paragraphs: enough for three pages before the appendix


@pytest.fixture(scope="module")
def word():
    return Document(io.BytesIO(write_docx(report(paragraphs=LONG))))


@pytest.fixture(scope="module")
def pdf():
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return PdfReader(io.BytesIO(write_pdf(report(paragraphs=LONG))))


# ---------------------------------------------------------------- DOCX


def all_paragraphs(word):
    """Body paragraphs and those inside tables, in order."""
    found = []

    def walk(container):
        for item in container.iter_inner_content():
            if hasattr(item, "runs"):
                found.append(item)
            else:
                for row in item.rows:
                    for cell in row.cells:
                        walk(cell)

    walk(word)
    return found


def paragraph_with(word, text):
    return next(p for p in all_paragraphs(word) if p.text == text)


def size(paragraph):
    sizes = {run.font.size for run in paragraph.runs if run.text.strip()}
    assert len(sizes) == 1, paragraph.text
    return sizes.pop().pt


def flags(paragraph, name):
    return {getattr(run.font, name) for run in paragraph.runs if run.text.strip()}


def test_docx_page_is_a4_portrait_with_the_decree_margins(word):
    section = word.sections[0]
    assert section.orientation == WD_ORIENT.PORTRAIT
    assert abs(section.page_width - Mm(210)) < Mm(0.5) and abs(section.page_height - Mm(297)) < Mm(0.5)
    for margin, millimetres in (("top", 20), ("bottom", 20), ("left", 30), ("right", 15)):
        assert abs(getattr(section, f"{margin}_margin") - Mm(millimetres)) < Mm(0.1), margin


def test_docx_every_run_and_style_is_times_new_roman(word):
    section = word.sections[0]
    paragraphs = all_paragraphs(word) + section.header.paragraphs + section.first_page_header.paragraphs
    runs = [run for paragraph in paragraphs for run in paragraph.runs]
    assert len(runs) > 50
    for run in runs:
        fonts = run._r.rPr.find(qn("w:rFonts"))
        assert run.font.name == FONT, run.text
        assert {fonts.get(qn(slot)) for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs")} == {FONT}, run.text
    for name in {paragraph.style.name for paragraph in paragraphs} | {"Normal"}:
        assert word.styles[name].font.name == FONT, name
    defaults = word.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = defaults.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == FONT and fonts.get(qn("w:asciiTheme")) is None  # no theme font wins


def test_docx_header_sizes_and_weights(word):
    nation, motto = paragraph_with(word, NATION), paragraph_with(word, MOTTO)
    assert 12 <= size(nation) <= 13 and flags(nation, "bold") == {True}
    assert 13 <= size(motto) <= 14 and flags(motto, "bold") == {True}
    parent, issuer = paragraph_with(word, "UBND TỈNH AN GIANG"), paragraph_with(word, "SỞ KHOA HỌC VÀ CÔNG NGHỆ")
    assert 12 <= size(parent) <= 13 and flags(parent, "bold") == {False}
    assert 12 <= size(issuer) <= 13 and flags(issuer, "bold") == {True}
    number = paragraph_with(word, "Số: 413/BC-SKHCN")
    assert size(number) == 13
    place = paragraph_with(word, "An Giang, ngày 08 tháng 4 năm 2025")
    assert 13 <= size(place) <= 14 and flags(place, "italic") == {True}
    title = paragraph_with(word, "BÁO CÁO")
    assert 13 <= size(title) <= 14 and flags(title, "bold") == {True}
    assert title.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    summary = paragraph_with(word, "Đánh giá mức độ hoàn thiện Chính quyền điện tử tỉnh An Giang")
    assert flags(summary, "bold") == {True} and summary.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER


def test_docx_header_is_a_borderless_two_column_table(word):
    header = word.tables[0]
    assert len(header.columns) == 2
    borders = header._tbl.tblPr.find(qn("w:tblBorders"))
    assert {element.get(qn("w:val")) for element in borders} == {"nil"}
    left, right = header.rows[0].cells
    assert "SỞ KHOA HỌC VÀ CÔNG NGHỆ" in left.text and "Số: 413/BC-SKHCN" in left.text
    assert NATION in right.text and "An Giang, ngày 08 tháng 4 năm 2025" in right.text


def rule_width_mm(paragraph, cell_mm):
    fmt = paragraph.paragraph_format
    return cell_mm - fmt.left_indent.mm - fmt.right_indent.mm


def test_docx_rules_under_the_agency_and_the_motto(word):
    left, right = word.tables[0].rows[0].cells
    ruled = [p for p in right.paragraphs if p._p.pPr is not None and p._p.pPr.find(qn("w:pBdr")) is not None]
    assert len(ruled) == 1  # the motto's rule, as long as the motto
    assert rule_width_mm(ruled[0], 90) == pytest.approx(text_width_mm(MOTTO, 13, bold=True), abs=0.2)
    [agency_rule] = [p for p in left.paragraphs if p._p.pPr is not None and p._p.pPr.find(qn("w:pBdr")) is not None]
    agency = text_width_mm("SỞ KHOA HỌC VÀ CÔNG NGHỆ", 12, bold=True)
    assert agency / 3 <= rule_width_mm(agency_rule, 75) <= agency / 2


def test_docx_body_paragraphs(word):
    body = [p for p in word.paragraphs if p.text.startswith(("Đoạn ", "Sở Khoa học và Công nghệ báo cáo", "- ", "+ "))]
    assert len(body) >= LONG + 3
    for paragraph in body:
        fmt = paragraph.paragraph_format
        assert fmt.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY, paragraph.text
        assert Cm(1) <= fmt.first_line_indent <= Cm(1.27)
        assert 1.15 <= fmt.line_spacing <= 1.5
        assert fmt.space_after >= Pt(6)
        assert size(paragraph) == 14 and flags(paragraph, "bold") == {False}
    heading = paragraph_with(word, "I. KẾT QUẢ ĐẠT ĐƯỢC")
    assert flags(heading, "bold") == {True} and size(heading) == 14


def test_docx_recipients_and_signer(word):
    label = paragraph_with(word, "Nơi nhận:")
    assert size(label) == 12 and flags(label, "bold") == {True} and flags(label, "italic") == {True}
    for line in ("- UBND tỉnh (báo cáo);", "- Lưu: VT, PTCN-CĐS."):
        assert size(paragraph_with(word, line)) == 11
    for line in ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Thanh Hải"):
        paragraph = paragraph_with(word, line)
        assert flags(paragraph, "bold") == {True} and size(paragraph) == 14
    assert flags(paragraph_with(word, "(Đã ký)"), "italic") == {True}
    closing = next(table for table in word.tables if "Nơi nhận:" in table.rows[0].cells[0].text)
    assert "Nguyễn Thanh Hải" in closing.rows[0].cells[1].text  # side by side


def test_docx_page_number_field_from_page_two(word):
    section = word.sections[0]
    assert section.different_first_page_header_footer
    instructions = [node.text.strip() for node in section.header._element.iter(qn("w:instrText"))]
    assert instructions == ["PAGE"]
    assert section.header.paragraphs[0].paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert not list(section.first_page_header._element.iter(qn("w:instrText")))
    assert section.first_page_header.paragraphs[0].text == ""


def test_docx_appendix_table(word):
    title = paragraph_with(word, "Phụ lục 1")
    assert title.paragraph_format.page_break_before
    assert paragraph_with(word, "(Kèm theo Báo cáo số 413/BC-SKHCN ngày 08/4/2025)")
    table = word.tables[-1]
    borders = table._tbl.tblPr.find(qn("w:tblBorders"))
    assert {element.get(qn("w:val")) for element in borders} == {"single"}
    header = table.rows[0]
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    for cell in header.cells:
        assert flags(cell.paragraphs[0], "bold") == {True} and 12 <= size(cell.paragraphs[0]) <= 13
    assert [cell.text for cell in table.rows[1].cells] == ["1", "Văn phòng UBND tỉnh", "11/14", "78,6%"]
    alignments = [cell.paragraphs[0].paragraph_format.alignment for cell in table.rows[1].cells]
    assert alignments == [
        WD_ALIGN_PARAGRAPH.CENTER,
        WD_ALIGN_PARAGRAPH.LEFT,
        WD_ALIGN_PARAGRAPH.RIGHT,
        WD_ALIGN_PARAGRAPH.RIGHT,
    ]  # STT centred, names left, figures right
    assert 12 <= size(table.rows[1].cells[1].paragraphs[0]) <= 13


def test_docx_page_break_block():
    word = Document(io.BytesIO(write_docx(with_page_break())))
    breaks = [node for node in word.element.body.iter(qn("w:br")) if node.get(qn("w:type")) == "page"]
    assert len(breaks) == 1


def test_docx_draft_leaves_number_and_date_blank():
    word = Document(io.BytesIO(write_docx(report(number=None, date=None))))
    text = "\n".join(p.text for p in all_paragraphs(word))
    assert "Số:      /BC-SKHCN" in text
    assert f"An Giang, ngày     tháng     năm {dt.date.today().year}" in text


# ---------------------------------------------------------------- PDF


def pdf_fonts(reader):
    names = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            name = str(font["/BaseFont"]).lstrip("/").split("+")[-1]
            owner = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = owner["/FontDescriptor"].get_object()
            names[name] = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    return names


def test_pdf_pages_are_a4_portrait(pdf):
    assert len(pdf.pages) >= 3
    for page in pdf.pages:
        assert float(page.mediabox.width) == pytest.approx(595.28, abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(841.89, abs=0.5)


def test_pdf_fonts_are_embedded_liberation_serif(pdf):
    fonts = pdf_fonts(pdf)
    assert {"LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic"} <= {
        n.replace("Liberation-Serif", "LiberationSerif") for n in fonts
    }
    for name, embedded in fonts.items():
        assert name.replace("-", "").startswith("LiberationSerif"), name
        assert embedded, name


def test_pdf_page_numbers_from_page_two(pdf):
    """Page 1 has no number; page N > 1 has "N" alone, centred in the top margin."""
    mm = 72 / 25.4
    assert "1" not in [text for _, _, text in text_positions(pdf.pages[0])]
    for number, page in enumerate(pdf.pages[1:], start=2):
        [(x, y)] = [(x, y) for x, y, text in text_positions(page) if text == str(number)]
        assert y > 841.89 - 20 * mm
        middle_of_text = (30 + (210 - 15)) / 2 * mm
        assert x == pytest.approx(middle_of_text, abs=6)  # the glyph's left edge, half a digit off centre


def test_pdf_text(pdf):
    text = "\n".join(page.extract_text() for page in pdf.pages)
    for expected in (
        "BÁO CÁO",
        NATION,
        MOTTO,
        "UBND TỈNH AN GIANG",
        "SỞ KHOA HỌC VÀ CÔNG NGHỆ",
        "Số: 413/BC-SKHCN",
        "An Giang, ngày 08 tháng 4 năm 2025",
        "2.164.505",
        "424.495",
        "83,17%",
        "178/180",
        "98,9%",
        "Nơi nhận:",
        "KT. GIÁM ĐỐC",
        "Nguyễn Thanh Hải",
        "Phụ lục 1",
        "78,6%",
    ):
        assert expected in text, expected


def text_positions(page):
    found = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            found.append((tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5], text.strip()))

    page.extract_text(visitor_text=visit)
    return found


def test_pdf_margins(pdf):
    """Body text starts 30 mm from the left edge; nothing but the page number sits in the top 20 mm."""
    mm = 72 / 25.4
    page = pdf.pages[1]
    positions = text_positions(page)
    left = min(x for x, _, text in positions)
    assert left == pytest.approx(30 * mm, abs=1)
    in_top_margin = [text for _, y, text in positions if y > 841.89 - 20 * mm]
    assert in_top_margin == ["2"]
    assert min(y for _, y, _ in positions) > 20 * mm


def test_pdf_appendix_starts_a_new_page(pdf):
    pages = [page.extract_text() for page in pdf.pages]
    [appendix] = [number for number, text in enumerate(pages) if "Phụ lục 1" in text]
    assert "Nơi nhận:" not in pages[appendix]
    assert "(Kèm theo Báo cáo số 413/BC-SKHCN ngày 08/4/2025)" in pages[appendix]


def test_pdf_draft_keeps_the_blanks():
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(write_pdf(report(paragraphs=1, number=None, date=None))))
    text = reader.pages[0].extract_text()
    assert "/BC-SKHCN" in text and "Số: 413" not in text
    assert f"năm {dt.date.today().year}" in text and "ngày 08" not in text


PPR_ORDER = [
    "pStyle",
    "keepNext",
    "keepLines",
    "pageBreakBefore",
    "framePr",
    "widowControl",
    "numPr",
    "suppressLineNumbers",
    "pBdr",
    "shd",
    "tabs",
    "suppressAutoHyphens",
    "kinsoku",
    "wordWrap",
    "overflowPunct",
    "topLinePunct",
    "autoSpaceDE",
    "autoSpaceDN",
    "bidi",
    "adjustRightInd",
    "snapToGrid",
    "spacing",
    "ind",
    "contextualSpacing",
    "mirrorIndents",
    "suppressOverlap",
    "jc",
    "textDirection",
    "textAlignment",
    "textboxTightWrap",
    "outlineLvl",
    "divId",
    "cnfStyle",
    "rPr",
    "sectPr",
    "pPrChange",
]
TBLPR_ORDER = [
    "tblStyle",
    "tblpPr",
    "tblOverlap",
    "bidiVisual",
    "tblStyleRowBandSize",
    "tblStyleColBandSize",
    "tblW",
    "jc",
    "tblCellSpacing",
    "tblInd",
    "tblBorders",
    "shd",
    "tblLayout",
    "tblCellMar",
    "tblLook",
    "tblCaption",
    "tblDescription",
    "tblPrChange",
]


def test_docx_property_elements_follow_the_schema_order(word):
    """Word refuses a file whose paragraph or table properties are out of order."""
    for tag, order in (("w:pPr", PPR_ORDER), ("w:tblPr", TBLPR_ORDER)):
        for properties in word.element.body.iter(qn(tag)):
            names = [child.tag.split("}")[1] for child in properties]
            assert len(names) == len(set(names)), names
            assert names == sorted(names, key=order.index), names

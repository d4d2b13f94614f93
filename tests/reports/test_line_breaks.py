"""Line breaks survive from the officer's textarea to every rendering of a report
(issue 17, item 8): the trích yếu's second line stays a second line, and a narrative
"- A\\n- B\\nC" is bullet A, bullet B, then paragraph C — compared as whole paragraphs."""

import html as html_module
import io
import re
from html.parser import HTMLParser

import docx
import pytest
from django.template.loader import render_to_string
from django.test import Client

from chinhquyenso.core.official import pdf_writer
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.reports import services
from chinhquyenso.reports.models import Report, ReportTemplate

pytestmark = pytest.mark.django_db

# As a browser posts a textarea: \r\n line ends, stray spaces and a trailing blank line.
TYPED = "-  Hạ tầng mạng\u00a0còn yếu.  \r\n- Thiếu nhân lực.\r\n\r\n\r\nCần bổ sung kinh phí.\r\n"
SAVED = "- Hạ tầng mạng còn yếu.\n- Thiếu nhân lực.\n\nCần bổ sung kinh phí."
TITLE = ["Kết quả chuyển đổi số 9 tháng đầu năm 2025", "trên địa bàn tỉnh An Giang"]
BODY = ["I. TỒN TẠI, HẠN CHẾ", "- Hạ tầng mạng còn yếu.", "- Thiếu nhân lực.", "Cần bổ sung kinh phí.", "II. KIẾN NGHỊ"]


@pytest.fixture
def report(templates, officers):
    template = ReportTemplate.objects.create(
        code="ngat-dong",
        name="Báo cáo thử ngắt dòng",
        period_kind="9m",
        parent_agency="UBND TỈNH AN GIANG",
        issuing_agency="SỞ TƯ PHÁP",
        issuer=templates["cds-quy"].issuer,
        symbol="BC-STP",
        summary="Kết quả chuyển đổi số {{ period.label }}\r\ntrên địa bàn tỉnh An Giang",
        body=[
            {"type": "heading", "level": 1, "text": "I. TỒN TẠI, HẠN CHẾ"},
            {"type": "narrative", "key": "ton-tai", "label": "Tồn tại, hạn chế"},
            {"type": "heading", "level": 1, "text": "II. KIẾN NGHỊ"},
        ],
    )
    specialist = officers["tu_phap"]["specialist"]
    return services.create_draft(actor=specialist, template=template, period=parse_period("2025-9M"))


class Blocks(HTMLParser):
    """The text of each paragraph-like element (<br> kept as "\\n") inside `root`."""

    BLOCKS = {"p", "h1", "h2", "h3", "h4", "li"}
    CLASSES = {"doc-type", "summary"}
    VOID = {"br", "img", "input", "meta", "link", "hr"}

    def __init__(self, root: str):
        super().__init__()
        self.root, self.inside, self.stack, self.texts, self.current = root, 0, [], [], None

    def handle_starttag(self, tag, attrs):
        if tag == "br" and self.current is not None:
            self.current.append("\n")
        if tag in self.VOID:
            return
        self.inside += tag == self.root
        classes = set((dict(attrs).get("class") or "").split())
        opens = self.inside and self.current is None and (tag in self.BLOCKS or classes & self.CLASSES)
        self.stack.append(bool(opens))
        if opens:
            self.current = []

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self.stack.pop() and self.current is not None:
            self.texts.append(" ".join("".join(self.current).split(" ")).strip(" "))
            self.current = None
        self.inside -= tag == self.root

    def handle_data(self, data):
        if self.current is not None:
            self.current.append(" ".join(data.split()))


def blocks(html: str, root: str) -> list[str]:
    parser = Blocks(root)
    parser.feed(html)
    return parser.texts


def test_saved_narrative_keeps_its_lines(report, officers):
    services.save_narratives(report, actor=officers["tu_phap"]["specialist"], narratives={"ton-tai": TYPED})
    assert Report.objects.get(pk=report.pk).narratives["ton-tai"] == SAVED


def test_docx_has_the_title_lines_and_one_paragraph_per_narrative_line(report, officers):
    services.save_narratives(report, actor=officers["tu_phap"]["specialist"], narratives={"ton-tai": TYPED})
    data = services.render(services.draft_document(Report.objects.get(pk=report.pk)), "docx")
    paragraphs = [p.text for p in docx.Document(io.BytesIO(data)).paragraphs if p.text.strip()]
    assert paragraphs == ["BÁO CÁO", *TITLE, *BODY]


def test_pdf_html_has_the_title_lines_and_one_paragraph_per_narrative_line(report, officers):
    services.save_narratives(report, actor=officers["tu_phap"]["specialist"], narratives={"ton-tai": TYPED})
    document = services.draft_document(Report.objects.get(pk=report.pk))
    html = render_to_string(pdf_writer.TEMPLATE, pdf_writer.context(document))
    assert blocks(html, "body") == ["BÁO CÁO", "\n".join(TITLE), *BODY]


def test_report_page_round_trips_the_textarea_and_previews_each_line(report, officers):
    client = Client()
    client.force_login(officers["tu_phap"]["specialist"])
    client.post(f"/can-bo/bao-cao/{report.pk}/sua/", {"ton-tai": TYPED})
    page = client.get(f"/can-bo/bao-cao/{report.pk}/").content.decode()
    assert blocks(page, "article") == ["BÁO CÁO", *TITLE, *BODY]
    textarea = re.search(r'<textarea id="n-ton-tai"[^>]*>(.*?)</textarea>', page, re.S)
    assert html_module.unescape(textarea.group(1)) == SAVED  # what the officer sees to edit next time


def test_a_paragraph_with_a_line_break_keeps_it_in_every_rendering(report):
    template = report.template
    template.body = [{"type": "paragraph", "text": "Dòng một;\ndòng hai."}]
    template.save()
    document = services.draft_document(Report.objects.get(pk=report.pk))
    html = render_to_string(pdf_writer.TEMPLATE, pdf_writer.context(document))
    assert blocks(html, "body")[-1] == "Dòng một;\ndòng hai."
    data = services.render(document, "docx")
    assert [p.text for p in docx.Document(io.BytesIO(data)).paragraphs if p.text.strip()][-1] == "Dòng một;\ndòng hai."

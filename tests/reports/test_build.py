"""Reports built from templates and live figures; drafts, edits, issuing."""

import datetime as dt
import io

import docx
import pytest
from pypdf import PdfReader

from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.reports import services
from chinhquyenso.reports.models import Report

pytestmark = pytest.mark.django_db


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_quarterly_report_prints_the_figures_in_vietnamese_format(templates):
    data = services.build("cds-quy", "2025-Q1", fmt="docx")
    text = docx_text(data)
    assert "Kết quả thực hiện chuyển đổi số quý I năm 2025" in text
    assert "tiếp nhận 6 hồ sơ quý I năm 2025, trong đó 3 hồ sơ trực tuyến, 2 hồ sơ trực tiếp và 1 hồ sơ" in text
    assert "Tỷ lệ hồ sơ trực tuyến trên tổng số hồ sơ tiếp nhận đạt 50,0% (3/6 hồ sơ)" in text
    assert "tính trên hồ sơ của thủ tục có cung cấp dịch vụ công trực tuyến đạt 60,0% (3/5 hồ sơ)" in text
    assert "Bộ chỉ số phục vụ người dân, doanh nghiệp (QĐ 766/QĐ-TTg) quý I năm 2025" in text
    pdf = pdf_text(services.build("cds-quy", "2025-Q1", fmt="pdf"))
    assert "đạt 50,0%" in pdf and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in pdf


def test_monthly_egov_report_states_each_level_share(templates):
    text = docx_text(services.build("cqdt-thang", "2025-M03", fmt="docx"))
    assert "Đánh giá mức độ hoàn thiện Chính quyền điện tử tỉnh An Giang" in text
    assert "tổng số cơ quan cấp tỉnh hoàn thiện Chính quyền điện tử là 0/3 cơ quan, tỷ lệ 0,0%" in text


def test_draft_edit_issue_freezes_number_figures_and_files(templates, officers, quarter):
    template = templates["cds-9-thang"]
    specialist, leader = officers["tu_phap"]["specialist"], officers["tu_phap"]["leader"]
    report = services.create_draft(actor=specialist, template=template, period=parse_period("2025-9M"))
    services.save_narratives(
        report, actor=specialist, narratives={"ton-tai": "- Tỷ lệ trễ hạn còn cao.\nCần khắc phục."}
    )
    with pytest.raises(DomainError):
        services.save_narratives(report, actor=specialist, narratives={"khong-co": "x"})
    with pytest.raises(PermissionDenied):
        services.issue(report, actor=specialist)  # only a leader issues
    with pytest.raises(PermissionDenied):
        services.create_draft(actor=officers["xa_b"]["leader"], template=template, period=parse_period("2025-9M"))
    issued = services.issue(report, actor=leader, on=dt.date(2025, 10, 8))
    assert (issued.number, issued.status) == (1, Report.Status.ISSUED)
    text = docx_text(issued.docx.file.read())
    assert "Số: 01/BC-BCĐ" in text and "An Giang, ngày 08 tháng 10 năm 2025" in text
    assert "- Tỷ lệ trễ hạn còn cao." in text and "Cần khắc phục." in text
    assert "tiếp nhận 6 hồ sơ 9 tháng đầu năm 2025" in text
    assert issued.snapshot["indicators"]["received"]["numerator"] == 6
    # later dossiers do not change an issued report
    from chinhquyenso.dossiers.models import Dossier

    Dossier.objects.filter(pk=quarter["dossiers"][1].pk).update(channel="counter")
    assert services.draft_document(Report.objects.get(pk=issued.pk)).number == 1
    with pytest.raises(DomainError):
        services.save_narratives(issued, actor=leader, narratives={"ton-tai": "x"})
    second = services.issue(
        services.create_draft(actor=leader, template=template, period=parse_period("2025-9M")),
        actor=leader,
        on=dt.date(2025, 10, 9),
    )
    assert second.number == 2  # numbers run per symbol and year


def test_unknown_template_and_period_are_named(templates):
    with pytest.raises(DomainError, match="Không có mẫu báo cáo «khong-co»"):
        services.build("khong-co", "2025-Q1")
    with pytest.raises(DomainError) as error:
        services.build("cds-quy", "2025-Q9")
    assert error.value.field == "period"


def test_cli_build_writes_docx_and_pdf(templates, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = tmp_path / "bao-cao.docx"
    call_command("report", "build", "cds-9-thang", "--period", "2025-9M", "--format", "docx", "--out", str(out))
    assert "9 tháng đầu năm 2025" in docx_text(out.read_bytes())
    pdf = tmp_path / "bao-cao.pdf"
    call_command("report", "build", "cds-9-thang", "--period", "2025-9M", "--format", "pdf", "--out", str(pdf))
    assert "PHỤ LỤC" in pdf_text(pdf.read_bytes())
    with pytest.raises(CommandError, match="Không có mẫu báo cáo"):
        call_command("report", "build", "khong-co", "--period", "2025-9M", "--out", str(out))

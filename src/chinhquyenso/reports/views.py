"""Officers' report pages: pick a template and period, review the figures,
write the narrative parts, download drafts, issue (leaders)."""

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.official.document import Bullet, Heading, PageBreak, Paragraph, Table
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.reports import selectors, services

CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def _report(request, pk):
    return selectors.get_report(request.user, pk)  # NotFound: the 404 page (core.middleware)


@officer_required
def index(request):
    templates = selectors.writable_templates(request.user)
    errors = {}
    values = {name: request.POST.get(name, "").strip() for name in ("ky", "mau", "co_quan")}
    if request.method == "POST":
        template = templates.filter(code=values["mau"]).first()
        if template is None:
            errors["mau"] = "Chọn mẫu báo cáo."
        try:
            period = parse_period(values["ky"])
        except DomainError as error:
            errors["ky"] = error.message
        try:
            agency = services.agency_by_code(values["co_quan"])
        except DomainError as error:
            errors["co_quan"] = error.message
        if not errors:
            try:
                report = services.create_draft(actor=request.user, template=template, period=period, agency=agency)
            except DomainError as error:
                errors["mau"] = error.message
            else:
                return redirect("reports:detail", pk=report.pk)
    return render(
        request,
        "reports/index.html",
        {
            "templates": templates,
            "reports": selectors.visible_reports(request.user)[:100],
            "errors": errors,
            "values": values,
        },
        status=400 if errors else 200,
    )


def _preview(document) -> list[dict]:
    """The document's body as simple parts for the HTML preview."""
    parts = []
    for block in document.body:
        if isinstance(block, Heading):
            parts.append({"kind": "heading", "level": block.level, "text": block.text})
        elif isinstance(block, Paragraph):
            parts.append({"kind": "paragraph", "text": block.text})
        elif isinstance(block, Bullet):
            parts.append({"kind": "paragraph", "text": block.line})
        elif isinstance(block, Table):
            parts.append({"kind": "table", "table": block})
        elif isinstance(block, PageBreak):
            continue
    return parts


@officer_required
def detail(request, pk):
    report = _report(request, pk)
    document = services.draft_document(report)
    narratives = [
        {**block, "value": report.narratives.get(block["key"], "")}
        for block in services.narrative_blocks(report.template)
    ]
    return render(
        request,
        "reports/detail.html",
        {
            "report": report,
            "document": document,
            "parts": _preview(document),
            "narratives": narratives,
            "can_write": services.can_write(request.user, report.template) and not report.is_issued,
            "can_issue": services.can_issue(request.user, report.template) and not report.is_issued,
            "today": dt.date.today(),
        },
    )


@officer_required
@require_POST
def edit(request, pk):
    report = _report(request, pk)
    keys = [block["key"] for block in services.narrative_blocks(report.template)]
    try:
        services.save_narratives(report, actor=request.user, narratives={k: request.POST.get(k, "") for k in keys})
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Đã lưu nội dung dự thảo.")
    return redirect("reports:detail", pk=report.pk)


@officer_required
@require_POST
def issue(request, pk):
    report = _report(request, pk)
    try:
        services.issue(report, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Đã ban hành báo cáo; số liệu và tệp được lưu nguyên trạng.")
    return redirect("reports:detail", pk=report.pk)


@officer_required
def download(request, pk, fmt):
    report = _report(request, pk)
    if fmt not in CONTENT_TYPES:
        raise Http404()
    if report.is_issued:
        stored = report.docx if fmt == "docx" else report.pdf
        data = stored.file.open("rb").read()
        name = f"{report.number}-{report.template.symbol}.{fmt}"
    else:
        data = services.render(services.draft_document(report), fmt)
        name = f"du-thao-{report.template.code}-{report.period_code}.{fmt}"
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'{"inline" if fmt == "pdf" else "attachment"}; filename="{name}"'
    return response

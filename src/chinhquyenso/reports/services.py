"""Building reports from templates and live figures; drafts, narrative edits
and issuing (number, date, frozen snapshot and files)."""

import datetime as dt
import json
from pathlib import Path

from django.db import transaction
from django.template import Context, Engine, TemplateSyntaxError
from django.utils import timezone

from chinhquyenso.accounts.access import refuse_read_only
from chinhquyenso.accounts.models import GlobalRole, Membership, Role
from chinhquyenso.accounts.selectors import agency_ids
from chinhquyenso.core import audit, codes, workflow
from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.official.document import (
    Appendix,
    Bullet,
    Heading,
    OfficialDocument,
    PageBreak,
    Paragraph,
    Signer,
    Table,
)
from chinhquyenso.core.text import format_number, nfc_lines
from chinhquyenso.core.uploads import store_generated
from chinhquyenso.indicators import assessments
from chinhquyenso.indicators.periods import Period, parse_period
from chinhquyenso.indicators.selectors import NO_DATA, PROVINCE, compute, find_unit
from chinhquyenso.org.models import Agency
from chinhquyenso.reports.models import Report, ReportTemplate

DEFAULT_TEMPLATES = Path(__file__).parent / "data" / "templates.json"
# Texts in templates are Django template strings rendered to plain text (the
# writers escape for their formats), with the project's Vietnamese filters.
ENGINE = Engine(builtins=["chinhquyenso.core.templatetags.cqs"], autoescape=False)

# ------------------------------------------------------------------ snapshot


# Drafts and issuing: read-only accounts refused, the report's row locked, the audit chain is its history.
REPORT = workflow.Workflow(
    Report,
    noun="báo cáo",
    audit_prefix="report",
    snapshot=lambda report: {"status": report.status, "number": report.number, "issued_on": report.issued_on},
    agency_of=lambda report: report.agency_id,
    guard=refuse_read_only,
    select_related=("template",),
)


def take_snapshot(period: Period, agency: Agency | None = None) -> dict:
    """Every figure a report may print, as plain data: what an issued report
    keeps so it can be read (and re-rendered) exactly as issued."""
    computation = compute(period)
    unit_id = PROVINCE
    if agency is not None:
        unit = find_unit(computation, agency.code)
        if unit is None:
            raise DomainError(f"Cơ quan {agency.name} không hoạt động trong kỳ {period.label}.", field="agency")
        unit_id = unit.id
    egov = assessments.egov_completion(computation)
    return {
        "period": {
            "code": period.code,
            "label": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        "agency": {"code": agency.code, "name": agency.name} if agency else None,
        "computed_at": timezone.now().isoformat(),
        "indicators": {i.code: computation.values[unit_id][i.code].as_dict() for i in computation.indicators},
        "index766": assessments.index766_dict(assessments.index766(computation, unit_id), period),
        "egov": {
            # the month assessed (assessments.assessed_period): "Tính đến tháng 9 năm 2026, …"
            "period": {"code": egov.period.code, "label": egov.period.label} if egov.period else None,
            "rate": egov.rate.as_dict(),
            "levels": [
                {
                    "label": level.label,
                    "noun": level.noun,
                    "complete": level.complete,
                    "assessed": len(level.agencies),
                    "rate": level.rate.as_dict(),
                }
                for level in egov.levels
            ],
            "agencies": [
                {
                    "name": a.unit.name,
                    "level": a.unit.level,
                    "complete": a.complete,
                    "criteria": [
                        {
                            "name": r.criterion.name,
                            "meets": r.meets,
                            "gap": r.gap,
                            "display": r.value.display if r.value else "—",
                        }
                        for r in a.results
                    ],
                }
                for a in egov.agencies
            ],
            "criteria": [c.name for c in egov.criteria],
        },
        "targets_year": period.end.year,
        "targets": [
            {
                "name": r.target.indicator.name,
                "plan": r.plan_display,
                "achieved": r.achieved.display if r.achieved else "—",
                "status": r.status,
            }
            for r in assessments.target_results(computation, period.end.year)
        ],
    }


class Figure(dict):
    """An indicator in a template: {{ v.online_rate_all }} prints its display
    ("41,5%"); .numerator, .denominator, .value are there too."""

    def __str__(self):
        return self.get("display", "—")

    @property
    def reached(self) -> str:
        """The figure after its subject, in running text: "đạt 41,5%";
        "không có số liệu" when every dossier lacked an input, and the
        dossiers left out named beside a value ("đạt 41,5% (3 hồ sơ thiếu dữ
        liệu, không tính)") — never "đạt không có số liệu"."""
        missing = self.get("missing") or 0
        if self.get("value") is None:
            return NO_DATA if missing else "đạt —"
        text = f"đạt {self}"
        if missing:
            text += f" ({format_number(missing, 0)} hồ sơ thiếu dữ liệu, không tính)"
        return text

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _context(snapshot: dict, template: ReportTemplate) -> dict:
    return {
        "period": snapshot["period"],
        "agency": snapshot["agency"],
        "v": {code: Figure(value) for code, value in snapshot["indicators"].items()},
        "egov": snapshot["egov"],
        "index766": snapshot["index766"],
        "targets": snapshot["targets"],
        "targets_missing": missing_targets_text(snapshot) if not snapshot["targets"] else "",
        "template": {"name": template.name},
    }


def _render(text: str, context: dict, where: str) -> str:
    # nfc_lines, not nfc: a "\n" the template writes (the trích yếu's second line) is kept.
    try:
        return nfc_lines(ENGINE.from_string(text).render(Context(context)))
    except TemplateSyntaxError as error:
        raise DomainError(f"Mẫu báo cáo, {where}: {error}", field="template") from None


# ------------------------------------------------------------------ tables


def missing_targets_text(snapshot: dict) -> str:
    """What a report says where the year has no DX targets (none entered for
    the plan period the year belongs to), instead of an empty table."""
    year = snapshot.get("targets_year") or dt.date.fromisoformat(snapshot["period"]["end"]).year
    return (
        f"Chưa có chỉ tiêu kế hoạch chuyển đổi số cho năm {year}: sổ đăng ký chỉ tiêu chưa có chỉ tiêu "
        f"của kế hoạch giai đoạn có năm {year}, nên chưa đánh giá được kết quả thực hiện mục tiêu."
    )


def _note(source: str, snapshot: dict) -> str:
    """Said instead of a table that has nothing to list."""
    if source == "targets":
        return missing_targets_text(snapshot)
    return "Không có số liệu."


def _table(source: str, snapshot: dict, title: str = "") -> Table | None:
    """Tables the templates can name by source; None when there is nothing
    to list (the report then says why, _note)."""
    if source == "targets":
        if not snapshot["targets"]:
            return None
        rows = [
            [str(n), t["name"], t["plan"], t["achieved"], t["status"]] for n, t in enumerate(snapshot["targets"], 1)
        ]
        return Table(title, ["TT", "Mục tiêu", "Kế hoạch", "Thực hiện", "Đánh giá"], rows, [1, 9, 3, 3, 3])
    if source == "egov":
        criteria = snapshot["egov"]["criteria"]
        rows = []
        for n, agency in enumerate(snapshot["egov"]["agencies"], 1):
            cells = [("Đạt" if c["meets"] else f"Chưa đạt ({c['gap']})") for c in agency["criteria"]]
            cells += [""] * (len(criteria) - len(cells))
            rows.append([str(n), agency["name"], *cells, "Hoàn thiện" if agency["complete"] else "Chưa hoàn thiện"])
        return Table(title, ["TT", "Cơ quan, đơn vị", *criteria, "Kết quả"], rows, [1, 6, *([4] * len(criteria)), 3])
    if source == "index766":
        rows = []
        for group in snapshot["index766"]["groups"]:
            rows.append(["", group["name"], _points(group["max_points"]), _points(group["points"]), ""])
            for rule in group["rules"]:
                data = rule["data"]["display"] if rule["data"] else "—"
                rows.append([rule["code"], rule["name"], _points(rule["max_points"]), _points(rule["points"]), data])
        totals = snapshot["index766"]
        rows.append(["", "Tổng điểm", _points(totals["max_points"]), _points(totals["points"]), ""])
        return Table(title, ["Mã", "Chỉ số", "Điểm tối đa", "Điểm đạt", "Số liệu"], rows, [2, 8, 2, 2, 3])
    if source.startswith("indicators:"):
        rows = []
        for n, code in enumerate(source.split(":", 1)[1].split(","), 1):
            value = snapshot["indicators"].get(code.strip())
            if value is None:
                raise DomainError(f"Mẫu báo cáo: không có chỉ tiêu «{code.strip()}».", field="template")
            rows.append(
                [str(n), value["name"], _number(value["numerator"]), _number(value["denominator"]), value["display"]]
            )
        return Table(title, ["TT", "Chỉ tiêu", "Tử số", "Mẫu số", "Giá trị"], rows, [1, 9, 3, 3, 3])
    raise DomainError(f"Mẫu báo cáo: không có nguồn bảng «{source}».", field="template")


def _points(value) -> str:
    return "—" if value is None else format_number(value, 2)


def _number(value) -> str:
    if value is None:
        return "—"
    return format_number(value, 0 if float(value).is_integer() else 2)


# ------------------------------------------------------------------ document


def narrative_blocks(template: ReportTemplate) -> list[dict]:
    """The parts an officer writes: [{"key", "label", "default"}]."""
    return [block for block in template.body if block.get("type") == "narrative"]


def narrative_parts(text: str) -> list[Bullet | Paragraph]:
    """What an officer typed, line by line: a line starting with "-" or "+"
    is a bullet of that marker, any other line a paragraph; blank lines only
    separate. "- A\\n- B\\nC" is bullet A, bullet B, paragraph C."""
    parts: list[Bullet | Paragraph] = []
    for line in nfc_lines(text).splitlines():
        if line[:1] in ("-", "+"):
            parts.append(Bullet(line[1:].strip(), line[0]))
        elif line:
            parts.append(Paragraph(line))
    return parts


def build_document(
    template: ReportTemplate,
    snapshot: dict,
    *,
    narratives: dict | None = None,
    number=None,
    issued_on: dt.date | None = None,
) -> OfficialDocument:
    context = _context(snapshot, template)
    narratives = narratives or {}
    body = []
    for position, block in enumerate(template.body, start=1):
        kind, where = block.get("type"), f"khối {position}"
        if kind == "heading":
            body.append(Heading(int(block.get("level", 1)), _render(block["text"], context, where)))
        elif kind == "paragraph":
            body.append(Paragraph(_render(block["text"], context, where)))
        elif kind == "bullet":
            body.append(Bullet(_render(block["text"], context, where), block.get("marker", "-")))
        elif kind == "narrative":
            text = narratives.get(block["key"], block.get("default", ""))
            body.extend(narrative_parts(text))
        elif kind == "table":
            table = _table(block["source"], snapshot, _render(block.get("title", ""), context, where))
            body.append(table if table is not None else Paragraph(_note(block["source"], snapshot)))
        elif kind == "page_break":
            body.append(PageBreak())
        else:
            raise DomainError(f"Mẫu báo cáo, {where}: loại khối «{kind}» không có.", field="template")
    appendices = []
    for a in template.appendices:
        table = _table(a["source"], snapshot)
        appendices.append(
            Appendix(
                _render(a["title"], context, "phụ lục"),
                _render(a.get("subtitle", ""), context, "phụ lục"),
                table,
                note="" if table is not None else _note(a["source"], snapshot),
            )
        )
    signer = Signer(**template.signer) if template.signer else None
    return OfficialDocument(
        parent_agency=template.parent_agency,
        issuing_agency=template.issuing_agency,
        symbol=template.symbol,
        place=template.place,
        summary=_render(template.summary, context, "trích yếu"),
        number=number,
        date=issued_on,
        year=dt.date.fromisoformat(snapshot["period"]["end"]).year if issued_on is None else None,
        body=body,
        recipients=recipients_on(template.recipients, issued_on or local_date(timezone.now())),
        signer=signer,
        appendices=appendices,
    )


def recipients_on(lines: list, day: dt.date) -> list[str]:
    """The "Nơi nhận" lines in force on the report's date. A line is text,
    or {"text", "valid_from", "valid_to"} for a recipient that exists only
    for a while (valid_from included, valid_to not, like an agency version):
    "UBND huyện, thị xã, thành phố" until 01/7/2025, when the two-tier local
    government began, "UBND các xã, phường, đặc khu" from then on."""
    out = []
    for line in lines:
        if isinstance(line, str):
            out.append(line)
            continue
        start, end = line.get("valid_from"), line.get("valid_to")
        if start and day < dt.date.fromisoformat(start):
            continue
        if end and day >= dt.date.fromisoformat(end):
            continue
        out.append(line["text"])
    return out


def render(document: OfficialDocument, fmt: str) -> bytes:
    from chinhquyenso.core.official.docx_writer import write_docx
    from chinhquyenso.core.official.pdf_writer import write_pdf

    if fmt == "docx":
        return write_docx(document)
    if fmt == "pdf":
        return write_pdf(document)
    raise DomainError("Định dạng phải là docx hoặc pdf.", field="format")


def build(template_code: str, period_text: str, agency_code: str = "", fmt: str = "pdf") -> bytes:
    """`cqs report build`: a draft from live figures, straight to a file."""
    template = get_template(template_code)
    agency = agency_by_code(agency_code)
    return render(build_document(template, take_snapshot(parse_period(period_text), agency)), fmt)


def get_template(code: str) -> ReportTemplate:
    template = ReportTemplate.objects.filter(code=code, is_active=True).first()
    if template is None:
        known = ", ".join(ReportTemplate.objects.filter(is_active=True).values_list("code", flat=True))
        raise DomainError(f"Không có mẫu báo cáo «{code}». Các mẫu: {known or 'chưa có'}.", field="template")
    return template


def agency_by_code(code: str) -> Agency | None:
    if not code:
        return None
    agency = Agency.objects.filter(code=code).first()
    if agency is None:
        raise DomainError(f"Không có cơ quan mã «{code}».", field="agency")
    return agency


# ------------------------------------------------------------------ workflow


def can_write(user, template: ReportTemplate) -> bool:
    if getattr(user, "global_role", "") == GlobalRole.PROVINCE_ADMIN:
        return True
    return template.issuer_id is not None and template.issuer_id in agency_ids(user)


def can_issue(user, template: ReportTemplate) -> bool:
    if getattr(user, "global_role", "") == GlobalRole.PROVINCE_ADMIN:
        return True
    return Membership.objects.filter(user=user, agency_id=template.issuer_id, role=Role.LEADER).exists()


@transaction.atomic
def create_draft(*, actor, template: ReportTemplate, period: Period, agency: Agency | None = None) -> Report:
    if not can_write(actor, template):
        raise PermissionDenied("Chỉ cán bộ của cơ quan ban hành mới soạn được báo cáo này.")
    narratives = {block["key"]: block.get("default", "") for block in narrative_blocks(template)}
    report = Report.objects.create(
        template=template,
        period_code=period.code,
        period_start=period.start,
        period_end=period.end,
        agency=agency,
        narratives=narratives,
        created_by=actor,
    )
    audit.record(
        actor=actor, action="report.draft", obj=report, after={"template": template.code, "period": period.code}
    )
    return report


@REPORT.action
def save_narratives(report: Report, *, actor, narratives: dict) -> Report:
    report, _ = REPORT.begin(report, actor)
    if report.is_issued:
        raise DomainError("Báo cáo đã ban hành, không sửa được.", field="status")
    if not can_write(actor, report.template):
        raise PermissionDenied()
    keys = {block["key"] for block in narrative_blocks(report.template)}
    unknown = set(narratives) - keys
    if unknown:
        raise DomainError(f"Không có phần «{sorted(unknown)[0]}» trong mẫu báo cáo.", field=sorted(unknown)[0])
    report.narratives = {**report.narratives, **{k: nfc_lines(v) for k, v in narratives.items()}}
    report.save(update_fields=["narratives", "updated_at"])
    audit.record(actor=actor, action="report.edit", obj=report, after={"parts": sorted(narratives)})
    return report


def report_period(report: Report) -> Period:
    return parse_period(report.period_code)


def draft_document(report: Report) -> OfficialDocument:
    """A draft shows today's figures; an issued report its frozen ones."""
    snapshot = report.snapshot if report.is_issued else take_snapshot(report_period(report), report.agency)
    return build_document(
        report.template, snapshot, narratives=report.narratives, number=report.number, issued_on=report.issued_on
    )


@REPORT.action
def issue(report: Report, *, actor, on: dt.date | None = None) -> Report:
    """Freeze: take the number, the date, the figures, and the files."""
    report, _ = REPORT.begin(report, actor)
    if report.is_issued:
        raise DomainError("Báo cáo đã ban hành.", field="status")
    if not can_issue(actor, report.template):
        raise PermissionDenied("Chỉ lãnh đạo cơ quan ban hành mới ban hành được báo cáo.")
    on = on or local_date(timezone.now())
    number = codes.next_number(f"report:{report.template.symbol}:{on.year}")  # Số: 238/BC-STTTT, per symbol and year
    report.snapshot = json.loads(json.dumps(take_snapshot(report_period(report), report.agency)))
    report.number, report.issued_on = number, on
    document = build_document(
        report.template, report.snapshot, narratives=report.narratives, number=report.number, issued_on=on
    )
    name = f"{report.number}-{report.template.symbol}-{on:%Y%m%d}"
    report.docx = store_generated(
        render(document, "docx"),
        extension="docx",
        name=f"{name}.docx",
        user=actor,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    report.pdf = store_generated(
        render(document, "pdf"), content_type="application/pdf", extension="pdf", name=f"{name}.pdf", user=actor
    )
    REPORT.transition(
        report,
        actor=actor,
        action="issue",
        to_status=Report.Status.ISSUED,
        at=timezone.now(),
        changes={"issued_by": actor},
        audit_extra={
            "number": f"{report.number}/{report.template.symbol}",
            "issued_on": on,
            "docx": report.docx.sha256,
            "pdf": report.pdf.sha256,
        },
    )
    return report


def load_templates(path: Path | str = DEFAULT_TEMPLATES, *, actor=None) -> int:
    """Create the templates a file defines that do not exist yet."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    created = 0
    with transaction.atomic():
        for item in data["templates"]:
            issuer = Agency.objects.current().filter(code=item.pop("issuer", "")).first()
            _, new = ReportTemplate.objects.get_or_create(code=item["code"], defaults={**item, "issuer": issuer})
            created += new
        audit.record(
            actor=actor,
            action="report.templates.load",
            object_type="reports.ReportTemplate",
            object_id=Path(path).name,
            after={"created": created},
        )
    return created

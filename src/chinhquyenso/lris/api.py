"""Reported values API (LRIS): an agency's reports, their values, sending
values; reporting rates for the province. Thin over services and selectors."""

import datetime as dt
from decimal import Decimal

from ninja import Query, Router, Schema
from pydantic import Field

from chinhquyenso.accounts.api import AUTH
from chinhquyenso.core.errors import PermissionDenied
from chinhquyenso.core.params import Limit, Offset, RecordId
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.lris import selectors, services
from chinhquyenso.lris.models import ValueChange
from chinhquyenso.lris.validation import Entry

router = Router(auth=AUTH)


class AssignmentOut(Schema):
    id: int
    form_code: str
    form_name: str
    agency_code: str
    agency_name: str
    period_code: str
    period_label: str
    period_start: dt.date
    period_end: dt.date
    deadline: dt.date
    status: str
    status_label: str
    overdue: bool
    late: bool
    first_submitted_at: dt.datetime | None
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    return_reason: str


class ItemOut(Schema):
    code: str
    name: str
    unit: str
    value_type: str
    required: bool
    numerator_label: str
    denominator_label: str
    minimum: Decimal | None
    maximum: Decimal | None
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    raw: str
    display: str


class AssignmentDetailOut(AssignmentOut):
    items: list[ItemOut]


class ValueIn(Schema):
    code: str = Field(max_length=60)
    value: str | int | float | bool | None = Field(
        None, description='Số (71.29) hoặc chuỗi kiểu Việt Nam ("71,29", "2.164.505"); Có/Không: true/false'
    )
    numerator: str | int | float | None = Field(None, description="Tỷ lệ: tử số")
    denominator: str | int | float | None = Field(None, description="Tỷ lệ: mẫu số (> 0)")


class ValuesIn(Schema):
    values: list[ValueIn] = Field(default_factory=list, max_length=500)
    submit: bool = Field(True, description="true: gửi báo cáo (mọi chỉ tiêu bắt buộc phải có); false: lưu nháp")


class MissingOut(Schema):
    agency_code: str
    agency_name: str
    assignment_id: int
    deadline: dt.date
    status: str
    status_label: str


class ComplianceOut(Schema):
    form_code: str
    form_name: str
    period_code: str
    period_label: str
    period_start: dt.date
    period_end: dt.date
    expected: int
    reported: int
    on_time: int
    approved: int
    awaiting_review: int
    returned: int
    reporting_rate: Decimal | None
    on_time_rate: Decimal | None
    reporting_rate_text: str
    on_time_rate_text: str
    missing: list[MissingOut]
    late: list[MissingOut]


def _out(assignment) -> dict:
    submission = selectors.submission_of(assignment)
    state = selectors.state_of(assignment)
    period = assignment.period
    return {
        "id": assignment.pk,
        "form_code": assignment.form.code,
        "form_name": assignment.form.name,
        "agency_code": assignment.agency.code,
        "agency_name": assignment.agency.name,
        "period_code": period.code,
        "period_label": period.label,
        "period_start": assignment.period_start,
        "period_end": assignment.period_end,
        "deadline": assignment.deadline,
        "status": state.key,
        "status_label": state.label,
        "overdue": state.overdue,
        "late": state.late,
        "first_submitted_at": submission.first_submitted_at if submission else None,
        "submitted_at": submission.submitted_at if submission else None,
        "reviewed_at": submission.reviewed_at if submission else None,
        "return_reason": submission.return_reason if submission else "",
    }


def _detail(assignment) -> dict:
    items = []
    for view in selectors.items_with_values(assignment):
        indicator, clean = view.indicator, view.clean
        items.append(
            {
                "code": indicator.code,
                "name": indicator.name,
                "unit": indicator.unit,
                "value_type": indicator.value_type,
                "required": view.item.required,
                "numerator_label": indicator.numerator_label,
                "denominator_label": indicator.denominator_label,
                "minimum": view.low,
                "maximum": view.high,
                "value": clean.value if clean else None,
                "numerator": clean.numerator if clean else None,
                "denominator": clean.denominator if clean else None,
                "raw": clean.raw if clean else "",
                "display": view.shown,
            }
        )
    return {**_out(assignment), "items": items}


@router.get("assignments", response=list[AssignmentOut], summary="Báo cáo được giao cho cơ quan của tôi")
def list_assignments(
    request,
    form: str | None = Query(None, max_length=60),
    period: str | None = Query(None, max_length=40),
    limit: Limit(500) = 100,
    offset: Offset = 0,
):
    query = selectors.visible_assignments(request.auth)
    if form:
        query = query.filter(form__code=form)
    if period:
        found = parse_period(period)
        query = query.filter(period_start=found.start, period_end=found.end)
    return [_out(a) for a in query.order_by("deadline", "id")[offset : offset + limit]]


@router.get("assignments/{assignment_id}", response=AssignmentDetailOut, summary="Một báo cáo được giao và số liệu")
def get_assignment(request, assignment_id: RecordId):
    return _detail(selectors.get_assignment(request.auth, assignment_id))


@router.post("assignments/{assignment_id}/values", response=AssignmentDetailOut, summary="Gửi số liệu (và gửi báo cáo)")
def submit_values(request, assignment_id: RecordId, payload: ValuesIn):
    """Các chỉ tiêu không có trong danh sách giữ nguyên số liệu đã lưu. Lỗi được trả về cùng lúc trong `errors`,
    mỗi lỗi nêu mã chỉ tiêu; khi có lỗi, không số liệu nào được lưu."""
    assignment = selectors.get_assignment(request.auth, assignment_id)
    entries = [
        Entry(code=v.code, value=v.value, numerator=v.numerator, denominator=v.denominator) for v in payload.values
    ]
    services.save_values(
        actor=request.auth, assignment=assignment, entries=entries, why=ValueChange.Why.API, submit=payload.submit
    )
    return _detail(selectors.get_assignment(request.auth, assignment_id))


@router.get("compliance", response=ComplianceOut, summary="Tỷ lệ gửi báo cáo và gửi đúng hạn (tỉnh)")
def compliance(request, form: str = Query(..., max_length=60), period: str = Query(..., max_length=40)):
    if not selectors.sees_compliance(request.auth):
        raise PermissionDenied("Chỉ quản trị tỉnh và kiểm tra, giám sát xem được tình hình nộp báo cáo.")
    found = parse_period(period)
    result = selectors.compliance(selectors.get_form(form), found.start, found.end)
    return {
        **{
            k: getattr(result, k)
            for k in (
                "form_code",
                "form_name",
                "period_code",
                "period_label",
                "period_start",
                "period_end",
                "expected",
                "reported",
                "on_time",
                "approved",
                "awaiting_review",
                "returned",
                "reporting_rate",
                "on_time_rate",
                "reporting_rate_text",
                "on_time_rate_text",
            )
        },
        "missing": [m.__dict__ for m in result.missing],
        "late": [m.__dict__ for m in result.late],
    }

from ninja import Query, Router, Schema
from pydantic import Field

from chinhquyenso.core.errors import NotFound
from chinhquyenso.core.params import Limit
from chinhquyenso.procedures import selectors
from chinhquyenso.procedures.models import ServiceLevel

router = Router()


class ProcedureSummary(Schema):
    code: str
    name: str
    field: str
    service_level: str
    processing_days: int
    amount_due_online: int
    amount_due_counter: int


class ProcedureComponentOut(Schema):
    order: int
    name: str
    originals: int
    copies: int
    mandatory: bool
    reusable_result_type: str


class StepOut(Schema):
    order: int
    name: str
    role: str
    days: float
    agency: str | None


class AgencyRef(Schema):
    code: str
    name: str
    electronic_code: str


class ProcedureDetail(ProcedureSummary):
    levels: list[str]
    fee: int
    charge: int
    online_discount_percent: int
    result_name: str
    result_type: str
    legal_basis: str
    components: list[ProcedureComponentOut]
    steps: list[StepOut]
    agencies: list[AgencyRef]


class ProcedureFormOut(Schema):
    procedure: str
    version: int
    title: str
    published_at: str
    form_schema: dict = Field(..., alias="schema", description="JSON Schema (draft 2020-12) of the values")
    layout: dict = Field(..., description="Sections, field order, labels, help texts, widths, prefill sources")


class SearchParams(Schema):
    q: str = Field("", max_length=200)
    field: str = Field("", max_length=60)
    service_level: ServiceLevel | None = None
    limit: Limit(200) = 50


def summary(p) -> dict:
    return {
        "code": p.code,
        "name": p.name,
        "field": p.field.name,
        "service_level": p.service_level,
        "processing_days": p.processing_days,
        "amount_due_online": p.amount_due(True),
        "amount_due_counter": p.amount_due(False),
    }


@router.get(
    "",
    response=list[ProcedureSummary],
    auth=None,
    summary="Tìm thủ tục, phù hợp nhất trước (không phân biệt dấu, hiểu cách gọi thông dụng)",
)
def search(request, params: Query[SearchParams]):
    return [
        summary(p)
        for p in selectors.ranked_procedures(params.q, params.field, params.service_level or "", params.limit)
    ]


@router.get(
    "/{code}/form",
    response=ProcedureFormOut,
    by_alias=True,
    auth=None,
    summary="Tờ khai điện tử của thủ tục (JSON Schema và bố cục, phiên bản hiện hành)",
)
def form(request, code: str):
    found = selectors.form_by_code(code) if len(code) <= 40 and "\x00" not in code else None
    if found is None:
        raise NotFound("Thủ tục này chưa có tờ khai điện tử.", "code")
    return {
        "procedure": found.procedure.code,
        "version": found.version,
        "title": found.title,
        "published_at": found.created_at.isoformat(),
        "schema": found.schema,
        "layout": found.layout,
    }


@router.get("/{code}", response=ProcedureDetail, auth=None, summary="Chi tiết thủ tục")
def detail(request, code: str):
    from django.utils import timezone

    procedure = selectors.get_procedure(code)
    if procedure is None:
        raise NotFound("Không tìm thấy thủ tục với mã này.", "code")
    return {
        **summary(procedure),
        "levels": procedure.levels,
        "fee": procedure.fee,
        "charge": procedure.charge,
        "online_discount_percent": procedure.online_discount_percent,
        "result_name": procedure.result_name,
        "result_type": procedure.result_type,
        "legal_basis": procedure.legal_basis,
        "components": [
            {
                "order": c.order,
                "name": c.name,
                "originals": c.originals,
                "copies": c.copies,
                "mandatory": c.mandatory,
                "reusable_result_type": c.reusable_result_type,
            }
            for c in procedure.components.all()
        ],
        "steps": [
            {
                "order": s.order,
                "name": s.name,
                "role": s.role,
                "days": float(s.days),
                "agency": s.agency.code if s.agency_id else None,
            }
            for s in procedure.steps.all()
        ],
        "agencies": [
            {"code": a.code, "name": a.name, "electronic_code": a.electronic_code}
            for a in selectors.handling_agencies(procedure, timezone.localdate())
        ],
    }

"""The client side of the interconnected-part protocol (docs/data-bus.md, "Connectors"): one part of
an interconnected application (permanent residence for a newborn, a child's health-insurance card,
the funeral allowance …) handled by another system — the police's residence system, Vietnam Social
Security — reached over the bus.

- `submit_part(...)` queues `POST /requests` (operation `submit`) to the connector through the
  outbox, inside the caller's transaction; the answer (202 `{"request_id", "status": "received"}`)
  reaches `core.registry.BUS_REPLIES[kind]` when the caller registered one. The part is checked
  against the operation's JSON Schema first: a bad part is refused at once with a Vietnamese
  message naming the field (a DomainError), never left to become a dead letter.
- The remote system reports back by calling our bus: `POST /r1/<our lien-thong service>/parts/
  {reference}/status` (operation `part-status`, handled by the dossiers app's handler).
- `part_status(connector, request_id)` asks for the status now (`GET /requests/{request_id}`,
  operation `status`; a synchronous call — never inside a transaction) for parts silent too long.

This module knows no dossier: the caller passes the data, its reference (random, no personal data),
the correlation (a dossier code) and the order key."""

from __future__ import annotations

import json
from functools import lru_cache

import jsonschema

from chinhquyenso.core.errors import DomainError
from chinhquyenso.exchange import connectors
from chinhquyenso.exchange.bus import delivery, gateway, registry
from chinhquyenso.exchange.bus.errors import BusError

# The connectors that speak the part protocol, with the name a person reads.
NAMES = {
    "residence": "Hệ thống quản lý cư trú (Bộ Công an)",
    "social_insurance": "Hệ thống của Bảo hiểm xã hội Việt Nam",
}
OTHER_NAMES = {
    "civil_status": "Cơ sở dữ liệu hộ tịch điện tử (Bộ Tư pháp)",
    "edoc": "Trục liên thông văn bản quốc gia",
}
STATUSES = ("received", "processing", "done", "refused")
FINAL = ("done", "refused")

# The fields of the part protocol as a person names them (messages say which one is wrong).
FIELD_LABELS = {
    "reference": "mã phần hồ sơ",
    "procedure": "thủ tục",
    "applicant": "người nộp hồ sơ",
    "subject": "người được đăng ký",
    "data": "thông tin của thủ tục",
    "callback": "địa chỉ nhận kết quả",
    "full_name": "họ, chữ đệm và tên",
    "id_number": "số định danh cá nhân",
    "birth_date": "ngày sinh",
    "gender": "giới tính",
    "phone": "số điện thoại",
    "email": "thư điện tử",
    "relationship": "quan hệ",
    "birth_certificate_number": "số giấy khai sinh",
    "residence_address": "địa chỉ nơi thường trú",
    "household_head_id": "số định danh cá nhân của chủ hộ",
    "relationship_to_head": "quan hệ với chủ hộ",
    "death_certificate_number": "số trích lục khai tử",
    "death_date": "ngày chết",
    "social_insurance_number": "mã số bảo hiểm xã hội",
    "claimant": "người hưởng trợ cấp",
    "bank_account": "tài khoản nhận tiền",
    "bank": "ngân hàng",
    "number": "số tài khoản",
    "service": "dịch vụ nhận kết quả",
}


def callback_service() -> str:
    """Our service the remote systems report to: `<this province>/mot-cua/lien-thong`."""
    return f"{connectors.client_id('mot-cua')}/lien-thong"


def connector_name(connector: str) -> str:
    return NAMES.get(connector) or OTHER_NAMES.get(connector, connector)


def _check_connector(connector: str) -> None:
    if connector not in NAMES:
        raise DomainError(f"Không có hệ thống liên thông “{connector}”.", "connector")


@lru_cache(maxsize=32)
def _file_schema(relative: str) -> str:
    return (registry.SCHEMA_DIR / relative).read_text(encoding="utf-8")


def operation_schema(connector: str, operation: str) -> dict:
    """The request schema of `operation` as registered on the bus (the province may edit it), or
    the one shipped in the repository when the registry does not hold the service yet."""
    service = registry.resolve(connectors.service_id(connector))
    found = service.operation(operation) if service else None
    if found is not None:
        return found.request_schema or {}
    return json.loads(_file_schema(f"{connector}/{operation}.request.json"))


LABELS_BY_CONNECTOR = {
    "civil_status": {
        "kind": "loại sự kiện hộ tịch",
        "registration_number": "số đăng ký",
        "registration_date": "ngày đăng ký",
        "agency_code": "mã định danh cơ quan đăng ký",
        "parties": "những người trong sự kiện hộ tịch",
        "child": "người được khai sinh",
        "mother": "người mẹ",
        "father": "người cha",
        "deceased": "người chết",
        "husband": "bên chồng",
        "wife": "bên vợ",
        "declarant": "người đi đăng ký",
        "ethnicity": "dân tộc",
        "nationality": "quốc tịch",
        "residence": "nơi cư trú",
        "birth_place": "nơi sinh",
        "death_place": "nơi chết",
    },
    "edoc": {
        "document": "thông tin văn bản",
        "number": "số, ký hiệu văn bản",
        "issued_on": "ngày ban hành",
        "type": "loại văn bản",
        "subject": "trích yếu",
        "issuer": "cơ quan ban hành",
        "recipients": "nơi nhận",
        "code": "mã định danh cơ quan",
        "name": "tên",
        "file": "tệp văn bản",
        "media_type": "định dạng tệp",
        "content_base64": "nội dung tệp",
        "sha256": "mã băm của tệp",
        "signature": "chữ ký số",
        "certificate": "chứng thư số",
        "value": "giá trị chữ ký",
    },
}


def _label(path: list, connector: str = "") -> str:
    names = [str(p) for p in path if not isinstance(p, int)]
    if not names:
        return "nội dung"
    labels = {**FIELD_LABELS, **LABELS_BY_CONNECTOR.get(connector, {})}
    return labels.get(names[-1], names[-1])


def explain(error: jsonschema.ValidationError, connector: str = "") -> tuple[str, str]:
    """(field path "data.birth_certificate_number", Vietnamese message) for one schema error."""
    path = list(error.absolute_path)
    kind, value = error.validator, error.validator_value
    if kind == "required":
        missing = next((name for name in value if isinstance(error.instance, dict) and name not in error.instance), "")
        path.append(missing)
        return ".".join(map(str, path)), f"thiếu {_label(path, connector)}"
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        path.append(extra[0] if extra else "")
        return ".".join(map(str, path)), f"có trường không được phép “{path[-1]}”"
    field, label = ".".join(map(str, path)), _label(path, connector)
    if kind == "type":
        return field, f"{label} không đúng kiểu dữ liệu"
    if kind == "format":
        what = {"date": "ngày (YYYY-MM-DD)", "date-time": "thời điểm (ISO 8601)", "email": "địa chỉ thư điện tử"}
        return field, f"{label} không phải {what.get(value, 'giá trị')} hợp lệ"
    if kind in ("enum", "const"):
        allowed = value if kind == "enum" else [value]
        return field, f"{label} phải là một trong: " + ", ".join(str(v) for v in allowed)
    if kind == "minLength":
        return field, f"{label} không được để trống" if value == 1 else f"{label} quá ngắn"
    if kind == "maxLength":
        return field, f"{label} dài quá {value} ký tự"
    if kind == "pattern":
        hint = error.schema.get("description", "")
        return field, f"{label} không đúng định dạng" + (f" ({hint.rstrip('.')})" if hint else "")
    return field, f"{label} không hợp lệ"


def schema_problem(connector: str, operation: str, body) -> tuple[str, str] | None:
    """(field, Vietnamese message) for the first thing in `body` the operation's schema refuses."""
    schema = operation_schema(connector, operation)
    if not schema:
        return None
    cls = jsonschema.validators.validator_for(schema)
    errors = list(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(body))
    if not errors:
        return None
    # The deepest error says most (inside data/subject rather than "the if/then failed").
    return explain(jsonschema.exceptions.best_match(errors), connector)


def validate(connector: str, operation: str, body, *, what: str = "") -> None:
    """Refuse a body with a DomainError naming the first wrong field, in Vietnamese; `what` names
    the body ("Phần hồ sơ gửi <hệ thống>" by default)."""
    problem = schema_problem(connector, operation, body)
    if problem:
        field, message = problem
        what = what or f"Phần hồ sơ gửi {connector_name(connector)}"
        raise DomainError(f"{what} chưa hợp lệ: {message} ({field}).", field)


def queue(connector: str, operation: str, body, *, kind: str, **send) -> object:
    """Queue a call of `operation` of `connector` with `body` inside the current transaction (the
    outbox; `send` takes delivery.send's order_key, correlation, agency_id, source, dedup_key)."""
    return delivery.send(
        client=connectors.client_for(connector),
        service=connectors.service_id(connector),
        operation=operation,
        kind=kind,
        json_body=body,
        **send,
    )


def read(connector: str, operation: str, params: dict, *, not_found: str, correlation: str = "", timeout=None):
    """A synchronous read from `connector` (polling a status, reading a record): the JSON answer;
    BusError in Vietnamese for a 404 ("<system> <not_found>.") or any other failure."""
    name = connector_name(connector)
    response = gateway.call(
        client=connectors.client_for(connector),
        service=connectors.service_id(connector),
        operation=operation,
        params=params,
        correlation=correlation,
        timeout=timeout,
    )
    if response.status == 404:
        raise BusError("remote_error", f"{name} {not_found}.", entry=response.log_entry)
    if not response.ok:
        raise BusError("remote_error", f"{name} trả lời mã lỗi HTTP {response.status}.", entry=response.log_entry)
    return response.json(), response.log_entry


def part_body(*, procedure: str, reference: str, applicant: dict, subject: dict, data: dict) -> dict:
    return {
        "reference": reference,
        "procedure": procedure,
        "applicant": applicant,
        "subject": subject,
        "data": data,
        "callback": {"service": callback_service()},
    }


def submit_part(
    *,
    connector: str,
    procedure: str,
    reference: str,
    applicant: dict,
    subject: dict,
    data: dict,
    correlation: str,
    order_key: str,
    kind: str,
    agency_id: int | None = None,
    source=None,
    dedup_key: str | None = None,
):
    """Queue the part for `connector` ("residence", "social_insurance") inside the current
    transaction; returns the outbox message (None when `dedup_key` was already used). Raises
    DomainError naming the field when the part does not fit the operation's schema."""
    _check_connector(connector)
    body = part_body(procedure=procedure, reference=reference, applicant=applicant, subject=subject, data=data)
    validate(connector, "submit", body)
    return queue(
        connector,
        "submit",
        body,
        kind=kind,
        order_key=order_key,
        correlation=correlation,
        agency_id=agency_id,
        source=source,
        dedup_key=dedup_key,
    )


def part_status(connector: str, request_id: str, *, correlation: str = "", timeout: float | None = None) -> dict:
    """The remote system's status of one part now: `{"request_id", "reference", "status", "reason",
    "result", "at"}`. Raises BusError (Vietnamese message) when the bus or the system cannot say."""
    _check_connector(connector)
    body, entry = read(
        connector,
        "status",
        {"request_id": request_id},
        not_found=f"không tìm thấy yêu cầu {request_id}",
        correlation=correlation,
        timeout=timeout,
    )
    if not isinstance(body, dict) or body.get("status") not in STATUSES or body.get("request_id") != request_id:
        name = connector_name(connector)
        raise BusError("remote_error", f"{name} trả lời trạng thái không đúng định dạng.", entry=entry)
    return body

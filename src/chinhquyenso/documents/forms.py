"""Reading the document pages' forms: what was typed comes back as values to show again, errors
per field (Vietnamese) and, when valid, the arguments of the service it is for. Field names are
the services' argument names, so a DomainError a service raises (its `field`) lands on the field
the officer typed into.

Every value is bounded here (lengths, dates through core.params, choices against the lists the
page offered); the services check the rules (roles, statuses, secret documents)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import nfc, nfc_lines
from chinhquyenso.documents.models import Assignment, Confidentiality, Urgency

EXCERPT_MAX = 1000
NAME_MAX = 150
NOTE_MAX = 2000
ABBREVIATION_MAX = 30
PLACE_MAX = 100
MAX_RECIPIENTS = 200
MAX_ATTACHMENTS = 20
# QCVN 102:2016 electronic codes look like 000.00.15.H01 or G22.xx: digits, capitals and dots.
ELECTRONIC_CODE = re.compile(r"^[0-9A-Z][0-9A-Z.]{3,29}$")
PDF_ONLY = "Văn bản phải là tệp PDF."


@dataclass
class Form:
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    arguments: dict = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors

    def fail(self, error: DomainError, default_field: str = "form") -> None:
        """A service's refusal shown on the field it names (the whole form when it names none of ours)."""
        name = error.field if error.field in self.values or error.field in ("file", "attachments") else default_field
        self.errors[name] = error.message


def _text(data, name: str, limit: int) -> str:
    return nfc(data.get(name, ""))[:limit].strip()


def _choice(form: Form, data, name: str, choices, message: str, default: str = "") -> str:
    value = _text(data, name, 40) or default
    form.values[name] = value
    if value not in choices:
        form.errors[name] = message
    return value


def _date(form: Form, data, name: str):
    form.values[name] = _text(data, name, 10)
    try:
        return params.date(form.values[name], name)
    except DomainError as error:
        form.errors[name] = error.message
        return None


def _pdf_upload(form: Form, files, name: str = "file", *, required: bool = True):
    upload = files.get(name)
    if upload is None:
        if required:
            form.errors[name] = "Hãy chọn tệp văn bản (PDF)."
        return None
    if not upload.name.lower().endswith(".pdf") and upload.content_type != "application/pdf":
        form.errors[name] = PDF_ONLY
        return None
    return upload


def _attachments(form: Form, files) -> list:
    """The files chosen as attachments (several); their content is checked by the service, which
    names the file it refuses."""
    chosen = [upload for upload in files.getlist("attachments") if upload is not None and upload.name]
    if len(chosen) > MAX_ATTACHMENTS:
        form.errors["attachments"] = f"Một văn bản có tối đa {MAX_ATTACHMENTS} tệp đính kèm."
    return chosen


def external_recipients(text: str) -> tuple[list[dict], str | None]:
    """Lines "mã định danh; tên cơ quan" → [{"electronic_code", "name"}], or an error."""
    recipients = []
    for line_number, line in enumerate(nfc_lines(text).splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in re.split(r"[;|\t]", line, maxsplit=1)]
        code, name = parts[0].upper(), parts[1] if len(parts) > 1 else ""
        if not ELECTRONIC_CODE.match(code) or not name:
            return [], (
                f"Dòng {line_number}: ghi “mã định danh; tên cơ quan”, ví dụ “000.00.00.G22; Bộ Nội vụ” "
                "(mã định danh theo QCVN 102:2016)."
            )
        recipients.append({"electronic_code": code, "name": name[:255]})
    if len(recipients) > MAX_RECIPIENTS:
        return [], f"Nhiều nhất {MAX_RECIPIENTS} nơi nhận ngoài tỉnh."
    return recipients, None


def draft(data, files, *, agencies, types, recipient_agencies, creating: bool = True) -> Form:
    """The outgoing draft (POST): agency, document_type, excerpt, urgency, confidentiality,
    unit_abbreviation, place, signer_name, signer_title, deadline, is_directive, recipient_agencies
    (ids), external_recipients (lines), file (PDF), attachments (PDFs)."""
    form = Form()
    agency_ids = {a.pk for a in agencies}
    form.values["agency"] = _text(data, "agency", 12) or (str(agencies[0].pk) if len(agencies) == 1 else "")
    agency_id = params.integer_or_none(form.values["agency"], minimum=1)
    if agency_id not in agency_ids:
        form.errors["agency"] = "Hãy chọn cơ quan ban hành."
    type_by_code = {t.code: t for t in types}
    type_code = _choice(form, data, "document_type", type_by_code, "Hãy chọn loại văn bản.")
    form.values["excerpt"] = nfc(data.get("excerpt", "")).strip()
    if not form.values["excerpt"]:
        form.errors["excerpt"] = "Hãy nhập trích yếu nội dung văn bản."
    elif len(form.values["excerpt"]) > EXCERPT_MAX:
        form.errors["excerpt"] = f"Trích yếu dài quá {EXCERPT_MAX} ký tự."
    urgency = _choice(form, data, "urgency", Urgency.values, "Hãy chọn độ khẩn.", default=Urgency.NORMAL)
    confidentiality = _choice(
        form, data, "confidentiality", Confidentiality.values, "Hãy chọn độ mật.", default=Confidentiality.NORMAL
    )
    for name, limit in (("unit_abbreviation", ABBREVIATION_MAX), ("signer_name", NAME_MAX), ("signer_title", NAME_MAX)):
        form.values[name] = _text(data, name, limit)
    form.values["place"] = _text(data, "place", PLACE_MAX)
    if not form.values["place"]:
        form.errors["place"] = "Hãy nhập địa danh nơi ban hành (ví dụ An Giang)."
    deadline = _date(form, data, "deadline")
    form.values["is_directive"] = bool(data.get("is_directive"))
    allowed = {a.pk for a in recipient_agencies}
    chosen = []
    for raw in data.getlist("recipient_agencies")[: MAX_RECIPIENTS + 1]:
        pk = params.integer_or_none(raw, minimum=1)
        if pk not in allowed:
            form.errors["recipient_agencies"] = "Hãy chọn nơi nhận trong danh sách."
        elif pk not in chosen:
            chosen.append(pk)
    if len(chosen) > MAX_RECIPIENTS:
        form.errors["recipient_agencies"] = f"Nhiều nhất {MAX_RECIPIENTS} nơi nhận."
    form.values["recipient_agencies"] = chosen
    form.values["external_recipients"] = nfc_lines(data.get("external_recipients", ""))[:20_000]
    outside, problem = external_recipients(form.values["external_recipients"])
    if problem:
        form.errors["external_recipients"] = problem
    upload = _pdf_upload(form, files, required=creating)
    extra_files = _attachments(form, files)
    if form.valid:
        form.arguments = {
            "agency": next(a for a in agencies if a.pk == agency_id),
            "document_type": type_by_code[type_code],
            "excerpt": form.values["excerpt"],
            "urgency": urgency,
            "confidentiality": confidentiality,
            "unit_abbreviation": form.values["unit_abbreviation"],
            "place": form.values["place"],
            "attachments": extra_files,
            "signer_name": form.values["signer_name"],
            "signer_title": form.values["signer_title"],
            "deadline": deadline,
            "is_directive": form.values["is_directive"],
            "recipients": [{"agency": pk} for pk in chosen] + outside,
        }
        if upload is not None:
            form.arguments["file"] = upload
    return form


def register_incoming(data, files, *, agencies, types, senders) -> Form:
    """A paper or e-mail document the clerk enters in the incoming register (POST): agency,
    document_type, sender_agency (one of the province's) or sender_name + sender_code, number,
    symbol, issued_on, excerpt, urgency, confidentiality, deadline, is_directive, file (PDF),
    attachments (PDFs)."""
    form = Form()
    agency_ids = {a.pk for a in agencies}
    form.values["agency"] = _text(data, "agency", 12) or (str(agencies[0].pk) if len(agencies) == 1 else "")
    agency_id = params.integer_or_none(form.values["agency"], minimum=1)
    if agency_id not in agency_ids:
        form.errors["agency"] = "Hãy chọn cơ quan nhận."
    type_by_code = {t.code: t for t in types}
    type_code = _choice(form, data, "document_type", type_by_code, "Hãy chọn loại văn bản.")
    sender_ids = {a.pk for a in senders}
    form.values["sender_agency"] = _text(data, "sender_agency", 12)
    sender_id = params.integer_or_none(form.values["sender_agency"], minimum=1)
    form.values["sender_name"] = _text(data, "sender_name", 255)
    form.values["sender_code"] = _text(data, "sender_code", 30).upper()
    if form.values["sender_agency"] and sender_id not in sender_ids:
        form.errors["sender_agency"] = "Hãy chọn cơ quan gửi trong danh sách."
    elif not form.values["sender_agency"] and not form.values["sender_name"]:
        form.errors["sender_name"] = "Hãy chọn cơ quan gửi trong tỉnh hoặc nhập tên cơ quan gửi."
    if form.values["sender_code"] and not ELECTRONIC_CODE.match(form.values["sender_code"]):
        form.errors["sender_code"] = "Mã định danh theo QCVN 102:2016, ví dụ 000.00.00.G22."
    form.values["symbol"] = _text(data, "symbol", 100)
    form.values["number"] = _text(data, "number", 10)
    try:
        number = params.integer(form.values["number"], "number", minimum=1)
    except DomainError as error:
        form.errors["number"] = error.message
        number = None
    issued_on = _date(form, data, "issued_on")
    form.values["excerpt"] = nfc(data.get("excerpt", "")).strip()
    if not form.values["excerpt"]:
        form.errors["excerpt"] = "Hãy nhập trích yếu nội dung văn bản."
    elif len(form.values["excerpt"]) > EXCERPT_MAX:
        form.errors["excerpt"] = f"Trích yếu dài quá {EXCERPT_MAX} ký tự."
    urgency = _choice(form, data, "urgency", Urgency.values, "Hãy chọn độ khẩn.", default=Urgency.NORMAL)
    confidentiality = _choice(
        form, data, "confidentiality", Confidentiality.values, "Hãy chọn độ mật.", default=Confidentiality.NORMAL
    )
    deadline = _date(form, data, "deadline")
    form.values["is_directive"] = bool(data.get("is_directive"))
    upload = _pdf_upload(form, files, required=False)
    extra_files = _attachments(form, files)
    if form.valid:
        form.arguments = {
            "agency": next(a for a in agencies if a.pk == agency_id),
            "document_type": type_by_code[type_code],
            "sender_agency": next((a for a in senders if a.pk == sender_id), None),
            "sender_name": form.values["sender_name"],
            "sender_code": form.values["sender_code"],
            "number": number,
            "symbol": form.values["symbol"],
            "issued_on": issued_on,
            "excerpt": form.values["excerpt"],
            "urgency": urgency,
            "confidentiality": confidentiality,
            "deadline": deadline,
            "is_directive": form.values["is_directive"],
            "file": upload,
            "attachments": extra_files,
        }
    return form


def assignment(data, *, units, people) -> Form:
    """A leader's assignment (POST): the lead (chủ trì) unit and/or person, supporting units
    (phối hợp), units told for information (để biết), instructions (bút phê), deadline, is_directive.
    `arguments`: the service's `assignees` as dicts (agency_id, user_id, role), instructions,
    deadline, is_directive."""
    form = Form()
    unit_ids = {a.pk for a in units}
    person_ids = {m.user_id for m in people}
    form.values["lead_unit"] = _text(data, "lead_unit", 12)
    form.values["lead_person"] = _text(data, "lead_person", 12)
    lead_unit = params.integer_or_none(form.values["lead_unit"], minimum=1)
    lead_person = params.integer_or_none(form.values["lead_person"], minimum=1)
    if form.values["lead_unit"] and lead_unit not in unit_ids:
        form.errors["lead_unit"] = "Hãy chọn đơn vị trong danh sách."
    if form.values["lead_person"] and lead_person not in person_ids:
        form.errors["lead_person"] = "Hãy chọn người xử lý trong danh sách."
    assignees = []
    if lead_unit in unit_ids or lead_person in person_ids:
        assignees.append(
            {
                "agency_id": lead_unit if lead_unit in unit_ids else None,
                "user_id": lead_person if lead_person in person_ids else None,
                "role": Assignment.Role.LEAD,
            }
        )
    for name, role in (("support_units", Assignment.Role.SUPPORT), ("inform_units", Assignment.Role.INFORM)):
        chosen = []
        for raw in data.getlist(name)[:MAX_RECIPIENTS]:
            pk = params.integer_or_none(raw, minimum=1)
            if pk not in unit_ids:
                form.errors[name] = "Hãy chọn đơn vị trong danh sách."
            elif pk not in chosen and pk != lead_unit:
                chosen.append(pk)
        form.values[name] = chosen
        assignees += [{"agency_id": pk, "user_id": None, "role": role} for pk in chosen]
    if not assignees and not form.errors:
        form.errors["lead_unit"] = "Hãy chọn đơn vị hoặc người chủ trì xử lý."
    form.values["instructions"] = nfc_lines(data.get("instructions", "")).strip()
    if len(form.values["instructions"]) > NOTE_MAX:
        form.errors["instructions"] = f"Ý kiến chỉ đạo dài quá {NOTE_MAX} ký tự."
    deadline = _date(form, data, "deadline")
    form.values["is_directive"] = bool(data.get("is_directive"))
    if form.valid:
        form.arguments = {
            "assignees": assignees,
            "instructions": form.values["instructions"],
            "deadline": deadline,
            # Unticked keeps the document's own mark (a directive document stays one).
            "is_directive": True if form.values["is_directive"] else None,
        }
    return form


def note(data, name: str = "note", limit: int = NOTE_MAX) -> str:
    """A free text of an action form (a comment, a reason, a progress note), bounded."""
    text = nfc_lines(data.get(name, "")).strip()
    if len(text) > limit:
        raise DomainError(f"Nội dung dài quá {limit} ký tự.", name)
    return text

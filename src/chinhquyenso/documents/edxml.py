"""The exchange package (gói tin) of an electronic document: an envelope in the structure of the
national e-document exchange's edXML (QCVN 102:2016/BTTTT, "Cấu trúc thông điệp dữ liệu công văn
điện tử"), serialized with the standard library's ElementTree.

What follows the standard's structure: the root edXMLEnvelope with edXMLHeader / edXMLBody; the
MessageHeader's From and To (OrganId = the agency's electronic code, OrganName, OrganAdd, Email,
Telephone, Website), Code (CodeNumber, CodeNotation), PromulgationInfo (Place, PromulgationDate),
DocumentType (Type, TypeName), Subject, Content, SignerInfo (Competence, Position, FullName),
DueDate, ToPlaces, OtherInfo (Priority, PageAmount), SteeringType, ResponseFor, DocumentId; the
TraceHeaderList (one TraceHeader per system the package went through); and the Status message
(From, ResponseFor, StatusCode, Description, Timestamp, StaffInfo).

What is ours: the element values we choose (Priority 0–3 for thường/khẩn/thượng khẩn/hỏa tốc;
the status codes in STATUS_CODES, following the national exchange's convention as we read it),
the Sha256 of each body Attachment, and the refusal of anything this system does not take: a
DOCTYPE (no entity expansion), a package over MAX_BYTES, control characters.

Attachments: the body lists one Attachment per file (AttachmentName, ContentType, Description, as
the national edXML does). Its content, base64 in ContentTransferEncoded as the national edXML
carries it, is optional: the packages we send over the bus list the files (with their SHA-256) and
the bus message carries their bytes beside the envelope (the main file and `attachments`), which
keeps the envelope under MAX_BYTES; a package another system sends with the content inside is
read, the content checked against its Sha256 when it has one."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from chinhquyenso.core.errors import DomainError

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
PREFIX = "edXML"
ET.register_namespace(PREFIX, NS)
MAX_BYTES = 2 * 1024 * 1024

# Our statuses → StatusCode. 01: the package reached the recipient's system; 02: refused;
# 03: registered (vào sổ văn bản đến); 04: assigned; 05: being handled; 06: done;
# 13: recalled by the sender (lấy lại); 15: replaced by a new document (cập nhật, thay thế).
STATUS_CODES = {
    "delivered": "01",
    "returned": "02",
    "received": "03",
    "assigned": "04",
    "in_process": "05",
    "done": "06",
    "recalled": "13",
    "replaced": "15",
}
STATUS_OF_CODE = {code: status for status, code in STATUS_CODES.items()}
STATUS_DESCRIPTIONS = {
    "delivered": "Đã đến",
    "returned": "Từ chối tiếp nhận",
    "received": "Đã tiếp nhận",
    "assigned": "Đã phân công",
    "in_process": "Đang xử lý",
    "done": "Hoàn thành",
    "recalled": "Lấy lại (thu hồi)",
    "replaced": "Thay thế",
}
# Our urgency values → edXML Priority.
PRIORITIES = {"normal": "0", "urgent": "1", "very_urgent": "2", "flash": "3"}
URGENCY_OF_PRIORITY = {code: urgency for urgency, code in PRIORITIES.items()}

# XML 1.0 cannot carry most control characters and a parser turns \r into \n, so a text with
# any of them would not come back as it was sent: refused rather than silently changed.
_NOT_CARRIED = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Organ:
    organ_id: str
    organ_name: str
    organ_add: str = ""
    email: str = ""
    telephone: str = ""
    website: str = ""


@dataclass(frozen=True)
class ResponseFor:
    """The document this one answers (or a status reports on)."""

    organ_id: str
    code: str
    promulgation_date: dt.date | None = None
    document_id: str = ""


@dataclass(frozen=True)
class Trace:
    organ_id: str
    timestamp: dt.datetime


@dataclass(frozen=True)
class AttachmentRef:
    """A file of the package. `content`: its bytes when they travel inside the envelope
    (ContentTransferEncoded), None when only listed."""

    name: str
    content_type: str
    sha256: str
    description: str = ""
    content: bytes | None = None


@dataclass(frozen=True)
class Envelope:
    document_id: str
    sender: Organ
    recipients: tuple[Organ, ...]
    code_number: str
    code_notation: str
    place: str
    promulgation_date: dt.date
    type_code: str
    type_name: str
    subject: str
    content: str = ""
    signer_competence: str = ""
    signer_position: str = ""
    signer_full_name: str = ""
    due_date: dt.date | None = None
    to_places: tuple[str, ...] = ()
    priority: str = "normal"
    page_amount: int = 0
    steering_type: int = 0
    response_for: ResponseFor | None = None
    traces: tuple[Trace, ...] = ()
    attachments: tuple[AttachmentRef, ...] = field(default_factory=tuple)

    @property
    def symbol(self) -> str:
        """ "12/QĐ-UBND" from CodeNumber 12 and CodeNotation QĐ-UBND."""
        return f"{self.code_number}/{self.code_notation}" if self.code_notation else self.code_number


@dataclass(frozen=True)
class StatusMessage:
    document_id: str
    sender: Organ
    response_for: ResponseFor
    status: str
    timestamp: dt.datetime
    description: str = ""
    department: str = ""
    staff: str = ""


# ---------------------------------------------------------------- building


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _check(value: str, where: str) -> str:
    if _NOT_CARRIED.search(value):
        raise DomainError(f"Trường {where} của gói tin có ký tự điều khiển, không gửi được.", where)
    return value


def _sub(parent: ET.Element, tag: str, value=None, where: str = "") -> ET.Element:
    element = ET.SubElement(parent, _q(tag))
    if value is not None:
        text = value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value)
        element.text = _check(text, where or tag)
    return element


def _organ(parent: ET.Element, tag: str, organ: Organ) -> None:
    element = _sub(parent, tag)
    _sub(element, "OrganId", organ.organ_id, f"{tag}.OrganId")
    _sub(element, "OrganName", organ.organ_name, f"{tag}.OrganName")
    for name, value in (
        ("OrganAdd", organ.organ_add),
        ("Email", organ.email),
        ("Telephone", organ.telephone),
        ("Website", organ.website),
    ):
        _sub(element, name, value, f"{tag}.{name}")


def _response_for(parent: ET.Element, response: ResponseFor) -> None:
    element = _sub(parent, "ResponseFor")
    _sub(element, "OrganId", response.organ_id, "ResponseFor.OrganId")
    _sub(element, "Code", response.code, "ResponseFor.Code")
    _sub(element, "PromulgationDate", response.promulgation_date or "", "ResponseFor.PromulgationDate")
    _sub(element, "DocumentId", response.document_id, "ResponseFor.DocumentId")


def _traces(header: ET.Element, traces) -> None:
    trace_list = _sub(header, "TraceHeaderList")
    for trace in traces:
        element = _sub(trace_list, "TraceHeader")
        _sub(element, "OrganId", trace.organ_id, "TraceHeader.OrganId")
        _sub(element, "Timestamp", trace.timestamp, "TraceHeader.Timestamp")


def _serialize(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def serialize(envelope: Envelope) -> bytes:
    """The edXML bytes of `envelope`; DomainError naming the field for a text it cannot carry."""
    if envelope.priority not in PRIORITIES:
        raise DomainError("Độ khẩn của văn bản không hợp lệ.", "Priority")
    if not envelope.recipients:
        raise DomainError("Gói tin phải có ít nhất một nơi nhận.", "To")
    for value, where in (
        (envelope.document_id, "DocumentId"),
        (envelope.code_number, "CodeNumber"),
        (envelope.type_name, "TypeName"),
        (envelope.subject, "Subject"),
        (envelope.sender.organ_id, "From.OrganId"),
        (envelope.sender.organ_name, "From.OrganName"),
        *((value, "To.OrganId") for value in (r.organ_id for r in envelope.recipients)),
        *((value, "To.OrganName") for value in (r.organ_name for r in envelope.recipients)),
    ):
        if not value:
            raise DomainError(f"Gói tin thiếu giá trị của {where}.", where)
    root = ET.Element(_q("edXMLEnvelope"))
    header = _sub(root, "edXMLHeader")
    message = _sub(header, "MessageHeader")
    _organ(message, "From", envelope.sender)
    for recipient in envelope.recipients:
        _organ(message, "To", recipient)
    _sub(message, "DocumentId", envelope.document_id, "DocumentId")
    code = _sub(message, "Code")
    _sub(code, "CodeNumber", envelope.code_number, "CodeNumber")
    _sub(code, "CodeNotation", envelope.code_notation, "CodeNotation")
    promulgation = _sub(message, "PromulgationInfo")
    _sub(promulgation, "Place", envelope.place, "Place")
    _sub(promulgation, "PromulgationDate", envelope.promulgation_date, "PromulgationDate")
    document_type = _sub(message, "DocumentType")
    _sub(document_type, "Type", envelope.type_code, "Type")
    _sub(document_type, "TypeName", envelope.type_name, "TypeName")
    _sub(message, "Subject", envelope.subject, "Subject")
    _sub(message, "Content", envelope.content, "Content")
    signer = _sub(message, "SignerInfo")
    _sub(signer, "Competence", envelope.signer_competence, "SignerInfo.Competence")
    _sub(signer, "Position", envelope.signer_position, "SignerInfo.Position")
    _sub(signer, "FullName", envelope.signer_full_name, "SignerInfo.FullName")
    _sub(message, "DueDate", envelope.due_date or "", "DueDate")
    places = _sub(message, "ToPlaces")
    for place in envelope.to_places:
        _sub(places, "Place", place, "ToPlaces.Place")
    other = _sub(message, "OtherInfo")
    _sub(other, "Priority", PRIORITIES[envelope.priority])
    _sub(other, "PageAmount", envelope.page_amount)
    _sub(message, "SteeringType", envelope.steering_type)
    if envelope.response_for is not None:
        _response_for(message, envelope.response_for)
    _traces(header, envelope.traces)
    body = _sub(root, "edXMLBody")
    for attachment in envelope.attachments:
        element = _sub(body, "Attachment")
        _sub(element, "AttachmentName", attachment.name, "Attachment.AttachmentName")
        _sub(element, "ContentType", attachment.content_type, "Attachment.ContentType")
        _sub(element, "Sha256", attachment.sha256, "Attachment.Sha256")
        _sub(element, "Description", attachment.description, "Attachment.Description")
        if attachment.content is not None:
            _sub(element, "ContentTransferEncoded", base64.b64encode(attachment.content).decode())
    return _serialize(root)


def build_status(message: StatusMessage) -> bytes:
    """A Status package: what became of a document someone sent (received, assigned, done…)."""
    if message.status not in STATUS_CODES:
        raise DomainError("Trạng thái xử lý văn bản không hợp lệ.", "StatusCode")
    root = ET.Element(_q("edXMLEnvelope"))
    header = _sub(root, "edXMLHeader")
    status = _sub(header, "Status")
    _organ(status, "From", message.sender)
    _response_for(status, message.response_for)
    _sub(status, "DocumentId", message.document_id, "DocumentId")
    _sub(status, "StatusCode", STATUS_CODES[message.status])
    _sub(status, "Description", message.description, "Description")
    _sub(status, "Timestamp", message.timestamp, "Timestamp")
    staff = _sub(status, "StaffInfo")
    _sub(staff, "Department", message.department, "StaffInfo.Department")
    _sub(staff, "Staff", message.staff, "StaffInfo.Staff")
    _sub(root, "edXMLBody")
    return _serialize(root)


# ---------------------------------------------------------------- parsing


class EnvelopeError(DomainError):
    """A package this system cannot read: the message names the element."""


def _root(data: bytes, kind: str) -> ET.Element:
    if not isinstance(data, bytes | bytearray):
        raise EnvelopeError(f"Gói tin {kind} phải là dữ liệu XML.", "envelope")
    if len(data) > MAX_BYTES:
        raise EnvelopeError(f"Gói tin {kind} vượt quá {MAX_BYTES // (1024 * 1024)} MB.", "envelope")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise EnvelopeError(f"Gói tin {kind} không được chứa khai báo DOCTYPE hay ENTITY.", "envelope")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise EnvelopeError(f"Gói tin {kind} không phải XML hợp lệ ({error}).", "envelope") from None
    if root.tag != _q("edXMLEnvelope"):
        raise EnvelopeError(f"Gói tin {kind} không phải edXMLEnvelope theo QCVN 102:2016.", "envelope")
    return root


def _find(parent: ET.Element, path: str, *, required: bool = True) -> ET.Element | None:
    element = parent.find("/".join(_q(part) for part in path.split("/")))
    if element is None and required:
        raise EnvelopeError(f"Gói tin thiếu phần tử {path}.", path)
    return element


def _text(parent: ET.Element, path: str, *, required: bool = False) -> str:
    element = _find(parent, path, required=required)
    text = "" if element is None or element.text is None else element.text
    if required and not text:
        raise EnvelopeError(f"Gói tin thiếu giá trị của {path}.", path)
    return text


def _date(parent: ET.Element, path: str, *, required: bool = False) -> dt.date | None:
    text = _text(parent, path, required=required)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise EnvelopeError(f"Ngày {path} không đúng định dạng YYYY-MM-DD.", path) from None


def _datetime(parent: ET.Element, path: str) -> dt.datetime:
    text = _text(parent, path, required=True)
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise EnvelopeError(f"Thời điểm {path} không đúng định dạng ISO 8601.", path) from None


def _int(parent: ET.Element, path: str) -> int:
    text = _text(parent, path) or "0"
    if not text.isdigit() or len(text) > 6:
        raise EnvelopeError(f"Giá trị {path} phải là số tự nhiên.", path)
    return int(text)


def _parse_organ(element: ET.Element, tag: str) -> Organ:
    organ = Organ(
        organ_id=_text(element, "OrganId", required=True),
        organ_name=_text(element, "OrganName", required=True),
        organ_add=_text(element, "OrganAdd"),
        email=_text(element, "Email"),
        telephone=_text(element, "Telephone"),
        website=_text(element, "Website"),
    )
    return organ


def _parse_response_for(parent: ET.Element, *, required: bool) -> ResponseFor | None:
    element = _find(parent, "ResponseFor", required=required)
    if element is None:
        return None
    return ResponseFor(
        organ_id=_text(element, "OrganId", required=True),
        code=_text(element, "Code"),
        promulgation_date=_date(element, "PromulgationDate"),
        document_id=_text(element, "DocumentId"),
    )


def _parse_traces(header: ET.Element) -> tuple[Trace, ...]:
    trace_list = _find(header, "TraceHeaderList", required=False)
    if trace_list is None:
        return ()
    return tuple(
        Trace(organ_id=_text(trace, "OrganId", required=True), timestamp=_datetime(trace, "Timestamp"))
        for trace in trace_list.findall(_q("TraceHeader"))
    )


def _parse_attachment(element: ET.Element) -> AttachmentRef:
    name = _text(element, "AttachmentName", required=True)
    sha256 = _text(element, "Sha256")
    encoded = _find(element, "ContentTransferEncoded", required=False)
    content = None
    if encoded is not None:
        try:
            content = base64.b64decode("".join((encoded.text or "").split()), validate=True)
        except (binascii.Error, ValueError):
            raise EnvelopeError(
                f"Nội dung tệp đính kèm “{name[:100]}” không phải base64 hợp lệ.", "Attachment.ContentTransferEncoded"
            ) from None
        if sha256 and hashlib.sha256(content).hexdigest() != sha256.lower():
            raise EnvelopeError(f"Mã băm SHA-256 không khớp với tệp đính kèm “{name[:100]}”.", "Attachment.Sha256")
    return AttachmentRef(
        name=name,
        content_type=_text(element, "ContentType", required=True),
        sha256=sha256,
        description=_text(element, "Description"),
        content=content,
    )


def parse_envelope(data: bytes) -> Envelope:
    """The Envelope in edXML bytes; EnvelopeError (a DomainError naming the element) otherwise."""
    root = _root(data, "văn bản")
    header = _find(root, "edXMLHeader")
    message = _find(header, "MessageHeader")
    recipients = tuple(_parse_organ(element, "To") for element in message.findall(_q("To")))
    if not recipients:
        raise EnvelopeError("Gói tin không có nơi nhận (To).", "To")
    priority = _text(message, "OtherInfo/Priority") or "0"
    if priority not in URGENCY_OF_PRIORITY:
        raise EnvelopeError("Độ khẩn (Priority) không hợp lệ.", "OtherInfo/Priority")
    places = _find(message, "ToPlaces", required=False)
    body = _find(root, "edXMLBody", required=False)
    attachments = ()
    if body is not None:
        attachments = tuple(_parse_attachment(element) for element in body.findall(_q("Attachment")))
    return Envelope(
        document_id=_text(message, "DocumentId", required=True),
        sender=_parse_organ(_find(message, "From"), "From"),
        recipients=recipients,
        code_number=_text(message, "Code/CodeNumber", required=True),
        code_notation=_text(message, "Code/CodeNotation"),
        place=_text(message, "PromulgationInfo/Place"),
        promulgation_date=_date(message, "PromulgationInfo/PromulgationDate", required=True),
        type_code=_text(message, "DocumentType/Type"),
        type_name=_text(message, "DocumentType/TypeName", required=True),
        subject=_text(message, "Subject", required=True),
        content=_text(message, "Content"),
        signer_competence=_text(message, "SignerInfo/Competence"),
        signer_position=_text(message, "SignerInfo/Position"),
        signer_full_name=_text(message, "SignerInfo/FullName"),
        due_date=_date(message, "DueDate"),
        to_places=tuple(place.text or "" for place in places.findall(_q("Place"))) if places is not None else (),
        priority=URGENCY_OF_PRIORITY[priority],
        page_amount=_int(message, "OtherInfo/PageAmount"),
        steering_type=_int(message, "SteeringType"),
        response_for=_parse_response_for(message, required=False),
        traces=_parse_traces(header),
        attachments=attachments,
    )


def parse_status(data: bytes) -> StatusMessage:
    root = _root(data, "trạng thái")
    status = _find(_find(root, "edXMLHeader"), "Status")
    code = _text(status, "StatusCode", required=True)
    if code not in STATUS_OF_CODE:
        raise EnvelopeError(f"Mã trạng thái {code[:10]} không được hỗ trợ.", "StatusCode")
    return StatusMessage(
        document_id=_text(status, "DocumentId"),
        sender=_parse_organ(_find(status, "From"), "From"),
        response_for=_parse_response_for(status, required=True),
        status=STATUS_OF_CODE[code],
        timestamp=_datetime(status, "Timestamp"),
        description=_text(status, "Description"),
        department=_text(status, "StaffInfo/Department"),
        staff=_text(status, "StaffInfo/Staff"),
    )


# ---------------------------------------------------------------- from our documents


def organ_of(agency) -> Organ:
    return Organ(organ_id=agency.electronic_code, organ_name=agency.name)


def envelope_for(document, recipients, *, at: dt.datetime, attachments=()) -> Envelope:
    """The envelope of an issued outgoing document for its bus recipients (Recipient rows)."""
    number, _, notation = document.symbol.partition("/")
    return Envelope(
        document_id=document_id(document),
        sender=organ_of(document.agency),
        recipients=tuple(Organ(organ_id=r.electronic_code, organ_name=r.name) for r in recipients),
        code_number=number,
        code_notation=notation,
        place=document.place,
        promulgation_date=document.issued_on,
        type_code=document.document_type.code,
        type_name=document.document_type.name,
        subject=document.excerpt,
        signer_position=document.signer_title,
        signer_full_name=document.signer_name,
        due_date=document.deadline,
        to_places=tuple(r.name for r in document.recipients.all()),
        priority=document.urgency,
        steering_type=1 if document.is_directive else 0,
        response_for=None,
        traces=(Trace(organ_id=document.agency.electronic_code, timestamp=at),),
        attachments=tuple(attachments),
    )


def build_envelope(document, recipients, *, at: dt.datetime | None = None, attachments=()) -> bytes:
    from django.utils import timezone

    return serialize(envelope_for(document, recipients, at=at or timezone.now(), attachments=attachments))


def document_id(document) -> str:
    """Our id of an outgoing document in packages: the agency's electronic code and the document's
    id here — stable, and unique across installations since electronic codes are (QCVN 102)."""
    return f"{document.agency.electronic_code or document.agency.code}:{document.pk}"

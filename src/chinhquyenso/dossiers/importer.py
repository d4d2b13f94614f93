"""Import historical dossiers from the old one-stop system (JSON Lines).

One JSON object per line describes one dossier with its events; the schema,
validation rules and report format are in docs/import-dossiers.md.

* Every line is validated completely before anything is written, then
  written in its own transaction: a bad line never leaves half a dossier and
  never stops the good ones.
* The old system's dossier code is the idempotency key (scope
  ``dossier.import``): re-running a file skips what is already there and
  reports a line whose code exists with different content as a conflict.
  The unique ``Dossier.code`` is the backstop.
* Timestamps, timeliness and the event timeline are derived the way the live
  workflow (services.py) derives them, so indicators computed over imported
  and live dossiers agree.
* Only `DossierImported` is published (indicators aggregate the dossier):
  these dossiers happened in the past and must not notify citizens or be
  re-sent to national systems.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from chinhquyenso.accounts.services import get_or_create_citizen, validate_identity_number
from chinhquyenso.core import audit, events, idempotency
from chinhquyenso.core.calendar import WorkingCalendar, closing_time, local_date
from chinhquyenso.core.errors import Conflict, DomainError
from chinhquyenso.core.streams import TOO_LONG, bounded_line
from chinhquyenso.core.text import format_number, nfc
from chinhquyenso.dossiers.models import Channel, Dossier, DossierEvent, Status
from chinhquyenso.dossiers.services import clean_applicant, timeliness_of
from chinhquyenso.org.models import Agency
from chinhquyenso.procedures.models import Procedure

log = logging.getLogger(__name__)
SCOPE = "dossier.import"
ACTOR_LABEL = "cqs import-dossiers"
PROGRESS_EVERY = 10_000

REQUIRED_FIELDS = ("code", "procedure_code", "agency", "channel", "applicant", "submitted_at", "status", "events")
OPTIONAL_FIELDS = ("due_at", "digitized", "electronic_result", "fee_due", "fee_paid", "rescheduled")
APPLICANT_FIELDS = ("identity_number", "full_name", "kind", "phone", "address")
EVENT_FIELDS = ("at", "action", "agency", "note")

NEW = ""
# action → {status before: status after}; mirrors the `_require` checks of the
# live services, so an imported history is one the live workflow could produce.
TRANSITIONS: dict[str, dict[str, str]] = {
    "submit": {NEW: Status.SUBMITTED},
    "accept": {Status.SUBMITTED: Status.IN_PROCESS},
    "request_supplement": {Status.SUBMITTED: Status.SUPPLEMENT_REQUESTED, Status.IN_PROCESS: Status.PAUSED},
    "supplement": {Status.SUPPLEMENT_REQUESTED: Status.SUBMITTED, Status.PAUSED: Status.IN_PROCESS},
    "refuse": {Status.SUBMITTED: Status.REFUSED, Status.SUPPLEMENT_REQUESTED: Status.REFUSED},
    "forward": {Status.IN_PROCESS: Status.IN_PROCESS},
    "approve": {Status.IN_PROCESS: Status.RESULT_READY},
    "reschedule": {Status.IN_PROCESS: Status.IN_PROCESS, Status.PAUSED: Status.PAUSED},
    "attach_result": {Status.IN_PROCESS: Status.IN_PROCESS, Status.RESULT_READY: Status.RESULT_READY},
    "return_result": {Status.RESULT_READY: Status.RETURNED},
    "withdraw": {
        s: Status.WITHDRAWN for s in (Status.SUBMITTED, Status.SUPPLEMENT_REQUESTED, Status.IN_PROCESS, Status.PAUSED)
    },
}


# ---------------------------------------------------------------- results


@dataclass
class Rejection:
    line: int
    field: str
    reason: str
    raw: str
    conflict: bool = False

    def __str__(self) -> str:
        return f"Dòng {self.line}: {self.field}: {self.reason}"


@dataclass
class ImportStats:
    lines: int = 0
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    conflicts: int = 0
    rejections: list[Rejection] = field(default_factory=list)


# ---------------------------------------------------------------- lookups


class _Lookups:
    """Agencies, procedures and the province calendar, read once per file
    instead of once per line."""

    def __init__(self):
        self.agencies: dict[str, list[Agency]] = defaultdict(list)
        for agency in Agency.objects.all():
            self.agencies[agency.code].append(agency)
            if agency.electronic_code and agency.electronic_code != agency.code:
                self.agencies[agency.electronic_code].append(agency)
        self.procedures: dict[str, Procedure | None] = {}
        self.calendar = WorkingCalendar()
        self.years: set[int] = set()

    def procedure(self, code: str) -> Procedure | None:
        if code not in self.procedures:
            # Historical dossiers may belong to procedures withdrawn since: inactive ones count.
            self.procedures[code] = Procedure.objects.filter(code=code).first()
        return self.procedures[code]

    def agency(self, code: str, day: dt.date, field_name: str) -> Agency:
        """The version of the agency with this code or electronic code that was valid on `day`."""
        candidates = self.agencies.get(code)
        if not candidates:
            raise DomainError(f"Không tìm thấy cơ quan có mã “{code}”.", field_name)
        for agency in candidates:
            if agency.is_valid_on(day):
                return agency
        raise DomainError(f"Cơ quan “{code}” không có hiệu lực vào ngày {day:%d/%m/%Y}.", field_name)

    def working_calendar(self, moment: dt.datetime, working_days: int) -> WorkingCalendar:
        """The shared calendar, with the province's days loaded (one query per
        year) for every year a deadline of `working_days` from `moment` can reach."""
        first = local_date(moment).year
        for year in range(first, first + 2 + working_days // 200):
            if year not in self.years:
                loaded = WorkingCalendar.load(dt.date(year, 1, 1), dt.date(year, 12, 31))
                self.calendar.overrides.update(loaded.overrides)
                self.years.add(year)
        return self.calendar


# ---------------------------------------------------------------- validation


@dataclass
class _Event:
    at: dt.datetime
    action: str
    note: str
    from_status: str
    to_status: str
    from_agency: Agency | None
    to_agency: Agency
    due_at: dt.datetime | None


@dataclass
class _Clean:
    code: str
    procedure: Procedure
    agency: Agency
    channel: str
    status: str
    applicant: dict
    submitted_at: dt.datetime
    accepted_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    original_due_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    returned_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    paused_at: dt.datetime | None = None
    paused_remaining_days: int | None = None
    current_agency: Agency | None = None
    rescheduled: bool = False
    timeliness: str = ""
    digitized: bool = False
    has_electronic_result: bool = False
    fee_due: int = 0
    fee_paid: int = 0
    events: list[_Event] = field(default_factory=list)


def _text(data: dict, key: str, field_name: str, max_length: int, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise DomainError("Thiếu trường bắt buộc." if value is None else "Phải là chuỗi ký tự.", field_name)
    value = nfc(value)
    if required and not value:
        raise DomainError("Không được để trống.", field_name)
    if len(value) > max_length:
        raise DomainError(f"Dài quá {max_length} ký tự.", field_name)
    return value


def _moment(value, field_name: str, now: dt.datetime, allow_future: bool = False) -> dt.datetime:
    example = "ví dụ 2025-03-03T09:15:00+07:00"
    if not isinstance(value, str) or not value.strip():
        raise DomainError(f"Phải là thời điểm ISO 8601 có múi giờ ({example}).", field_name)
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise DomainError(f"Không phải thời điểm ISO 8601 hợp lệ ({example}).", field_name) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DomainError(f"Thời điểm thiếu múi giờ; phải ghi rõ độ lệch như +07:00 hoặc Z ({example}).", field_name)
    if not allow_future and moment > now:
        raise DomainError("Thời điểm nằm ở tương lai.", field_name)
    return moment


def _flag(data: dict, key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise DomainError("Phải là true hoặc false.", key)
    return value


MAX_AMOUNT = 10**15  # đồng; far above any fee, far below what the database column holds


def _amount(data: dict, key: str) -> int | None:
    value = data.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise DomainError("Phải là số nguyên không âm (đồng).", key)
    if value is not None and value > MAX_AMOUNT:
        raise DomainError(f"Số tiền quá lớn (tối đa {format_number(MAX_AMOUNT)} đồng).", key)
    return value


def _code(record: dict) -> str:
    return _text(record, "code", "code", Dossier._meta.get_field("code").max_length)


def _applicant(value) -> dict:
    if not isinstance(value, dict):
        raise DomainError("Thiếu trường bắt buộc." if value is None else "Phải là một đối tượng JSON.", "applicant")
    for key in value:
        if key not in APPLICANT_FIELDS:
            raise DomainError("Trường không có trong lược đồ nhập.", f"applicant.{key}")
    for key in APPLICANT_FIELDS:
        if value.get(key) is not None and not isinstance(value[key], str):
            raise DomainError("Phải là chuỗi ký tự.", f"applicant.{key}")
    if value.get("identity_number") is None:
        raise DomainError("Thiếu trường bắt buộc.", "applicant.identity_number")
    person = clean_applicant(value, None)
    person["identity_number"] = validate_identity_number(
        person["identity_number"], person["kind"], "applicant.identity_number"
    )
    if len(person["address"]) > Dossier._meta.get_field("applicant_address").max_length:
        raise DomainError("Địa chỉ dài quá 300 ký tự.", "applicant.address")
    return person


def _raw_events(value, submitted_at: dt.datetime, now: dt.datetime, lookups: _Lookups) -> list[tuple]:
    if not isinstance(value, list):
        raise DomainError("Thiếu trường bắt buộc." if value is None else "Phải là một danh sách sự kiện.", "events")
    result, previous = [], submitted_at
    for index, item in enumerate(value):
        where = f"events[{index}]"
        if not isinstance(item, dict):
            raise DomainError("Mỗi sự kiện phải là một đối tượng JSON.", where)
        for key in item:
            if key not in EVENT_FIELDS:
                raise DomainError("Trường không có trong lược đồ nhập.", f"{where}.{key}")
        action = item.get("action")
        if not isinstance(action, str) or action not in TRANSITIONS:
            raise DomainError("Hành động phải là một trong: " + ", ".join(TRANSITIONS) + ".", f"{where}.action")
        at = _moment(item.get("at"), f"{where}.at", now)
        if at < submitted_at:
            raise DomainError("Sự kiện xảy ra trước thời điểm nộp hồ sơ (submitted_at).", f"{where}.at")
        if at < previous:
            raise DomainError(
                "Các sự kiện không theo thứ tự thời gian: sự kiện này sớm hơn sự kiện liền trước.", f"{where}.at"
            )
        previous = at
        agency = None
        if item.get("agency") is not None:
            code = _text(item, "agency", f"{where}.agency", 60)
            agency = lookups.agency(code, local_date(at), f"{where}.agency")
        note = _text(item, "note", f"{where}.note", 2000, required=False)
        result.append((where, at, action, agency, note))
    return result


def clean_line(record, lookups: _Lookups, now: dt.datetime) -> _Clean:
    """Validate one parsed line and derive everything the dossier needs.
    Raises DomainError naming the offending field; writes nothing."""
    if not isinstance(record, dict):
        raise DomainError("Mỗi dòng phải là một đối tượng JSON {…}.", "dòng")
    for key in record:
        if key not in REQUIRED_FIELDS and key not in OPTIONAL_FIELDS:
            raise DomainError("Trường không có trong lược đồ nhập.", key)
    for key in REQUIRED_FIELDS:
        if record.get(key) is None:
            raise DomainError("Thiếu trường bắt buộc.", key)
    code = _code(record)
    procedure = lookups.procedure(_text(record, "procedure_code", "procedure_code", 40))
    if procedure is None:
        raise DomainError("Không tìm thấy thủ tục hành chính với mã này.", "procedure_code")
    channel, status = record["channel"], record["status"]
    if channel not in Channel.values:
        raise DomainError("Hình thức nộp phải là online, counter hoặc post.", "channel")
    if status not in Status.values:
        raise DomainError("Trạng thái phải là một trong: " + ", ".join(Status.values) + ".", "status")
    submitted_at = _moment(record["submitted_at"], "submitted_at", now)
    agency = lookups.agency(_text(record, "agency", "agency", 60), local_date(submitted_at), "agency")
    applicant = _applicant(record["applicant"])
    raw_events = _raw_events(record["events"], submitted_at, now, lookups)

    given_due = (
        _moment(record["due_at"], "due_at", now, allow_future=True) if record.get("due_at") is not None else None
    )
    rescheduled_flag, electronic_flag = _flag(record, "rescheduled"), _flag(record, "electronic_result")
    digitized = bool(_flag(record, "digitized"))
    fee_due, fee_paid = _amount(record, "fee_due"), _amount(record, "fee_paid")
    actions = [e[2] for e in raw_events]
    if actions.count("reschedule") > 1:
        raise DomainError("Hồ sơ chỉ được xin lỗi, hẹn lại (reschedule) một lần.", "events")
    if actions.count("attach_result") > 1:
        raise DomainError("Hồ sơ chỉ có một kết quả điện tử (attach_result).", "events")
    rescheduled = "reschedule" in actions
    if rescheduled_flag is not None and rescheduled_flag != rescheduled:
        raise DomainError(
            "Không khớp với sự kiện: rescheduled phải là true khi và chỉ khi có sự kiện reschedule.", "rescheduled"
        )
    if rescheduled and given_due is None:
        raise DomainError("Hồ sơ đã xin lỗi, hẹn lại phải có due_at là ngày hẹn mới.", "due_at")
    has_electronic_result = "attach_result" in actions if electronic_flag is None else electronic_flag
    if has_electronic_result and "approve" not in actions and "attach_result" not in actions:
        raise DomainError(
            "Hồ sơ chưa có kết quả (không có sự kiện approve hoặc attach_result) thì không thể có kết quả điện tử.",
            "electronic_result",
        )
    if electronic_flag is False and "attach_result" in actions:
        raise DomainError("Không khớp với sự kiện attach_result (đính kèm kết quả điện tử).", "electronic_result")
    fee_due = procedure.amount_due(online=channel == Channel.ONLINE) if fee_due is None else fee_due
    fee_paid = fee_paid or 0
    if fee_paid > fee_due:
        raise DomainError("Số đã nộp lớn hơn phí, lệ phí phải nộp.", "fee_paid")

    clean = _Clean(
        code=code,
        procedure=procedure,
        agency=agency,
        channel=channel,
        status=status,
        applicant=applicant,
        submitted_at=submitted_at,
        rescheduled=rescheduled,
        digitized=digitized,
        has_electronic_result=has_electronic_result,
        fee_due=fee_due,
        fee_paid=fee_paid,
    )
    if not raw_events or raw_events[0][2] != "submit":
        # The old system may not list the submission; the timeline always starts with it.
        raw_events.insert(0, ("submitted_at", submitted_at, "submit", None, Channel(channel).label))
    elif raw_events[0][1] != submitted_at:
        raise DomainError("Thời điểm sự kiện submit phải trùng submitted_at.", "events[0].at")
    _replay(clean, raw_events, given_due, lookups)

    if given_due is not None:
        if clean.accepted_at is None:
            raise DomainError(
                "Hồ sơ chưa được tiếp nhận (không có sự kiện accept) thì không có ngày hẹn trả.", "due_at"
            )
        if local_date(given_due) < local_date(clean.accepted_at):
            raise DomainError("Ngày hẹn trả sớm hơn ngày tiếp nhận.", "due_at")
    if clean.finished_at is not None:
        clean.timeliness = timeliness_of(
            Dossier(rescheduled=clean.rescheduled, finished_at=clean.finished_at, due_at=clean.due_at),
            supplement_requests=sum(1 for event in raw_events if event[2] == "request_supplement"),
        )
    return clean


def _replay(clean: _Clean, raw_events: list[tuple], given_due, lookups: _Lookups) -> None:
    """Walk the events through the live workflow's state machine, deriving
    timestamps, deadlines and the agency holding the dossier."""
    state, current, due = NEW, clean.agency, None
    days = clean.procedure.processing_days
    for where, at, action, agency, note in raw_events:
        to_status = TRANSITIONS[action].get(state)
        if to_status is None:
            if action == "submit":
                raise DomainError("Sự kiện submit chỉ được là sự kiện đầu tiên.", f"{where}.action")
            raise DomainError(
                f"Không thể “{action}” khi hồ sơ đang ở trạng thái “{Status(state).label}” ({state}).",
                f"{where}.action",
            )
        if action == "submit" and agency is not None and agency != clean.agency:
            raise DomainError("Cơ quan của sự kiện submit phải là cơ quan tiếp nhận (agency).", f"{where}.agency")
        if action == "accept":
            clean.accepted_at = at
            computed = lookups.working_calendar(at, days).due_at(at, days)
            # A given due_at is the final appointment; after an apology the
            # original one is what the calendar gave at acceptance.
            due = computed if given_due is None or clean.rescheduled else given_due
            clean.original_due_at = due
        elif action == "request_supplement" and state == Status.IN_PROCESS:
            clean.paused_at = at
            clean.paused_remaining_days = lookups.working_calendar(at, 0).working_days_between(
                local_date(at), local_date(due)
            )
        elif action == "supplement" and state == Status.PAUSED:
            if given_due is None:  # the clock restarts with the working days that were left, as in services.supplement
                remaining = clean.paused_remaining_days or 0
                calendar = lookups.working_calendar(at, remaining)
                due = closing_time(calendar.add_working_days(calendar.start_day(at), remaining))
            clean.paused_at, clean.paused_remaining_days = None, None
        elif action == "reschedule":
            due = given_due
        elif action == "approve":
            clean.finished_at = at
        elif action == "return_result":
            clean.returned_at = clean.closed_at = at
        elif action in ("refuse", "withdraw"):
            clean.closed_at = at
        # The agency named on the event holds the dossier after it; an
        # approved result goes back to the receiving counter, as live.
        to_agency = agency or (clean.agency if action == "approve" else current)
        clean.events.append(
            _Event(
                at=at,
                action=action,
                note=note,
                from_status=state,
                to_status=to_status,
                from_agency=current if state != NEW else None,
                to_agency=to_agency,
                due_at=due,
            )
        )
        state, current = to_status, to_agency
    if state != clean.status:
        raise DomainError(
            f"Trạng thái “{clean.status}” không khớp với các sự kiện: theo các sự kiện, hồ sơ đang ở trạng thái "
            f"“{Status(state).label}” ({state}).",
            "status",
        )
    clean.due_at = given_due if given_due is not None else due
    clean.current_agency = current


# ---------------------------------------------------------------- writing


def _write(clean: _Clean, record: dict, actor) -> Dossier:
    with transaction.atomic():
        person = clean.applicant
        applicant = get_or_create_citizen(
            identity_number=person["identity_number"],
            full_name=person["full_name"],
            kind=person["kind"],
            phone=person["phone"],
        )
        dossier = Dossier.objects.create(
            code=clean.code,
            procedure=clean.procedure,
            channel=clean.channel,
            status=clean.status,
            applicant=applicant,
            applicant_name=person["full_name"],
            applicant_identity=person["identity_number"],
            applicant_phone=person["phone"],
            applicant_address=person["address"],
            receiving_agency=clean.agency,
            current_agency=clean.current_agency,
            submitted_at=clean.submitted_at,
            accepted_at=clean.accepted_at,
            due_at=clean.due_at,
            original_due_at=clean.original_due_at,
            finished_at=clean.finished_at,
            returned_at=clean.returned_at,
            closed_at=clean.closed_at,
            paused_at=clean.paused_at,
            paused_remaining_days=clean.paused_remaining_days,
            rescheduled=clean.rescheduled,
            timeliness=clean.timeliness,
            fee_due=clean.fee_due,
            fee_paid=clean.fee_paid,
            digitized=clean.digitized,
            has_electronic_result=clean.has_electronic_result,
            imported=True,
        )
        DossierEvent.objects.bulk_create(
            DossierEvent(
                dossier=dossier,
                at=e.at,
                action=e.action,
                from_status=e.from_status,
                to_status=e.to_status,
                from_agency=e.from_agency,
                to_agency=e.to_agency,
                note=e.note,
                due_at=e.due_at,
            )
            for e in clean.events
        )
        # Codes and statuses only: the audit trail carries no personal data.
        audit.record(
            actor=actor,
            action="dossier.import",
            obj=dossier,
            agency_id=clean.agency.pk,
            after={
                "code": dossier.code,
                "procedure": clean.procedure.code,
                "channel": clean.channel,
                "status": clean.status,
                "submitted_at": clean.submitted_at,
                "timeliness": clean.timeliness,
                "events": len(clean.events),
            },
        )
        idempotency.remember(SCOPE, clean.code, record, dossier)
        events.publish("DossierImported", dossier=dossier.pk)
        return dossier


def _import_record(record, lookups: _Lookups, actor, now: dt.datetime) -> bool:
    """Import one parsed line. True if imported, False if already there;
    raises DomainError (Conflict for a code imported with other content)."""
    if isinstance(record, dict) and isinstance(record.get("code"), str):
        code = _code(record)
        try:
            if idempotency.find(SCOPE, code, record):
                return False
        except Conflict:
            raise Conflict(
                "Mã hồ sơ này đã được nhập trước đây với nội dung khác (xung đột); dòng không được ghi đè.", "code"
            ) from None
        if Dossier.objects.filter(code=code).exists():
            raise Conflict("Mã hồ sơ này đã có trong hệ thống nhưng không do lần nhập trước tạo ra (xung đột).", "code")
    clean = clean_line(record, lookups, now)
    try:
        _write(clean, record, actor)
    except IntegrityError:
        # Another run imported the same code between our check and our write.
        raise Conflict("Mã hồ sơ này vừa được nhập bởi một lượt nhập khác (xung đột).", "code") from None
    return True


class _NonFinite(ValueError):
    pass


def _refuse_constant(name: str):
    raise _NonFinite(name)


MAX_DEPTH = 6  # the schema goes 3 levels deep (a line, its events, an event); a little room for wrong types


def _too_deep(value, depth: int = 1) -> bool:
    if depth > MAX_DEPTH:
        return True
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(isinstance(child, (dict, list)) and _too_deep(child, depth + 1) for child in children)


def _parse(text: str):
    """The JSON value of one line; raises DomainError (field "json") for what is not a line of the schema's JSON."""
    try:
        record = json.loads(text, parse_constant=_refuse_constant)
    except _NonFinite as error:
        raise DomainError(f"Số {error} (NaN, Infinity) không phải số JSON hợp lệ.", "json") from None
    except json.JSONDecodeError as error:
        raise DomainError(f"Dòng không phải JSON hợp lệ (lỗi cú pháp ở cột {error.colno}).", "json") from None
    except RecursionError:  # the parser recurses once per level, and stops at Python's limit
        raise DomainError(_TOO_DEEP, "json") from None
    if _too_deep(record):
        raise DomainError(_TOO_DEEP, "json")
    return record


_TOO_DEEP = "Dòng có cấu trúc lồng nhau quá sâu, không đúng lược đồ nhập."


def max_line_bytes() -> int:
    return int(settings.CQS.get("DOSSIER_IMPORT_MAX_LINE_BYTES", 1024 * 1024))


def read_lines(handle, limit: int | None = None):
    """The lines of a binary file, each at most `limit` bytes (DOSSIER_IMPORT_MAX_LINE_BYTES); a
    longer one is read through in pieces and given as TOO_LONG, so memory stays bounded."""
    limit = limit or max_line_bytes()
    while (line := bounded_line(handle, limit)) is not None:
        yield line


def _rejection(number: int, raw, error: DomainError) -> Rejection:
    return Rejection(number, error.field or "dòng", error.message, raw, conflict=error.code == "conflict")


def import_lines(
    lines: Iterable[bytes | str],
    *,
    actor=ACTOR_LABEL,
    on_reject: Callable[[Rejection], None] | None = None,
    on_progress: Callable[[ImportStats], None] | None = None,
    keep_rejections: bool = True,
) -> ImportStats:
    """Import a stream of JSON Lines (bytes or text), one transaction per line.

    Blank lines are ignored. Every bad line — whatever is wrong with it, even an error nobody
    foresaw — is a Rejection with its line number, and the import goes on with the next line.
    `on_reject` is called for each bad line as it is found (so a report can be streamed);
    `on_progress` every PROGRESS_EVERY lines."""
    lookups, stats, now = _Lookups(), ImportStats(), timezone.now()
    for number, raw in enumerate(lines, 1):
        stats.lines = number
        rejection = None
        try:
            if raw is TOO_LONG:
                size = format_number(max_line_bytes() // 1024)
                raise DomainError(f"Dòng dài quá {size} KB; không đọc, bỏ qua cả dòng.", "dòng")
            try:
                text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            except UnicodeDecodeError:
                raise DomainError("Dòng không phải văn bản UTF-8.", "dòng") from None
            text = text.lstrip("\ufeff") if number == 1 else text
            if text.strip():
                if _import_record(_parse(text), lookups, actor, now):
                    stats.imported += 1
                else:
                    stats.skipped += 1
        except DomainError as error:
            rejection = _rejection(number, "" if raw is TOO_LONG else raw, error)
        except Exception as error:
            # Logged by class and place only: the error's text may quote the line (a person's name).
            log.error(
                "dossier import: line %s failed: %s\n%s",
                number,
                type(error).__name__,
                "".join(traceback.format_tb(error.__traceback__)).rstrip(),
            )
            rejection = Rejection(
                number,
                "dòng",
                f"Không nhập được dòng này do lỗi hệ thống ({type(error).__name__}); các dòng khác vẫn được nhập. "
                "Nếu lỗi lặp lại, hãy báo quản trị hệ thống.",
                raw,
            )
        if rejection is not None:
            raw = rejection.raw
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8", "replace")
            rejection.raw = raw.rstrip("\r\n")
            stats.rejected += 1
            stats.conflicts += rejection.conflict
            if keep_rejections:
                stats.rejections.append(rejection)
            if on_reject:
                on_reject(rejection)
        if on_progress and number % PROGRESS_EVERY == 0:
            on_progress(stats)
    return stats


def import_file(path, **options) -> ImportStats:
    """Stream a JSON Lines file from disk (never read whole, each line bounded)."""
    with open(path, "rb") as handle:
        return import_lines(read_lines(handle), **options)

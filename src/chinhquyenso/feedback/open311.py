"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) over the feedback app.

Every endpoint answers JSON or XML by the extension of its path and reports
errors in the spec's format (`[{"code": 400, "description": "..."}]`,
`<errors><error>…</error></errors>`) with Vietnamese descriptions that start
with the offending parameter. GET answers are public and carry no personal
data: no reporter name, phone, e-mail or exact address; the place is the
commune and the point is rounded to 3 decimals (about 110 m). Contact details
can only be written (POST). docs/feedback.md, "Open311 GeoReport v2"."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from chinhquyenso.core import params as bounded
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.http import client_ip
from chinhquyenso.core.text import UNSTORABLE_MESSAGE, nfc
from chinhquyenso.feedback import api_clients, selectors, services
from chinhquyenso.feedback.conf import conf
from chinhquyenso.feedback.models import OPEN_STATUSES, Category, Photo, Status
from chinhquyenso.org.models import AgencyKind

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this API's contract last changed (the discovery document's changeset).
CHANGESET = "2026-11-24T00:00:00+07:00"
MAX_RESULTS = 1000  # the spec's ceiling for GET requests
DEFAULT_DAYS = 90  # the spec's default and largest start_date–end_date span
DATATYPES = {
    "string": "Chuỗi ký tự ngắn",
    "number": "Số (dấu chấm thập phân, ví dụ 12.5)",
    "datetime": "Ngày giờ theo W3C, ví dụ 2025-03-10T09:30:00+07:00",
    "text": "Văn bản dài",
    "singlevaluelist": "Chọn một giá trị (key) trong danh sách values",
    "multivaluelist": "Chọn một hay nhiều giá trị (key) trong danh sách values: attribute[code][]=…",
}
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# XML: the element for each item of a list, by the list's element.
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
# services.Submission's field names (and submit's idempotency key) → the Open311 parameters a client sent.
PARAMETERS = {
    "category_code": "service_code",
    "latitude": "lat",
    "longitude": "long",
    "address": "address_string",
    "area_code": "address_id",
    "name": "first_name, last_name",
    "photos": "media",
    "attribute_values": "attribute",
    "idempotency_key": "Idempotency-Key",
    "location": "lat, long, address_string, address_id",
    "client_ip": "",
}
ATTRIBUTE_PARAM = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


class Open311Error(Exception):
    def __init__(self, status: int, parameter: str, message: str):
        super().__init__(message)
        self.status = status
        self.description = f"{parameter}: {message}" if parameter else message


# ---------------------------------------------------------------- rendering


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        for item in value:
            _fill(ET.SubElement(element, LIST_ITEMS[element.tag]), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def render(fmt: str, root: str, data, status: int = 200) -> HttpResponse:
    """`data` as JSON, or as XML under `root` (lists become repeated items, see LIST_ITEMS)."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
    else:
        element = ET.Element(root)
        _fill(element, data)
        body = XML_DECLARATION + ET.tostring(element, encoding="unicode")
    return HttpResponse(body.encode(), content_type=CONTENT_TYPES[fmt], status=status)


def error_response(fmt: str, status: int, description: str) -> HttpResponse:
    return render(fmt, "errors", [{"code": status, "description": description}], status=status)


def _fmt_of(path: str) -> str:
    return "xml" if path.endswith(".xml") else "json"


def _unstorable_input(request, field: str) -> HttpResponse:
    """core.middleware.RejectUnstorableInput answers Open311 paths with this."""
    return error_response(_fmt_of(request.path), 400, f"{field}: {UNSTORABLE_MESSAGE}")


def _parameter(field: str | None) -> str:
    if not field:
        return ""
    head, _, rest = field.partition(".")
    if head == "attribute_values" and rest:
        return f"attribute[{rest}]"
    if head.startswith("photos["):  # photos[0] → media[0]
        return "media" + head.removeprefix("photos")
    return PARAMETERS.get(field, field)


def endpoint(*methods: str):
    """An Open311 view: the method check, jurisdiction_id, errors in the spec's
    format, CORS for the public GET answers. CSRF does not apply: POST is
    authenticated by api_key, never by a cookie."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, fmt, **kwargs):
            if request.method not in methods:
                response = error_response(
                    fmt,
                    405,
                    f"Phương thức {request.method} không dùng được ở địa chỉ này "
                    f"(dùng {', '.join(m for m in methods if m != 'HEAD')}).",
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                _check_jurisdiction(request)
                response = view(request, fmt, **kwargs)
            except Open311Error as error:
                response = error_response(fmt, error.status, error.description)
            except DomainError as error:
                parameter = _parameter(error.field)
                response = error_response(
                    fmt, error.status_code, f"{parameter}: {error.message}" if parameter else error.message
                )
            if request.method in ("GET", "HEAD"):
                response["Access-Control-Allow-Origin"] = "*"  # public data, read by web apps on other origins
            return response

        wrapped = csrf_exempt(wrapper)
        wrapped.unstorable_input_response = _unstorable_input
        return wrapped

    return decorate


def _check_jurisdiction(request) -> None:
    params = request.POST if request.method == "POST" else request.GET
    given = params.get("jurisdiction_id", "").strip()
    if given and jurisdiction() and given != jurisdiction():
        raise Open311Error(404, "jurisdiction_id", f"hệ thống chỉ phục vụ «{jurisdiction()}», không phục vụ «{given}».")


def jurisdiction() -> str:
    """The jurisdiction_id this system serves: CQS["FEEDBACK_OPEN311_JURISDICTION"],
    else the host of CQS["SITE_URL"] (empty: any jurisdiction_id is accepted)."""
    return conf("FEEDBACK_OPEN311_JURISDICTION") or (urlsplit(settings.CQS.get("SITE_URL", "")).hostname or "")


def _contact() -> str:
    return settings.CQS.get("OPEN311_CONTACT") or (
        f"Trung tâm Giám sát, điều hành thông minh (IOC) tỉnh {settings.CQS['PROVINCE_NAME']}"
    )


def w3c(value: dt.datetime | None) -> str | None:
    """2025-03-10T09:30:00+07:00 (local time with its offset, as the spec asks)."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# ---------------------------------------------------------------- discovery and services


@endpoint("GET", "HEAD")
def discovery(request, fmt):
    root = request.build_absolute_uri(reverse("open311:root")).rstrip("/")
    return render(
        fmt,
        "discovery",
        {
            "changeset": CHANGESET,
            "contact": _contact(),
            "key_service": f"Mã API (api_key) để gửi phản ánh: đề nghị {_contact()} cấp cho ứng dụng.",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": root,
                    "changeset": CHANGESET,
                    "type": "test" if settings.DEBUG else "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@endpoint("GET", "HEAD")
def service_list(request, fmt):
    return render(
        fmt,
        "services",
        [
            {
                "service_code": c.code,
                "service_name": c.name,
                "description": c.description,
                "metadata": bool(c.attributes),
                "type": "realtime",
                "keywords": c.keywords,
                "group": c.group,
            }
            for c in selectors.active_categories()
        ],
    )


def _active_category(code: str, status: int = 404) -> Category:
    category = selectors.active_categories().filter(code=code).first()
    if category is None:
        raise Open311Error(status, "service_code", f"không có lĩnh vực phản ánh với mã «{code}».")
    return category


def _values(attribute: dict) -> list[dict]:
    # Values are {"key", "name"} pairs; a bare string is its own key and name.
    pairs = [
        (v["key"], v.get("name", v["key"])) if isinstance(v, dict) else (v, v) for v in attribute.get("values") or []
    ]
    return [{"key": str(key), "name": str(name)} for key, name in pairs]


@endpoint("GET", "HEAD")
def service_definition(request, fmt, code):
    category = _active_category(code)
    attributes = sorted(category.attributes or [], key=lambda a: a.get("order", 0))
    return render(
        fmt,
        "service_definition",
        {
            "service_code": category.code,
            "attributes": [
                {
                    "variable": a.get("variable", True),
                    "code": a["code"],
                    "datatype": a.get("datatype", "string"),
                    "required": bool(a.get("required", False)),
                    "datatype_description": a.get("datatype_description")
                    or DATATYPES.get(a.get("datatype", "string"), ""),
                    "order": a.get("order", i),
                    "description": a.get("description", ""),
                    "values": _values(a),
                }
                for i, a in enumerate(attributes, start=1)
            ],
        },
    )


# ---------------------------------------------------------------- service requests


@endpoint("GET", "HEAD", "POST")
def service_requests(request, fmt):
    if request.method == "POST":
        return _create(request, fmt)
    reports, page, page_size = _search(request.GET)
    # The page's ids first, from the index alone; then only their rows with the joins and the photo
    # subquery (an OFFSET over full rows would build tens of thousands of them to skip them).
    ids = list(reports.values_list("pk", flat=True)[(page - 1) * page_size : page * page_size + 1])
    rows = _public(reports.filter(pk__in=ids[:page_size])) if ids else []
    response = render(fmt, "service_requests", [public_request(r, request) for r in rows])
    if len(ids) > page_size:  # one more row than the page: tell the client where the next page is
        query = urlencode({**request.GET.dict(), "page": page + 1, "page_size": page_size})
        response["Link"] = f'<{request.build_absolute_uri(request.path)}?{query}>; rel="next"'
    return response


@endpoint("GET", "HEAD")
def service_request(request, fmt, request_id):
    report = _public(selectors.public_reports(codes=[request_id])).first()
    if report is None:
        raise Open311Error(404, "service_request_id", f"không có phản ánh mã «{request_id}».")
    return render(fmt, "service_requests", [public_request(report, request)])


@endpoint("GET", "HEAD")
def token_lookup(request, fmt, token):
    code = selectors.public_reports().filter(token=token).values_list("code", flat=True).first()
    if code is None:
        raise Open311Error(404, "token", "không có phản ánh nào ứng với token này.")
    return render(fmt, "service_requests", [{"service_request_id": code, "token": token}])


def not_found(request, path):
    return error_response(_fmt_of(path), 404, f"Không có tài nguyên Open311 «/{path}» (xem discovery.json).")


not_found.unstorable_input_response = _unstorable_input


# ---------------------------------------------------------------- GET requests: filters


def _csv(params, name: str) -> list[str]:
    return [part.strip() for value in params.getlist(name) for part in value.split(",") if part.strip()]


def _positive_int(params, name: str, default: int, maximum: int) -> int:
    """core.params.integer, its refusal in Open311's words (the description starts with the parameter)."""
    raw = params.get(name, "").strip()
    try:
        return bounded.integer(raw, name, default=default, minimum=1, maximum=maximum)
    except DomainError:
        positive = raw.isascii() and raw.isdigit() and raw.strip("0") != ""  # a number, only too large
        raise Open311Error(
            400, name, f"tối đa {maximum}." if positive else f"phải là số nguyên dương, không phải «{raw}»."
        ) from None


def _datetime(params, name: str, *, end_of_day: bool = False) -> dt.datetime | None:
    """W3C datetime; a date alone is that whole local day; no offset means local time."""
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise Open311Error(
            400, name, f"«{raw}» không phải ngày giờ W3C (ví dụ 2025-03-01T00:00:00+07:00 hoặc 2025-03-01T00:00:00Z)."
        ) from None
    try:
        bounded.check_moment(value, name)
    except DomainError:
        raise Open311Error(
            400, name, f"phải trong khoảng {bounded.EARLIEST_DATE.isoformat()} – {bounded.LATEST_DATE.isoformat()}."
        ) from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if end_of_day and len(raw) == 10:
        value += dt.timedelta(days=1, microseconds=-1)
    return value


def _search(params):
    """The matching public reports, the page and its size. service_request_id
    overrides every other filter (the spec)."""
    page_size = _positive_int(params, "page_size", MAX_RESULTS, MAX_RESULTS)
    page = _positive_int(params, "page", 1, bounded.MAX_OFFSET // page_size + 1)
    ids = _csv(params, "service_request_id")
    if ids:
        if len(ids) > MAX_RESULTS:
            raise Open311Error(400, "service_request_id", f"tối đa {MAX_RESULTS} mã mỗi lần.")
        return selectors.public_reports(codes=ids), page, page_size
    start, end = _datetime(params, "start_date"), _datetime(params, "end_date", end_of_day=True)
    span = dt.timedelta(days=DEFAULT_DAYS)
    if start is None and end is None:
        end = timezone.now()
    start, end = start or end - span, end or start + span
    if start > end:
        raise Open311Error(400, "start_date", "phải trước end_date.")
    if end - start > span:
        raise Open311Error(400, "end_date", f"khoảng start_date–end_date không được dài quá {DEFAULT_DAYS} ngày.")
    codes = _csv(params, "service_code")
    unknown = set(codes) - set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
    if unknown:
        raise Open311Error(400, "service_code", f"không có lĩnh vực phản ánh với mã «{sorted(unknown)[0]}».")
    wanted = {s.lower() for s in _csv(params, "status")}
    if wanted - {"open", "closed"}:
        raise Open311Error(400, "status", f"chỉ nhận open, closed (không nhận «{min(wanted - {'open', 'closed'})}»).")
    statuses = [s for s in Status.values if wanted and ("open" if s in OPEN_STATUSES else "closed") in wanted]
    reports = selectors.public_reports(category_code=",".join(codes), status=statuses, start=start, end=end)
    return reports, page, page_size


# What an answer shows beyond the selector's public fields: loaded in the same query.
EXTRA_FIELDS = ("media_url", "category__handling_days", "area__parent__name", "area__parent__kind")


def _public(reports):
    """The answer's reports in one query: the selector's public fields, the
    district of the place and the first public photo (one stripped of its GPS
    position)."""
    first_photo = (
        Photo.objects.filter(feedback=OuterRef("pk"), kept_location=False).order_by("order", "id").values("id")[:1]
    )
    return (
        reports.select_related("area__parent")
        .only(*selectors.PUBLIC_FIELDS, *EXTRA_FIELDS)
        .annotate(photo_id=Subquery(first_photo))
    )


# ---------------------------------------------------------------- GET requests: one report


def public_place(area) -> str | None:
    """'xã Kiến An, huyện Chợ Mới, tỉnh <province>' — where, without the reporter's address."""
    if area is None:
        return None
    names = [area.name]
    if area.parent is not None and area.parent.kind == AgencyKind.DISTRICT_COMMITTEE:
        names.append(area.parent.name)
    return ", ".join([*map(selectors.area_label, names), f"tỉnh {settings.CQS['PROVINCE_NAME']}"])


def _status_notes(report) -> str | None:
    if report.status == Status.REJECTED:
        return report.rejection_reason or None
    if report.status == Status.MERGED and report.merged_into:
        return f"Trùng nội dung, đã gộp vào phản ánh {report.merged_into.code}."
    return report.public_reply or None


def _notice(category: Category) -> str:
    return f"Cơ quan có thẩm quyền xử lý trong {category.handling_days} ngày làm việc kể từ khi tiếp nhận."


def photo_url(request, photo_id: int) -> str:
    return request.build_absolute_uri(reverse("feedback:photo", args=[photo_id]))


def public_request(report, request) -> dict:
    """One report as an Open311 service request, public fields only, plus our
    finer status (detailed_status, detailed_status_name)."""
    point = selectors.public_point(report)  # rounded to 3 decimals (~110 m): the place, not the house
    return {
        "service_request_id": report.code,
        "status": "open" if report.status in OPEN_STATUSES else "closed",
        "status_notes": _status_notes(report),
        "service_name": report.category.name,
        "service_code": report.category.code,
        "description": report.description,
        "agency_responsible": report.agency.name if report.agency else None,
        "service_notice": _notice(report.category),
        "requested_datetime": w3c(report.received_at),
        "updated_datetime": w3c(report.updated_at),
        "expected_datetime": w3c(report.due_at),
        "address": public_place(report.area),
        "address_id": report.area.code if report.area else None,
        "zipcode": None,
        "lat": float(point[0]) if point else None,
        "long": float(point[1]) if point else None,
        "media_url": photo_url(request, report.photo_id) if report.photo_id else (report.media_url or None),
        "detailed_status": report.status,
        "detailed_status_name": report.get_status_display(),
    }


# ---------------------------------------------------------------- POST requests


def _decimal(params, name: str) -> Decimal | None:
    raw = params.get(name, "").strip()
    try:
        return bounded.decimal(raw.replace(",", "\x00"), name)  # a comma is no decimal mark here
    except DomainError:
        raise Open311Error(400, name, f"«{raw}» không phải số thập phân (WGS84, dấu chấm, ví dụ 10.3865).") from None


def _attributes(params) -> dict:
    """attribute[code]=v, and attribute[code][]=v1&attribute[code][]=v2 for a multivaluelist."""
    values = {}
    for name in params:
        match = ATTRIBUTE_PARAM.match(name)
        if match:
            code, many = match.groups()
            items = [nfc(v) for v in params.getlist(name)]
            values[code] = items if many else items[-1]
    return values


def _submission(request) -> tuple[services.Submission, str, str]:
    """The report, the device id and the idempotency key from the form;
    checks what only Open311 defines."""
    params = request.POST
    text = lambda name: nfc(params.get(name, ""))  # noqa: E731
    service_code = text("service_code")
    if not service_code:
        raise Open311Error(400, "service_code", "bắt buộc.")
    lat, lon = _decimal(params, "lat"), _decimal(params, "long")
    if (lat is None) != (lon is None):
        raise Open311Error(400, "long" if lon is None else "lat", "cần cả lat và long.")
    if lat is None and not text("address_string") and not text("address_id"):
        raise Open311Error(400, "lat", "chưa có vị trí (cần lat và long, address_string hoặc address_id).")
    _active_category(service_code, status=400)
    files, limit = request.FILES.getlist("media"), settings.CQS["UPLOAD_MAX_BYTES"]
    for i, upload in enumerate(files):  # before reading it into memory
        if upload.size > limit:
            raise Open311Error(400, f"media[{i}]", f"ảnh vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).")
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 150:
        raise Open311Error(400, "Idempotency-Key", "dài quá 150 ký tự.")
    report = services.Submission(
        category_code=service_code,
        description=params.get("description", ""),
        latitude=lat,
        longitude=lon,
        address=params.get("address_string", ""),
        area_code=text("address_id"),
        # Vietnamese names put the family name first: last_name "Nguyễn Thị", first_name "Hoà".
        name=" ".join(p for p in (text("last_name"), text("first_name")) if p),
        phone=text("phone"),
        email=text("email"),
        attribute_values=_attributes(params),
        media_url=text("media_url"),
        photos=tuple(upload.read() for upload in files),
    )
    return report, text("device_id"), key


def _create(request, fmt):
    key = request.POST.get("api_key", "").strip()
    if not key:
        raise Open311Error(403, "api_key", "thiếu mã API; ứng dụng cần được cấp mã để gửi phản ánh.")
    client = api_clients.client_for_key(key)
    if client is None:
        raise Open311Error(403, "api_key", "mã API không hợp lệ hoặc đã bị thu hồi.")
    submission, device_id, key = _submission(request)
    # Idempotency keys are the client's own (the services scope them to their caller, the client).
    report = services.submit(
        submission,
        channel="open311",
        api_client=client.name,
        device_id=device_id,
        idempotency_key=key,
        client_ip=client_ip(request),
    )
    # account_id: reports sent through an application are not tied to an account here.
    return render(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": report.code,
                "token": report.token,
                "service_notice": _notice(report.category),
                "account_id": None,
            }
        ],
    )

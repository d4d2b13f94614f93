"""Open311 GeoReport v2 (/open311/v2/): every endpoint in JSON and XML, the
spec's element names and error format, filters, API keys, idempotency,
open/closed mapping, and no personal data in any GET answer."""

import datetime as dt
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from chinhquyenso.core.models import AuditRecord
from chinhquyenso.feedback import api_clients, services
from chinhquyenso.feedback.models import Category, Feedback, Status
from tests.feedback.conftest import jpeg

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
LAMP_ATTRIBUTES = [
    {"code": "so_cot", "datatype": "number", "required": True, "description": "Số hiệu cột đèn", "order": 1},
    {
        "code": "muc_do",
        "datatype": "singlevaluelist",
        "required": True,
        "description": "Mức độ hư hỏng",
        "order": 2,
        "values": [{"key": "hong", "name": "Tắt hẳn"}, {"key": "chap_chon", "name": "Chập chờn"}],
    },
    {"code": "tu_luc", "datatype": "datetime", "required": False, "description": "Hỏng từ lúc", "order": 3},
    {
        "code": "khu_vuc",
        "datatype": "multivaluelist",
        "required": False,
        "description": "Khu vực ảnh hưởng",
        "order": 4,
        "values": [{"key": "duong", "name": "Lòng đường"}, {"key": "via_he", "name": "Vỉa hè"}],
    },
    {"code": "ghi_chu", "datatype": "text", "required": False, "description": "Ghi chú thêm", "order": 5},
]
# The reporter's details: none of them may appear in a GET answer.
REPORTER = {
    "first_name": "Hoà",
    "last_name": "Nguyễn Thị",
    "phone": "0912 345 678",
    "email": "hoa.nguyen@example.vn",
    "address_string": "Số 12 đường Trần Hưng Đạo, ấp Kiến Hưng",
    "lat": "10.481234",
    "long": "105.481876",
}


@pytest.fixture
def lamp(categories):
    """A category with one attribute of every Open311 datatype."""
    return Category.objects.create(
        code="den-duong",
        name="Chiếu sáng công cộng",
        group="Hạ tầng đô thị",
        keywords="đèn đường, chiếu sáng",
        description="Đèn đường hỏng, tắt, chập chờn.",
        handling_days=10,
        attributes=LAMP_ATTRIBUTES,
        order=20,
    )


@pytest.fixture
def key(db):
    return api_clients.issue(actor=None, name="Ứng dụng An Giang 1022")[1]


@pytest.fixture
def api(categories, points, key):
    """post(fmt="json", **fields) with the client's key; get(path, **params)."""
    client = Client()

    class Api:
        def post(self, fmt="json", headers=None, **fields):
            data = {"api_key": key, "service_code": "moi-truong", **fields}
            data = {k: v for k, v in data.items() if v is not None}
            return client.post(f"{BASE}/requests.{fmt}", data, headers=headers or {})

        def get(self, path, **params):
            return client.get(f"{BASE}/{path}", params)

    return Api()


def xml(response):
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(XML_DECLARATION)
    return ET.fromstring(response.content)


def as_json(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def error(response, status, fmt="json"):
    """The spec's error format: [{"code", "description"}] / <errors><error>…; returns the description."""
    assert response.status_code == status, response.content.decode()
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"]
        assert [c.tag for c in root[0]] == ["code", "description"] and root[0].findtext("code") == str(status)
        return root[0].findtext("description")
    body = as_json(response)
    assert len(body) == 1 and body[0]["code"] == status
    return body[0]["description"]


def ago(**delta):
    return timezone.now() - dt.timedelta(**delta)


# ---------------------------------------------------------------- discovery, services


def test_discovery(api):
    body = as_json(api.get("discovery.json"))
    assert body["changeset"] and "IOC" in body["contact"] and body["key_service"]
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2" and endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]

    root = xml(api.get("discovery.xml"))
    assert root.tag == "discovery" and [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert [c.tag for c in endpoint] == ["specification", "url", "changeset", "type", "formats"]
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    assert Client().get(f"{BASE}/").headers["Location"] == "discovery.json"


def test_services(api, lamp, categories):
    Category.objects.filter(code="khac").update(is_active=False)
    body = as_json(api.get("services.json"))
    codes = [s["service_code"] for s in body]
    assert "den-duong" in codes and "moi-truong" in codes and "khac" not in codes
    assert len(codes) == len(categories)  # ten default categories, one inactive, plus the lamp
    service = next(s for s in body if s["service_code"] == "den-duong")
    assert service == {
        "service_code": "den-duong",
        "service_name": "Chiếu sáng công cộng",
        "description": "Đèn đường hỏng, tắt, chập chờn.",
        "metadata": True,
        "type": "realtime",
        "keywords": "đèn đường, chiếu sáng",
        "group": "Hạ tầng đô thị",
    }
    assert next(s for s in body if s["service_code"] == "trat-tu-do-thi")["metadata"] is False

    root = xml(api.get("services.xml"))
    assert root.tag == "services" and {c.tag for c in root} == {"service"}
    lamp_xml = next(s for s in root if s.findtext("service_code") == "den-duong")
    assert [c.tag for c in lamp_xml] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert lamp_xml.findtext("metadata") == "true" and lamp_xml.findtext("service_name") == "Chiếu sáng công cộng"


def test_service_definition(api, lamp):
    body = as_json(api.get("services/den-duong.json"))
    assert body["service_code"] == "den-duong"
    assert [a["code"] for a in body["attributes"]] == ["so_cot", "muc_do", "tu_luc", "khu_vuc", "ghi_chu"]
    assert [a["datatype"] for a in body["attributes"]] == [
        "number",
        "singlevaluelist",
        "datetime",
        "multivaluelist",
        "text",
    ]
    level = body["attributes"][1]
    assert level == {
        "variable": True,
        "code": "muc_do",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": level["datatype_description"],
        "order": 2,
        "description": "Mức độ hư hỏng",
        "values": [{"key": "hong", "name": "Tắt hẳn"}, {"key": "chap_chon", "name": "Chập chờn"}],
    }
    assert level["datatype_description"] and body["attributes"][2]["required"] is False

    root = xml(api.get("services/den-duong.xml"))
    assert root.tag == "service_definition" and [c.tag for c in root] == ["service_code", "attributes"]
    attribute = root.findall("attributes/attribute")[1]
    assert [c.tag for c in attribute] == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    ]
    assert attribute.findtext("required") == "true"
    assert [(v.findtext("key"), v.findtext("name")) for v in attribute.findall("values/value")] == [
        ("hong", "Tắt hẳn"),
        ("chap_chon", "Chập chờn"),
    ]

    assert (
        error(api.get("services/khong-co.json"), 404) == "service_code: không có lĩnh vực phản ánh với mã «khong-co»."
    )
    assert error(api.get("services/khong-co.xml"), 404, "xml").startswith("service_code:")
    Category.objects.filter(code="den-duong").update(is_active=False)
    error(api.get("services/den-duong.json"), 404)


# ---------------------------------------------------------------- POST requests


def test_post_creates_a_routed_report(api, lamp, province):
    response = api.post(
        service_code="den-duong",
        description="Đèn đường trước chợ Kiến An tắt ba đêm nay.",
        device_id="may-1",
        media_url="https://cdn.example.vn/anh/123.jpg",
        **{
            "attribute[so_cot]": "17",
            "attribute[muc_do]": "hong",
            "attribute[tu_luc]": "2025-03-01T19:00:00+07:00",
            "attribute[khu_vuc][]": ["duong", "via_he"],
        },
        **REPORTER,
    )
    assert response.status_code == 200, response.content.decode()
    (answer,) = as_json(response)
    report = Feedback.objects.get()
    assert answer == {
        "service_request_id": report.code,
        "token": report.token,
        "account_id": None,
        "service_notice": "Cơ quan có thẩm quyền xử lý trong 10 ngày làm việc kể từ khi tiếp nhận.",
    }
    assert report.channel == "open311" and report.api_client == "Ứng dụng An Giang 1022"
    # Vietnamese names: family name first.
    assert (report.reporter_name, report.reporter_phone, report.reporter_email) == (
        "Nguyễn Thị Hoà",
        "0912345678",
        "hoa.nguyen@example.vn",
    )
    assert report.attribute_values == {
        "so_cot": 17.0,
        "muc_do": "hong",
        "tu_luc": "2025-03-01T19:00:00+07:00",
        "khu_vuc": ["duong", "via_he"],
    }
    assert report.media_url == "https://cdn.example.vn/anh/123.jpg"
    # The pin is nearest to Kiến An's point: the commune handles it.
    assert report.area == province["xa_a"] and report.agency == province["xa_a"]
    assert report.status == Status.ASSIGNED

    root = xml(api.post("xml", description="Rác thải đổ ra kênh Kiến An.", address_id="xa-kien-thanh"))
    assert root.tag == "service_requests" and [c.tag for c in root] == ["request"]
    assert [c.tag for c in root[0]] == ["service_request_id", "token", "service_notice", "account_id"]
    second = Feedback.objects.get(code=root[0].findtext("service_request_id"))
    assert second.area == province["xa_b"] and second.token == root[0].findtext("token")


@pytest.mark.parametrize(
    ("fields", "status", "starts"),
    [
        ({"api_key": None}, 403, "api_key: thiếu mã API"),
        ({"api_key": "o311_sai"}, 403, "api_key: mã API không hợp lệ"),
        ({"service_code": "khong-co"}, 400, "service_code: không có lĩnh vực phản ánh với mã «khong-co»"),
        ({"service_code": None}, 400, "service_code: bắt buộc"),
        ({"lat": None, "long": None, "address_string": None}, 400, "lat: chưa có vị trí"),
        ({"long": None}, 400, "long: cần cả lat và long"),
        ({"lat": "mười"}, 400, "lat: «mười» không phải số thập phân"),
        ({"lat": "95"}, 400, "lat: Tọa độ nằm ngoài khoảng"),
        ({"address_id": "xa-khong-co", "lat": None, "long": None}, 400, "address_id: Không tìm thấy xã"),
        ({"description": "  "}, 400, "description: Nội dung phản ánh không được để trống"),
        ({"email": "khong-phai-thu"}, 400, "email: Địa chỉ thư điện tử không hợp lệ"),
        ({"phone": "12ab"}, 400, "phone: Số điện thoại không hợp lệ"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url: Đường dẫn ảnh phải là địa chỉ http"),
        ({"attribute[so_cot]": None}, 400, "attribute[so_cot]: Thiếu thông tin bắt buộc: Số hiệu cột đèn"),
        ({"attribute[so_cot]": "mười bảy"}, 400, "attribute[so_cot]: “Số hiệu cột đèn” phải là số"),
        ({"attribute[so_cot]": "nan"}, 400, "attribute[so_cot]: “Số hiệu cột đèn” phải là số"),
        ({"attribute[muc_do]": "chay"}, 400, "attribute[muc_do]: Giá trị không có trong danh sách chọn"),
        ({"attribute[khu_vuc][]": ["duong", "song"]}, 400, "attribute[khu_vuc]: Giá trị không có trong danh sách"),
        ({"attribute[tu_luc]": "hôm qua"}, 400, "attribute[tu_luc]: “Hỏng từ lúc” phải là ngày giờ W3C"),
        ({"attribute[mau_den]": "vàng"}, 400, "attribute[mau_den]: Lĩnh vực này không có thông tin bổ sung"),
        ({"jurisdiction_id": "hanoi.gov.vn"}, 404, "jurisdiction_id: hệ thống chỉ phục vụ «dvc.example.gov.vn»"),
    ],
)
def test_post_errors_name_the_parameter_and_write_nothing(api, lamp, fields, status, starts):
    valid = {
        "service_code": "den-duong",
        "description": "Đèn đường hỏng.",
        "lat": "10.48",
        "long": "105.48",
        "attribute[so_cot]": "3",
        "attribute[muc_do]": "hong",
    }
    for fmt in ("json", "xml"):
        description = error(api.post(fmt, **{**valid, **fields}), status, fmt)
        assert description.startswith(starts), description
    assert not Feedback.objects.exists()
    assert api.post(**valid).status_code == 200  # the same request, corrected, goes through


def test_revoked_key_and_console_command(api, capsys):
    call_command("open311_client", "issue", "Ki-ốt phường", "--contact", "UBND phường Mỹ Long")
    new_key = capsys.readouterr().out.strip().splitlines()[-1]
    assert new_key.startswith("o311_")
    assert api.post(api_key=new_key, description="Cống nghẹt.", address_id="xa-kien-an").status_code == 200
    call_command("open311_client", "revoke", "Ki-ốt phường")
    assert error(api.post(api_key=new_key, description="Cống nghẹt lần hai.", address_id="xa-kien-an"), 403).startswith(
        "api_key: mã API không hợp lệ hoặc đã bị thu hồi"
    )
    call_command("open311_client", "list")
    listing = capsys.readouterr().out
    assert "Ki-ốt phường" in listing and "đã thu hồi" in listing and new_key not in listing


def test_idempotency_key_gives_the_same_answer(api, key):
    fields = {"description": "Nước thải tràn ra đường.", "address_id": "xa-kien-an"}
    first = api.post(headers={"Idempotency-Key": "lan-1"}, **fields)
    again = api.post(headers={"Idempotency-Key": "lan-1"}, **fields)
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert Feedback.objects.count() == 1
    other = api.post(headers={"Idempotency-Key": "lan-1"}, description="Nội dung khác hẳn.", address_id="xa-kien-an")
    assert error(other, 409).startswith("Idempotency-Key: ")
    # Keys belong to one application: another one using "lan-1" gets its own report.
    other_key = api_clients.issue(actor=None, name="Ứng dụng khác")[1]
    theirs = api.post(api_key=other_key, headers={"Idempotency-Key": "lan-1"}, device_id="may-khac", **fields)
    assert as_json(theirs)[0]["service_request_id"] != as_json(first)[0]["service_request_id"]
    assert error(api.post(headers={"Idempotency-Key": "k" * 151}, **fields), 400).startswith("Idempotency-Key:")


def test_a_resent_report_is_the_first_one(api):
    fields = {
        "description": "Đèn tín hiệu giao thông ngã tư hỏng.",
        "service_code": "giao-thong",
        "address_id": "xa-kien-an",
        "device_id": "dien-thoai-7",
    }
    assert as_json(api.post(**fields)) == as_json(api.post(**fields))
    assert Feedback.objects.count() == 1


def test_rate_limit_per_address(api, settings):
    settings.CQS = {**settings.CQS, "FEEDBACK_PER_IP_PER_HOUR": 2}
    for i in range(2):
        assert api.post(description=f"Phản ánh số {i}.", address_id="xa-kien-an").status_code == 200
    description = error(api.post(description="Phản ánh thứ ba.", address_id="xa-kien-an"), 429)
    assert "trong một giờ qua" in description and not description.startswith(":")
    assert Feedback.objects.count() == 2


def test_photo_upload_becomes_the_public_media_url(api, settings):
    """Extension: multipart `media` files are stored as the report's photos
    (GPS removed); GET media_url then points at the public photo."""
    upload = io.BytesIO(jpeg(gps=True))
    upload.name = "anh.jpg"
    response = api.post(
        description="Bãi rác tự phát.",
        address_id="xa-kien-an",
        media=upload,
        media_url="https://cdn.example.vn/khong-dung.jpg",
    )
    assert response.status_code == 200, response.content.decode()
    code = as_json(response)[0]["service_request_id"]
    report = Feedback.objects.get(code=code)
    photo = report.photos.get()
    assert not photo.kept_location  # GPS stripped: an Open311 photo is public
    (shown,) = as_json(api.get(f"requests/{code}.json"))
    assert shown["media_url"] == f"http://testserver/phan-anh/anh/{photo.pk}/"
    served = Client().get(shown["media_url"].removeprefix("http://testserver"))
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    settings.CQS = {**settings.CQS, "UPLOAD_MAX_BYTES": 100}
    upload = io.BytesIO(jpeg())
    upload.name = "lon.jpg"
    big = api.post(description="Ảnh quá lớn.", address_id="xa-kien-an", media=upload)
    assert error(big, 400).startswith("media[0]: ảnh vượt quá dung lượng cho phép")


# ---------------------------------------------------------------- GET requests


@pytest.fixture
def handled(report, officers, ioc_operator, province):
    """Reports in every status, filed over the last days (the default window is 90 days)."""
    kw = {"reporter": None, "channel": "ioc", "name": "Trần Văn Bình"}  # taken by phone at the IOC
    received = report(description="Rác ùn ứ chợ Kiến An.", at=ago(days=5), phone="0987654301", **kw)
    assigned = report(description="Khói đốt rác gần trường học.", at=ago(days=4), phone="0987654302", **kw)
    resolved = report(description="Cống thoát nước bị nghẹt.", at=ago(days=3), phone="0987654303", **kw)
    rejected = report(description="Tranh chấp đất giữa hai hộ.", at=ago(days=3, hours=1), phone="0987654304", **kw)
    merged = report(description="Cống thoát nước bị nghẹt, nước tràn.", at=ago(days=2), phone="0987654305", **kw)
    old = report(description="Phản ánh từ nửa năm trước.", at=ago(days=200), phone="0987654306", **kw)
    specialist = officers["xa_a"]["specialist"]
    Feedback.objects.filter(pk=received.pk).update(agency=None, status=Status.RECEIVED)  # waiting in the IOC queue
    services.start(resolved, actor=specialist, at=ago(days=2))
    services.resolve(
        resolved, actor=specialist, public_reply="Đã nạo vét cống, nước thoát bình thường.", at=ago(days=1)
    )
    services.reject(
        rejected, actor=specialist, reason="Tranh chấp dân sự: đề nghị liên hệ Tòa án nhân dân huyện.", at=ago(days=2)
    )
    services.merge(merged, into=resolved, actor=ioc_operator, at=ago(days=1, hours=12))
    return {
        k: Feedback.objects.get(pk=v.pk)
        for k, v in {
            "received": received,
            "assigned": assigned,
            "resolved": resolved,
            "rejected": rejected,
            "merged": merged,
            "old": old,
        }.items()
    }


def test_list_fields_and_status_mapping(api, handled, province):
    body = as_json(api.get("requests.json"))
    by_code = {r["service_request_id"]: r for r in body}
    # Newest first; the 200-day-old report is outside the default 90 days.
    assert list(by_code) == [handled[k].code for k in ("merged", "resolved", "rejected", "assigned", "received")]
    resolved = by_code[handled["resolved"].code]
    assert set(resolved) == {
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
        "detailed_status",
        "detailed_status_name",
    }
    assert resolved["status"] == "closed" and resolved["detailed_status"] == "resolved"
    assert resolved["detailed_status_name"] == "Đã xử lý xong"
    assert resolved["status_notes"] == "Đã nạo vét cống, nước thoát bình thường."
    assert resolved["service_code"] == "moi-truong" and resolved["agency_responsible"] == "UBND xã Kiến An"
    assert resolved["address"] == "xã Kiến An, huyện Chợ Mới, tỉnh An Giang" and resolved["address_id"] == "xa-kien-an"
    assert resolved["requested_datetime"] == timezone.localtime(handled["resolved"].received_at).isoformat(
        timespec="seconds"
    )
    assert resolved["requested_datetime"].endswith("+07:00") and resolved["expected_datetime"].endswith("+07:00")
    assert by_code[handled["rejected"].code]["status"] == "closed"
    assert by_code[handled["rejected"].code]["status_notes"].startswith("Tranh chấp dân sự")
    assert by_code[handled["merged"].code]["status"] == "closed"
    assert (
        by_code[handled["merged"].code]["status_notes"]
        == f"Trùng nội dung, đã gộp vào phản ánh {handled['resolved'].code}."
    )
    assert by_code[handled["assigned"].code]["status"] == "open"
    queued = by_code[handled["received"].code]
    assert queued["status"] == "open" and queued["agency_responsible"] is None and queued["status_notes"] is None

    assert {r["service_request_id"] for r in as_json(api.get("requests.json", status="open"))} == {
        handled["received"].code,
        handled["assigned"].code,
    }
    assert {r["service_request_id"] for r in as_json(api.get("requests.json", status="closed"))} == {
        handled["resolved"].code,
        handled["rejected"].code,
        handled["merged"].code,
    }
    assert len(as_json(api.get("requests.json", status="open,closed"))) == 5

    root = xml(api.get("requests.xml", status="closed"))
    assert root.tag == "service_requests" and [c.tag for c in root] == ["request"] * 3
    assert [c.tag for c in root[0]] == list(resolved)
    assert {r.findtext("status") for r in root} == {"closed"}
    assert root.find("request/zipcode").text is None  # empty element, as the spec's examples


def test_location_is_rounded(api):
    code = as_json(api.post(description="Cây xanh ngã đổ.", lat="10.481234", long="105.481876"))[0][
        "service_request_id"
    ]
    (shown,) = as_json(api.get(f"requests/{code}.json"))
    assert (shown["lat"], shown["long"]) == (10.481, 105.482)
    root = xml(api.get(f"requests/{code}.xml"))
    assert (root.findtext("request/lat"), root.findtext("request/long")) == ("10.481", "105.482")


def test_filters(api, handled):
    ids = f"{handled['old'].code},{handled['rejected'].code}"
    # service_request_id overrides the other parameters (and the default 90 days).
    found = as_json(api.get("requests.json", service_request_id=ids, status="open"))
    assert {r["service_request_id"] for r in found} == {handled["old"].code, handled["rejected"].code}

    other = services.submit(
        services.Submission(category_code="giao-thong", description="Ổ gà lớn giữa đường.", area_code="xa-kien-an"),
        channel="ioc",
        at=ago(days=1),
    )
    assert [r["service_request_id"] for r in as_json(api.get("requests.json", service_code="giao-thong"))] == [
        other.code
    ]
    assert len(as_json(api.get("requests.json", service_code="giao-thong,moi-truong"))) == 6

    window = {
        "start_date": timezone.localtime(ago(days=3, hours=2)).isoformat(timespec="seconds"),
        "end_date": timezone.localtime(ago(days=2, hours=12)).isoformat(timespec="seconds"),
    }
    assert {r["service_request_id"] for r in as_json(api.get("requests.json", **window))} == {
        handled["resolved"].code,
        handled["rejected"].code,
    }
    # UTC with Z, and dates alone (the whole day).
    old_day = timezone.localtime(handled["old"].received_at).date()
    utc = {"start_date": handled["old"].received_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert handled["old"].code in {r["service_request_id"] for r in as_json(api.get("requests.json", **utc))}
    by_day = as_json(api.get("requests.json", start_date=old_day.isoformat(), end_date=old_day.isoformat()))
    assert [r["service_request_id"] for r in by_day] == [handled["old"].code]

    assert error(api.get("requests.json", start_date="hôm qua"), 400).startswith(
        "start_date: «hôm qua» không phải ngày giờ W3C"
    )
    assert error(api.get("requests.xml", end_date="2025-13-01"), 400, "xml").startswith("end_date:")
    assert error(api.get("requests.json", start_date="2025-01-01", end_date="2025-06-01"), 400).startswith(
        "end_date: khoảng start_date–end_date không được dài quá 90 ngày"
    )
    assert error(api.get("requests.json", start_date="2025-02-01", end_date="2025-01-01"), 400).startswith(
        "start_date:"
    )
    assert error(api.get("requests.json", service_code="khong-co"), 400).startswith(
        "service_code: không có lĩnh vực phản ánh với mã «khong-co»"
    )
    assert error(api.get("requests.json", status="pending"), 400).startswith("status: chỉ nhận open, closed")


def test_pages(api, handled):
    first = api.get("requests.json", page_size=2)
    assert [r["service_request_id"] for r in as_json(first)] == [handled["merged"].code, handled["resolved"].code]
    assert 'rel="next"' in first["Link"] and "page=2" in first["Link"]
    third = api.get("requests.json", page_size=2, page=3)
    assert [r["service_request_id"] for r in as_json(third)] == [handled["received"].code]
    assert "Link" not in third
    assert error(api.get("requests.json", page_size=1001), 400) == "page_size: tối đa 1000."
    assert error(api.get("requests.json", page=0), 400).startswith("page: phải là số nguyên dương")


def test_one_request_and_token(api, handled):
    code = handled["resolved"].code
    (one,) = as_json(api.get(f"requests/{code}.json"))
    assert one["service_request_id"] == code and one["status"] == "closed"
    root = xml(api.get(f"requests/{code}.xml"))
    assert root.tag == "service_requests" and root.findtext("request/service_request_id") == code
    assert (
        error(api.get("requests/PA-2025-999999.json"), 404)
        == "service_request_id: không có phản ánh mã «PA-2025-999999»."
    )
    error(api.get("requests/PA-2025-999999.xml"), 404, "xml")

    token = handled["resolved"].token
    assert as_json(api.get(f"tokens/{token}.json")) == [{"service_request_id": code, "token": token}]
    root = xml(api.get(f"tokens/{token}.xml"))
    assert root.tag == "service_requests" and [c.tag for c in root[0]] == ["service_request_id", "token"]
    assert error(api.get("tokens/khong-co.json"), 404).startswith("token:")


def test_no_personal_data_in_any_answer(api, caplog):
    answer = as_json(api.post(description="Đèn đường tắt.", service_code="giao-thong", **REPORTER))[0]
    code, token = answer["service_request_id"], answer["token"]
    report = Feedback.objects.get(code=code)
    assert report.reporter_phone == "0912345678" and report.address == REPORTER["address_string"]
    secrets = [
        "Nguyễn Thị Hoà",
        "Hoà",
        "0912345678",
        "0912 345 678",
        "hoa.nguyen@example.vn",
        "Trần Hưng Đạo",
        "Kiến Hưng",
        "10.481234",
        "105.481876",
        "10.4812",
        "105.4818",
    ]
    for path in (
        "requests.json",
        "requests.xml",
        f"requests/{code}.json",
        f"requests/{code}.xml",
        f"tokens/{token}.json",
        f"tokens/{token}.xml",
        "requests.json?status=open",
    ):
        body = Client().get(f"{BASE}/{path}").content.decode()
        assert code in body
        for secret in secrets:
            assert secret not in body, (path, secret)
    # The token is the reporter's: never in a list answer.
    assert token not in Client().get(f"{BASE}/requests.json").content.decode()
    audit = json.dumps(
        [[r.before, r.after] for r in AuditRecord.objects.filter(object_id=str(report.pk))], ensure_ascii=False
    )
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("Nguyễn Thị", "0912345678", "hoa.nguyen", "Trần Hưng Đạo"):
        assert secret not in audit and secret not in logs


# ---------------------------------------------------------------- protocol details


def test_protocol_errors(api):
    assert error(Client().delete(f"{BASE}/requests.json"), 405).startswith("Phương thức DELETE")
    assert Client().put(f"{BASE}/services.xml")["Allow"] == "GET, HEAD"
    assert error(Client().get(f"{BASE}/requests.csv"), 404).startswith("Không có tài nguyên Open311")
    error(Client().get(f"{BASE}/khong-co.xml"), 404, "xml")
    # A control character is refused before any view, in the spec's format.
    assert error(Client().get(f"{BASE}/requests.json", {"status": "open\x00"}), 400) == (
        "status: Dữ liệu chứa ký tự điều khiển hoặc ký tự không hợp lệ."
    )
    assert error(Client().post(f"{BASE}/requests.xml", {"description": "a\x01"}), 400, "xml").startswith("description:")
    # A noncharacter would make requests.xml not well-formed for every reader: refused the same way.
    assert error(Client().post(f"{BASE}/requests.json", {"description": "a\ufffe"}), 400).startswith("description:")
    assert error(Client().get(f"{BASE}/requests/PA%00.json"), 400).startswith("path:")
    assert error(api.get("services.json", jurisdiction_id="hanoi.gov.vn"), 404).startswith("jurisdiction_id:")
    assert api.get("services.json", jurisdiction_id="dvc.example.gov.vn").status_code == 200  # CQS["SITE_URL"]'s host
    # Public answers can be read by web applications on other origins; POST needs no CSRF token.
    assert api.get("services.json")["Access-Control-Allow-Origin"] == "*"
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"{BASE}/requests.json", {"service_code": "moi-truong"}).status_code == 403  # the key, not CSRF
    assert "api_key" in as_json(strict.post(f"{BASE}/requests.json", {}))[0]["description"]


def test_the_jurisdiction_is_the_installations(api, settings):
    settings.CQS = {**settings.CQS, "FEEDBACK_OPEN311_JURISDICTION": "tinh.example.vn"}
    assert api.get("services.json", jurisdiction_id="tinh.example.vn").status_code == 200
    assert "«tinh.example.vn»" in error(api.get("services.json", jurisdiction_id="dvc.example.gov.vn"), 404)
    settings.CQS = {**settings.CQS, "FEEDBACK_OPEN311_JURISDICTION": "", "SITE_URL": ""}
    assert api.get("services.json", jurisdiction_id="bat-ky.vn").status_code == 200  # none configured

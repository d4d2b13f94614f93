"""A real Open311 client, unmodified: the `georeport` package (PyPI, 0.3.1)
reads services, service definitions and requests from a live server over
HTTP, in JSON and in XML. It cannot post (it has no method for it), so a
report is posted as a typical client does: a form-encoded POST with
`requests`, no cookie, no CSRF token."""

import datetime as dt

import pytest
import requests
from django.utils import timezone
from georeport import GeoReport

from chinhquyenso.feedback import api_clients, services
from chinhquyenso.feedback.models import Feedback

pytestmark = pytest.mark.django_db(transaction=True)  # the live server's thread must see the data


@pytest.fixture
def city(live_server, categories, points, officers):
    """Two reports in Kiến An from the last days, one of them resolved."""
    now = timezone.now()
    first = services.submit(
        services.Submission(
            category_code="moi-truong",
            description="Rác thải đổ ven kênh Xáng.",
            area_code="xa-kien-an",
            phone="0901000001",
            attribute_values={"loai_o_nhiem": "rac-thai"},
        ),
        channel="ioc",
        at=now - dt.timedelta(days=3),
    )
    second = services.submit(
        services.Submission(
            category_code="giao-thong",
            description="Ổ gà lớn trên tỉnh lộ 942.",
            latitude="10.4791",
            longitude="105.4822",
            phone="0901000002",
        ),
        channel="ioc",
        at=now - dt.timedelta(days=2),
    )
    specialist = officers["xa_a"]["specialist"]
    services.start(first, actor=specialist, at=now - dt.timedelta(days=2))
    services.resolve(
        first, actor=specialist, public_reply="Đã thu gom rác, nhắc nhở các hộ dân.", at=now - dt.timedelta(days=1)
    )
    root = f"{live_server.url}/open311/v2"
    return {
        "root": root,
        "first": first.code,
        "second": second.code,
        "json": GeoReport(root, jurisdiction="dvc.example.gov.vn"),
        "xml": GeoReport(root, jurisdiction="dvc.example.gov.vn", output_format="xml"),
    }


def test_services_and_definitions(city, categories):
    for fmt in ("json", "xml"):
        listed = city[fmt].get_service_list()
        assert {s["service_code"] for s in listed} == set(categories), fmt
        environment = next(s for s in listed if s["service_code"] == "moi-truong")
        assert environment["service_name"] == "Môi trường"
        assert str(environment["metadata"]).lower() == "true"

    definition = city["json"].get_service_definition("moi-truong")
    (attribute,) = definition["attributes"]
    assert attribute["code"] == "loai_o_nhiem" and attribute["datatype"] == "singlevaluelist"
    keys = [v["key"] for v in attribute["values"]]
    assert "rac-thai" in keys

    definition = city["xml"].get_service_definition("moi-truong")
    attribute = definition["attributes"]["attribute"]  # xmltodict: one attribute is a dict
    assert attribute["code"] == "loai_o_nhiem" and attribute["required"] == "false"
    assert [v["key"] for v in attribute["values"]["value"]] == keys

    with pytest.raises(requests.HTTPError) as raised:
        city["json"].get_service_definition("khong-co")
    assert raised.value.response.status_code == 404
    assert raised.value.response.json()[0]["description"].startswith("service_code:")


def test_requests(city):
    reports = city["json"].get_service_requests()
    assert [r["service_request_id"] for r in reports] == [city["second"], city["first"]]
    resolved = city["json"].get_service_request(city["first"])
    assert resolved["status"] == "closed" and resolved["status_notes"] == "Đã thu gom rác, nhắc nhở các hộ dân."
    assert resolved["address"] == "xã Kiến An, huyện Chợ Mới, tỉnh An Giang"

    assert [r["service_request_id"] for r in city["json"].get_service_requests(status="open")] == [city["second"]]
    assert [r["service_request_id"] for r in city["json"].get_service_requests(service_code="moi-truong")] == [
        city["first"]
    ]
    both = f"{city['first']},{city['second']}"
    assert len(city["json"].get_service_requests(service_request_id=both)) == 2
    today = timezone.localdate()
    window = city["json"].get_service_requests(
        start_date=(today - dt.timedelta(days=2)).isoformat(), end_date=today.isoformat()
    )
    assert [r["service_request_id"] for r in window] == [city["second"]]

    listed = city["xml"].get_service_requests()  # xmltodict: a list of dicts for several requests
    assert [r["service_request_id"] for r in listed] == [city["second"], city["first"]]
    one = city["xml"].get_service_requests(status="closed")  # … and one dict for one
    assert one["service_request_id"] == city["first"] and one["status"] == "closed"
    pinned = city["xml"].get_service_request(city["second"])
    assert (pinned["lat"], pinned["long"]) == ("10.479", "105.482") and pinned["detailed_status"] == "assigned"


def test_post_then_read_back(city):
    key = api_clients.issue(actor=None, name="Ứng dụng thử nghiệm")[1]
    response = requests.post(
        f"{city['root']}/requests.json",
        data={
            "api_key": key,
            "service_code": "trat-tu-do-thi",
            "description": "Lấn chiếm vỉa hè bán hàng.",
            "lat": "10.4805",
            "long": "105.4801",
            "first_name": "Lan",
            "last_name": "Lê Thị",
            "phone": "0913000111",
            "jurisdiction_id": "dvc.example.gov.vn",
        },
        headers={"Idempotency-Key": "don-1"},
    )
    assert response.status_code == 200, response.text
    (created,) = response.json()
    assert Feedback.objects.get(code=created["service_request_id"]).reporter_name == "Lê Thị Lan"
    read = city["json"].get_service_request(created["service_request_id"])
    assert read["service_code"] == "trat-tu-do-thi" and read["status"] == "open"
    assert "Lan" not in str(read) and "0913000111" not in str(read)
    retried = requests.post(
        f"{city['root']}/requests.json",
        data={
            "api_key": key,
            "service_code": "trat-tu-do-thi",
            "description": "Lấn chiếm vỉa hè bán hàng.",
            "lat": "10.4805",
            "long": "105.4801",
            "first_name": "Lan",
            "last_name": "Lê Thị",
            "phone": "0913000111",
            "jurisdiction_id": "dvc.example.gov.vn",
        },
        headers={"Idempotency-Key": "don-1"},
    )
    assert retried.json() == [created]
    tokens = requests.get(f"{city['root']}/tokens/{created['token']}.json").json()
    assert tokens == [{"service_request_id": created["service_request_id"], "token": created["token"]}]

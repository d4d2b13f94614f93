"""The unmodified CKAN client, `ckanapi` (PyPI, 4.11), against a live server: RemoteCKAN calls every
action the portal answers — over POST with JSON as it does by default, over GET with get_only — and
gets CKAN's results and its own exceptions (NotFound, NotAuthorized, ValidationError,
SearchQueryError); a file is uploaded the way ckanapi uploads (multipart, upload=open(…)); and the
`ckanapi dump datasets --all` command harvests every public dataset exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ckanapi import NotAuthorized, NotFound, RemoteCKAN, SearchQueryError, ValidationError

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import Role
from chinhquyenso.opendata import ckan as ckan_actions
from chinhquyenso.opendata.models import Dataset, DatasetStatus
from chinhquyenso.opendata.services import datasets as dataset_services

pytestmark = pytest.mark.django_db(transaction=True)  # the live server's thread must see the data

CSV = "Xã,Số hộ\nKiến An,1200\nKiến Thành,950\nMỹ Hội Đông,870\n".encode()


@pytest.fixture
def portal(live_server, province, officers, admin_user, make_dataset):
    specialist = officers["tu_phap"]["specialist"]
    households = make_dataset(
        province["tu_phap"],
        specialist,
        status="public",
        resources=[("so-ho.csv", CSV)],
        title="Số hộ gia đình theo xã",
        themes=["dan-cu-xa-hoi"],
        tags=["hộ gia đình"],
    )
    marriages = make_dataset(
        province["tu_phap"], specialist, status="public", title="Đăng ký kết hôn theo năm", tags=["hộ tịch"]
    )
    traffic = make_dataset(
        province["cong_an"],
        officers["cong_an"]["specialist"],
        status="public",
        title="Tai nạn giao thông theo tháng",
        themes=["giao-thong"],
    )
    draft = make_dataset(province["tu_phap"], specialist, title="Bản nháp chưa công bố")
    withdrawn = make_dataset(province["cong_an"], officers["cong_an"]["specialist"], status="withdrawn", title="Đã rút")
    secret = accounts.issue_api_token(actor=admin_user, agency=province["tu_phap"], name="Hệ thống thống kê")[1]
    other = accounts.issue_api_token(actor=admin_user, agency=province["cong_an"], name="Hệ thống Công an")[1]
    leader_secret = accounts.issue_api_token(
        actor=admin_user, agency=province["tu_phap"], name="Hệ thống điều hành", role=Role.LEADER
    )[1]
    clients = {
        "anonymous": RemoteCKAN(live_server.url),
        "get_only": RemoteCKAN(live_server.url, get_only=True),
        "token": RemoteCKAN(live_server.url, apikey=secret),
        "other": RemoteCKAN(live_server.url, apikey=other),
    }
    yield {
        "url": live_server.url,
        **clients,
        "secret": secret,
        "leader_secret": leader_secret,
        "households": households,
        "marriages": marriages,
        "traffic": traffic,
        "draft": draft,
        "withdrawn": withdrawn,
    }
    # A client's keep-alive connection holds a live-server thread, and that thread its database
    # connection, past the test: PostgreSQL then cannot drop the test database at the end of the run.
    for client in clients.values():
        client.close()


def public_names(portal):
    return sorted(portal[key].name for key in ("households", "marriages", "traffic"))


def test_reads(portal):
    for ckan in (portal["anonymous"], portal["get_only"]):
        assert ckan.action.status_show()["ckan_version"].startswith("2.10.")
        assert ckan.action.package_list() == public_names(portal)
        package = ckan.action.package_show(id=portal["households"].name)
        assert package["title"] == "Số hộ gia đình theo xã" and package["organization"]["name"] == "so-tu-phap"
        assert package["resources"][0]["format"] == "CSV" and package["resources"][0]["datastore_active"] is True
        assert ckan.action.package_show(id=portal["withdrawn"].name)["state"] == "deleted"
        # The list actions by POST and, with get_only, by GET (all_fields and query in the query string).
        assert ckan.action.organization_list() == ["cong-an-tinh", "so-tu-phap"]
        organizations = ckan.action.organization_list(all_fields=True)
        assert {org["name"]: org["package_count"] for org in organizations} == {"cong-an-tinh": 1, "so-tu-phap": 2}
        assert "giao-thong" in ckan.action.group_list()
        groups = {group["name"]: group["package_count"] for group in ckan.action.group_list(all_fields=True)}
        assert groups["giao-thong"] == 1 and groups["dan-cu-xa-hoi"] == 1
        assert ckan.action.tag_list(query="ho") == ["hộ gia đình", "hộ tịch"]
        licences = {licence["id"]: licence for licence in ckan.action.license_list()}
        assert licences["cc-by-4.0"]["url"] == "https://creativecommons.org/licenses/by/4.0/"
        assert licences["cc-by-4.0"]["title"].startswith("Creative Commons") and "cc0-1.0" in licences
        assert ckan.action.help_show(name="license_list") == ckan_actions.ACTIONS["license_list"].summary

    ckan = portal["anonymous"]
    found = ckan.action.package_search(q="ho gia dinh")
    assert [package["name"] for package in found["results"]] == [portal["households"].name]
    page = ckan.action.package_search(fq="organization:so-tu-phap", rows=1, start=1, sort="name asc")
    assert page["count"] == 2 and [package["name"] for package in page["results"]] == [portal["households"].name]
    faceted = ckan.action.package_search(**{"facet.field": ["organization", "groups", "tags"], "rows": 0})
    assert faceted["facets"]["organization"] == {"so-tu-phap": 2, "cong-an-tinh": 1}
    assert {item["name"] for item in faceted["search_facets"]["groups"]["items"]} == {"dan-cu-xa-hoi", "giao-thong"}
    by_get = portal["get_only"].action.package_search(**{"fq": 'tags:"hộ tịch"', "facet.field": json.dumps(["tags"])})
    assert [package["name"] for package in by_get["results"]] == [portal["marriages"].name]
    assert by_get["facets"]["tags"] == {"hộ tịch": 1}

    organization = ckan.action.organization_show(id="so-tu-phap", include_datasets=True)
    assert sorted(package["name"] for package in organization["packages"]) == sorted(
        [portal["households"].name, portal["marriages"].name]
    )

    resource_id = portal["households"].resources.get().pk
    assert ckan.action.resource_show(id=str(resource_id))["package_id"] == str(portal["households"].pk)
    rows = ckan.action.datastore_search(resource_id=str(resource_id), filters={"Xã": "Kiến Thành"})
    assert rows["records"][0]["Số hộ"] == 950 and rows["total"] == 1
    assert [row["Xã"] for row in ckan.action.datastore_search(resource_id=resource_id, q="my hoi")["records"]] == [
        "Mỹ Hội Đông"
    ]
    page = ckan.action.datastore_search(resource_id=resource_id, sort="Số hộ desc", limit=2, offset=1, fields=["Xã"])
    assert page["records"] == [{"Xã": "Kiến Thành"}, {"Xã": "Mỹ Hội Đông"}] and page["total"] == 3
    by_get = portal["get_only"].action.datastore_search(resource_id=resource_id, filters=json.dumps({"Số hộ": 1200}))
    assert [row["Xã"] for row in by_get["records"]] == ["Kiến An"]


def test_the_clients_exceptions(portal):
    ckan = portal["anonymous"]
    with pytest.raises(NotFound):
        ckan.action.package_show(id="khong-co-bo-nay")
    with pytest.raises(NotFound):
        ckan.action.package_show(id=portal["draft"].name)  # a draft is not there for the public
    with pytest.raises(NotFound):
        portal["other"].action.package_show(id=portal["draft"].name)  # nor for another agency's token
    assert portal["token"].action.package_show(id=portal["draft"].name)["state"] == "draft"
    with pytest.raises(NotFound):
        ckan.action.help_show(name="khong_co_hanh_dong_nay")
    with pytest.raises(SearchQueryError):
        ckan.action.package_search(fq="owner:so-tu-phap")
    with pytest.raises(ValidationError) as raised:
        ckan.action.package_search(rows=100_000)
    assert "rows" in raised.value.error_dict
    with pytest.raises(NotAuthorized):
        ckan.action.package_create(title="Không có khóa")
    with pytest.raises(NotAuthorized):
        portal["other"].action.package_create(title="Khóa của cơ quan khác", owner_org="so-tu-phap")
    with pytest.raises(NotAuthorized):
        with RemoteCKAN(portal["url"], apikey="cqs_khong-dung") as stranger:
            stranger.action.package_show(id=portal["households"].name)
    with pytest.raises(ValidationError) as raised:
        portal["token"].action.package_create(title="Giấy phép lạ", license_id="giay-phep-la")
    assert "license_id" in raised.value.error_dict


def test_create_update_patch_upload_and_delete(portal, officers, tmp_path):
    ckan = portal["token"]
    created = ckan.action.package_create(
        name="to-chuc-cong-chung",
        title="Danh sách tổ chức hành nghề công chứng",
        notes="Các văn phòng công chứng đang hoạt động.",
        owner_org="so-tu-phap",
        license_id="cc-by-4.0",
        tags=[{"name": "công chứng"}],
        groups=[{"name": "tu-phap"}],
        extras=[{"key": "frequency", "value": "QUARTERLY"}],
    )
    assert created["state"] == "draft" and created["private"] is True
    assert Dataset.objects.get(name="to-chuc-cong-chung").status == DatasetStatus.SUBMITTED

    # The round trip CKAN's clients make: read, change one field, send the whole package back.
    package = ckan.action.package_show(id="to-chuc-cong-chung")
    package["title"] = "Danh sách tổ chức hành nghề công chứng năm 2025"
    updated = ckan.action.package_update(**package)
    assert updated["title"] == package["title"]
    assert updated["notes"] == created["notes"] and updated["tags"] == created["tags"]
    assert updated["extras"] == package["extras"]

    patched = ckan.action.package_patch(id=created["id"], notes="Cập nhật quý I.")
    assert patched["notes"] == "Cập nhật quý I." and patched["title"] == package["title"]
    with pytest.raises(ValidationError) as raised:
        ckan.action.package_patch(id=created["id"], maintainer_email="không phải thư")
    assert raised.value.error_dict["__type"] == "Validation Error"

    table = tmp_path / "van-phong.csv"
    table.write_bytes("Tên,Số công chứng viên\nVăn phòng A,3\nVăn phòng B,5\n".encode())
    with table.open("rb") as upload:
        resource = ckan.action.resource_create(package_id=created["id"], name="Văn phòng công chứng", upload=upload)
    assert resource["format"] == "CSV" and resource["datastore_active"] is True
    records = ckan.action.datastore_search(resource_id=resource["id"], sort="Tên")["records"]
    assert [(row["Tên"], row["Số công chứng viên"]) for row in records] == [("Văn phòng A", 3), ("Văn phòng B", 5)]
    table.write_bytes("Tên,Số công chứng viên\nVăn phòng C,7\n".encode())
    with table.open("rb") as upload:
        updated = ckan.action.resource_update(id=resource["id"], name="Văn phòng công chứng 2025", upload=upload)
    assert (updated["id"], updated["url"]) == (resource["id"], resource["url"]) and updated["hash"] != resource["hash"]
    assert updated["name"] == "Văn phòng công chứng 2025"
    records = ckan.action.datastore_search(resource_id=resource["id"])["records"]
    assert [(row["Tên"], row["Số công chứng viên"]) for row in records] == [("Văn phòng C", 7)]
    with pytest.raises(ValidationError) as raised:
        ckan.action.resource_create(package_id=created["id"], url="https://example.com/a.csv")
    assert "url" in raised.value.error_dict

    # The agency's leader approves on the officers' pages (here: the service they call).
    dataset = Dataset.objects.get(pk=created["id"])
    dataset_services.approve(dataset, actor=officers["tu_phap"]["leader"])
    assert "to-chuc-cong-chung" in portal["anonymous"].action.package_list()
    # Withdrawing is a leader's: the default token (a counter officer's) is refused; a token the province
    # administrator issued with the leader's role withdraws.
    with pytest.raises(NotAuthorized):
        ckan.action.package_delete(id=created["id"])
    with RemoteCKAN(portal["url"], apikey=portal["leader_secret"]) as leader:
        leader.action.package_delete(id="to-chuc-cong-chung")
    assert portal["anonymous"].action.package_show(id="to-chuc-cong-chung")["state"] == "deleted"
    assert "to-chuc-cong-chung" not in portal["anonymous"].action.package_list()


def test_ckanapi_dump_harvests_every_public_dataset_once(portal, tmp_path):
    output = tmp_path / "datasets.jsonl"
    bin_dir = Path(sys.executable).parent
    environment = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    completed = subprocess.run(
        [str(bin_dir / "ckanapi"), "dump", "datasets", "--all", "-q", "-r", portal["url"], "-O", str(output)],
        env=environment,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr.decode()
    harvested = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert sorted(package["name"] for package in harvested) == public_names(portal)
    for package in harvested:
        assert package == portal["anonymous"].action.package_show(id=package["name"])

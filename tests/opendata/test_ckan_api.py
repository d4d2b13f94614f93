"""The CKAN Action API (opendata.ckan) through Django's test client: CKAN's envelopes and shapes for
every action, its error types (what ckanapi turns into its exceptions), GET and POST, both address
prefixes, bounded query counts, and another agency's drafts never shown."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import Membership, Role
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.opendata import ckan
from chinhquyenso.opendata.models import Dataset, DatasetStatus
from chinhquyenso.opendata.services import datasets as dataset_services

SITE = "https://dvc.example.gov.vn"
CSV = "Xã,Số hộ,Ngày\nKiến An,1200,2024-01-31\nKiến Thành,950,2024-01-31\nMỹ Hội Đông,870,2024-02-29\n".encode()


@pytest.fixture
def publish(province, officers, make_dataset):
    """publish(agency_key, *, title, csv=None, public=True, **fields): a dataset drafted by the agency's
    specialist (with a CSV), approved by its leader (tests/opendata/conftest.py's make_dataset)."""

    def make(agency_key, *, title, csv: bytes | None = None, public=True, **fields):
        return make_dataset(
            province[agency_key],
            officers[agency_key]["specialist"],
            status="public" if public else "draft",
            resources=[("so-ho.csv", csv)] if csv else (),
            title=title,
            **fields,
        )

    return make


@pytest.fixture
def catalog(publish):
    households = publish(
        "tu_phap",
        title="Số hộ gia đình theo xã",
        csv=CSV,
        description="Số hộ gia đình đăng ký thường trú, theo từng xã.",
        themes=["dan-cu-xa-hoi"],
        tags=["hộ gia đình", "dân cư"],
        frequency="MONTHLY",
        temporal_start="2024-01-01",
        temporal_end="2024-12-31",
        spatial="Tỉnh An Giang",
        contact_name="Phòng Hành chính tư pháp",
        contact_email="hctp@stp.angiang.gov.vn",
        version="1.0",
    )
    marriages = publish(
        "tu_phap",
        title="Đăng ký kết hôn theo năm",
        themes=["tu-phap"],
        tags=["hộ tịch"],
        licence="cc0-1.0",
    )
    traffic = publish("cong_an", title="Tai nạn giao thông theo tháng", themes=["giao-thong"], tags=["giao thông"])
    own_draft = publish("tu_phap", title="Bản nháp Sở Tư pháp", public=False)
    other_draft = publish("cong_an", title="Bản nháp Công an tỉnh", public=False)
    return {
        "households": households,
        "marriages": marriages,
        "traffic": traffic,
        "own_draft": own_draft,
        "other_draft": other_draft,
    }


@pytest.fixture
def token(province, admin_user):
    """A system's API token of Sở Tư pháp (its system user: an officer of that agency)."""
    return accounts.issue_api_token(actor=admin_user, agency=province["tu_phap"], name="Hệ thống thống kê tư pháp")[1]


@pytest.fixture
def other_token(province, admin_user):
    return accounts.issue_api_token(actor=admin_user, agency=province["cong_an"], name="Hệ thống Công an")[1]


def call(client, name, data=None, *, token=None, method="post", prefix="/api/3/action/", status=200):
    headers = {"HTTP_AUTHORIZATION": token} if token else {}
    if method == "get":
        response = client.get(f"{prefix}{name}", data or {}, **headers)
    else:
        response = client.post(f"{prefix}{name}", json.dumps(data or {}), content_type="application/json", **headers)
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def result(client, name, data=None, **kwargs):
    body = call(client, name, data, **kwargs)
    assert body["success"] is True
    assert body["help"] == f"{SITE}/api/3/action/help_show?name={name}"
    return body["result"]


def error(client, name, data=None, *, status, **kwargs):
    body = call(client, name, data, status=status, **kwargs)
    assert body["success"] is False
    return body["error"]


# ---------------------------------------------------------------- envelopes, addresses, methods


@pytest.mark.parametrize("prefix", ["/api/3/action/", "/api/action/"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_status_show_on_both_prefixes_by_get_and_post(client, db, prefix, method):
    status = result(client, "status_show", method=method, prefix=prefix)
    assert status["ckan_version"].startswith("2.10.")
    assert status["site_url"] == SITE and status["extensions"] == ["datastore"]
    assert "An Giang" in status["site_title"]


def test_unknown_action_and_write_by_get_are_bad_requests(client, db):
    failure = error(client, "package_explode", status=400)
    assert failure["__type"] == "Bad request" and "package_explode" in failure["message"]
    failure = error(client, "package_create", {"title": "x"}, method="get", status=400)
    assert failure["__type"] == "Bad request" and "POST" in failure["message"]
    response = client.put("/api/3/action/package_show")
    assert response.status_code == 405 and response.json()["success"] is False


def test_the_envelopes_help_link_answers_with_the_actions_summary(client, db):
    body = call(client, "status_show", method="get")
    help_link = body["help"].removeprefix(SITE)
    response = client.get(help_link)
    assert response.status_code == 200, response.content.decode()
    assert response.json()["result"] == ckan.ACTIONS["status_show"].summary
    assert "CKAN" in response.json()["result"]
    failure = error(client, "help_show", {"name": "package_explode"}, status=404)
    assert failure["__type"] == "Not Found Error"
    assert error(client, "help_show", {}, status=400)["name"]


def test_license_list_in_ckans_shape(client, licences_and_themes):
    licences = result(client, "license_list", method="get")
    assert [licence["id"] for licence in licences][0] == "cc-by-4.0"  # the default first
    by_id = {licence["id"]: licence for licence in licences}
    assert set(by_id) == {"cc-by-4.0", "cc-by-sa-4.0", "cc0-1.0", "odc-pddl"}
    cc_by = by_id["cc-by-4.0"]
    assert cc_by["title"] == "Creative Commons Ghi công 4.0 Quốc tế (CC BY 4.0)"
    assert cc_by["url"] == "https://creativecommons.org/licenses/by/4.0/" and cc_by["status"] == "active"
    assert cc_by["od_conformance"] == "approved" and cc_by["is_okd_compliant"] is True
    assert result(client, "license_list", prefix="/api/action/") == licences


def test_json_body_must_be_an_object(client, db):
    response = client.post("/api/3/action/package_show", "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["__type"] == "Validation Error"
    response = client.post("/api/3/action/package_show", "{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["body"]


# ---------------------------------------------------------------- reads


def test_package_list_names_public_datasets_only(client, catalog):
    names = result(client, "package_list", method="get")
    assert names == sorted(catalog[key].name for key in ("households", "marriages", "traffic"))
    assert result(client, "package_list", {"limit": 2, "offset": 1}) == names[1:3]
    failure = error(client, "package_list", {"limit": "mười"}, status=400)
    assert failure["__type"] == "Validation Error" and failure["limit"]


def test_package_show_shape(client, catalog):
    dataset = catalog["households"]
    package = result(client, "package_show", {"id": dataset.name}, method="get")
    assert package == result(client, "package_show", {"id": str(dataset.pk)})
    assert package["id"] == str(dataset.pk) and package["name"] == dataset.name
    assert package["title"] == "Số hộ gia đình theo xã"
    assert package["notes"] == "Số hộ gia đình đăng ký thường trú, theo từng xã."
    assert (package["state"], package["private"], package["type"]) == ("active", False, "dataset")
    assert package["version"] == "1.0"
    assert package["license_id"] == "cc-by-4.0" and package["license_url"].startswith("https://")
    assert package["isopen"] is True and package["license_title"]
    assert package["organization"]["name"] == "so-tu-phap" and package["organization"]["title"] == "Sở Tư pháp"
    assert package["owner_org"] == package["organization"]["id"]
    assert [group["name"] for group in package["groups"]] == ["dan-cu-xa-hoi"]
    assert sorted(tag["name"] for tag in package["tags"]) == ["dân cư", "hộ gia đình"]
    assert package["num_tags"] == 2 and package["num_resources"] == 1
    assert (package["maintainer"], package["maintainer_email"]) == (
        "Phòng Hành chính tư pháp",
        "hctp@stp.angiang.gov.vn",
    )
    extras = {extra["key"]: extra["value"] for extra in package["extras"]}
    assert extras["frequency"] == "MONTHLY" and extras["temporal_start"] == "2024-01-01"
    assert extras["temporal_end"] == "2024-12-31" and extras["spatial"] == "Tỉnh An Giang"
    assert extras["status"] == "public" and extras["published"]
    # CKAN's timestamps: UTC, no zone.
    for stamp in (package["metadata_created"], package["metadata_modified"]):
        assert "T" in stamp and "+" not in stamp and not stamp.endswith("Z")
    assert package["url"] == f"{SITE}/du-lieu-mo/{dataset.name}/"
    (resource,) = package["resources"]
    stored = dataset.resources.get().file
    assert resource["id"] == str(dataset.resources.get().pk) and resource["package_id"] == package["id"]
    assert resource["format"] == "CSV" and resource["name"] == "so-ho.csv"
    assert resource["url"] == f"{SITE}/du-lieu-mo/{dataset.name}/tai-nguyen/{resource['id']}/"
    assert resource["size"] == stored.size and resource["hash"] == f"sha256:{stored.sha256}"
    assert resource["datastore_active"] is True and resource["mimetype"].startswith("text/csv")


def test_package_show_not_found_and_drafts(client, catalog, token, other_token):
    failure = error(client, "package_show", {"id": "khong-co-bo-nay"}, status=404)
    assert failure["__type"] == "Not Found Error"
    assert error(client, "package_show", {}, status=400)["id"]
    draft = catalog["own_draft"]
    # Anonymous and another agency's token never see a draft; its own agency's token does.
    error(client, "package_show", {"id": draft.name}, status=404)
    error(client, "package_show", {"id": str(draft.pk)}, token=other_token, status=404)
    package = result(client, "package_show", {"id": draft.name}, token=token)
    assert (package["state"], package["private"]) == ("draft", True)


def test_invalid_token_is_refused(client, catalog):
    failure = error(client, "package_show", {"id": catalog["households"].name}, token="cqs_sai", status=403)
    assert failure["__type"] == "Authorization Error"


def test_package_search(client, catalog):
    found = result(client, "package_search", {"q": "ho gia dinh"}, method="get")
    assert found["count"] == 1 and found["results"][0]["name"] == catalog["households"].name
    assert found["sort"] == "score desc"
    everything = result(client, "package_search", {"q": "*:*", "rows": 2, "sort": "name asc"})
    assert everything["count"] == 3 and len(everything["results"]) == 2
    names = sorted(catalog[key].name for key in ("households", "marriages", "traffic"))
    assert [package["name"] for package in everything["results"]] == names[:2]
    rest = result(client, "package_search", {"rows": 2, "start": 2, "sort": "name asc"})
    assert [package["name"] for package in rest["results"]] == names[2:]

    filtered = result(client, "package_search", {"fq": 'organization:so-tu-phap AND tags:"hộ tịch"'}, method="get")
    assert [package["name"] for package in filtered["results"]] == [catalog["marriages"].name]
    by_format = result(client, "package_search", {"fq": "+res_format:CSV"})
    assert by_format["count"] == 1
    by_licence = result(client, "package_search", {"fq": "license_id:cc0-1.0 dataset_type:dataset"})
    assert [package["name"] for package in by_licence["results"]] == [catalog["marriages"].name]


def test_package_search_facets(client, catalog):
    facet_fields = ["organization", "groups", "tags", "res_format", "license_id"]
    found = result(client, "package_search", {"facet.field": json.dumps(facet_fields), "rows": 0}, method="get")
    assert found["count"] == 3 and found["results"] == []
    assert found["facets"]["organization"] == {"so-tu-phap": 2, "cong-an-tinh": 1}
    assert found["facets"]["license_id"] == {"cc-by-4.0": 2, "cc0-1.0": 1}
    assert found["facets"]["res_format"] == {"CSV": 1}
    organizations = found["search_facets"]["organization"]
    assert organizations["title"] == "organization"
    assert organizations["items"][0] == {"name": "so-tu-phap", "display_name": "Sở Tư pháp", "count": 2}
    groups = {item["name"]: item for item in found["search_facets"]["groups"]["items"]}
    assert groups["giao-thong"]["display_name"] == "Giao thông" and groups["giao-thong"]["count"] == 1
    limited = result(client, "package_search", {"facet.field": ["organization"], "facet.limit": 1})
    assert limited["facets"] == {"organization": {"so-tu-phap": 2}}
    assert result(client, "package_search", {})["facets"] == {}


def test_package_search_refusals(client, catalog, settings):
    failure = error(client, "package_search", {"fq": "owner:so-tu-phap"}, status=400)
    assert failure["__type"] == "Search Query Error" and "owner" in failure["message"]
    for bad in ('tags:"không đóng', "organization:a OR organization:b", "-tags:x"):
        assert error(client, "package_search", {"fq": bad}, status=400)["__type"] == "Search Query Error"
    assert error(client, "package_search", {"sort": "views desc"}, status=400)["__type"] == "Search Query Error"
    rows = settings.CQS["OPENDATA_MAX_ROWS"]
    failure = error(client, "package_search", {"rows": rows + 1}, status=400)
    assert failure["__type"] == "Validation Error" and failure["rows"]
    assert error(client, "package_search", {"start": 10_001}, status=400)["start"]
    assert error(client, "package_search", {"facet.field": '["owner"]'}, status=400)["facet.field"]
    assert error(client, "package_search", {"facet.field": "organization"}, status=400)["facet.field"]
    assert error(client, "package_search", {"rows": True}, status=400)["rows"]


def test_package_search_private_only_for_the_tokens_agency(client, catalog, token, other_token):
    everything = {"q": "ban nhap", "include_private": True}
    assert result(client, "package_search", everything)["count"] == 0
    assert result(client, "package_search", {"q": "ban nhap"}, token=token)["count"] == 0  # CKAN: asked for
    mine = result(client, "package_search", everything, token=token)
    assert [package["name"] for package in mine["results"]] == [catalog["own_draft"].name]
    theirs = result(client, "package_search", everything, token=other_token)
    assert [package["name"] for package in theirs["results"]] == [catalog["other_draft"].name]


def test_query_counts_are_bounded(client, publish, catalog, django_assert_max_num_queries):
    for number in range(8):
        publish("cong_an", title=f"Thống kê số {number}", csv=CSV, tags=[f"nhãn {number}"])
    facets = json.dumps(["organization", "groups", "tags", "res_format", "license_id"])
    with django_assert_max_num_queries(16):
        found = result(client, "package_search", {"rows": 20, "facet.field": facets}, method="get")
    assert len(found["results"]) == 11
    with django_assert_max_num_queries(8):
        result(client, "package_show", {"id": catalog["households"].name})


def test_organizations_groups_and_tags(client, catalog):
    assert result(client, "organization_list") == ["cong-an-tinh", "so-tu-phap"]
    organizations = result(client, "organization_list", {"all_fields": True, "sort": "package_count desc"})
    assert [(org["name"], org["package_count"]) for org in organizations] == [("so-tu-phap", 2), ("cong-an-tinh", 1)]
    assert organizations[0]["is_organization"] is True and organizations[0]["title"] == "Sở Tư pháp"

    organization = result(client, "organization_show", {"id": "so-tu-phap", "include_datasets": "true"}, method="get")
    assert organization["package_count"] == 2
    assert {package["name"] for package in organization["packages"]} == {
        catalog["households"].name,
        catalog["marriages"].name,
    }
    assert "packages" not in result(client, "organization_show", {"id": organization["id"]})
    assert error(client, "organization_show", {"id": "khong-co"}, status=404)["__type"] == "Not Found Error"

    groups = result(client, "group_list")
    assert "giao-thong" in groups and "tu-phap" in groups  # every theme, as CKAN lists every group
    with_counts = {
        group["name"]: group["package_count"] for group in result(client, "group_list", {"all_fields": True})
    }
    assert with_counts["giao-thong"] == 1 and with_counts["y-te"] == 0
    group = result(client, "group_show", {"id": "tu-phap", "include_datasets": True})
    assert [package["name"] for package in group["packages"]] == [catalog["marriages"].name]

    tags = result(client, "tag_list")
    assert "hộ gia đình" in tags and "giao thông" in tags
    assert result(client, "tag_list", {"query": "ho gia"}) == ["hộ gia đình"]
    detailed = result(client, "tag_list", {"query": "hộ", "all_fields": True})
    assert {tag["name"] for tag in detailed} == {"hộ gia đình", "hộ tịch"}


def test_tag_list_hides_draft_keywords(client, publish, catalog):
    publish("tu_phap", title="Nháp có từ khóa", tags=["chưa công bố"], public=False)
    assert "chưa công bố" not in result(client, "tag_list")


def test_resource_show_and_datastore_search(client, catalog, token):
    resource = catalog["households"].resources.get()
    shown = result(client, "resource_show", {"id": str(resource.pk)}, method="get")
    assert shown["id"] == str(resource.pk) and shown["datastore_active"] is True
    assert error(client, "resource_show", {"id": "abc"}, status=404)["__type"] == "Not Found Error"

    found = result(client, "datastore_search", {"resource_id": str(resource.pk)}, method="get")
    assert [field["id"] for field in found["fields"]][-3:] == ["Xã", "Số hộ", "Ngày"]
    assert found["total"] == 3 and len(found["records"]) == 3 and found["limit"] == 100
    assert found["_links"]["start"].startswith("/api/3/action/datastore_search?resource_id=")
    assert found["_links"]["next"].endswith("&offset=100")

    filtered = result(client, "datastore_search", {"resource_id": resource.pk, "filters": {"Xã": "Kiến An"}})
    assert [record["Số hộ"] for record in filtered["records"]] == [1200]
    as_text = result(
        client, "datastore_search", {"resource_id": resource.pk, "filters": '{"Xã": "Kiến An"}'}, method="get"
    )
    assert as_text["records"] == filtered["records"]
    words = result(client, "datastore_search", {"resource_id": resource.pk, "q": "my hoi"})
    assert [record["Xã"] for record in words["records"]] == ["Mỹ Hội Đông"]
    page = result(
        client,
        "datastore_search",
        {"resource_id": resource.pk, "sort": "Số hộ desc", "limit": 1, "offset": 1, "fields": ["Xã", "Số hộ"]},
        prefix="/api/action/",
    )
    assert page["records"] == [{"Xã": "Kiến Thành", "Số hộ": 950}] and page["total"] == 3
    assert page["_links"]["next"] == f"/api/action/datastore_search?resource_id={resource.pk}&limit=1&offset=2"
    no_total = result(client, "datastore_search", {"resource_id": resource.pk, "include_total": False})
    assert "total" not in no_total
    failure = error(client, "datastore_search", {"resource_id": resource.pk, "filters": {"Huyện": "x"}}, status=400)
    assert failure["__type"] == "Validation Error"
    assert error(client, "datastore_search", {"resource_id": "999999"}, status=404)["__type"] == "Not Found Error"
    assert error(client, "datastore_search", {"resource_id": resource.pk, "filters": "[1]"}, status=400)["filters"]


# ---------------------------------------------------------------- writes


NEW = {
    "title": "Danh sách tổ chức hành nghề công chứng",
    "name": "to-chuc-hanh-nghe-cong-chung",
    "notes": "Các văn phòng, phòng công chứng đang hoạt động.",
    "owner_org": "so-tu-phap",
    "license_id": "cc-by-4.0",
    "tags": [{"name": "công chứng"}, {"name": "tư pháp"}],
    "groups": [{"name": "tu-phap"}],
    "extras": [{"key": "frequency", "value": "QUARTERLY"}, {"key": "spatial", "value": "Tỉnh An Giang"}],
    "maintainer": "Phòng Bổ trợ tư pháp",
    "maintainer_email": "btp@stp.angiang.gov.vn",
}


def test_writes_need_a_token_never_the_session(db, officers, catalog):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(officers["tu_phap"]["leader"])
    response = browser.post("/api/3/action/package_create", json.dumps(NEW), content_type="application/json")
    assert response.status_code == 403
    failure = response.json()["error"]
    assert failure["__type"] == "Authorization Error" and "khóa API" in failure["message"]
    assert not Dataset.objects.filter(name=NEW["name"]).exists()


def test_package_create_is_submitted_for_approval(client, catalog, token, officers):
    package = result(client, "package_create", NEW, token=token)
    assert package["name"] == NEW["name"] and package["state"] == "draft" and package["private"] is True
    extras = {extra["key"]: extra["value"] for extra in package["extras"]}
    assert extras["status"] == "submitted" and extras["frequency"] == "QUARTERLY"
    assert package["notes"] == NEW["notes"] and package["maintainer"] == "Phòng Bổ trợ tư pháp"
    assert [group["name"] for group in package["groups"]] == ["tu-phap"]
    dataset = Dataset.objects.get(name=NEW["name"])
    assert dataset.status == DatasetStatus.SUBMITTED and dataset.agency.code == "so-tu-phap"
    assert dataset.spatial == "Tỉnh An Giang"
    # Public once the leader approves it on the officers' pages.
    dataset_services.approve(dataset, actor=officers["tu_phap"]["leader"])
    assert result(client, "package_show", {"id": NEW["name"]})["state"] == "active"


def test_package_create_defaults_to_the_tokens_agency(client, catalog, token):
    package = result(client, "package_create", {"title": "Danh sách luật sư"}, token=token)
    assert package["organization"]["name"] == "so-tu-phap" and package["name"] == "danh-sach-luat-su"


def test_package_create_refusals(client, catalog, token, other_token):
    assert error(client, "package_create", NEW, status=403)["__type"] == "Authorization Error"
    failure = error(client, "package_create", NEW, token=other_token, status=403)
    assert failure["__type"] == "Authorization Error" and "Sở Tư pháp" in failure["message"]
    assert error(client, "package_create", {**NEW, "owner_org": "khong-co"}, token=token, status=400)["owner_org"]
    failure = error(client, "package_create", {**NEW, "license_id": "giay-phep-la"}, token=token, status=400)
    assert failure["__type"] == "Validation Error" and failure["license_id"]
    assert error(client, "package_create", {**NEW, "notes": "a\x00b"}, token=token, status=400)
    failure = error(client, "package_create", {**NEW, "groups": [{"name": "khong-co"}]}, token=token, status=400)
    assert failure["groups"]
    assert error(client, "package_create", {**NEW, "title": ""}, token=token, status=400)["title"]
    failure = error(
        client, "package_create", {**NEW, "extras": [{"key": "color", "value": "x"}]}, token=token, status=400
    )
    assert failure["extras.0"]
    links = {**NEW, "resources": [{"url": "https://example.com/a.csv"}]}
    assert error(client, "package_create", links, token=token, status=400)["resources"]
    assert not Dataset.objects.filter(name=NEW["name"]).exists()


def test_package_update_replaces_and_patch_merges(client, catalog, token, other_token):
    dataset = catalog["households"]
    shown = result(client, "package_show", {"id": dataset.name})
    # A package_show result sent back with one change: everything else stays.
    updated = result(client, "package_update", {**shown, "title": "Số hộ gia đình theo xã (cập nhật)"}, token=token)
    assert updated["title"] == "Số hộ gia đình theo xã (cập nhật)"
    assert updated["tags"] == shown["tags"] and updated["extras"] == shown["extras"]
    assert updated["resources"][0]["id"] == shown["resources"][0]["id"] and updated["state"] == "active"
    assert updated["notes"] == shown["notes"] and updated["maintainer_email"] == shown["maintainer_email"]

    # A full replace: what is left out returns to its default.
    replaced = result(client, "package_update", {"id": dataset.name, "title": "Số hộ theo xã"}, token=token)
    assert replaced["name"] == dataset.name and replaced["notes"] == "" and replaced["tags"] == []
    assert replaced["license_id"] == "cc-by-4.0" and replaced["num_resources"] == 1

    patched = result(
        client, "package_patch", {"id": str(dataset.pk), "notes": "Mô tả mới.", "tag_string": "a,b"}, token=token
    )
    assert patched["title"] == "Số hộ theo xã" and patched["notes"] == "Mô tả mới."
    assert sorted(tag["name"] for tag in patched["tags"]) == ["a", "b"]

    assert error(client, "package_patch", {"id": dataset.name, "notes": "x"}, token=other_token, status=403)
    assert error(client, "package_patch", {"id": dataset.name, "notes": "x"}, status=403)
    assert error(client, "package_patch", {"id": dataset.name, "owner_org": "cong-an-tinh"}, token=token, status=400)
    assert error(client, "package_patch", {"id": "khong-co", "notes": "x"}, token=token, status=404)
    failure = error(client, "package_patch", {"id": dataset.name, "license_id": "khong-co"}, token=token, status=400)
    assert failure["license_id"]


@pytest.fixture
def leader_token(province, admin_user):
    """A token the province administrator issued with the leader's role in Sở Tư pháp (the real issuing path)."""
    return accounts.issue_api_token(
        actor=admin_user, agency=province["tu_phap"], name="Hệ thống điều hành tư pháp", role=Role.LEADER
    )[1]


def test_package_delete_withdraws_and_keeps_the_record(client, catalog, token, leader_token, province):
    dataset = catalog["households"]
    # A token acts as a counter officer unless issued with the leader's role: withdrawing is a leader's.
    failure = error(client, "package_delete", {"id": dataset.name}, token=token, status=403)
    assert failure["__type"] == "Authorization Error"
    assert failure["message"] == ckan.WITHDRAW_NEEDS_LEADER_TOKEN
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.PUBLIC

    reason = "Số liệu cần rà soát lại."
    assert result(client, "package_delete", {"id": dataset.name, "reason": reason}, token=leader_token) is None
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.WITHDRAWN and dataset.withdrawn_reason == reason
    package = result(client, "package_show", {"id": dataset.name})
    assert package["state"] == "deleted"
    assert dataset.name not in result(client, "package_list")
    record = AuditRecord.objects.get(action="opendata.withdraw", object_id=str(dataset.pk))
    assert record.actor == accounts.user_for_token(leader_token)


def test_a_leader_token_of_one_agency_withdraws_nothing_of_another(client, catalog, leader_token):
    traffic = catalog["traffic"]  # Công an tỉnh's
    failure = error(client, "package_delete", {"id": traffic.name}, token=leader_token, status=403)
    assert failure["__type"] == "Authorization Error"
    traffic.refresh_from_db()
    assert traffic.status == DatasetStatus.PUBLIC


def test_only_the_province_administrator_issues_a_leader_token(province, officers):
    from chinhquyenso.core.errors import PermissionDenied

    agency_admin = officers["tu_phap"]["agency_admin"]
    with pytest.raises(PermissionDenied):
        accounts.issue_api_token(actor=agency_admin, agency=province["tu_phap"], name="Hệ thống", role=Role.LEADER)
    assert not Membership.objects.filter(role=Role.LEADER, user__full_name="Hệ thống").exists()


def test_resource_create_uploads_a_file(client, catalog, token):
    dataset = catalog["marriages"]
    upload = SimpleUploadedFile("ket-hon.csv", "Năm,Số cặp\n2023,5120\n2024,4980\n".encode(), "text/csv")
    response = client.post(
        "/api/action/resource_create",
        {"package_id": dataset.name, "name": "Kết hôn theo năm", "format": "csv", "upload": upload},
        HTTP_X_CKAN_API_KEY=token,
    )
    assert response.status_code == 200, response.content.decode()
    resource = response.json()["result"]
    assert resource["package_id"] == str(dataset.pk) and resource["format"] == "CSV"
    assert resource["name"] == "Kết hôn theo năm" and resource["datastore_active"] is True
    rows = result(client, "datastore_search", {"resource_id": resource["id"], "sort": "Năm"})["records"]
    assert [(row["Năm"], row["Số cặp"]) for row in rows] == [(2023, 5120), (2024, 4980)]

    failure = error(
        client,
        "resource_create",
        {"package_id": dataset.name, "url": "https://example.com/a.csv"},
        token=token,
        status=400,
    )
    assert failure["url"] and "tệp" in failure["message"]
    assert error(client, "resource_create", {"package_id": dataset.name}, token=token, status=400)["upload"]
    wrong = SimpleUploadedFile("a.csv", b"a,b\n1,2\n", "text/csv")
    response = client.post(
        "/api/3/action/resource_create",
        {"package_id": dataset.name, "format": "PDF", "upload": wrong},
        HTTP_AUTHORIZATION=token,
    )
    assert response.status_code == 400 and response.json()["error"]["format"]

    assert result(client, "resource_delete", {"id": resource["id"]}, token=token) is None
    assert error(client, "resource_show", {"id": resource["id"]}, status=404)


def test_resource_create_refuses_a_file_over_the_limit(client, catalog, token, settings):
    settings.CQS = {**settings.CQS, "OPENDATA_UPLOAD_MAX_BYTES": 1024}
    dataset = catalog["marriages"]
    big = SimpleUploadedFile("lon.csv", b"Cot\n" + b"1234567890\n" * 200, "text/csv")
    response = client.post(
        "/api/action/resource_create", {"package_id": dataset.name, "upload": big}, HTTP_AUTHORIZATION=token
    )
    assert response.status_code == 413, response.content.decode()
    body = response.json()
    assert body["success"] is False and body["error"]["__type"] == "Validation Error"
    assert body["error"]["message"].startswith("Tệp vượt quá dung lượng cho phép")
    assert body["error"]["upload"] == [body["error"]["message"]]
    assert not dataset.resources.exists()


def test_resource_update_changes_texts_and_replaces_the_file(client, catalog, token, other_token):
    dataset = catalog["households"]
    resource = dataset.resources.get()
    revision = dataset.revision
    shown = result(client, "resource_show", {"id": resource.pk})

    # Metadata only (a JSON body): the file and its table stay; a resource_show result sent back is accepted.
    updated = result(
        client, "resource_update", {**shown, "name": "Số hộ theo xã", "description": "Theo tháng"}, token=token
    )
    assert (updated["id"], updated["name"], updated["description"]) == (str(resource.pk), "Số hộ theo xã", "Theo tháng")
    assert updated["hash"] == shown["hash"] and updated["url"] == shown["url"]
    dataset.refresh_from_db()
    assert (
        dataset.revision == revision + 1 and dataset.versions.get(number=dataset.revision).action == "update_resource"
    )
    result(client, "resource_update", {"id": resource.pk, "name": "Số hộ theo xã"}, token=token)  # no change
    dataset.refresh_from_db()
    assert dataset.revision == revision + 1

    # A new file (multipart): same id and address, new rows in the DataStore.
    upload = SimpleUploadedFile("so-ho-2025.csv", "Xã,Số hộ,Ngày\nKiến An,1300,2025-01-31\n".encode(), "text/csv")
    response = client.post(
        "/api/3/action/resource_update",
        {"id": str(resource.pk), "format": "csv", "upload": upload},
        HTTP_AUTHORIZATION=token,
    )
    assert response.status_code == 200, response.content.decode()
    replaced = response.json()["result"]
    assert replaced["id"] == str(resource.pk) and replaced["url"] == shown["url"] and replaced["hash"] != shown["hash"]
    assert replaced["name"] == "Số hộ theo xã"
    rows = result(client, "datastore_search", {"resource_id": resource.pk})["records"]
    assert [(row["Xã"], row["Số hộ"]) for row in rows] == [("Kiến An", 1300)]

    # Refusals: another format, a link, another agency's token, an unknown id, no token.
    pdf = SimpleUploadedFile("so-ho.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    response = client.post(
        "/api/3/action/resource_update", {"id": str(resource.pk), "upload": pdf}, HTTP_AUTHORIZATION=token
    )
    assert response.status_code == 400 and response.json()["error"]["upload"]
    link = {"id": resource.pk, "url": "https://example.com/a.csv"}
    assert error(client, "resource_update", link, token=token, status=400)["url"]
    assert error(client, "resource_update", {"id": resource.pk, "format": "PDF"}, token=token, status=400)["format"]
    forbidden = error(client, "resource_update", {"id": resource.pk, "name": "X"}, token=other_token, status=403)
    assert forbidden["__type"] == "Authorization Error"
    missing = error(client, "resource_update", {"id": "999999", "name": "X"}, token=token, status=404)
    assert missing["__type"] == "Not Found Error"
    assert error(client, "resource_update", {"id": resource.pk, "name": "X"}, status=403)
    resource.refresh_from_db()
    assert resource.name == "Số hộ theo xã" and resource.row_count == 1


def test_actions_are_registered_once_with_their_kind():
    writes = {name for name, entry in ckan.ACTIONS.items() if entry.writes}
    assert writes == {
        "package_create",
        "package_update",
        "package_patch",
        "package_delete",
        "resource_create",
        "resource_update",
        "resource_delete",
    }
    assert {
        "status_show",
        "help_show",
        "package_list",
        "package_search",
        "datastore_search",
        "tag_list",
        "license_list",
        "organization_list",
        "group_list",
    } <= set(ckan.ACTIONS)
    # Each says what it does in Vietnamese: the API guide's line and help_show's answer.
    assert all(entry.summary.strip() and entry.summary.endswith(".") for entry in ckan.ACTIONS.values())


def test_parse_fq():
    assert ckan.parse_fq('organization:so-tu-phap AND tags:"hộ \\"tịch\\"" +res_format:CSV') == {
        "organization": ["so-tu-phap"],
        "tags": ['hộ "tịch"'],
        "res_format": ["CSV"],
    }
    assert ckan.parse_fq("  ") == {} and ckan.parse_fq("capacity:public") == {}

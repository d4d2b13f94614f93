"""The open-data portal's public pages (/du-lieu-mo/), as an anonymous visitor sees them: search with
facets, filters, sort and paging in a bounded number of queries; a dataset's page with its preview
table, a chart for a time series, the API snippets; downloads with safe headers; drafts and another
agency's drafts answered 404; a withdrawn dataset's page; the publishing figures; the history; and no
personal data in any address the pages link to."""

from __future__ import annotations

import html
import re
import urllib.parse

import pytest
from django.urls import reverse

from chinhquyenso.opendata import ckan
from chinhquyenso.opendata.models import Dataset, DatasetStatus
from chinhquyenso.opendata.services import datasets as dataset_services
from chinhquyenso.opendata.services import resources as resource_services
from chinhquyenso.opendata.views import download_names, share

SERIES_CSV = "tháng,số hồ sơ,ghi chú\n2025-01,120,\n2025-02,135,\n2025-03,150,tăng\n".encode()
SCHOOLS_CSV = "tên trường,xã,số lớp\nTrường Tiểu học Kiến An,Kiến An,12\nTrường THCS Kiến Thành,Kiến Thành,9\n".encode()


def publish(officers, agency_key, title, *, themes=(), tags=(), data=None, filename="du-lieu.csv", status="public"):
    """A dataset of province[agency_key] through the services, up to `status` (draft, submitted, public)."""
    specialist = officers[agency_key]["specialist"]
    agency = specialist.memberships.first().agency
    dataset = dataset_services.create_dataset(
        actor=specialist, agency=agency, fields={"title": title, "themes": list(themes), "tags": list(tags)}
    )
    if data is not None:
        resource_services.add_resource(dataset, actor=specialist, data=data, filename=filename, name=title[:60])
    if status in ("submitted", "public"):
        dataset_services.submit(dataset, actor=specialist)
    if status == "public":
        dataset_services.approve(dataset, actor=officers[agency_key]["leader"])
    dataset.refresh_from_db()
    return dataset


@pytest.fixture
def catalog(licences_and_themes, officers):
    """Three public datasets of two agencies, one draft, one submitted."""
    return {
        "series": publish(
            officers,
            "tu_phap",
            "Hồ sơ hộ tịch theo tháng",
            themes=["hanh-chinh-cong"],
            tags=["hộ tịch"],
            data=SERIES_CSV,
            filename="ho-so-theo-thang.csv",
        ),
        "schools": publish(
            officers, "xa_a", "Trường học trên địa bàn xã", themes=["giao-duc"], tags=["trường học"], data=SCHOOLS_CSV
        ),
        "plain": publish(officers, "tu_phap", "Danh mục văn bản quy phạm", tags=["hộ tịch"]),
        "draft": publish(officers, "tu_phap", "Bản nháp chưa công bố", status="draft", data=SCHOOLS_CSV),
        "submitted": publish(officers, "xa_b", "Chờ duyệt của xã Kiến Thành", status="submitted"),
    }


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def links(response) -> list[str]:
    return re.findall(r'href="([^"]+)"', response.content.decode())


# ---------------------------------------------------------------- search


def test_search_lists_public_datasets_with_facets(client, catalog, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        response = client.get(reverse("opendata:search"))
    assert response.status_code == 200
    page = text_of(response)
    assert "3 bộ dữ liệu" in page
    for key in ("series", "schools", "plain"):
        assert catalog[key].title in page
    assert "Bản nháp chưa công bố" not in page and "Chờ duyệt của xã" not in page
    # Facets with counts: agencies, fields, formats, keywords.
    assert "Sở Tư pháp" in page and "(2)" in page
    assert "Định dạng" in page and "CSV" in page
    assert "Từ khóa" in page and "hộ tịch" in page


def test_query_count_does_not_grow_with_results(client, catalog, officers, django_assert_max_num_queries):
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("opendata:search"))
    for n in range(6):
        publish(officers, "huyen", f"Bộ dữ liệu số {n}", data=SCHOOLS_CSV, tags=[f"từ khóa {n}"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("opendata:search"))
    assert "9 bộ dữ liệu" in text_of(response)


def test_words_without_diacritics_find_the_dataset(client, catalog):
    page = text_of(client.get(reverse("opendata:search"), {"q": "truong hoc"}))
    assert "Trường học trên địa bàn xã" in page and "Hồ sơ hộ tịch" not in page


def test_facet_links_filter_by_codes(client, catalog, province):
    response = client.get(reverse("opendata:search"))
    agency_link = next(href for href in links(response) if f"co_quan={province['xa_a'].code}" in href)
    filtered = client.get(reverse("opendata:search") + agency_link.replace("&amp;", "&"))
    page = text_of(filtered)
    assert "1 bộ dữ liệu" in page and "Trường học trên địa bàn xã" in page and "Hồ sơ hộ tịch" not in page
    assert "bỏ lọc" in page
    by_theme = text_of(client.get(reverse("opendata:search"), {"linh_vuc": "hanh-chinh-cong"}))
    assert "Hồ sơ hộ tịch theo tháng" in by_theme and "Trường học" not in by_theme
    by_tag = text_of(client.get(reverse("opendata:search"), {"tu_khoa": "hộ tịch"}))
    assert "2 bộ dữ liệu" in by_tag


def test_format_and_licence_facets_filter_the_page(client, catalog, officers, province):
    specialist = officers["tu_phap"]["specialist"]
    wifi = dataset_services.create_dataset(
        actor=specialist,
        agency=province["tu_phap"],
        fields={"title": "Điểm truy cập wifi công cộng", "licence": "cc0-1.0"},
    )
    points = '[{"tên": "Điểm A", "xã": "Kiến An"}]'.encode()
    resource_services.add_resource(wifi, actor=specialist, data=points, filename="wifi.json", name="Điểm wifi")
    dataset_services.submit(wifi, actor=specialist)
    dataset_services.approve(wifi, actor=officers["tu_phap"]["leader"])

    response = client.get(reverse("opendata:search"))
    page = text_of(response)
    # The licence facet shows each licence by its title with its count (3 under the default, 1 under CC0).
    assert "Giấy phép" in page
    assert "Creative Commons Ghi công 4.0 Quốc tế (CC BY 4.0) (3)" in page
    assert "CC0 1.0 – Dành cho phạm vi công cộng (không giữ quyền) (1)" in page
    licence_link = next(href for href in links(response) if "giay_phep=cc0-1.0" in href).replace("&amp;", "&")
    by_licence = text_of(client.get(reverse("opendata:search") + licence_link))
    assert "1 bộ dữ liệu" in by_licence and "Điểm truy cập wifi công cộng" in by_licence
    assert "Hồ sơ hộ tịch theo tháng" not in by_licence

    format_link = next(href for href in links(response) if "dinh_dang=JSON" in href).replace("&amp;", "&")
    by_json = text_of(client.get(reverse("opendata:search") + format_link))
    assert "1 bộ dữ liệu" in by_json and "Điểm truy cập wifi công cộng" in by_json
    by_csv = text_of(client.get(reverse("opendata:search"), {"dinh_dang": "CSV"}))
    assert "2 bộ dữ liệu" in by_csv
    assert "Hồ sơ hộ tịch theo tháng" in by_csv and "Trường học trên địa bàn xã" in by_csv
    assert "Danh mục văn bản quy phạm" not in by_csv and "Điểm truy cập wifi" not in by_csv
    # Both filters at once: a CSV under CC0 is none of them.
    both = text_of(client.get(reverse("opendata:search"), {"dinh_dang": "CSV", "giay_phep": "cc0-1.0"}))
    assert "Hồ sơ hộ tịch" not in both and "Điểm truy cập wifi" not in both


def test_sort_and_paging(client, catalog, officers, monkeypatch):
    monkeypatch.setattr("chinhquyenso.opendata.views.PAGE_SIZE", 2)
    first = client.get(reverse("opendata:search"), {"sap_xep": "ten-az"})
    titles = re.findall(r"<strong>([^<]+)</strong></a>", first.content.decode())
    assert titles == ["Danh mục văn bản quy phạm", "Hồ sơ hộ tịch theo tháng"]
    assert "Trang 1/2" in text_of(first)
    next_link = next(href for href in links(first) if "trang=2" in href).replace("&amp;", "&")
    assert "sap_xep=ten-az" in next_link
    second = client.get(reverse("opendata:search") + next_link)
    assert re.findall(r"<strong>([^<]+)</strong></a>", second.content.decode()) == ["Trường học trên địa bàn xã"]
    reverse_sorted = client.get(reverse("opendata:search"), {"sap_xep": "ten-za"})
    assert re.findall(r"<strong>([^<]+)</strong></a>", reverse_sorted.content.decode())[0] == (
        "Trường học trên địa bàn xã"
    )


@pytest.mark.parametrize("page", ["0", "abc", "99999999999999999999"])
def test_a_bad_page_number_is_a_400_naming_it(client, catalog, page):
    response = client.get(reverse("opendata:search"), {"trang": page})
    assert response.status_code == 400
    assert "trang" in text_of(response)


def test_unknown_sort_and_oversized_filters_are_bounded(client, catalog):
    response = client.get(
        reverse("opendata:search"), {"sap_xep": "'; drop table", "tu_khoa": ["x" * 5000] * 50, "q": "y" * 5000}
    )
    assert response.status_code == 200
    assert "0 bộ dữ liệu" in text_of(response)


# ---------------------------------------------------------------- a dataset's page


def test_dataset_page_shows_metadata_resources_preview_chart_and_api(client, catalog):
    dataset = catalog["series"]
    response = client.get(reverse("opendata:dataset", args=[dataset.name]))
    assert response.status_code == 200
    body = response.content.decode()
    page = text_of(response)
    assert dataset.title in page and "Sở Tư pháp" in page
    assert dataset.licence.title in page and dataset.licence.url in body
    assert "Tần suất cập nhật" in page and "Không định kỳ" in page
    resource = dataset.resources.get()
    assert reverse("opendata:download", args=[dataset.name, resource.pk]) in body
    # The preview: the header and the first rows.
    assert '<th scope="col">số hồ sơ</th>' in body and "2025-03" in page and "tăng" in page
    # A time series (a "tháng" column and a numeric one): an SVG chart with its data table.
    assert '<svg viewBox="0 0 360 220" role="img"' in body
    assert "Số liệu của biểu đồ" in page
    # The API, for this dataset.
    assert f"package_show?id={dataset.name}" in body
    assert f"datastore_search?resource_id={resource.pk}" in body
    assert "RemoteCKAN" in body
    assert f"/dataset/{dataset.name}.ttl" in body and f"/dataset/{dataset.name}.jsonld" in body


def test_no_chart_without_a_period_column(client, catalog):
    body = client.get(reverse("opendata:dataset", args=[catalog["schools"].name])).content.decode()
    assert "Trường Tiểu học Kiến An" in body  # the preview
    assert "<svg" not in body


def test_drafts_are_404_for_anonymous_and_other_agencies(client, catalog, officers):
    for key in ("draft", "submitted"):
        dataset = catalog[key]
        assert client.get(reverse("opendata:dataset", args=[dataset.name])).status_code == 404
    draft = catalog["draft"]
    resource = draft.resources.get()
    assert client.get(reverse("opendata:download", args=[draft.name, resource.pk])).status_code == 404
    client.force_login(officers["xa_a"]["specialist"])
    assert client.get(reverse("opendata:dataset", args=[draft.name])).status_code == 404
    assert client.get(reverse("opendata:download", args=[draft.name, resource.pk])).status_code == 404
    # Its own agency's officer sees the draft, marked as not public.
    client.force_login(officers["tu_phap"]["specialist"])
    response = client.get(reverse("opendata:dataset", args=[draft.name]))
    assert response.status_code == 200 and "chưa công bố" in text_of(response)
    download = client.get(reverse("opendata:download", args=[draft.name, resource.pk]))
    assert download.status_code == 200 and download["Cache-Control"] == "private, no-store"


def test_unknown_dataset_and_resource_are_404(client, catalog):
    assert client.get(reverse("opendata:dataset", args=["khong-co"])).status_code == 404
    name = catalog["series"].name
    assert client.get(reverse("opendata:download", args=[name, 99999999])).status_code == 404
    other = catalog["schools"].resources.get()
    assert client.get(reverse("opendata:download", args=[name, other.pk])).status_code == 404
    assert client.get(f"/du-lieu-mo/{name}/tai-nguyen/99999999999999999999/").status_code == 404


def test_download_is_an_attachment_with_safe_names(client, catalog):
    dataset = catalog["series"]
    resource = dataset.resources.get()
    response = client.get(reverse("opendata:download", args=[dataset.name, resource.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == SERIES_CSV
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"ho-so-ho-tich-theo-thang.csv\"; filename*=UTF-8''")
    assert urllib.parse.quote("Hồ sơ hộ tịch theo tháng") in disposition
    assert disposition.isascii()
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("public")


def test_download_names_cannot_break_the_header():
    resource = type("R", (), {"name": 'a"b\r\n;c/../Đường', "dataset": None})()
    ascii_name, utf8_name = download_names(resource, "csv")
    assert ascii_name == "a-b-c-duong.csv"
    assert '"' not in utf8_name and "\n" not in utf8_name and "/" not in utf8_name and ";" not in utf8_name


def test_withdrawn_dataset_page_says_so_and_offers_no_download(client, catalog, admin_user):
    dataset = catalog["schools"]
    resource = dataset.resources.get()
    dataset_services.withdraw(dataset, actor=admin_user, reason="Có dữ liệu cần rà soát lại")
    response = client.get(reverse("opendata:dataset", args=[dataset.name]))
    assert response.status_code == 200
    page = text_of(response)
    assert "Bộ dữ liệu đã được rút" in page and "Có dữ liệu cần rà soát lại" in page
    assert reverse("opendata:download", args=[dataset.name, resource.pk]) not in response.content.decode()
    assert client.get(reverse("opendata:download", args=[dataset.name, resource.pk])).status_code == 404
    assert dataset.title not in text_of(client.get(reverse("opendata:search")))


def test_history_lists_versions_without_names(client, catalog, officers):
    dataset = catalog["series"]
    response = client.get(reverse("opendata:history", args=[dataset.name]))
    assert response.status_code == 200
    page = text_of(response)
    assert "Lịch sử thay đổi" in page
    assert "Duyệt công bố bộ dữ liệu mở" in page and "Thêm tài nguyên vào bộ dữ liệu" in page
    assert Dataset.objects.get(pk=dataset.pk).versions.count() >= 3
    assert officers["tu_phap"]["specialist"].display_name not in page
    assert client.get(reverse("opendata:history", args=[catalog["draft"].name])).status_code == 404


# ---------------------------------------------------------------- figures, API guide


def test_figures_page_shows_the_share_and_each_agency(client, catalog):
    response = client.get(reverse("opendata:figures"))
    assert response.status_code == 200
    page = text_of(response)
    assert "đã công bố ít nhất một bộ dữ liệu mở" in page
    assert re.search(r"\d+/\d+ cơ quan \(\d+(,\d)?%\)", page), page
    assert "Sở Tư pháp có công bố" in page
    assert "UBND xã Kiến Thành chưa công bố" in page
    communes = text_of(client.get(reverse("opendata:figures"), {"cap": "xa"}))
    assert "UBND xã Kiến An" in communes and "Sở Tư pháp" not in communes
    assert "Ở cấp đã chọn: 1/2 cơ quan (50,0%)" in communes


def test_share_is_written_the_vietnamese_way():
    assert share(179, 188) == "95,2%"
    assert share(0, 0) == "—"


def test_api_help_page(client, licences_and_themes):
    response = client.get(reverse("opendata:api_help"))
    assert response.status_code == 200
    page = text_of(response)
    for action in ("package_search", "package_show", "datastore_search"):
        assert action in page
    assert "RemoteCKAN" in page and "/catalog.ttl" in response.content.decode()
    # The guide lists exactly the actions the API answers, each with its summary (help_show's text).
    listed = re.findall(r"<dt><code>([a-z_]+)</code></dt><dd>([^<]+)</dd>", response.content.decode())
    assert sorted(name for name, _ in listed) == sorted(ckan.ACTIONS)
    assert all(html.unescape(summary) == ckan.ACTIONS[name].summary for name, summary in listed)
    assert "license_list" in dict(listed) and "package_delete" in dict(listed)


# ---------------------------------------------------------------- addresses


def test_no_personal_data_in_any_address(client, catalog):
    """Every link the public pages make carries codes, names of datasets and keywords — never an e-mail,
    a phone number or an ID number (contact e-mails are agencies' and appear only as mailto)."""
    pages = [
        reverse("opendata:search"),
        reverse("opendata:dataset", args=[catalog["series"].name]),
        reverse("opendata:figures"),
    ]
    allowed_query = {"q", "sap_xep", "trang", "co_quan", "linh_vuc", "dinh_dang", "giay_phep", "tu_khoa", "cap"}
    for address in pages:
        for href in links(client.get(address)):
            if href.startswith(("mailto:", "http")):
                continue
            parsed = urllib.parse.urlsplit(href.replace("&amp;", "&"))
            assert not re.search(r"\d{9,}|@", parsed.path + parsed.query), href
            assert set(urllib.parse.parse_qs(parsed.query)) <= allowed_query, href


def test_navigation_links_to_the_portal(client, licences_and_themes):
    body = client.get(reverse("opendata:search")).content.decode()
    assert f'<a href="{reverse("opendata:search")}">Dữ liệu mở</a>' in body
    assert DatasetStatus.PUBLIC == "public"

"""Reading datasets: who sees which (public for everyone, every status for the agency's officers,
everything for the province administrator and auditors, withdrawn ones only on their own page) and
search — words without diacritics, facets, filters, sorts, pages — in a bounded number of queries."""

from __future__ import annotations

import pytest

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole
from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.opendata import selectors
from chinhquyenso.opendata.services import datasets


@pytest.fixture
def catalogue(province, officers, make_dataset, csv_bytes):
    """Public: two of Sở Tư pháp, one of Công an; a draft and a withdrawn one of Sở Tư pháp."""
    tp, ca = officers["tu_phap"]["specialist"], officers["cong_an"]["specialist"]
    made = {
        "lua": make_dataset(
            province["tu_phap"],
            tp,
            status="public",
            title="Sản lượng lúa theo xã",
            description="Số liệu Nông nghiệp hằng năm",
            themes=["nong-nghiep"],
            tags=["Nông nghiệp", "lúa"],
            resources=[csv_bytes()],
        ),
        "khai_sinh": make_dataset(
            province["tu_phap"],
            tp,
            status="public",
            title="Khai sinh theo xã",
            description="Có số liệu về lúa gạo trong phụ lục",
            themes=["tu-phap"],
            tags=["hộ tịch"],
            licence="cc0-1.0",
        ),
        "giao_thong": make_dataset(
            province["cong_an"],
            ca,
            status="public",
            title="Tai nạn giao thông",
            themes=["giao-thong"],
            tags=["Nông nghiệp"],
            resources=[b'{"type": "FeatureCollection", "features": []}'],
        ),
        "draft": make_dataset(province["tu_phap"], tp, title="Bản nháp lúa"),
        "withdrawn": make_dataset(province["tu_phap"], tp, status="withdrawn", title="Đã rút lúa"),
    }
    return made


@pytest.fixture
def auditor(db):
    return accounts.create_officer(
        actor=None, username="kiem.tra", password="Mat-khau-2025", full_name="Kiểm tra", global_role=GlobalRole.AUDITOR
    )


def names(queryset_or_list):
    return sorted(d.name for d in queryset_or_list)


def test_who_sees_what(catalogue, officers, citizen, auditor, admin_user):
    public = names([catalogue["lua"], catalogue["khai_sinh"], catalogue["giao_thong"]])
    assert names(selectors.visible_datasets(None)) == public
    assert names(selectors.visible_datasets(citizen)) == public
    assert names(selectors.visible_datasets(officers["cong_an"]["leader"])) == public
    everything = names(catalogue.values())
    assert names(selectors.visible_datasets(officers["tu_phap"]["clerk"])) == everything
    assert names(selectors.visible_datasets(auditor)) == everything
    assert names(selectors.visible_datasets(admin_user)) == everything


def test_dataset_for_by_name_or_id_and_withdrawn_pages(catalogue, officers):
    lua = catalogue["lua"]
    assert selectors.dataset_for(None, lua.name) == lua
    assert selectors.dataset_for(None, str(lua.pk)) == lua
    withdrawn = selectors.dataset_for(None, catalogue["withdrawn"].name)
    assert withdrawn.status == "withdrawn"  # its page says "đã rút"
    for ref in (catalogue["draft"].name, str(catalogue["draft"].pk), "khong-co", "", "9" * 40, None, "x" * 500):
        with pytest.raises(NotFound):
            selectors.dataset_for(officers["cong_an"]["leader"], ref)
    assert selectors.dataset_for(officers["tu_phap"]["clerk"], catalogue["draft"].name) == catalogue["draft"]


def test_a_name_wins_over_an_id(catalogue, officers, make_dataset, province):
    numbered = make_dataset(
        province["tu_phap"], officers["tu_phap"]["specialist"], status="public", name=str(catalogue["lua"].pk) + "0"
    )
    assert selectors.dataset_for(None, numbered.name) == numbered


def test_resource_for(catalogue, officers, admin_user):
    resource = catalogue["lua"].resources.get()
    assert selectors.resource_for(None, str(resource.pk)) == resource
    datasets.withdraw(catalogue["lua"], actor=admin_user, reason="Nhầm")
    for ref in (resource.pk, "abc", "9" * 30, None):
        with pytest.raises(NotFound):
            selectors.resource_for(None, ref)
    assert selectors.resource_for(officers["tu_phap"]["specialist"], resource.pk) == resource


def test_words_without_diacritics_find_them(catalogue):
    found = selectors.search_datasets(None, q="nong nghiep")
    assert names(found.results) == names([catalogue["lua"], catalogue["giao_thong"]])
    assert selectors.search_datasets(None, q="NÔNG   Nghiệp").count == 2
    assert selectors.search_datasets(None, q="so tu phap lua").count == 2  # agency name and words
    assert selectors.search_datasets(None, q="ua").count == 0  # words match from their start
    assert selectors.search_datasets(None, q="!!!").count == 3  # no words: everything public


def test_title_matches_rank_first(catalogue):
    found = selectors.search_datasets(None, q="lua")
    assert [d.name for d in found.results] == [catalogue["lua"].name, catalogue["khai_sinh"].name]
    by_title = selectors.search_datasets(None, q="lua", sort="title_string asc")
    assert [d.title for d in by_title.results] == ["Khai sinh theo xã", "Sản lượng lúa theo xã"]


def test_facets_and_filters(catalogue):
    found = selectors.search_datasets(None, facet_fields=("organization", "groups", "tags", "res_format", "license_id"))
    assert found.count == 3
    assert found.facets["organization"] == [("so-tu-phap", "Sở Tư pháp", 2), ("cong-an-tinh", "Công an tỉnh", 1)]
    assert ("Nông nghiệp", "Nông nghiệp", 2) == found.facets["tags"][0]
    assert sorted(found.facets["res_format"]) == [("CSV", "CSV", 1), ("GeoJSON", "GeoJSON", 1)]
    assert dict((code, n) for code, _, n in found.facets["license_id"]) == {"cc-by-4.0": 2, "cc0-1.0": 1}
    assert {code for code, _, _ in found.facets["groups"]} == {"nong-nghiep", "tu-phap", "giao-thong"}
    filtered = selectors.search_datasets(
        None, filters={"organization": ["so-tu-phap"], "tags": ["Nông nghiệp"]}, facet_fields=("organization",)
    )
    assert names(filtered.results) == [catalogue["lua"].name]
    assert filtered.facets["organization"] == [("so-tu-phap", "Sở Tư pháp", 1)]
    assert selectors.search_datasets(None, filters={"res_format": ["csv"]}).count == 1
    assert selectors.search_datasets(None, filters={"groups": ["tu-phap"], "license_id": ["cc0-1.0"]}).count == 1
    assert selectors.search_datasets(None, filters={"tags": ["Nông nghiệp", "lúa"]}).count == 1  # every value holds


def test_sort_and_pages(catalogue):
    by_name = selectors.search_datasets(None, sort="name asc", rows=2)
    assert by_name.count == 3 and len(by_name.results) == 2
    rest = selectors.search_datasets(None, sort="name asc", rows="2", start="2")
    assert [d.name for d in by_name.results + rest.results] == sorted(
        [catalogue["lua"].name, catalogue["khai_sinh"].name, catalogue["giao_thong"].name]
    )
    newest = selectors.search_datasets(None)
    assert newest.results[0] == catalogue["giao_thong"]  # the last changed
    assert selectors.search_datasets(None, rows=0).results == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rows": "-1"}, "rows"),
        ({"rows": "1001"}, "rows"),
        ({"rows": "9" * 40}, "rows"),
        ({"start": "10001"}, "start"),
        ({"start": "١"}, "start"),
        ({"sort": "random()"}, "sort"),
        ({"filters": {"owner": ["x"]}}, "fq"),
        ({"facet_fields": ["state"]}, "facet.field"),
        ({"q": "x" * 501}, "q"),
        ({"q": " ".join(f"w{n}" for n in range(13))}, "q"),
    ],
)
def test_bad_search_input_names_its_field(catalogue, kwargs, field):
    with pytest.raises(DomainError) as refused:
        selectors.search_datasets(None, **kwargs)
    assert refused.value.field == field


def test_search_reads_a_page_in_a_fixed_number_of_queries(
    catalogue, province, officers, make_dataset, csv_bytes, django_assert_max_num_queries
):
    def search():
        return selectors.search_datasets(
            officers["tu_phap"]["specialist"],
            q="xa",
            rows=50,
            facet_fields=("organization", "groups", "tags", "res_format", "license_id"),
        )

    # scope (2) + count (1) + 5 facets + page (1) + themes, tags, resources, files (4) = 13
    with django_assert_max_num_queries(13):
        few = search()
    for n in range(6):
        make_dataset(
            province["tu_phap"],
            officers["tu_phap"]["specialist"],
            status="public",
            title=f"Bảng {n} theo xã",
            tags=[f"t{n}"],
            themes=["y-te"],
            resources=[csv_bytes()],
        )
    with django_assert_max_num_queries(13):
        many = search()
    assert many.count == few.count + 6

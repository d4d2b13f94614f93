"""The DataStore: a resource's rows in a table of their own, typed from their values, searched with
CKAN's datastore_search semantics (filters, q, sort, paging, fields) — on SQLite and on PostgreSQL
(run this file with DATABASE_URL=postgres://… too)."""

from __future__ import annotations

import pytest
from django.db import connection

from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.core.uploads import store_generated
from chinhquyenso.opendata import datastore
from chinhquyenso.opendata.models import Dataset, Licence, Resource
from chinhquyenso.opendata.tabular import read_table
from tests.opendata.test_tabular import windows_1258

HEADER = ["Mã xã", "Tên xã", "Dân số", "Diện tích", "Ngày lập", "Ghi chú"]
ROWS = [
    ["00001", "Mỹ Hòa Hưng", "12000", "35.5", "2025-07-01", ""],
    ["00002", "Long Xuyên", "280000", "115", "2025-07-01", "thành phố cũ"],
    ["00003", "Châu Đốc", "", "105.25", "2024-01-15", "Núi Sam"],
    ["00004", "An Phú", "60000", "", "", "biên giới; 100% diện tích"],
]


@pytest.fixture
def resource(province):
    licence = Licence.objects.filter(is_default=True).first() or Licence.objects.create(
        code="cc-by-4.0", title="CC BY 4.0", url="https://creativecommons.org/licenses/by/4.0/", is_default=True
    )
    dataset = Dataset.objects.create(name="xa-phuong", title="Xã, phường", agency=province["ubnd"], licence=licence)
    stored = store_generated(b"x", content_type="text/csv", extension="csv", name="xa.csv")
    return Resource.objects.create(dataset=dataset, name="Danh sách xã", format="CSV", file=stored)


@pytest.fixture
def loaded(resource):
    datastore.load(resource, HEADER, ROWS)
    return resource


def table_exists(name: str) -> bool:
    return name in connection.introspection.table_names()


def test_types_are_inferred_from_the_values(loaded):
    loaded.refresh_from_db()
    assert loaded.datastore_table == f"opendata_ds_{loaded.pk}" and loaded.row_count == 4
    assert loaded.datastore_fields == [
        {"id": "Mã xã", "type": "text"},  # leading zeros: a code, not a number
        {"id": "Tên xã", "type": "text"},
        {"id": "Dân số", "type": "int"},
        {"id": "Diện tích", "type": "numeric"},  # integers and decimals together
        {"id": "Ngày lập", "type": "date"},
        {"id": "Ghi chú", "type": "text"},
    ]


def test_records_are_typed_as_ckan_answers_them(loaded):
    result = datastore.search(loaded)
    assert result["total"] == 4 and result["limit"] == 100 and result["offset"] == 0
    assert result["fields"][0] == {"id": "_id", "type": "int"}
    first, third = result["records"][0], result["records"][2]
    assert first == {
        "_id": 1,
        "Mã xã": "00001",
        "Tên xã": "Mỹ Hòa Hưng",
        "Dân số": 12000,
        "Diện tích": 35.5,
        "Ngày lập": "2025-07-01",
        "Ghi chú": "",  # an empty text cell stays text; an empty typed one is null
    }
    assert third["Dân số"] is None and result["records"][3]["Ngày lập"] is None
    assert result["records"][1]["Diện tích"] == 115


def test_filters_are_equalities_typed_by_their_column(loaded):
    def ids(**kwargs):
        return [record["_id"] for record in datastore.search(loaded, **kwargs)["records"]]

    assert ids(filters={"Dân số": "280000"}) == [2]
    assert ids(filters={"Dân số": 280000}) == [2]
    assert ids(filters={"Dân số": ["12000", 60000]}) == [1, 4]
    assert ids(filters={"Dân số": None}) == [3]
    assert ids(filters={"Diện tích": "105.25"}) == [3]
    assert ids(filters={"Ngày lập": "2025-07-01", "Tên xã": "Long Xuyên"}) == [2]
    assert ids(filters={"Tên xã": "Long xuyên"}) == []  # filters are exact, q is loose
    assert datastore.search(loaded, filters={"Mã xã": "00003"})["total"] == 1


@pytest.mark.parametrize(
    ("filters", "what"),
    [
        ({"Không có": "1"}, "Không có trường “Không có”"),
        ({"Dân số": "nhiều"}, "phải là số nguyên"),
        ({"Dân số": "1e5"}, "phải là số nguyên"),
        ({"Diện tích": "NaN"}, "phải là số"),
        ({"Ngày lập": "01/07/2025"}, "phải là ngày"),
        ({"Ngày lập": "2025-02-30"}, "phải là ngày"),
        ({"Tên xã": {"$ne": 1}}, "văn bản hoặc số"),
        ({"Tên xã": []}, "từ 1 đến"),
    ],
)
def test_bad_filters_name_the_parameter(loaded, filters, what):
    with pytest.raises(DomainError) as caught:
        datastore.search(loaded, filters=filters)
    assert caught.value.field == "filters" and what in caught.value.message


def test_q_matches_folded_words_anywhere(loaded):
    def ids(q):
        return [record["_id"] for record in datastore.search(loaded, q=q)["records"]]

    assert ids("hoa hung") == [1]
    assert ids("HÒA") == [1]
    assert ids("chau doc") == [3]
    assert ids("thành phố") == [2]
    assert ids("280000") == [2]  # numbers are searched as written
    assert ids("2024") == [3]
    assert ids("100%") == [4]  # % and _ are themselves, not wildcards
    assert ids("_") == []
    assert ids("xuyen sam") == []  # every word must match
    assert ids({"Ghi chú": "sam"}) == [3]
    assert ids({"Tên xã": "sam"}) == []
    with pytest.raises(DomainError) as caught:
        datastore.search(loaded, q={"Nowhere": "x"})
    assert caught.value.field == "q"


def test_sort_paging_and_fields(loaded):
    result = datastore.search(loaded, sort="Dân số desc", fields=["Tên xã", "Dân số"], limit=2)
    # NULLs first going down, last going up: the same on both databases.
    assert result["records"] == [{"Tên xã": "Châu Đốc", "Dân số": None}, {"Tên xã": "Long Xuyên", "Dân số": 280000}]
    assert result["fields"] == [{"id": "Tên xã", "type": "text"}, {"id": "Dân số", "type": "int"}]
    page = datastore.search(loaded, sort='"Dân số" asc', fields="Dân số,_id", limit=2, offset=2)
    assert page["records"] == [{"Dân số": 280000, "_id": 2}, {"Dân số": None, "_id": 3}]
    assert page["total"] == 4
    both = datastore.search(loaded, sort=["Ngày lập desc", "Mã xã"], fields=["_id"])
    assert [record["_id"] for record in both["records"]] == [4, 1, 2, 3]
    assert datastore.search(loaded, sort="_id desc", limit=1)["records"][0]["_id"] == 4
    assert "total" not in datastore.search(loaded, include_total=False)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sort": "Dân số; DROP TABLE x"}, "sort"),
        ({"sort": "Không có desc"}, "sort"),
        ({"fields": ["Tên xã", "c0"]}, "fields"),
        ({"fields": [1]}, "fields"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "1; --"}, "limit"),
        ({"offset": "20000"}, "offset"),
    ],
)
def test_bad_parameters_are_refused_naming_them(loaded, kwargs, field):
    with pytest.raises(DomainError) as caught:
        datastore.search(loaded, **kwargs)
    assert caught.value.field == field


def test_limit_is_capped_at_the_rows_max(loaded, settings):
    settings.CQS = {**settings.CQS, "OPENDATA_MAX_ROWS": 3}
    result = datastore.search(loaded, limit=1000)
    assert result["limit"] == 3 and len(result["records"]) == 3
    assert datastore.search(loaded, limit=0)["records"] == []


def test_injection_in_names_and_values_is_only_data(resource):
    hostile = ['x"); DROP TABLE opendata_dataset; --', "a' OR '1'='1", "c0", "Robert'); --"]
    rows = [["1'; DELETE FROM opendata_resource; --", '" OR 1=1 --', "%", "_"]]
    datastore.load(resource, hostile[1:], [row[1:] for row in rows])
    result = datastore.search(resource, filters={"a' OR '1'='1": '" OR 1=1 --'}, sort="Robert'); -- desc", q="%")
    assert result["total"] == 1
    assert result["records"][0]["c0"] == "%"
    assert datastore.search(resource, filters={"c0": "' OR 1=1 --"})["total"] == 0
    assert Dataset.objects.count() == 1 and Resource.objects.count() == 1
    with pytest.raises(DomainError, match="ngoặc kép"):
        datastore.load(resource, hostile, rows)


def test_loading_again_replaces_the_table(loaded):
    datastore.load(loaded, ["Năm", "Số hộ"], [["2024", "10"], ["2025", "12"], ["2026", "15"]])
    loaded.refresh_from_db()
    assert loaded.row_count == 3 and [f["id"] for f in loaded.datastore_fields] == ["Năm", "Số hộ"]
    result = datastore.search(loaded, filters={"Năm": 2025})
    assert result["records"] == [{"_id": 2, "Năm": 2025, "Số hộ": 12}]


def test_a_bad_row_leaves_the_old_table_untouched(loaded):
    rows = [["1", "2"]] * 5 + [["1", "2", "3"]]
    with pytest.raises(DomainError, match="Dòng 7 có 3 cột, dòng tiêu đề có 2"):
        datastore.load(loaded, ["a", "b"], rows)
    loaded.refresh_from_db()
    assert loaded.row_count == 4 and datastore.search(loaded)["total"] == 4


def test_the_row_limit(resource, settings):
    settings.CQS = {**settings.CQS, "OPENDATA_DATASTORE_MAX_ROWS": 10}
    datastore.load(resource, ["n"], ([str(n)] for n in range(10)))
    with pytest.raises(DomainError, match="hơn 10 dòng") as caught:
        datastore.load(resource, ["n"], ([str(n)] for n in range(11)))
    assert caught.value.field == "file"
    resource.refresh_from_db()
    assert resource.row_count == 10


def test_type_edge_cases(resource):
    header = ["big", "huge", "mixed", "precise", "comma", "day", "empty"]
    rows = [
        ["9223372036854775807", "9223372036854775808", "1", "0.123456789012345", "1,5", "2024-02-29", ""],
        ["-9223372036854775808", "1", "x", "1.1234567890123456", "2", "2024-12-31", ""],
    ]
    datastore.load(resource, header, rows)
    types = {field["id"]: field["type"] for field in resource.datastore_fields}
    assert types == {
        "big": "int",
        "huge": "text",  # past 64 bits
        "mixed": "text",
        "precise": "text",  # 17 significant digits: a double would not give them back
        "comma": "text",  # "1,5": only plain dot decimals are numbers
        "day": "date",
        "empty": "text",
    }
    records = datastore.search(resource, sort="big asc")["records"]
    assert [record["big"] for record in records] == [-(2**63), 2**63 - 1]


def test_generated_rows_of_python_values(resource):
    import datetime as dt

    datastore.load(
        resource, ["Tháng", "Số hồ sơ", "Tỉ lệ đúng hạn"], [[dt.date(2025, 1, 1), 12, 0.5], ["2025-02-01", None, 1.0]]
    )
    records = datastore.search(resource)["records"]
    assert records == [
        {"_id": 1, "Tháng": "2025-01-01", "Số hồ sơ": 12, "Tỉ lệ đúng hạn": 0.5},
        {"_id": 2, "Tháng": "2025-02-01", "Số hồ sơ": None, "Tỉ lệ đúng hạn": 1.0},
    ]


def test_read_table_round_trips_windows_1258_and_utf16(resource):
    legacy = "Tên;Số\nĐông Xuyên;1\nMỹ Hòa Hưng;2\n"
    data = windows_1258(legacy)
    table = read_table(data, "CSV")
    datastore.load(resource, table.header, table.rows)
    assert datastore.search(resource, q="hoa hung")["records"] == [{"_id": 2, "Tên": "Mỹ Hòa Hưng", "Số": 2}]
    assert datastore.search(resource, filters={"Tên": "Mỹ Hòa Hưng"})["total"] == 1
    table = read_table(legacy.replace(";", "\t").encode("utf-16"), "CSV")
    datastore.load(resource, table.header, table.rows)
    assert datastore.search(resource, filters={"Tên": "Đông Xuyên"})["records"][0]["Số"] == 1


def test_drop_and_preview(loaded):
    preview = datastore.preview(loaded, limit=2)
    assert preview["total"] == 4 and [record["_id"] for record in preview["records"]] == [1, 2]
    table = loaded.datastore_table
    assert table_exists(table)
    datastore.drop(loaded)
    loaded.refresh_from_db()
    assert not loaded.datastore_table and loaded.row_count is None and not table_exists(table)
    with pytest.raises(NotFound):
        datastore.search(loaded)


def test_indexes_cover_the_first_columns_but_not_long_text(resource):
    header = [f"c{n}" for n in range(25)] + ["mô tả dài"]
    long_text = "x" * 600
    datastore.load(resource, header, [[str(n) for n in range(25)] + [long_text]])
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, resource.datastore_table)
    indexed = {tuple(c["columns"]) for c in constraints.values() if c["index"] and not c["primary_key"]}
    assert indexed == {(f"c{n}",) for n in range(20)}

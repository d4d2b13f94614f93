"""GET /api/pests/densities?area=&from=&to= (pests.api): open to anyone like open data, the densities
with the data behind them on the hand-computed dataset (tests/pests/surveillance_data.py), bounded
periods and areas, Vietnamese errors in the API's shape, and the published OpenAPI."""

from __future__ import annotations

import pytest

from chinhquyenso.api import api
from tests.pests import surveillance_data as data

URL = "/api/pests/densities"


@pytest.fixture
def dataset(pest_catalog, pest_area, admin_user, pest_officer):
    return data.build(pest_area, admin_user, pest_officer)


def _get(client, **query):
    return client.get(URL, query)


def test_anyone_reads_a_districts_densities_with_the_data_behind_them(client, dataset):
    response = _get(client, area=dataset.area.district.electronic_code, **{"from": "2025-07-07", "to": "2025-07-13"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["area"] == {
        "code": dataset.area.district.code,
        "name": "UBND huyện Chợ Mới",
        "level": "district",
        "electronic_code": dataset.area.district.electronic_code,
    }
    assert (body["from"], body["to"], body["trap_nights"]) == ("2025-07-07", "2025-07-13", 5)
    rows = {(d["source"], d["measure"], d["trap_class"] or d["organism"]): d for d in body["densities"]}
    ray = rows[("trap", "per_trap_night", "ray-nau")]
    assert ray == {
        "source": "trap",
        "measure": "per_trap_night",
        "unit": "con/bẫy/đêm",
        "trap_class": "ray-nau",
        "trap_class_name": ray["trap_class_name"],
        "organism": "ray-nau",
        "organism_name": "Rầy nâu",
        "natural_enemy": False,
        "value": 160.0,
        "total": 800,
        "trap_nights": 5,
        "stations": ["bd-a", "bd-b", "bd-n"],
        "surveys": [],
        "trend": "up",
        "change_percent": 300.0,
        "previous": {"label": "Kỳ trước", "season": None, "from": "2025-06-30", "to": "2025-07-06", "value": 40.0},
        "seasons": [
            {
                "label": "Vụ Hè Thu 2024",
                "season": "he-thu-2024",
                "from": "2024-07-07",
                "to": "2024-07-13",
                "value": 40.0,
            }
        ],
    }
    density = rows[("survey", "per_m2", "ray-nau")]
    assert (density["value"], density["total"], len(density["surveys"])) == (1500.0, 2, 2)
    assert rows[("survey", "per_m2", "nhen-soi")]["natural_enemy"] is True
    stations = {s["code"]: s for s in body["stations"]}
    assert set(stations) == {"bd-a", "bd-b", "bd-n"}
    # S2 was placed in xã Kiến Thành before the merger: at the period's end it is in the merged commune
    assert stations["bd-b"]["commune"] == dataset.merged.code
    assert (stations["bd-b"]["nights"], stations["bd-b"]["counts"]) == (2, {"ray-nau": 200})
    assert stations["bd-a"]["counts"] == {"ray-nau": 400, "sau-cuon-la-nho": 10}
    assert body["surveys_total"] == 2 and len(body["surveys"]) == 2
    survey = next(s for s in body["surveys"] if s["commune"] == dataset.merged.code)
    assert {o["organism"]: (o["density_per_m2"], o["infestation_pct"]) for o in survey["observations"]} == {
        "ray-nau": (2000.0, 5.0),
        "nhen-soi": (30.0, None),
    }
    assert "officer" not in survey and "note" not in survey  # no personal data, no free text
    assert body["natural_enemies"] == {
        "surveys": 2,
        "enemies_per_m2": 40.0,
        "pests_per_m2": 1500.0,
        "ratio": 0.027,
        "text": "1 : 37,5",
    }


def test_a_commune_by_its_internal_code_and_the_province(client, dataset):
    merged = _get(client, area=dataset.merged.code, **{"from": "2025-07-07", "to": "2025-07-13"}).json()
    assert merged["area"]["level"] == "commune" and merged["trap_nights"] == 3
    province = _get(client, area="ubnd-tinh", **{"from": "2025-07-07", "to": "2025-07-13"}).json()
    assert province["area"]["level"] == "province" and province["trap_nights"] == 6


@pytest.mark.parametrize(
    ("query", "status", "field", "words"),
    [
        ({"from": "2025-07-07", "to": "2025-07-13"}, 422, "area", "thiếu trường"),
        ({"area": "x" * 61, "from": "2025-07-07", "to": "2025-07-13"}, 422, "area", "quá dài"),
        ({"area": "ubnd-cho-moi", "from": "07/07/2025", "to": "2025-07-13"}, 422, "from", "YYYY-MM-DD"),
        ({"area": "ubnd-cho-moi", "from": "1899-12-31", "to": "2025-07-13"}, 400, "from", "1900"),
        ({"area": "ubnd-cho-moi", "from": "2025-07-13", "to": "2025-07-07"}, 400, "to", "trở về sau"),
        ({"area": "ubnd-cho-moi", "from": "2024-01-01", "to": "2025-07-13"}, 400, "to", "tối đa 400 ngày"),
        ({"area": "khong-co", "from": "2025-07-07", "to": "2025-07-13"}, 400, "area", "Không tìm thấy địa bàn"),
        ({"area": "so-tu-phap", "from": "2025-07-07", "to": "2025-07-13"}, 400, "area", "xã, phường"),
    ],
)
def test_bounds_and_vietnamese_errors(client, dataset, query, status, field, words):
    response = client.get(URL, query)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["field"] == field and words in body["detail"], body


def test_400_days_are_allowed(client, dataset):
    response = _get(client, area="ubnd-cho-moi", **{"from": "2024-06-09", "to": "2025-07-13"})
    assert response.status_code == 200
    assert response.json()["trap_nights"] == 11  # every accepted night of the dataset in the district


def test_the_openapi_document_states_the_bounds(db):
    schema = api.get_openapi_schema()
    operation = schema["paths"][URL]["get"]
    assert not operation.get("security")  # open to anyone
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"area", "from", "to"}
    assert parameters["area"]["schema"]["maxLength"] == 60
    assert parameters["from"]["schema"]["format"] == "date"
    assert {200, 400, 422} <= set(operation["responses"])

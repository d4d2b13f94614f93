"""/api/dashboard: the same figures as the pages, the same scoping, errors
as {detail, field, code}."""

import pytest
from django.test import Client

from tests.dashboard.conftest import signed_in
from tests.dashboard.test_pages import Q1, text_of, tile

pytestmark = pytest.mark.django_db
Q1_API = {"period": "2025-Q1"}


def test_tiles_json_equals_the_page(dataset, admin_user):
    client = signed_in(admin_user)
    data = client.get("/api/dashboard/tiles", Q1_API).json()
    page = client.get("/dieu-hanh/", Q1)
    assert data["period"]["code"] == "2025-Q1" and data["previous_period"]["code"] == "2024-Q4"
    assert data["agency"] is None
    by_key = {t["key"]: t for t in data["tiles"]}
    assert list(by_key) == ["received", "online_rate_all", "on_time_rate", "digitization_rate", "index766"]
    for key, t in by_key.items():
        shown = tile(page, key)
        assert t["display"] in shown and t["previous_display"] in shown
        if t["change"]:
            assert t["change"]["text"] in shown
    online = by_key["online_rate_all"]
    assert (online["value"]["numerator"], online["value"]["denominator"], online["value"]["value"]) == (3, 5, 60.0)
    assert online["change"] == {
        "difference": 10.0,
        "unit": "điểm phần trăm",
        "direction": "up",
        "better": True,
        "text": "▲ tăng 10,0 điểm phần trăm",
    }
    assert by_key["received"]["change"]["text"] == "▲ tăng 3 hồ sơ (+150,0%)"


def test_whole_dashboard_json_matches_its_parts(dataset, admin_user):
    client = signed_in(admin_user)
    whole = client.get("/api/dashboard", {**Q1_API, "agency": "xa-kien-an"}).json()
    for part, key in (("tiles", "tiles"), ("procedures", "procedures"), ("agencies", "agencies")):
        assert whole[key] == client.get(f"/api/dashboard/{part}", {**Q1_API, "agency": "xa-kien-an"}).json()[key]
    assert whole["agency"]["code"] == "xa-kien-an" and whole["compliance"]["forms"] == []
    province = client.get("/api/dashboard", Q1_API).json()
    assert province["procedures"] is None and province["compliance"] is not None


def test_trend_json_is_the_chart_data(dataset, admin_user):
    client = signed_in(admin_user)
    data = client.get("/api/dashboard/trend", Q1_API).json()
    assert data["months"][0] == "2024-04" and data["months"][-1] == "2025-03" and len(data["months"]) == 12
    january = data["months"].index("2025-01")
    assert (
        data["received"]["online"][january],
        data["received"]["counter"][january],
        data["received"]["post"][january],
        data["received"]["total"][january],
    ) == (2, 0, 1, 3)
    assert data["online_rate"][january]["display"] == "66,7%" and data["online_rate"][0] is None
    html = client.get("/dieu-hanh/", Q1).content.decode()
    assert f"tổng {sum(data['received']['total'])} hồ sơ" in html


def test_ranking_procedures_overdue_and_egov_json(dataset, admin_user):
    client = signed_in(admin_user)
    ranking = client.get("/api/dashboard/ranking", {**Q1_API, "indicator": "online_rate_all"}).json()
    communes = next(g for g in ranking["groups"] if g["level"] == "commune")
    assert [(r["rank"], r["agency"]["code"], r["display"], r["detail"]) for r in communes["rows"]] == [
        (1, "xa-kien-an", "66,7%", "2/3"),
        (2, "xa-kien-thanh", "50,0%", "1/2"),
    ]
    assert ranking["higher_is_better"] is True
    late = client.get("/api/dashboard/ranking", {**Q1_API, "indicator": "late_rate"}).json()
    assert late["higher_is_better"] is False
    procedures = client.get("/api/dashboard/procedures", {**Q1_API, "agency": "xa-kien-an"}).json()["procedures"]
    assert [
        (p["code"], p["received"], p["late"], p["overdue"], p["values"]["online_rate_all"]["display"])
        for p in procedures
    ] == [("1.001193", 3, 0, 1, "66,7%")]
    overdue = client.get("/api/dashboard/overdue", {**Q1_API, "agency": "ubnd-cho-moi", "procedure": "1.001193"}).json()
    assert overdue["total"] == 1 and overdue["dossiers"][0]["code"] == dataset["D3"].code
    assert overdue["dossiers"][0]["working_days_overdue"] > 400
    egov = client.get("/api/dashboard/egov-completion", Q1_API).json()
    assert egov["period"]["code"] == "2025-M03"
    assert [(lv["label"], lv["complete"], lv["assessed"], lv["rate"]["display"]) for lv in egov["levels"]] == [
        ("Cơ quan cấp tỉnh", 0, 3, "0,0%"),
        ("UBND cấp huyện", 0, 1, "0,0%"),
    ]
    page = text_of(client.get("/dieu-hanh/", Q1))
    assert "Cơ quan cấp tỉnh: 0/3 cơ quan đạt, 0,0%" in page


def test_api_scoping_and_errors(dataset, officers, citizen):
    leader = signed_in(officers["xa_a"]["leader"])
    own = leader.get("/api/dashboard/tiles", Q1_API).json()
    assert own["agency"]["code"] == "xa-kien-an"
    foreign = leader.get("/api/dashboard/overdue", {**Q1_API, "agency": "xa-kien-thanh"})
    assert foreign.status_code == 403
    assert foreign.json() == {
        "detail": "Bạn chỉ xem được số liệu của cơ quan mình và các cơ quan trực thuộc.",
        "field": "agency",
        "code": "forbidden",
    }
    assert leader.get("/api/dashboard/tiles", {**Q1_API, "agency": "khong-co"}).json()["code"] == "not_found"
    bad = leader.get("/api/dashboard/tiles", {"period": "2025-Q5"})
    assert bad.status_code == 400 and bad.json()["field"] == "period"
    assert leader.get("/api/dashboard/overdue", {"limit": 0}).status_code == 422
    # The leader's overdue list holds their own dossiers only.
    codes = [d["code"] for d in leader.get("/api/dashboard/overdue").json()["dossiers"]]
    assert codes == [dataset["D3"].code]
    specialist = signed_in(officers["xa_a"]["specialist"]).get("/api/dashboard", Q1_API)
    assert specialist.status_code == 403 and specialist.json()["code"] == "forbidden"
    assert "lãnh đạo" in specialist.json()["detail"]
    assert signed_in(citizen).get("/api/dashboard/tiles").status_code == 403
    assert Client().get("/api/dashboard/tiles").status_code == 401

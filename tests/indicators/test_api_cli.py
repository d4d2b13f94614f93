"""The same figures through the API and the CLI."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_values_endpoint_matches_the_cli(quarter, officers):
    body = client_for(officers["tu_phap"]["specialist"]).get("/api/indicators/values?period=2025-Q1").json()
    by_code = {row["code"]: row for row in body["indicators"]}
    assert (
        by_code["online_rate_all"]["numerator"],
        by_code["online_rate_all"]["denominator"],
        by_code["online_rate_all"]["display"],
    ) == (3, 6, "50,0%")
    out = StringIO()
    call_command("kpi", "--from", "2025-01-01", "--to", "2025-03-31", "--json", stdout=out)
    cli = json.loads(out.getvalue())
    assert cli["period"]["code"] == "2025-Q1" and cli["indicators"] == body["indicators"]
    text = StringIO()
    call_command("kpi", "--period", "2025-Q1", "--agency", "ubnd-cho-moi", "--with-subordinates", stdout=text)
    assert "UBND huyện Chợ Mới — quý I năm 2025" in text.getvalue()
    assert any(x.split()[:3] == ["received", "5", "hồ"] for x in text.getvalue().splitlines() if x.strip())


def test_index766_endpoint_and_cli(quarter, officers):
    body = client_for(officers["huyen"]["leader"]).get("/api/indicators/index766?period=2025-Q1").json()
    assert body["max_points"] == 100 and len(body["groups"]) == 5
    online = next(r for g in body["groups"] for r in g["rules"] if r["code"] == "766-4-2")
    # 60% ≥ 50%: the full 6 points of criterion 3.3 (qd766.md live split)
    assert online["points"] == 6 and online["data"]["numerator"] == 3 and online["data"]["denominator"] == 5
    out = StringIO()
    call_command("index766", "--period", "2025-Q1", stdout=out)
    assert "Cung cấp dịch vụ công trực tuyến" in out.getvalue() and "Tổng:" in out.getvalue()


def test_bad_input_is_named(quarter, officers, citizen):
    client = client_for(officers["tu_phap"]["specialist"])
    response = client.get("/api/indicators/values?period=2025-Q5")
    assert response.status_code == 400 and response.json()["field"] == "period"
    response = client.get("/api/indicators/values?period=2025-Q1&agency=khong-co")
    assert response.status_code == 404 and response.json()["field"] == "agency"
    assert client_for(citizen).get("/api/indicators/values?period=2025-Q1").status_code == 403
    assert Client().get("/api/indicators/values?period=2025-Q1").status_code == 401
    with pytest.raises(CommandError, match="không hợp lệ"):
        call_command("kpi", "--period", "quý 3")


def test_egov_and_targets_endpoints(quarter, officers):
    client = client_for(officers["ubnd"]["leader"])
    egov = client.get("/api/indicators/egov-completion?period=2025-M03").json()
    assert {a["code"] for a in egov["agencies"]} >= {"so-tu-phap", "ubnd-cho-moi"}
    targets = client.get("/api/indicators/targets?year=2025").json()
    assert {t["indicator"]: t["status"] for t in targets}["online_rate_all"] == "đạt"


def test_indicators_are_listed_only_for_their_period_kinds_and_levels(quarter, officers):
    from chinhquyenso.indicators.models import Indicator

    Indicator.objects.filter(code="avg_processing_days").update(period_kinds=["year"])
    Indicator.objects.filter(code="services_with_online_dossier_rate").update(agency_levels=["province"])
    client = client_for(officers["tu_phap"]["specialist"])
    quarter_codes = {r["code"] for r in client.get("/api/indicators/values?period=2025-Q1").json()["indicators"]}
    assert "avg_processing_days" not in quarter_codes and "services_with_online_dossier_rate" in quarter_codes
    year_codes = {r["code"] for r in client.get("/api/indicators/values?period=2025").json()["indicators"]}
    assert "avg_processing_days" in year_codes
    commune = {
        r["code"] for r in client.get("/api/indicators/values?period=2025&agency=ubnd-cho-moi").json()["indicators"]
    }
    assert "services_with_online_dossier_rate" not in commune and "received" in commune

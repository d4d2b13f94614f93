"""`cqs kpi` says what a figure covers and prints it with its unit (issue 17,
items 4 and 11): --agency is the agency alone unless --with-subordinates is
given (the same for the API), the JSON lists the agencies covered, and every
value carries its unit from the indicator's data ("1/2 cơ quan", "50,0%",
"4,6 ngày", "6 hồ sơ"), never a bare number."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from chinhquyenso.indicators.management.commands.kpi import Command
from chinhquyenso.indicators.models import Indicator
from chinhquyenso.indicators.services import record_reported_value

pytestmark = pytest.mark.django_db


def kpi(*args) -> str:
    out = StringIO()
    call_command("kpi", "--period", "2025-Q1", *args, stdout=out)
    return out.getvalue()


def by_code(body: dict) -> dict:
    return {row["code"]: row for row in body["indicators"]}


def test_agency_alone_by_default_and_the_json_says_whom_it_covers(quarter, officers):
    alone = json.loads(kpi("--agency", "ubnd-cho-moi", "--json"))
    assert alone["with_subordinates"] is False
    assert [a["code"] for a in alone["agencies"]] == ["ubnd-cho-moi"]
    assert by_code(alone)["received"]["numerator"] == 0  # the district itself received nothing
    whole = json.loads(kpi("--agency", "ubnd-cho-moi", "--with-subordinates", "--json"))
    assert whole["with_subordinates"] is True
    assert [a["code"] for a in whole["agencies"]] == ["ubnd-cho-moi", quarter["merged"].code]
    assert by_code(whole)["received"]["numerator"] == 5
    province = json.loads(kpi("--json"))
    assert province["with_subordinates"] is True and "so-tu-phap" in {a["code"] for a in province["agencies"]}
    text = kpi("--agency", "ubnd-cho-moi")
    assert "Phạm vi: riêng UBND huyện Chợ Mới (không gồm cơ quan cấp dưới" in text
    assert "Phạm vi: UBND huyện Chợ Mới và 1 cơ quan cấp dưới: UBND xã Kiến An mới." in kpi(
        "--agency", "ubnd-cho-moi", "--with-subordinates"
    )
    with pytest.raises(CommandError, match="chỉ dùng cùng --agency"):
        kpi("--with-subordinates")


def test_help_states_the_default():
    text = " ".join(Command().create_parser("cqs", "kpi").format_help().split())
    assert "--with-subordinates" in text and "Mặc định: không, chỉ riêng cơ quan đó" in text


def test_api_follows_the_same_rule(quarter, officers):
    client = Client()
    client.force_login(officers["huyen"]["leader"])
    alone = client.get("/api/indicators/values?period=2025-Q1&agency=ubnd-cho-moi").json()
    whole = client.get("/api/indicators/values?period=2025-Q1&agency=ubnd-cho-moi&with_subordinates=true").json()
    assert (alone["with_subordinates"], by_code(alone)["received"]["numerator"]) == (False, 0)
    assert (whole["with_subordinates"], by_code(whole)["received"]["numerator"]) == (True, 5)
    assert (
        whole["indicators"]
        == json.loads(kpi("--agency", "ubnd-cho-moi", "--with-subordinates", "--json"))["indicators"]
    )
    score = client.get("/api/indicators/index766?period=2025-Q1&agency=ubnd-cho-moi").json()
    assert score["with_subordinates"] is False and [a["code"] for a in score["agencies"]] == ["ubnd-cho-moi"]


def line(text: str, code: str) -> str:
    return next(x for x in text.splitlines() if x.split() and x.split()[0] == code)


def test_values_print_with_their_units(quarter, province):
    certificate = Indicator.objects.get(code="has_signature_certificate")
    for agency, answer in ((province["tu_phap"], 1), (province["cong_an"], 0)):
        record_reported_value(
            indicator=certificate,
            agency=agency,
            period_start=dt.date(2025, 1, 1),
            period_end=dt.date(2025, 3, 31),
            value=answer,
        )
    text = kpi()
    assert "1/2 cơ quan" in line(text, "has_signature_certificate")  # not "50"
    assert "50,0%" in line(text, "online_rate_all") and "(3/6 hồ sơ)" in line(text, "online_rate_all")
    assert " 6 hồ sơ " in line(text, "received")
    assert "4,6 ngày" in line(text, "avg_processing_days") and "ngày / 5 hồ sơ" in line(text, "avg_processing_days")
    assert "(0/4 cơ quan)" in line(text, "egov_completion_rate")
    assert "(1/1 dịch vụ)" in line(text, "services_with_online_dossier_rate")

"""An indicator whose input is missing says so (issue 17, item 3): history
imported from an old system has amounts but no payment method, so the
online-payment rate is computed over the dossiers whose method is known, with
the count left out; when none is known there is no value ("không có số
liệu"), never 0,0% — in the computation, so the CLI, API, reports and the
dashboard all get it."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from chinhquyenso.dossiers import importer, services
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.indicators.selectors import compute
from tests.conftest import new_citizen_id, vn
from tests.datasets import PAPER

pytestmark = pytest.mark.django_db


def imported_history(tmp_path, count: int):
    """Birth registrations returned in March 2025, fee paid, method unknown."""
    rows = []
    for n in range(1, count + 1):
        rows.append(
            {
                "code": f"CU-2503-{n:04d}",
                "procedure_code": "1.001193",
                "agency": "000.07.01.H01",
                "channel": "counter",
                "applicant": {"identity_number": new_citizen_id(), "full_name": "Trần Thị Bích Ngọc"},
                "submitted_at": "2025-03-03T08:00:00+07:00",
                "status": "returned",
                "events": [
                    {"at": "2025-03-03T09:00:00+07:00", "action": "accept"},
                    {"at": "2025-03-04T10:00:00+07:00", "action": "forward"},
                    {"at": "2025-03-05T16:00:00+07:00", "action": "approve"},
                    {"at": "2025-03-06T08:00:00+07:00", "action": "return_result"},
                ],
                "fee_due": 8000,
                "fee_paid": 8000,
            }
        )
    path = tmp_path / "old.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    stats = importer.import_file(path)
    assert stats.imported == count


@pytest.fixture
def history(registry, province, birth_procedure, tmp_path):
    imported_history(tmp_path, 3)


def paid_online_live(citizen, officers):
    d = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        at=vn(2025, 3, 10, 8),
    )
    services.accept(d, actor=officers["xa_a"]["counter_officer"], at=vn(2025, 3, 10, 9))
    services.record_payment(
        d,
        actor=citizen,
        amount=d.fee_due,
        method="online",
        transaction_ref="PAY-17",
        at=vn(2025, 3, 10, 9, 30),
        confirmed_by_gateway=True,
    )


def test_no_dossier_with_the_input_gives_no_value(history):
    v = compute(parse_period("2025-M03")).get("online_payment_rate")
    assert v.value is None and v.missing == 3
    assert v.display == "không có số liệu"  # not "0,0%"
    assert v.as_dict()["missing"] == 3 and v.as_dict()["display"] == "không có số liệu"


def test_some_with_the_input_are_measured_and_the_rest_counted(history, citizen, officers):
    paid_online_live(citizen, officers)
    v = compute(parse_period("2025-M03")).get("online_payment_rate")
    assert (v.numerator, v.denominator, v.display, v.missing) == (1, 1, "100,0%", 3)


def test_no_missing_input_says_nothing_missing(quarter):
    v = compute(parse_period("2025-Q1")).get("online_payment_rate")
    assert (v.numerator, v.denominator, v.missing) == (1, 5, 0) and v.missing_text == ""


def test_every_surface_says_no_data(history, officers):
    out = StringIO()
    call_command("kpi", "--period", "2025-M03", stdout=out)
    line = next(x for x in out.getvalue().splitlines() if "online_payment_rate" in x)
    assert "không có số liệu" in line and "3 hồ sơ thiếu dữ liệu" in line
    client = Client()
    client.force_login(officers["tu_phap"]["specialist"])
    body = client.get("/api/indicators/values?period=2025-M03").json()
    row = next(r for r in body["indicators"] if r["code"] == "online_payment_rate")
    assert (row["value"], row["display"], row["missing"]) == (None, "không có số liệu", 3)
    from chinhquyenso.reports.services import take_snapshot  # what reports print from

    figure = take_snapshot(parse_period("2025-M03"))["indicators"]["online_payment_rate"]
    assert (figure["display"], figure["missing"]) == ("không có số liệu", 3)


def test_a_dashboard_tile_says_no_data(history):
    from chinhquyenso.dashboard.selectors import Tile

    v = compute(parse_period("2025-M03")).get("online_payment_rate")
    tile = Tile(key=v.code, label="Thanh toán trực tuyến", name=v.name, current=v, previous=None)
    assert tile.display == "không có số liệu"

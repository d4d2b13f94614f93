"""Vietnam Social Security over the bus (simulator: exchange.connectors.simulators.social_insurance,
a separate process): a child's health-insurance card (refused from six years of age — a real rule),
the funeral allowance (10 × the base salary), polling, and a part the schema refuses at once."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import transaction

from chinhquyenso.core.errors import DomainError
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.connectors import parts, testing
from chinhquyenso.exchange.models import Message
from tests.exchange.connectors.test_residence import KIND, bus, received  # noqa: F401 (fixtures)


@pytest.fixture
def insurance(bus):  # noqa: F811
    with testing.start_simulator("social_insurance", bus_url=bus, delay=0.1) as sim:
        yield sim


def years_ago(years: int, days: int = 0) -> str:
    today = dt.date.today()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:
        day = today.replace(year=today.year - years, day=28)
    return (day + dt.timedelta(days=days)).isoformat()


def card_part(birth_date: str) -> dict:
    return {
        "connector": "social_insurance",
        "procedure": "social_insurance.health_card_child",
        "reference": f"P-{uuid.uuid4().hex[:12]}",
        "applicant": {"full_name": "Trần Thị Mai", "id_number": "089190000123", "relationship": "Mẹ"},
        "subject": {"full_name": "Nguyễn Minh Khang", "birth_date": birth_date, "gender": "Nam"},
        "data": {"birth_certificate_number": "125/2026", "residence_address": "Tổ 3, xã Kiến An, tỉnh An Giang"},
        "correlation": "G-0002",
        "order_key": "group:G-0002",
        "kind": KIND,
    }


def funeral_part(social_insurance_number: str = "8912345670") -> dict:
    return {
        "connector": "social_insurance",
        "procedure": "social_insurance.funeral_allowance",
        "reference": f"P-{uuid.uuid4().hex[:12]}",
        "applicant": {"full_name": "Lê Văn Tài", "id_number": "089080000777", "relationship": "Con"},
        "subject": {"full_name": "Lê Văn Hùng", "id_number": "089050000321"},
        "data": {
            "social_insurance_number": social_insurance_number,
            "death_certificate_number": "31/2026",
            "death_date": (dt.date.today() - dt.timedelta(days=3)).isoformat(),
            "claimant": {"full_name": "Lê Văn Tài", "id_number": "089080000777", "relationship": "Con"},
        },
        "correlation": "G-0003",
        "order_key": "group:G-0003",
        "kind": KIND,
    }


def submit(part):
    with transaction.atomic():
        return parts.submit_part(**part)


def test_a_newborns_health_insurance_card_is_issued_until_six(insurance, received):  # noqa: F811
    calls, replies = received
    born = dt.date.today() - dt.timedelta(days=10)
    submit(card_part(born.isoformat()))
    assert outbox.deliver_due() == (1, 0)
    insurance.wait_callbacks(status="done")
    result = calls[-1]["result"]
    assert result["number"].startswith("TE189") and len(result["number"]) == 15
    assert result["document"].startswith(f"Thẻ bảo hiểm y tế, giá trị sử dụng từ {born:%d/%m/%Y} đến ")
    status = parts.part_status("social_insurance", replies[0]["request_id"])
    assert status["status"] == "done" and status["result"] == result


def test_a_six_year_old_is_refused_the_under_six_card(insurance, received):  # noqa: F811
    calls, _ = received
    submit(card_part(years_ago(6)))
    outbox.deliver_due()
    insurance.wait_callbacks(status="refused")
    assert [c["status"] for c in calls] == ["processing", "refused"]
    assert "72 tháng tuổi" in calls[-1]["reason"]


def test_a_child_a_day_short_of_six_still_gets_the_card(insurance, received):  # noqa: F811
    calls, _ = received
    submit(card_part(years_ago(6, days=1)))
    outbox.deliver_due()
    insurance.wait_callbacks(status="done")
    assert calls[-1]["status"] == "done"


def test_the_funeral_allowance_is_ten_times_the_base_salary(insurance, received):  # noqa: F811
    calls, _ = received
    submit(funeral_part())
    outbox.deliver_due()
    insurance.wait_callbacks(status="done")
    document = calls[-1]["result"]["document"]
    assert document.startswith("Quyết định hưởng trợ cấp mai táng: 23.400.000 đồng, chi trả từ ngày ")


def test_no_qualifying_contributions_refuses_the_funeral_allowance(insurance, received):  # noqa: F811
    calls, _ = received
    submit(funeral_part("8912345679"))
    outbox.deliver_due()
    insurance.wait_callbacks(status="refused")
    assert "trợ cấp mai táng" in calls[-1]["reason"]


def test_a_status_change_without_callback_is_found_by_polling(insurance, received):  # noqa: F811
    calls, replies = received
    insurance.outcome("social_insurance.funeral_allowance", status="done", callback=False)
    submit(funeral_part())
    outbox.deliver_due()
    request_id = replies[0]["request_id"]
    status = insurance.wait(
        lambda: (s := parts.part_status("social_insurance", request_id))["status"] == "done" and s, what="done"
    )
    assert status["result"]["document"].startswith("Quyết định hưởng trợ cấp mai táng")
    assert calls == [] and insurance.callbacks() == []


def test_a_bad_funeral_part_is_refused_at_once(bus):  # noqa: F811
    part = funeral_part("12345")
    with pytest.raises(DomainError) as refused:
        submit(part)
    assert refused.value.field == "data.social_insurance_number"
    assert "mã số bảo hiểm xã hội không đúng định dạng" in refused.value.message
    part = funeral_part()
    part["data"]["claimant"]["nickname"] = "x"
    with pytest.raises(DomainError) as refused:
        submit(part)
    assert refused.value.field == "data.claimant.nickname"
    assert not Message.objects.exists()

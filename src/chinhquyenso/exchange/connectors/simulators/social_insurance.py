"""Vietnam Social Security (Bảo hiểm xã hội Việt Nam) as a simulator process over the
interconnected-part protocol (simulators.parts):

    python -m chinhquyenso.exchange.connectors.simulators.social_insurance --port 0 --bus-url URL \\
        --client-id VN/GOV/000.00.00.G15/bhxh --key FILE --cert FILE [--delay 1]

Procedures and the real rules it applies:

- `social_insurance.health_card_child`: a health-insurance card for a child under 6 (Luật Bảo hiểm
  y tế, Điều 16): refused when the child is 6 (72 months) or older on the day it is decided; the card
  (number `TE1` + province code + 10-digit social insurance code) is valid from the birth date until
  the day before the sixth birthday — or until 30 September of that year when the child turns six
  before then (the school year has not begun). The result's `document` states the validity
  ("Thẻ bảo hiểm y tế, giá trị sử dụng từ 01/03/2026 đến 30/09/2032"): the part protocol's result
  is {number, issued_on, document}.
- `social_insurance.funeral_allowance`: the funeral allowance (trợ cấp mai táng, Luật Bảo hiểm xã hội)
  is 10 times the base salary (mức lương cơ sở, 2.340.000 đồng from 01/7/2024: 23.400.000 đồng),
  paid three days after the decision; `document` states the amount and the payment date. Simulated rule: a social insurance number ending in 9 has no
  qualifying contribution record → refused."""

from __future__ import annotations

import datetime as dt
import sys

from chinhquyenso.exchange.connectors.simulators import parts

PORT = 8797
BASE_SALARY = 2_340_000
FUNERAL_MULTIPLE = 10
PROVINCE_CODE = "89"


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _vn(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _check_card(body):
    problem = parts.first(
        parts.require(
            body, "subject.birth_date", "subject.gender", "data.birth_certificate_number", "data.residence_address"
        ),
        parts.check_date(body, "subject.birth_date"),
    )
    if problem is None and dt.date.fromisoformat(body["subject"]["birth_date"]) > parts.now().date():
        return "subject.birth_date", "Ngày sinh không được sau ngày hôm nay."
    return problem


def _decide_card(body, request_id):
    born = dt.date.fromisoformat(body["subject"]["birth_date"])
    today = parts.now().date()
    sixth = _years_later(born, 6)
    if today >= sixth:
        return (
            "refused",
            "Trẻ đã đủ 72 tháng tuổi (6 tuổi) nên không thuộc đối tượng được cấp thẻ bảo hiểm y tế "
            "cho trẻ em dưới 6 tuổi.",
            None,
        )
    school_year_end = dt.date(sixth.year, 9, 30)
    valid_to = school_year_end if sixth <= school_year_end else sixth - dt.timedelta(days=1)
    code = parts.serial("", request_id, 10)
    return (
        "done",
        "",
        {
            "number": f"TE1{PROVINCE_CODE}{code}",
            "issued_on": today.isoformat(),
            "document": f"Thẻ bảo hiểm y tế, giá trị sử dụng từ {_vn(born)} đến {_vn(valid_to)}",
        },
    )


def _check_funeral(body):
    problem = parts.first(
        parts.require(
            body,
            "subject.id_number",
            "data.social_insurance_number",
            "data.death_certificate_number",
            "data.death_date",
            "data.claimant.full_name",
            "data.claimant.id_number",
            "data.claimant.relationship",
        ),
        parts.check_id(body, "subject.id_number"),
        parts.check_date(body, "data.death_date"),
        parts.check_id(body, "data.claimant.id_number"),
    )
    number = str(body.get("data", {}).get("social_insurance_number", ""))
    if problem is None and not (number.isdigit() and len(number) == 10):
        return "data.social_insurance_number", "Mã số bảo hiểm xã hội phải gồm 10 chữ số."
    return problem


def _decide_funeral(body, request_id):
    if body["data"]["social_insurance_number"].endswith("9"):
        return (
            "refused",
            "Người đã mất không có quá trình đóng bảo hiểm xã hội đủ điều kiện hưởng trợ cấp mai táng.",
            None,
        )
    today = parts.now().date()
    return (
        "done",
        "",
        {
            "number": parts.serial(f"QĐ-MT-{today.year}-", request_id),
            "issued_on": today.isoformat(),
            "document": (
                f"Quyết định hưởng trợ cấp mai táng: {_money(FUNERAL_MULTIPLE * BASE_SALARY)} đồng, "
                f"chi trả từ ngày {_vn(today + dt.timedelta(days=3))}"
            ),
        },
    )


PROCEDURES = {
    "social_insurance.health_card_child": parts.Procedure(
        "Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi", _check_card, _decide_card
    ),
    "social_insurance.funeral_allowance": parts.Procedure(
        "Giải quyết trợ cấp mai táng", _check_funeral, _decide_funeral
    ),
}


def main(argv=None) -> None:
    parts.run(
        "SOCIAL_INSURANCE_SIMULATOR", "Social insurance simulator (BHXH Việt Nam)", PORT, PROCEDURES, "BHXH", argv
    )


if __name__ == "__main__":
    main(sys.argv[1:])

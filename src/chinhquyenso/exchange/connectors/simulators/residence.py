"""The police's residence system (Hệ thống quản lý cư trú, Bộ Công an) as a simulator process over
the interconnected-part protocol (simulators.parts):

    python -m chinhquyenso.exchange.connectors.simulators.residence --port 0 --bus-url URL \\
        --client-id VN/GOV/000.00.00.G06/cu-tru --key FILE --cert FILE [--delay 1]

Procedures: `residence.register` (permanent residence for a newborn: the child's name, birth date,
gender, birth certificate number, the parent's residence address, the household head's ID) →
"Xác nhận đăng ký thường trú"; `residence.remove` (removal after a death: the deceased's ID, the
death certificate number, the date of death) → "Xác nhận xóa đăng ký thường trú". Its own rules: a
household head's ID ending in 9 is not found in the residence database (refused); a date of death
in the future is refused at once (422)."""

from __future__ import annotations

import datetime as dt
import sys

from chinhquyenso.exchange.connectors.simulators import parts

PORT = 8796


def _check_register(body):
    return parts.first(
        parts.require(
            body,
            "subject.birth_date",
            "subject.gender",
            "data.birth_certificate_number",
            "data.residence_address",
            "data.household_head_id",
        ),
        parts.check_date(body, "subject.birth_date"),
        parts.check_id(body, "data.household_head_id"),
    )


def _decide_register(body, request_id):
    if body["data"]["household_head_id"].endswith("9"):
        return "refused", "Không tìm thấy chủ hộ trong Cơ sở dữ liệu về cư trú tại địa chỉ đã khai.", None
    return (
        "done",
        "",
        {
            "number": parts.serial(f"CT-{parts.now().year}-", request_id),
            "issued_on": parts.now().date().isoformat(),
            "document": "Xác nhận đăng ký thường trú",
        },
    )


def _check_remove(body):
    problem = parts.first(
        parts.require(body, "subject.id_number", "data.death_certificate_number", "data.death_date"),
        parts.check_id(body, "subject.id_number"),
        parts.check_date(body, "data.death_date"),
    )
    if problem is None and dt.date.fromisoformat(body["data"]["death_date"]) > parts.now().date():
        return "data.death_date", "Ngày chết không được sau ngày hôm nay."
    return problem


def _decide_remove(body, request_id):
    if body["subject"]["id_number"].endswith("9"):
        return "refused", "Không tìm thấy người đã mất trong Cơ sở dữ liệu về cư trú.", None
    return (
        "done",
        "",
        {
            "number": parts.serial(f"XT-{parts.now().year}-", request_id),
            "issued_on": parts.now().date().isoformat(),
            "document": "Xác nhận xóa đăng ký thường trú",
        },
    )


PROCEDURES = {
    "residence.register": parts.Procedure("Đăng ký thường trú cho trẻ mới sinh", _check_register, _decide_register),
    "residence.remove": parts.Procedure("Xóa đăng ký thường trú người đã mất", _check_remove, _decide_remove),
}


def main(argv=None) -> None:
    parts.run("RESIDENCE_SIMULATOR", "Residence system simulator (Bộ Công an)", PORT, PROCEDURES, "CT", argv)


if __name__ == "__main__":
    main(sys.argv[1:])

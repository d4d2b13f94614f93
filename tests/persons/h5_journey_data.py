"""The small health-records file of the browser journey (tests/browser/test_persons_journey.py): forty
people of An Giang recorded once at the provincial hospital, three of them recorded again at the district
health centre exactly (clear duplicates), and one recorded again with the diacritics lost, the day and
month swapped and no ID number or phone (the pair an officer decides)."""

from __future__ import annotations

import csv
import io
import random

HEADER = [
    "Mã hồ sơ",
    "Cơ sở khám chữa bệnh",
    "Họ và tên",
    "Giới tính",
    "Ngày sinh",
    "Số CMND/CCCD",
    "Số thẻ BHYT",
    "Điện thoại",
    "Địa chỉ",
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE_MALE = ["Văn", "Hữu", "Minh", "Quốc", "Thanh"]
MIDDLE_FEMALE = ["Thị", "Ngọc", "Thu", "Kim", "Mỹ"]
GIVEN_MALE = ["An", "Bảo", "Cường", "Dũng", "Hải", "Hùng", "Khang", "Long", "Phúc", "Tài", "Thắng", "Vinh"]
GIVEN_FEMALE = ["Anh", "Châu", "Diễm", "Hà", "Hạnh", "Lan", "Linh", "Mai", "Nga", "Oanh", "Trang", "Yến"]
PROVINCIAL = "Bệnh viện Đa khoa Trung tâm An Giang"
DISTRICT = "Trung tâm Y tế huyện Chợ Mới"
UNCERTAIN_NAME = "Nguyễn Thị Thu Thủy"
ELSEWHERE = "Phường Mỹ Bình, thành phố Long Xuyên"
VARIANTS = [
    {"with_id": False},
    {"with_id": False, "with_phone": False},
    {"with_id": False, "person": {"phone": "0987000111"}},
    {"with_id": False, "with_phone": False, "birth": (1, 1, 1960)},
    {"with_id": False, "with_phone": False, "person": {"address": ELSEWHERE}},
    {"with_id": False, "person": {"phone": "0987000111", "address": ELSEWHERE}},
    {"with_id": False, "with_phone": False, "person": {"sex": "Nam"}},
]


def people(n: int = 40, seed: int = 23) -> list[dict]:
    rng = random.Random(seed)
    found, names = [], set()
    while len(found) < n:
        male = rng.random() < 0.5
        name = " ".join(
            [
                rng.choice(FAMILY),
                rng.choice(MIDDLE_MALE if male else MIDDLE_FEMALE),
                rng.choice(GIVEN_MALE if male else GIVEN_FEMALE),
            ]
        )
        if name in names:
            continue
        names.add(name)
        year = rng.randint(1950, 2010)
        found.append(
            {
                "name": name,
                "sex": "Nam" if male else "Nữ",
                "birth": (rng.randint(13, 28), rng.randint(1, 12), year),
                # A 12-digit citizen ID: province 089, century-and-sex digit, year, six digits.
                "id": f"089{(0 if male else 1) + (2 if year >= 2000 else 0)}{year % 100:02d}{rng.randint(0, 999999):06d}",
                "phone": f"09{rng.randint(10000000, 99999999)}",
                "address": f"Ấp {rng.randint(1, 9)}, xã Kiến An, huyện Chợ Mới",
            }
        )
    return found


def _row(code, facility, person, *, name=None, birth=None, with_id=True, with_phone=True) -> list[str]:
    day, month, year = birth or person["birth"]
    return [
        code,
        facility,
        name or person["name"],
        person["sex"],
        f"{day:02d}/{month:02d}/{year}",
        person["id"] if with_id else "",
        "",
        person["phone"] if with_phone else "",
        person["address"],
    ]


def health_csv() -> str:
    group = people()
    uncertain = {
        "name": UNCERTAIN_NAME,
        "sex": "Nữ",
        "birth": (7, 9, 1985),
        "id": "089185012345",
        "phone": "0913456789",
        "address": "Ấp 3, xã Kiến An, huyện Chợ Mới",
    }
    rows = [_row(f"T{i:03d}", PROVINCIAL, p) for i, p in enumerate(group + [uncertain], start=1)]
    rows += [_row(f"H{i:03d}", DISTRICT, p) for i, p in enumerate(group[:3], start=1)]  # clear duplicates
    rows.append(
        _row(
            "H100", DISTRICT, uncertain, name="Nguyen Thi Thu Thuy", birth=(9, 7, 1985), with_id=False, with_phone=False
        )
    )
    # Seven more people recorded again at the district with less to go on (no ID number, another phone,
    # another address, a birth date written wrong, the sex mistyped): the pairs the model is unsure of.
    for k, changes in enumerate(VARIANTS):
        changes = dict(changes)
        base = {**group[10 + k], **changes.pop("person", {})}
        rows.append(_row(f"V{k:03d}", DISTRICT, base, **changes))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue()

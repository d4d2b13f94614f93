"""The Splink comparisons on the Vietnamese cases: for pairs of records, which level of each comparison
they land in, whether the prediction blocking rules bring them together, and (slow) that Spark reads
the same settings and gives the same levels as DuckDB."""

import datetime as dt
import logging
import re

import pandas as pd
import pytest
from splink import DuckDBAPI, Linker

from chinhquyenso.civil_records.lunar import to_solar
from chinhquyenso.org import services as org
from chinhquyenso.org.models import AgencyKind
from chinhquyenso.org.selectors import current_successor
from chinhquyenso.persons.linkage import comparisons
from chinhquyenso.persons.linkage.frame import FRAME_COLUMNS, build_frame, frame_row
from tests.external_tools import program_missing, require

NULL = "Thiếu dữ liệu"

BASE = {
    "full_name": "Nguyễn Văn An",
    "sex": "nam",
    "birth_year": 1980,
    "birth_month": 6,
    "birth_day": 15,
    "commune_id": 7,
}

# (case, left changes, right changes, {comparison: expected level label}, found by blocking?)
CASES = [
    (
        "bỏ dấu",
        {"full_name": "Nguyễn Thị Thuý", "sex": "nu"},
        {"full_name": "NGUYEN THI THUY", "sex": "nữ"},
        {"given": "Giống nhau khi bỏ dấu", "family": "Giống nhau khi bỏ dấu", "middle": "Giống nhau khi bỏ dấu"},
        True,
    ),
    (
        "đặt dấu thuý/thúy",
        {"full_name": "Nguyễn Thị Thuý", "sex": "nu"},
        {"full_name": "Nguyễn Thị Thúy", "sex": "nu"},
        {"given": "Giống hệt, kể cả dấu", "sex": "Cùng giới tính"},
        True,
    ),
    (
        "đặt dấu hoà/hòa",
        {"full_name": "Trần Văn Hoà"},
        {"full_name": "Trần Văn Hòa"},
        {"given": "Giống hệt, kể cả dấu"},
        True,
    ),
    (
        "hùng/hưng không giống hệt",
        {"full_name": "Trần Văn Hùng"},
        {"full_name": "Trần Văn Hưng"},
        {"given": "Giống nhau khi bỏ dấu"},
        True,
    ),
    (
        "i/y",
        {"full_name": "Lý Thị Mỹ", "sex": "nu"},
        {"full_name": "Lí Thị Mĩ", "sex": "nu"},
        {"given": "Giống hệt, kể cả dấu", "family": "Giống nhau khi bỏ dấu"},
        True,
    ),
    (
        "tiểu từ Khmer",
        {"full_name": "Chau Sóc Kha"},
        {"full_name": "Sóc Kha"},
        {"given": "Giống hệt, kể cả dấu", "family": "Giống nhau khi bỏ dấu", "middle": NULL},
        True,
    ),
    (
        "Néang viết không dấu",
        {"full_name": "Néang Sa Rươne", "sex": "nu"},
        {"full_name": "Neang Sa Ruone", "sex": "nu"},
        {"given": "Giống nhau khi bỏ dấu", "family": "Giống nhau khi bỏ dấu"},
        True,
    ),
    (
        "đảo thứ tự họ tên",
        {"full_name": "Nguyễn Văn An"},
        {"full_name": "An Nguyễn Văn"},
        {"given": "Cùng các chữ của họ tên, khác thứ tự", "family": "Cùng các chữ của họ tên, khác thứ tự"},
        True,
    ),
    (
        "thiếu tên đệm",
        {"full_name": "Nguyễn Văn An"},
        {"full_name": "Nguyễn An"},
        {"middle": NULL, "given": "Giống hệt, kể cả dấu"},
        True,
    ),
    (
        "bỏ chữ Thị trong tên đệm",
        {"full_name": "Phạm Thị Ngọc Lan", "sex": "nu"},
        {"full_name": "Phạm Ngọc Lan", "sex": "nu"},
        {"middle": "Giống nhau khi bỏ Văn, Thị"},
        True,
    ),
    (
        "gõ sai tên",
        {"full_name": "Lâm Văn Thành"},
        {"full_name": "Lâm Văn Thàn"},
        {"given": "Khác một chữ cái"},
        True,
    ),
    (
        "tên người Hoa phiên âm khác",
        {"full_name": "Quách Chấn Phát"},
        {"full_name": "Quách Chắn Phát"},
        {"middle": "Giống nhau khi bỏ dấu"},
        True,
    ),
    (
        "đảo ngày tháng",
        {"birth_month": 3, "birth_day": 5},
        {"birth_month": 5, "birth_day": 3},
        {"birth": "Đảo ngày và tháng"},
        True,
    ),
    (
        "âm lịch",
        # 20/12/1989 âm lịch is 16/01/1990: the year differs too
        {"birth_year": 1989, "birth_month": 12, "birth_day": 20},
        {"birth_year": 1990, "birth_month": 1, "birth_day": 16},
        {"birth": "Một bên ghi theo âm lịch"},
        True,
    ),
    (
        "chỉ năm sinh",
        {"birth_month": None, "birth_day": None},
        {},
        {"birth": "Cùng năm (một bên chỉ ghi năm)"},
        True,
    ),
    (
        "00/00/năm",
        {"birth_month": 0, "birth_day": 0},
        {},
        {"birth": "Cùng năm (một bên chỉ ghi năm)"},
        True,
    ),
    (
        "tháng/năm",
        {"birth_day": None},
        {},
        {"birth": "Cùng tháng, năm (một bên không ghi ngày)"},
        True,
    ),
    ("trùng ngày sinh", {}, {}, {"birth": "Trùng ngày sinh"}, True),
    (
        "gõ sai năm sinh",
        {"birth_year": 1980},
        {"birth_year": 1986},
        {"birth": "Khác một chữ số"},
        True,
    ),
    (
        "khác ngày sinh",
        {"birth_month": 2, "birth_day": 11},
        {"birth_month": 9, "birth_day": 27},
        {"birth": "Cùng năm, khác ngày tháng"},
        True,
    ),
    (
        "CMND 9 số và CCCD 12 số",
        {"id_number": "352123456"},
        {"id_number": "089080001234"},
        {"id_number": "Thiếu hoặc khác loại giấy tờ"},
        True,
    ),
    (
        "cùng CCCD",
        {"id_number": "089080001234", "full_name": "Nguyễn Văn Ân"},
        {"id_number": "089 080 001 234", "full_name": "Ngô Minh Tú", "birth_year": 1980, "birth_day": 1},
        {"id_number": "Trùng số"},
        True,
    ),
    (
        "khác CCCD",
        {"id_number": "089080001234"},
        {"id_number": "089080765432"},
        {"id_number": "Khác nhau"},
        True,
    ),
    (
        "CCCD của cha mẹ ghi cho con",
        # a child born 2015 carrying the father's ID (born 1980): not the child's own, so not compared
        {"full_name": "Nguyễn Văn Bình", "birth_year": 2015, "id_number": "089080001234"},
        {"full_name": "Nguyễn Văn Bình", "birth_year": 2015, "id_number": "089215000111"},
        {"id_number": "Thiếu hoặc khác loại giấy tờ"},
        True,
    ),
    (
        "số điện thoại cũ 11 số",
        {"phone": "0168 912 3456", "full_name": "Huỳnh Văn Tài"},
        {"phone": "+84 389 123 456", "full_name": "Huynh Van Tai", "birth_year": 1995},
        {"phone": "Trùng số"},
        True,
    ),
    (
        "thẻ BHYT và mã BHXH",
        {"insurance_number": "GD4898912345678", "full_name": "Danh Văn Sang"},
        {"insurance_number": "8912345678", "full_name": "Kim Thị Sô Phy", "birth_year": 1960},
        {"insurance": "Trùng mã"},
        True,
    ),
    (
        "sinh đôi",
        {"full_name": "Trần Minh Khang", "id_number": "089080012345", "phone": "0912345678"},
        {"full_name": "Trần Minh Khôi", "phone": "0912345678"},
        {
            "given": "Khác tên, cùng họ và ngày sinh (có thể là anh chị em sinh đôi)",
            "birth": "Trùng ngày sinh",
            "phone": "Trùng số nhưng khác tên (số chung của gia đình)",
        },
        True,
    ),
    (
        "khác tên nhưng cùng số CCCD",
        {"full_name": "Trần Minh Khang", "id_number": "089080012345"},
        {"full_name": "Trần Minh Tuấn", "id_number": "089080012345"},
        {"given": "Khác nhau", "id_number": "Trùng số"},
        True,
    ),
    (
        "gõ sai tên, cùng ngày sinh",
        {"full_name": "Trần Minh Thanh"},
        {"full_name": "Trần Minh Thahn"},
        {"given": "Khác một chữ cái"},
        True,
    ),
    (
        "anh em cùng số điện thoại",
        {"full_name": "Trần Minh Khang", "phone": "0912345678", "birth_year": 2001},
        {"full_name": "Trần Minh Khôi", "phone": "0912345678", "birth_year": 2004},
        {"given": "Khác nhau", "phone": "Trùng số nhưng khác tên (số chung của gia đình)"},
        False,
    ),
    (
        "khác giới tính",
        {"sex": "Nam"},
        {"sex": "F"},
        {"sex": "Khác nhau"},
        True,
    ),
]


def _records():
    records = []
    for number, (_case, left, right, _levels, _blocked) in enumerate(CASES):
        for side, changes in ((0, left), (1, right)):
            records.append({**BASE, **changes, "unique_id": 2 * number + side + 1})
    return records


def _labels() -> dict[str, dict[int, str]]:
    """Comparison → {gamma value: level label} (Splink numbers the non-null levels from the top down
    to 0 for the else level; the null level is -1)."""
    labels = {}
    for comparison in comparisons.comparisons():
        levels = [level for level in comparison["comparison_levels"] if not level.get("is_null_level")]
        [null] = [level for level in comparison["comparison_levels"] if level.get("is_null_level")]
        labels[comparison["output_column_name"]] = {
            len(levels) - 1 - i: level["label_for_charts"] for i, level in enumerate(levels)
        } | {-1: null["label_for_charts"]}
    return labels


def _cartesian(settings: dict) -> dict:
    return {**settings, "blocking_rules_to_generate_predictions": [{"blocking_rule": "1 = 1"}]}


def _levels(pairs: pd.DataFrame) -> dict[tuple[int, int], dict[str, str]]:
    labels = _labels()
    out = {}
    for row in pairs.to_dict("records"):
        out[(int(row["unique_id_l"]), int(row["unique_id_r"]))] = {
            name: labels[name][int(row[f"gamma_{name}"])] for name in labels
        }
    return out


@pytest.fixture(scope="module")
def frame():
    return build_frame(_records())


@pytest.fixture(scope="module")
def duckdb_levels(frame):
    linker = Linker(DuckDBAPI().register(frame), _cartesian(comparisons.settings_dict()), log_level=logging.ERROR)
    return _levels(linker.inference.predict().as_pandas_dataframe())


@pytest.fixture(scope="module")
def blocked_pairs(frame):
    linker = Linker(DuckDBAPI().register(frame), comparisons.settings_dict(), log_level=logging.ERROR)
    pairs = linker.inference.predict().as_pandas_dataframe()
    return {(int(a), int(b)) for a, b in zip(pairs["unique_id_l"], pairs["unique_id_r"], strict=True)}


@pytest.mark.parametrize(("case", "left", "right", "expected", "blocked"), CASES, ids=[c[0] for c in CASES])
def test_vietnamese_cases_land_in_the_expected_level(duckdb_levels, case, left, right, expected, blocked):
    number = [c[0] for c in CASES].index(case)
    got = duckdb_levels[(2 * number + 1, 2 * number + 2)]
    assert {name: got[name] for name in expected} == expected


def test_blocking_rules_bring_every_case_together(blocked_pairs):
    missed = [
        case
        for n, (case, *_rest, blocked) in enumerate(CASES)
        if blocked and (2 * n + 1, 2 * n + 2) not in blocked_pairs
    ]
    assert missed == []


def test_unrelated_people_are_not_blocked_together():
    records = [
        {**BASE, "unique_id": 1},
        {"unique_id": 2, "full_name": "Trần Thị Bích", "sex": "nu", "birth_year": 1992, "commune_id": 8},
    ]
    linker = Linker(DuckDBAPI().register(build_frame(records)), comparisons.settings_dict(), log_level=logging.ERROR)
    assert len(linker.inference.predict().as_pandas_dataframe()) == 0


def test_merged_commune_matches_its_successor(province, admin_user):
    """The caller gives the frame the commune's current successor: a record written at a commune merged
    in 2025 and one at the merged commune then compare as the same commune."""
    merged = org.merge(
        actor=admin_user,
        sources=[province["xa_a"], province["xa_b"]],
        name="UBND xã Kiến An mới",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=province["huyen"],
        effective_date=dt.date(2025, 7, 1),
        electronic_code="000.07.09.H01",
    )
    old = {**BASE, "unique_id": 1, "commune_id": current_successor(province["xa_b"]).pk}
    new = {**BASE, "unique_id": 2, "commune_id": merged.pk, "full_name": "Nguyen Van An"}
    other = {**BASE, "unique_id": 3, "commune_id": province["huyen"].pk}
    linker = Linker(
        DuckDBAPI().register(build_frame([old, new, other])),
        _cartesian(comparisons.settings_dict()),
        log_level=logging.ERROR,
    )
    levels = _levels(linker.inference.predict().as_pandas_dataframe())
    assert levels[(1, 2)]["commune_id"] == "Cùng xã, phường"
    assert levels[(1, 3)]["commune_id"] == "Khác nhau"


def test_settings_are_complete_and_labelled():
    settings = comparisons.settings_dict()
    names = [c["output_column_name"] for c in settings["comparisons"]]
    assert names == list(comparisons.COMPARISON_LABELS)
    assert set(comparisons.COMPARISON_LABELS.values()) == {
        "Tên",
        "Họ",
        "Tên đệm",
        "Ngày sinh",
        "Số định danh",
        "Số điện thoại",
        "Thẻ BHYT",
        "Giới tính",
        "Xã, phường",
    }
    assert settings["link_type"] == "dedupe_only" and settings["unique_id_column_name"] == "unique_id"
    assert settings["retain_intermediate_calculation_columns"] and settings["retain_matching_columns"]
    # every column a level or a blocking rule names is a frame column
    sql = " ".join(
        level["sql_condition"] for c in settings["comparisons"] for level in c["comparison_levels"]
    ) + " ".join(
        rule["blocking_rule"]
        for rule in settings["blocking_rules_to_generate_predictions"] + comparisons.TRAINING_BLOCKS
    )
    used = {m[:-2] for m in re.findall(r"\b([a-z_]+_[lr])\b", sql)} | set(re.findall(r"\b[lr]\.([a-z_]+)", sql))
    assert used <= set(FRAME_COLUMNS)


def test_training_blocks_leave_every_comparison_free_somewhere():
    """Each comparison is estimated by at least one EM session: one whose blocking columns it does not read
    (Splink leaves out of a session every comparison that reads a column of its blocking rule)."""
    blocked_columns = [
        set(re.findall(r"\bl\.([a-z_]+)", rule["blocking_rule"])) for rule in comparisons.TRAINING_BLOCKS
    ]
    for comparison in comparisons.comparisons():
        sql = " ".join(level["sql_condition"] for level in comparison["comparison_levels"])
        columns = set(re.findall(r"\b([a-z_]+)_[lr]\b", sql))
        assert columns, comparison["output_column_name"]
        assert any(not (columns & blocked) for blocked in blocked_columns), comparison["output_column_name"]


def test_frame_row_matches_build_frame():
    records = _records()[:6]
    frame = build_frame(records)
    for record, row in zip(records, frame.to_dict("records"), strict=True):
        expected = frame_row(record)
        assert {k: (None if pd.isna(v) else v) for k, v in row.items()} == expected


@pytest.mark.slow
def test_spark_reads_the_same_settings_and_gives_the_same_levels(frame, duckdb_levels):
    require(program_missing("java", "default-jre-headless"))
    pytest.importorskip("pyspark")
    from splink import SparkAPI

    from chinhquyenso.persons.linkage import engines

    spark = engines.spark_session()  # with Java here, a Spark that does not start is a failure
    try:
        # a model saved from DuckDB is loaded as is by the Spark linker
        duck = Linker(DuckDBAPI().register(frame), _cartesian(comparisons.settings_dict()), log_level=logging.ERROR)
        saved = duck.misc.save_model_to_json()
        linker = Linker(SparkAPI(spark_session=spark).register(frame), saved, log_level=logging.ERROR)
        spark_levels = _levels(linker.inference.predict().as_pandas_dataframe())
        assert spark_levels == duckdb_levels
    finally:
        engines.stop_spark()


def test_lunar_case_is_what_the_calendar_says():
    # guard the "âm lịch" case above against a wrong hand-computed date
    assert to_solar(20, 12, 1989) == dt.date(1990, 1, 16)

"""The Splink model of who is the same person: the comparisons of the linkage frame's features
(persons.linkage.frame), their levels, and the blocking rules.

Every level is plain SQL that DuckDB and Spark read alike (bare identifiers: Spark reads "x" as a
string) — equality, IS NULL, abs(), length(),
and `damerau_levenshtein` (DuckDB's built-in; on Spark the function Splink's similarity jar
registers) — so a model trained on one engine runs unchanged on the other. Jaro-Winkler is not used:
its function has a different name on each engine.

The Vietnamese specifics are in the frame (folding, tone placement, i/y, Khmer particles, lunar and
swapped dates, the 2018 phone prefixes, IDs that cannot be the record's own) and in the levels here:
the given name weighs most (term-frequency adjusted: "An" says less than "Sóc Kha"), a common middle
name (Văn, Thị) little, a 9-digit ID against a 12-digit one nothing, a lunar-written date or a
day/month swap a little less than the same date.
"""

from __future__ import annotations

# Output column name → Vietnamese label, in the order the comparisons are listed.
COMPARISON_LABELS: dict[str, str] = {
    "given": "Tên",
    "family": "Họ",
    "middle": "Tên đệm",
    "birth": "Ngày sinh",
    "sex": "Giới tính",
    "id_number": "Số định danh",
    "phone": "Số điện thoại",
    "insurance": "Thẻ BHYT",
    "commune_id": "Xã, phường",
}


def _null(*columns: str) -> dict:
    condition = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in columns)
    return {"sql_condition": condition, "label_for_charts": "Thiếu dữ liệu", "is_null_level": True}


def _level(condition: str, label: str, tf: str | None = None, tf_weight: float = 1.0) -> dict:
    level = {"sql_condition": condition, "label_for_charts": label}
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = tf_weight
    return level


def _else(**fixed) -> dict:
    return {"sql_condition": "ELSE", "label_for_charts": "Khác nhau", **fixed}


# The parts of the name written in another order: the same syllables, or the given name written first
# (then read as the family name) — with or without the middle name.
NAME_REORDERED = "(name_sorted_l = name_sorted_r OR family_l = given_r OR given_l = family_r)"
# The given names agree or nearly (a slip of one letter, the parts of the name in another order).
GIVEN_CLOSE = f"(given_l = given_r OR damerau_levenshtein(given_l, given_r) <= 1 OR {NAME_REORDERED})"

# Twins (and in general two children born the same day to a household) share the family name, often
# the middle name, the date of birth, the phone and the commune, and differ only in the given name —
# which the independence assumption of EM and random sampling cannot weigh: every shared field counts
# in full. A person's records do not change the given name beyond slips of a letter and reorderings,
# so given names that differ (more than one letter of a name of 4 letters or more) on records with the
# same family name and the same full date of birth, and no shared ID or insurance code, get a level of
# their own whose m probability is fixed, not estimated: about −30 in match weight, more than a shared
# household and birth date add up to. Without those conditions a different given name is weighed by
# EM as usual (FEBRL's generator, for one, replaces given names on true duplicates).
TWINS = (
    "family_l = family_r AND birth_date_l = birth_date_r"
    " AND NOT (damerau_levenshtein(given_l, given_r) <= 1 AND length(given_l) >= 4 AND length(given_r) >= 4)"
    " AND (id_number_l IS NULL OR id_number_r IS NULL OR id_number_l <> id_number_r)"
    " AND (insurance_l IS NULL OR insurance_r IS NULL OR insurance_l <> insurance_r)"
)
TWINS_M = 1e-15


def _exact(column: str) -> str:
    return f"{column}_l = {column}_r"


def _dl(column: str, distance: int) -> str:
    return f"damerau_levenshtein({column}_l, {column}_r) <= {distance}"


def _comparison(name: str, description: str, levels: list[dict]) -> dict:
    return {"output_column_name": name, "comparison_description": description, "comparison_levels": levels}


def comparisons() -> list[dict]:
    """The comparisons, as Splink comparison dicts."""
    given = _comparison(
        "given",
        "Tên (tên gọi, âm tiết cuối)",
        [
            _null("given"),
            _level(_exact("given_accent"), "Giống hệt, kể cả dấu", tf="given"),
            _level(_exact("given"), "Giống nhau khi bỏ dấu", tf="given"),
            _level(NAME_REORDERED, "Cùng các chữ của họ tên, khác thứ tự"),
            {
                **_level(TWINS, "Khác tên, cùng họ và ngày sinh (có thể là anh chị em sinh đôi)"),
                "m_probability": TWINS_M,
                "fix_m_probability": True,
            },
            _level(_dl("given", 1), "Khác một chữ cái"),
            _level(_dl("given", 2), "Khác hai chữ cái"),
            _else(),
        ],
    )
    family = _comparison(
        "family",
        "Họ",
        [
            _null("family"),
            _level(_exact("family"), "Giống nhau khi bỏ dấu", tf="family"),
            _level(NAME_REORDERED, "Cùng các chữ của họ tên, khác thứ tự"),
            _level(_dl("family", 1), "Khác một chữ cái"),
            _else(),
        ],
    )
    middle = _comparison(
        "middle",
        "Tên đệm",
        [
            _null("middle"),
            _level(_exact("middle"), "Giống nhau khi bỏ dấu", tf="middle"),
            _level(_exact("middle_core"), "Giống nhau khi bỏ Văn, Thị"),
            _level(_dl("middle", 1), "Khác một chữ cái"),
            _else(),
        ],
    )
    birth = _comparison(
        "birth",
        "Ngày sinh (đủ ngày, chỉ tháng/năm hoặc chỉ năm; đảo ngày-tháng; ghi theo âm lịch)",
        [
            _null("birth_year"),
            _level(_exact("birth_date"), "Trùng ngày sinh"),
            _level("birth_date_l = birth_swapped_r", "Đảo ngày và tháng"),
            _level(
                "birth_lunar_l = birth_date_r OR birth_date_l = birth_lunar_r",
                "Một bên ghi theo âm lịch",
            ),
            _level(
                "birth_ym_l = birth_ym_r AND (birth_day_l IS NULL OR birth_day_r IS NULL)",
                "Cùng tháng, năm (một bên không ghi ngày)",
            ),
            _level(
                "birth_year_l = birth_year_r AND (birth_month_l IS NULL OR birth_month_r IS NULL)",
                "Cùng năm (một bên chỉ ghi năm)",
            ),
            _level(_dl("birth_date", 1), "Khác một chữ số"),
            _level(_exact("birth_year"), "Cùng năm, khác ngày tháng"),
            _level("abs(birth_year_l - birth_year_r) <= 1", "Lệch một năm"),
            _else(),
        ],
    )
    sex = _comparison("sex", "Giới tính", [_null("sex"), _level(_exact("sex"), "Cùng giới tính"), _else()])
    id_number = _comparison(
        "id_number",
        "Số CMND/CCCD (CMND 9 số và CCCD 12 số không so với nhau)",
        [
            {
                "sql_condition": "id_number_l IS NULL OR id_number_r IS NULL OR id_kind_l <> id_kind_r",
                "label_for_charts": "Thiếu hoặc khác loại giấy tờ",
                "is_null_level": True,
            },
            _level(_exact("id_number"), "Trùng số"),
            _level(_dl("id_number", 1), "Khác một chữ số"),
            _else(),
        ],
    )
    phone = _comparison(
        "phone",
        "Số điện thoại (số 11 chữ số cũ đã đổi sang 10 chữ số)",
        [
            _null("phone"),
            _level(f"{_exact('phone')} AND {GIVEN_CLOSE}", "Trùng số"),
            # a household's shared number: the same phone on records with other given names
            _level(_exact("phone"), "Trùng số nhưng khác tên (số chung của gia đình)"),
            _else(),
        ],
    )
    insurance = _comparison(
        "insurance",
        "Mã số BHXH trên thẻ BHYT",
        [_null("insurance"), _level(_exact("insurance"), "Trùng mã"), _else()],
    )
    commune = _comparison(
        "commune_id",
        "Xã, phường hiện nay (xã đã sáp nhập tính theo xã mới)",
        [_null("commune_id"), _level(_exact("commune_id"), "Cùng xã, phường"), _else()],
    )
    return [given, family, middle, birth, sex, id_number, phone, insurance, commune]


def _block(*columns: str) -> dict:
    return {"blocking_rule": " AND ".join(f"l.{c} = r.{c}" for c in columns)}


# Blocking rules for predictions: a pair is compared when any rule puts it together. Each is an
# equi-join on columns that are rarely shared by different people, so the count of comparisons
# stays near-linear in the number of records (checked with Splink's blocking analysis).
PREDICTION_BLOCKS: list[dict] = [
    _block("id_number"),
    _block("insurance"),
    _block("phone", "given"),
    _block("phone", "birth_year"),
    # Names alone are shared by too many people (a block grows with the population, its pairs with its
    # square): every rule on names also fixes the commune or the full date. Counted on the synthetic
    # population (benchmarks/bench_persons_link.py), family + given + year alone gave 5 M pairs at 600,000
    # records and ~120 M at 2.5 M; with the commune, 0.3 M.
    _block("family", "given", "birth_year", "commune_id"),
    _block("given", "birth_date"),
    _block("family", "middle", "birth_date"),
    # a year written wrong (a typo, a lunar year): the whole name, the commune and the month
    _block("family", "middle", "given", "commune_id", "birth_month"),
    # the given name written first
    _block("name_sorted", "birth_date"),
    _block("name_sorted", "birth_year", "commune_id"),
    # a lunar-written date can fall in the year before the solar one (births in the first lunar month)
    {"blocking_rule": "l.family = r.family AND l.given = r.given AND l.birth_lunar = r.birth_date"},
    {"blocking_rule": "l.family = r.family AND l.given = r.given AND l.birth_date = r.birth_lunar"},
]

# Blocking rules for the expectation-maximisation sessions: each fixes a few comparisons and
# leaves the others free to be estimated; together they estimate every comparison.
TRAINING_BLOCKS: list[dict] = [
    _block("given", "birth_date"),  # trains family, middle, sex, IDs, phone, insurance, commune
    _block("family", "given", "commune_id"),  # trains birth, middle, sex, IDs, phone, insurance
    _block("id_number"),  # trains names (but the given name), birth, sex, phone, insurance, commune
    # the given name's levels read family, birth date, ID and insurance too (the twins level): only a
    # block on none of those estimates it — a household's phone in its commune, where the records of
    # one person and of the other members of the family meet
    _block("phone", "commune_id"),  # trains given, family, middle, birth, sex, IDs, insurance
]


# Rules that pick pairs almost surely the same person, for Splink's estimate of the prior
# (estimate_probability_two_random_records_match).
DETERMINISTIC_RULES: list[str] = [
    "l.id_number = r.id_number AND l.id_kind = r.id_kind",
    "l.insurance = r.insurance",
    "l.name = r.name AND l.birth_date = r.birth_date",
]


def settings_dict() -> dict:
    """The Splink settings (dedupe of one frame), valid on DuckDB and on Spark."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": 1e-6,
        "comparisons": comparisons(),
        "blocking_rules_to_generate_predictions": [dict(rule) for rule in PREDICTION_BLOCKS],
        "retain_intermediate_calculation_columns": True,
        "retain_matching_columns": True,
        "additional_columns_to_retain": ["name", "particle", "id_conflict"],
    }

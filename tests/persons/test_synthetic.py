"""The synthetic Vietnamese population (persons.synthetic): deterministic, its measured proportions
true, its hard cases (twins, families, Khmer and Hoa names, merged communes) really in it."""

import csv
import datetime as dt
from collections import Counter, defaultdict

import pytest

from chinhquyenso.civil_records import lunar
from chinhquyenso.persons import normalize, synthetic


@pytest.fixture(scope="module")
def population():
    return synthetic.generate(3000, seed=11)


def test_same_seed_same_records_other_seed_others():
    first, first_stats = synthetic.generate(400, seed=5)
    again, again_stats = synthetic.generate(400, seed=5)
    other, _ = synthetic.generate(400, seed=6)
    assert first == again
    assert first_stats == again_stats
    assert [r["full_name"] for r in first] != [r["full_name"] for r in other]


def test_records_carry_the_frame_inputs_and_the_truth(population):
    records, stats = population
    keys = {"unique_id", "full_name", "sex", "birth_year", "birth_month", "birth_day", "id_number"}
    keys |= {"insurance_number", "phone", "commune_id", "address", "truth_id", "errors", "facility"}
    assert keys <= set(records[0])
    assert len({r["unique_id"] for r in records}) == len(records) == stats["records"]
    assert len({r["truth_id"] for r in records}) == stats["people"]
    assert stats["duplicates"] == stats["records"] - stats["people"] > 0.25 * stats["people"]


def test_reported_proportions_are_the_records_own(population):
    records, stats = population
    counted = Counter(kind for r in records for kind in r["errors"])
    for kind in synthetic.ERROR_KINDS:
        assert stats["errors"][kind]["records"] == counted[kind], kind
        assert stats["errors"][kind]["share_of_duplicates"] == pytest.approx(counted[kind] / stats["duplicates"])
    per_duplicate = Counter(len(r["errors"]) for r in records)
    originals = stats["people"]
    # Originals are clean: every record with errors is a duplicate; duplicates with none are counted too.
    assert per_duplicate[0] - originals == stats["errors_per_duplicate"]["0"]
    for n, count in stats["errors_per_duplicate"].items():
        if n != "0":
            assert per_duplicate[int(n)] == count


def test_error_rates_follow_the_data_file(population):
    _, stats = population
    for kind, figures in stats["errors"].items():
        assert figures["applicable"] > 50, kind
        # Binomial: within 4 standard deviations of the configured rate among the records it applies to.
        p, n = figures["configured_rate"], figures["applicable"]
        assert abs(figures["share_of_applicable"] - p) <= 4 * (p * (1 - p) / n) ** 0.5 + 1e-9, kind


def test_originals_are_clean_and_consistent(population):
    records, _ = population
    originals = {}
    for r in records:
        originals.setdefault(r["truth_id"], r)
    for r in originals.values():
        assert r["errors"] == []
        assert dt.date(r["birth_year"], r["birth_month"], r["birth_day"])
        if len(r["id_number"]) == 12:
            assert normalize.id_agrees(r["id_number"], r["sex"], r["birth_year"]) is True
        else:
            assert r["id_number"] == "" or len(r["id_number"]) == 9


def test_twins_share_family_birth_and_address_never_the_person(population):
    records, stats = population
    originals = {}
    for r in records:
        originals.setdefault(r["truth_id"], r)
    twins = [r for r in originals.values() if r["twin_of"] is not None]
    assert stats["twin_pairs"] >= 10 and len(twins) == 2 * stats["twin_pairs"]
    for r in twins:
        other = originals[r["twin_of"]]
        assert other["twin_of"] == r["truth_id"] != other["truth_id"]
        assert (other["birth_year"], other["birth_month"], other["birth_day"]) == (
            r["birth_year"],
            r["birth_month"],
            r["birth_day"],
        )
        assert other["address"] == r["address"] and other["household"] == r["household"]
        assert r["full_name"].split()[-1] != other["full_name"].split()[-1]  # different given names


def test_households_share_family_names_and_addresses(population):
    records, _ = population
    members = defaultdict(dict)
    for r in records:
        members[r["household"]].setdefault(r["truth_id"], r)
    shared = multi = 0
    for people in members.values():
        multi += len(people) > 1
        addresses = {r["address"] for r in people.values()}
        assert len(addresses) == 1
        families = Counter(r["full_name"].split()[0] for r in people.values())
        shared += any(n > 1 for n in families.values())
    assert shared >= 0.5 * multi > 0


def test_common_khmer_and_hoa_names(population):
    records, stats = population
    names = [r["full_name"] for r in records if not r["errors"]]
    first_words = Counter(n.split()[0] for n in names)
    assert first_words["Nguyễn"] > 0.2 * len(names)
    assert first_words["Chau"] > 0 and first_words["Néang"] > 0
    assert any(first_words[f] for f in ("Thạch", "Sơn", "Danh", "Kim"))
    assert any(first_words[f] for f in ("Quách", "Tăng", "Lư", "Mạch", "Diệp"))
    assert set(stats["ethnic"]) == {"kinh", "khmer", "hoa"}
    # "Nguyễn Văn An"-like namesakes: the same full name for different people.
    by_name = defaultdict(set)
    for r in records:
        if not r["errors"]:
            by_name[r["full_name"]].add(r["truth_id"])
    assert max(len(ids) for ids in by_name.values()) >= 5


def test_error_kinds_change_what_they_say(population):
    records, _ = population
    originals = {}
    for r in records:
        originals.setdefault(r["truth_id"], r)
    seen = set()
    for r in records:
        o = originals[r["truth_id"]]
        for kind in r["errors"]:
            seen.add(kind)
            if kind == "phone_old":
                assert len(r["phone"]) == 11 and normalize.normalize_phone(r["phone"]) == o["phone"]
            elif kind == "old_id":
                assert len(r["id_number"]) == 9
            elif kind == "dm_swap":
                assert (r["birth_day"], r["birth_month"]) == (o["birth_month"], o["birth_day"])
            elif kind == "partial_year":
                assert r["birth_month"] is None and r["birth_day"] is None
            elif kind == "lunar_date":
                solar = lunar.to_solar(r["birth_day"], r["birth_month"], r["birth_year"])
                leap = lunar.to_solar(r["birth_day"], r["birth_month"], r["birth_year"], leap=True)
                assert dt.date(o["birth_year"], o["birth_month"], o["birth_day"]) in (solar, leap)
            elif kind == "address_old":
                assert r["address"] != o["address"] and r["commune_id"] == o["commune_id"]
            elif kind == "address_missing":
                assert r["address"] == "" and r["commune_id"] is None
            elif kind == "no_diacritics":
                assert r["full_name"].isascii()
    assert seen == set(synthetic.ERROR_KINDS)


def test_old_commune_names_are_merged_into_the_unit():
    communes = synthetic.spec()["communes"]
    assert len(communes) == 102
    merged = [c for c in communes if len(c["former"]) > 1]
    assert merged and all(f["district"] for c in merged for f in c["former"])


@pytest.mark.parametrize(
    ("syllable", "variant"),
    [("Hòa", "Hoà"), ("Hoà", "Hòa"), ("Thúy", "Thuý"), ("Thủy", "Thuỷ"), ("Khỏe", "Khoẻ"), ("Hoa", None)],
)
def test_tone_placement_variant(syllable, variant):
    assert synthetic.tone_variant(syllable) == variant


@pytest.mark.parametrize(
    ("syllable", "variant"),
    [("Lý", "Lí"), ("Lí", "Lý"), ("Quý", "Quí"), ("Vy", "Vi"), ("Mỹ", "Mĩ"), ("Huy", None), ("Nhi", None)],
)
def test_i_y_variant(syllable, variant):
    onsets = frozenset(synthetic.spec()["iy_onsets"])
    assert synthetic.iy_variant(syllable, onsets) == variant


def test_strip_diacritics():
    assert synthetic.strip_diacritics("Đặng Thị Thúy") == "Dang Thi Thuy"


@pytest.mark.parametrize(
    "day",
    [dt.date(1975, 4, 30), dt.date(2000, 1, 15), dt.date(2020, 5, 25), dt.date(1968, 1, 29), dt.date(1984, 12, 31)],
)
def test_lunar_date_of_a_solar_birthday(day):
    d, m, y = synthetic.to_lunar(day)
    assert day in (lunar.to_solar(d, m, y), lunar.to_solar(d, m, y, leap=True))


def test_lunar_dates_known_values():
    assert synthetic.to_lunar(dt.date(1968, 1, 29)) == (1, 1, 1968)  # Tết Mậu Thân in Vietnam
    assert synthetic.to_lunar(dt.date(2020, 5, 25)) == (3, 4, 2020)  # the leap 4th month of 2020


def test_write_csv_writes_the_import_template_and_the_truth(tmp_path):
    from chinhquyenso.persons.importer import HEADERS

    path = tmp_path / "hssk.csv"
    stats = synthetic.write_csv(path, 60, seed=3)
    with path.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    with synthetic.truth_path(path).open(encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    assert rows[0] == [header for _, header in HEADERS]
    assert len(rows) - 1 == len(truth) == stats["records"]
    assert len({t["truth_id"] for t in truth}) == stats["people"]

"""A synthetic population of An Giang with known truth, for measuring the master person index.

Seeded and deterministic: the same `seed` and size always give the same people and records. Nothing
here is a real person; the names, dates, numbers and the province's communes come from
persons/data/synthetic.json (the communes as the demo province has them: each unit from 1 July 2025
with its official code, and the former communes merged into it).

The population is made of households: a couple, their children (sometimes twins: same family, same
birth date, different given names — two people who must NOT be linked), sometimes a grandparent;
members share the family name (except Khmer names written with the particle Chau/Néang, which have
none), the address and often a phone number. Kinh, Khmer (Chau Sóc Kha; Thạch Thị Sa Rết) and Hoa
(Lâm Chí Phát) names; common names are common (given names weighted, "Văn"/"Thị" the usual middle).

Every person has one clean record ("the original"); some have duplicates — visits at other health
facilities (or the same one again) — and each duplicate draws each error kind independently with the
rate in the data file, among the records the kind applies to (a day/month swap needs a day ≤ 12; an old
11-digit phone needs a number whose prefix changed in 2018). Kinds in one group exclude each other (a
date is swapped, or partial, or lunar). What was drawn is recorded per record (`errors`) and measured
(`stats["errors"]`), so the evaluation can say where linking fails.

A record is a dict with the inputs of persons.linkage.frame.frame_row — unique_id, full_name, sex,
birth_year, birth_month, birth_day, id_number, insurance_number, phone, commune_id (the official code
of the commune's current unit: an address written with a merged commune's old name resolves to its
successor, as persons.sources.resolve_commune does through the org app's history), address — plus
truth_id (the person), errors (codes), facility, record_id (the facility's own record number),
birth_text (the date of birth as the facility wrote it) and recorded_on (the visit)."""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import itertools
import json
import random
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from chinhquyenso.civil_records import lunar

DATA_FILE = Path(__file__).parent / "data" / "synthetic.json"

# The error kinds, in the order they are applied and reported; a group's kinds exclude each other.
ERROR_GROUPS: tuple[tuple[str, ...], ...] = (
    ("middle_missing", "middle_changed"),
    ("name_order",),
    ("iy_variant",),
    ("tone_variant",),
    ("typo",),
    ("upper_case",),
    ("no_diacritics",),
    ("dm_swap", "partial_year", "partial_month", "lunar_date"),
    ("old_id", "id_missing"),
    ("phone_old", "phone_missing", "phone_changed"),
    ("insurance_missing",),
    ("address_old", "address_missing"),
)
ERROR_KINDS: tuple[str, ...] = tuple(kind for group in ERROR_GROUPS for kind in group)
NAME_KINDS = frozenset(ERROR_KINDS[: ERROR_KINDS.index("no_diacritics") + 1])

_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_VOWELS = frozenset("aeiouy")
# Neighbouring keys on a QWERTY keyboard (Telex typing), for typos.
_KEYS = "qwertyuiop asdfghjkl zxcvbnm"


@cache
def spec() -> dict:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def error_labels() -> dict[str, str]:
    """Error code → Vietnamese label, in ERROR_KINDS order."""
    labels = spec()["error_labels"]
    return {kind: labels[kind] for kind in ERROR_KINDS}


class _Weighted:
    """A weighted choice among the keys of {value: weight}, drawn with one rng.random()."""

    __slots__ = ("values", "cumulative", "total")

    def __init__(self, weights: dict):
        self.values = list(weights)
        self.cumulative = list(itertools.accumulate(float(w) for w in weights.values()))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random):
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


# ---------------------------------------------------------------- text variants


def strip_diacritics(text: str) -> str:
    """ "Nguyễn Thị Thúy" → "Nguyen Thi Thuy" (case kept; đ → d)."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.replace("đ", "d").replace("Đ", "D")


def _base_letters(decomposed: str) -> str:
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def tone_variant(syllable: str) -> str | None:
    """The other tone placement of an open syllable ending in oa, oe or uy ("Hòa" ↔ "Hoà",
    "Thúy" ↔ "Thuý"); None when the syllable has no such variant."""
    decomposed = unicodedata.normalize("NFD", syllable)
    base = _base_letters(decomposed)
    if len(base) < 2 or base[-2:] not in ("oa", "oe", "uy") or base.endswith("quy"):
        return None
    tones = [i for i, ch in enumerate(decomposed) if ch in _TONE_MARKS]
    if len(tones) != 1:
        return None
    tone = decomposed[tones[0]]
    chars = [ch for ch in decomposed if ch != tone]
    letters = [i for i, ch in enumerate(chars) if not unicodedata.combining(ch)]
    first, second = letters[-2], letters[-1]
    # The tone sat on the first vowel when it came before the second vowel's letter.
    on_first = tones[0] <= second
    if on_first:
        chars.append(tone)  # after the last vowel and its own marks
    else:
        position = first + 1
        while position < len(chars) and unicodedata.combining(chars[position]):
            position += 1
        chars.insert(position, tone)
    return unicodedata.normalize("NFC", "".join(chars))


def iy_variant(syllable: str, consonants: frozenset[str]) -> str | None:
    """ "Lý" ↔ "Lí", "Quý" ↔ "Quí", "Vy" ↔ "Vi": a syllable of consonants then a final i or y,
    the other letter with the same tone; None when the syllable has no such variant."""
    decomposed = unicodedata.normalize("NFD", syllable)
    base = _base_letters(decomposed)
    if len(base) < 2 or base[-1] not in "iy":
        return None
    onset = base[:-1]
    if onset not in consonants:
        return None
    for index in range(len(decomposed) - 1, -1, -1):
        ch = decomposed[index]
        if ch.lower() in "iy":
            swapped = {"i": "y", "y": "i", "I": "Y", "Y": "I"}[ch]
            return unicodedata.normalize("NFC", decomposed[:index] + swapped + decomposed[index + 1 :])
    return None


def typo(word: str, rng: random.Random) -> str:
    """One keyboard slip in a word: a neighbouring key, a letter dropped, two letters swapped, or
    a letter doubled."""
    letters = list(word)
    # Never the first letter: slips come after the capital.
    positions = [i for i, ch in enumerate(letters) if ch.isalpha() and i > 0]
    if not positions:
        return word
    for _ in range(8):
        op = rng.randrange(4)
        i = rng.choice(positions)
        changed = letters[:]
        if op == 0:
            base = strip_diacritics(changed[i]).lower()
            row = next((r for r in _KEYS.split() if base in r), None)
            if row is None:
                continue
            j = row.index(base)
            neighbours = [row[k] for k in (j - 1, j + 1) if 0 <= k < len(row)]
            new = rng.choice(neighbours)
            changed[i] = new.upper() if changed[i].isupper() else new
        elif op == 1:
            if len(letters) < 3:
                continue
            del changed[i]
        elif op == 2:
            if i + 1 >= len(changed) or not changed[i + 1].isalpha():
                continue
            changed[i], changed[i + 1] = changed[i + 1], changed[i]
        else:
            changed.insert(i, changed[i])
        result = "".join(changed)
        if result != word:
            return result
    return word


# ---------------------------------------------------------------- lunar dates


@cache
def to_lunar(day: dt.date) -> tuple[int, int, int]:
    """The Vietnamese lunar (day, month, year) of a solar date (the inverse of
    civil_records.lunar.to_solar: the latest lunar month that starts on or before the day; a leap
    month is written with its number, as people write it)."""
    for year in (day.year, day.year - 1):
        starts = []
        for month in range(1, 13):
            for leap in (False, True):
                start = lunar.to_solar(1, month, year, leap)
                if start is not None and start <= day:
                    starts.append((start, month))
        if starts:
            start, month = max(starts)
            # Lunar year `year` still runs past Tết of year+1 only for month 11/12 dates in January.
            return (day - start).days + 1, month, year
    raise ValueError(f"Không đổi được ngày {day:%d/%m/%Y} sang âm lịch.")


# ---------------------------------------------------------------- the population


@dataclass(slots=True)
class Person:
    truth_id: int
    household: int
    ethnic: str
    sex: str  # "nam" | "nu"
    family: str
    particle: str
    middle: str
    given: str
    birth: dt.date
    citizen_id: str
    old_id: str
    phone: str
    insurance: str  # the 10-digit social-insurance code, "" when not insured
    object_code: str
    unit: int  # index into spec()["communes"]
    former: int | None  # index into that unit's former communes
    hamlet: str
    twin_of: int | None = None

    def parts(self) -> list[str]:
        return [p for p in (self.particle, self.family, self.middle, self.given) if p]

    @property
    def full_name(self) -> str:
        return " ".join(self.parts())


@dataclass
class Stats:
    """What was generated, counted as it was generated."""

    people: int = 0
    records: int = 0
    households: int = 0
    twin_pairs: int = 0
    ethnic: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    applicable: Counter = field(default_factory=Counter)
    errors_per_duplicate: Counter = field(default_factory=Counter)
    records_per_person: Counter = field(default_factory=Counter)

    def as_dict(self, *, seed: int) -> dict:
        duplicates = self.records - self.people
        labels = error_labels()
        rates = spec()["errors"]
        return {
            "seed": seed,
            "people": self.people,
            "records": self.records,
            "duplicates": duplicates,
            "households": self.households,
            "twin_pairs": self.twin_pairs,
            "ethnic": dict(sorted(self.ethnic.items())),
            "records_per_person": {str(k): v for k, v in sorted(self.records_per_person.items())},
            "errors_per_duplicate": {str(k): v for k, v in sorted(self.errors_per_duplicate.items())},
            "errors": {
                kind: {
                    "label": labels[kind],
                    "configured_rate": rates[kind],
                    "records": self.errors[kind],
                    "applicable": self.applicable[kind],
                    "share_of_duplicates": self.errors[kind] / duplicates if duplicates else 0.0,
                    "share_of_applicable": self.errors[kind] / self.applicable[kind] if self.applicable[kind] else 0.0,
                }
                for kind in ERROR_KINDS
            },
        }


@cache
def facility_codes() -> dict[str, str]:
    """Facility name → its (invented) 5-digit code, in the data file's order: the provincial
    hospitals, the district health centres, then the communes' health stations."""
    data = spec()
    names = list(data["facilities"]["provincial"])
    districts = dict.fromkeys(f["district"] for c in data["communes"] for f in c["former"])
    names += [f"Trung tâm Y tế {d}" for d in districts] + [data["facilities"]["district_default"]]
    names += [f"Trạm Y tế {c['name']}" for c in data["communes"]]
    return {name: f"89{i:03d}" for i, name in enumerate(dict.fromkeys(names), start=1)}


class _Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        data = spec()
        self.data = data
        self.communes = data["communes"]
        self.hamlets = data["hamlets"]
        self.ethnic = _Weighted(data["ethnic_shares"])
        self.household_size = _Weighted({int(k): v for k, v in data["households"]["size"].items()})
        names = {}
        for ethnic in ("kinh", "khmer", "hoa"):
            block = data[ethnic]
            names[ethnic] = {
                "surnames": _Weighted(block["surnames"]),
                "middle": {sex: _Weighted(block["middle"][sex]) for sex in ("nam", "nu")},
                "middle_lists": {sex: list(block["middle"][sex]) for sex in ("nam", "nu")},
                "given": {sex: _Weighted(block["given"][sex]) for sex in ("nam", "nu")},
            }
        self.names = names
        self.khmer = data["khmer"]
        identity = data["identity"]
        self.identity = identity
        self.birth_province = _Weighted(identity["birth_province_codes"])
        phone = data["phone"]
        self.phone_spec = phone
        self.phone_prefix = _Weighted(phone["new_prefixes"])
        self.insurance_spec = data["insurance"]
        self.object_code = _Weighted(data["insurance"]["object_codes"])
        self.extra = _Weighted({int(k): v for k, v in data["records"]["extra_records"].items()})
        self.birth_format = _Weighted(data["records"]["original_birth_formats"])
        self.facility_kind = _Weighted(data["facilities"]["weights"])
        self.rates = data["errors"]
        self.iy_consonants = frozenset(data["iy_onsets"])
        self.used: set[str] = set()
        self.commune_weights = _Weighted({i: 1 + len(c["former"]) for i, c in enumerate(self.communes)})
        self.next_truth = 0
        self.next_household = 0
        self.facility_counters: Counter = Counter()
        self.facility_codes = facility_codes()
        first, last = data["records"]["visit_years"]
        self.visit_start = dt.date(first, 1, 1).toordinal()
        self.visit_span = dt.date(last, 6, 30).toordinal() - self.visit_start

    # -------------------------------------------------- numbers

    def _unique(self, make) -> str:
        while True:
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value

    def _digits(self, n: int) -> str:
        return f"{self.rng.randrange(10**n):0{n}d}"

    def citizen_id(self, province: str, sex: str, birth: dt.date) -> str:
        century = 0 if birth.year < 2000 else 2
        digit = century + (1 if sex == "nu" else 0)
        return self._unique(lambda: f"{province}{digit}{birth.year % 100:02d}{self._digits(6)}")

    def old_id(self, province: str) -> str:
        prefix = self.identity["old_id_prefixes"].get(province, "35")
        return self._unique(lambda: f"{prefix}{self._digits(7)}")

    def phone(self) -> str:
        return self._unique(lambda: f"{self.phone_prefix(self.rng)}{self._digits(7)}")

    def insurance(self, province: str) -> str:
        code = self.insurance_spec["province_codes"].get(province, self.insurance_spec["default_province_code"])
        return self._unique(lambda: f"{code}{self._digits(8)}")

    # -------------------------------------------------- people

    def _date(self, year: int) -> dt.date:
        start = dt.date(year, 1, 1).toordinal()
        days = 366 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 365
        return dt.date.fromordinal(start + self.rng.randrange(days))

    def person(self, *, household, ethnic, sex, family, birth, unit, former, hamlet, given_taken=()) -> Person:
        rng = self.rng
        names = self.names[ethnic]
        particle = ""
        if ethnic == "khmer" and family == "":
            particle = self.khmer["particles"][sex]
        # A Khmer name written with its particle (Chau Sóc Kha) has neither family nor middle name.
        middle = "" if particle else names["middle"][sex](rng)
        given = names["given"][sex](rng)
        while given in given_taken:
            given = names["given"][sex](rng)
        reference = self.identity["reference_year"]
        age = reference - birth.year
        province = self.birth_province(rng)
        adult = age >= self.identity["child_until_age"]
        has_id = rng.random() < self.identity["has_citizen_id"]["adult" if adult else "child"]
        citizen_id = self.citizen_id(province, sex, birth) if has_id else ""
        old = self.old_id(province) if birth.year < self.identity["has_old_id_born_before"] and age >= 16 else ""
        low, high = self.phone_spec["own_phone_age"]
        phone = self.phone() if low <= age <= high and rng.random() < self.phone_spec["own_phone_share"] else ""
        insured = rng.random() < self.insurance_spec["insured_share"]
        insurance = self.insurance(province) if insured else ""
        truth = self.next_truth
        self.next_truth += 1
        return Person(
            truth_id=truth,
            household=household,
            ethnic=ethnic,
            sex=sex,
            family=family,
            particle=particle,
            middle=middle,
            given=given,
            birth=birth,
            citizen_id=citizen_id,
            old_id=old,
            phone=phone,
            insurance=insurance,
            object_code=self.object_code(rng),
            unit=unit,
            former=former,
            hamlet=hamlet,
        )

    def _family_name(self, ethnic: str) -> str:
        if ethnic == "khmer" and self.rng.random() < self.khmer["particle_share"]:
            return ""
        return self.names[ethnic]["surnames"](self.rng)

    def household(self, stats: Stats) -> list[Person]:
        rng = self.rng
        spec_h = self.data["households"]
        hid = self.next_household
        self.next_household += 1
        ethnic = self.ethnic(rng)
        unit = self.commune_weights(rng)
        formers = self.communes[unit]["former"]
        former = rng.randrange(len(formers)) if formers else None
        hamlet = rng.choice(self.hamlets)
        size = self.household_size(rng)
        common = {"household": hid, "ethnic": ethnic, "unit": unit, "former": former, "hamlet": hamlet}
        members: list[Person] = []
        if size == 1:
            low, high = spec_h["single_birth_years"]
            sex = rng.choice(("nam", "nu"))
            members.append(
                self.person(
                    **common, sex=sex, family=self._family_name(ethnic), birth=self._date(rng.randint(low, high))
                )
            )
        else:
            low, high = spec_h["parent_birth_years"]
            father_year = rng.randint(low, high)
            mother_year = min(high, max(low, father_year + rng.randint(-2, 6)))
            family = self._family_name(ethnic)
            father = self.person(**common, sex="nam", family=family, birth=self._date(father_year))
            mother = self.person(**common, sex="nu", family=self._family_name(ethnic), birth=self._date(mother_year))
            members += [father, mother]
            children = size - 2
            if children and rng.random() < spec_h["grandparent_share"]:
                grand_year = father_year - rng.randint(20, 35)
                if grand_year >= 1920:
                    members.append(
                        self.person(
                            **common, sex=rng.choice(("nam", "nu")), family=family, birth=self._date(grand_year)
                        )
                    )
                    children -= 1
            a_low, a_high = spec_h["mother_age_at_birth"]
            last_year = self.identity["reference_year"] - 1
            years = sorted(mother_year + rng.randint(a_low, a_high) for _ in range(children))
            years = [y for y in years if y <= last_year]
            twins_at = rng.randrange(len(years)) if years and rng.random() < spec_h["twin_share"] else None
            taken = {father.given, mother.given}
            for index, year in enumerate(years):
                sex = rng.choice(("nam", "nu"))
                child = self.person(**common, sex=sex, family=family, birth=self._date(year), given_taken=taken)
                taken.add(child.given)
                members.append(child)
                if index == twins_at:
                    twin_sex = rng.choice(("nam", "nu"))
                    twin = self.person(**common, sex=twin_sex, family=family, birth=child.birth, given_taken=taken)
                    taken.add(twin.given)
                    if twin_sex == sex and rng.random() < 0.7:
                        twin.middle = child.middle  # twins often share the middle name
                    twin.twin_of, child.twin_of = child.truth_id, twin.truth_id
                    members.append(twin)
                    stats.twin_pairs += 1
        # Members without a phone of their own give the household's at the facility.
        household_phone = next((m.phone for m in members if m.phone), "")
        for member in members:
            if not member.phone and household_phone and rng.random() < self.phone_spec["child_uses_household_phone"]:
                member.phone = household_phone
        stats.households += 1
        for member in members:
            stats.ethnic[member.ethnic] += 1
        return members

    # -------------------------------------------------- records

    def facility(self, person: Person) -> str:
        kind = self.facility_kind(self.rng)
        unit = self.communes[person.unit]
        if kind == "provincial":
            return self.rng.choice(self.data["facilities"]["provincial"])
        if kind == "district":
            if unit["former"]:
                return f"Trung tâm Y tế {unit['former'][0]['district']}"
            return self.data["facilities"]["district_default"]
        return f"Trạm Y tế {unit['name']}"

    def address(self, person: Person, *, old: bool) -> str:
        unit = self.communes[person.unit]
        province = self.data["province"]
        if old:
            former = unit["former"][person.former]
            return f"{person.hamlet}, {former['name']}, {former['district']}, {province}"
        return f"{person.hamlet}, {unit['name']}, {province}"

    def birth_text(self, year, month, day, *, fmt: str | None = None) -> str:
        if month is None:
            return str(year) if self.rng.random() < 0.7 else f"00/00/{year}"
        if day is None:
            return f"{month:02d}/{year}"
        fmt = fmt or self.birth_format(self.rng)
        if fmt == "yyyy-mm-dd":
            return f"{year:04d}-{month:02d}-{day:02d}"
        if fmt == "d/m/yyyy":
            return f"{day}/{month}/{year}"
        return f"{day:02d}/{month:02d}/{year}"

    def insurance_text(self, person: Person) -> str:
        if not person.insurance:
            return ""
        if self.rng.random() < self.insurance_spec["written_as_card"]:
            # The 15-character card: object code, benefit level, province code, then the 10-digit code.
            benefit = self.rng.randint(1, 5)
            return f"{person.object_code}{benefit}{person.insurance[:2]}{person.insurance}"
        return person.insurance

    def record(self, person: Person, unique_id: int, *, duplicate: bool, stats: Stats) -> dict:
        rng = self.rng
        birth = person.birth
        values = {
            "family": person.family,
            "particle": person.particle,
            "middle": person.middle,
            "given": person.given,
            "year": birth.year,
            "month": birth.month,
            "day": birth.day,
            "id_number": person.citizen_id or person.old_id,
            "phone": person.phone,
            "insurance_number": self.insurance_text(person),
            "address_old": False,
            "address_missing": False,
        }
        errors: list[str] = []
        full_name = None
        if duplicate:
            full_name = self._errors(person, values, errors, stats)
        if full_name is None:
            full_name = " ".join(
                p for p in (values["particle"], values["family"], values["middle"], values["given"]) if p
            )
        facility = self.facility(person)
        self.facility_counters[facility] += 1
        unit = self.communes[person.unit]
        if values["address_missing"]:
            address, commune_id = "", None
        else:
            address, commune_id = self.address(person, old=values["address_old"]), unit["code"]
        year, month, day = values["year"], values["month"], values["day"]
        stats.records += 1
        return {
            "unique_id": unique_id,
            "full_name": full_name,
            "sex": person.sex,
            "birth_year": year,
            "birth_month": month,
            "birth_day": day,
            "birth_text": self.birth_text(year, month, day),
            "id_number": values["id_number"],
            "insurance_number": values["insurance_number"],
            "phone": values["phone"],
            "commune_id": commune_id,
            "address": address,
            "facility": facility,
            "facility_code": self.facility_codes[facility],
            "record_id": f"BA{self.facility_counters[facility]:07d}",
            "recorded_on": dt.date.fromordinal(self.visit_start + rng.randrange(self.visit_span)),
            "truth_id": person.truth_id,
            "household": person.household,
            "twin_of": person.twin_of,
            "errors": errors,
        }

    def _applies(self, kind: str, person: Person, values: dict) -> bool:
        if kind == "middle_missing":
            return bool(values["middle"])
        if kind == "middle_changed":
            return len(self.names[person.ethnic]["middle_lists"][person.sex]) > 1
        if kind == "name_order":
            return bool(values["family"] or values["particle"]) and bool(values["given"])
        if kind == "iy_variant":
            return any(iy_variant(s, self.iy_consonants) for s in self._variant_syllables(values))
        if kind == "tone_variant":
            return any(tone_variant(s) for s in self._variant_syllables(values, middle=True))
        if kind in ("typo", "upper_case"):
            return True
        if kind == "no_diacritics":
            return True
        if kind == "dm_swap":
            return values["day"] <= 12 and values["day"] != values["month"]
        if kind in ("partial_year", "partial_month", "lunar_date"):
            return True
        if kind == "old_id":
            return bool(person.old_id) and values["id_number"] != person.old_id
        if kind == "id_missing":
            return bool(values["id_number"])
        if kind == "phone_old":
            return values["phone"][:3] in self.phone_spec["old_prefixes"]
        if kind in ("phone_missing", "phone_changed"):
            return bool(values["phone"])
        if kind == "insurance_missing":
            return bool(values["insurance_number"])
        if kind == "address_old":
            return person.former is not None
        if kind == "address_missing":
            return True
        raise KeyError(kind)

    @staticmethod
    def _variant_syllables(values: dict, middle: bool = False) -> list[str]:
        parts = [values["family"], values["given"]] + ([values["middle"]] if middle else [])
        return [s for part in parts for s in part.split()]

    def _errors(self, person: Person, values: dict, errors: list[str], stats: Stats) -> str | None:
        """Draws and applies the error kinds to a duplicate's values; returns the full name when a
        kind rewrote the whole name, else None (the parts are joined by the caller)."""
        rng = self.rng
        full_name = None
        for group in ERROR_GROUPS:
            applicable = [kind for kind in group if self._applies(kind, person, values)]
            for kind in applicable:
                stats.applicable[kind] += 1
            if not applicable:
                continue
            draw = rng.random()
            chosen = None
            for kind in applicable:
                draw -= self.rates[kind]
                if draw < 0:
                    chosen = kind
                    break
            if chosen is None:
                continue
            errors.append(chosen)
            stats.errors[chosen] += 1
            full_name = self._apply(chosen, person, values, full_name)
        stats.errors_per_duplicate[len(errors)] += 1
        return full_name

    def _apply(self, kind: str, person: Person, values: dict, full_name: str | None) -> str | None:
        rng = self.rng
        if kind == "middle_missing":
            values["middle"] = ""
        elif kind == "middle_changed":
            others = [m for m in self.names[person.ethnic]["middle_lists"][person.sex] if m != values["middle"]]
            values["middle"] = rng.choice(others)
        elif kind == "name_order":
            given_first = [values["given"], values["particle"], values["family"], values["middle"]]
            return " ".join(p for p in given_first if p)
        elif kind in ("iy_variant", "tone_variant"):
            keys = ["family", "given"] + (["middle"] if kind == "tone_variant" else [])
            change = (lambda s: iy_variant(s, self.iy_consonants)) if kind == "iy_variant" else tone_variant
            for key in keys:
                syllables = values[key].split()
                for i, syllable in enumerate(syllables):
                    variant = change(syllable)
                    if variant:
                        syllables[i] = variant
                values[key] = " ".join(syllables)
            if full_name is not None:  # name order already fixed: rebuild it the same way
                return self._reorder(values)
        elif kind == "typo":
            key = "given" if rng.random() < 0.6 or not values["family"] else "family"
            syllables = values[key].split()
            i = rng.randrange(len(syllables))
            syllables[i] = typo(syllables[i], rng)
            values[key] = " ".join(syllables)
            if full_name is not None:
                return self._reorder(values)
        elif kind == "upper_case":
            name = full_name if full_name is not None else self._joined(values)
            return name.upper()
        elif kind == "no_diacritics":
            name = full_name if full_name is not None else self._joined(values)
            return strip_diacritics(name)
        elif kind == "dm_swap":
            values["day"], values["month"] = values["month"], values["day"]
        elif kind == "partial_year":
            values["month"] = values["day"] = None
        elif kind == "partial_month":
            values["day"] = None
        elif kind == "lunar_date":
            day, month, year = to_lunar(person.birth)
            values["day"], values["month"], values["year"] = day, month, year
        elif kind == "old_id":
            values["id_number"] = person.old_id
        elif kind == "id_missing":
            values["id_number"] = ""
        elif kind == "phone_old":
            phone = values["phone"]
            values["phone"] = self.phone_spec["old_prefixes"][phone[:3]] + phone[3:]
        elif kind == "phone_missing":
            values["phone"] = ""
        elif kind == "phone_changed":
            values["phone"] = self.phone()
        elif kind == "insurance_missing":
            values["insurance_number"] = ""
        elif kind == "address_old":
            values["address_old"] = True
        elif kind == "address_missing":
            values["address_missing"] = True
        return full_name

    @staticmethod
    def _joined(values: dict) -> str:
        return " ".join(p for p in (values["particle"], values["family"], values["middle"], values["given"]) if p)

    @staticmethod
    def _reorder(values: dict) -> str:
        return " ".join(p for p in (values["given"], values["particle"], values["family"], values["middle"]) if p)


def iter_records(n_people: int, *, seed: int = 1, stats: Stats | None = None) -> Iterator[dict]:
    """The records of a population of about `n_people` people (whole households: the last one may
    add a few), lazily; `stats` (when given) counts them as they come."""
    stats = stats if stats is not None else Stats()
    gen = _Generator(seed)
    unique_id = 0
    while stats.people < n_people:
        for person in gen.household(stats):
            stats.people += 1
            copies = 1 + gen.extra(gen.rng)
            stats.records_per_person[copies] += 1
            for copy in range(copies):
                unique_id += 1
                yield gen.record(person, unique_id, duplicate=copy > 0, stats=stats)


def generate(n_people: int, *, seed: int = 1) -> tuple[list[dict], dict]:
    """(records, stats): the population's records (see the module's docstring) and what was
    generated — people, records, duplicates, twin pairs, and per error kind the records that have it,
    the records it could apply to, and its measured share."""
    stats = Stats()
    records = list(iter_records(n_people, seed=seed, stats=stats))
    return records, stats.as_dict(seed=seed)


# ---------------------------------------------------------------- files

_CSV_VALUES = {
    # importer.HEADERS key → how to write it from a record
    "record_id": lambda r: r["record_id"],
    "facility": lambda r: r["facility"],
    "facility_code": lambda r: r["facility_code"],
    "full_name": lambda r: r["full_name"],
    "sex": lambda r: {"nam": "Nam", "nu": "Nữ"}.get(r["sex"], ""),
    "birth": lambda r: r["birth_text"],
    "birth_date": lambda r: r["birth_text"],
    "id_number": lambda r: r["id_number"],
    "insurance_number": lambda r: r["insurance_number"],
    "phone": lambda r: r["phone"],
    "address": lambda r: r["address"],
    "recorded_on": lambda r: r["recorded_on"].strftime("%d/%m/%Y"),
}


def truth_path(path: str | Path) -> Path:
    """Where write_csv puts the truth beside the import file: x.csv → x.truth.csv."""
    path = Path(path)
    return path.with_name(f"{path.stem}.truth.csv")


def write_csv(path: str | Path, people: int, seed: int = 1) -> dict:
    """Writes a health-records import file (the columns of persons.importer.HEADERS) for a
    population of `people` people, and its truth beside it (truth_path: facility, record id,
    person, error codes). Returns the generation's stats."""
    from chinhquyenso.persons.importer import HEADERS

    unknown = [key for key, _ in HEADERS if key not in _CSV_VALUES]
    if unknown:
        raise ValueError(f"Cột mẫu nhập chưa được bộ sinh dữ liệu hỗ trợ: {', '.join(unknown)}.")
    path = Path(path)
    stats = Stats()
    with (
        path.open("w", encoding="utf-8", newline="") as out,
        truth_path(path).open("w", encoding="utf-8", newline="") as truth_out,
    ):
        writer = csv.writer(out)
        writer.writerow([header for _, header in HEADERS])
        truth = csv.writer(truth_out)
        truth.writerow(["facility", "record_id", "truth_id", "errors"])
        for record in iter_records(people, seed=seed, stats=stats):
            writer.writerow([_CSV_VALUES[key](record) for key, _ in HEADERS])
            truth.writerow([record["facility"], record["record_id"], record["truth_id"], " ".join(record["errors"])])
    return stats.as_dict(seed=seed)

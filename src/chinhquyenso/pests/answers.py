"""Farmers' questions about a pest or disease of the catalog, answered for the assistant
(core.registry.ANSWER_SOURCES, registered in PestsConfig.ready):

    answer(question, context) -> KnowledgeAnswer | None

1. Which organism: the question's words are matched against each active organism's name and other
   names (Organism.other_names, comma-separated) as whole syllables. A syllable typed with diacritics
   must carry the same ones (tone placement aside: "hoà" = "hòa"), so "bác là" never reads as "bạc lá";
   a syllable typed without any ("ray nau", "dao on") matches on the folded form (core.text.fold). The
   longest name wins where names overlap ("sâu cuốn lá nhỏ" over a shorter one). A question naming only
   the beginning of several names ("sâu đục thân", "bọ xít") is answered with the candidates and a short
   line on each, asking which one. No name of the catalog → None: the question goes on to the procedure
   catalog.
2. What is asked (kinds as phrases, matched on folded syllables): là gì / nhận biết (what it is),
   tác hại (damage), ngưỡng / mật độ / khi nào phun (thresholds), phòng trừ / thuốc / làm gì (what to do),
   thiên địch (natural enemies); several at once are all answered; none → a short overview (what it is,
   damage, what to do, where the thresholds are).
3. Only the catalog's fields are said, with its source; a field the catalog leaves empty is said to be
   missing, never guessed. Thresholds are those in force today, with their crop, growth stage, measure
   and legal or working basis.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from chinhquyenso.core.registry import KnowledgeAnswer
from chinhquyenso.core.text import fold, format_number, nfc
from chinhquyenso.pests.models import Measure, Organism

MAX_LENGTH = 500
MAX_CANDIDATES = 6
SOURCE = "Danh mục sinh vật gây hại của Chi cục Trồng trọt và Bảo vệ thực vật"
TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng

# What a question asks, as folded phrases; the longest phrase at a place wins.
KINDS: dict[str, tuple[str, ...]] = {
    "what": (
        "la gi",
        "la con gi",
        "la benh gi",
        "la sau gi",
        "la loai gi",
        "nhan biet",
        "nhan dang",
        "dac diem",
        "hinh dang",
        "trieu chung",
        "bieu hien",
        "trong the nao",
    ),
    "damage": (
        "tac hai",
        "gay hai",
        "hai gi",
        "hai lua",
        "hai nhu the nao",
        "anh huong",
        "thiet hai",
        "nguy hiem",
        "giai doan nao",
    ),
    "threshold": (
        "nguong",
        "mat do",
        "bao nhieu con",
        "khi nao phun",
        "luc nao phun",
        "khi nao can phun",
        "khi nao thi phun",
        "bao nhieu thi phun",
        "khi nao phai phun",
    ),
    "manage": (
        "phong tru",
        "phong chong",
        "phong ngua",
        "thuoc",
        "phun",
        "lam gi",
        "lam sao",
        "the nao de",
        "xu ly",
        "diet",
        "tri",
        "chua",
        "bien phap",
        "cach",
        "quan ly",
    ),
    "enemies": ("thien dich", "loai co ich", "con co ich"),
}
ORDER = ("what", "damage", "threshold", "manage", "enemies")
KIND_LABELS = {"insect": "côn trùng gây hại", "disease": "bệnh hại", "mollusc": "ốc hại", "other": "sinh vật"}


# ---------------------------------------------------------------------- syllables


@dataclass(frozen=True)
class Syllable:
    folded: str  # "ray"
    key: tuple[str, str]  # ("rây", "\u0300"): letters with their vowel marks, and the tone — placement aside
    marked: bool  # typed with any diacritic (đ included)


def _syllable(word: str) -> Syllable:
    decomposed = unicodedata.normalize("NFD", word)
    tone = "".join(ch for ch in decomposed if ch in TONE_MARKS)
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in TONE_MARKS))
    folded = fold(word)
    return Syllable(folded=folded, key=(base, tone), marked=folded != word)


def syllables(text: str) -> list[Syllable]:
    return [_syllable(word) for word in re.findall(r"\w+", nfc(text).lower())]


def _same(asked: Syllable, name: Syllable) -> bool:
    """A syllable of the question against one of a name: exact (tone placement aside) when typed with
    diacritics, folded when typed without any."""
    return asked.key == name.key if asked.marked else asked.folded == name.folded


def _find(asked: list[Syllable], name: list[Syllable]) -> list[int]:
    n = len(name)
    return [i for i in range(len(asked) - n + 1) if all(_same(asked[i + j], name[j]) for j in range(n))]


# ---------------------------------------------------------------------- which organism, what is asked


def _names(organism) -> list[str]:
    others = [nfc(part) for part in (organism.other_names or "").split(",")]
    return [organism.name, *[o for o in others if o]]


def _catalog():

    return list(Organism.objects.filter(active=True).order_by("name"))


def match_organisms(question: str, organisms=None) -> tuple[list, list]:
    """(organisms named in full, best match first; organisms whose name the question only begins)."""
    asked = syllables(question)
    organisms = _catalog() if organisms is None else organisms
    found: list[tuple[int, int, object]] = []  # (start, length, organism)
    for organism in organisms:
        for name in _names(organism):
            words = syllables(name)
            for start in _find(asked, words) if words else []:
                found.append((start, len(words), organism))
    # A match inside a longer one (the same words) is dropped: "sâu cuốn lá nhỏ" keeps only itself.
    kept = [
        (s, n, o)
        for s, n, o in found
        if not any(s2 <= s and s + n <= s2 + n2 and n2 > n for s2, n2, o2 in found if o2 is not o)
    ]
    named: list = []
    for _, _, organism in sorted(kept, key=lambda item: (-item[1], item[0])):
        if organism not in named:
            named.append(organism)
    if named:
        return named, []
    # Only the beginning of names (at least two syllables, not the whole name): "sâu đục thân".
    partial: list = []
    for organism in organisms:
        for name in _names(organism):
            words = syllables(name)
            for length in range(len(words) - 1, 1, -1):
                if _find(asked, words[:length]):
                    if organism not in partial:
                        partial.append(organism)
                    break
    return [], partial


def asked_kinds(question: str) -> list[str]:
    tokens = [s.folded for s in syllables(question)]
    used = [False] * len(tokens)
    phrases = sorted(
        ((kind, tuple(p.split())) for kind, items in KINDS.items() for p in items), key=lambda kp: -len(kp[1])
    )
    kinds: set[str] = set()
    for kind, phrase in phrases:
        n = len(phrase)
        for i in range(len(tokens) - n + 1):
            if tuple(tokens[i : i + n]) == phrase and not any(used[i : i + n]):
                used[i : i + n] = [True] * n
                kinds.add(kind)
    return [kind for kind in ORDER if kind in kinds]


# ---------------------------------------------------------------------- composing


def _stage_name(crop, code: str) -> str:
    for stage in crop.stages or []:
        if stage.get("code") == code:
            return stage.get("name") or code
    return code


def thresholds_in_force(organism, day: dt.date | None = None) -> list:
    day = day or timezone.localdate()
    return list(
        organism.thresholds.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        .select_related("crop")
        .order_by("crop__name", "measure", "stage")
    )


def _number(value) -> str:
    value = float(value)
    return format_number(value, 0 if value == int(value) else 1)


def threshold_lines(organism, *, in_the_field: bool = False) -> list[str]:
    """The thresholds in force as sentences; `in_the_field`: only what a farmer can count in a field (not
    the light traps' counts per night)."""
    lines = []
    for threshold in thresholds_in_force(organism):
        if in_the_field and threshold.measure == Measure.PER_TRAP_NIGHT:
            continue
        unit = threshold.get_measure_display()
        where = threshold.crop.name
        where += (
            f", giai đoạn {_stage_name(threshold.crop, threshold.stage).lower()}"
            if threshold.stage
            else ", mọi giai đoạn"
        )
        levels = f"cảnh báo từ {_number(threshold.warn_level)} {unit}"
        if threshold.action_level is not None:
            levels += f", cần phòng trừ từ {_number(threshold.action_level)} {unit}"
        lines.append(f"- {where}: {levels} (căn cứ: {threshold.source}).")
    return lines


def _missing(what: str, organism) -> str:
    return f"Danh mục chưa ghi {what} của {organism.name.lower()}; hãy hỏi cán bộ bảo vệ thực vật xã."


def _section(kind: str, organism) -> list[str]:
    if kind == "what":
        lines = [organism.description or _missing("đặc điểm nhận biết", organism)]
        if organism.damaging_stages:
            lines.append(f"Giai đoạn gây hại: {organism.damaging_stages}.")
        return lines
    if kind == "damage":
        lines = [f"Tác hại: {organism.damage}" if organism.damage else _missing("tác hại", organism)]
        if organism.damaging_stages:
            lines.append(f"Giai đoạn gây hại: {organism.damaging_stages}.")
        return lines
    if kind == "threshold":
        lines = threshold_lines(organism)
        if not lines:
            return [
                f"Danh mục chưa có ngưỡng cảnh báo, phòng trừ cho {organism.name.lower()}; hãy hỏi cán bộ bảo vệ thực vật xã."
            ]
        return ["Ngưỡng cảnh báo, phòng trừ đang áp dụng:", *lines]
    if kind == "manage":
        return [
            f"Cách phòng trừ: {organism.management}"
            if organism.management
            else _missing("biện pháp phòng trừ", organism)
        ]
    if kind == "enemies":
        if organism.is_natural_enemy:
            return [f"{organism.name} là thiên địch có ích, cần bảo vệ: hạn chế phun thuốc khi không cần."]
        if organism.natural_enemies:
            return [f"Thiên địch: {organism.natural_enemies}"]
        return [_missing("thiên địch", organism)]
    return []


def _heading(organism) -> str:
    scientific = f" ({organism.scientific_name})" if organism.scientific_name else ""
    kind = "thiên địch có ích" if organism.is_natural_enemy else KIND_LABELS.get(organism.kind, "sinh vật")
    crops = ", ".join(c.name.lower() for c in organism.crops.all())
    return f"{organism.name}{scientific} — {kind}{f' trên {crops}' if crops else ''}."


def describe(organism, kinds: list[str]) -> list[str]:
    lines = [_heading(organism)]
    if kinds:
        for kind in kinds:
            lines += _section(kind, organism)
        return lines
    lines += _section("what", organism)[:1]
    if not organism.is_natural_enemy:
        if organism.damage:
            lines.append(f"Tác hại: {organism.damage}")
        lines += _section("manage", organism)
        if thresholds_in_force(organism):
            lines.append("Hỏi “ngưỡng phòng trừ " + organism.name.lower() + "” để biết mật độ cần phun thuốc.")
    else:
        lines += _section("enemies", organism)
    return lines


def _first_sentence(text: str) -> str:
    head = re.split(r"(?<=[.;])\s", text or "", maxsplit=1)[0]
    return head.rstrip(".;")


def _links() -> list[dict]:
    try:
        return [{"label": "Gửi ảnh để nhận dạng sâu bệnh", "url": reverse("pests_public:identify")}]
    except NoReverseMatch:  # the farmers' pages are not mounted (an installation without them)
        return []


def _sources(organisms) -> str:
    cited = sorted({o.source for o in organisms if o.source})
    return SOURCE + (f" ({'; '.join(cited)})" if cited else "")


def answer(question, context=None) -> KnowledgeAnswer | None:
    """The answer to a question about an organism of the catalog, or None when it names none (module doc)."""
    question = nfc(question or "")[:MAX_LENGTH]
    if not question:
        return None
    named, partial = match_organisms(question)
    kinds = asked_kinds(question)
    if named:
        shown = named[:2]  # "rầy nâu và rầy lưng trắng": both; more is a list, not an answer
        lines: list[str] = []
        for organism in shown:
            if lines:
                lines.append("")
            lines += describe(organism, kinds)
        return KnowledgeAnswer(text="\n".join(lines), links=_links(), source=_sources(shown), kind="pest")
    if partial:
        lines = ["Bạn hỏi về loài nào? Trong danh mục có:"]
        for organism in partial[:MAX_CANDIDATES]:
            summary = _first_sentence(organism.damage or organism.description)
            lines.append(f"- {organism.name}{f': {summary}' if summary else ''}.")
        lines.append("Hãy hỏi lại với tên đầy đủ, ví dụ “" + partial[0].name.lower() + " phòng trừ thế nào”.")
        return KnowledgeAnswer(
            text="\n".join(lines), links=_links(), source=_sources(partial), kind="pest", confident=False
        )
    return None

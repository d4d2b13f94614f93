"""The assistant's quality measure, shared by tests/assistant/test_quality.py (which asserts the
goals), scripts/assistant_quality.py (which prints the figures for docs/assistant.md) and
benchmarks/bench_assistant.py (which loads the same catalog).

The catalog is the demo province's (demo/data/procedures.json with its agencies) plus the national
list (procedures_national.json) and its FAQ entries, with the default synonyms. The questions are
tests/assistant/data/questions.json (held out: none copies a FAQ entry).

- top-1 / top-3: over every question with expected codes (kinds find, fee, time, papers, where,
  online, legal_basis), a hit when one of the expected codes is first / among the first three of
  `assistant.index.search`.
- "says it does not know": over the kind "unknown" (a procedure not in the catalog, or off-topic),
  the share the assistant answers with `confident` false (`assistant.answers.ask`); without
  answers.py (or with use_answers=False) it is not measured.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO_DATA = ROOT / "src" / "chinhquyenso" / "demo" / "data"
QUESTIONS = Path(__file__).resolve().parent / "data" / "questions.json"

RANKED_KINDS = ("find", "fee", "time", "papers", "where", "online", "legal_basis")
GOALS = {"top1": 0.75, "top3": 0.90}


def questions() -> list[dict]:
    return json.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"]


def has_answers() -> bool:
    return importlib.util.find_spec("chinhquyenso.assistant.answers") is not None


def load_catalog(*, actor=None) -> dict[str, int]:
    """What seed-demo loads for the assistant, through the real services (the caller holds the
    transaction): agencies, both catalogs (build_catalog), the default synonyms and FAQ entries."""
    from chinhquyenso.assistant import index, services
    from chinhquyenso.demo import services as demo

    demo.build_agencies(actor=actor)
    demo.build_catalog(actor=actor)  # procedures.json, then procedures_national.json
    services.load_synonyms(actor=actor)
    faq = services.load_faq(actor=actor)
    index.invalidate()
    return {"faq": faq["created"]}


@dataclass
class Result:
    ranked: int = 0
    top1: int = 0
    top3: int = 0
    unknown: int = 0
    unknown_right: int = 0
    confident_right: int = 0  # ranked questions answered confidently about an expected procedure
    wrong_confident: int = 0  # ranked questions answered confidently about another procedure
    judged_by: str = ""
    misses: list[str] = field(default_factory=list)
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind → [n, top1, top3]

    def share(self, part: int, whole: int) -> float:
        return part / whole if whole else 0.0

    @property
    def top1_rate(self) -> float:
        return self.share(self.top1, self.ranked)

    @property
    def top3_rate(self) -> float:
        return self.share(self.top3, self.ranked)

    @property
    def unknown_rate(self) -> float:
        return self.share(self.unknown_right, self.unknown)


def evaluate(items: list[dict] | None = None, *, use_answers: bool | None = None, ask=None) -> Result:
    """Search every question; with answers.py (or `ask`, a question → Answer callable), ask them too:
    the unknown ones must be answered "not sure", the others are counted confident right or wrong."""
    from chinhquyenso.assistant import index

    items = questions() if items is None else items
    use_answers = has_answers() if use_answers is None else use_answers
    if use_answers and ask is None:
        from chinhquyenso.assistant import answers

        ask = answers.ask
    result = Result(judged_by="answers.ask(...).confident" if ask else "not measured (search only)")
    for q in items:
        kind, expected = q["kind"], set(q.get("expected") or ())
        if kind in RANKED_KINDS and expected:
            hits = index.search(q["question"], limit=3)
            codes = [h.code for h in hits]
            one, three = bool(codes[:1] and codes[0] in expected), bool(expected & set(codes))
            result.ranked += 1
            result.top1 += one
            result.top3 += three
            row = result.by_kind.setdefault(kind, [0, 0, 0])
            row[0], row[1], row[2] = row[0] + 1, row[1] + one, row[2] + three
            if ask is not None:
                answer = ask(q["question"])
                cited = answer.procedures[0]["code"] if answer.procedures else ""
                if answer.confident and cited in expected:
                    result.confident_right += 1
                elif answer.confident:
                    result.wrong_confident += 1
                    result.misses.append(f"WRONG {q['id']} {q['question']!r} answered confidently about {cited}")
            if not one:
                got = ", ".join(f"{h.code} {h.name} ({h.score:.1f})" for h in hits) or "nothing"
                mark = "top-3" if three else "MISS"
                result.misses.append(f"{mark:5} {q['id']} {q['question']!r} want {sorted(expected)}; got {got}")
        elif kind == "unknown" and ask is not None:
            result.unknown += 1
            unsure = ask(q["question"]).confident is False
            result.unknown_right += unsure
            if not unsure:
                hits = index.search(q["question"], limit=1)
                got = f"{hits[0].code} {hits[0].name} ({hits[0].score:.1f})" if hits else "nothing"
                result.misses.append(f"KNOWS {q['id']} {q['question']!r} answered confidently; first: {got}")
    return result


def pct(x: float) -> str:
    return f"{x * 100:.1f} %".replace(".", ",")


def figures_table(result: Result) -> str:
    lines = [
        "| measure | questions | right | share | goal |",
        "| --- | --- | --- | --- | --- |",
        f"| top-1 (expected procedure first) | {result.ranked} | {result.top1} | {pct(result.top1_rate)} "
        f"| ≥ {pct(GOALS['top1'])} |",
        f"| top-3 (expected procedure in the first three) | {result.ranked} | {result.top3} "
        f"| {pct(result.top3_rate)} | ≥ {pct(GOALS['top3'])} |",
        f"| says it does not know (procedure not in the catalog) | {result.unknown} | {result.unknown_right} "
        f"| {pct(result.unknown_rate)} | |",
        "",
        "| kind | questions | top-1 | top-3 |",
        "| --- | --- | --- | --- |",
    ]
    for kind in RANKED_KINDS:
        n, one, three = result.by_kind.get(kind, [0, 0, 0])
        if n:
            lines.append(f"| {kind} | {n} | {pct(one / n)} | {pct(three / n)} |")
    lines.append("")
    lines.append(f'"Does not know" judged by: {result.judged_by}.')
    return "\n".join(lines)

"""The assistant's quality on the held-out question set (tests/assistant/data/questions.json) over
the full catalog (both catalog files, synonyms, FAQ entries): the issue's goals, asserted so that a
change that makes ranking worse fails here, with the misses printed (pytest -s, or on failure).

Figures for docs/assistant.md: `.venv/bin/python scripts/assistant_quality.py`."""

import re

import pytest

from chinhquyenso.assistant import index
from chinhquyenso.procedures.models import Procedure
from tests.assistant import quality

pytestmark = pytest.mark.slow  # the full catalog (~900 procedures) and ~340 questions asked

# Regression guards beside the issue's goals (figures when written: 96,8 % and 3,9 %).
MIN_SAYS_UNKNOWN = 0.9
MAX_CONFIDENTLY_WRONG = 0.08


@pytest.fixture(autouse=True)
def fresh_index():
    index.invalidate()
    yield


@pytest.fixture(scope="module")
def answered(full_catalog, django_db_blocker):
    """answers.ask's answer to every question of the set but the dossier ones, asked once."""
    if not quality.has_answers():
        pytest.skip("chinhquyenso.assistant.answers (answers.ask) is not in the tree yet")
    from chinhquyenso.assistant import answers

    index.invalidate()
    with django_db_blocker.unblock():
        return {q["question"]: answers.ask(q["question"]) for q in quality.questions() if q["kind"] != "dossier_status"}


def test_the_question_set_is_what_the_issue_asks_for():
    items = quality.questions()
    assert len(items) >= 300
    kinds = {q["kind"] for q in items}
    assert {"find", "fee", "time", "papers", "dossier_status", "unknown"} <= kinds
    assert all(q["expected"] for q in items if q["kind"] in quality.RANKED_KINDS)


def test_every_expected_procedure_is_in_the_catalog(full_catalog, db):
    expected = {c for q in quality.questions() for c in q["expected"]}
    assert expected <= set(Procedure.objects.values_list("code", flat=True))


def test_ranking_meets_the_goals(full_catalog, db):
    result = quality.evaluate(use_answers=False)
    print(f"\n{quality.figures_table(result)}\n" + "\n".join(result.misses))
    assert result.ranked >= 300
    assert result.top3_rate >= quality.GOALS["top3"], "\n".join(result.misses)
    assert result.top1_rate >= quality.GOALS["top1"], "\n".join(result.misses)


def test_the_variant_prior_prefers_the_base_procedure(full_catalog, db):
    """ "đăng ký hộ kinh doanh" means the base procedure, not its "Cấp lại …" variant; asked for
    the variant, the variant comes first."""
    assert index.search("đăng ký hộ kinh doanh", limit=1)[0].name == "Đăng ký thành lập hộ kinh doanh"
    assert index.search("cấp lại giấy đăng ký hộ kinh doanh", limit=1)[0].name.startswith("Cấp lại")
    hit = index.search("gia hạn tạm trú", limit=1)[0]
    assert hit.name == "Gia hạn tạm trú"  # not "… cho người nước ngoài tại Việt Nam"
    variant = next(h for h in index.search("gia hạn tạm trú", limit=5) if "người nước ngoài" in h.name)
    assert any(c.field == "variant" and c.score < 0 for c in variant.explanation)
    assert any("biến thể" in line for line in index.explain(variant))


def test_the_assistant_says_it_does_not_know(answered, db):
    """Questions about procedures outside the catalog (visa, tax, weather…) are answered "not
    sure" (with suggestions and a link), and few catalog questions get a confident wrong answer."""
    result = quality.evaluate(use_answers=True, ask=answered.__getitem__)
    print(f"\n{quality.figures_table(result)}\n" + "\n".join(m for m in result.misses if m[:5] in ("KNOWS", "WRONG")))
    assert result.unknown >= 30
    assert result.unknown_rate >= MIN_SAYS_UNKNOWN
    assert result.wrong_confident <= MAX_CONFIDENTLY_WRONG * result.ranked


# ---------------------------------------------------------------------- facts against the catalog

MONEY = re.compile(r"(\d{1,3}(?:\.\d{3})+|\d+) đồng")
DAYS = re.compile(r"(\d+(?:,\d+)?) ngày làm việc")
PERCENT = re.compile(r"giảm (\d+) ?%")
# A paper in a composed answer ("- Tờ khai …: 1 bản chính") or a FAQ answer ("gồm: A (1 bản chính); B …").
PAPER_LINE = re.compile(r"^- ([^:\n]+)(?::[^:\n]*)?$", re.M)
PAPER_LIST = re.compile(r"gồm: (.+?)\.?$", re.M)
COUNTS = re.compile(r" \((?:\d+ bản [^)]*|[^)]*không bắt buộc)\)$")


def facts(text: str) -> dict[str, set]:
    papers = {m.strip() for m in PAPER_LINE.findall(text)}
    for listed in PAPER_LIST.findall(text):
        papers |= {COUNTS.sub("", p.strip()) for p in listed.split(";") if p.strip()}
    return {
        "money": {int(m.replace(".", "")) for m in MONEY.findall(text)},
        "days": {float(m.replace(",", ".")) for m in DAYS.findall(text)},
        "percent": {int(m) for m in PERCENT.findall(text)},
        "papers": papers,
    }


def catalog_facts(procedure) -> dict[str, set]:
    components = list(procedure.components.all())
    return {
        "money": {0, procedure.fee, procedure.charge, procedure.amount_due(False), procedure.amount_due(True)},
        "days": {float(procedure.processing_days)},
        "percent": {procedure.online_discount_percent},
        "papers": {c.name for c in components} | {c.label for c in components},
    }


def test_the_fact_extraction_sees_what_an_answer_states():
    text = (
        "Theo danh mục, thủ tục “X” thu lệ phí 100.000 đồng: nộp trực tiếp là 100.000 đồng.\n"
        "Nộp trực tuyến được giảm 50%, còn 50.000 đồng. Thời hạn là 3 ngày làm việc.\n"
        "Hồ sơ gồm:\n- Tờ khai: 1 bản chính\n- Giấy chứng sinh\n"
        "Theo danh mục, hồ sơ gồm: Đơn đề nghị (1 bản chính); Văn bản ủy quyền (nếu nộp thay) (1 bản chính, không bắt buộc)."
    )
    assert facts(text) == {
        "money": {100_000, 50_000},
        "days": {3.0},
        "percent": {50},
        "papers": {"Tờ khai", "Giấy chứng sinh", "Đơn đề nghị", "Văn bản ủy quyền (nếu nộp thay)"},
    }


def test_every_fact_in_an_answer_is_in_the_cited_procedure(answered, db):
    """Every money amount, day count, discount and paper an answer states is in the catalog fields
    of the procedure it cites: over every catalog question of the set answered with confidence."""
    checked, wrong = 0, []
    for q in quality.questions():
        if q["kind"] not in quality.RANKED_KINDS:
            continue
        answer = answered[q["question"]]
        if not answer.confident or not answer.procedures:
            continue
        procedure = Procedure.objects.prefetch_related("components").get(code=answer.procedures[0]["code"])
        stated, known = facts(answer.text), catalog_facts(procedure)
        checked += 1
        for kind, values in stated.items():
            if not values <= known[kind]:
                wrong.append(f"{q['id']} {procedure.code}: {kind} {sorted(values - known[kind])} not in the catalog")
    assert checked >= 150
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "kind, said",
    [
        ("fee", ("phí", "đồng")),
        ("time", ("ngày làm việc",)),
        ("papers", ("gồm", "thành phần hồ sơ")),
        ("online", ("trực tuyến",)),
        ("legal_basis", ("căn cứ", "Căn cứ")),
    ],
)
def test_an_answer_is_about_what_was_asked(answered, db, kind, said):
    """A fee question answered with confidence states the fee (or that there is none), a time
    question the time, …: not another FAQ entry of the same procedure."""
    off = []
    for q in quality.questions():
        if q["kind"] != kind:
            continue
        answer = answered[q["question"]]
        if answer.confident and not any(word in answer.text for word in said):
            off.append(f"{q['id']} {q['question']!r}: {answer.text.splitlines()[0]}")
    assert not off, "\n".join(off)

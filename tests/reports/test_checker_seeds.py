"""`cqs report check` on the seeds: exactly these figures are wrong, exactly these verified.

Each finding was checked by hand (docs/reports.md lists them with the arithmetic).

The seeds themselves live outside the repository (../shared/seeds), so the lines the findings come
from are kept here, in tests/reports/data/seeds/ (each line with its number in the seed): these
tests run in every clone. Where the seeds are there (CQS_SEEDS_DIR points elsewhere), one more
test checks that those lines are the seeds' own and that the full seeds give the same findings.
"""

import os
from pathlib import Path

import pytest

from chinhquyenso.reports.checker import CheckReport, SourceLine, check_file, check_lines, extract_lines

HERE = Path(__file__).resolve().parent
EXCERPTS = HERE / "data" / "seeds"
SEEDS = Path(os.environ.get("CQS_SEEDS_DIR") or HERE.parents[1].parent / "shared" / "seeds")


def excerpt(prefix: str) -> list[SourceLine]:
    """The seed's lines kept in tests/reports/data/seeds/<prefix>.txt ('number<TAB>text', no trailing blanks; '#' starts a comment)."""
    lines = []
    for row in (EXCERPTS / f"{prefix}.txt").read_text(encoding="utf-8").splitlines():
        if not row.startswith("#"):
            number, _, text = row.partition("\t")
            lines.append(SourceLine(int(number), text))
    return lines


def check(prefix: str) -> CheckReport:
    return check_lines(excerpt(prefix), source=f"seed {prefix}")


# (line, kind, printed, should be)
ERRORS = {
    "000": [],
    "001": [
        (99, "ratio", "94,2%", "95,2%"),  # 179/188 = 95,21%
        (192, "rounding", "95,98%", "95,99%"),  # 383/399 = 95,9899%
        (237, "rounding", "165,2%", "165,3%"),  # 1.697.083/1.026.794 = 165,2797%
        (237, "rounding", "109,85%", "109,86%"),  # 1.127.989/1.026.794 = 109,8554%
    ],
    "002": [(551, "ratio", "85,7%", "78,6%")],  # 11/14 = 78,57%
    "003": [
        (263, "ratio", "94,2%", "95,2%"),  # printed 179/18810: footnote 10 stuck to 188
        (617, "rounding", "95,98%", "95,99%"),
        (793, "rounding", "165,2%", "165,3%"),
        (793, "rounding", "109,85%", "109,86%"),
    ],
    "004": [(697, "rounding", "94,8%", "94,9%")],  # 37 approved of 39 = 94,87%
}

# (line, kind, printed)
VERIFIED = {
    "000": [(164, "total", "19.673"), (285, "total", "6.517"), (573, "ratio", "41,5%"), (792, "ratio", "33,3%")],
    "001": [
        (117, "total", "188"),
        (137, "total", "304"),
        (147, "ratio", "100%"),
        (163, "total", "1916"),
        (163, "ratio", "100%"),
        (190, "total", "399"),
    ],
    "002": [(452, "ratio", "98,9%"), (477, "total", "02"), (477, "total", "14"), (482, "total", "180")],
    "003": [
        (311, "total", "188"),
        (404, "total", "304"),
        (434, "ratio", "100%"),
        (502, "total", "1916"),
        (506, "ratio", "100%"),
        (613, "total", "399"),
    ],
    "004": [
        (187, "total", "262"),
        (447, "total", "2.119"),
        (675, "ratio", "33,3%"),
        (695, "ratio", "100%"),
        (697, "total", "37"),
    ],
}


@pytest.mark.parametrize("prefix", sorted(ERRORS))
def test_seed_findings(prefix):
    report = check(prefix)
    assert [(item.line, item.kind, item.printed, item.expected) for item in report.errors] == ERRORS[prefix]
    assert sorted((item.line, item.kind, item.printed) for item in report.verified) == sorted(VERIFIED[prefix])


def test_markdown_and_pdf_extractions_of_one_report_agree():
    """Seed 001 (Markdown) and 003 (PDF text, lines broken, footnotes stuck to words) are the same report."""
    markdown, pdf = check("001"), check("003")
    assert [(item.kind, item.printed, item.expected) for item in markdown.errors] == [
        (item.kind, item.printed, item.expected) for item in pdf.errors
    ]
    assert sorted((item.kind, item.printed) for item in markdown.verified) == sorted(
        (item.kind, item.printed) for item in pdf.verified
    )


def test_seed_002_ratio_across_a_footnote_line():
    """'11/14' then the footnote number 15 on a line of its own, then ' cơ quan, tỷ lệ 85,7%'."""
    [error] = check("002").errors
    assert error.excerpt == "11/14 cơ quan, tỷ lệ 85,7%"
    assert error.note == "11/14 = 78,5714…%"
    assert error.label == "sai tỷ lệ"


def test_seed_003_footnote_stuck_to_the_denominator():
    error = check("003").errors[0]
    assert error.excerpt == "179/18810 cơ quan, đạt tỉ lệ 94,2%"
    assert "179/188 = 95,2127…%" in error.note and "chú thích 10" in error.note


def test_seed_001_whole_stated_nearby():
    error = check("001").errors[1]
    assert error.excerpt == "383 phản ánh, kiến nghị (đạt 95,98%)"
    assert "383/399" in error.note and "dòng 190" in error.note
    assert error.label == "sai làm tròn"


def test_seed_001_total_of_services_adds_up():
    """'1916 dịch vụ. Trong đó: … 319 DVC; … 697 DVC; … 900 DVC' is right and reported as verified."""
    total = next(item for item in check("001").verified if item.printed == "1916")
    assert total.ok and total.note == "319 + 697 + 900 = 1.916"


def facts(report: CheckReport) -> list[tuple]:
    return [
        (item.line, item.kind, item.ok, item.printed, item.expected, item.excerpt, item.note)
        for item in report.errors + report.verified
    ]


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the full seeds are not here ({SEEDS}); their excerpts were checked")
@pytest.mark.parametrize("prefix", sorted(ERRORS))
def test_excerpts_are_the_seeds_own_lines(prefix):
    """The kept lines are the seed's lines, word for word and at their numbers, and checking the whole
    seed finds exactly what checking the kept lines finds (nothing the excerpt leaves out matters)."""
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    whole = {line.number: line.text.rstrip() for line in extract_lines(path)}  # kept without trailing blanks
    kept = excerpt(prefix)
    assert [(line.number, line.text) for line in kept] == [(line.number, whole[line.number]) for line in kept]
    assert facts(check_file(path)) == facts(check(prefix))

"""Small-cell suppression of the live datasets: no published count derived from personal data (dossiers,
feedback reports) lies between 1 and CQS["OPENDATA_SMALL_CELL"]-1, and nothing published lets a hidden
count be recomputed — no total row or column, no part whose difference to its whole is small, no
quarterly rate built from a hidden monthly count."""

import datetime as dt
import itertools
import random
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from chinhquyenso.indicators.models import DossierMonthFact
from chinhquyenso.opendata import live
from tests.conftest import vn

pytestmark = pytest.mark.django_db

LABELS = {"whole": "Tổng", "part": "Phần", "other": "Khác"}


def test_primary_suppression_hides_counts_below_the_limit():
    published, note = live.suppress({"whole": 12, "part": 3, "other": 0}, {}, LABELS)
    assert published == {"whole": 12, "part": None, "other": 0}
    assert note == "<5: Phần"


def test_a_part_whose_difference_to_its_whole_is_small_is_hidden_too():
    # 7 received, 5 online: publishing both would reveal 2 received at the counter.
    published, note = live.suppress({"whole": 7, "part": 5}, {"part": "whole"}, LABELS)
    assert published == {"whole": 7, "part": None}
    assert "để trống để không suy ra ô nhỏ hơn 5: Phần" in note
    # A difference of 0 or of at least 5 reveals nothing small.
    assert live.suppress({"whole": 7, "part": 7}, {"part": "whole"}, LABELS)[0] == {"whole": 7, "part": 7}
    assert live.suppress({"whole": 12, "part": 5}, {"part": "whole"}, LABELS)[0] == {"whole": 12, "part": 5}
    # A small whole hides its parts with it (they are no larger).
    assert live.suppress({"whole": 3, "part": 2}, {"part": "whole"}, LABELS)[0] == {"whole": None, "part": None}


def test_the_limit_is_a_setting(settings):
    settings.CQS = {**settings.CQS, "OPENDATA_SMALL_CELL": 10}
    published, note = live.suppress({"whole": 9, "part": 0}, {"part": "whole"}, LABELS)
    assert published == {"whole": None, "part": 0}
    assert note == "<10: Tổng"


def _count_columns(header, names):
    return [header.index(name) for name in names]


def _assert_no_small_cell(table, counts: dict, parts: dict):
    limit = live.small_cell()
    columns = dict(zip(counts, _count_columns(table.header, counts.values()), strict=True))
    for row in table.rows:
        for name, index in columns.items():
            value = row[index]
            assert value == "" or not (0 < value < limit), (name, row)
        for part, whole in parts.items():
            a, b = row[columns[part]], row[columns[whole]]
            if a != "" and b != "":
                assert not (0 < b - a < limit), (part, whole, row)
        hidden = [name for name, index in columns.items() if row[index] == ""]
        assert bool(hidden) == bool(row[table.header.index(live.NOTE)])


@pytest.fixture
def dossier_facts(province):
    """Random monthly facts over two quarters for every agency, many of them small."""
    rng = random.Random(22)
    rows = []
    for agency, month in itertools.product(province.values(), [dt.date(2025, m, 1) for m in range(1, 7)]):
        received = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 40, 300])
        finished = rng.choice([0, 2, 4, 5, 8, 30, 250])
        rows.append(
            DossierMonthFact(
                agency=agency,
                month=month,
                service_level="full_online",
                received=received,
                received_online=rng.randint(0, received),
                received_digitized=rng.randint(0, received),
                finished=finished,
                finished_early=(early := rng.randint(0, finished)),
                finished_on_time=rng.randint(0, finished - early),
                finished_electronic=rng.randint(0, finished),
            )
        )
    DossierMonthFact.objects.bulk_create(rows)
    return rows


def test_no_published_dossier_count_is_small_and_no_total_is_published(dossier_facts):
    [table] = live.build_dossiers(dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    assert len(table.rows) == sum(
        1 for f in dossier_facts if any((f.received, f.finished))
    )  # one row per agency and month with something to count; no total rows
    _assert_no_small_cell(table, live.DOSSIER_COUNTS, live.DOSSIER_PARTS)
    assert all(row[0] for row in table.rows)  # every row is one agency's: no "Tổng" row
    assert any(row[-1].startswith("<5") for row in table.rows)
    assert any("để trống để không suy ra" in row[-1] for row in table.rows)


def test_quarterly_rates_are_published_only_from_published_months(dossier_facts, registry):
    start, end = dt.date(2025, 1, 1), dt.date(2025, 6, 30)
    [months] = live.build_dossiers(start, end)
    quarters, _province = live.build_indicators(start, end)
    header = months.header
    by_agency_quarter: dict = {}
    for row in months.rows:
        month = dt.date.fromisoformat(row[2] + "-01")
        by_agency_quarter.setdefault((row[0], f"{month.year}-Q{(month.month - 1) // 3 + 1}"), []).append(row)
    published_rates = 0
    for row in quarters.rows:
        cells = by_agency_quarter[(row[0], row[2])]
        hidden = any(cell == "" for r in cells for cell in r[3 : 3 + len(live.DOSSIER_COUNTS)])
        rates = row[4 : 4 + len(live.RATES)]
        if hidden:
            assert row[3] == ""  # the 766 score too
            assert row[-1]
        for rate, (numerator, denominator) in zip(rates, live.RATES.values(), strict=True):
            n_col, d_col = header.index(live.DOSSIER_COUNTS[numerator]), header.index(live.DOSSIER_COUNTS[denominator])
            inputs = [r[n_col] for r in cells] + [r[d_col] for r in cells]
            if "" in inputs:
                assert rate == "", (row, numerator)
            elif rate != "":
                # What is published is exactly what the published monthly counts give.
                expected = Decimal(sum(r[n_col] for r in cells)) * 100 / Decimal(sum(r[d_col] for r in cells))
                assert Decimal(rate) == expected.quantize(Decimal("0.1"))
                published_rates += 1
    assert published_rates > 0


def test_no_published_feedback_count_is_small(province):
    from chinhquyenso.feedback.models import Category, Feedback, Status

    category = Category.objects.create(code="moi-truong", name="Môi trường")
    rng = random.Random(5)
    reports = []
    for area, month, n in itertools.product([province["xa_a"], province["xa_b"], None], [1, 2, 3], range(9)):
        if rng.random() < 0.5:
            continue
        received = vn(2025, month, 3 + n, 9)
        resolved = received + dt.timedelta(days=rng.choice([2, 20])) if rng.random() < 0.7 else None
        reports.append(
            Feedback(
                code=f"PA-{uuid.uuid4().hex[:10]}",
                token=uuid.uuid4().hex,
                category=category,
                description="Phản ánh thử",
                content_hash=uuid.uuid4().hex,
                area=area,
                status=Status.RESOLVED if resolved else Status.ASSIGNED,
                received_at=received,
                resolved_at=resolved,
                on_time=(resolved - received).days < 15 if resolved else None,
            )
        )
    Feedback.objects.bulk_create(reports)
    [table] = live.build_feedback(dt.date(2025, 1, 1), dt.date(2025, 4, 30))
    assert table.rows
    _assert_no_small_cell(table, live.FEEDBACK_COUNTS, live.FEEDBACK_PARTS)
    assert "Chưa xác định địa bàn" in {row[3] for row in table.rows}
    received_column = table.header.index(live.FEEDBACK_COUNTS["received"])
    published_total = sum(row[received_column] or 0 for row in table.rows)
    assert published_total <= len(reports)
    assert timezone.is_aware(reports[0].received_at)

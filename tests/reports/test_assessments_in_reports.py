"""Issue 17, items 9, 10, 11 (recipients): the 766 line prints its coverage
(one formatter with the dashboard), the 766 registry follows the reference
structure, the reported 766 indicators are collected by a default LRIS form,
a dossier asked for supplements twice is late (criterion 2.1), a year without
DX targets says so, and "Nơi nhận" follows the organization at the report's date."""

import datetime as dt
import importlib
import json
from decimal import Decimal

import pytest

from chinhquyenso.core.official.document import Bullet, Paragraph
from chinhquyenso.dashboard import selectors as dashboard
from chinhquyenso.dossiers import services as dossiers
from chinhquyenso.dossiers.models import Timeliness
from chinhquyenso.indicators import assessments
from chinhquyenso.indicators.models import Index766Rule, Indicator
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.indicators.selectors import PROVINCE, compute
from chinhquyenso.lris.models import FormItem
from chinhquyenso.lris.services import load_forms
from chinhquyenso.reports import services
from chinhquyenso.reports.services import DEFAULT_TEMPLATES
from tests.conftest import vn
from tests.datasets import PAPER, finish

pytestmark = pytest.mark.django_db


def _texts(document) -> list[str]:
    return [block.text for block in document.body if isinstance(block, Paragraph | Bullet)]


# ------------------------------------------------------------------ item 9


def test_the_766_line_prints_its_coverage_like_the_dashboard(templates):
    snapshot = services.take_snapshot(parse_period("2025-Q1"))
    document = services.build_document(templates["cds-quy"], snapshot)
    line = next(text for text in _texts(document) if "Bộ chỉ số 766" in text)
    index = assessments.index766(compute(parse_period("2025-Q1")), PROVINCE)
    assert index.scored_max == 64  # publication, sync (18) and satisfaction, feedback (18) have no data
    points = f"{index.points:.2f}".replace(".", ",")
    assert line.endswith(f"đạt {points}/100 điểm (tính trên 64/100 điểm có số liệu).")
    # the dashboard's tile note is the same words, from the same formatter
    note = dashboard.score_note(dashboard._score_value(index))
    assert note == "tính trên 64/100 điểm có số liệu" and note in line


def test_every_766_score_worded_once():
    assert assessments.index766_coverage(Decimal(100), Decimal(100)) == ""
    assert assessments.index766_coverage(Decimal("72.5"), Decimal(100)) == "tính trên 72,50/100 điểm có số liệu"


def test_766_registry_follows_the_reference_structure(registry):
    rules = {r.code: r for r in Index766Rule.objects.select_related("indicator")}
    # qd766.md 4.3: reuse of digitized data full at ≥ 80% (was 50%); 4.2 digitization and 3.3 online ≥ 80% / 50%
    assert rules["766-3-3"].threshold == 80
    assert (rules["766-3-1"].threshold, rules["766-4-2"].threshold, rules["766-5-2"].threshold) == (80, 50, 90)
    # every rule names the criterion of the decision it stands for
    for code, criterion in {
        "766-1-2": "tiêu chí 1.4",
        "766-2-1": "tiêu chí 2.1",
        "766-3-1": "tiêu chí 4.2",
        "766-3-3": "tiêu chí 4.3",
        "766-4-2": "tiêu chí 3.3",
        "766-5-2": "tiêu chí 5.4",
    }.items():
        assert criterion in rules[code].source, code
    assert all("qd766.md" in r.source and "tái dựng" in r.source for r in rules.values())


def test_every_reported_766_indicator_has_a_default_lris_form(registry, admin_user):
    load_forms(actor=admin_user)
    reported = set(
        Index766Rule.objects.filter(indicator__source=Indicator.Source.REPORTED).values_list(
            "indicator__code", flat=True
        )
    )
    assert reported == {"tthc_published_rate", "national_portal_sync_rate", "satisfaction_rate"}
    collected = set(FormItem.objects.filter(form__is_active=True).values_list("indicator__code", flat=True))
    assert reported <= collected


def test_a_dossier_asked_for_supplements_twice_is_late(province, officers, birth_procedure, citizen):
    a = officers["xa_a"]
    once = dossiers.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        at=vn(2025, 3, 3, 8),
    )
    twice = dossiers.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=PAPER,
        at=vn(2025, 3, 3, 8),
    )
    for dossier, requests in ((once, 1), (twice, 2)):
        dossiers.accept(dossier, actor=a["counter_officer"], at=vn(2025, 3, 3, 9))
        for n in range(requests):
            dossiers.request_supplement(
                dossier, actor=a["specialist"], items=[f"Bổ sung lần {n + 1}"], at=vn(2025, 3, 4, 9 + 2 * n)
            )
            dossiers.supplement(dossier, actor=a["counter_officer"], at=vn(2025, 3, 4, 10 + 2 * n))
        finish(dossier, a, at=vn(2025, 3, 5, 9))  # well before the appointment (3 working days)
        dossier.refresh_from_db()
    assert once.timeliness == Timeliness.EARLY
    assert twice.timeliness == Timeliness.LATE  # QĐ 766, tiêu chí 2.1: more than one supplement request


# ------------------------------------------------------------------ item 10


def test_a_year_without_targets_says_so_instead_of_an_empty_table(templates):
    snapshot = services.take_snapshot(parse_period("2026-9M"))
    assert snapshot["targets"] == []
    document = services.build_document(templates["cds-9-thang"], snapshot)
    (appendix,) = document.appendices
    assert appendix.table is None
    assert appendix.note.startswith("Chưa có chỉ tiêu kế hoạch chuyển đổi số cho năm 2026")
    assert any(text.startswith("Chưa có chỉ tiêu kế hoạch chuyển đổi số cho năm 2026") for text in _texts(document))
    assert not any("Phụ lục kết quả thực hiện mục tiêu" in text for text in _texts(document))
    for fmt in ("docx", "pdf"):  # both writers print the note
        assert services.render(document, fmt)
    # a year with targets keeps its table
    with_targets = services.build_document(templates["cds-9-thang"], services.take_snapshot(parse_period("2025-9M")))
    assert with_targets.appendices[0].table is not None and with_targets.appendices[0].table.rows


# ------------------------------------------------------------------ item 11 (recipients)


@pytest.mark.parametrize("code", ["cds-9-thang", "cqdt-thang", "cds-quy"])
def test_recipients_follow_the_organization_at_the_report_date(templates, code):
    snapshot = services.take_snapshot(parse_period("2025-Q1"))
    before = services.build_document(templates[code], snapshot, issued_on=dt.date(2025, 6, 30), number=5)
    after = services.build_document(templates[code], snapshot, issued_on=dt.date(2025, 7, 1), number=5)
    assert "UBND huyện, thị xã, thành phố;" in before.recipients
    assert "UBND các xã, phường, đặc khu;" not in before.recipients
    assert "UBND huyện, thị xã, thành phố;" not in after.recipients
    assert "UBND các xã, phường, đặc khu;" in after.recipients
    assert all(isinstance(line, str) for line in after.recipients)


def test_installed_templates_are_migrated_to_the_new_defaults():
    """Migration 0004 turns the old default texts into exactly what the defaults file says now."""
    migration = importlib.import_module("chinhquyenso.reports.migrations.0004_default_templates_new_wording")
    defaults = json.loads(DEFAULT_TEMPLATES.read_text(encoding="utf-8"))["templates"]
    texts = {block.get("text") for t in defaults for block in t["body"]}
    assert set(migration.TEXTS.values()) <= texts
    assert all(migration.DATED_RECIPIENTS == [r for r in t["recipients"] if isinstance(r, dict)] for t in defaults)


# ------------------------------------------------------------------ item 3 in reports


def _payment_line(templates, figure: dict) -> str:
    snapshot = services.take_snapshot(parse_period("2025-Q1"))
    snapshot["indicators"]["online_payment_rate"].update(figure)
    document = services.build_document(templates["cds-quy"], snapshot)
    return next(text for text in _texts(document) if "thanh toán trực tuyến" in text)


def test_a_figure_without_data_reads_as_such_in_the_report(templates):
    line = _payment_line(templates, {"value": None, "display": "không có số liệu", "missing": 3})
    assert "tỷ lệ thanh toán trực tuyến không có số liệu" in line
    assert "đạt không có số liệu" not in line
    partial = _payment_line(templates, {"value": 40.0, "display": "40,0%", "missing": 3})
    assert "tỷ lệ thanh toán trực tuyến đạt 40,0% (3 hồ sơ thiếu dữ liệu, không tính)" in partial


def test_the_migration_words_installed_figures_the_new_way():
    migration = importlib.import_module("chinhquyenso.reports.migrations.0004_default_templates_new_wording")
    old = "tỷ lệ thanh toán trực tuyến đạt {{ v.online_payment_rate }}; trễ hạn {{ v.late_rate }}"
    assert migration.REACHED.sub(r"{{ v.\1.reached }}", old) == (
        "tỷ lệ thanh toán trực tuyến {{ v.online_payment_rate.reached }}; trễ hạn {{ v.late_rate }}"
    )

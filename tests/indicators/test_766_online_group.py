"""Issue 17, item 9: the 766 online-service group ("truc-tuyen", 22 points)
follows qd766.md — criterion 3.1 (procedures offered online, full at ≥ 80%)
and 3.5 (fee-bearing procedures integrated with online payment, full at
≥ 80%) are scored from the catalog, the group's points follow the live split,
and an installation loaded before gets the change without losing its edits."""

import datetime as dt
import importlib
import json
from decimal import Decimal

import pytest
from django.apps import apps

from chinhquyenso.indicators.assessments import index766, score_rule
from chinhquyenso.indicators.models import FormulaVersion, Index766Group, Index766Rule, Indicator
from chinhquyenso.indicators.periods import parse_period
from chinhquyenso.indicators.selectors import PROVINCE, compute, find_unit
from chinhquyenso.indicators.services import DEFAULT_REGISTRY
from chinhquyenso.procedures.models import ProcedureAgency
from tests.conftest import make_procedure

pytestmark = pytest.mark.django_db
D = Decimal
MIGRATION = "chinhquyenso.indicators.migrations.0005_index766_online_group"
NEW_CODES = ("online_service_procedure_rate", "online_payment_procedure_rate")


def _procedure(admin_user, agencies, code, service_level, fee=0, charge=0):
    return make_procedure(
        admin_user,
        agencies,
        code=code,
        name=f"Thủ tục {code}",
        levels=["province"],
        service_level=service_level,
        fee=fee,
        charge=charge,
        online_discount_percent=0,
    )


@pytest.fixture
def catalog(registry, province, birth_procedure, admin_user):
    """Q1/2025. Birth (full online, charge 8.000 đ) at both communes; at Sở Tư
    pháp an information-only procedure without fee, a partly online one
    without fee, an information-only one with a fee; at Công an tỉnh a
    fee-bearing online procedure whose assignment ended in 2024 and one that
    begins after the quarter (neither handled in Q1)."""
    tu_phap, cong_an = province["tu_phap"], province["cong_an"]
    _procedure(admin_user, [tu_phap], "2.000001", "info_only")
    _procedure(admin_user, [tu_phap], "2.000002", "partly_online")
    _procedure(admin_user, [tu_phap], "2.000003", "info_only", fee=50000)
    ended = _procedure(admin_user, [], "2.000004", "full_online", charge=10000)
    ProcedureAgency.objects.create(
        procedure=ended, agency=cong_an, valid_from=dt.date(2024, 1, 1), valid_to=dt.date(2025, 1, 1)
    )
    later = _procedure(admin_user, [], "2.000005", "full_online", fee=20000)
    ProcedureAgency.objects.create(procedure=later, agency=cong_an, valid_from=dt.date(2025, 4, 1))
    return province


def _fraction(computation, code, unit=PROVINCE):
    value = computation.get(code, unit)
    return value.numerator, value.denominator, value.rounded


def test_procedures_handled_online_and_fee_bearing_are_counted_from_the_catalog(catalog):
    c = compute(parse_period("2025-Q1"))
    # province: birth + the three of Sở Tư pháp (the ended and the later assignment are outside Q1)
    assert _fraction(c, "online_service_procedure_rate") == (2, 4, D("50.0"))  # birth, the partly online one
    assert _fraction(c, "online_payment_procedure_rate") == (1, 2, D("50.0"))  # birth, of birth and 2.000003
    assert c.get("online_service_procedure_rate").fraction == "2/4 thủ tục"
    tu_phap = find_unit(c, "so-tu-phap").id
    assert _fraction(c, "online_service_procedure_rate", tu_phap) == (1, 3, D("33.3"))
    assert _fraction(c, "online_payment_procedure_rate", tu_phap) == (0, 1, D("0.0"))
    # the district: birth is handled by both communes, one procedure
    district = find_unit(c, "ubnd-cho-moi").id
    assert _fraction(c, "online_service_procedure_rate", district) == (1, 1, D("100.0"))
    assert _fraction(c, "online_payment_procedure_rate", district) == (1, 1, D("100.0"))
    # nothing handled: nothing to measure, not 0%
    cong_an = find_unit(c, "cong-an-tinh").id
    assert c.get("online_service_procedure_rate", cong_an).value is None
    # any set of units (e-government assessment's scopes): procedures counted once
    either = c.value_over("online_service_procedure_rate", [tu_phap, find_unit(c, "xa-kien-an").id])
    assert (either.numerator, either.denominator) == (2, 4)


def test_the_new_criteria_are_scored(catalog):
    result = index766(compute(parse_period("2025-Q1")), PROVINCE)
    scores = {r.rule.code: r for g in result.groups for r in g.rules}
    assert scores["766-4-4"].points == D("1.25")  # 3.1: 50% of the 80% threshold → 2 × 50/80
    assert scores["766-4-5"].points == D("1.25")  # 3.5: the same
    rules = {r.code: r for r in Index766Rule.objects.filter(code__in=["766-4-4", "766-4-5"])}
    for rule in rules.values():  # full points at ≥ 80%
        assert score_rule(rule, D(80)) == score_rule(rule, D(100)) == 2
        assert score_rule(rule, D(40)) == 1


def test_the_online_group_follows_the_live_split(registry):
    group = Index766Group.objects.get(code="truc-tuyen")
    rules = list(group.rules.order_by("order"))
    assert group.max_points == 22 and sum(r.max_points for r in rules) == 22
    # qd766.md, group 3: min(2, 2·A/0,8) + 4·B + min(6, 6·C/0,5); payment 2 / 2 / 6, the second 2 given to 3.6
    assert [(r.code, r.indicator.code, r.max_points, r.method, r.threshold) for r in rules] == [
        ("766-4-4", "online_service_procedure_rate", 2, "proportional", 80),
        ("766-4-1", "services_with_online_dossier_rate", 4, "proportional", 100),
        ("766-4-2", "online_rate_online_services", 6, "proportional", 50),
        ("766-4-5", "online_payment_procedure_rate", 2, "proportional", 80),
        ("766-4-3", "online_payment_rate", 8, "proportional", 50),
    ]
    criteria = ["tiêu chí 3.1", "tiêu chí 3.2", "tiêu chí 3.3", "tiêu chí 3.5", "tiêu chí 3.6"]
    for rule, criterion in zip(rules, criteria, strict=True):
        assert criterion in rule.source and "chưa xác minh" in rule.source and "qd766.md" in rule.source
    assert "không xác định được" in rules[-1].source  # where the unidentified 2 payment points went
    for code in NEW_CODES:
        indicator = Indicator.objects.get(code=code)
        assert indicator.count_unit == "thủ tục" and indicator.formulas.count() == 1
    assert "phí > 0 hoặc lệ phí > 0" in Indicator.objects.get(code="online_payment_procedure_rate").description


# ------------------------------------------------------------------ migration


def _as_shipped():
    """The registry as an installation loaded it before this change."""
    migration = importlib.import_module(MIGRATION)
    Index766Rule.objects.filter(code__in=[r["code"] for r in migration.NEW_RULES]).delete()
    Indicator.objects.filter(code__in=NEW_CODES).delete()
    for code, (before, _) in migration.SOURCES.items():
        Index766Rule.objects.filter(code=code).update(source=before)
    for code, (before, _) in migration.POINTS.items():
        Index766Rule.objects.filter(code=code).update(max_points=before)
    for code, (before, _) in migration.ORDERS.items():
        Index766Rule.objects.filter(code=code).update(order=before)
    Index766Rule.objects.filter(code="766-3-3").update(threshold=50)
    return migration


def _rules() -> dict:
    return {
        r.code: (r.group.code, r.indicator.code, r.max_points, r.method, r.threshold, r.source, r.order)
        for r in Index766Rule.objects.select_related("group", "indicator")
    }


def test_the_migration_brings_an_installed_registry_to_the_new_defaults(registry):
    fresh = _rules()
    migration = _as_shipped()
    assert _rules()["766-4-2"][2] == 10 and "766-4-4" not in _rules()
    migration.follow_the_reference(apps, None)
    assert _rules() == fresh
    for code in NEW_CODES:
        formula = FormulaVersion.objects.get(indicator__code=code)
        assert (formula.version, formula.scale, formula.valid_from) == (1, 100, dt.date(2000, 1, 1))
    migration.follow_the_reference(apps, None)  # twice: nothing more
    assert _rules() == fresh and Indicator.objects.filter(code__in=NEW_CODES).count() == 2


def test_the_migration_keeps_what_the_province_edited(registry):
    migration = _as_shipped()
    Index766Rule.objects.filter(code="766-3-3").update(threshold=60, source="Tỉnh tự quy định.")
    Index766Rule.objects.filter(code="766-4-2").update(max_points=12)  # the province's own split: 6 / 12 / 4
    Index766Rule.objects.filter(code="766-4-3").update(max_points=4)
    migration.follow_the_reference(apps, None)
    rules = {r.code: r for r in Index766Rule.objects.all()}
    assert (rules["766-3-3"].threshold, rules["766-3-3"].source) == (60, "Tỉnh tự quy định.")
    assert [rules[c].max_points for c in ("766-4-1", "766-4-2", "766-4-3")] == [6, 12, 4]
    # the new criteria are there, without points until the province gives them some
    assert rules["766-4-4"].max_points == rules["766-4-5"].max_points == 0
    assert "Chưa tính điểm" in rules["766-4-4"].source
    assert sum(r.max_points for r in rules.values() if r.group.code == "truc-tuyen") == 22
    # what the province did not edit still follows the defaults
    assert "tiêu chí 3.3" in rules["766-4-2"].source and rules["766-1-1"].source.startswith("QĐ 766")


def test_the_migration_waits_for_the_registry_when_none_is_loaded(db):
    importlib.import_module(MIGRATION).follow_the_reference(apps, None)
    assert not Indicator.objects.exists() and not Index766Rule.objects.exists()


def test_the_migration_carries_exactly_the_defaults():
    """The migration's copy of the data is what registry.json says now."""
    migration = importlib.import_module(MIGRATION)
    data = json.loads(DEFAULT_REGISTRY.read_text(encoding="utf-8"))
    rules = {r["code"]: (r, order) for g in data["index766"] for order, r in enumerate(g["rules"], start=1)}
    for code, (_, now) in migration.SOURCES.items():
        assert rules[code][0]["source"] == now, code
    for code, (_, now) in {**migration.POINTS, **migration.THRESHOLDS}.items():
        assert now in (rules[code][0]["max_points"], rules[code][0]["threshold"]), code
    for code, (_, now) in migration.ORDERS.items():
        assert rules[code][1] == now, code
    for item in migration.NEW_RULES:
        rule, order = rules[item["code"]]
        assert {**rule, "order": order, "steps": None} == {**item, "steps": None}
    indicators = {i["code"]: i for i in data["indicators"]}
    for item in migration.NEW_INDICATORS:
        formula = indicators[item["code"]].pop("formula")
        assert indicators[item["code"]] == item
        assert migration.FORMULAS[item["code"]] == (formula["numerator"], formula["denominator"])

"""Writes for indicators: keeping dossier facts current, formula versions,
reported values, loading the registry from data."""

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from chinhquyenso.core import audit
from chinhquyenso.core.calendar import LOCAL_TZ
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import nfc
from chinhquyenso.dossiers.models import Dossier, DossierComponent, Payment
from chinhquyenso.indicators.formulas import compile_expression
from chinhquyenso.indicators.models import (
    DossierFact, EGovCriterion, FormulaVersion, Index766Group, Index766Rule, Indicator, ReportedValue, StaleDossier,
    Target,
)
from chinhquyenso.org.models import Agency

DEFAULT_REGISTRY = Path(__file__).parent / "data" / "registry.json"

# ------------------------------------------------------------------ facts

RECEIVED = {
    "received": Count("id"),
    "received_online": Count("id", filter=Q(channel="online")),
    "received_counter": Count("id", filter=Q(channel="counter")),
    "received_post": Count("id", filter=Q(channel="post")),
    "received_digitized": Count("id", filter=Q(digitized=True)),
    "received_reusing": Count("id", filter=Q(Exists(DossierComponent.objects.filter(
        dossier=OuterRef("pk"), reused_from__isnull=False)))),
    "with_fee": Count("id", filter=Q(fee_due__gt=0)),
    "paid_online": Count("id", filter=Q(fee_due__gt=0) & Q(Exists(Payment.objects.filter(
        dossier=OuterRef("pk"), method=Payment.Method.ONLINE)))),
}
FINISHED = {
    "finished": Count("id"),
    "finished_early": Count("id", filter=Q(timeliness="early")),
    "finished_on_time": Count("id", filter=Q(timeliness="on_time")),
    "finished_late": Count("id", filter=Q(timeliness="late")),
    "finished_electronic": Count("id", filter=Q(has_electronic_result=True)),
    "processing": Sum(F("finished_at") - F("accepted_at")),
}


def _aggregate(dossiers, start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[DossierFact]:
    """Facts for `dossiers`, by receiving agency, procedure and local day of
    acceptance (received_*) and of result (finished_*)."""
    facts: dict[tuple, dict] = defaultdict(dict)
    for anchor, columns in (("accepted_at", RECEIVED), ("finished_at", FINISHED)):
        rows = dossiers.filter(**{f"{anchor}__isnull": False, "accepted_at__isnull": False})
        if start is not None:
            rows = rows.filter(**{f"{anchor}__gte": start, f"{anchor}__lt": end})
        rows = (rows.annotate(day=TruncDate(anchor, tzinfo=LOCAL_TZ))
                .values("receiving_agency_id", "procedure_id", "day").annotate(**columns).order_by())
        for row in rows:
            key = (row.pop("receiving_agency_id"), row.pop("procedure_id"), row.pop("day"))
            if "processing" in row:
                spent = row.pop("processing")
                row["processing_seconds"] = int(spent.total_seconds()) if spent else 0
            facts[key].update(row)
    return [DossierFact(agency_id=a, procedure_id=p, day=d, **values) for (a, p, d), values in facts.items()]


def _lock_facts() -> None:
    """One refresher at a time (SQLite serializes writers by itself)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(766001)")


def rebuild_facts() -> int:
    """Aggregate every dossier again (after bulk loads, or to repair)."""
    with transaction.atomic():
        _lock_facts()
        StaleDossier.objects.all().delete()
        DossierFact.objects.all().delete()
        facts = _aggregate(Dossier.objects.all())
        DossierFact.objects.bulk_create(facts, batch_size=5000)
    return len(facts)


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=LOCAL_TZ)


def refresh_facts(batch: int = 2000) -> int:
    """Re-aggregate the days touched by dossiers changed since the last
    refresh. Returns how many change marks were consumed."""
    consumed = 0
    while True:
        with transaction.atomic():
            _lock_facts()
            marks = list(StaleDossier.objects.order_by("id").values_list("id", "dossier_id")[:batch])
            if not marks:
                return consumed
            spans: dict[tuple[int, int], list[dt.date]] = {}
            rows = Dossier.objects.filter(pk__in={d for _, d in marks}).values_list(
                "receiving_agency_id", "procedure_id", "accepted_at", "finished_at")
            for agency_id, procedure_id, accepted, finished in rows:
                for moment in (accepted, finished):
                    if moment:
                        day = moment.astimezone(LOCAL_TZ).date()
                        span = spans.setdefault((agency_id, procedure_id), [day, day])
                        span[0], span[1] = min(span[0], day), max(span[1], day)
            for (agency_id, procedure_id), (first, last) in spans.items():
                DossierFact.objects.filter(agency_id=agency_id, procedure_id=procedure_id,
                                           day__range=(first, last)).delete()
                dossiers = Dossier.objects.filter(receiving_agency_id=agency_id, procedure_id=procedure_id)
                DossierFact.objects.bulk_create(_aggregate(dossiers, _local_midnight(first),
                                                           _local_midnight(last + dt.timedelta(days=1))))
            StaleDossier.objects.filter(id__lte=marks[-1][0]).delete()
            consumed += len(marks)


def mark_dossier_changed(event) -> None:
    """Subscriber of dossier events: the dossier's facts are re-aggregated
    before the next read (selectors refresh first) or by the worker."""
    StaleDossier.objects.create(dossier_id=event.payload["dossier"])


def rebuild_facts_after_load(event) -> None:
    rebuild_facts()


# ------------------------------------------------------------ formulas


def add_formula_version(indicator: Indicator, *, actor, numerator: str, denominator: str = "", scale: int | None = None,
                        valid_from: dt.date, note: str = "") -> FormulaVersion:
    """A new version of a computed indicator's formula; earlier periods keep
    theirs, so past reports stay reproducible."""
    if indicator.source != Indicator.Source.COMPUTED:
        raise DomainError("Chỉ tiêu do cơ quan báo cáo không có công thức.", field="indicator")
    numerator, denominator = nfc(numerator).strip(), nfc(denominator).strip()
    if not numerator:
        raise DomainError("Công thức phải có tử số.", field="numerator")
    compile_expression(numerator, "numerator")
    if denominator:
        compile_expression(denominator, "denominator")
    with transaction.atomic():
        previous = indicator.formulas.order_by("-version").first()
        if previous and valid_from < previous.valid_from:
            raise DomainError(f"Ngày áp dụng phải từ {previous.valid_from:%d/%m/%Y} (phiên bản trước) trở đi.",
                              field="valid_from")
        version = FormulaVersion.objects.create(
            indicator=indicator, version=(previous.version + 1 if previous else 1), valid_from=valid_from,
            numerator=numerator, denominator=denominator,
            scale=scale if scale is not None else (previous.scale if previous else (100 if denominator else 1)),
            note=nfc(note), created_by=actor if getattr(actor, "pk", None) else None)
        audit.record(actor=actor, action="indicators.formula.add", obj=version,
                     after={"indicator": indicator.code, "version": version.version, "numerator": numerator,
                            "denominator": denominator, "valid_from": valid_from})
    return version


# ------------------------------------------------------- reported values


def record_reported_value(*, indicator: Indicator, agency: Agency, period_start: dt.date, period_end: dt.date,
                          value=None, numerator=None, denominator=None, source: str = "", actor=None,
                          at=None) -> ReportedValue:
    """Store (or replace) an approved reported value. LRIS calls this when the
    province approves a submission; ratios must carry numerator and denominator."""
    if indicator.is_ratio:
        if numerator is None or denominator is None:
            raise DomainError(f"Chỉ tiêu {indicator.name}: phải có tử số và mẫu số.", field=indicator.code)
        if Decimal(denominator) == 0:
            raise DomainError(f"Chỉ tiêu {indicator.name}: mẫu số phải khác 0.", field=indicator.code)
        value = Decimal(numerator) * 100 / Decimal(denominator)
    elif value is None:
        raise DomainError(f"Chỉ tiêu {indicator.name}: chưa có giá trị.", field=indicator.code)
    with transaction.atomic():
        row, created = ReportedValue.objects.update_or_create(
            indicator=indicator, agency=agency, period_start=period_start, period_end=period_end,
            defaults={"value": value, "numerator": numerator, "denominator": denominator, "source": source,
                      "approved_at": at or timezone.now(), "approved_by": actor if getattr(actor, "pk", None) else None})
        audit.record(actor=actor, action="indicators.reported_value." + ("create" if created else "update"), obj=row,
                     agency_id=agency.pk, after={"indicator": indicator.code, "value": str(value),
                                                  "numerator": str(numerator), "denominator": str(denominator)})
    return row


# ------------------------------------------------------------ registry


def load_registry(path: Path | str = DEFAULT_REGISTRY, *, actor=None) -> dict[str, int]:
    """Create what is missing from a registry file (indicators with their first
    formula, targets, 766 groups and rules, e-government criteria). Existing
    rows are left as the province edited them."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    created = defaultdict(int)
    with transaction.atomic():
        for order, item in enumerate(data.get("indicators", []), start=1):
            formula = item.pop("formula", None)
            indicator, new = Indicator.objects.get_or_create(code=item["code"], defaults={"order": order, **item})
            created["indicators"] += new
            if formula and not indicator.formulas.exists():
                add_formula_version(indicator, actor=actor, valid_from=dt.date.fromisoformat(formula.get("valid_from", "2000-01-01")),
                                    numerator=formula["numerator"], denominator=formula.get("denominator", ""),
                                    scale=formula.get("scale"), note=formula.get("note", ""))
        indicators = {i.code: i for i in Indicator.objects.all()}
        for order, item in enumerate(data.get("targets", []), start=1):
            _, new = Target.objects.get_or_create(
                indicator=indicators[item["indicator"]], year=item["year"], agency=None,
                defaults={"comparison": item.get("comparison", "gte"), "value": Decimal(str(item["value"])),
                          "source": item.get("source", ""), "order": order})
            created["targets"] += new
        for order, group in enumerate(data.get("index766", []), start=1):
            row, new = Index766Group.objects.get_or_create(
                code=group["code"], defaults={"name": group["name"], "max_points": Decimal(str(group["max_points"])),
                                              "order": order})
            created["index766_groups"] += new
            for rule_order, rule in enumerate(group["rules"], start=1):
                _, new = Index766Rule.objects.get_or_create(code=rule["code"], defaults={
                    "group": row, "name": rule["name"], "indicator": indicators[rule["indicator"]],
                    "max_points": Decimal(str(rule["max_points"])), "method": rule.get("method", "proportional"),
                    "threshold": Decimal(str(rule["threshold"])) if rule.get("threshold") is not None else None,
                    "steps": rule.get("steps", []), "source": rule.get("source", ""), "order": rule_order})
                created["index766_rules"] += new
        for order, item in enumerate(data.get("egov_criteria", []), start=1):
            _, new = EGovCriterion.objects.get_or_create(code=item["code"], defaults={
                "name": item["name"], "indicator": indicators[item["indicator"]],
                "comparison": item.get("comparison", "gte"), "threshold": Decimal(str(item["threshold"])),
                "agency_kinds": item.get("agency_kinds", []), "source": item.get("source", ""), "order": order})
            created["egov_criteria"] += new
        audit.record(actor=actor, action="indicators.registry.load", object_type="indicators.Indicator",
                     object_id=str(path.name if isinstance(path, Path) else path), after=dict(created))
    return dict(created)

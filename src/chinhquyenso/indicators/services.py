"""Writes for indicators: keeping dossier facts current, formula versions,
reported values, loading the registry from data."""

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from chinhquyenso.core import audit
from chinhquyenso.core.calendar import LOCAL_TZ
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import nfc
from chinhquyenso.dossiers.models import Dossier
from chinhquyenso.indicators.formulas import compile_expression
from chinhquyenso.indicators.models import (
    DeadlineChange,
    DossierFact,
    DossierMonthFact,
    EGovCriterion,
    FormulaVersion,
    Index766Group,
    Index766Rule,
    Indicator,
    ProcedureMonthFact,
    ReportedValue,
    StaleDossier,
    Target,
)
from chinhquyenso.org.models import Agency

DEFAULT_REGISTRY = Path(__file__).parent / "data" / "registry.json"

# ------------------------------------------------------------------ facts
#
# Facts are written with INSERT … SELECT … GROUP BY in the database: the
# aggregation never passes through Python, which keeps a rebuild over a
# million dossiers to seconds rather than minutes. The SQL differs between
# SQLite and PostgreSQL only in how a UTC timestamp becomes a local date.

FACT_COLUMNS = [
    "received",
    "received_online",
    "received_counter",
    "received_post",
    "received_digitized",
    "received_reusing",
    "with_fee",
    "paid_online",
    "payment_method_unknown",
    "finished",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "finished_electronic",
    "processing_seconds",
]
RECEIVED_SQL = {
    "received": "COUNT(*)",
    "received_online": "SUM(CASE WHEN d.channel = 'online' THEN 1 ELSE 0 END)",
    "received_counter": "SUM(CASE WHEN d.channel = 'counter' THEN 1 ELSE 0 END)",
    "received_post": "SUM(CASE WHEN d.channel = 'post' THEN 1 ELSE 0 END)",
    "received_digitized": "SUM(CASE WHEN d.digitized THEN 1 ELSE 0 END)",
    "received_reusing": "SUM(CASE WHEN d.id IN (SELECT dossier_id FROM dossiers_dossiercomponent "
    "WHERE reused_from_id IS NOT NULL) THEN 1 ELSE 0 END)",
    "with_fee": "SUM(CASE WHEN d.fee_due > 0 THEN 1 ELSE 0 END)",
    # A real online payment only: a Payment of method online carrying the platform's transaction
    # reference (payments.services records one only for a payment the platform confirmed), never
    # the dossier's fee_paid amount alone.
    "paid_online": "SUM(CASE WHEN d.fee_due > 0 AND d.id IN (SELECT dossier_id FROM dossiers_payment "
    "WHERE method = 'online' AND transaction_ref <> '') THEN 1 ELSE 0 END)",
    # History imported from an old system carries amounts but no payment method.
    "payment_method_unknown": "SUM(CASE WHEN d.fee_due > 0 AND d.imported AND d.id NOT IN "
    "(SELECT dossier_id FROM dossiers_payment) THEN 1 ELSE 0 END)",
}
FINISHED_SQL = {
    "finished": "COUNT(*)",
    "finished_early": "SUM(CASE WHEN d.timeliness = 'early' THEN 1 ELSE 0 END)",
    "finished_on_time": "SUM(CASE WHEN d.timeliness = 'on_time' THEN 1 ELSE 0 END)",
    "finished_late": "SUM(CASE WHEN d.timeliness = 'late' THEN 1 ELSE 0 END)",
    "finished_electronic": "SUM(CASE WHEN d.has_electronic_result THEN 1 ELSE 0 END)",
    "processing_seconds": "{seconds}",
}


def _local(column: str, month: bool = False) -> str:
    """SQL for the local date (or first day of the month) of a UTC timestamp."""
    if connection.vendor == "postgresql":
        local = f"(d.{column} AT TIME ZONE '{LOCAL_TZ.key}')"
        return f"date_trunc('month', {local})::date" if month else f"{local}::date"
    # Vietnam keeps one offset all year; SQLite stores UTC text.
    minutes = int(LOCAL_TZ.utcoffset(dt.datetime(2000, 1, 1)).total_seconds() // 60)
    return (
        f"strftime('%Y-%m-01', d.{column}, '{minutes:+d} minutes')"
        if month
        else f"date(d.{column}, '{minutes:+d} minutes')"
    )


def _seconds() -> str:
    if connection.vendor == "postgresql":
        return "CAST(SUM(ROUND(EXTRACT(EPOCH FROM (d.finished_at - d.accepted_at)))) AS BIGINT)"
    return "SUM(CAST(ROUND((julianday(d.finished_at) - julianday(d.accepted_at)) * 86400) AS INTEGER))"


def _insert_facts(grain: str, where: str = "", params: tuple = ()) -> None:
    """Aggregate the dossiers matching `where` into one fact table: first what
    they received, then (upsert) what they finished."""
    table, key_columns, key_sql, conflict = {
        "day": (
            "indicators_dossierfact",
            ["agency_id", "day", "service_level"],
            lambda col: ["d.receiving_agency_id", _local(col), "p.service_level"],
            "day, agency_id, service_level",
        ),
        "agency_month": (
            "indicators_dossiermonthfact",
            ["agency_id", "month", "service_level"],
            lambda col: ["d.receiving_agency_id", _local(col, month=True), "p.service_level"],
            "month, agency_id, service_level",
        ),
        "month": (
            "indicators_proceduremonthfact",
            ["agency_id", "month", "procedure_id"],
            lambda col: ["d.receiving_agency_id", _local(col, month=True), "d.procedure_id"],
            "month, agency_id, procedure_id",
        ),
    }[grain]
    join = "JOIN procedures_procedure p ON p.id = d.procedure_id" if grain != "month" else ""
    zero = {name: "0" for name in FACT_COLUMNS}
    with connection.cursor() as cursor:
        for anchor, expressions in (("accepted_at", RECEIVED_SQL), ("finished_at", FINISHED_SQL)):
            values = {**zero, **{k: v.format(seconds=_seconds()) for k, v in expressions.items()}}
            keys = key_sql(anchor)
            update = ", ".join(f"{name} = excluded.{name}" for name in expressions)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(key_columns + FACT_COLUMNS)}) "
                f"SELECT {', '.join(keys)}, {', '.join(values[name] for name in FACT_COLUMNS)} "
                f"FROM dossiers_dossier d {join} "
                f"WHERE d.{anchor} IS NOT NULL AND d.accepted_at IS NOT NULL {where.format(anchor=anchor)} "
                f"GROUP BY {', '.join(keys)} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {update}",
                params,
            )


def _insert_deadline_changes(dossier_ids=None) -> None:
    """Every move of a dossier's deadline, from its timeline (each event
    records the deadline after it): the deadline before the move and when."""
    where, params = "", ()
    if dossier_ids is not None:
        ids = sorted(dossier_ids)
        where = f"AND e.dossier_id IN ({', '.join(['%s'] * len(ids))})"
        params = tuple(ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO indicators_deadlinechange (dossier_id, at, due_before) "
            "SELECT dossier_id, at, previous FROM ("
            "SELECT e.dossier_id, e.at, e.due_at, "
            "LAG(e.due_at) OVER (PARTITION BY e.dossier_id ORDER BY e.at, e.id) AS previous "
            f"FROM dossiers_dossierevent e WHERE e.due_at IS NOT NULL {where}"
            ") moves WHERE previous IS NOT NULL AND due_at <> previous",
            params or None,
        )


def _lock_facts() -> None:
    """One refresher at a time (SQLite serializes writers by itself)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(766001)")


def rebuild_facts() -> int:
    """Aggregate every dossier again (after bulk loads, or to repair).
    Returns the number of day-fact rows."""
    with transaction.atomic():
        _lock_facts()
        StaleDossier.objects.all().delete()
        DossierFact.objects.all().delete()
        DossierMonthFact.objects.all().delete()
        ProcedureMonthFact.objects.all().delete()
        DeadlineChange.objects.all().delete()
        for grain in ("day", "agency_month", "month"):
            _insert_facts(grain)
        _insert_deadline_changes()
    return DossierFact.objects.count()


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=LOCAL_TZ)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _runs(days: set[dt.date], gap: int = 3) -> list[tuple[dt.date, dt.date]]:
    """Sorted days as (first, last) runs; days further apart than `gap` start a new run."""
    runs: list[list[dt.date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][1]).days <= gap:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


def refresh_facts(batch: int = 2000) -> int:
    """Re-aggregate, agency by agency, the days and months touched by the
    dossiers changed since the last refresh. Returns the marks consumed."""
    consumed = 0
    while True:
        with transaction.atomic():
            _lock_facts()
            marks = list(StaleDossier.objects.order_by("id").values_list("id", "dossier_id")[:batch])
            if not marks:
                return consumed
            touched: dict[int, set[dt.date]] = defaultdict(set)
            rows = Dossier.objects.filter(pk__in={d for _, d in marks}).values_list(
                "receiving_agency_id", "accepted_at", "finished_at"
            )
            for agency_id, accepted, finished in rows:
                for moment in (accepted, finished):
                    if moment:
                        touched[agency_id].add(moment.astimezone(LOCAL_TZ).date())
            day_spans, month_spans = [], []
            for agency_id, days in touched.items():
                day_spans += [(agency_id, a, b + dt.timedelta(days=1)) for a, b in _runs(days)]
                month_spans += [(agency_id, a, _next_month(b)) for a, b in _runs({d.replace(day=1) for d in days}, 31)]
            for grain, model, field, spans in (
                ("day", DossierFact, "day", day_spans),
                ("agency_month", DossierMonthFact, "month", month_spans),
                ("month", ProcedureMonthFact, "month", month_spans),
            ):
                # A few statements per batch of spans, each an OR of index ranges,
                # rather than statements per span.
                for start in range(0, len(spans), 200):
                    chunk = spans[start : start + 200]
                    stale = Q()
                    for agency_id, lo, hi in chunk:
                        stale |= Q(agency_id=agency_id, **{f"{field}__gte": lo, f"{field}__lt": hi})
                    model.objects.filter(stale).delete()
                    condition = " OR ".join(
                        ["(d.receiving_agency_id = %s AND d.{anchor} >= %s AND d.{anchor} < %s)"] * len(chunk)
                    )
                    params = [
                        value
                        for agency_id, lo, hi in chunk
                        for value in (
                            agency_id,
                            *(connection.ops.adapt_datetimefield_value(_local_midnight(d)) for d in (lo, hi)),
                        )
                    ]
                    _insert_facts(grain, f"AND ({condition})", tuple(params))
            changed = {d for _, d in marks}
            DeadlineChange.objects.filter(dossier_id__in=changed).delete()
            _insert_deadline_changes(changed)
            StaleDossier.objects.filter(id__lte=marks[-1][0]).delete()
            consumed += len(marks)


def mark_dossier_changed(event) -> None:
    """Subscriber of dossier events: the dossier's facts are re-aggregated
    before the next read (selectors refresh first) or by the worker."""
    StaleDossier.objects.create(dossier_id=event.payload["dossier"])


def rebuild_facts_after_load(event) -> None:
    rebuild_facts()


# ------------------------------------------------------------ formulas


def add_formula_version(
    indicator: Indicator,
    *,
    actor,
    numerator: str,
    denominator: str = "",
    scale: int | None = None,
    valid_from: dt.date,
    note: str = "",
    missing: str = "",
) -> FormulaVersion:
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
    missing = nfc(missing).strip()
    if missing:
        compile_expression(missing, "missing")
    with transaction.atomic():
        previous = indicator.formulas.order_by("-version").first()
        if previous and valid_from < previous.valid_from:
            raise DomainError(
                f"Ngày áp dụng phải từ {previous.valid_from:%d/%m/%Y} (phiên bản trước) trở đi.", field="valid_from"
            )
        version = FormulaVersion.objects.create(
            indicator=indicator,
            version=(previous.version + 1 if previous else 1),
            valid_from=valid_from,
            numerator=numerator,
            denominator=denominator,
            scale=scale if scale is not None else (previous.scale if previous else (100 if denominator else 1)),
            note=nfc(note),
            missing=missing,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(
            actor=actor,
            action="indicators.formula.add",
            obj=version,
            after={
                "indicator": indicator.code,
                "version": version.version,
                "numerator": numerator,
                "denominator": denominator,
                "missing": missing,
                "valid_from": valid_from,
            },
        )
    return version


# ------------------------------------------------------- reported values


def record_reported_value(
    *,
    indicator: Indicator,
    agency: Agency,
    period_start: dt.date,
    period_end: dt.date,
    value=None,
    numerator=None,
    denominator=None,
    source: str = "",
    actor=None,
    at=None,
) -> ReportedValue:
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
            indicator=indicator,
            agency=agency,
            period_start=period_start,
            period_end=period_end,
            defaults={
                "value": value,
                "numerator": numerator,
                "denominator": denominator,
                "source": source,
                "approved_at": at or timezone.now(),
                "approved_by": actor if getattr(actor, "pk", None) else None,
            },
        )
        audit.record(
            actor=actor,
            action="indicators.reported_value." + ("create" if created else "update"),
            obj=row,
            agency_id=agency.pk,
            after={
                "indicator": indicator.code,
                "value": str(value),
                "numerator": str(numerator),
                "denominator": str(denominator),
            },
        )
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
                add_formula_version(
                    indicator,
                    actor=actor,
                    valid_from=dt.date.fromisoformat(formula.get("valid_from", "2000-01-01")),
                    numerator=formula["numerator"],
                    denominator=formula.get("denominator", ""),
                    scale=formula.get("scale"),
                    note=formula.get("note", ""),
                    missing=formula.get("missing", ""),
                )
        indicators = {i.code: i for i in Indicator.objects.all()}
        for order, item in enumerate(data.get("targets", []), start=1):
            _, new = Target.objects.get_or_create(
                indicator=indicators[item["indicator"]],
                year=item["year"],
                agency=None,
                defaults={
                    "comparison": item.get("comparison", "gte"),
                    "value": Decimal(str(item["value"])),
                    "source": item.get("source", ""),
                    "order": order,
                },
            )
            created["targets"] += new
        for order, group in enumerate(data.get("index766", []), start=1):
            row, new = Index766Group.objects.get_or_create(
                code=group["code"],
                defaults={"name": group["name"], "max_points": Decimal(str(group["max_points"])), "order": order},
            )
            created["index766_groups"] += new
            for rule_order, rule in enumerate(group["rules"], start=1):
                _, new = Index766Rule.objects.get_or_create(
                    code=rule["code"],
                    defaults={
                        "group": row,
                        "name": rule["name"],
                        "indicator": indicators[rule["indicator"]],
                        "max_points": Decimal(str(rule["max_points"])),
                        "method": rule.get("method", "proportional"),
                        "threshold": Decimal(str(rule["threshold"])) if rule.get("threshold") is not None else None,
                        "steps": rule.get("steps", []),
                        "source": rule.get("source", ""),
                        "order": rule_order,
                    },
                )
                created["index766_rules"] += new
        for order, item in enumerate(data.get("egov_criteria", []), start=1):
            computed = indicators.get(item.get("computed_indicator", ""))
            criterion, new = EGovCriterion.objects.get_or_create(
                code=item["code"],
                defaults={
                    "name": item["name"],
                    "indicator": indicators[item["indicator"]],
                    "computed_indicator": computed,
                    "comparison": item.get("comparison", "gte"),
                    "threshold": Decimal(str(item["threshold"])),
                    "agency_kinds": item.get("agency_kinds", []),
                    "source": item.get("source", ""),
                    "order": order,
                },
            )
            created["egov_criteria"] += new
            # A computed figure is what is missing on a criterion loaded before its app existed.
            if not new and computed and criterion.computed_indicator_id is None:
                criterion.computed_indicator = computed
                criterion.save(update_fields=["computed_indicator"])
        audit.record(
            actor=actor,
            action="indicators.registry.load",
            object_type="indicators.Indicator",
            object_id=str(path.name if isinstance(path, Path) else path),
            after=dict(created),
        )
    return dict(created)

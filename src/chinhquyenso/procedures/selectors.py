import datetime as dt
from functools import reduce
from operator import or_

from django.core.cache import cache
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q

from chinhquyenso.core.registry import PROCEDURE_SEARCH
from chinhquyenso.core.text import fold
from chinhquyenso.org.models import Agency
from chinhquyenso.procedures.models import Field, Procedure, ProcedureAgency, ProcedureForm, ProcessStep


def handling_agencies(procedure: Procedure, day: dt.date):
    """Agencies that handle `procedure` on `day` and are themselves valid then."""
    assigned = procedure.assignments.filter(valid_from__lte=day).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    return Agency.objects.valid_on(day).filter(pk__in=assigned.values("agency_id"))


def search_procedures(
    query: str = "", field_code: str = "", service_level: str = "", limit: int | None = 50, *, agency_code: str = ""
):
    """Diacritic-, case- and tone-placement-insensitive search: every word of the
    folded query must appear in the folded name or the code. When nothing
    matches, a word found in no procedure name also matches the name words one
    letter away from it (one wrong, missing or extra letter: "khai sinj")."""
    words = fold(query).split()
    qs = Procedure.objects.filter(is_active=True).select_related("field")
    if field_code:
        qs = qs.filter(field__code=field_code)
    if service_level:
        qs = qs.filter(service_level=service_level)
    if agency_code:
        qs = qs.filter(assignments__agency__code=agency_code, assignments__valid_to__isnull=True).distinct()
    exact = qs
    for word in words:
        exact = exact.filter(Q(name_folded__contains=word) | Q(code__icontains=word))
    if words and not exact.exists():
        vocabulary = name_vocabulary()
        for word in words:
            spellings = [word, *_one_letter_away(word, vocabulary)]
            qs = qs.filter(reduce(or_, (Q(name_folded__contains=w) for w in spellings)) | Q(code__icontains=word))
        exact = qs
    exact = exact.order_by("name")
    return exact if limit is None else exact[:limit]


def ranked_procedures(query: str = "", field_code: str = "", service_level: str = "", limit: int = 50):
    """Procedures best first for `query` by the ranked search an app above registered
    (core.registry.PROCEDURE_SEARCH: the assistant's BM25 index); without a query, or without a
    provider installed, the catalog listing of `search_procedures`."""
    if not query.strip() or "ranked" not in PROCEDURE_SEARCH:
        return list(search_procedures(query, field_code, service_level, limit))
    ids = PROCEDURE_SEARCH.get("ranked")(query, field_code=field_code, service_level=service_level, limit=limit)
    by_id = Procedure.objects.select_related("field").in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def popular_procedures(limit: int = 8) -> list[Procedure]:
    """The procedures citizens submitted most in the last year (cached: the
    count reads every recent dossier)."""
    key = f"procedures:popular:{limit}"
    codes = cache.get(key)
    if codes is None:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=365)
        codes = list(
            Procedure.objects.filter(is_active=True, dossiers__submitted_at__gte=since)
            .annotate(n=Count("dossiers"))
            .order_by("-n", "name")
            .values_list("code", flat=True)[:limit]
        )
        cache.set(key, codes, 3600)
    by_code = {p.code: p for p in Procedure.objects.filter(code__in=codes).select_related("field")}
    return [by_code[c] for c in codes if c in by_code]


def handled_by(agency_ids):
    """Active procedures an agency among `agency_ids` handles now."""
    return Procedure.objects.filter(
        is_active=True, assignments__agency_id__in=agency_ids, assignments__valid_to__isnull=True
    ).distinct()


def handled_by_agency_code(code: str):
    """Active procedures the current agency with `code` handles now."""
    return Procedure.objects.filter(
        is_active=True, assignments__agency__code=code, assignments__valid_to__isnull=True
    ).distinct()


def fields_with_counts():
    return Field.objects.filter(procedures__is_active=True).annotate(n=Count("procedures")).order_by("name")


def agencies_with_procedures():
    """Current agencies that handle at least one active procedure, for browsing."""
    # EXISTS, not a join + DISTINCT over thousands of assignment rows.
    handles = ProcedureAgency.objects.filter(agency=OuterRef("pk"), valid_to__isnull=True, procedure__is_active=True)
    return Agency.objects.current().filter(Exists(handles)).order_by("kind", "name")


# Two letters is enough: "kí" for "ký" is the commonest slip; a single letter
# has too many neighbours to guess from.
FUZZY_MIN_LENGTH = 2


def _one_letter_away(word: str, vocabulary: frozenset[str]) -> list[str]:
    if len(word) < FUZZY_MIN_LENGTH or any(word in known for known in vocabulary):
        return []
    return sorted(known for known in vocabulary if _edit_distance_is_one(word, known))


def _edit_distance_is_one(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), len(a))
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]  # one substitution
    return a[i:] == b[i + 1 :]  # one insertion


def name_vocabulary() -> frozenset[str]:
    """Folded words of active procedure names, cached per catalog version."""
    version = Procedure.objects.filter(is_active=True).aggregate(n=Count("id"), changed=Max("updated_at"))
    key = f"procedures:vocabulary:{version['n']}:{version['changed'].timestamp() if version['changed'] else 0}"
    words = cache.get(key)
    if words is None:
        names = Procedure.objects.filter(is_active=True).values_list("name_folded", flat=True)
        words = frozenset(word for name in names for word in name.split())
        cache.set(key, words, 24 * 3600)
    return words


def get_procedure(code: str) -> Procedure | None:
    return (
        Procedure.objects.filter(code=code)
        .select_related("field")
        .prefetch_related("components", "steps", "assignments__agency")
        .first()
    )


def _days_out(value):
    """Step days are stored as Decimal(5,1); write 2 rather than 2.0 so exported files stay tidy."""
    return int(value) if value == value.to_integral_value() else float(value)


def catalog_entries(codes=None) -> list[dict]:
    """The catalog as entries in the exact dict format save_procedure accepts,
    ordered by code; `codes` limits it to those procedures. `agencies` lists the
    agencies currently assigned (open assignments), by internal code."""
    qs = (
        Procedure.objects.select_related("field")
        .prefetch_related(
            "components",
            Prefetch("steps", queryset=ProcessStep.objects.select_related("agency").order_by("order")),
            Prefetch(
                "assignments",
                queryset=ProcedureAgency.objects.filter(valid_to__isnull=True).select_related("agency"),
                to_attr="open_assignments",
            ),
        )
        .order_by("code")
    )
    if codes is not None:
        qs = qs.filter(code__in=list(codes))
    entries = []
    for p in qs:
        entries.append(
            {
                "code": p.code,
                "name": p.name,
                "field_code": p.field.code,
                "field_name": p.field.name,
                "levels": list(p.levels),
                "service_level": p.service_level,
                "processing_days": p.processing_days,
                "fee": p.fee,
                "charge": p.charge,
                "online_discount_percent": p.online_discount_percent,
                "result_type": p.result_type,
                "result_name": p.result_name,
                "legal_basis": p.legal_basis,
                "components": [
                    {
                        "name": c.name,
                        "originals": c.originals,
                        "copies": c.copies,
                        "mandatory": c.mandatory,
                        "reusable_result_type": c.reusable_result_type,
                    }
                    for c in sorted(p.components.all(), key=lambda c: c.order)
                ],
                "steps": [
                    {
                        "name": s.name,
                        "role": s.role,
                        "days": _days_out(s.days),
                        "agency": s.agency.code if s.agency else "",
                    }
                    for s in p.steps.all()
                ],
                "agencies": sorted({a.agency.code for a in p.open_assignments}),
            }
        )
    return entries


# ---------------------------------------------------------------- e-forms (tờ khai điện tử)


def current_form(procedure: Procedure) -> ProcedureForm | None:
    """The newest version of the procedure's e-form; None where it has none."""
    return ProcedureForm.objects.filter(procedure=procedure).order_by("-version").first()


def form_version(procedure_id: int, version) -> ProcedureForm | None:
    """One version of a procedure's e-form, the one a dossier or draft was filled with."""
    if isinstance(version, bool) or not isinstance(version, int):
        return None
    return ProcedureForm.objects.filter(procedure_id=procedure_id, version=version).select_related("procedure").first()


def form_by_code(code: str) -> ProcedureForm | None:
    """The current e-form of the active procedure with this code (the API, the blank-form PDF)."""
    return (
        ProcedureForm.objects.filter(procedure__code=code, procedure__is_active=True)
        .select_related("procedure")
        .order_by("-version")
        .first()
    )


def declared_subject(procedure_id: int, form_data) -> tuple[str, dict]:
    """What a result is about, from the dossier's e-form values ({"version", "values"}): the subject
    in words ("Nguyễn Văn An, sinh ngày 01/02/2026") and the typed facts, per the form's layout.
    ("", {}) for a dossier without an e-form."""
    from chinhquyenso.procedures import eforms

    data = form_data if isinstance(form_data, dict) else {}
    values = data.get("values")
    form = form_version(procedure_id, data.get("version")) if isinstance(values, dict) else None
    if form is None:
        return "", {}
    definition = eforms.of(form)
    return eforms.subject_of(definition, values), eforms.facts_of(definition, values)

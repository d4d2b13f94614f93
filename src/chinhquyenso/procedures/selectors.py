import datetime as dt

from django.db.models import Q

from chinhquyenso.core.text import fold
from chinhquyenso.org.models import Agency
from chinhquyenso.procedures.models import Procedure


def handling_agencies(procedure: Procedure, day: dt.date):
    """Agencies that handle `procedure` on `day` and are themselves valid then."""
    assigned = procedure.assignments.filter(valid_from__lte=day).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    return Agency.objects.valid_on(day).filter(pk__in=assigned.values("agency_id"))


def search_procedures(query: str = "", field_code: str = "", service_level: str = "", limit: int = 50):
    """Diacritic-, case- and tone-placement-insensitive search: every word of the
    folded query must appear in the folded name or the code."""
    qs = Procedure.objects.filter(is_active=True).select_related("field")
    for word in fold(query).split():
        qs = qs.filter(Q(name_folded__contains=word) | Q(code__icontains=word))
    if field_code:
        qs = qs.filter(field__code=field_code)
    if service_level:
        qs = qs.filter(service_level=service_level)
    return qs.order_by("name")[:limit]


def get_procedure(code: str) -> Procedure | None:
    return (Procedure.objects.filter(code=code)
            .select_related("field").prefetch_related("components", "steps", "assignments__agency").first())

"""The "possible same person" links the lower apps show beside their records (core.registry.PERSON_LINKS,
registered in PersonsConfig.ready()): the civil-status record search and record page (source "civil"),
the back office's applicant lookup and dossier page (source "applicant", the applicant's identity
number as source id). Those apps never import this app: they call what is registered.

Only an officer granted persons.view_health_data gets links; anyone else gets none (an empty dict).
A page of ids costs two queries here (the records of those ids with their persons, then the other
records of those persons), plus the audit of what was shown: health records seen through a link are
viewed records (Decree 13/2023), recorded as persons.view_record with record ids only."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from chinhquyenso.core import audit
from chinhquyenso.core.registry import PersonLink
from chinhquyenso.persons import access
from chinhquyenso.persons.models import Source, SourceRecord

LINKS_PER_RECORD = 10


def _summary(record: dict) -> str:
    parts = [record["facility"]] if record["facility"] else []
    parts.append(record["full_name"])
    if record["birth_year"]:
        parts.append(f"sinh năm {record['birth_year']}")
    return ", ".join(parts)


def person_links(user, source: str, source_ids) -> dict[str, list[PersonLink]]:
    """{source_id: [PersonLink]} for the ids of `source` that belong to a person with records elsewhere."""
    ids = [str(i) for i in source_ids if i not in (None, "")]
    if not ids or not access.can_view(user):
        return {}
    own = list(
        SourceRecord.objects.filter(source=source, source_id__in=ids, person__isnull=False).values_list(
            "pk", "source_id", "person_id"
        )
    )
    if not own:
        return {}
    own_pks = {pk for pk, _, _ in own}
    others: dict[int, list[dict]] = {}
    for row in (
        SourceRecord.objects.filter(person_id__in={person for _, _, person in own})
        .exclude(pk__in=own_pks)
        .values("pk", "person_id", "person__code", "source", "facility", "full_name", "birth_year")
        .order_by("source", "pk")
    ):
        others.setdefault(row["person_id"], []).append(row)
    labels = dict(Source.choices)
    result: dict[str, list[PersonLink]] = {}
    shown: list[int] = []
    for _pk, source_id, person_id in own:
        rows = others.get(person_id, [])[:LINKS_PER_RECORD]
        if not rows:
            continue
        url = reverse("persons:person", args=[rows[0]["person__code"]])
        result[source_id] = [
            PersonLink(row["person__code"], labels.get(row["source"], row["source"]), _summary(row), url)
            for row in rows
        ]
        shown += [row["pk"] for row in rows]
    if shown:
        with transaction.atomic():
            audit.record(
                actor=user,
                action="persons.view_record",
                object_type="persons.SourceRecord",
                object_id=shown[0],
                after={"records": sorted(set(shown)), "via": source, "links": True},
            )
    return result

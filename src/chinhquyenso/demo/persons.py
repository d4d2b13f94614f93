"""The master person index of the demo province (`cqs seed-demo`), made after the province is built.

A synthetic population (persons.synthetic, seeded: nobody real) of DEMO_PEOPLE people writes a
health-records export of a few facilities — each person once, some again at other facilities with the
errors real exports have — which is imported through the persons app's own import
(persons.importer.import_health: addresses resolved to the current commune through the org app's
history, as an officer's upload would be), then linked (persons.linkage.run.run_link, which also reads
the demo's civil-status records and dossier applicants). The demo then has persons, a review queue of
uncertain pairs and duplicates per facility, and the truth is known: DemoPersons says how many
duplicates the file holds and how many the linking found.

The index's two grants (see persons.access) go, through a group, to the specialist and the leader of
the current provincial Department of Health: they run the import and the linking here, and they are
the demo's accounts for the index's pages."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from chinhquyenso.accounts.models import Membership, Role, User
from chinhquyenso.core.errors import DomainError
from chinhquyenso.org.models import Agency

# Small enough for seed-demo to stay quick (docs/benchmarks.md: the demo's persons step), large enough
# for a review queue and duplicates at every kind of facility.
DEMO_PEOPLE = 600
GROUP_NAME = "Chỉ mục cá nhân — xem dữ liệu sức khỏe và đối soát"
FILE_NAME = "ho-so-suc-khoe-mau.csv"
HEALTH_DEPARTMENT = "Sở Y tế"


@dataclass
class DemoPersons:
    people: int = 0  # in the synthetic population (the truth)
    records: int = 0  # rows of the health-records file
    duplicates_true: int = 0  # records − people
    imported: int = 0
    rejected: int = 0
    health_persons: int = 0  # persons the linking found among the health records
    duplicates_found: int = 0  # health records − those persons
    review_pairs: int = 0
    officers: tuple[str, ...] = ()
    seconds: float = 0.0


def health_officers() -> list[User]:
    """The current Department of Health's specialist and leader, given the index's grants."""
    department = Agency.objects.current().filter(name=HEALTH_DEPARTMENT).order_by("pk").first()
    if department is None:
        raise DomainError("Tỉnh mẫu chưa có Sở Y tế: không có cán bộ nào để giao chỉ mục cá nhân.", "persons")
    users = list(
        User.objects.filter(memberships__agency=department, memberships__role__in=[Role.SPECIALIST, Role.LEADER])
        .distinct()
        .order_by("username")
    )
    if not users:
        raise DomainError("Sở Y tế của tỉnh mẫu chưa có chuyên viên, lãnh đạo.", "persons")
    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=GROUP_NAME)
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="persons", codename__in=["view_health_data", "review_links"]
            )
        )
        for user in users:
            user.groups.add(group)
    # Fresh objects: has_perm caches the permissions it has looked up.
    return list(User.objects.filter(pk__in=[u.pk for u in users]).order_by("username"))


def build_persons(*, seed: int, people: int = DEMO_PEOPLE, log=None) -> DemoPersons:
    """Import the synthetic health records and link them (see the module's docstring)."""
    from chinhquyenso.persons import importer, synthetic
    from chinhquyenso.persons.linkage import run
    from chinhquyenso.persons.models import Source, SourceRecord

    log = log or (lambda message: None)
    started = time.monotonic()
    officers = health_officers()
    actor = next((u for u in officers if Membership.objects.filter(user=u, role=Role.SPECIALIST).exists()), officers[0])
    stats = DemoPersons(officers=tuple(u.username for u in officers))
    with tempfile.TemporaryDirectory(prefix="cqs-demo-persons-") as folder:
        path = Path(folder) / FILE_NAME
        generated = synthetic.write_csv(path, people, seed)
        batch = importer.import_health(path, actor=actor, file_name=FILE_NAME)
    if batch.status != batch.Status.DONE:
        raise DomainError(f"Không nhập được hồ sơ sức khỏe mẫu: {batch.message}", "persons")
    stats.people, stats.records = generated["people"], generated["records"]
    stats.duplicates_true = generated["duplicates"]
    stats.imported, stats.rejected = batch.imported, batch.rejected
    link_run = run.run_link(actor=actor, engine="duckdb")
    health = SourceRecord.objects.filter(source=Source.HEALTH)
    stats.health_persons = health.exclude(person=None).values("person").distinct().count()
    stats.health_persons += health.filter(person=None).count()
    stats.duplicates_found = health.count() - stats.health_persons
    stats.review_pairs = link_run.review_pairs
    stats.seconds = time.monotonic() - started
    log(
        f"Chỉ mục cá nhân ({stats.seconds:.1f} giây): {stats.imported} hồ sơ sức khỏe mẫu của {stats.people} người "
        f"(đáp án {stats.duplicates_true} bản ghi trùng, so khớp tìm được {stats.duplicates_found}), "
        f"{stats.review_pairs} cặp chờ đối soát; tài khoản được giao: {', '.join(stats.officers)}."
    )
    return stats

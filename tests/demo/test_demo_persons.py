"""`cqs seed-demo`'s master person index (demo.persons): synthetic health records imported through the
persons app's import and linked, so the demo has persons, duplicates per facility and a review queue —
and the duplicates found are what the synthetic population's truth says, within the accuracy the
evaluation measures (docs/persons.md)."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from chinhquyenso.demo import persons as demo_persons
from chinhquyenso.persons import access, synthetic
from chinhquyenso.persons.models import CandidatePair, ImportBatch, LinkRun, Person, Source, SourceRecord

UNTIL = dt.date(2025, 12, 31)
SEED = 2025


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    test_settings = override_settings(
        MEDIA_ROOT=tmp_path_factory.mktemp("files"),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        AUDIT_CHECKPOINT_DIR=tmp_path_factory.mktemp("audit-checkpoints"),
    )
    with django_db_blocker.unblock(), test_settings:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out, err = StringIO(), StringIO()
            call_command(
                "seed_demo",
                dossiers=0,
                seed=SEED,
                until=UNTIL,
                no_documents=True,
                no_opendata=True,
                no_pests=True,
                stdout=out,
                stderr=err,
            )
            yield {"output": out.getvalue(), "errors": err.getvalue()}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo(seeded, db):
    return seeded


def test_seed_demo_imports_and_links_the_health_records(demo):
    assert "Không tạo được chỉ mục cá nhân mẫu" not in demo["errors"]
    assert "Chỉ mục cá nhân (" in demo["output"]
    _, truth = synthetic.generate(demo_persons.DEMO_PEOPLE, seed=SEED)
    batch = ImportBatch.objects.get(file_name=demo_persons.FILE_NAME)
    assert batch.status == ImportBatch.Status.DONE
    assert (batch.imported, batch.rejected) == (truth["records"], 0)
    health = SourceRecord.objects.filter(source=Source.HEALTH)
    assert health.count() == truth["records"]
    assert not health.filter(person=None).exists()
    # Addresses, old commune names included, resolve to the current communes.
    assert health.exclude(address="").filter(commune=None).count() <= 0.02 * health.exclude(address="").count()
    link_run = LinkRun.objects.get()
    assert link_run.status == LinkRun.Status.DONE
    assert CandidatePair.objects.filter(run=link_run).count() == link_run.review_pairs
    assert Person.objects.filter(active=True).count() == link_run.persons


def test_the_duplicates_found_are_the_truth_within_the_measured_accuracy(demo):
    _, truth = synthetic.generate(demo_persons.DEMO_PEOPLE, seed=SEED)
    health = SourceRecord.objects.filter(source=Source.HEALTH)
    persons = health.values("person").distinct().count()
    found = health.count() - persons
    # The evaluation measures F1 ≥ 0,99 on such populations: the count is within 3 % of the truth.
    assert abs(found - truth["duplicates"]) <= 0.03 * truth["duplicates"]
    facilities = health.values("facility").distinct().count()
    assert facilities > 10


def test_the_health_departments_officers_hold_the_grants(demo):
    officers = demo_persons.health_officers()
    assert officers
    for officer in officers:
        assert access.can_review(officer)

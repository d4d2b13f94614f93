"""Officers' writes (decide, merge, split, unmerge), golden records, and linking runs over the
database: stable person codes, decisions that no re-run overrides, the review queue, the export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole
from chinhquyenso.core.errors import Conflict, DomainError, PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.persons import golden, services, synthetic
from chinhquyenso.persons.linkage import run
from chinhquyenso.persons.models import (
    CandidatePair,
    ClusterChange,
    LinkModel,
    PairDecision,
    Person,
    Source,
    SourceRecord,
)
from tests.core.test_workflow import run_at_once


def grant(user, *codenames):
    group, _ = Group.objects.get_or_create(name="persons " + "+".join(codenames))
    group.permissions.set(Permission.objects.filter(content_type__app_label="persons", codename__in=codenames))
    user.groups.add(group)
    return type(user).objects.get(pk=user.pk)  # a fresh object: has_perm caches


@pytest.fixture
def reviewer(officers):
    return grant(officers["xa_a"]["specialist"], "view_health_data", "review_links")


@pytest.fixture
def second_reviewer(officers):
    return grant(officers["xa_b"]["specialist"], "view_health_data", "review_links")


_numbers = iter(range(1, 10**6))


def record(**fields) -> SourceRecord:
    data = {"full_name": "Nguyễn Văn An", "sex": "nam", "birth_year": 1980, "birth_month": 5, "birth_day": 12}
    data.update(fields)
    return SourceRecord.objects.create(source=Source.HEALTH, source_id=f"BA{next(_numbers):07d}", **data)


def group(*records) -> Person:
    """Put records into one new person, as a run would."""
    with transaction.atomic():
        person = services.create_persons(1)[0]
        services.move_records({r.pk: person.pk for r in records})
        services.refresh_persons([person.pk])
    return Person.objects.get(pk=person.pk)


def person_of(rec) -> int | None:
    return SourceRecord.objects.get(pk=rec.pk).person_id


def audit_text(action) -> str:
    return " ".join(str(r.after) for r in AuditRecord.objects.filter(action=action))


# --- Decisions -------------------------------------------------------------------------------------------


def test_a_match_decision_merges_the_two_persons_now(reviewer):
    a, b, c = record(), record(full_name="Nguyen Van An"), record(full_name="Nguyễn Văn Ân")
    first, second = group(a, b), group(c)
    decision = services.decide(actor=reviewer, left_id=c.pk, right_id=a.pk, decision="match", note="Cùng CCCD")
    assert (decision.left_id, decision.right_id) == (a.pk, c.pk)  # stored low id first
    assert person_of(a) == person_of(b) == person_of(c) == first.pk  # the older person keeps them
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.record_count, first.active, second.record_count, second.active) == (3, True, 0, False)
    change = ClusterChange.objects.get(kind=ClusterChange.Kind.MERGE)
    assert change.before == {str(c.pk): second.pk} and change.after == {str(c.pk): first.pk}
    text = audit_text("persons.decide")
    assert str(a.pk) in text and "Nguy" not in text and "1980" not in text


def test_a_not_match_decision_takes_the_right_record_out(reviewer):
    a, b, c = record(), record(), record()
    person = group(a, b, c)
    services.decide(actor=reviewer, left_id=a.pk, right_id=c.pk, decision="not_match")
    assert person_of(a) == person_of(b) == person.pk
    assert person_of(c) not in (None, person.pk)
    assert Person.objects.get(pk=person_of(c)).code.startswith("CN")
    # "Unsure" only records the decision.
    services.decide(actor=reviewer, left_id=a.pk, right_id=b.pk, decision="unsure")
    assert person_of(b) == person.pk
    assert PairDecision.objects.count() == 2
    with pytest.raises(DomainError):
        services.decide(actor=reviewer, left_id=a.pk, right_id=b.pk, decision="maybe")
    with pytest.raises(DomainError):
        services.decide(actor=reviewer, left_id=a.pk, right_id=a.pk, decision="match")


def test_merge_split_and_unmerge_restore_the_previous_clusters(reviewer):
    a, b, c, d = record(), record(), record(), record()
    first, second = group(a, b), group(c, d)
    merged = services.merge(actor=reviewer, person_codes=[second.code, first.code], note="Trùng hồ sơ")
    assert {person_of(r) for r in (a, b, c, d)} == {first.pk}
    # The merge is kept for re-runs as "match" decisions between the records it put together.
    assert set(PairDecision.objects.values_list("decision", flat=True)) == {"match"}

    undo = services.unmerge(actor=reviewer, change_id=merged.pk)
    assert (person_of(a), person_of(b), person_of(c), person_of(d)) == (first.pk, first.pk, second.pk, second.pk)
    assert Person.objects.get(pk=second.pk).active and Person.objects.get(pk=second.pk).record_count == 2
    merged.refresh_from_db()
    assert merged.undone_by_id == undo.pk
    assert services.latest_decisions()[(min(a.pk, c.pk), max(a.pk, c.pk))] == "not_match"
    with pytest.raises(Conflict):
        services.unmerge(actor=reviewer, change_id=merged.pk)

    # The unmerge itself can be undone: together again, and the decisions in force say so.
    services.unmerge(actor=reviewer, change_id=undo.pk)
    assert {person_of(r) for r in (a, b, c, d)} == {first.pk}
    latest = services.latest_decisions()
    assert all(latest[(min(x.pk, y.pk), max(x.pk, y.pk))] == "match" for x in (a, b) for y in (c, d))

    split = services.split(actor=reviewer, record_ids=[d.pk], note="Khác người")
    assert person_of(d) not in (first.pk, None) and person_of(c) == first.pk
    with pytest.raises(DomainError):
        services.split(actor=reviewer, record_ids=[a.pk, d.pk])  # two persons
    with pytest.raises(DomainError):
        services.split(actor=reviewer, record_ids=[d.pk])  # all of its person's records
    services.unmerge(actor=reviewer, change_id=split.pk)
    assert person_of(d) == first.pk
    assert AuditRecord.objects.filter(action__in=["persons.merge", "persons.split", "persons.unmerge"]).count() == 5
    assert "Nguy" not in audit_text("persons.merge") + audit_text("persons.split") + audit_text("persons.unmerge")


def test_an_unmerge_is_refused_when_its_records_moved_since(reviewer):
    a, b, c = record(), record(), record()
    first, second = group(a, b), group(c)
    merged = services.merge(actor=reviewer, person_codes=[first.code, second.code])
    services.split(actor=reviewer, record_ids=[c.pk])
    with pytest.raises(Conflict):
        services.unmerge(actor=reviewer, change_id=merged.pk)


def test_officers_without_the_grant_and_auditors_are_refused(officers, admin_user, reviewer):
    a, b = record(), record()
    first, second = group(a), group(b)
    plain = officers["xa_a"]["leader"]
    viewer = grant(officers["xa_a"]["counter_officer"], "view_health_data")
    auditor = accounts.create_officer(
        actor=admin_user,
        username="kiem.tra",
        password="Mat-khau-2025",
        full_name="Kiểm tra viên",
        global_role=GlobalRole.AUDITOR,
    )
    auditor = grant(auditor, "view_health_data", "review_links")
    for actor in (plain, viewer, auditor):
        with pytest.raises(PermissionDenied):
            services.decide(actor=actor, left_id=a.pk, right_id=b.pk, decision="match")
        with pytest.raises(PermissionDenied):
            services.merge(actor=actor, person_codes=[first.code, second.code])
        with pytest.raises(PermissionDenied):
            run.run_link(actor=actor)
    with pytest.raises(PermissionDenied):
        run.export_clusters(io.StringIO(), actor=plain)
    assert PairDecision.objects.count() == 0 and person_of(b) == second.pk


def test_golden_record_takes_each_field_from_the_most_recent_verified_record():
    old_verified = SourceRecord(
        pk=1, source="civil", full_name="Trần Thị Bé", birth_year=1990, birth_month=3, birth_day=4, verified=True,
        recorded_on=dt.date(2019, 1, 1), phone="0911000001", address="Ấp 1",
    )  # fmt: skip
    new_verified = SourceRecord(
        pk=2, source="health", full_name="Trần Thị Bé Ba", birth_year=1990, verified=True,
        recorded_on=dt.date(2024, 1, 1), id_number="089190000001",
    )  # fmt: skip
    newest_unverified = SourceRecord(
        pk=3, source="health", full_name="Tran Thi Be", birth_year=1991, verified=False,
        recorded_on=dt.date(2025, 6, 1), phone="0911000009", insurance_number="GD4898912345678",
    )  # fmt: skip
    result = golden.golden_record([old_verified, newest_unverified, new_verified])
    assert result["full_name"] == {"value": "Trần Thị Bé Ba", "source": "health", "record_id": 2}
    assert result["birth"]["value"] == "1990" and result["birth"]["record_id"] == 2
    assert result["id_number"]["record_id"] == 2
    assert result["phone"] == {"value": "0911000001", "source": "civil", "record_id": 1}  # verified beats newer
    assert result["address"]["record_id"] == 1
    assert result["insurance_number"]["record_id"] == 3  # only the unverified record has it
    assert "commune" not in result and "sex" not in result


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_merging_overlapping_persons_at_once(reviewer, second_reviewer):
    a, b, c = record(), record(), record()
    first, second, third = group(a), group(b), group(c)
    actors = [reviewer, second_reviewer]
    codes = [[first.code, second.code], [second.code, third.code]]
    results = run_at_once(2, lambda i: services.merge(actor=actors[i], person_codes=codes[i]))
    # The person rows were locked in one order: one merge waited for the other, then either merged the
    # rest or was refused because its person had been emptied by the first — never a lost update.
    outcomes = [r for r in results if not isinstance(r, Exception)]
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(outcomes) >= 1 and all(isinstance(e, Conflict) for e in errors), results
    persons = {person_of(r) for r in (a, b, c)}
    assert len(persons) == (1 if not errors else 2)
    for person in Person.objects.all():
        assert person.record_count == SourceRecord.objects.filter(person=person).count()


# --- Linking runs ----------------------------------------------------------------------------------------


@pytest.fixture
def index(db):
    """A small health-records index with known duplicates (synthetic, without communes)."""
    records, _stats = synthetic.generate(40, seed=7)
    rows, truth = [], {}
    for r in records:
        rows.append(
            SourceRecord(
                source=Source.HEALTH,
                source_id=f"{r['facility_code']}/{r['record_id']}/{r['unique_id']}",
                facility=r["facility"],
                full_name=r["full_name"],
                sex=r["sex"] or "",
                birth_year=r["birth_year"],
                birth_month=r["birth_month"],
                birth_day=r["birth_day"],
                id_number=r["id_number"] or "",
                insurance_number=r["insurance_number"] or "",
                phone=r["phone"] or "",
                address=r["address"] or "",
                recorded_on=r["recorded_on"],
            )
        )
    SourceRecord.objects.bulk_create(rows)
    for saved, r in zip(SourceRecord.objects.order_by("pk"), records, strict=True):
        truth[saved.pk] = r["truth_id"]
    return truth


def persons_now() -> dict[int, str]:
    return dict(SourceRecord.objects.values_list("pk", "person__code"))


def test_a_run_links_records_into_persons_with_stable_codes(index, reviewer, tmp_path):
    first = run.run_link(actor=reviewer)
    assert first.status == "done" and first.records == len(index) and first.model.version == 1
    codes = persons_now()
    assert all(codes.values())
    # Duplicates found: records of one truth person share a code (allowing a rare miss).
    together = sum(
        1 for a in index for b in index if a < b and index[a] == index[b] and codes[a] == codes[b]
    )  # fmt: skip
    total = sum(1 for a in index for b in index if a < b and index[a] == index[b])
    assert together >= 0.9 * total
    assert first.persons == Person.objects.filter(active=True).count() == len(set(codes.values()))
    for person in Person.objects.filter(active=True)[:5]:
        assert person.golden["full_name"]["value"] and person.record_count >= 1
    assert ClusterChange.objects.filter(kind="run", run=first).exists()
    assert AuditRecord.objects.filter(action="persons.train").count() == 1
    link_audit = AuditRecord.objects.get(action="persons.link")
    assert link_audit.after["records"] == len(index) and "Nguy" not in str(link_audit.after)

    # A re-run with the same model moves nobody: every code stays.
    second = run.run_link(actor=None, retrain=False)
    assert second.model_id == first.model_id and persons_now() == codes
    assert LinkModel.objects.count() == 1

    # Decisions survive re-runs (retraining with them as labels, too).
    pk_a, pk_b = next((a, b) for a in index for b in index if a < b and codes[a] == codes[b])
    services.decide(actor=reviewer, left_id=pk_a, right_id=pk_b, decision="not_match")
    singles = [pk for pk in index if list(codes.values()).count(codes[pk]) == 1]
    x, y = singles[0], singles[-1]
    services.decide(actor=reviewer, left_id=x, right_id=y, decision="match")
    third = run.run_link(actor=reviewer)
    after = persons_now()
    assert third.model.version == 2
    assert after[pk_a] != after[pk_b]
    assert after[x] == after[y]
    assert not CandidatePair.objects.filter(run=third, left_id=pk_a, right_id=pk_b).exists()
    # Persons keep their codes where their records stayed together.
    unchanged = [pk for pk in index if pk not in (pk_a, pk_b, x, y)]
    assert sum(after[pk] == codes[pk] for pk in unchanged) >= 0.95 * len(unchanged)

    out = tmp_path / "clusters.csv"
    assert run.export_clusters(str(out), actor=reviewer) == len(index)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0].keys() == {"source", "record_id", "person_id"}
    assert {row["person_id"] for row in rows} == set(after.values())
    assert AuditRecord.objects.get(action="persons.export").after["rows"] == len(index)


def test_a_decision_taken_while_the_run_computes_is_not_overridden(index, reviewer, monkeypatch):
    from chinhquyenso.persons.linkage import pipeline

    run.run_link(actor=reviewer)
    codes = persons_now()
    pk_a, pk_b = next((a, b) for a in index for b in index if a < b and codes[a] == codes[b])
    original = pipeline.link

    def link_then_someone_decides(*args, **kwargs):
        result = original(*args, **kwargs)
        services.decide(actor=reviewer, left_id=pk_a, right_id=pk_b, decision="not_match")
        return result

    monkeypatch.setattr(pipeline, "link", link_then_someone_decides)
    run.run_link(actor=reviewer, retrain=False)
    after = persons_now()
    assert after[pk_a] != after[pk_b]

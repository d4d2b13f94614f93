"""Writes of the master person index by officers: pair decisions, merges, splits and undoing them.

Every write: the actor must hold both grants (access.require_review; a read-only auditor is refused),
one transaction, the Person rows involved locked with select_for_update in the order of their ids (two
reviewers working on overlapping persons queue instead of overwriting each other), then the code counter,
then the audit record (record ids and person codes only — never names or ID numbers).

A change of which person records belong to is kept as a ClusterChange with the records it moved
(`before`/`after`: record id → person id), so that `unmerge` can put `before` back. So that the next
linking run does not undo an officer's work, merges, splits and unmerges also record the pair decisions
they imply: "match" between records they put together, "not a match" between records they put apart
(persons.linkage.pipeline takes them as must-link and cannot-link constraints)."""

from __future__ import annotations

from collections import defaultdict

from django.db import connection, transaction

from chinhquyenso.core import audit
from chinhquyenso.core.errors import Conflict, DomainError, NotFound
from chinhquyenso.core.models import CodeCounter
from chinhquyenso.persons import access
from chinhquyenso.persons.golden import golden_record
from chinhquyenso.persons.models import (
    PERSON_FIELDS,
    CandidatePair,
    ClusterChange,
    Decision,
    PairDecision,
    Person,
    SourceRecord,
)

CODE_KEY = "persons.person"
CODE_PREFIX = "CN"
CODE_DIGITS = 8
NOTE_MAX = 2000


# --- Shared with the linking run ------------------------------------------------------------------------


def new_codes(count: int) -> list[str]:
    """`count` new person codes ("CN" + 8 digits) from the core code counter, in one lock."""
    if count <= 0:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("persons.services.new_codes must run inside the transaction that uses the codes")
    counter, _ = CodeCounter.objects.select_for_update().get_or_create(key=CODE_KEY)
    first = counter.value + 1
    counter.value += count
    counter.save(update_fields=["value"])
    return [f"{CODE_PREFIX}{number:0{CODE_DIGITS}d}" for number in range(first, first + count)]


def create_persons(count: int) -> list[Person]:
    persons = [Person(code=code) for code in new_codes(count)]
    Person.objects.bulk_create(persons, batch_size=5000)
    if persons and persons[0].pk is None:  # backends without RETURNING on bulk insert
        by_code = dict(Person.objects.filter(code__in=[p.code for p in persons]).values_list("code", "pk"))
        for person in persons:
            person.pk = by_code[person.code]
    return persons


def move_records(assignments: dict[int, int | None]) -> int:
    """Set SourceRecord.person for many records at once: {record id: person id}. On PostgreSQL through a
    temporary table and one UPDATE … FROM; elsewhere executemany."""
    if not assignments:
        return 0
    rows = list(assignments.items())
    table = SourceRecord._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS persons_moves (record_id bigint, person_id bigint)")
            cursor.execute("TRUNCATE persons_moves")
            for start in range(0, len(rows), 10_000):
                chunk = rows[start : start + 10_000]
                placeholders = ",".join(["(%s,%s)"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO persons_moves (record_id, person_id) VALUES {placeholders}",
                    [value for row in chunk for value in row],
                )
            cursor.execute(
                f"UPDATE {table} AS r SET person_id = m.person_id FROM persons_moves AS m WHERE r.id = m.record_id"
            )
            cursor.execute("DROP TABLE persons_moves")
        else:
            cursor.executemany(
                f"UPDATE {table} SET person_id = %s WHERE id = %s", [(person, record) for record, person in rows]
            )
    return len(rows)


def refresh_persons(person_ids) -> None:
    """Recompute record_count, active and the golden record of the given persons."""
    ids = sorted({pk for pk in person_ids if pk is not None})
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        records = defaultdict(list)
        for record in SourceRecord.objects.filter(person_id__in=chunk).only(*_GOLDEN_FIELDS).order_by("pk"):
            records[record.person_id].append(record)
        persons = list(Person.objects.filter(pk__in=chunk))
        for person in persons:
            mine = records.get(person.pk, [])
            person.record_count = len(mine)
            person.active = bool(mine)
            person.golden = golden_record(mine)
        Person.objects.bulk_update(persons, ["record_count", "active", "golden", "updated_at"], batch_size=1000)


_GOLDEN_FIELDS = ("pk", "person_id", "source", *PERSON_FIELDS, "recorded_on", "verified")


def latest_decisions() -> dict[tuple[int, int], str]:
    """(left id, right id) → the decision in force (the latest) for every decided pair."""
    result = {}
    for left, right, decision in PairDecision.objects.order_by("at", "pk").values_list(
        "left_id", "right_id", "decision"
    ):
        result[(min(left, right), max(left, right))] = decision
    return result


# --- Helpers ---------------------------------------------------------------------------------------------


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError(f"Ghi chú dài quá {NOTE_MAX} ký tự.", field="note")
    return note


def _lock_persons(ids) -> dict[int, Person]:
    ids = sorted({pk for pk in ids if pk is not None})
    return {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def _records(ids) -> dict[int, SourceRecord]:
    records = {r.pk: r for r in SourceRecord.objects.filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in records]
    if missing:
        raise NotFound("Không tìm thấy bản ghi cá nhân đã chọn.", field="record")
    return records


def _apply(*, actor, kind, moves: dict[int, int | None], before: dict[int, int | None], note="", run=None):
    """Move records, refresh the persons touched, keep the ClusterChange."""
    move_records(moves)
    refresh_persons(set(moves.values()) | set(before.values()))
    return ClusterChange.objects.create(
        kind=kind,
        run=run,
        before={str(k): v for k, v in sorted(before.items())},
        after={str(k): v for k, v in sorted(moves.items())},
        note=note,
        actor=actor if getattr(actor, "pk", None) else None,
    )


def _constraints(*, actor, before: dict[int, int | None], after: dict[int, int | None], note: str, weight=None):
    """The pair decisions implied by a change (called after the move): for each moved record, "match" with
    each record it is now together with and was not before, "not a match" with each record it was together
    with and is not any more. Work is bounded by the moved records times the size of their persons."""
    persons = {pk for pk in list(before.values()) + list(after.values()) if pk is not None}
    now = defaultdict(set)
    state_after = {}
    for record, person in SourceRecord.objects.filter(person_id__in=persons).values_list("pk", "person_id"):
        now[person].add(record)
        state_after[record] = person
    then = defaultdict(set)
    for record, person in state_after.items():
        then[before.get(record, person)].add(record)
    for record, person in before.items():
        if record not in state_after and person is not None:
            then[person].add(record)
    pairs = {}
    for record in sorted(set(before) | set(after)):
        was = then.get(before.get(record), set()) if before.get(record) is not None else set()
        now_with = now.get(state_after.get(record), set()) if state_after.get(record) is not None else set()
        for other in now_with - was - {record}:
            pairs[(min(record, other), max(record, other))] = Decision.MATCH
        for other in was - now_with - {record}:
            pairs[(min(record, other), max(record, other))] = Decision.NOT_MATCH
    PairDecision.objects.bulk_create(
        [
            PairDecision(left_id=a, right_id=b, decision=d, note=note, match_weight=weight, actor=actor)
            for (a, b), d in sorted(pairs.items())
        ],
        batch_size=2000,
    )
    return len(pairs)


def _pair_weight(left_id: int, right_id: int):
    pair = CandidatePair.objects.filter(left_id=left_id, right_id=right_id).order_by("-run_id").first()
    return pair.match_weight if pair else None


# --- Decisions -------------------------------------------------------------------------------------------


def decide(*, actor, left_id: int, right_id: int, decision: str, note: str = "") -> PairDecision:
    """Record an officer's decision on a pair. "match" merges the two records' persons now; "not_match"
    takes the right record out of the person when both are in one; "unsure" only records."""
    access.require_review(actor)
    if decision not in Decision.values:
        raise DomainError(
            "Quyết định không hợp lệ: chọn cùng một người, không phải cùng người hoặc chưa chắc chắn.", field="decision"
        )
    note = _note(note)
    left_id, right_id = int(left_id), int(right_id)
    if left_id == right_id:
        raise DomainError("Hai bản ghi của cặp phải khác nhau.", field="right")
    left_id, right_id = min(left_id, right_id), max(left_id, right_id)
    with transaction.atomic():
        records = _records([left_id, right_id])
        persons = _lock_persons([records[left_id].person_id, records[right_id].person_id])
        # Re-read under the locks: another reviewer may have moved them meanwhile.
        records = {r.pk: r for r in SourceRecord.objects.filter(pk__in=[left_id, right_id])}
        left, right = records[left_id], records[right_id]
        if (left.person_id and left.person_id not in persons) or (right.person_id and right.person_id not in persons):
            persons.update(_lock_persons([left.person_id, right.person_id]))
        pair_decision = PairDecision.objects.create(
            left=left,
            right=right,
            decision=decision,
            note=note,
            match_weight=_pair_weight(left_id, right_id),
            actor=actor,
        )
        change = None
        if decision == Decision.MATCH and (left.person_id is None or left.person_id != right.person_id):
            change = _merge_records(actor, left, right, note)
        elif decision == Decision.NOT_MATCH and left.person_id is not None and left.person_id == right.person_id:
            new_person = create_persons(1)[0]
            change = _apply(
                actor=actor,
                kind=ClusterChange.Kind.SPLIT,
                moves={right.pk: new_person.pk},
                before={right.pk: right.person_id},
                note=note,
            )
        audit.record(
            actor=actor,
            action="persons.decide",
            obj=pair_decision,
            after={
                "left": left_id,
                "right": right_id,
                "decision": decision,
                "change": change.pk if change else None,
            },
        )
    return pair_decision


def _merge_records(actor, left, right, note):
    """Put the persons of two records together (records without a person join the other's)."""
    if left.person_id is None and right.person_id is None:
        target = create_persons(1)[0].pk
        moves = {left.pk: target, right.pk: target}
        before = {left.pk: None, right.pk: None}
    else:
        candidates = sorted(pk for pk in (left.person_id, right.person_id) if pk is not None)
        target = candidates[0]
        sources = [pk for pk in candidates if pk != target]
        moving = list(SourceRecord.objects.filter(person_id__in=sources).values_list("pk", "person_id"))
        moves = {pk: target for pk, _ in moving}
        before = dict(moving)
        for record in (left, right):
            if record.person_id is None:
                moves[record.pk] = target
                before[record.pk] = None
    return _apply(actor=actor, kind=ClusterChange.Kind.MERGE, moves=moves, before=before, note=note)


# --- Merge, split, unmerge -------------------------------------------------------------------------------


def merge(*, actor, person_codes: list[str], note: str = "") -> ClusterChange:
    """Merge the persons with these codes into the oldest of them."""
    access.require_review(actor)
    note = _note(note)
    codes = sorted({(code or "").strip() for code in person_codes if (code or "").strip()})
    if len(codes) < 2:
        raise DomainError("Chọn ít nhất hai cá nhân để gộp.", field="person_codes")
    with transaction.atomic():
        ids = list(Person.objects.filter(code__in=codes).values_list("pk", flat=True))
        if len(ids) != len(codes):
            raise NotFound("Không tìm thấy một trong các cá nhân đã chọn.", field="person_codes")
        persons = _lock_persons(ids)
        if any(not p.active for p in persons.values()):
            raise Conflict("Một trong các cá nhân đã chọn không còn bản ghi nào (đã được gộp trước đó).")
        target = min(persons)
        moving = list(
            SourceRecord.objects.filter(person_id__in=[pk for pk in persons if pk != target]).values_list(
                "pk", "person_id"
            )
        )
        before = dict(moving)
        moves = {pk: target for pk, _ in moving}
        change = _apply(actor=actor, kind=ClusterChange.Kind.MERGE, moves=moves, before=before, note=note)
        implied = _constraints(actor=actor, before=before, after=moves, note=note or "Gộp cá nhân")
        audit.record(
            actor=actor,
            action="persons.merge",
            obj=change,
            after={
                "persons": [persons[pk].code for pk in sorted(persons)],
                "into": persons[target].code,
                "records": sorted(moves),
                "decisions": implied,
            },
        )
    return change


def split(*, actor, record_ids: list[int], note: str = "") -> ClusterChange:
    """Take these records (all of one person, not all its records) out into a new person."""
    access.require_review(actor)
    note = _note(note)
    ids = sorted({int(pk) for pk in record_ids})
    if not ids:
        raise DomainError("Chọn ít nhất một bản ghi để tách.", field="record_ids")
    with transaction.atomic():
        records = _records(ids)
        person_ids = {r.person_id for r in records.values()}
        if len(person_ids) != 1 or None in person_ids:
            raise DomainError("Các bản ghi cần tách phải cùng thuộc một cá nhân.", field="record_ids")
        _lock_persons(person_ids)
        (person_id,) = person_ids
        remaining = SourceRecord.objects.filter(person_id=person_id).exclude(pk__in=ids).count()
        if SourceRecord.objects.filter(pk__in=ids, person_id=person_id).count() != len(ids):
            raise Conflict("Bản ghi vừa được người khác thay đổi; hãy tải lại trang.")
        if remaining == 0:
            raise DomainError("Không thể tách tất cả bản ghi của một cá nhân.", field="record_ids")
        new_person = create_persons(1)[0]
        moves = {pk: new_person.pk for pk in ids}
        before = {pk: person_id for pk in ids}
        change = _apply(actor=actor, kind=ClusterChange.Kind.SPLIT, moves=moves, before=before, note=note)
        implied = _constraints(actor=actor, before=before, after=moves, note=note or "Tách bản ghi")
        audit.record(
            actor=actor,
            action="persons.split",
            obj=change,
            after={"records": ids, "into": new_person.code, "decisions": implied},
        )
    return change


def unmerge(*, actor, change_id: int) -> ClusterChange:
    """Undo a change (a merge, a split, a run, or an unmerge): the records it moved go back to the persons
    they had before. Refused when it was undone already or when its records moved again since."""
    access.require_review(actor)
    with transaction.atomic():
        change = ClusterChange.objects.select_for_update().filter(pk=change_id).first()
        if change is None:
            raise NotFound("Không tìm thấy thay đổi cần hoàn tác.", field="change")
        if change.undone_by_id:
            raise Conflict("Thay đổi này đã được hoàn tác trước đó.")
        if not change.after:
            raise DomainError(
                "Lượt so khớp này chuyển quá nhiều bản ghi nên không lưu chi tiết để hoàn tác; hãy tách hoặc gộp từng cá nhân.",
                field="change",
            )
        restore = {int(k): v for k, v in change.before.items()}
        expected = {int(k): v for k, v in change.after.items()}
        _lock_persons(set(restore.values()) | set(expected.values()))
        current = dict(SourceRecord.objects.filter(pk__in=list(expected)).values_list("pk", "person_id"))
        if any(current.get(pk) != person for pk, person in expected.items()):
            raise Conflict(
                "Các bản ghi của thay đổi này đã được thay đổi tiếp sau đó; hãy hoàn tác các thay đổi sau trước."
            )
        undo = _apply(
            actor=actor,
            kind=ClusterChange.Kind.UNMERGE,
            moves=restore,
            before=current,
            note=f"Hoàn tác thay đổi số {change.pk}",
        )
        implied = _constraints(actor=actor, before=current, after=restore, note=f"Hoàn tác thay đổi số {change.pk}")
        change.undone_by = undo
        change.save(update_fields=["undone_by"])
        audit.record(
            actor=actor,
            action="persons.unmerge",
            obj=undo,
            after={"undoes": change.pk, "records": sorted(restore), "decisions": implied},
        )
    return undo

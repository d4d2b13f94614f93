"""A linking run over the whole index: sync the platform's own sources, build the frame from every
SourceRecord, train a new model version (or reuse the latest), link, and write the result back — persons
with stable codes, the review queue, one ClusterChange and the audit records.

Nothing here changes a source record's fields: a run only sets which Person each record belongs to.
Officers' decisions (the latest per pair) are constraints of the clustering, so a re-run never undoes them.

`actor` None means the system (the `cqs persons` command, run by an operator with shell access);
a user must hold both grants (access.require_review)."""

from __future__ import annotations

import csv
import io
import logging
import time
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.persons import access, services
from chinhquyenso.persons.linkage import engines, pipeline
from chinhquyenso.persons.models import (
    PERSON_FIELDS,
    CandidatePair,
    ClusterChange,
    Decision,
    LinkModel,
    LinkRun,
    Person,
    SourceRecord,
)

log = logging.getLogger(__name__)

# A run's ClusterChange lists the records it moved (so that it can be undone) when they are at most this
# many; a bigger run (the first one, a new model) keeps only the counts.
RUN_CHANGE_DETAIL_MAX = 10_000

_FRAME_FIELDS = ("pk", *PERSON_FIELDS)


# --- The frame -------------------------------------------------------------------------------------------


def _successors() -> dict:
    """commune id → the id of its current successor (itself when current), cached for the run."""
    from chinhquyenso.org.models import Agency
    from chinhquyenso.org.selectors import current_successor

    cache = {}

    def successor(commune_id):
        if commune_id is None:
            return None
        if commune_id not in cache:
            agency = current_successor(Agency(pk=commune_id))
            cache[commune_id] = agency.pk if agency is not None else commune_id
        return cache[commune_id]

    return successor


def records_for_frame():
    """The SourceRecords as frame_row input dicts (a streaming iterator)."""
    successor = _successors()
    rows = SourceRecord.objects.order_by("pk").values(*_FRAME_FIELDS).iterator(chunk_size=20_000)
    for row in rows:
        row["unique_id"] = row.pop("pk")
        row["commune_id"] = successor(row["commune_id"])
        yield row


def build_frame() -> pd.DataFrame:
    from chinhquyenso.persons.linkage import frame

    return frame.build_frame(records_for_frame())


def decisions_in_force() -> list[tuple[int, int, str]]:
    """(left, right, decision) for each pair whose latest decision is match or not_match."""
    return [
        (left, right, decision)
        for (left, right), decision in services.latest_decisions().items()
        if decision in (Decision.MATCH, Decision.NOT_MATCH)
    ]


def labels_frame(decisions) -> pd.DataFrame:
    return pd.DataFrame(
        [(left, right, 1.0 if decision == Decision.MATCH else 0.0) for left, right, decision in decisions],
        columns=["unique_id_l", "unique_id_r", "clerical_match_score"],
    )


def model_from_row(row: LinkModel) -> pipeline.TrainedModel:
    return pipeline.TrainedModel(
        settings=row.parameters,
        link_weight=row.link_weight,
        review_weight=row.review_weight,
        histogram=row.training.get("histogram", []),
        labels_used=row.training.get("labels_used", 0),
        engine=row.engine,
    )


# --- The run ---------------------------------------------------------------------------------------------


def run_link(*, actor, engine: str | None = None, retrain: bool = True) -> LinkRun:
    """Link every source record (see the module docstring). Returns the finished LinkRun."""
    if actor is not None:
        access.require_review(actor)
    engine = engines.check_engine(engine)
    started = time.perf_counter()
    from chinhquyenso.persons import sources

    sources.sync_all(actor=actor)
    frame = build_frame()
    if frame.empty:
        raise DomainError("Chưa có bản ghi cá nhân nào để so khớp: hãy nhập hồ sơ sức khỏe trước.")
    decisions = decisions_in_force()
    latest = LinkModel.objects.order_by("-version").first()
    if retrain or latest is None:
        result = pipeline.link(frame, engine=engine, labels=labels_frame(decisions), decisions=decisions)
        model_row = _save_model(actor, result.model, records=len(frame))
    else:
        result = pipeline.link(frame, model=model_from_row(latest), engine=engine, decisions=decisions)
        model_row = latest
    with transaction.atomic():
        link_run = LinkRun.objects.create(
            model=model_row,
            engine=engine,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        try:
            counts = _write(actor, link_run, result, frame, decisions)
        except Exception:
            log.exception("persons: writing the linking run failed")
            raise
        link_run.status = LinkRun.Status.DONE
        link_run.records = len(frame)
        link_run.pairs = int(result.compared)
        link_run.linked_pairs = counts["linked_pairs"]
        link_run.review_pairs = counts["review_pairs"]
        link_run.persons = counts["persons"]
        link_run.seconds = round(time.perf_counter() - started, 3)
        link_run.finished_at = timezone.now()
        if result.conflicts:
            link_run.message = (
                f"{len(result.conflicts)} cặp được quyết định là khác người nhưng vẫn bị các quyết định "
                "“cùng một người” khác nối với nhau; hãy xem lại các quyết định của những bản ghi này."
            )
        link_run.save()
        audit.record(
            actor=actor,
            action="persons.link",
            obj=link_run,
            after={
                "model": model_row.version,
                "engine": engine,
                "records": link_run.records,
                "pairs": link_run.pairs,
                "linked_pairs": link_run.linked_pairs,
                "review_pairs": link_run.review_pairs,
                "persons": link_run.persons,
                "moved": counts["moved"],
                "new_persons": counts["new_persons"],
                "conflicts": len(result.conflicts),
                "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
            },
        )
    return link_run


def _save_model(actor, model: pipeline.TrainedModel, *, records: int) -> LinkModel:
    with transaction.atomic():
        version = (LinkModel.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0) + 1
        row = LinkModel.objects.create(
            version=version,
            engine=model.engine,
            parameters=model.settings,
            link_weight=model.link_weight,
            review_weight=model.review_weight,
            training={"records": records, "labels_used": model.labels_used, "histogram": model.histogram},
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(
            actor=actor,
            action="persons.train",
            obj=row,
            after={
                "version": version,
                "engine": model.engine,
                "records": records,
                "labels_used": model.labels_used,
                "link_weight": round(model.link_weight, 3),
                "review_weight": round(model.review_weight, 3),
            },
        )
    return row


def assign_persons(clusters: pd.DataFrame, current: dict[int, int | None]) -> tuple[dict, list]:
    """Which person each cluster becomes: the existing person holding most of its records (ties: the
    oldest, i.e. the lowest id), each person to one cluster at most, the larger claims first; the others
    need new persons. Returns ({cluster id: person id}, [cluster ids needing a new person])."""
    members = defaultdict(list)
    for uid, cid in zip(clusters["unique_id"].tolist(), clusters["cluster_id"].tolist(), strict=True):
        members[cid].append(uid)
    claims = []
    for cid, uids in members.items():
        for person, count in Counter(current.get(uid) for uid in uids).items():
            if person is not None:
                claims.append((-count, person, cid))
    claims.sort()
    taken_clusters, taken_persons, chosen = set(), set(), {}
    for _count, person, cid in claims:
        if cid in taken_clusters or person in taken_persons:
            continue
        chosen[cid] = person
        taken_clusters.add(cid)
        taken_persons.add(person)
    fresh = sorted(cid for cid in members if cid not in chosen)
    return chosen, fresh


def _write(actor, link_run: LinkRun, result: pipeline.LinkResult, frame: pd.DataFrame, used: list) -> dict:
    model = result.model
    # Officers may have decided pairs while the model trained: cluster again with what is in force now
    # (cheap: the scored pairs are in memory), so that no decision is overridden by this run.
    in_force = decisions_in_force()
    if sorted(in_force) != sorted(used):
        result.clusters, result.conflicts = pipeline.cluster(frame, result.pairs, model.link_weight, in_force)
    current = dict(SourceRecord.objects.values_list("pk", "person_id"))
    chosen, fresh = assign_persons(result.clusters, current)
    new_persons = services.create_persons(len(fresh))
    for cid, person in zip(fresh, new_persons, strict=True):
        chosen[cid] = person.pk
    target = {
        uid: chosen[cid]
        for uid, cid in zip(result.clusters["unique_id"].tolist(), result.clusters["cluster_id"].tolist(), strict=True)
    }
    moves = {uid: person for uid, person in target.items() if current.get(uid) != person}
    before = {uid: current.get(uid) for uid in moves}
    services.move_records(moves)
    touched = set(moves.values()) | {p for p in before.values() if p is not None}
    services.refresh_persons(touched)

    detail = len(moves) <= RUN_CHANGE_DETAIL_MAX
    ClusterChange.objects.create(
        kind=ClusterChange.Kind.RUN,
        run=link_run,
        before={str(k): v for k, v in sorted(before.items())} if detail else {},
        after={str(k): v for k, v in sorted(moves.items())} if detail else {},
        note=f"Lượt so khớp {link_run.pk}: {len(moves)} bản ghi đổi cá nhân, {len(new_persons)} cá nhân mới.",
        actor=actor if getattr(actor, "pk", None) else None,
    )

    # The review queue: pairs in [review_weight, link_weight) no officer has decided, the nearest to the
    # link threshold first (where a decision changes the outcome most), at most CQS["PERSONS_REVIEW_MAX"].
    pairs = result.pairs
    zone = pairs[(pairs["match_weight"] >= model.review_weight) & (pairs["match_weight"] < model.link_weight)]
    decided = {(left, right) for left, right, _d in in_force}
    if len(zone) and decided:
        keys = list(zip(zone["unique_id_l"].astype(int), zone["unique_id_r"].astype(int), strict=True))
        zone = zone[[key not in decided for key in keys]]
    zone = zone.assign(_distance=(zone["match_weight"] - model.link_weight).abs()).sort_values(
        ["_distance", "unique_id_l", "unique_id_r"], kind="stable"
    )
    zone = zone.head(int(settings.CQS.get("PERSONS_REVIEW_MAX", 20_000)))
    prior = model.prior_weight
    candidates = []
    for row in zone.to_dict("records"):
        chart = pipeline.waterfall(row, model)
        candidates.append(
            CandidatePair(
                run=link_run,
                left_id=int(row["unique_id_l"]),
                right_id=int(row["unique_id_r"]),
                match_weight=float(row["match_weight"]),
                match_probability=float(row["match_probability"]),
                prior_weight=prior,
                comparisons=chart["bars"],
            )
        )
    CandidatePair.objects.bulk_create(candidates, batch_size=2000)
    return {
        "linked_pairs": int((pairs["match_weight"] >= model.link_weight).sum()),
        "review_pairs": len(candidates),
        "persons": Person.objects.filter(active=True).count(),
        "moved": len(moves),
        "new_persons": len(new_persons),
    }


# --- Export ----------------------------------------------------------------------------------------------


def export_clusters(path_or_file, *, actor) -> int:
    """Write source,record_id,person_id (the record's id at its source and the person's code), one row per
    source record; returns the rows written. Audited (persons.export)."""
    if actor is not None:
        access.require_view(actor)
    own = isinstance(path_or_file, str | Path)
    handle = open(path_or_file, "w", encoding="utf-8", newline="") if own else path_or_file  # noqa: SIM115
    if isinstance(handle, io.RawIOBase | io.BufferedIOBase):
        handle = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    rows = 0
    try:
        writer = csv.writer(handle)
        writer.writerow(["source", "record_id", "person_id"])
        records = SourceRecord.objects.order_by("source", "source_id").values_list(
            "source", "source_id", "person__code"
        )
        for source, source_id, code in records.iterator(chunk_size=20_000):
            writer.writerow([source, source_id, code or ""])
            rows += 1
    finally:
        if own:
            handle.close()
        elif isinstance(handle, io.TextIOWrapper):
            handle.flush()
            handle.detach()
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="persons.export",
            object_type="persons.SourceRecord",
            after={"rows": rows, "columns": ["source", "record_id", "person_id"]},
        )
    return rows

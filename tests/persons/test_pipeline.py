"""The linkage pipeline on frames (no database): training, thresholds from the match-weight
distribution, labels, clustering with officers' constraints, the waterfall of a pair."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import defaultdict

import pandas as pd
import pytest

from chinhquyenso.persons import synthetic
from chinhquyenso.persons.linkage import frame as linkage_frame
from chinhquyenso.persons.linkage import pipeline


def pairs_of(assignment: dict) -> set:
    groups = defaultdict(list)
    for uid, cluster in assignment.items():
        groups[cluster].append(uid)
    return {tuple(sorted(p)) for members in groups.values() for p in itertools.combinations(members, 2)}


@pytest.fixture(scope="module")
def population():
    records, _stats = synthetic.generate(150, seed=3)
    frame = linkage_frame.build_frame(records)
    truth = {r["unique_id"]: r["truth_id"] for r in records}
    return frame, truth


@pytest.fixture(scope="module")
def linked(population):
    frame, _truth = population
    return pipeline.link(frame)


def test_training_learns_m_and_u_for_every_comparison(linked):
    model = linked.model
    assert model.engine == "duckdb" and model.labels_used == 0
    p = model.settings["probability_two_random_records_match"]
    assert 0 < p < 0.05
    for comparison in model.settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        # On 240 records some rare levels (a lunar date, a two-letter typo) are never seen and keep
        # Splink's defaults; the strictest level and "different" always get both estimates.
        top = levels[0]
        assert isinstance(top.get("m_probability"), float), (comparison["output_column_name"], top)
        assert isinstance(top.get("u_probability"), float), (comparison["output_column_name"], top)
        assert top["m_probability"] > top["u_probability"], comparison["output_column_name"]
    trained = [lv for c in model.settings["comparisons"] for lv in c["comparison_levels"] if "m_probability" in lv]
    assert len(trained) >= 15


def test_thresholds_fall_between_the_non_match_and_match_modes(population, linked):
    frame, truth = population
    model = linked.model
    assert model.review_weight <= model.link_weight - pipeline.REVIEW_SPAN_MIN
    assert sum(bin_["count"] for bin_ in model.histogram) == linked.compared
    # Score every blocked pair (not only those above the review threshold) and split by the truth.
    scored = pipeline.link(frame, model=dataclasses.replace(model, review_weight=-1e9))
    assert scored.compared == linked.compared == len(scored.pairs)
    pairs = scored.pairs
    same = pd.Series([truth[a] == truth[b] for a, b in zip(pairs["unique_id_l"], pairs["unique_id_r"], strict=True)])
    matches, non_matches = pairs.loc[same.to_numpy(), "match_weight"], pairs.loc[~same.to_numpy(), "match_weight"]
    assert matches.quantile(0.05) > model.link_weight
    assert non_matches.quantile(0.95) < model.link_weight
    assert non_matches.median() < model.review_weight < matches.median()


def test_linking_finds_the_known_duplicates(population, linked):
    frame, truth = population
    clusters = dict(zip(linked.clusters["unique_id"], linked.clusters["cluster_id"], strict=True))
    assert set(clusters) == set(frame["unique_id"])
    found, true = pairs_of(clusters), pairs_of(truth)
    precision = len(found & true) / len(found)
    recall = len(found & true) / len(true)
    assert precision >= 0.95 and recall >= 0.9, (precision, recall)
    # Cluster ids are the smallest record id of the cluster, whatever the engine called them.
    groups = defaultdict(list)
    for uid, cid in clusters.items():
        groups[cid].append(uid)
    assert all(cid == min(members) for cid, members in groups.items())


def test_thresholds_from_a_histogram_with_a_valley():
    counts = {
        -20: 50,
        -18: 400,
        -16: 900,
        -14: 600,
        -12: 200,
        -10: 40,
        -8: 5,
        -4: 1,
        2: 3,
        6: 20,
        8: 60,
        10: 80,
        12: 30,
    }
    histogram = [{"from": w, "to": w + 1, "count": c} for w, c in counts.items()]
    link, review = pipeline.choose_thresholds(histogram)
    assert -8 < link < 6 and link >= 0  # in the empty stretch, never below probability 0.5
    assert review <= link - pipeline.REVIEW_SPAN_MIN
    # One mode only: probability 0.99; nothing at all: the same.
    one_mode = [{"from": w, "to": w + 1, "count": 100 - abs(w) * 5} for w in range(-15, 5)]
    assert pipeline.choose_thresholds(one_mode)[0] == pytest.approx(math.log2(99))
    assert pipeline.choose_thresholds([])[0] == pytest.approx(math.log2(99))


def test_labels_change_the_model(population, linked):
    frame, truth = population
    by_person = defaultdict(list)
    for uid, person in truth.items():
        by_person[person].append(uid)
    matches = [sorted(ids)[:2] for ids in by_person.values() if len(ids) > 1][:15]
    labels = pd.DataFrame(
        [(a, b, 1.0) for a, b in matches] + [(matches[0][0], matches[1][0], 0.0)],
        columns=["unique_id_l", "unique_id_r", "clerical_match_score"],
    )
    model = pipeline.train(frame, labels=labels)
    assert model.labels_used == len(matches)  # "not a match" labels are constraints, not m estimates
    before = {c["output_column_name"]: c for c in linked.model.settings["comparisons"]}
    changed = 0
    for comparison in model.settings["comparisons"]:
        old = before[comparison["output_column_name"]]["comparison_levels"]
        for new_level, old_level in zip(comparison["comparison_levels"], old, strict=True):
            if "m_probability" in new_level and abs(new_level["m_probability"] - old_level["m_probability"]) > 1e-6:
                changed += 1
        total = sum(lv["m_probability"] for lv in comparison["comparison_levels"] if "m_probability" in lv)
        assert total == pytest.approx(1.0, abs=1e-4)
    assert changed > 0


def _toy():
    frame = pd.DataFrame({"unique_id": [1, 2, 3, 4, 5, 6]})
    pairs = pd.DataFrame(
        [(1, 2, 12.0), (2, 3, 8.0), (3, 4, 15.0), (5, 6, 1.0)], columns=["unique_id_l", "unique_id_r", "match_weight"]
    )
    return frame, pairs


def test_clustering_links_pairs_above_the_threshold():
    frame, pairs = _toy()
    clusters, conflicts = pipeline.cluster(frame, pairs, 5.0)
    assignment = dict(zip(clusters["unique_id"], clusters["cluster_id"], strict=True))
    assert assignment == {1: 1, 2: 1, 3: 1, 4: 1, 5: 5, 6: 6} and conflicts == []


def test_a_not_match_decision_cuts_the_weakest_link_on_the_path():
    frame, pairs = _toy()
    clusters, conflicts = pipeline.cluster(frame, pairs, 5.0, [(4, 1, "not_match"), (5, 6, "match")])
    assignment = dict(zip(clusters["unique_id"], clusters["cluster_id"], strict=True))
    # 1-2-3-4 held together; 1 and 4 are not the same person: the weakest edge (2-3, weight 8) goes.
    assert assignment == {1: 1, 2: 1, 3: 3, 4: 3, 5: 5, 6: 5}
    assert conflicts == []
    # A direct not-match edge is simply removed.
    clusters, _ = pipeline.cluster(frame, pairs, 5.0, [(1, 2, "not_match")])
    assignment = dict(zip(clusters["unique_id"], clusters["cluster_id"], strict=True))
    assert assignment[1] == 1 and assignment[2] == assignment[3] == assignment[4] == 2


def test_officers_matches_are_never_cut_and_contradictions_are_reported():
    frame, pairs = _toy()
    decisions = [(1, 2, "match"), (2, 3, "match"), (3, 4, "match"), (1, 4, "not_match")]
    clusters, conflicts = pipeline.cluster(frame, pairs, 5.0, decisions)
    assignment = dict(zip(clusters["unique_id"], clusters["cluster_id"], strict=True))
    assert assignment[1] == assignment[4] == 1
    assert conflicts == [(1, 4)]
    # The latest decision of a pair is the one in force: match then not_match → not_match.
    clusters, _ = pipeline.cluster(frame, pairs, 5.0, [(1, 2, "match"), (1, 2, "not_match")])
    assignment = dict(zip(clusters["unique_id"], clusters["cluster_id"], strict=True))
    assert assignment[1] != assignment[2]


def test_the_waterfall_adds_up_to_the_match_weight(linked):
    row = linked.pairs.iloc[0]
    chart = pipeline.waterfall(row, linked.model)
    assert chart["total"] == pytest.approx(row["match_weight"], abs=1e-6)
    assert chart["prior"] == pytest.approx(linked.model.prior_weight)
    columns = [bar["column"] for bar in chart["bars"]]
    assert columns == [c["output_column_name"] for c in linked.model.settings["comparisons"]]
    labels = {bar["column"]: bar["label"] for bar in chart["bars"]}
    assert labels["given"] == "Tên" and labels["birth"] == "Ngày sinh"
    assert all(bar["level"] for bar in chart["bars"])

"""The linkage pipeline on a frame (persons.linkage.frame): train a Splink model, predict pairs, choose
the thresholds from the match-weight distribution, cluster with the officers' decisions as must-link and
cannot-link constraints. No Django database access here: run.py feeds it frames and stores what it returns.

Training (`train`):
1. the prior (probability that two random records match) from deterministic rules — same citizen ID, or
   same folded full name and full date of birth — with an assumed recall (`PRIOR_RECALL`);
2. u values by random sampling (seeded; `u_max_pairs` scales with the frame);
3. m values by expectation maximisation on each of comparisons.TRAINING_BLOCKS;
4. with officers' labels: m values re-estimated from the pairs marked "match" (Splink's
   estimate_m_from_pairwise_labels) and blended with EM's as a Dirichlet posterior — EM's m is the prior
   worth `LABEL_PRIOR_PAIRS` pairs, each labelled pair adds one observation — so that labels take over
   EM's m as they accumulate (10 labels: half; 90 labels: 90 %). "Not a match" labels do not inform m;
   they are cannot-link constraints of the clustering.
5. thresholds from the histogram of the predicted pairs' match weights (see `choose_thresholds`).

Splink 5 refuses an m value of exactly 0 (EM reaches it when a level is never seen among the matches of
a training block, e.g. a sex mismatch in clean data); the EM step here floors m at `M_FLOOR` instead,
which keeps such a level a strong (−log2 weight ≈ 20) but finite piece of evidence against a match."""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
from splink.internals.exceptions import EMTrainingException

from chinhquyenso.core.errors import DomainError
from chinhquyenso.persons.linkage import engines

log = logging.getLogger(__name__)

PRIOR_RECALL = 0.6  # share of true duplicates the deterministic rules are assumed to find
LABEL_PRIOR_PAIRS = 10  # EM's m counts as this many labelled pairs when labels are blended in
M_FLOOR = 1e-6
MUST_LINK_WEIGHT = 1_000.0  # an officer's "match": an edge no cut removes
NO_VALLEY_PROBABILITY = 0.99  # link threshold when the histogram shows no valley
LINK_WEIGHT_MIN = 0.0  # probability 0.5: the link threshold is never below it...
LINK_WEIGHT_MAX = math.log2(0.9999 / 0.0001)  # ...nor above probability 0.9999 (weight 13.3)
REVIEW_SPAN_MIN = 2.0  # the review zone is at least this many weight units wide
VALLEY_RATIO = 0.5  # a valley: a bin at most half as full as the lower of the two modes around it
EM_MAX_PAIRS = 5_000_000  # EM sessions sample their blocked pairs down to this on large frames
EM_SAMPLE_FROM = 200_000  # records from which the EM sessions sample

# Rules that admit (almost) no different persons, for the prior: the same ID number (9 with 9, 12 with 12),
# the same social-insurance code, the same folded full name and full date of birth.
DETERMINISTIC_RULES = [
    'l."id_number" = r."id_number" AND l."id_kind" = r."id_kind"',
    'l."insurance" = r."insurance"',
    'l."name" = r."name" AND l."birth_date" = r."birth_date"',
]


# --- The model ------------------------------------------------------------------------------------------


@dataclass
class TrainedModel:
    settings: dict  # Splink's saved model JSON (comparisons with m and u, the prior, blocking rules)
    link_weight: float
    review_weight: float
    histogram: list[dict] = field(default_factory=list)  # [{"from", "to", "count"}] of predicted pairs
    labels_used: int = 0
    engine: str = "duckdb"

    @property
    def prior_weight(self) -> float:
        p = self.settings.get("probability_two_random_records_match") or 1e-4
        return math.log2(p / (1 - p))


@dataclass
class LinkResult:
    model: TrainedModel
    pairs: pd.DataFrame  # predicted pairs with match_weight ≥ model.review_weight
    clusters: pd.DataFrame  # unique_id, cluster_id (the smallest unique_id of the cluster)
    seconds: dict = field(default_factory=dict)
    compared: int = 0  # pairs the blocking rules put together and the model scored
    conflicts: list = field(default_factory=list)  # not-match pairs held together by officers' matches


def _spec():
    """The comparisons (H1's comparisons module): settings, EM training blocks, deterministic rules."""
    from chinhquyenso.persons.linkage import comparisons

    rules = getattr(comparisons, "DETERMINISTIC_RULES", None) or DETERMINISTIC_RULES
    return comparisons.settings_dict(), list(comparisons.TRAINING_BLOCKS), list(rules)


def _install_em_floor() -> None:
    """Floor EM's m values at M_FLOOR (Splink 5 raises on an m of exactly 0). Installed once."""
    from splink.internals import expectation_maximisation as em

    if getattr(em.populate_m_u_from_lookup, "_cqs_floor", False):
        return
    original = em.populate_m_u_from_lookup

    def populate(fixed, level, output_column_name, lookup):
        values = lookup.get(output_column_name, {}).get(level.comparison_vector_value)
        m = values.get("m_probability") if values else None
        if isinstance(m, int | float) and m < M_FLOOR:
            values["m_probability"] = M_FLOOR
        return original(fixed, level, output_column_name, lookup)

    populate._cqs_floor = True
    em.populate_m_u_from_lookup = populate


def _linker(table, settings):
    from splink import Linker

    return Linker(table, settings, log_level=None)  # the project configures logging, not Splink


def _register(api, frame: pd.DataFrame):
    return engines.register_frame(api, frame)


# --- Training --------------------------------------------------------------------------------------------


def train(frame: pd.DataFrame, *, engine: str = "duckdb", labels: pd.DataFrame | None = None, seed: int = 1):
    """Train a model on `frame` (see the module's docstring). labels: unique_id_l, unique_id_r,
    clerical_match_score (1 match, 0 not a match) or None."""
    engine = engines.check_engine(engine)
    with engines.job(engine) as api:
        model, _linker_, _predictions, _seconds = _train(api, frame, engine=engine, labels=labels, seed=seed)
    return model


def _train(api, frame, *, engine, labels, seed):
    _install_em_floor()
    settings, training_blocks, deterministic = _spec()
    seconds = {}
    started = time.perf_counter()
    table = _register(api, frame)
    linker = _linker(table, settings)
    n = len(frame)

    if deterministic:
        try:
            linker.training.estimate_probability_two_random_records_match(deterministic, recall=PRIOR_RECALL)
        except ValueError:  # the rules found more than the recall allows (tiny frames): take them all
            linker.training.estimate_probability_two_random_records_match(deterministic, recall=1.0)
    # u from a random sample: 10 million pairs estimate every level well; more costs memory (2.5 M records:
    # 50 million sampled pairs held 15 GB), not accuracy.
    u_max_pairs = min(max(2e6, 20.0 * n), 1e7)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    sessions = 0
    for block in training_blocks:
        options = {"max_pairs": EM_MAX_PAIRS} if n >= EM_SAMPLE_FROM else {}
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block, **options)
            sessions += 1
        except EMTrainingException:  # the block pairs no records here (no commune known, no ID shared)
            log.warning("persons: EM training block skipped, no pairs: %s", block)
    if not sessions:
        raise DomainError(
            "Không huấn luyện được mô hình so khớp: dữ liệu chưa có cặp bản ghi nào đủ giống nhau để học."
        )
    model_json = linker.misc.save_model_to_json()
    seconds["train_em"] = time.perf_counter() - started

    labels_used = 0
    if labels is not None and len(labels):
        started = time.perf_counter()
        matches = labels[labels["clerical_match_score"] >= 0.5][["unique_id_l", "unique_id_r"]]
        matches = matches[
            matches["unique_id_l"].isin(frame["unique_id"]) & matches["unique_id_r"].isin(frame["unique_id"])
        ]
        if len(matches):
            model_json = _blend_labels(api, table, model_json, matches.reset_index(drop=True), frame)
            linker = _linker(table, model_json)
            labels_used = len(matches)
        seconds["train_labels"] = time.perf_counter() - started

    started = time.perf_counter()
    predictions = linker.inference.predict()
    histogram = match_weight_histogram(linker, predictions)
    link_weight, review_weight = choose_thresholds(histogram)
    seconds["predict"] = time.perf_counter() - started
    model = TrainedModel(
        settings=model_json,
        link_weight=link_weight,
        review_weight=review_weight,
        histogram=histogram,
        labels_used=labels_used,
        engine=engine,
    )
    return model, linker, predictions, seconds


def _blend_labels(api, table, model_json: dict, matches: pd.DataFrame, frame: pd.DataFrame) -> dict:
    """m from the labelled matches (Splink), blended with EM's m (see the module docstring)."""
    id_type = frame["unique_id"].dtype
    matches = matches.astype({"unique_id_l": id_type, "unique_id_r": id_type})
    matches["clerical_match_score"] = 1.0
    label_linker = _linker(table, model_json)
    label_linker.training.estimate_m_from_pairwise_labels(api.register(matches))
    from_labels = label_linker.misc.save_model_to_json()
    n = len(matches)
    blended = dict(model_json)
    blended["comparisons"] = []
    for em_comparison, label_comparison in zip(model_json["comparisons"], from_labels["comparisons"], strict=True):
        levels = []
        for em_level, label_level in zip(
            em_comparison["comparison_levels"], label_comparison["comparison_levels"], strict=True
        ):
            level = dict(em_level)
            if not level.get("is_null_level") and isinstance(level.get("m_probability"), int | float):
                m_labels = label_level.get("m_probability")
                m_labels = m_labels if isinstance(m_labels, int | float) else 0.0
                level["m_probability"] = (LABEL_PRIOR_PAIRS * level["m_probability"] + n * m_labels) / (
                    LABEL_PRIOR_PAIRS + n
                )
            levels.append(level)
        total = sum(lv["m_probability"] for lv in levels if isinstance(lv.get("m_probability"), int | float))
        for lv in levels:
            if isinstance(lv.get("m_probability"), int | float) and total > 0:
                lv["m_probability"] = max(lv["m_probability"] / total, M_FLOOR)
        blended["comparisons"].append({**em_comparison, "comparison_levels": levels})
    return blended


# --- Thresholds ------------------------------------------------------------------------------------------


def match_weight_histogram(linker, predictions) -> list[dict]:
    """Bins of one match-weight unit over the predicted pairs, counted by the engine."""
    sql = (
        f"select floor(match_weight) as bin, count(*) as n from {predictions.physical_name} "
        "group by floor(match_weight) order by 1"
    )
    rows = linker.misc.query_sql(sql, output_type="pandas")
    return [
        {"from": float(b), "to": float(b) + 1, "count": int(c)} for b, c in zip(rows["bin"], rows["n"], strict=True)
    ]


def weight_of(probability: float) -> float:
    return math.log2(probability / (1 - probability))


def choose_thresholds(histogram: list[dict]) -> tuple[float, float]:
    """(link_weight, review_weight) from the histogram of match weights.

    Pairs found by blocking are mostly non-matches, a mode below weight 0 (probability 0.5), and the
    duplicates form a second mode above it. With counts smoothed over five bins, the non-match mode is the
    fullest bin below 0 and the match mode the fullest bin at or above 0; the link threshold is the bottom
    of the valley between them (the middle of the longest run of its lowest bins), kept within
    probability 0.5 … 0.9999. Without such a valley (either mode missing, or the bottom more than
    VALLEY_RATIO of the lower mode) it is probability 0.99. The review threshold opens the uncertain zone
    one unit above the non-match mode's peak, but not below probability 0.5 when the valley allows,
    and at least REVIEW_SPAN_MIN under the link threshold."""
    no_valley = weight_of(NO_VALLEY_PROBABILITY)
    if not histogram:
        return no_valley, min(0.0, no_valley - REVIEW_SPAN_MIN)
    lo = int(min(h["from"] for h in histogram))
    hi = int(max(h["from"] for h in histogram))
    counts = [0] * (hi - lo + 1)
    for h in histogram:
        counts[int(h["from"]) - lo] += h["count"]
    size = len(counts)
    smooth = []
    for i in range(size):
        window = counts[max(0, i - 2) : i + 3]
        smooth.append(sum(window) / 5)
    centre = [lo + i + 0.5 for i in range(size)]
    below = [i for i in range(size) if centre[i] < 0]
    above = [i for i in range(size) if centre[i] >= 0]
    link_weight = None
    non_match_peak = None
    if below:
        left = max(below, key=lambda i: (smooth[i], i))
        non_match_peak = centre[left]
        if above:
            right = max(above, key=lambda i: (smooth[i], -i))
            between = range(left + 1, right)
            if between:
                bottom = min(smooth[i] for i in between)
                if bottom <= VALLEY_RATIO * min(smooth[left], smooth[right]):
                    runs, run = [], []
                    for i in between:
                        if smooth[i] == bottom:
                            run.append(i)
                        elif run:
                            runs.append(run)
                            run = []
                    if run:
                        runs.append(run)
                    longest = max(runs, key=len)
                    link_weight = lo + (longest[0] + longest[-1] + 1) / 2
    if link_weight is None:
        link_weight = no_valley
    link_weight = min(max(link_weight, LINK_WEIGHT_MIN), LINK_WEIGHT_MAX)
    floor = 0.0 if non_match_peak is None else max(non_match_peak + 1, 0.0)
    review_weight = min(floor, link_weight - REVIEW_SPAN_MIN)
    return float(link_weight), float(review_weight)


# --- Linking ---------------------------------------------------------------------------------------------


def link(
    frame: pd.DataFrame,
    *,
    model: TrainedModel | None = None,
    engine: str = "duckdb",
    labels: pd.DataFrame | None = None,
    decisions: Iterable = (),
) -> LinkResult:
    """Predict pairs on `frame` with `model` (trained first when None), and cluster them: pairs at or above
    model.link_weight are the same person, officers' decisions are constraints no weight overrides."""
    engine = engines.check_engine(engine)
    with engines.job(engine) as api:
        seconds = {}
        if model is None:
            model, linker, predictions, seconds = _train(api, frame, engine=engine, labels=labels, seed=1)
        else:
            started = time.perf_counter()
            _install_em_floor()
            linker = _linker(_register(api, frame), model.settings)
            predictions = linker.inference.predict()
            seconds["predict"] = time.perf_counter() - started
        count = linker.misc.query_sql(f"select count(*) as n from {predictions.physical_name}", output_type="pandas")
        compared = int(count["n"].iloc[0])

        started = time.perf_counter()
        sql = f"select * from {predictions.physical_name} where match_weight >= {float(model.review_weight)!r}"
        pairs = linker.misc.query_sql(sql, output_type="pandas")
        pairs = _lower_id_left(pairs).sort_values(["unique_id_l", "unique_id_r"], kind="stable")
        pairs = pairs.reset_index(drop=True)
        seconds["pairs"] = time.perf_counter() - started

    started = time.perf_counter()
    # The edges above the link threshold are in memory already: their connected components are
    # computed by Splink on DuckDB whatever the engine of the predictions (fast, and the same result).
    clusters, conflicts = cluster(frame, pairs, model.link_weight, decisions)
    seconds["cluster"] = time.perf_counter() - started
    return LinkResult(
        model=model, pairs=pairs, clusters=clusters, seconds=seconds, compared=compared, conflicts=conflicts
    )


def _lower_id_left(pairs: pd.DataFrame) -> pd.DataFrame:
    """Splink puts the lower id left already; kept explicit since decisions are matched on (low, high)."""
    swap = pairs["unique_id_l"] > pairs["unique_id_r"]
    if swap.any():
        for column in [c for c in pairs.columns if c.endswith("_l")]:
            other = column[:-2] + "_r"
            if other in pairs.columns:
                pairs.loc[swap, [column, other]] = pairs.loc[swap, [other, column]].to_numpy()
    return pairs


def _decision_sets(decisions: Iterable, id_type) -> tuple[set, set]:
    must, cannot = set(), set()
    for left, right, decision in decisions:
        left, right = pd.Series([left, right]).astype(id_type).tolist()
        pair = (left, right) if left <= right else (right, left)
        if left == right:
            continue
        if decision == "match":
            must.add(pair)
            cannot.discard(pair)
        elif decision == "not_match":
            cannot.add(pair)
            must.discard(pair)
    return must, cannot


def cluster(frame: pd.DataFrame, pairs: pd.DataFrame, link_weight: float, decisions: Iterable = ()):
    """Clusters (unique_id, cluster_id) by Splink's connected components over the edges: predicted pairs
    at or above `link_weight`, minus the pairs decided "not a match", plus the pairs decided "match".

    A "not a match" pair that other edges still join is separated by cutting, on a path between the two
    records, the weakest predicted edge, until no path is left (a greedy cut; officers' matches are never
    cut). A pair held together only by officers' matches is left together and reported in `conflicts`."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    id_type = frame["unique_id"].dtype
    must, cannot = _decision_sets(decisions, id_type)
    linked = pairs.loc[pairs["match_weight"] >= link_weight, ["unique_id_l", "unique_id_r", "match_weight"]]
    if cannot:
        keys = list(zip(linked["unique_id_l"], linked["unique_id_r"], strict=True))
        linked = linked[[key not in cannot for key in keys]]
    extra = pd.DataFrame(
        [(left, right, MUST_LINK_WEIGHT) for left, right in sorted(must)],
        columns=["unique_id_l", "unique_id_r", "match_weight"],
    ).astype({"unique_id_l": id_type, "unique_id_r": id_type})
    edges = pd.concat([linked, extra], ignore_index=True) if len(extra) else linked.reset_index(drop=True)
    edges = edges.astype({"unique_id_l": id_type, "unique_id_r": id_type, "match_weight": "float64"})
    edges["match_probability"] = 1.0

    nodes = frame[["unique_id"]].copy()
    mapping = {}
    if len(edges):
        with engines.job("duckdb") as api:
            result = cluster_pairwise_predictions_at_threshold(
                api.register(nodes), api.register(edges), api, node_id_column_name="unique_id"
            ).as_pandas_dataframe()
        result = result[["unique_id", "cluster_id"]].astype({"unique_id": id_type})
        mapping = dict(zip(result["unique_id"], result["cluster_id"], strict=True))
    ids = frame["unique_id"].tolist()
    cluster_of = {uid: mapping.get(uid, uid) for uid in ids}

    conflicts = []
    violated = [
        (a, b) for a, b in sorted(cannot) if a in cluster_of and b in cluster_of and cluster_of[a] == cluster_of[b]
    ]
    if violated:
        conflicts = _separate(cluster_of, edges, violated)

    # Cluster ids: the smallest unique_id of each cluster, whatever the engine named them.
    members = defaultdict(list)
    for uid, cid in cluster_of.items():
        members[cid].append(uid)
    final = {}
    for group in members.values():
        low = min(group)
        for uid in group:
            final[uid] = low
    clusters = pd.DataFrame({"unique_id": ids, "cluster_id": [final[uid] for uid in ids]})
    return clusters, conflicts


def _separate(cluster_of: dict, edges: pd.DataFrame, violated: list) -> list:
    """Cut edges inside the clusters holding a not-match pair until each such pair is apart; renames the
    pieces in `cluster_of`. Returns the pairs that could not be separated."""
    by_cluster = defaultdict(list)
    for a, b in violated:
        by_cluster[cluster_of[a]].append((a, b))
    conflicts = []
    for cid, pairs in by_cluster.items():
        adjacency = defaultdict(dict)
        for left, right, weight in edges[["unique_id_l", "unique_id_r", "match_weight"]].itertuples(index=False):
            if cluster_of.get(left) == cid:
                adjacency[left][right] = weight
                adjacency[right][left] = weight
        for a, b in pairs:
            while True:
                path = _path(adjacency, a, b)
                if path is None:
                    break
                steps = list(zip(path, path[1:], strict=False))
                u, v = min(steps, key=lambda s: (adjacency[s[0]][s[1]], min(s), max(s)))
                if adjacency[u][v] >= MUST_LINK_WEIGHT:
                    conflicts.append((a, b))
                    break
                del adjacency[u][v]
                del adjacency[v][u]
        nodes = [uid for uid, c in cluster_of.items() if c == cid]
        seen = set()
        for start in sorted(nodes):
            if start in seen:
                continue
            component, queue = [], deque([start])
            seen.add(start)
            while queue:
                node = queue.popleft()
                component.append(node)
                for other in adjacency.get(node, {}):
                    if other not in seen:
                        seen.add(other)
                        queue.append(other)
            low = min(component)
            for node in component:
                cluster_of[node] = ("cut", cid, low)
    return conflicts


def _path(adjacency, start, goal):
    previous = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [node]
            while previous[path[-1]] is not None:
                path.append(previous[path[-1]])
            return path[::-1]
        for other in sorted(adjacency.get(node, {})):
            if other not in previous:
                previous[other] = node
                queue.append(other)
    return None


# --- The waterfall of one pair ---------------------------------------------------------------------------

_level_cache: dict[int, dict] = {}


def _levels(model: TrainedModel) -> dict:
    """output column → {comparison vector value: level label} of the model's comparisons."""
    key = id(model.settings)
    cached = _level_cache.get(key)
    if cached is not None and cached[0] is model.settings:
        return cached[1]
    from splink import SettingsCreator

    settings = SettingsCreator.from_path_or_dict(model.settings).get_settings(
        model.settings.get("sql_dialect") or "duckdb"
    )
    levels = {
        comparison.output_column_name: {
            level.comparison_vector_value: level.label_for_charts for level in comparison.comparison_levels
        }
        for comparison in settings.comparisons
    }
    _level_cache.clear()
    _level_cache[key] = (model.settings, levels)
    return levels


def waterfall(pair_row, model: TrainedModel) -> dict:
    """What each comparison contributed to a pair's match weight: {"prior", "bars": [{"column", "label",
    "level", "weight"}], "total"} (the prior plus the bars is the pair's match weight)."""
    from chinhquyenso.persons.linkage import comparisons

    labels = getattr(comparisons, "COMPARISON_LABELS", {})
    row = dict(pair_row)
    bars = []
    for column, levels in _levels(model).items():
        gamma = row.get(f"gamma_{column}")
        gamma = int(gamma) if gamma is not None and not pd.isna(gamma) else -1
        weight = _number(row.get(f"mw_{column}")) + _number(row.get(f"mw_tf_adj_{column}"))
        bars.append(
            {"column": column, "label": labels.get(column, column), "level": levels.get(gamma, ""), "weight": weight}
        )
    prior = model.prior_weight
    return {"prior": prior, "bars": bars, "total": prior + sum(bar["weight"] for bar in bars)}


def _number(value) -> float:
    if value is None:
        return 0.0
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(value) else value

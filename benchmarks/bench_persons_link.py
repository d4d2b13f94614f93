"""Benchmark: deduplicating synthetic health records with the master person index — docs/benchmarks.md
(section "Chỉ mục cá nhân").

    .venv/bin/python benchmarks/bench_persons_link.py --records 2500000 --peer-records 100000
    .venv/bin/python benchmarks/bench_persons_link.py --engine spark --records 1000000 --no-peer

1. Generation: a synthetic population (persons.synthetic, seed --seed) until --records records exist
   (whole people: a few more records may come), streamed straight into the linkage frame
   (persons.linkage.frame.build_frame); the time spent inside the generator and the time spent
   building frame rows are measured separately.
2. Linking: persons.linkage.pipeline.link on that frame with --engine — the model trained by EM on the
   data itself (prior, u by random sampling, EM sessions), predictions over the blocking rules,
   thresholds from the histogram, clustering — wall time per step as the pipeline reports it.
3. Accuracy of the clusters against the generator's truth (pairwise precision, recall, F1;
   duplicates found against the truth).
4. The peer (unless --no-peer): the first --peer-records records of the same population, linked by
   the pipeline (Splink) and by the `recordlinkage` package at equal blocking — the same blocking keys
   as persons.linkage.comparisons.PREDICTION_BLOCKS' equi-joins (the two lunar-date rules, which join
   different columns, are Splink-only), its Compare on the same frame columns (Jaro-Winkler ≥ 0.85 on
   the family and given names, exact on the rest) and its ECM classifier, clusters as connected
   components — time and F1 of each, and their ratios.

Peak memory: the process's VmHWM (/proc/self/status: the resident high-water mark, DuckDB's memory
included, as DuckDB runs inside the process); with --engine spark, also the VmHWM of Spark's JVM (a child
process), read before the session stops (CQS_PERSONS_SPARK_MEMORY sizes its heap).
Results go to benchmarks/results/bench_persons_link-<engine>-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import _common as c

RESULTS = c.ROOT / "benchmarks" / "results"


def _memory(field: str = "VmHWM", pid: int | str = "self") -> float:
    """A process's memory figure from /proc/<pid>/status, in MiB (0 when unavailable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _jvm_peak_mib() -> float:
    """The resident high-water mark of the Spark JVMs started by this process (0 when none)."""
    peak = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(os.getpid()) and fields.get("Name", "").strip() == "java":
            peak = max(peak, _memory("VmHWM", status.parent.name))
    return peak


def setup() -> None:
    os.environ.setdefault("CQS_DATA_DIR", tempfile.mkdtemp(prefix="bench-persons-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chinhquyenso.settings")
    os.environ.setdefault("CQS_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(c.ROOT / "src"))
    import django

    django.setup()
    import logging

    logging.getLogger("splink").setLevel(logging.ERROR)


class _Timed:
    """Iterates `source`, adding the time spent inside it to `seconds`, keeping each record's truth
    (unique_id → truth_id) and stopping after `limit` records."""

    def __init__(self, source, limit: int):
        self.source = source
        self.limit = limit
        self.seconds = 0.0
        self.ids: list[int] = []
        self.truth: list[int] = []
        self.kept: list[dict] = []
        self.keep = 0

    def __iter__(self):
        clock = time.perf_counter
        while len(self.ids) < self.limit:
            started = clock()
            try:
                record = next(self.source)
            except StopIteration:
                self.seconds += clock() - started
                return
            self.seconds += clock() - started
            self.ids.append(record["unique_id"])
            self.truth.append(record["truth_id"])
            if len(self.kept) < self.keep:
                self.kept.append(record)
            yield record


def generate_frame(records: int, seed: int, keep: int):
    from chinhquyenso.persons import synthetic
    from chinhquyenso.persons.linkage.frame import build_frame

    stats = synthetic.Stats()
    # Enough people for `records` records (about 1.45 records a person); the stream stops at `records`.
    source = synthetic.iter_records(int(records / 1.2) + 10, seed=seed, stats=stats)
    timed = _Timed(source, records)
    timed.keep = keep
    started = time.perf_counter()
    frame = build_frame(timed)
    total = time.perf_counter() - started
    return frame, timed, {"generate": timed.seconds, "build_frame": total - timed.seconds}


def scores(truth_ids, truth, clusters) -> dict:
    import pandas as pd

    from chinhquyenso.persons.evaluation import pair_scores

    truth_series = pd.Series(truth, index=truth_ids)
    found = clusters.set_index("unique_id")["cluster_id"]
    s = pair_scores(truth_series, found)
    s["duplicates_true"] = s["records"] - s["persons_true"]
    s["duplicates_found"] = s["records"] - s["persons_found"]
    return s


def link(frame, engine: str) -> tuple[dict, object]:
    from chinhquyenso.persons.linkage import pipeline

    started = time.perf_counter()
    result = pipeline.link(frame, engine=engine)
    wall = time.perf_counter() - started
    steps = {k: round(v, 2) for k, v in result.seconds.items()}
    info = {
        "wall_seconds": wall,
        "steps": steps,
        "pairs_kept": len(result.pairs),
        "pairs_compared": int(getattr(result, "compared", 0) or 0),
        "link_weight": result.model.link_weight,
        "review_weight": result.model.review_weight,
        "review_pairs": int((result.pairs["match_weight"] < result.model.link_weight).sum()),
    }
    return info, result


# ---------------------------------------------------------------- recordlinkage peer


def _blocks() -> list[list[str]]:
    """The equi-join blocking keys of the Splink model (rules joining the same column on both sides)."""
    import re

    from chinhquyenso.persons.linkage.comparisons import PREDICTION_BLOCKS

    keys = []
    for rule in PREDICTION_BLOCKS:
        parts = re.findall(r"l\.(\w+) = r\.(\w+)", rule["blocking_rule"])
        if parts and all(a == b for a, b in parts):
            keys.append([a for a, _ in parts])
    return keys


def recordlinkage_peer(frame) -> tuple[dict, object]:
    import pandas as pd
    import recordlinkage

    started = time.perf_counter()
    data = frame.set_index("unique_id")
    candidates = None
    timings = {}
    for keys in _blocks():
        indexer = recordlinkage.Index()
        indexer.block(keys)
        # recordlinkage joins NULLs as equal values: drop rows with a missing key, as SQL's join does.
        subset = data.dropna(subset=keys)
        found = indexer.index(subset)
        candidates = found if candidates is None else candidates.union(found)
    timings["index"] = time.perf_counter() - started
    step = time.perf_counter()
    compare = recordlinkage.Compare(n_jobs=1)
    compare.string("given", "given", method="jarowinkler", threshold=0.85, label="given")
    compare.string("family", "family", method="jarowinkler", threshold=0.85, label="family")
    compare.exact("middle", "middle", label="middle")
    compare.exact("birth_date", "birth_date", label="birth")
    compare.exact("sex", "sex", label="sex")
    compare.exact("id_number", "id_number", label="id_number")
    compare.exact("phone", "phone", label="phone")
    compare.exact("insurance", "insurance", label="insurance")
    compare.exact("commune_id", "commune_id", label="commune_id")
    features = compare.compute(candidates, data.astype({"commune_id": "float64"}))
    timings["compare"] = time.perf_counter() - step
    step = time.perf_counter()
    classifier = recordlinkage.ECMClassifier(binarize=None)
    matches = classifier.fit_predict(features.astype(int))
    timings["classify"] = time.perf_counter() - step
    step = time.perf_counter()
    clusters = _components(list(data.index), matches)
    timings["cluster"] = time.perf_counter() - step
    wall = time.perf_counter() - started
    info = {
        "wall_seconds": wall,
        "steps": {k: round(v, 2) for k, v in timings.items()},
        "candidate_pairs": len(candidates),
        "matched_pairs": len(matches),
    }
    return info, pd.DataFrame({"unique_id": list(clusters), "cluster_id": list(clusters.values())})


def _components(ids: list, pairs) -> dict:
    parent = {i: i for i in ids}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {i: find(i) for i in ids}


# ---------------------------------------------------------------- main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=2_500_000)
    p.add_argument("--peer-records", type=int, default=100_000)
    p.add_argument("--no-peer", action="store_true")
    p.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    setup()
    c.print_machine(os.environ.get("CQS_BENCH_PG_SERVER", c.DEFAULT_PG_SERVER))
    out: dict = {"engine": args.engine, "records_asked": args.records, "seed": args.seed}
    out["machine"] = c.machine(os.environ.get("CQS_BENCH_PG_SERVER", c.DEFAULT_PG_SERVER))

    keep = 0 if args.no_peer else args.peer_records
    frame, timed, seconds = generate_frame(args.records, args.seed, keep)
    out["records"] = len(frame)
    out["generation_seconds"] = seconds
    out["memory_after_frame_mib"] = _memory("VmRSS")
    print(
        f"{len(frame):,} records: generated in {seconds['generate']:.1f} s, frame built in "
        f"{seconds['build_frame']:.1f} s; RSS {out['memory_after_frame_mib']:.0f} MiB",
        flush=True,
    )

    info, result = link(frame, args.engine)
    out["link"] = info
    out["accuracy"] = scores(timed.ids, timed.truth, result.clusters)
    out["peak_memory_mib"] = _memory("VmHWM")
    if args.engine == "spark":
        out["jvm_peak_memory_mib"] = _jvm_peak_mib()
    print(f"link ({args.engine}): {info['wall_seconds']:.1f} s {info['steps']}", flush=True)
    acc = out["accuracy"]
    jvm = f"; JVM peak RSS {out['jvm_peak_memory_mib']:.0f} MiB" if args.engine == "spark" else ""
    print(
        f"  precision {acc['precision']:.4f} recall {acc['recall']:.4f} F1 {acc['f1']:.4f}; duplicates "
        f"{acc['duplicates_found']:,} found / {acc['duplicates_true']:,} true; peak RSS "
        f"{out['peak_memory_mib']:.0f} MiB{jvm}",
        flush=True,
    )
    del result, frame

    if not args.no_peer:
        from chinhquyenso.persons.linkage.frame import build_frame

        records = timed.kept
        ids = [r["unique_id"] for r in records]
        truth = [r["truth_id"] for r in records]
        small = build_frame(records)
        splink_info, splink_result = link(small, args.engine)
        splink_info["accuracy"] = scores(ids, truth, splink_result.clusters)
        rl_info, rl_clusters = recordlinkage_peer(small)
        rl_info["accuracy"] = scores(ids, truth, rl_clusters)
        out["peer"] = {
            "records": len(small),
            "splink": splink_info,
            "recordlinkage": rl_info,
            "time_ratio": rl_info["wall_seconds"] / splink_info["wall_seconds"],
            "f1_ratio": rl_info["accuracy"]["f1"] / splink_info["accuracy"]["f1"],
        }
        for name, i in (("Splink", splink_info), ("recordlinkage", rl_info)):
            a = i["accuracy"]
            print(
                f"peer {name} on {len(small):,}: {i['wall_seconds']:.1f} s {i['steps']}; precision "
                f"{a['precision']:.4f} recall {a['recall']:.4f} F1 {a['f1']:.4f}",
                flush=True,
            )
        print(
            f"  recordlinkage/Splink: time ×{out['peer']['time_ratio']:.2f}, F1 ×{out['peer']['f1_ratio']:.4f}",
            flush=True,
        )
        out["peak_memory_mib"] = _memory("VmHWM")

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench_persons_link-{args.engine}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"\nResults: {path}")


if __name__ == "__main__":
    main()

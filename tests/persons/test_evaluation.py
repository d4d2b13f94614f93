"""The accuracy evaluation (persons.evaluation): its scoring on hand-made clusters, FEBRL read offline,
and the linking's F1 on FEBRL and on a small synthetic population above floors measured on them
(docs/persons.md gives the figures: febrl1 0,982; the 1,500-person population of seeds 1–3 0,997–0,9996)."""

import pandas as pd
import pytest

from chinhquyenso.persons import evaluation, synthetic

FEBRL1_F1_FLOOR = 0.95
SYNTHETIC_F1_FLOOR = 0.98


def test_pair_scores_count_pairs_within_clusters():
    truth = pd.Series({1: "a", 2: "a", 3: "a", 4: "b", 5: "b", 6: "c"})
    # Found: {1, 2}, {3}, {4, 5, 6}: one true pair of three found (1-2), and 4-5; 4-6 and 5-6 wrong.
    clusters = pd.Series({1: 10, 2: 10, 3: 11, 4: 12, 5: 12, 6: 12})
    s = evaluation.pair_scores(truth, clusters)
    assert (s["true_pairs"], s["predicted_pairs"], s["true_positives"]) == (4, 4, 2)
    assert s["precision"] == s["recall"] == s["f1"] == pytest.approx(0.5)
    assert (s["records"], s["persons_true"], s["persons_found"]) == (6, 3, 3)


def test_pair_scores_record_left_out_is_alone():
    truth = pd.Series({1: "a", 2: "a"})
    s = evaluation.pair_scores(truth, pd.Series({1: 5}))
    assert (s["true_positives"], s["predicted_pairs"], s["recall"]) == (0, 0, 0.0)
    assert s["precision"] == 1.0  # nothing predicted, nothing wrong


def test_by_error_kind_and_twins():
    records = [
        {"unique_id": 1, "truth_id": 1, "errors": [], "twin_of": 2},
        {"unique_id": 2, "truth_id": 1, "errors": ["typo"], "twin_of": 2},
        {"unique_id": 3, "truth_id": 2, "errors": [], "twin_of": 1},
        {"unique_id": 4, "truth_id": 2, "errors": ["lunar_date"], "twin_of": 1},
    ]
    # Twins 1 and 2 wrongly merged through record 2; the lunar duplicate left alone.
    clusters = pd.Series({1: 1, 2: 1, 3: 1, 4: 4})
    kinds = evaluation.by_error_kind(records, clusters)
    assert kinds["typo"] | {"label": ""} == {
        "label": "",
        "records": 1,
        "true_pairs": 1,
        "found": 1,
        "recall": 1.0,
        "predicted_pairs": 2,
        "precision": 0.5,
    }
    assert (kinds["lunar_date"]["recall"], kinds["lunar_date"]["predicted_pairs"]) == (0.0, 0)
    assert kinds["dm_swap"]["recall"] is None
    assert evaluation.twins_linked(records, clusters) == (1, 1)


def test_febrl_loads_offline_with_its_truth():
    records, names, truth = evaluation.febrl_records("febrl1")
    assert len(records) == 1000 and truth.nunique() == 500
    frame = evaluation.febrl_frame(records, names)
    assert frame["family"].notna().sum() > 950 and frame["given"].notna().sum() > 900
    assert frame["id_number"].str.len().eq(9).all()
    assert frame["birth_date"].notna().sum() > 900


@pytest.mark.slow
def test_febrl1_f1_above_floor():
    result = evaluation.evaluate_febrl("febrl1")
    assert result["f1"] >= FEBRL1_F1_FLOOR
    assert result["precision"] >= 0.99


@pytest.mark.slow
def test_synthetic_population_f1_above_floor_and_report():
    records, stats = synthetic.generate(1500, seed=1)
    result = evaluation.evaluate_records(records)
    assert result["f1"] >= SYNTHETIC_F1_FLOOR
    assert result["duplicates_true"] == stats["duplicates"]
    assert abs(result["duplicates_found"] - result["duplicates_true"]) <= 0.02 * stats["duplicates"]
    assert set(result["by_error"]) == {*synthetic.ERROR_KINDS, "none"}
    text = evaluation.report({"engine": "duckdb", "size": 1500, "synthetic": result, "seconds": 1.5})
    assert "Dân cư giả lập (1.500 người)" in text and "Ngày sinh ghi theo âm lịch" in text
    assert "Thời gian: 1,5 giây." in text

"""The engines: choosing one, and the same model giving the same clusters on DuckDB and on Spark."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

from chinhquyenso.core.errors import DomainError
from chinhquyenso.persons import synthetic
from chinhquyenso.persons.linkage import engines, pipeline
from chinhquyenso.persons.linkage import frame as linkage_frame
from tests.external_tools import program_missing, require


def test_an_unknown_engine_is_refused_in_vietnamese(settings):
    with pytest.raises(DomainError, match="không được hỗ trợ"):
        engines.check_engine("oracle")
    settings.CQS = {**settings.CQS, "PERSONS_ENGINE": "spark"}
    assert engines.check_engine(None) == "spark"
    assert engines.check_engine(" DuckDB ") == "duckdb"


def test_spark_missing_is_said_in_vietnamese_not_as_a_traceback(monkeypatch):
    # An installation without the [spark] extra: pyspark cannot be imported.
    monkeypatch.setattr(engines, "_spark_session", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(DomainError, match="Spark chưa được cài đặt"):
        engines.spark_session()


def test_duckdb_gets_the_configured_memory_and_spill_folder(settings, tmp_path):
    settings.CQS = {**settings.CQS, "PERSONS_WORK_DIR": str(tmp_path), "PERSONS_DUCKDB_MEMORY": "1GB"}
    with engines.job("duckdb") as api:
        connection = api._con
        limit = connection.execute("select current_setting('memory_limit')").fetchone()[0]
        folder = connection.execute("select current_setting('temp_directory')").fetchone()[0]
    assert limit.replace(" ", "").lower() in ("1gb", "953.6mib", "1000.0mib", "0.9gib", "953.6mb")
    assert folder.startswith(str(tmp_path))
    with pytest.raises(duckdb.ConnectionException):  # closed at the end of the job
        connection.execute("select 1")


@pytest.fixture(scope="module")
def spark():
    require(program_missing("java", "default-jre-headless"))
    pytest.importorskip("pyspark")
    session = engines.spark_session()
    yield session
    engines.stop_spark()


@pytest.mark.slow
def test_the_same_model_gives_the_same_clusters_on_duckdb_and_spark(spark):
    records, _stats = synthetic.generate(60, seed=5)
    frame = linkage_frame.build_frame(records)
    on_duckdb = pipeline.link(frame)  # trains on DuckDB
    by_person = {}
    for record in records:
        by_person.setdefault(record["truth_id"], []).append(record["unique_id"])
    first, twin = next(ids[:2] for ids in by_person.values() if len(ids) > 1)
    decisions = [(first, twin, "not_match")]
    on_duckdb = pipeline.link(frame, model=on_duckdb.model, decisions=decisions)
    on_spark = pipeline.link(frame, model=on_duckdb.model, engine="spark", decisions=decisions)
    duck = dict(zip(on_duckdb.clusters["unique_id"], on_duckdb.clusters["cluster_id"], strict=True))
    spk = dict(zip(on_spark.clusters["unique_id"], on_spark.clusters["cluster_id"], strict=True))
    assert duck == spk
    assert duck[first] != duck[twin]
    assert on_spark.compared == on_duckdb.compared
    merged = on_duckdb.pairs.merge(on_spark.pairs, on=["unique_id_l", "unique_id_r"], suffixes=("_d", "_s"))
    assert len(merged) == len(on_duckdb.pairs) == len(on_spark.pairs)
    assert (merged["match_weight_d"] - merged["match_weight_s"]).abs().max() < 1e-6


@pytest.mark.slow
def test_a_spark_job_writes_its_tables_as_parquet_in_its_own_folder_and_leaves_nothing(spark, settings, tmp_path):
    # Spark's cache would hold the intermediate tables in the driver's heap (see engines' docstring).
    settings.CQS = {**settings.CQS, "PERSONS_WORK_DIR": str(tmp_path)}
    records, _stats = synthetic.generate(30, seed=3)
    frame = linkage_frame.build_frame(records)
    model = pipeline.train(frame)  # on DuckDB
    with engines.job("spark") as api:
        folder = Path(spark.sparkContext._jsc.sc().getCheckpointDir().get().removeprefix("file:"))
        assert tmp_path / "spark-jobs" in folder.parents
        # The records reach Spark as a Parquet file of the job, not as rows inside every query plan.
        table = engines.register_frame(api, frame)
        files = spark.table(table.physical_name).inputFiles()
        assert files and all(api.cqs_job_folder.as_posix() in path for path in files)
        assert api.cqs_job_folder in folder.parents
        predictions = pipeline._linker(table, model.settings).inference.predict()
        written = folder / predictions.physical_name
        assert list(written.glob("*.parquet"))
        assert len(predictions.as_pandas_dataframe()) > 0
    assert not written.exists()
    assert not any((tmp_path / "spark-jobs").iterdir())
    assert not [view for view in spark.catalog.listTables() if view.isTemporary]  # none left pointing at them

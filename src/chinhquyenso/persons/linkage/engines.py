"""The SQL engines Splink runs the linkage on: DuckDB (the default, one machine, spills to disk) and
Spark (pyspark, for installations that outgrow one machine; a local session `local[*]` here).

`job(engine)` opens a Splink database API for one linkage job and cleans up after it. DuckDB gets a new
in-memory connection each time (memory limit and spill folder from CQS["PERSONS_DUCKDB_MEMORY"] and
CQS["PERSONS_WORK_DIR"]), closed at the end. Spark reuses one session per process, since starting a JVM
takes seconds; each job writes Splink's intermediate tables as Parquet files in a folder of its own,
removed at the end.

Why Parquet and not Spark's cache (`persist`): cached tables live in the driver's heap, which in local
mode is the whole Spark. Measured on 50,000 synthetic records (2 cores, 6 GB driver): with `persist`
each EM session took 110 s, the JVM spending its time collecting garbage (and 100,000 records ran out
of a 2 GB heap); with Parquet, 5–8 s. See docs/benchmarks.md, section 19.

For the same reason the records to link reach Spark as a Parquet file of the job (`register_frame`),
not as the pandas frame itself: Spark would keep those rows inside every query plan (a local relation in
the driver's heap), and hash them each time it plans one of Splink's queries — at 200,000 records
planning the blocking query alone ran for minutes and filled an 8 GB heap."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from chinhquyenso.core.errors import DomainError

ENGINES = ("duckdb", "spark")
ENGINE_LABELS = {"duckdb": "DuckDB (một máy)", "spark": "Spark"}

_spark_session = None
_spark_lock = threading.Lock()
# One Spark job at a time per process: the checkpoint folder, where the job's Parquet files go, belongs
# to the session, not to the job.
_spark_job_lock = threading.Lock()


def default_engine() -> str:
    return settings.CQS.get("PERSONS_ENGINE", "duckdb") or "duckdb"


def check_engine(engine: str | None) -> str:
    engine = (engine or default_engine()).strip().lower()
    if engine not in ENGINES:
        raise DomainError(
            f"Máy tính toán “{engine}” không được hỗ trợ; chọn một trong: {', '.join(ENGINES)}.", field="engine"
        )
    return engine


def work_dir() -> Path:
    """The folder where the engines may spill to disk: CQS["PERSONS_WORK_DIR"], or a folder under the
    system's temporary directory."""
    configured = settings.CQS.get("PERSONS_WORK_DIR") or ""
    path = Path(configured) if configured else Path(tempfile.gettempdir()) / "cqs-persons"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def job(engine: str | None = None) -> Iterator:
    """A Splink database API for one linkage job on `engine` ("duckdb" or "spark"), cleaned up on exit."""
    engine = check_engine(engine)
    if engine == "spark":
        with _spark_job(spark_session()) as api:
            yield api
        return
    import duckdb
    from splink import DuckDBAPI

    connection = duckdb.connect(
        ":memory:",
        config={
            "memory_limit": settings.CQS.get("PERSONS_DUCKDB_MEMORY") or "8GB",
            "temp_directory": str(work_dir() / "duckdb"),
            "threads": os.cpu_count() or 1,
            "preserve_insertion_order": False,
        },
    )
    try:
        yield DuckDBAPI(connection=connection)
    finally:
        connection.close()


@contextmanager
def _spark_job(session) -> Iterator:
    from splink import SparkAPI

    with _spark_job_lock:
        folder = work_dir() / "spark-jobs" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        session.sparkContext.setCheckpointDir(str(folder))
        before = _temporary_views(session)
        try:
            api = SparkAPI(spark_session=session, break_lineage_method="parquet")
            api.cqs_job_folder = folder
            yield api
        finally:
            for name in _temporary_views(session) - before:  # the job's tables point at files about to go
                session.catalog.dropTempView(name)
            shutil.rmtree(folder, ignore_errors=True)


def _temporary_views(session) -> set[str]:
    return {view.name for view in session.catalog.listTables() if view.isTemporary}


def register_frame(api, frame):
    """Register a pandas frame with the job's engine: as it is on DuckDB, through a Parquet file in the
    job's folder on Spark (see the module's docstring)."""
    folder = getattr(api, "cqs_job_folder", None)
    if folder is None:
        return api.register(frame)
    path = folder / f"input-{uuid.uuid4().hex}"
    api.spark.createDataFrame(api._clean_pandas_df(frame)).write.parquet(str(path))
    return api.register(api.spark.read.parquet(str(path)))


def spark_session():
    """The process's one local Spark session (created on first use)."""
    global _spark_session
    with _spark_lock:
        if _spark_session is not None and not _spark_session.sparkContext._jsc.sc().isStopped():
            return _spark_session
        try:
            from pyspark.sql import SparkSession
            from splink.backends.spark import similarity_jar_location
        except ImportError as error:  # no [spark] extra installed
            raise DomainError(
                "Máy tính toán Spark chưa được cài đặt: cần gói pyspark (cài thêm phần [spark]) và Java 17.",
                field="engine",
            ) from error
        # Few shuffle partitions on one machine (CQS["PERSONS_SPARK_PARTITIONS"]; 2 per core by default).
        partitions = settings.CQS.get("PERSONS_SPARK_PARTITIONS") or str(max(2, 2 * (os.cpu_count() or 1)))
        try:
            session = (
                SparkSession.builder.master("local[*]")
                .appName("cqs-persons")
                .config("spark.jars", similarity_jar_location())
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", partitions)
                .config("spark.default.parallelism", partitions)
                .config("spark.local.dir", str(work_dir() / "spark"))
                .config("spark.driver.memory", settings.CQS.get("PERSONS_SPARK_MEMORY") or "2g")
                .config("spark.sql.session.timeZone", "UTC")
                # No broadcast joins: Splink's blocking joins the record table with itself once per
                # rule; from Parquet, Spark estimates the table small enough to broadcast to every
                # join, and in local mode each copy lands in the driver's heap (200,000 records ran out
                # of 8 GB that way). Sort-merge joins spill to disk instead.
                .config("spark.sql.autoBroadcastJoinThreshold", "-1")
                # pandas frames cross to the JVM as Arrow batches, not row by row through pickle.
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .getOrCreate()
            )
        except Exception as error:  # the JVM did not start: Java missing or unusable
            raise DomainError(
                "Không khởi động được Spark: kiểm tra Java 17 đã được cài và biến JAVA_HOME.", field="engine"
            ) from error
        session.sparkContext.setLogLevel("ERROR")
        logging.getLogger("py4j").setLevel(logging.WARNING)  # its INFO lines outlive the test runner's streams
        session.sparkContext.setCheckpointDir(str(work_dir() / "spark-checkpoints"))  # outside job()
        _spark_session = session
        return session


def stop_spark() -> None:
    """Stop the process's Spark session (tests, the end of a command)."""
    global _spark_session
    with _spark_lock:
        if _spark_session is not None:
            _spark_session.stop()
            _spark_session = None

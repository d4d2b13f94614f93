"""The SQL engines Splink runs the linkage on: DuckDB (the default, one machine, spills to disk) and
Spark (pyspark, for installations that outgrow one machine; a local session `local[*]` here).

`db_api(engine)` returns a fresh Splink database API for one linkage job. DuckDB gets a new in-memory
connection each time (memory limit and spill folder from CQS["PERSONS_DUCKDB_MEMORY"] and
CQS["PERSONS_WORK_DIR"]); Spark reuses one session per process, since starting a JVM takes seconds."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

from django.conf import settings

from chinhquyenso.core.errors import DomainError

ENGINES = ("duckdb", "spark")
ENGINE_LABELS = {"duckdb": "DuckDB (một máy)", "spark": "Spark"}

_spark_session = None
_spark_lock = threading.Lock()


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


def db_api(engine: str | None = None):
    """A Splink database API for `engine` ("duckdb" or "spark")."""
    engine = check_engine(engine)
    if engine == "spark":
        return _spark_api()
    return _duckdb_api()


def _duckdb_api():
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
    return DuckDBAPI(connection=connection)


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
        checkpoints = work_dir() / "spark-checkpoints"
        # Few shuffle partitions on one machine (CQS["PERSONS_SPARK_PARTITIONS"]; 2 per core by default).
        partitions = settings.CQS.get("PERSONS_SPARK_PARTITIONS") or str(max(2, 2 * (os.cpu_count() or 1)))
        checkpoints.mkdir(parents=True, exist_ok=True)
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
                .getOrCreate()
            )
        except Exception as error:  # the JVM did not start: Java missing or unusable
            raise DomainError(
                "Không khởi động được Spark: kiểm tra Java 17 đã được cài và biến JAVA_HOME.", field="engine"
            ) from error
        session.sparkContext.setLogLevel("ERROR")
        logging.getLogger("py4j").setLevel(logging.WARNING)  # its INFO lines outlive the test runner's streams
        session.sparkContext.setCheckpointDir(str(checkpoints))
        _spark_session = session
        return session


def _spark_api():
    from splink import SparkAPI

    return SparkAPI(spark_session=spark_session(), break_lineage_method="persist")


def stop_spark() -> None:
    """Stop the process's Spark session (tests, the end of a command)."""
    global _spark_session
    with _spark_lock:
        if _spark_session is not None:
            _spark_session.stop()
            _spark_session = None

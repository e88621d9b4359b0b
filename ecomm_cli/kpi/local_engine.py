"""The local KPI engine: the KPI's Trino SQL, transpiled, on DuckDB over the curated Parquet."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import duckdb

from ecomm_cli.errors import EcommError
from ecomm_cli.kpi.catalog import KpiQuery
from ecomm_cli.kpi.result import KpiResult
from ecomm_cli.kpi.transpile import trino_to_duckdb

# The Glue job's record of each day's current folder (glue/curate_events.py PARTITIONS_RECORD):
# locally what the Glue catalog's partitions of `events` are on AWS.
PARTITIONS_RECORD = "_partitions.json"


def curated_events_dir(lake_dir: Path) -> Path:
    """Where the Glue job writes the `events` table in the local lake (the curated bucket)."""
    return lake_dir / "curated" / "events"


def current_files(curated_dir: Path) -> list[Path]:
    """The Parquet files of every day's current folder, as the partition record names them.

    The job writes a day's new files under a folder of its own run and then replaces the
    record in one rename, so this reads either the previous or the next complete day, never a
    half-written one. A lake without the record (written by other tools, or before the job
    kept one) is read as `event_date=*/*.parquet`.
    """
    record = curated_dir / PARTITIONS_RECORD
    if not record.is_file():
        return sorted(curated_dir.glob("event_date=*/*.parquet"))
    partitions = json.loads(record.read_text(encoding="utf-8"))["partitions"]
    return [
        path
        for day in sorted(partitions)
        for path in sorted((curated_dir / partitions[day]["location"]).glob("*.parquet"))
    ]


def connect(curated_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB where the view `events` is the current curated Parquet."""
    files = current_files(curated_dir)
    if not files:
        raise EcommError(
            f"no curated events under {curated_dir}",
            hint="run `ecomm etl run --local` first",
        )
    con = duckdb.connect()
    # Timestamps are UTC in the lake; never let the laptop's zone shift an hour or a day.
    con.execute("SET TimeZone = 'UTC'")
    # Every file sits in an `event_date=YYYY-MM-DD` folder: DuckDB takes the day from the path
    # and prunes files on it. event_date stays VARCHAR, as in the Glue table.
    paths = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
    con.execute(
        f"CREATE VIEW events AS SELECT * FROM read_parquet([{paths}], hive_partitioning = true, "
        "hive_types = {'event_date': 'VARCHAR'})"
    )
    return con


def run_local(query: KpiQuery, values: list[Any], con: duckdb.DuckDBPyConnection) -> KpiResult:
    """Run one KPI on DuckDB with its parameter values bound (never spliced into the SQL)."""
    sql = trino_to_duckdb(query.sql)
    started = time.perf_counter()
    try:
        cursor = con.execute(sql, values)
        records = cursor.fetchall()
    except duckdb.Error as exc:
        raise EcommError(f"KPI {query.name} failed on DuckDB: {exc}") from exc
    seconds = time.perf_counter() - started
    columns = tuple(d[0] for d in cursor.description or ())
    rows = [dict(zip(columns, record, strict=True)) for record in records]
    return KpiResult(name=query.name, columns=columns, rows=rows, engine="local", seconds=seconds)

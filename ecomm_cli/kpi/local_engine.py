"""The local KPI engine: the KPI's Trino SQL, transpiled, on DuckDB over the curated Parquet."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb

from ecomm_cli.errors import EcommError
from ecomm_cli.kpi.catalog import KpiQuery
from ecomm_cli.kpi.result import KpiResult
from ecomm_cli.kpi.transpile import trino_to_duckdb


def curated_events_dir(lake_dir: Path) -> Path:
    """Where the Glue job writes the `events` table in the local lake (the curated bucket)."""
    return lake_dir / "curated" / "events"


def connect(curated_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB where the view `events` is the curated Parquet folder."""
    if not any(curated_dir.glob("event_date=*/*.parquet")):
        raise EcommError(
            f"no curated events under {curated_dir}",
            hint="run `ecomm etl run --local` first",
        )
    con = duckdb.connect()
    # Timestamps are UTC in the lake; never let the laptop's zone shift an hour or a day.
    con.execute("SET TimeZone = 'UTC'")
    pattern = str(curated_dir / "event_date=*" / "*.parquet").replace("'", "''")
    # event_date stays VARCHAR, as in the Glue table (partition projection on a string key).
    con.execute(
        "CREATE VIEW events AS SELECT * FROM read_parquet("
        f"'{pattern}', hive_partitioning = true, hive_types = {{'event_date': 'VARCHAR'}})"
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

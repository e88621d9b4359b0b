"""Batch benchmark: the Glue job against DuckDB's own CSV-to-Parquet copy, and KPIs vs pandas.

    .venv/bin/python bench/batch_bench.py [--rows 10000000] [--days 31] [--workdir DIR]
                                          [--data FILE.csv] [--keep] [--no-docs]

One run does everything, on one generated file (`ecomm sample generate`, or `--data`):

  1. ingest: DuckDB's `COPY (SELECT ... FROM read_csv(...)) TO ... (FORMAT parquet,
     PARTITION_BY event_date)` of the file, typed and with the job's derived columns, as the
     near-limit reference; then the Glue job (glue/curate_events.py, CSV backfill) on a local
     Spark session over the same file. Rows per second of each and their ratio.
  2. cost and throughput (issue 13), on one warm Spark session (its start reported, not
     counted): a bare Spark CSV-to-Parquet copy of the file and the job's full run over it
     (the history), best of 2 each, interleaved; one more hour (--hour-rows, hour 23 of the
     history's last day) landed as a raw object and curated by a plain run (the job picks
     the objects no successful run curated: the day is appended to); the next hour with the
     day at its file limit (the compacting run, which rewrites the day whole); the same
     object alone on an empty lake; a full rebuild (--full plus the CSV again).
     Targets: incremental <= 3x the hour alone, full-run speed >= 0.4x the bare copy's.
  3. KPIs: each sql/kpi/*.sql on DuckDB (`run_kpis`, connection and transpiling included) and
     the same KPI written in pandas, reading the same curated Parquet (the Glue job's output)
     each time; best of 3 each, and the ratio. Before any timing, every KPI's pandas answer
     must equal DuckDB's on a small generated set under several parameter sets, and the timed
     answers at full size must be equal too, or the run fails.

It prints Markdown tables and writes them, with this command, into docs/batch.md between the
`bench:batch` markers, then each target's ratio and verdict last; it exits 1 when one is
missed. The working data (about 1.4 GB of CSV at 10 million rows) lives under --workdir
(default: a fresh folder in /tmp) and is deleted at the end unless --keep.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ecomm_cli.etl.local_runner import LakePaths, load_glue_job, run_local_job
from ecomm_cli.kpi import catalog
from ecomm_cli.kpi.engines import Engine
from ecomm_cli.kpi.local_engine import current_files
from ecomm_cli.kpi.parameters import KpiParameters
from ecomm_cli.kpi.runner import run_kpis
from ecomm_cli.settings import PROJECT_ROOT, Settings

DOCS = PROJECT_ROOT / "docs" / "batch.md"
START, END = "<!-- bench:batch:start -->", "<!-- bench:batch:end -->"
REPEATS = 3
# Targets from the issue: each KPI at least this many times faster than pandas, and under
# this many seconds at 10 million rows.
TARGET_RATIO, TARGET_SECONDS = 2.0, 2.0

Rows = list[dict[str, Any]]


# Input ----------------------------------------------------------------------------------------
def generate(out: Path, rows: int, days: int, seed: int, start: str = "2019-10-01") -> float:
    """`ecomm sample generate` into `out`; returns its wall time."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ecomm_cli", "sample", "generate", "--rows", str(rows),
         "--days", str(days), "--seed", str(seed), "--start", start, "--out", str(out)],
        check=True,
    )  # fmt: skip
    return time.perf_counter() - started


def count_rows(csv_path: Path) -> int:
    """Data rows of a CSV file (lines minus the header), counted in 16 MB blocks."""
    lines = 0
    with csv_path.open("rb") as f:
        while block := f.read(1 << 24):
            lines += block.count(b"\n")
    return max(lines - 1, 0)


# 1. Ingest ------------------------------------------------------------------------------------
# The reference does what a fast engine must at least do for the job's output: parse the CSV
# with the contract's types, derive event_date, hour, ISO weekday and top category, and write
# Parquet partitioned by event_date. It skips what the Glue job adds (contract checks with
# reasons, quarantine, exact dedupe, total sort, merge with what is curated), so the ratio is
# an upper bound on what the job could gain, not a like-for-like race.
DUCKDB_COPY = """
COPY (
    SELECT
        ts AS event_time, event_type, product_id, category_id, category_code, brand, price,
        user_id, user_session,
        CAST(hour(ts) AS INTEGER) AS event_hour,
        CAST(isodow(ts) AS INTEGER) AS event_weekday,
        NULLIF(split_part(category_code, '.', 1), '') AS top_category,
        strftime(ts, '%Y-%m-%d') AS event_date
    FROM (
        SELECT *, strptime(event_time, '%Y-%m-%d %H:%M:%S UTC') AS ts
        FROM read_csv('{csv}', header = true, columns = {{
            'event_time': 'VARCHAR', 'event_type': 'VARCHAR', 'product_id': 'BIGINT',
            'category_id': 'BIGINT', 'category_code': 'VARCHAR', 'brand': 'VARCHAR',
            'price': 'DECIMAL(12,2)', 'user_id': 'BIGINT', 'user_session': 'VARCHAR'}})
    )
) TO '{out}' (FORMAT parquet, PARTITION_BY event_date, COMPRESSION snappy)
"""


def duckdb_copy(csv_path: Path, out_dir: Path) -> tuple[float, int]:
    """Time DuckDB's CSV-to-partitioned-Parquet copy; returns (seconds, rows written)."""
    shutil.rmtree(out_dir, ignore_errors=True)
    con = duckdb.connect()
    try:
        sql = DUCKDB_COPY.format(
            csv=str(csv_path).replace("'", "''"), out=str(out_dir).replace("'", "''")
        )
        started = time.perf_counter()
        con.execute(sql)
        seconds = time.perf_counter() - started
        written = con.execute(
            "SELECT count(*) FROM read_parquet(?, hive_partitioning = true)",
            [str(out_dir / "*" / "*.parquet")],
        ).fetchall()[0][0]
    finally:
        con.close()
    return seconds, int(written)


def spark_session(job: Any, driver_memory: str) -> Any:
    """The job's own local session settings, with a heap sized for millions of rows.

    `local_session()` gives the driver 1 GB, enough for tests and samples; at 10 million rows
    the job's cached, conformed rows overflow it (java.lang.OutOfMemoryError), so the bench
    asks for more, as a Glue worker has (G.1X: 16 GB). Everything else is the job's.
    """
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        # Local Spark talks to itself on loopback only, never on the machine's network address.
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .appName("batch_bench")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", driver_memory)
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    job.configure(spark)
    return spark


# 3. Cost follows new data; throughput against Spark's own floor --------------------------------
# Targets from issue 13: the incremental run after one more hour costs at most 3x the same
# run over that hour alone on an empty lake, and the full run over the history reaches at
# least 0.4x the speed of a bare Spark CSV-to-Parquet copy of the same file.
TARGET_INCREMENTAL, TARGET_THROUGHPUT = 3.0, 0.4
HOUR_TRIALS = 3  # the incremental run and the hour alone: best of this many each
# The bare copy and the full run: best of this many each, interleaved. One pair of 10 M-row
# runs moved by 10% between runs on a quiet machine (copy 42-56 s), enough to decide the ratio.
FULL_TRIALS = 2


def spark_copy(spark: Any, csv_path: Path, out_dir: Path) -> float:
    """Time a bare Spark copy: the CSV (header, every column as text, no inference) to Parquet
    partitioned by the day read from `event_time`. No typing, checks, dedupe or sort: the
    floor any Spark job over this file stands on."""
    from pyspark.sql import functions as F

    shutil.rmtree(out_dir, ignore_errors=True)
    started = time.perf_counter()
    (
        spark.read.option("header", True)
        .csv(str(csv_path))
        .withColumn("event_date", F.substring("event_time", 1, 10))
        .write.partitionBy("event_date")
        .parquet(str(out_dir))
    )
    return time.perf_counter() - started


def land_hour(hour_csv: Path, raw_root: Path, day: str, hour: int = 23) -> tuple[str, int]:
    """Land a generated CSV as one Firehose-like raw object of `hour` of `day` (every event's
    time moved into that hour, minutes and seconds kept); returns its key and row count."""
    import csv
    import gzip
    import json

    key = f"ingest_date={day}/hour={hour:02d}/bench-hour.json.gz"
    target = raw_root / key
    target.parent.mkdir(parents=True, exist_ok=True)
    landed = 0
    with (
        hour_csv.open(newline="", encoding="utf-8") as source,
        gzip.open(target, "wt", encoding="utf-8", compresslevel=1) as out,
    ):
        for row in csv.DictReader(source):
            minute_second = row["event_time"][14:19]
            event = {
                "event_time": f"{day}T{hour:02d}:{minute_second}Z",
                "event_type": row["event_type"],
                "product_id": int(row["product_id"]),
                "category_id": int(row["category_id"]) if row["category_id"] else None,
                "category_code": row["category_code"] or None,
                "brand": row["brand"] or None,
                "price": float(row["price"]),
                "user_id": int(row["user_id"]),
                "user_session": row["user_session"] or None,
                "ingested_at": f"{day}T{hour:02d}:{minute_second}.500Z",
            }
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
            landed += 1
    return key, landed


def _timed(action: Callable[..., Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def batch_cost(
    spark: Any, history: Path, hour_csv: Path, last_day: str, work: Path
) -> dict[str, Any]:
    """The bare copy, the full run over the history, one more hour landed and curated
    incrementally, the same hour alone on an empty lake, and a full rebuild (`--full` with
    the history again): seconds, counts and each run's phases."""
    lake, alone = work / "lake", work / "hour-lake"
    for folder in (lake, alone):
        shutil.rmtree(folder, ignore_errors=True)
    copy_s = full_s = math.inf
    full_profile: dict[str, float] = {}
    for _ in range(FULL_TRIALS):  # each full run on an empty lake; the last one's lake stays
        seconds = spark_copy(spark, history, work / "spark-copy")
        shutil.rmtree(work / "spark-copy", ignore_errors=True)
        print(f"bare Spark CSV-to-Parquet copy: {seconds:.1f} s", flush=True)
        copy_s = min(copy_s, seconds)
        shutil.rmtree(lake, ignore_errors=True)
        phases: dict[str, float] = {}
        seconds, full = _timed(
            lambda p=phases: run_local_job(lake, csv_path=history, spark=spark, profile=p)
        )
        print(f"full run: {full.to_json()} in {seconds:.1f} s, phases {phases}", flush=True)
        if seconds < full_s:
            full_s, full_profile = seconds, phases

    key, hour_rows = land_hour(hour_csv, LakePaths.of(lake).raw, last_day)
    # The incremental run and its yardstick, interleaved, best of HOUR_TRIALS each: a run of
    # 100 k rows lasts seconds, so one burst of other work on the machine would decide the
    # ratio. Earlier trials run on hard-linked copies of the lake (the job never changes a
    # file in place: it writes new folders and renames its records), the last on the lake.
    inc_s = alone_s = math.inf
    inc = alone_counts = None
    inc_profile: dict[str, float] = {}
    for trial in range(HOUR_TRIALS):
        target = lake
        if trial < HOUR_TRIALS - 1:
            target = work / f"lake-trial-{trial}"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(lake, target, copy_function=os.link)
        profile: dict[str, float] = {}
        seconds, counts = _timed(
            lambda t=target, p=profile: run_local_job(t, spark=spark, profile=p)
        )
        print(
            f"incremental run: {counts.to_json()} in {seconds:.1f} s, phases {profile}", flush=True
        )
        if counts.raw_objects != 1 or counts.event_dates != [last_day]:
            raise SystemExit(
                f"the incremental run read {counts.raw_objects} objects, {counts.event_dates}"
            )
        if seconds < inc_s:
            inc_s, inc, inc_profile = seconds, counts, profile
        if target != lake:
            shutil.rmtree(target, ignore_errors=True)

        shutil.rmtree(alone, ignore_errors=True)
        alone_raw = LakePaths.of(alone).raw / key
        alone_raw.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(LakePaths.of(lake).raw / key, alone_raw)
        seconds, counts = _timed(lambda: run_local_job(alone, spark=spark))
        print(f"hour alone: {counts.to_json()} in {seconds:.1f} s", flush=True)
        if seconds < alone_s:
            alone_s, alone_counts = seconds, counts
        shutil.rmtree(alone, ignore_errors=True)

    # The run that compacts: the next hour for the same day once the day holds MAX_DAY_FILES
    # files rewrites the whole day (the limit lowered to the day's 2 files to get there now).
    job = load_glue_job()
    limit, job.MAX_DAY_FILES = job.MAX_DAY_FILES, 2
    try:
        land_hour(hour_csv, LakePaths.of(lake).raw, last_day, hour=22)
        compact_s, compact = _timed(lambda: run_local_job(lake, spark=spark))
    finally:
        job.MAX_DAY_FILES = limit
    print(f"compacting run: {compact.to_json()} in {compact_s:.1f} s", flush=True)

    rebuild_profile: dict[str, float] = {}
    rebuild_s, rebuild = _timed(
        lambda: run_local_job(
            lake, csv_path=history, full=True, spark=spark, profile=rebuild_profile
        )
    )
    print(f"full rebuild: {rebuild.to_json()} in {rebuild_s:.1f} s", flush=True)
    return {
        "copy_s": copy_s,
        "full_s": full_s,
        "full": full,
        "full_profile": full_profile,
        "hour_rows": hour_rows,
        "inc_s": inc_s,
        "inc": inc,
        "inc_profile": inc_profile,
        "compact_s": compact_s,
        "compact": compact,
        "max_day_files": limit,
        "alone_s": alone_s,
        "alone": alone_counts,
        "rebuild_s": rebuild_s,
        "rebuild": rebuild,
        "rebuild_profile": rebuild_profile,
    }


def cost_targets(cost: dict[str, Any]) -> list[tuple[str, float, str, bool]]:
    """(measure, ratio, target, met) for the two issue-13 targets."""
    incremental = cost["inc_s"] / cost["alone_s"]
    throughput = cost["copy_s"] / cost["full_s"]
    return [
        ("incremental run / same hour alone on an empty lake", incremental,
         f"<= {TARGET_INCREMENTAL:g}", incremental <= TARGET_INCREMENTAL),
        ("full-run speed / bare Spark copy speed", throughput,
         f">= {TARGET_THROUGHPUT:g}", throughput >= TARGET_THROUGHPUT),
    ]  # fmt: skip


# 2. KPIs in pandas ----------------------------------------------------------------------------
# Each function reads the curated Parquet (only the columns it needs, partitions pruned on
# event_date as DuckDB prunes them) and computes its KPI with vectorised pandas: boolean
# columns, groupby aggregations, sort_values + groupby().cumcount() for ranks; never a Python
# loop over events. Money is summed exactly as integer cents (the column is DECIMAL(12,2)).
HIVE = ds.partitioning(pa.schema([("event_date", pa.string())]), flavor="hive")


def read_events(curated: Path, columns: list[str], p: KpiParameters) -> pd.DataFrame:
    """The curated events of [from_date, to_date] as a DataFrame; price as int64 `cents`."""
    # The days' current folders, as the job's partition record names them (what DuckDB reads).
    files = [str(f) for f in current_files(curated)]
    table = ds.dataset(files, format="parquet", partitioning=HIVE, partition_base_dir=None)
    table = table.to_table(
        columns=columns,
        filter=(pc.field("event_date") >= p.from_date) & (pc.field("event_date") <= p.to_date),
    )
    if "price" in columns:
        cents = pc.cast(pc.multiply(table["price"], pa.scalar(100)), pa.int64())
        table = table.set_column(table.schema.get_field_index("price"), "cents", cents)
    return table.to_pandas()


def _rate(numerator: pd.Series, denominator: pd.Series, places: int) -> pd.Series:
    """ROUND(CAST(n AS DOUBLE) / NULLIF(d, 0), places), rounding half away from zero as SQL."""
    ratio = numerator.astype("float64") / denominator.where(denominator != 0).astype("float64")
    scale = 10.0**places
    return np.floor(ratio * scale + 0.5) / scale


def _money(cents: pd.Series) -> pd.Series:
    return cents.map(lambda c: Decimal(int(c)) / 100)  # one call per output row, not per event


def _records(frame: pd.DataFrame) -> Rows:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def pd_unique_visitors(curated: Path, p: KpiParameters) -> Rows:
    df = read_events(curated, ["event_date", "user_id", "user_session"], p)
    if df.empty:
        return []
    days = df.groupby("event_date").agg(
        unique_visitors=("user_id", "nunique"), sessions=("user_session", "nunique")
    )
    days.loc["all"] = [df["user_id"].nunique(), df["user_session"].nunique()]
    return _records(days.sort_index().reset_index())


def pd_cart_abandonment(curated: Path, p: KpiParameters) -> Rows:
    cols = ["event_date", "event_hour", "event_type", "user_id", "user_session", "price"]
    df = read_events(curated, cols, p)
    df = df[
        df["event_hour"].between(p.hour_from, p.hour_to)
        & df["event_type"].isin(["cart", "purchase"])
    ]
    if df.empty:
        return []
    df = df.assign(
        carted=df["event_type"] == "cart",
        purchased=df["event_type"] == "purchase",
        cart_cents=df["cents"].where(df["event_type"] == "cart", 0),
    )
    day_sessions = df.groupby(["event_date", "user_session"], as_index=False).agg(
        carted=("carted", "any"), purchased=("purchased", "any"), cart_cents=("cart_cents", "sum")
    )
    day_users = df.groupby(["event_date", "user_id"], as_index=False).agg(
        carted=("carted", "any"), purchased=("purchased", "any")
    )

    def totals(per_day: pd.DataFrame, key: str, value: bool) -> pd.DataFrame:
        agg: dict[str, tuple[str, str]] = {"carted": ("carted", "any")}
        agg["purchased"] = ("purchased", "any")
        if value:
            agg["cart_cents"] = ("cart_cents", "sum")
        whole = per_day.groupby(key).agg(**agg).assign(event_date="all")
        both = pd.concat([per_day.drop(columns=key), whole.reset_index(drop=True)])
        both["abandoned"] = both["carted"] & ~both["purchased"]
        if value:
            both["abandoned_cents"] = both["cart_cents"].where(both["abandoned"], 0)
        return both.groupby("event_date").sum(numeric_only=True)

    s = totals(day_sessions, "user_session", True)
    u = totals(day_users, "user_id", False)
    out = pd.DataFrame(
        {
            "sessions_with_cart": s["carted"],
            "abandoned_sessions": s["abandoned"],
            "session_abandonment_rate": _rate(s["abandoned"], s["carted"], 4),
            "abandoned_cart_value": _money(s["abandoned_cents"]),
            "users_with_cart": u["carted"],
            "abandoned_users": u["abandoned"],
            "user_abandonment_rate": _rate(u["abandoned"], u["carted"], 4),
        }
    )
    return _records(out.sort_index().rename_axis("event_date").reset_index())


def pd_funnel(curated: Path, p: KpiParameters) -> Rows:
    df = read_events(curated, ["event_date", "user_session", "event_type"], p)
    if df.empty:
        return []
    df = df.assign(
        viewed=df["event_type"] == "view",
        carted=df["event_type"] == "cart",
        purchased=df["event_type"] == "purchase",
    )
    flags = {f: (f, "any") for f in ("viewed", "carted", "purchased")}
    day = df.groupby(["event_date", "user_session"], as_index=False).agg(**flags)
    whole = day.groupby("user_session").agg(**flags).reset_index(drop=True).assign(event_date="all")
    both = pd.concat([day.drop(columns="user_session"), whole])
    both["carted"] &= both["viewed"]
    both["purchased"] &= both["carted"]
    steps = both.groupby("event_date").agg(
        sessions=("viewed", "size"),
        viewed_sessions=("viewed", "sum"),
        carted_sessions=("carted", "sum"),
        purchased_sessions=("purchased", "sum"),
    )
    steps["view_to_cart_rate"] = _rate(steps["carted_sessions"], steps["viewed_sessions"], 4)
    steps["cart_to_purchase_rate"] = _rate(steps["purchased_sessions"], steps["carted_sessions"], 4)
    steps["view_to_purchase_rate"] = _rate(steps["purchased_sessions"], steps["viewed_sessions"], 4)
    return _records(steps.sort_index().reset_index())


def pd_revenue(curated: Path, p: KpiParameters) -> Rows:
    cols = ["event_date", "event_type", "user_session", "user_id", "price"]
    df = read_events(curated, cols, p)
    if df.empty:
        return []
    days = pd.Index(df["event_date"].unique(), name="event_date")
    bought = df[df["event_type"] == "purchase"]
    # orders and their value are session-level: sessionless purchases (NaN) are left out.
    bought = bought.assign(order_cents=bought["cents"].where(bought["user_session"].notna(), 0))
    agg = {
        "orders": ("user_session", "nunique"),
        "purchased_items": ("user_session", "size"),
        "buyers": ("user_id", "nunique"),
        "cents": ("cents", "sum"),
        "order_cents": ("order_cents", "sum"),
    }
    per_day = bought.groupby("event_date").agg(**agg).reindex(days, fill_value=0)
    per_day.loc["all"] = [
        bought["user_session"].nunique(),
        len(bought),
        bought["user_id"].nunique(),
        bought["cents"].sum(),
        bought["order_cents"].sum(),
    ]
    per_day = per_day.astype("int64")
    out = per_day[["orders", "purchased_items", "buyers"]].assign(
        revenue=_money(per_day["cents"]),
        average_order_value=_rate(per_day["order_cents"] / 100, per_day["orders"], 2),
    )
    return _records(out.sort_index().reset_index())


def pd_top_categories(curated: Path, p: KpiParameters) -> Rows:
    cols = ["event_date", "event_hour", "event_weekday", "top_category", "event_type", "price"]
    df = read_events(curated, cols, p)
    if df.empty:
        return []
    df = df.assign(
        category=df["top_category"].fillna("(none)"),
        views=(df["event_type"] == "view").astype("int64"),
        carts=(df["event_type"] == "cart").astype("int64"),
        purchases=(df["event_type"] == "purchase").astype("int64"),
        cents=df["cents"].where(df["event_type"] == "purchase", 0),
    )
    metrics = ["views", "carts", "purchases", "cents"]
    parts = []
    for dimension, column in (("hour", "event_hour"), ("weekday", "event_weekday")):
        totals = df.groupby([column, "category"], as_index=False)[metrics].sum()
        totals = totals.rename(columns={column: "slot"}).assign(dimension=dimension)
        parts.append(totals)
    ranked = pd.concat(parts).sort_values(
        ["dimension", "slot", "views", "carts", "purchases", "cents", "category"],
        ascending=[True, True, False, False, False, False, True],
    )
    ranked["category_rank"] = ranked.groupby(["dimension", "slot"]).cumcount() + 1
    top = ranked[ranked["category_rank"] <= p.top_n]
    top = top.assign(revenue=_money(top["cents"]))
    return _records(
        top[["dimension", "slot", "category_rank", "category", "views", "carts", "purchases",
             "revenue"]]
    )  # fmt: skip


def pd_brands_to_push(curated: Path, p: KpiParameters) -> Rows:
    df = read_events(curated, ["event_date", "brand", "event_type", "price"], p)
    df = df[df["brand"].notna()]
    if df.empty:
        return []
    df = df.assign(
        views=(df["event_type"] == "view").astype("int64"),
        carts=(df["event_type"] == "cart").astype("int64"),
        purchases=(df["event_type"] == "purchase").astype("int64"),
        cents=df["cents"].where(df["event_type"] == "purchase", 0),
    )
    brands = df.groupby("brand", as_index=False)[["views", "carts", "purchases", "cents"]].sum()
    brands = brands[(brands["views"] >= p.min_views) & (brands["views"] > 0)]
    brands = brands.assign(conversion=brands["purchases"] / brands["views"]).sort_values(
        ["conversion", "views", "brand"], ascending=[True, False, True]
    )
    brands["push_rank"] = np.arange(1, len(brands) + 1)
    top = brands[brands["push_rank"] <= p.top_n]
    out = pd.DataFrame(
        {
            "push_rank": top["push_rank"],
            "brand": top["brand"],
            "views": top["views"],
            "carts": top["carts"],
            "purchases": top["purchases"],
            "view_to_purchase_rate": _rate(top["purchases"], top["views"], 4),
            "cart_rate": _rate(top["carts"], top["views"], 4),
            "revenue": _money(top["cents"]),
        }
    )
    return _records(out)


PANDAS_KPIS: dict[str, Callable[[Path, KpiParameters], Rows]] = {
    "unique-visitors": pd_unique_visitors,
    "cart-abandonment": pd_cart_abandonment,
    "funnel": pd_funnel,
    "revenue": pd_revenue,
    "top-categories": pd_top_categories,
    "brands-to-push": pd_brands_to_push,
}


# Comparing answers ----------------------------------------------------------------------------
def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-9)
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return Decimal(a) == Decimal(b)
    return bool(a == b)


def assert_same(name: str, duck: Rows, pandas_rows: Rows, label: str) -> None:
    """Fail the run, naming the first difference, unless both engines gave the same rows."""
    if len(duck) != len(pandas_rows):
        raise SystemExit(f"{name} ({label}): DuckDB {len(duck)} rows, pandas {len(pandas_rows)}")
    for i, (d, q) in enumerate(zip(duck, pandas_rows, strict=True)):
        if list(d) != list(q):
            raise SystemExit(f"{name} ({label}) row {i}: columns {list(d)} vs {list(q)}")
        for key in d:
            if not _same(d[key], q[key]):
                raise SystemExit(
                    f"{name} ({label}) row {i} {key}: DuckDB {d[key]!r}, pandas {q[key]!r}"
                )


def duckdb_kpi(name: str, p: KpiParameters, settings: Settings) -> tuple[float, Rows]:
    started = time.perf_counter()
    (result,) = run_kpis([name], p, Engine.local, settings)
    return time.perf_counter() - started, result.rows


def pandas_kpi(name: str, p: KpiParameters, curated: Path) -> tuple[float, Rows]:
    started = time.perf_counter()
    rows = PANDAS_KPIS[name](curated, p)
    return time.perf_counter() - started, rows


CHECK_PARAMETERS = {
    "all data": KpiParameters(min_views=5),
    "date range": KpiParameters(from_date="2019-10-02", to_date="2019-10-03", top_n=3),
    "hour window": KpiParameters(hour_from=18, hour_to=23, top_n=5, min_views=1),
    "empty range": KpiParameters(from_date="2030-01-01", to_date="2030-01-31"),
}


def check_equal(settings: Settings) -> int:
    """Every KPI, pandas vs DuckDB, on the small lake under every parameter set."""
    curated = LakePaths.of(settings.lake_dir).curated
    checked = 0
    for name in catalog.names():
        for label, p in CHECK_PARAMETERS.items():
            _, duck = duckdb_kpi(name, p, settings)
            _, panda = pandas_kpi(name, p, curated)
            assert_same(name, duck, panda, label)
            checked += 1
    return checked


# The run ------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="Rows to generate.")
    parser.add_argument("--days", type=int, default=31, help="Days the generated rows span.")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, help="Working folder (default: new in /tmp).")
    parser.add_argument("--data", type=Path, help="Use this REES46-shaped CSV, do not generate.")
    parser.add_argument(
        "--spark-memory", default="4g", help="Spark driver heap (local[2]); default 4g."
    )
    parser.add_argument(
        "--hour-rows", type=int, default=100_000, help="Rows of the hour landed after the history."
    )
    parser.add_argument("--no-kpis", action="store_true", help="Skip the KPI comparison.")
    parser.add_argument("--keep", action="store_true", help="Keep the working data.")
    parser.add_argument("--no-docs", action="store_true", help="Do not update docs/batch.md.")
    args = parser.parse_args()
    if args.data is not None and not args.data.is_file():
        raise SystemExit(f"no such CSV file: {args.data}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ecomm-batch-bench-", dir="/tmp"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, work)
    finally:
        if not args.keep:
            for sub in (
                "events.csv", "check.csv", "hour.csv", "duckdb-copy", "spark-copy", "lake",
                "hour-lake", "check",
            ):  # fmt: skip
                target = work / sub
                if target.is_dir():
                    shutil.rmtree(target, ignore_errors=True)
                elif target.exists():
                    target.unlink()
            if args.workdir is None:
                shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> int:
    print(f"working folder {work}", flush=True)
    if args.data is not None:
        csv_path, origin = args.data.resolve(), f"`{args.data.name}`"
    else:
        csv_path = work / "events.csv"
        gen_s = generate(csv_path, args.rows, args.days, args.seed)
        origin = f"`ecomm sample generate --rows {args.rows} --days {args.days} --seed {args.seed}`"
        print(f"generated {csv_path} in {gen_s:.1f} s", flush=True)
    rows = count_rows(csv_path)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"input: {rows:,} rows, {size_mb:,.0f} MB", flush=True)
    check_csv = work / "check.csv"
    generate(check_csv, 20_000, 4, args.seed + 1)
    last_day = str(
        duckdb.connect().execute(
            "SELECT max(substr(event_time, 1, 10)) FROM read_csv(?, header = true, "
            "all_varchar = true, ignore_errors = true)",
            [str(csv_path)],
        ).fetchall()[0][0]
    ) if args.data is not None else str(
        date.fromisoformat("2019-10-01") + timedelta(days=args.days - 1)
    )  # fmt: skip
    hour_csv = work / "hour.csv"
    generate(hour_csv, args.hour_rows, 1, args.seed + 2, start=last_day)

    # 1. Ingest: the reference first, then the Glue job on a warm local Spark session.
    copy_s, copy_rows = duckdb_copy(csv_path, work / "duckdb-copy")
    shutil.rmtree(work / "duckdb-copy", ignore_errors=True)
    print(f"DuckDB COPY: {copy_rows:,} rows in {copy_s:.1f} s", flush=True)
    job = load_glue_job()
    started = time.perf_counter()
    spark = spark_session(job, args.spark_memory)
    session_s = time.perf_counter() - started
    try:
        # Settings.lake_dir is <state_dir>/lake: the small set's lake sits under work/check.
        check_lake, lake = work / "check" / "lake", work / "lake"
        for folder in (check_lake, lake):
            shutil.rmtree(folder, ignore_errors=True)
        # The small set warms the JVM and feeds the equality check below.
        run_local_job(check_lake, csv_path=check_csv, spark=spark)
        cost = batch_cost(spark, csv_path, hour_csv, last_day, work)
    finally:
        spark.stop()
    job_s, counts = cost["full_s"], cost["full"]
    spark_rate, duck_rate = rows / job_s, rows / copy_s
    targets = cost_targets(cost)
    if args.no_kpis:
        for name, ratio, target, met in targets:
            print(f"{name}: {ratio:.3f} (target {target}) {'met' if met else 'MISSED'}")
        return 0 if all(met for *_, met in targets) else 1

    # 2. KPIs: first prove pandas and DuckDB agree, then time both.
    checked = check_equal(Settings.load(state_dir=check_lake.parent))
    print(f"pandas == DuckDB on the small set: {checked} KPI runs", flush=True)
    settings = Settings.load(state_dir=work)
    curated = LakePaths.of(settings.lake_dir).curated
    p = KpiParameters()
    timings: list[tuple[str, float, float, int]] = []
    for name in catalog.names():
        duck_times, panda_times = [], []
        duck_rows: Rows = []
        panda_rows: Rows = []
        for _ in range(REPEATS):
            seconds, duck_rows = duckdb_kpi(name, p, settings)
            duck_times.append(seconds)
        for _ in range(REPEATS):
            seconds, panda_rows = pandas_kpi(name, p, curated)
            panda_times.append(seconds)
        assert_same(name, duck_rows, panda_rows, f"{rows:,} rows")
        timings.append((name, min(duck_times), min(panda_times), len(duck_rows)))
        print(
            f"{name}: DuckDB {min(duck_times):.2f} s, pandas {min(panda_times):.2f} s, "
            f"{min(panda_times) / min(duck_times):.1f}x",
            flush=True,
        )

    block = render(args, origin, rows, size_mb, (copy_s, copy_rows), (job_s, session_s, counts),
                   (duck_rate, spark_rate), timings, checked, cost, last_day)  # fmt: skip
    print(block)
    if not args.no_docs:
        write_docs(block)
    # The ratios last, and the exit status says whether every target was met.
    kpis_met = all(p / d >= TARGET_RATIO and d < TARGET_SECONDS for _, d, p, _ in timings)
    print(f"KPIs: each >= {TARGET_RATIO:g}x pandas and < {TARGET_SECONDS:g} s: "
          f"{'met' if kpis_met else 'MISSED'}")  # fmt: skip
    for name, ratio, target, met in targets:
        print(f"{name}: {ratio:.3f} (target {target}) {'met' if met else 'MISSED'}")
    return 0 if kpis_met and all(met for *_, met in targets) else 1


def render(
    args: argparse.Namespace,
    origin: str,
    rows: int,
    size_mb: float,
    copy: tuple[float, int],
    job: tuple[float, float, Any],
    rates: tuple[float, float],
    timings: list[tuple[str, float, float, int]],
    checked: int,
    cost: dict[str, Any],
    last_day: str,
) -> str:
    """The Markdown block for docs/batch.md: machine, command, ingest table, KPI table."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    copy_s, copy_rows = copy
    job_s, session_s, counts = job
    duck_rate, spark_rate = rates
    command = ".venv/bin/python bench/batch_bench.py"
    if args.data is not None:
        command += f" --data {args.data}"
    else:
        command += f" --rows {args.rows} --days {args.days} --seed {args.seed}"
    lines = [
        START,
        f"Measured {when} on {platform.machine()} ({multiprocessing.cpu_count()} cores, shared "
        f"with other work, load average {load} at the end), Python "
        f"{platform.python_version()}, DuckDB {duckdb.__version__}, pandas {pd.__version__}, "
        f"pyarrow {pa.__version__}, PySpark local[2] with a "
        f"{args.spark_memory} driver heap. Input: "
        f"{rows:,} rows ({size_mb:,.0f} MB of CSV) from {origin}. One run:",
        "",
        "```",
        command,
        "```",
        "",
        "**Ingest** (CSV to Parquet partitioned by `event_date`):",
        "",
        "| step | seconds | rows/s | vs the reference |",
        "|---|---|---|---|",
        f"| DuckDB `COPY (SELECT ... FROM read_csv(...)) TO ... (FORMAT parquet, PARTITION_BY "
        f"event_date)`, the near-limit reference ({copy_rows:,} rows written) | {copy_s:.1f} "
        f"| {duck_rate:,.0f} | 1 |",
        f"| Glue job `glue/curate_events.py` on local Spark, CSV backfill "
        f"({counts.curated_rows:,} curated, {counts.rejected:,} rejected, "
        f"{counts.duplicates:,} duplicates) | {job_s:.1f} | {spark_rate:,.0f} "
        f"| **{spark_rate / duck_rate:.2f}** (DuckDB {duck_rate / spark_rate:.1f}x faster) |",
        "",
        f"The Spark session started in {session_s:.1f} s (not counted above; the job ran on a "
        "session warmed by the small check set). The reference only types the columns and "
        "derives the partition and time columns; the job also checks every contract rule with "
        "reasons, writes the quarantine, removes exact duplicates, merges with what is curated "
        "and sorts totally for byte-identical reruns, so the ratio bounds what tuning the job "
        "could gain rather than racing like for like.",
        "",
        f"**KPIs** on the Glue job's curated Parquet, all data, default parameters, best of "
        f"{REPEATS}. DuckDB: `run_kpis([name], KpiParameters(), Engine.local, settings)`, "
        "connection, transpiling and fetching included. pandas: reading the same Parquet "
        "(`pyarrow.dataset` over the files the partition record names, the KPI's columns "
        "only, then `to_pandas()`) included. "
        f"Before timing, the pandas answers equalled DuckDB's in {checked} runs on a small "
        "generated set (4 days, 4 parameter sets: all data, a date range, an hour window, an "
        "empty range); the timed answers were equal too.",
        "",
        f"| KPI | rows out | DuckDB s | pandas s | pandas / DuckDB | >= {TARGET_RATIO:g}x "
        f"and < {TARGET_SECONDS:g} s |",
        "|---|---|---|---|---|---|",
    ]
    for name, duck_s, panda_s, out_rows in timings:
        ratio = panda_s / duck_s
        met = "yes" if ratio >= TARGET_RATIO and duck_s < TARGET_SECONDS else "**no**"
        lines.append(
            f"| {name} | {out_rows} | {duck_s:.2f} | {panda_s:.2f} | {ratio:.1f}x | {met} |"
        )
    full, inc, alone, rebuild = cost["full"], cost["inc"], cost["alone"], cost["rebuild"]
    targets = cost_targets(cost)
    lines += [
        "",
        f"**Cost follows new data** (issue 13). The history above is curated by one run "
        f"(`--csv`); then one more hour ({cost['hour_rows']:,} rows, hour 23 of {last_day}, "
        "the history's last day, which the lake already holds) lands as a raw object "
        "and a plain run (no argument: the job picks the objects no successful run curated) "
        "curates it: the day is appended to (its new events in one more file, its held file "
        "carried by hard link); the same object alone on an empty lake is the yardstick. "
        "Then the same rows as hour 22 with the day at its file limit: that run rewrites the "
        f"whole day (compaction, once per {cost['max_day_files'] - 1} appends to a day). Then "
        "a full rebuild (`--full` plus the CSV again, every day rewritten whole). All on the "
        f"same warm session (started in {session_s:.1f} s, not counted).",
        "",
        "| run | seconds | rows read | days written | rows those days hold |",
        "|---|---|---|---|---|",
        f"| bare Spark CSV-to-Parquet copy of the history (text columns, partitioned by "
        f"day; best of {FULL_TRIALS}) | {cost['copy_s']:.1f} | {rows:,} | | |",
        f"| full run over the history (best of {FULL_TRIALS}, each on an empty lake) "
        f"| {cost['full_s']:.1f} | {full.read:,} "
        f"| {len(full.event_dates)} | {full.curated_rows:,} |",
        f"| incremental run after one more hour (best of {HOUR_TRIALS}) "
        f"| {cost['inc_s']:.1f} | {inc.read:,} "
        f"| {len(inc.event_dates)} | {inc.curated_rows:,} |",
        f"| compacting run: one more hour, the day rewritten whole | {cost['compact_s']:.1f} "
        f"| {cost['compact'].read:,} | {len(cost['compact'].event_dates)} "
        f"| {cost['compact'].curated_rows:,} |",
        f"| the same hour alone, empty lake (best of {HOUR_TRIALS}) "
        f"| {cost['alone_s']:.1f} | {alone.read:,} "
        f"| {len(alone.event_dates)} | {alone.curated_rows:,} |",
        f"| full rebuild (`--full`, CSV again) | {cost['rebuild_s']:.1f} | {rebuild.read:,} "
        f"| {len(rebuild.event_dates)} | {rebuild.curated_rows:,} |",
        "",
        "| target | ratio | wanted | met |",
        "|---|---|---|---|",
        *[
            f"| {name} | {ratio:.3f} | {target} | {'yes' if met else '**no**'} |"
            for name, ratio, target, met in targets
        ],
        "",
        "Phases of the full run (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in cost["full_profile"].items())
        + "; of the incremental run: "
        + ", ".join(f"{k} {v:.1f}" for k, v in cost["inc_profile"].items())
        + ".",
    ]
    lines += [
        "",
        "The pandas side is vectorised throughout: boolean columns from `event_type`, "
        "`groupby(...).agg(any / sum / nunique / size)`, the `all` row from a second groupby "
        "over the per-day groups (as the SQL rolls up), ranks from `sort_values` and "
        "`groupby().cumcount()`, money summed exactly as int64 cents converted in Arrow "
        "(`price` is DECIMAL(12,2)), rates rounded half away from zero as SQL's ROUND. No "
        "Python loop touches an event; only the few output rows become Python objects.",
        END,
    ]
    return "\n".join(lines)


def write_docs(block: str) -> None:
    text = DOCS.read_text() if DOCS.exists() else ""
    if START in text and END in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _m: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n## Benchmarks\n\n" + block + "\n"
    DOCS.write_text(text)
    print(f"figures written to {DOCS.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    sys.exit(main())

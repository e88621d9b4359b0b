"""The Glue job (glue/curate_events.py) on a local Spark session, then the KPIs on DuckDB."""

from __future__ import annotations

import gzip
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ecomm_cli.etl.local_runner import LakePaths, run_local_job
from ecomm_cli.kpi.engines import Engine
from ecomm_cli.kpi.local_engine import PARTITIONS_RECORD, current_files
from ecomm_cli.kpi.parameters import KpiParameters
from ecomm_cli.kpi.runner import run_kpis
from ecomm_cli.kpi.transpile import EVENTS_COLUMNS
from ecomm_cli.settings import Settings
from tests.conftest import rees46_file  # absent: a skip, or a failure in CI

pytestmark = pytest.mark.spark

# Reference figures of ../shared/data/rees46/README.md (computed there with the csv module).
REFERENCE: dict[str, dict[str, Any]] = {
    "multicategory-2019-10-01-head.csv": {
        "read": 17_435,  # 17,434 valid rows and a truncated last line
        "rejected": 1,
        "duplicates": 5,
        "visitors_per_day": {"2019-10-01": 4_504},
        "users": 4_504,
        "sessions": 5_066,
        "users_carted": 111,
        "buyers": 193,
        "carted_never_purchased": 49,
        "sessions_cart_no_purchase": 53,
    },
    "cosmetics-2019-10-sample.csv": {
        "read": 22_283,
        "rejected": 0,
        "duplicates": 1_242,
        "visitors_per_day": {"2019-10-01": 3_003, "2019-10-31": 267},
        "users": 3_270,
        "sessions": 4_553,
        "users_carted": 894,
        "buyers": 188,
        "carted_never_purchased": 734,
        "sessions_cart_no_purchase": 912,
    },
}


def write_raw(lake: Path, ingest_date: str, hour: str, lines: list[str], part: str = "a") -> None:
    """One Firehose-like object: GZIP JSON lines under ingest_date=/hour= of the raw zone."""
    folder = LakePaths.of(lake).raw / f"ingest_date={ingest_date}" / f"hour={hour}"
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / f"events-{part}.json.gz", "wt", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def event(**changes: Any) -> str:
    """A valid raw event as the replay encodes it, with some fields changed."""
    base: dict[str, Any] = {
        "event_time": "2019-10-06T10:15:00Z",
        "event_type": "view",
        "product_id": 5802432,
        "category_id": 2053013552326770905,
        "category_code": "electronics.smartphone",
        "brand": "apple",
        "price": 35.79,
        "user_id": 541312140,
        "user_session": "72d76fde-8bb3-4e00-8c23-a032dfed738c",
        "ingested_at": "2019-10-06T10:15:01.000Z",
    }
    base.update(changes)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def current_days(folder: Path) -> dict[str, Path]:
    """Each day's current folder, as the job's partition record names it."""
    record = json.loads((folder / PARTITIONS_RECORD).read_text(encoding="utf-8"))
    return {day: folder / p["location"] for day, p in record["partitions"].items()}


def content_digest(folder: Path) -> dict[str, str]:
    """sha256 of each current day's data files, by day (file names hold random ids)."""
    digests: dict[str, str] = {}
    for day, partition in sorted(current_days(folder).items()):
        h = hashlib.sha256()
        for data in sorted(partition.glob("part-*")):
            h.update(data.read_bytes())
        digests[day] = h.hexdigest()
    return digests


def parquet_list(lake: Path) -> str:
    """The current files as a DuckDB list literal (what the KPI engine reads)."""
    files = current_files(LakePaths.of(lake).curated)
    return "[" + ", ".join(f"'{f}'" for f in files) + "]"


def curated_rows(lake: Path, where: str = "true") -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(
        f"SELECT * FROM read_parquet({parquet_list(lake)}, hive_partitioning = true, "
        f"hive_types = {{'event_date': 'VARCHAR'}}) WHERE {where} "
        "ORDER BY event_time, user_id, event_type"
    ).fetchall()


def quarantine(lake: Path) -> list[dict[str, Any]]:
    rows = []
    # batch=<source>/object=<object>/part-*.json.gz
    for path in sorted(LakePaths.of(lake).quarantine.glob("batch=*/object=*/*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            rows += [{**json.loads(line), "batch": path.parent.parent.name} for line in lines]
    return rows


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_real_sample_through_the_job_and_the_kpis_gives_the_reference_figures(
    spark: Any, tmp_path: Path, name: str
) -> None:
    expected = REFERENCE[name]
    lake = tmp_path / "lake"
    counts = run_local_job(lake, csv_path=rees46_file(name), spark=spark)
    assert (counts.read, counts.rejected, counts.duplicates) == (
        expected["read"],
        expected["rejected"],
        expected["duplicates"],
    )
    assert counts.valid == expected["read"] - expected["rejected"]
    assert counts.curated_rows == counts.valid - counts.duplicates
    assert counts.warnings == 0  # neither sample holds a category_id in scientific notation

    settings = Settings.load(state_dir=tmp_path, env="local")
    results = {
        r.name: {row[r.columns[0]]: row for row in r.rows}
        for r in run_kpis(
            ["unique-visitors", "cart-abandonment", "revenue"],
            KpiParameters.from_options(),
            Engine.local,
            settings,
        )
    }
    visitors = results["unique-visitors"]
    # The figures count rows as written; exact duplicates removed must not change them.
    for day, users in expected["visitors_per_day"].items():
        assert visitors[day]["unique_visitors"] == users
    assert visitors["all"]["unique_visitors"] == expected["users"]
    assert visitors["all"]["sessions"] == expected["sessions"]
    whole = results["cart-abandonment"]["all"]
    assert whole["users_with_cart"] == expected["users_carted"]
    assert whole["abandoned_users"] == expected["carted_never_purchased"]
    assert whole["abandoned_sessions"] == expected["sessions_cart_no_purchase"]
    assert results["revenue"]["all"]["buyers"] == expected["buyers"]

    rejects = quarantine(lake)
    assert len(rejects) == expected["rejected"]
    for reject in rejects:  # the truncated last line of the multicategory head
        assert "malformed CSV row" in reject["reason"]
        assert reject["batch"] == f"batch=csv-{name.removesuffix('.csv')}"


def test_real_sample_replayed_into_the_raw_zone_gives_the_reference_figures(
    spark: Any, tmp_path: Path
) -> None:
    """The raw-JSON path on real data: rows encoded as `ecomm replay` encodes them."""
    import csv

    from ecomm_cli.contract import encode_event, layout_from_header, parse_row

    lake = tmp_path / "lake"
    by_partition: dict[tuple[str, str], list[str]] = {}
    with rees46_file("cosmetics-2019-10-sample.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        layout = layout_from_header(next(reader))
        for number, fields in enumerate(reader):
            parsed = parse_row(fields, layout)
            assert parsed.event is not None, parsed.reason
            # Each sending has its own ingested_at: duplicates differ there and only there.
            sent = f"{parsed.event['event_time'][:-1]}.{number % 1000:03d}Z"
            day, hour = parsed.event["event_time"][:10], parsed.event["event_time"][11:13]
            by_partition.setdefault((day, hour), []).append(
                encode_event(parsed.event, sent).decode()
            )
    for (day, hour), lines in by_partition.items():
        write_raw(lake, day, hour, lines)

    counts = run_local_job(lake, spark=spark)
    assert (counts.read, counts.valid, counts.duplicates) == (22_283, 22_283, 1_242)
    settings = Settings.load(state_dir=tmp_path, env="local")
    visitors, carts = run_kpis(
        ["unique-visitors", "cart-abandonment"], KpiParameters(), Engine.local, settings
    )
    assert [(r["event_date"], r["unique_visitors"]) for r in visitors.rows] == [
        ("2019-10-01", 3_003),
        ("2019-10-31", 267),
        ("all", 3_270),
    ]
    assert (carts.rows[-1]["abandoned_users"], carts.rows[-1]["abandoned_sessions"]) == (734, 912)


def test_contract_rejects_warnings_dedupe_and_derived_columns(spark: Any, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    write_raw(
        lake,
        "2019-10-06",
        "10",
        [
            event(),  # valid
            event(ingested_at="2019-10-06T10:15:09.000Z"),  # the same event sent again
            event(event_type="cart", product_id=5802432.0, user_id=541312140.0),  # float ids
            event(event_type="purchase", price=12345678.5),  # Spark sees 1.23456785E7
            '{"event_time":"2019-10-06T11:00:00Z","event_type":"view","product_id":1,'
            '"category_id":2.053013552326771E18,"category_code":"","brand":null,'
            '"price":0.4,"user_id":7,"user_session":"s-7","ingested_at":"2019-10-06T11:00:01Z"}',
            event(event_time="2019-10-06 10:15:00 UTC"),  # the CSV form, not the contract's
            event(event_time="2019-10-06T10:15:00"),  # no zone
            event(event_time="2019-10-06T10:15:00Z\n"),  # a line break after (regex `$` allows it)
            event(event_type="wishlist"),
            event(product_id="abc"),
            event(user_id=5.5),
            event(user_id=...),  # missing
            event(price=1.234),
            event(price=-1),
            event(user_session="  "),  # no session: kept, stored as null
            event(category_id=99999999999999999999),  # does not fit in 64 bits
            '{"event_time": "2019-10-06T10:15:00Z", "event_type": ',  # truncated JSON
            # One row per rule not broken above, each breaking only that rule: the job builds
            # the list of reasons only for rows its cheap all-rules-pass test refuses.
            event(event_time=...),
            event(event_type=...),
            event(product_id=...),
            event(product_id=99999999999999999999),
            event(user_id=99999999999999999999),
            event(category_id="twelve"),
            event(price=...),
            event(price=1e30),
            event(category_code="x" * 131_073),
            event(brand="ap\ufffdle"),
            event(user_session="s\u0000"),
            event(ingested_at="2019-10-06 10:15:01"),
        ],
    )
    counts = run_local_job(lake, spark=spark)
    assert (counts.read, counts.valid, counts.rejected) == (29, 6, 23)
    assert (counts.duplicates, counts.warnings, counts.curated_rows) == (1, 1, 5)
    assert counts.event_dates == ["2019-10-06"]

    reasons = sorted(r["reason"] for r in quarantine(lake))
    assert reasons == sorted(
        [
            "event_time: not ISO-8601 UTC with a Z",
            "event_time: not ISO-8601 UTC with a Z",
            "event_time: not ISO-8601 UTC with a Z",
            "event_type: not one of view/cart/remove_from_cart/purchase",
            "product_id: not an integer",
            "user_id: not an integer",
            "user_id: missing",
            "price: more than two decimals",
            "price: not a non-negative number",
            "category_id: out of range",
            "malformed JSON line",
            "event_time: missing",
            "event_type: missing",
            "product_id: missing",
            "product_id: out of range",
            "user_id: out of range",
            "category_id: not an integer",
            "price: missing",
            "price: out of range",
            "category_code: longer than 131072 characters",
            "brand: not UTF-8",
            "user_session: holds a NUL byte",
            "ingested_at: not ISO-8601 UTC with a Z",
        ]
    )
    assert {r["batch"] for r in quarantine(lake)} == {"batch=raw-2019-10-06"}

    rows = curated_rows(lake)
    columns = list(EVENTS_COLUMNS)
    assert sum(r[columns.index("user_session")] is None for r in rows) == 1
    by_type = {r[1]: dict(zip(columns, r, strict=True)) for r in rows if r[4] is not None}
    view = by_type["view"]
    assert view["category_id"] == 2053013552326770905  # all 19 digits, exactly
    assert str(view["ingested_at"]).startswith("2019-10-06 10:15:01")  # the first sending
    assert (view["event_hour"], view["event_weekday"], view["top_category"]) == (
        10,
        7,  # 2019-10-06 is a Sunday: ISO weekday 7
        "electronics",
    )
    assert (by_type["cart"]["product_id"], by_type["cart"]["user_id"]) == (5802432, 541312140)
    assert by_type["purchase"]["price"] == Decimal("12345678.50")
    scientific = next(
        dict(zip(columns, r, strict=True)) for r in rows if r[6] == 0.4 or r[4] is None
    )
    assert scientific["category_id"] is None  # digits already lost: nulled, row kept
    assert scientific["category_code"] is None and scientific["top_category"] is None

    # The Parquet schema is the one the KPI SQL is typed against (and the Glue table declares).
    described = (
        duckdb.connect()
        .execute(
            f"DESCRIBE SELECT * FROM read_parquet({parquet_list(lake)}, hive_partitioning = true, "
            "hive_types = {'event_date': 'VARCHAR'})"
        )
        .fetchall()
    )
    types = {name: kind.replace(" WITH TIME ZONE", "") for name, kind, *_ in described}
    expected = {
        c: t.replace("INT", "INTEGER") if t == "INT" else t for c, t in EVENTS_COLUMNS.items()
    }
    expected["price"] = "DECIMAL(12,2)"
    assert types == expected


def test_rerun_changes_nothing_late_data_is_appended_and_full_rewrites_each_day(
    spark: Any, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    day_one = [
        event(event_time=f"2019-10-01T23:{m:02d}:00Z", user_id=m, user_session=f"s{m}")
        for m in range(10)
    ]
    write_raw(lake, "2019-10-01", "23", day_one)
    first = run_local_job(lake, spark=spark)
    assert (first.curated_rows, first.new_events) == (10, 10)
    curated = LakePaths.of(lake).curated
    before = content_digest(curated)

    again = run_local_job(lake, spark=spark)  # the object is in the ledger: nothing to read
    assert (again.raw_objects, again.read, again.curated_rows) == (0, 0, 0)
    assert content_digest(curated) == before  # byte-identical content, no duplicates

    # Events of 2019-10-01 arrive late, in the next day's raw partition, with new ones.
    late = [
        event(event_time=f"2019-10-01T23:59:{s:02d}Z", user_id=100 + s, user_session="late")
        for s in range(3)
    ]
    next_day = [event(event_time="2019-10-02T00:00:05Z", user_id=200, user_session="n")]
    write_raw(lake, "2019-10-02", "00", late + next_day + day_one[:2])  # and two resent
    incremental = run_local_job(lake, ingest_from="2019-10-02", spark=spark)
    assert incremental.read == 6
    assert incremental.event_dates == ["2019-10-01", "2019-10-02"]
    assert incremental.new_events == 4
    # The day holds everything: the first run's file is carried, its 3 new events appended.
    assert incremental.curated_rows == 13 + 1
    every_row = curated_rows(lake)
    assert len(curated_rows(lake, "event_date = '2019-10-01'")) == 13
    assert len(curated_rows(lake, "event_date = '2019-10-02'")) == 1
    days = current_days(curated)
    assert sorted(days) == ["2019-10-01", "2019-10-02"]
    assert {d: len(list(p.glob("part-*"))) for d, p in days.items()} == {
        "2019-10-01": 2,
        "2019-10-02": 1,
    }
    appended = content_digest(curated)
    assert run_local_job(lake, spark=spark).new_events == 0  # nothing new to read
    assert content_digest(curated) == appended
    # --full rewrites every day whole (compacted): one sorted file per day, the same rows,
    # and the same bytes on a second --full.
    assert run_local_job(lake, full=True, spark=spark).new_events == 0
    days = current_days(curated)
    assert all(len(list(p.glob("part-*"))) == 1 for p in days.values())
    assert curated_rows(lake) == every_row
    rebuilt = content_digest(curated)
    assert run_local_job(lake, full=True, spark=spark).new_events == 0
    assert content_digest(curated) == rebuilt


def test_etl_and_kpi_commands_on_the_local_lake(
    spark: Any, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from ecomm_cli.app import app

    monkeypatch.setenv("ECOMM_ENV", "local")
    runner = CliRunner()
    empty = runner.invoke(app, ["etl", "run", "--local", "-f", "json"])
    assert empty.exit_code == 0, empty.output
    assert json.loads(empty.stdout)["read"] == 0  # stdout stays one JSON document
    assert "nothing to curate" in empty.stderr
    sample = rees46_file("multicategory-2019-10-01-head.csv")
    # The command's own session is the one already running (getOrCreate): no second JVM.
    etl = runner.invoke(app, ["etl", "run", "--local", "--csv", str(sample), "-f", "json"])
    assert etl.exit_code == 0, etl.output
    counts = json.loads(etl.stdout)
    assert (counts["valid"], counts["rejected"], counts["duplicates"]) == (17_434, 1, 5)
    kpi = runner.invoke(app, ["kpi", "unique-visitors", "-f", "json"])
    assert kpi.exit_code == 0, kpi.output
    assert json.loads(kpi.stdout)[0] == {
        "event_date": "2019-10-01",
        "unique_visitors": 4_504,
        "sessions": 5_066,
    }

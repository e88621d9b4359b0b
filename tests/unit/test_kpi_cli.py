"""`ecomm kpi` through the CLI: list, one KPI, all, formats, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from ecomm_cli.app import app

pytestmark = pytest.mark.unit

runner = CliRunner()

# (event_time, event_type, price, user_id, user_session, category_code, brand)
EVENTS = [
    ("2019-10-01 09:00:00", "view", 10.00, 1, "a", "electronics.phone", "apple"),
    ("2019-10-01 09:01:00", "cart", 10.00, 1, "a", "electronics.phone", "apple"),
    ("2019-10-01 09:02:00", "purchase", 10.00, 1, "a", "electronics.phone", "apple"),
    ("2019-10-01 19:00:00", "view", 5.50, 2, "b", None, None),
    ("2019-10-01 19:05:00", "cart", 5.50, 2, "b", None, None),
    ("2019-10-02 20:00:00", "view", 7.25, 1, "c", "apparel.shoes", "nike"),
    ("2019-10-02 20:01:00", "cart", 7.25, 3, "d", "apparel.shoes", "nike"),
]


@pytest.fixture
def lake(isolated_environment: Path) -> Path:
    """A small curated `events` table in the isolated state's lake."""
    curated = isolated_environment / "lake" / "curated" / "events"
    curated.parent.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE raw (t TIMESTAMPTZ, event_type VARCHAR, price DECIMAL(12, 2), "
        "user_id BIGINT, user_session VARCHAR, category_code VARCHAR, brand VARCHAR)"
    )
    con.executemany("INSERT INTO raw VALUES (?, ?, ?, ?, ?, ?, ?)", EVENTS)
    con.execute(
        f"""COPY (
            SELECT t AS event_time, event_type, 1::BIGINT AS product_id,
                   NULL::BIGINT AS category_id, category_code, brand, price, user_id,
                   user_session, t AS ingested_at, hour(t)::INTEGER AS event_hour,
                   isodow(t)::INTEGER AS event_weekday,
                   split_part(category_code, '.', 1) AS top_category,
                   strftime(t, '%Y-%m-%d') AS event_date
            FROM raw
        ) TO '{curated}' (FORMAT parquet, PARTITION_BY (event_date))"""
    )
    return curated


@pytest.fixture(autouse=True)
def no_engine_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ECOMM_KPI_ENGINE", "ECOMM_ATHENA_WORKGROUP", "ECOMM_GLUE_DATABASE"):
        monkeypatch.delenv(name, raising=False)


def test_list_as_json() -> None:
    result = runner.invoke(app, ["kpi", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    kpis = {k["name"]: k for k in json.loads(result.stdout)}
    assert len(kpis) == 6
    assert kpis["top-categories"]["parameters"] == ["from_date", "to_date", "top_n"]


def test_one_kpi_as_json_is_a_list_of_row_objects(lake: Path) -> None:
    result = runner.invoke(app, ["kpi", "unique-visitors", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"event_date": "2019-10-01", "unique_visitors": 2, "sessions": 2},
        {"event_date": "2019-10-02", "unique_visitors": 2, "sessions": 2},
        {"event_date": "all", "unique_visitors": 3, "sessions": 4},
    ]


def test_hours_window_and_dates(lake: Path) -> None:
    result = runner.invoke(
        app,
        ["kpi", "cart-abandonment", "--hours", "18-23", "--from", "2019-10-01", "-f", "json"],
    )
    assert result.exit_code == 0, result.output
    rows = {r["event_date"]: r for r in json.loads(result.stdout)}
    # 09:00 session "a" bought and is outside the window; "b" (19:05) and "d" (20:01) carted.
    assert rows["2019-10-01"]["sessions_with_cart"] == 1
    assert rows["2019-10-01"]["abandoned_cart_value"] == 5.5
    assert rows["all"]["abandoned_sessions"] == 2
    assert rows["all"]["abandoned_users"] == 2
    assert rows["all"]["session_abandonment_rate"] == 1.0


def test_csv_output(lake: Path) -> None:
    result = runner.invoke(app, ["kpi", "revenue", "--to", "2019-10-01", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "event_date,orders,purchased_items,buyers,revenue,average_order_value",
        "2019-10-01,1,1,1,10.0,10.0",
        "all,1,1,1,10.0,10.0",
    ]


def test_table_output_and_run_summary(lake: Path) -> None:
    result = runner.invoke(app, ["kpi", "top-categories", "--top", "1"])
    assert result.exit_code == 0, result.output
    assert "Top categories" in result.output
    assert "top-categories: " in result.output and "on local" in result.output


def test_all_as_json_is_keyed_by_kpi(lake: Path) -> None:
    result = runner.invoke(app, ["kpi", "all", "--min-views", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert set(answer) == {
        "brands-to-push",
        "cart-abandonment",
        "funnel",
        "revenue",
        "top-categories",
        "unique-visitors",
    }
    assert answer["funnel"][-1] == {
        "event_date": "all",
        "sessions": 4,
        "viewed_sessions": 3,
        "carted_sessions": 2,
        "purchased_sessions": 1,
        "view_to_cart_rate": 0.6667,
        "cart_to_purchase_rate": 0.5,
        "view_to_purchase_rate": 0.3333,
    }
    assert [b["brand"] for b in answer["brands-to-push"]] == ["nike", "apple"]


def test_no_curated_data_is_a_one_line_error() -> None:
    result = runner.invoke(app, ["kpi", "funnel"])
    assert result.exit_code == 2
    assert "no curated events" in result.output
    assert "ecomm etl run --local" in result.output
    assert "Traceback" not in result.output


def test_bad_date_is_a_one_line_error(lake: Path) -> None:
    result = runner.invoke(app, ["kpi", "revenue", "--from", "2019-10-32"])
    assert result.exit_code == 2
    assert "--from must be a date" in result.output


def test_athena_without_a_workgroup_says_what_is_missing() -> None:
    # The workgroup and database come from the environment's outputs: none without a stack.
    result = runner.invoke(app, ["kpi", "revenue", "--engine", "athena"])
    assert result.exit_code == 2
    assert "the local stack is not running" in result.output


def test_unknown_kpi_is_a_usage_error() -> None:
    result = runner.invoke(app, ["kpi", "visitors"])
    assert result.exit_code == 2
    assert "No such command" in result.output

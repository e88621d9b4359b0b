"""Trino to DuckDB: each fix in ecomm_cli/kpi/transpile.py, checked by running DuckDB."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pytest

from ecomm_cli.kpi import catalog
from ecomm_cli.kpi.parameters import KpiParameters
from ecomm_cli.kpi.transpile import (
    EVENTS_COLUMNS,
    EVENTS_SCHEMA,
    TranspileError,
    trino_to_duckdb,
)

pytestmark = pytest.mark.unit


def run(trino_sql: str, *rows: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Transpile, then run on DuckDB over a tiny `events` table holding `rows`."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE events (user_id BIGINT, event_hour INTEGER, category_code VARCHAR, "
        "price DECIMAL(12, 2), event_date VARCHAR)"
    )
    if rows:
        con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", list(rows))
    return con.execute(trino_to_duckdb(trino_sql)).fetchall()


def test_integer_division_truncates_like_trino() -> None:
    # Trino: 7 / 2 = 3 and -7 / 2 = -3 (truncation); plain sqlglot output gives 3.5 on DuckDB.
    assert run("SELECT 7 / 2 AS a, -7 / 2 AS b") == [(3, -3)]
    assert run("SELECT user_id / event_hour AS q FROM events", (7, 2, None, 1, "x")) == [(3,)]


def test_division_with_a_double_operand_stays_a_division() -> None:
    got = run("SELECT CAST(user_id AS DOUBLE) / event_hour AS q FROM events", (7, 2, None, 1, "x"))
    assert got == [(3.5,)]


def test_division_of_unknown_types_is_refused() -> None:
    with pytest.raises(TranspileError, match="integer division"):
        trino_to_duckdb("SELECT ? / event_hour AS q FROM events")


def test_split_part_past_the_end_is_null_like_trino() -> None:
    rows = run(
        "SELECT split_part(category_code, '.', 1) AS a, split_part(category_code, '.', 3) AS b, "
        "split_part(category_code, '.', 5) AS c FROM events",
        (1, 0, "electronics..phone", 1, "x"),
    )
    # Trino: an empty middle part is '', a part past the end is NULL (DuckDB alone gives '').
    assert rows == [("electronics", "phone", None)]


def test_date_add_on_a_date_stays_a_date() -> None:
    assert run("SELECT date_add('day', 1, DATE '2019-10-31') AS d") == [(date(2019, 11, 1),)]
    assert run("SELECT date_add('month', 1, DATE '2019-10-31') AS d") == [(date(2019, 11, 30),)]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT event_date AT TIME ZONE 'UTC' AS t FROM events",
        "SELECT format('%s', event_date) AS t FROM events",
        "SELECT format_datetime(current_timestamp, 'yyyy') AS t",
        "SELECT parse_datetime(event_date, 'yyyy-MM-dd') AS t FROM events",
        "SELECT to_iso8601(current_timestamp) AS t",
        "SELECT map_agg(event_date, user_id) AS t FROM events",
        "SELECT every(user_id > 0) AS t FROM events",
        "SELECT checksum(user_id) AS t FROM events",
    ],
)
def test_functions_without_a_faithful_translation_are_refused(sql: str) -> None:
    with pytest.raises(TranspileError, match="no faithful DuckDB translation"):
        trino_to_duckdb(sql)


def test_unknown_column_is_a_clear_error() -> None:
    with pytest.raises(TranspileError, match="columns"):
        trino_to_duckdb("SELECT no_such_column FROM events")


def test_invalid_sql_is_a_clear_error() -> None:
    with pytest.raises(TranspileError, match="not valid Trino SQL"):
        trino_to_duckdb("SELEC 1 FROM")


def test_correct_translations_are_left_alone() -> None:
    # count_if and day_of_week translate correctly already: the module must not break them.
    rows = run(
        "SELECT count_if(user_id > 1) AS n, day_of_week(DATE '2019-10-06') AS dow FROM events",
        (1, 0, None, 1, "x"),
        (2, 0, None, 1, "x"),
    )
    assert rows == [(1, 7)]


# One session of one user that views, carts and buys, in the curated table's own columns.
_SESSION = [
    ("2019-10-01 10:00:00", "view", 1, 2, "electronics.smartphone", "acme", 9.50, 7, "s", 10),
    ("2019-10-01 10:01:00", "cart", 1, 2, "electronics.smartphone", "acme", 9.50, 7, "s", 10),
    ("2019-10-01 10:02:00", "purchase", 1, 2, "electronics.smartphone", "acme", 9.50, 7, "s", 10),
]


@pytest.mark.parametrize("name", catalog.names())
def test_every_kpi_transpiles_and_runs_on_the_curated_schema(name: str) -> None:
    """Each KPI, transpiled, runs on DuckDB over a table with the curated columns and answers
    with the columns its header declares, and a row for a session that bought something."""
    query = catalog.load(name)
    sql = trino_to_duckdb(query.sql, EVENTS_SCHEMA)
    con = duckdb.connect()
    columns = ", ".join(f"{column} {kind}" for column, kind in EVENTS_COLUMNS.items())
    con.execute(f"CREATE TABLE events ({columns})")
    con.executemany(
        "INSERT INTO events (event_time, event_type, product_id, category_id, category_code, "
        "brand, price, user_id, user_session, event_hour, event_weekday, top_category, "
        "event_date, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 2, 'electronics', "
        "'2019-10-01', '2019-10-01 10:05:00')",
        _SESSION,
    )
    cursor = con.execute(sql, KpiParameters(min_views=0).bind(query))
    rows = cursor.fetchall()
    assert tuple(d[0] for d in cursor.description or ()) == query.columns
    assert rows, f"{name} found nothing in a session that viewed, carted and bought"

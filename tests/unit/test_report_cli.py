"""`ecomm report` through the CLI: the page holds every KPI's figures; errors are one line."""

from __future__ import annotations

import json
import re
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


def write_lake(curated: Path, events: list[tuple[object, ...]]) -> None:
    """The curated `events` table in the Glue job's layout (Parquet per event_date)."""
    curated.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE raw (t TIMESTAMPTZ, event_type VARCHAR, price DECIMAL(12, 2), "
        "user_id BIGINT, user_session VARCHAR, category_code VARCHAR, brand VARCHAR)"
    )
    con.executemany("INSERT INTO raw VALUES (?, ?, ?, ?, ?, ?, ?)", events)
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


@pytest.fixture(autouse=True)
def local_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ECOMM_KPI_ENGINE", "ECOMM_ATHENA_WORKGROUP", "ECOMM_GLUE_DATABASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECOMM_ENV", "local")


@pytest.fixture
def lake(isolated_environment: Path) -> Path:
    curated = isolated_environment / "lake" / "curated" / "events"
    write_lake(curated, EVENTS)
    return curated


def embedded_charts(html: str) -> dict[str, dict[str, object]]:
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html)
    assert match, "no chart data in the page"
    return {spec["id"]: spec for spec in json.loads(match.group(1))}


def test_report_holds_every_kpi_with_charts_from_its_rows(lake: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--out", str(out), "--min-views", "1"])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stdout.replace("\n", "")
    html = out.read_text(encoding="utf-8")
    for name in ("unique-visitors", "cart-abandonment", "top-categories", "brands-to-push",
                 "funnel", "revenue"):  # fmt: skip
        assert f'<section class="kpi" id="kpi-{name}">' in html
        assert f'<table data-kpi="{name}">' in html
    charts = embedded_charts(html)
    visitors = charts["unique-visitors-per-day"]
    # The KPI's own figures (tests/unit/test_kpi_cli.py), without the 'all' total row.
    assert visitors["labels"] == ["2019-10-01", "2019-10-02"]
    assert visitors["series"] == [
        {"name": "unique_visitors", "values": [2.0, 2.0]},
        {"name": "sessions", "values": [2.0, 2.0]},
    ]
    assert charts["revenue-per-day"]["series"] == [{"name": "revenue", "values": [10.0, 0.0]}]
    assert charts["brands-to-push-conversion"]["labels"] == ["nike", "apple"]
    assert "Period: <strong>all data</strong>" in html


def test_dates_narrow_every_kpi(lake: Path, tmp_path: Path) -> None:
    out = tmp_path / "one-day.html"
    result = runner.invoke(
        app, ["report", "-o", str(out), "--from", "2019-10-02", "--to", "2019-10-02"]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert embedded_charts(html)["unique-visitors-per-day"]["labels"] == ["2019-10-02"]
    assert "2019-10-02 to 2019-10-02" in html
    # No brand reaches 100 views: the chart is given no data and the table says so.
    assert embedded_charts(html)["brands-to-push-conversion"]["labels"] == []
    assert "No rows for this period." in html


def test_no_curated_data_says_to_run_the_etl(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 2
    assert "ecomm etl run --local" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2019-13-01"], "--from"),
        (["--from", "2019-10-03", "--to", "2019-10-01"], "is after --to"),
        (["--out", "no-such-folder/report.html"], "does not exist"),
    ],
)
def test_bad_input_is_one_line(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_athena_without_workgroup_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--engine", "athena", "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    # The workgroup comes from the environment's outputs: none without a stack.
    assert "the local stack is not running" in result.output

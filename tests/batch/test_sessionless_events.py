"""Sessionless events on a real-shaped file: every visitor stays in unique visitors.

The REES46 samples in ../shared have no event without a session, while the full public exports
do. The fixture is built here from the real multicategory sample (never committed): every
event of two users (a buyer and a carter who never bought) and half of a third user's events
lose their `user_session`, all on the same day. Through both inputs of the Glue job (the CSV
backfill via `ecomm etl run --local --csv`, and raw JSON encoded as `ecomm replay` encodes it)
the user-level figures stay those of the original file, and the session-level ones leave the
sessionless events out.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecomm_cli.app import app
from ecomm_cli.contract import encode_event, layout_from_header, parse_row
from ecomm_cli.etl.local_runner import LakePaths, run_local_job
from ecomm_cli.kpi import catalog
from ecomm_cli.kpi.engines import Engine
from ecomm_cli.kpi.parameters import KpiParameters
from ecomm_cli.kpi.runner import run_kpis
from ecomm_cli.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.spark

SAMPLE = PROJECT_ROOT.parent / "shared" / "data" / "rees46" / "multicategory-2019-10-01-head.csv"
# Of the original sample (../shared/data/rees46/README.md): what must not move.
USERS, BUYERS, USERS_CARTED, CARTED_NEVER_BOUGHT = 4_504, 193, 111, 49


def sessionless_fixture(out: Path) -> dict[str, Any]:
    """Write the sample with sessions removed; return what the KPIs must then say."""
    if not SAMPLE.is_file():
        pytest.skip(f"REES46 sample {SAMPLE} not present (fresh clone outside the workspace)")
    with SAMPLE.open(newline="", encoding="utf-8") as source:
        header, *rows = list(csv.reader(source))
    user, kind, session = (header.index(c) for c in ("user_id", "event_type", "user_session"))
    valid = [r for r in rows if len(r) == len(header)]
    types: dict[str, set[str]] = defaultdict(set)
    for r in valid:
        types[r[user]].add(r[kind])
    buyer = min(u for u, t in types.items() if "purchase" in t)
    carter = min(u for u, t in types.items() if "cart" in t and "purchase" not in t)
    mixed = min(u for u, t in types.items() if len(t) >= 2 and u not in (buyer, carter))
    seen_mixed = 0
    for r in valid:
        if r[user] in (buyer, carter):
            r[session] = ""
        elif r[user] == mixed:
            seen_mixed += 1
            if seen_mixed % 2:
                r[session] = ""
    with out.open("w", newline="", encoding="utf-8") as target:
        writer = csv.writer(target)
        writer.writerow(header)
        writer.writerows(rows)  # the truncated last line stays truncated (one rejection)
    sessionless = {r[user] for r in valid if not r[session]}
    assert {buyer, carter} <= sessionless and len(sessionless) == 3
    assert all(not r[session] for r in valid if r[user] in (buyer, carter))
    return {
        "rows": [r for r in rows if len(r) == len(header)],
        "header": header,
        "sessions": len({r[session] for r in valid if r[session]}),
        "sessionless_users": sessionless,
    }


def kpi_rows(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    results = run_kpis(catalog.names(), KpiParameters.from_options(), Engine.local, settings)
    return {r.name: r.rows for r in results}


def by_period(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["event_date"]: r for r in rows}


def test_a_real_file_with_sessionless_rows_keeps_every_visitor(
    spark: Any, tmp_path: Path, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixture = sessionless_fixture(tmp_path / "sessionless.csv")

    # 1. The CSV backfill, through the command.
    monkeypatch.setenv("ECOMM_ENV", "local")
    runner = CliRunner()
    etl = runner.invoke(
        app, ["etl", "run", "--local", "--csv", str(tmp_path / "sessionless.csv"), "-f", "json"]
    )
    assert etl.exit_code == 0, etl.output
    counts = json.loads(etl.stdout)
    assert (counts["valid"], counts["rejected"]) == (17_434, 1)  # sessionless rows are valid
    visitors = runner.invoke(app, ["kpi", "unique-visitors", "-f", "json"])
    assert visitors.exit_code == 0, visitors.output
    assert json.loads(visitors.stdout)[0] == {
        "event_date": "2019-10-01",
        "unique_visitors": USERS,  # every visitor kept, the sessionless ones too
        "sessions": fixture["sessions"],  # no NULL "session" among them
    }
    from_csv = kpi_rows(Settings.load(state_dir=isolated_environment, env="local"))

    # 2. The same rows as raw JSON lines, encoded as `ecomm replay` sends them.
    layout = layout_from_header(fixture["header"])
    lines = []
    for row in fixture["rows"]:
        parsed = parse_row(row, layout)
        assert parsed.event is not None, parsed.reason
        lines.append(encode_event(parsed.event, "2019-10-01T12:00:00.000Z"))
    assert sum(b'"user_session":null' in line for line in lines) > 2
    lake = tmp_path / "raw-path" / "lake"
    raw = LakePaths.of(lake).raw / "ingest_date=2019-10-01" / "hour=12" / "replayed.json.gz"
    raw.parent.mkdir(parents=True)
    raw.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    raw_counts = run_local_job(lake, spark=spark)
    assert (raw_counts.valid, raw_counts.rejected) == (17_434, 0)
    from_raw = kpi_rows(Settings.load(state_dir=lake.parent, env="local"))
    assert from_raw == from_csv

    # User-level figures are the original file's; session-level ones leave the events out.
    for rows in (from_csv, from_raw):
        whole = by_period(rows["unique-visitors"])["all"]
        assert (whole["unique_visitors"], whole["sessions"]) == (USERS, fixture["sessions"])
        carts = by_period(rows["cart-abandonment"])["all"]
        assert (carts["users_with_cart"], carts["abandoned_users"]) == (
            USERS_CARTED,
            CARTED_NEVER_BOUGHT,
        )
        revenue = by_period(rows["revenue"])["all"]
        assert revenue["buyers"] == BUYERS
        funnel = by_period(rows["funnel"])["all"]
        assert funnel["sessions"] == fixture["sessions"]

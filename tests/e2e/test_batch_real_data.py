"""Real REES46 files through the whole batch path of the local stack, driven by the CLI:

replay into the events stream -> `ecomm local deliver` (the Firehose stand-in) -> the raw zone ->
`ecomm etl run --local` (the Glue job on local Spark) -> `ecomm kpi ... --format json` on DuckDB,
checked against the reference figures of ../shared/data/rees46/README.md.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ecomm_cli.app import app
from ecomm_cli.settings import Settings

pytestmark = pytest.mark.e2e
runner = CliRunner()

REFERENCE: dict[str, dict[str, Any]] = {
    "multicategory-2019-10-01-head.csv": {
        "read": 17_435,
        "sent": 17_434,
        "rejected": 1,
        "visitors": [("2019-10-01", 4_504), ("all", 4_504)],
        "abandoned_users": 49,
        "abandoned_sessions": 53,
    },
    "cosmetics-2019-10-sample.csv": {
        "read": 22_283,
        "sent": 22_283,
        "rejected": 0,
        "visitors": [("2019-10-01", 3_003), ("2019-10-31", 267), ("all", 3_270)],
        "abandoned_users": 734,
        "abandoned_sessions": 912,
    },
}


def _cli(*args: str) -> Result:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"ecomm {' '.join(args)}:\n{result.output}"
    return result


def _json_out(*args: str) -> Any:
    """The JSON document a command printed: all of its stdout (progress goes to stderr)."""
    return json.loads(_cli(*args).stdout)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_real_file_through_stream_raw_zone_glue_and_kpis(
    name: str,
    use_stack: Settings,
    rees46: Callable[[str], Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    expected = REFERENCE[name]
    source = rees46(name)
    # The stream is shared by the run's end-to-end tests: deliver what it already holds, then
    # start from an empty lake, so the KPIs below see exactly this file's events.
    _cli("local", "deliver")
    for zone in ("raw", "curated", "quarantine"):
        shutil.rmtree(use_stack.lake_dir / zone, ignore_errors=True)

    work = tmp_path_factory.mktemp("replay")
    summary = _json_out(
        "replay",
        str(source),
        "--format",
        "json",
        "--rejects",
        str(work / "rejects.jsonl"),
        "--dead-letter",
        str(work / "dead.jsonl"),
    )
    assert (summary["read"], summary["sent"], summary["rejected"]) == (
        expected["read"],
        expected["sent"],
        expected["rejected"],
    )
    assert summary["dead_lettered"] == 0

    _cli("local", "deliver")
    raw_objects = list((use_stack.lake_dir / "raw").rglob("*.json.gz"))
    assert raw_objects, "the delivery runner wrote nothing"
    assert all("/raw/events/ingest_date=" in p.as_posix() for p in raw_objects)

    _cli("etl", "run", "--local")
    visitors = _json_out("kpi", "unique-visitors", "--engine", "local", "--format", "json")
    assert [(r["event_date"], r["unique_visitors"]) for r in visitors] == expected["visitors"]
    carts = _json_out("kpi", "cart-abandonment", "--engine", "local", "--format", "json")
    whole = carts[-1]
    assert (whole["abandoned_users"], whole["abandoned_sessions"]) == (
        expected["abandoned_users"],
        expected["abandoned_sessions"],
    )

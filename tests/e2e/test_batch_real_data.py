"""Real REES46 files through the whole batch path of the local stack, driven by the CLI:

replay into the events stream -> `ecomm local deliver` (the Firehose stand-in) -> the raw zone ->
`ecomm etl run --local` (the Glue job on local Spark) -> `ecomm kpi ... --format json` on DuckDB,
checked against the reference figures of ../shared/data/rees46/README.md: all six KPIs (unique
visitors, cart abandonment, funnel, revenue, brands to push, top categories).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from decimal import Decimal
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
        "sessions": [("2019-10-01", 5_066), ("all", 5_066)],
        "abandoned_users": 49,
        "abandoned_sessions": 53,
        # sessions, viewed, carted, purchased (per day)
        "funnel": {"2019-10-01": (5_066, 5_066, 118, 65)},
        # orders, purchased items, buyers, revenue (per day)
        "revenue": {"2019-10-01": (200, 214, 193, Decimal("59442.63"))},
        # ranks 1-3: brand, views, purchases (whole file)
        "brands": [("lenovo", 163, 0), ("dauscher", 154, 0), ("vitek", 111, 0)],
        # the top category by views at hour 0 and hour 1 (whole file)
        "top_by_hour": {0: ("(none)", 390), 1: ("electronics", 56)},
    },
    "cosmetics-2019-10-sample.csv": {
        "read": 22_283,
        "sent": 22_283,
        "rejected": 0,
        "visitors": [("2019-10-01", 3_003), ("2019-10-31", 267), ("all", 3_270)],
        # 4,553 distinct sessions in the file: the funnel's 4,194 + 359, no session spans both
        "sessions": [("2019-10-01", 4_194), ("2019-10-31", 359), ("all", 4_553)],
        "abandoned_users": 734,
        "abandoned_sessions": 912,
        "funnel": {"2019-10-01": (4_194, 3_912, 759, 107), "2019-10-31": (359, 325, 80, 12)},
        "revenue": {
            "2019-10-01": (172, 1_513, 170, Decimal("7881.68")),
            "2019-10-31": (18, 207, 18, Decimal("1176.92")),
        },
        "brands": [("kapous", 155, 7), ("estel", 188, 11), ("cnd", 129, 9)],
        "top_by_hour": {0: ("(none)", 510), 1: ("(none)", 423)},
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
    assert [(r["event_date"], r["sessions"]) for r in visitors] == expected["sessions"]
    carts = _json_out("kpi", "cart-abandonment", "--engine", "local", "--format", "json")
    whole = carts[-1]
    assert (whole["abandoned_users"], whole["abandoned_sessions"]) == (
        expected["abandoned_users"],
        expected["abandoned_sessions"],
    )
    _check_the_other_kpis(expected)


def _kpi(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = _json_out("kpi", name, "--engine", "local", "--format", "json")
    return rows


def _check_the_other_kpis(expected: dict[str, Any]) -> None:
    """Funnel, revenue, brands to push and top categories against the README's figures."""
    funnel = {r["event_date"]: r for r in _kpi("funnel") if r["event_date"] != "all"}
    assert {
        day: (r["sessions"], r["viewed_sessions"], r["carted_sessions"], r["purchased_sessions"])
        for day, r in funnel.items()
    } == expected["funnel"]
    revenue = {r["event_date"]: r for r in _kpi("revenue") if r["event_date"] != "all"}
    assert {
        day: (r["orders"], r["purchased_items"], r["buyers"], Decimal(str(r["revenue"])))
        for day, r in revenue.items()
    } == expected["revenue"]
    brands = _kpi("brands-to-push")
    assert [(b["brand"], b["views"], b["purchases"]) for b in brands[:3]] == expected["brands"]
    assert [b["push_rank"] for b in brands[:3]] == [1, 2, 3]
    tops = {
        r["slot"]: (r["category"], r["views"])
        for r in _kpi("top-categories")
        if r["dimension"] == "hour" and r["category_rank"] == 1 and r["slot"] in (0, 1)
    }
    assert tops == expected["top_by_hour"]

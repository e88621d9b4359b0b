"""`ecomm etl run --local --csv` on bad input: counted rejections, or one line; no traceback."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from ecomm_cli.app import app

pytestmark = pytest.mark.spark

HEADER = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
)
GOOD = (
    "2019-10-01 00:00:{s:02d} UTC,view,44600062,2103807459595387724,,shiseido,35.79,"
    "5413121{s:02d},s-{s}"
)
# Each bad row and a word of the reason the quarantine must give it.
BAD = [
    ("2019-10-01 00:01:00 UTC,view,44600062,21038074595,,shiseido,35.79,541312140", "malformed"),
    ("2019-10-01 00:01:01 UTC,view,1,2,,b,1.00,2,s,extra", "malformed"),
    ("2019-10-01 00:01:02 UTC,view,44600062,,,shiseido,1e30,541312140,s-x", "price"),
    ("2019-10-01 00:01:03 UTC,view,44600062,,,shiseido,NaN,541312140,s-x", "price"),
    ("2019-10-01 00:01:04 UTC,view,44600062,,,shi\x00seido,1.00,541312140,s-x", "NUL"),
    ("2019-10-01 00:01:05 UTC,view,44600062,,,shiseido,1.00,\u00b9\u00b2,s-x", "user_id"),
    ("2019-10-01 00:01:06 UTC,view,44600062,,,shiseido,1.00,1e30,s-x", "user_id"),
    ("yesterday,view,44600062,,,shiseido,1.00,541312140,s-x", "event_time"),
    ("2019-02-30 00:01:10 UTC,view,44600062,,,shiseido,1.00,541312140,s-x", "event_time"),
    (" 2019-10-01 00:01:11 UTC,view,44600062,,,shiseido,1.00,541312140,s-x", "event_time"),
    ("2019-10-01 00:01:12 UTC ,view,44600062,,,shiseido,1.00,541312140,s-x", "event_time"),
    ("2019-10-01 00:01:13,view,44600062,,,shiseido,1.00,541312140,s-x", "event_time"),
    ("2019-10-01 00:01:07 UTC,look,44600062,,,shiseido,1.00,541312140,s-x", "event_type"),
    ("2019-10-01 00:01:08 UTC,view,44600062,,," + "x" * 140_000 + ",1.00,541312140,s-x", "longer"),
]  # fmt: skip
LATIN1 = "2019-10-01 00:01:09 UTC,view,44600062,,,nestl\xe9,1.00,541312140,s-x"
SESSIONLESS = "2019-10-01 00:02:00 UTC,purchase,44600062,,,shiseido,35.79,541312199,"
ISO = "2019-10-01T00:02:01.5Z,view,44600062,,,shiseido,35.79,541312198,s-iso"  # valid in a CSV


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["etl", "run", "--local", *args])


def test_bad_rows_are_counted_and_quarantined_with_a_reason(
    spark: Any, tmp_path: Path, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOMM_ENV", "local")
    good = [GOOD.format(s=s) for s in range(20)]
    body = "\n".join([HEADER, *good[:10], *(row for row, _ in BAD), *good[10:], SESSIONLESS, ISO])
    path = tmp_path / "bad.csv"
    path.write_bytes(body.encode() + b"\n" + LATIN1.encode("latin-1") + b"\n")
    result = invoke("--csv", str(path), "-f", "json")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    counts = json.loads(result.stdout)
    # The sessionless purchase is valid: a real buyer.
    assert (counts["read"], counts["valid"], counts["rejected"]) == (37, 22, 15)

    quarantine = isolated_environment / "lake" / "quarantine" / "events"
    reasons = []
    for part in sorted(quarantine.rglob("*.json.gz")):
        with gzip.open(part, "rt") as lines:
            reasons += [json.loads(line)["reason"] for line in lines]
    assert len(reasons) == 15
    for _, word in BAD:
        assert any(word in reason for reason in reasons), (word, reasons)
    assert any("not UTF-8" in reason for reason in reasons)
    times = sum(reason == "event_time: not ISO-8601 UTC with a Z" for reason in reasons)
    assert times == sum(word == "event_time" for _, word in BAD)

    # Both forms a CSV may hold are typed as UTC, to the microsecond.
    curated = isolated_environment / "lake" / "curated" / "events"
    files = [str(p) for p in curated.rglob("*.parquet")]
    first, last = (
        duckdb.connect()
        .execute(
            "SELECT min(epoch_us(event_time)), max(epoch_us(event_time)) FROM read_parquet(?)",
            [files],
        )
        .fetchone()
    )
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert first == (datetime(2019, 10, 1, tzinfo=UTC) - epoch) // timedelta(microseconds=1)
    assert last == (datetime(2019, 10, 1, 0, 2, 1, 500_000, tzinfo=UTC) - epoch) // timedelta(
        microseconds=1
    )


def test_a_truncated_gzip_is_one_line_and_switches_nothing(
    spark: Any, tmp_path: Path, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOMM_ENV", "local")
    rows = [HEADER] + [GOOD.format(s=s % 60) for s in range(5_000)]
    whole = gzip.compress(("\n".join(rows) + "\n").encode())
    path = tmp_path / "events.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    result = invoke("--csv", str(path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    output = " ".join(result.output.split())  # the console may wrap a long path
    assert "cannot read" in output and "events.csv.gz" in output and "truncated" in output
    curated = isolated_environment / "lake" / "curated" / "events"
    assert not (curated / "_partitions.json").exists()  # no day was switched

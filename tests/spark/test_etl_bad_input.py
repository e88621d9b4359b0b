"""The bad-input sweep of tests/unit/test_bad_input_sweep.py through `ecomm etl run --csv`.

The Glue job reads the CSV with Spark, not with the replay's reader, so its verdicts are its
own; what every command that reads a file owes a user is the same: no traceback, exit 0 or a
one-line error with exit 2, and rows that balance (read = valid + rejected). The row-level
mutations go through one run (a Spark run costs seconds), each bad row once among distinct good
rows; the file-level ones (BOM, line endings, truncated .gz and .zip, empty file, directory) one
run each.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.unit.test_bad_input_sweep import (
    CASES,
    HEADER,
    REAL,
    Case,
    materialise,
    with_field,
)

pytestmark = pytest.mark.spark

GOOD_ROWS = 300
# Row-level mutations: each bad row must be read and rejected, never end the read.
BAD_ROWS = {
    "oversized field": with_field(5, "x" * 140_000),
    "Latin-1 byte": REAL[0].replace("shiseido", "nestl\udce9"),
    "NUL byte in a number": with_field(2, "446\x0000"),
    "price 1e30": with_field(6, "1e30"),
    "price 1e309": with_field(6, "1e309"),
    "price NaN": with_field(6, "NaN"),
    "price -0": with_field(6, "-0"),
    "product_id 1e30": with_field(2, "1e30"),
    "8 fields": REAL[0].rsplit(",", 1)[0],
    "10 fields": REAL[0] + ",extra",
    "quote left open": with_field(5, '"shiseido'),
}
FILE_CASES = [
    c
    for c in CASES
    if c.name
    in {
        "BOM",
        "mixed line endings",
        "truncated .gz",
        "truncated .zip",
        "empty file",
        "a directory",
    }
]


def distinct_good(n: int) -> list[str]:
    """`n` real rows made distinct (their user_id), so none is a duplicate of another."""
    rows = []
    for i in range(n):
        fields = REAL[i % len(REAL)].split(",")
        fields[7] = str(600_000_000 + i)
        rows.append(",".join(fields))
    return rows


def etl(csv_path: Path) -> Any:
    from ecomm_cli.app import app

    return CliRunner().invoke(app, ["etl", "run", "--local", "--csv", str(csv_path), "-f", "json"])


def check_no_traceback_and_one_line(result: Any) -> None:
    assert "Traceback" not in result.output, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == (0 if result.exit_code == 0 else 1), result.stderr


def test_every_bad_row_is_read_and_rejected_and_the_rows_balance(
    spark: Any, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ECOMM_ENV", "local")
    good = distinct_good(GOOD_ROWS)
    bad = list(BAD_ROWS.values())
    # Each bad row between good ones, so a row that ended the read would lose what follows.
    rows = [row for i, b in enumerate(bad) for row in (*good[i * 20 : (i + 1) * 20], b)]
    rows += good[len(bad) * 20 :]
    path = tmp_path / "events.csv"
    path.write_bytes((HEADER + "\n" + "\n".join(rows) + "\n").encode("utf-8", "surrogateescape"))
    result = etl(path)
    check_no_traceback_and_one_line(result)
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert counts["read"] == GOOD_ROWS + len(bad), counts
    assert counts["read"] == counts["valid"] + counts["rejected"], counts
    assert (counts["valid"], counts["rejected"]) == (GOOD_ROWS, len(bad)), counts


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.name for c in FILE_CASES])
def test_a_bad_file_is_read_whole_or_stops_with_one_line(
    case: Case,
    spark: Any,
    isolated_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("ECOMM_ENV", "local")
    result = etl(materialise(case, tmp_path))
    check_no_traceback_and_one_line(result)
    if case.read is None:  # truncated, empty, a directory: one line, exit 2
        assert result.exit_code == 2, result.output
        return
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert counts["read"] == counts["valid"] + counts["rejected"], counts
    assert (counts["read"], counts["rejected"]) == (case.read, case.rejected), counts

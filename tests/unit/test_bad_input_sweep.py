"""Bad input, tried as a new user would, through every command of ours that reads a file.

Each case mutates real REES46 rows (the multi-category sample's first lines, copied here so the
test needs no ../shared) and runs `ecomm replay --dry-run` and `ecomm detect` on it. For each:
no traceback, the exit code docs/replay.md ("Bad input") gives, one `error:` line when the run
fails, the rows balance (read = valid + rejected) and both commands count the same rows, since
they share one reader. `ecomm etl run --csv` (the Glue job on Spark) gets the same mutations
in tests/spark/test_etl_bad_input.py.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecomm_cli import contract
from ecomm_cli.app import app

pytestmark = pytest.mark.unit

HEADER = ",".join(contract.COLUMNS)
REAL = [
    "2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,"
    "72d76fde-8bb3-4e00-8c23-a032dfed738c",
    "2019-10-01 00:00:00 UTC,view,3900821,2053013552326770905,appliances.environment.water_heater,"
    "aqua,33.20,554748717,9333dfbd-b87a-4708-9857-6336556b0fcc",
    "2019-10-01 00:00:01 UTC,view,17200506,2053013559792632471,furniture.living_room.sofa,,"
    "543.10,519107250,566511c2-e2e3-422b-b695-cf8e6e792ca8",
]
GOOD_ROWS = 1000  # on each side of a bad row: one rejection stays under --max-reject-ratio


def good(n: int) -> list[str]:
    return [REAL[i % len(REAL)] for i in range(n)]


def with_field(index: int, value: str) -> str:
    fields = REAL[0].split(",")
    fields[index] = value
    return ",".join(fields)


def lines_file(*rows: str, newline: str = "\n") -> bytes:
    return newline.join([HEADER, *rows]).encode() + newline.encode()


def around(bad: bytes | str) -> bytes:
    """1,000 good rows, the bad row, 1,000 good rows."""
    row = bad.encode() if isinstance(bad, str) else bad
    before, after = lines_file(*good(GOOD_ROWS)), "\n".join(good(GOOD_ROWS)).encode() + b"\n"
    return before + row + b"\n" + after


def truncated_gzip() -> bytes:
    whole = gzip.compress(lines_file(*good(5000)))
    return whole[: len(whole) // 2]


def truncated_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("2019-Oct.csv", lines_file(*good(5000)))
    whole = buffer.getvalue()
    return whole[: len(whole) // 2]


@dataclass(frozen=True)
class Case:
    """A bad input: the file's name and bytes (None: a directory), what must happen."""

    name: str
    make: Callable[[], bytes | None]
    exit_code: int
    read: int | None = None  # rows read (valid + rejected); None when nothing is read
    rejected: int = 0
    message: str = ""  # in the error line (exit 2) or a rejection reason
    filename: str = "events.csv"


ROWS = 2 * GOOD_ROWS + 1
CASES = [
    Case("oversized field", lambda: around(with_field(5, "x" * 140_000)), 0, ROWS, 1,
         "field larger than field limit"),
    Case("Latin-1 byte", lambda: around(REAL[0].encode().replace(b"shiseido", b"nestl\xe9")), 0,
         ROWS, 1, "brand is not UTF-8 (byte 0xe9)"),
    Case("invalid UTF-8 in a number", lambda: around(REAL[0].encode().replace(b"35", b"3\xff")),
         0, ROWS, 1, "price is not UTF-8 (byte 0xff)"),
    Case("NUL byte in a text field", lambda: around(with_field(5, "shi\x00seido")), 0, ROWS, 1,
         "NUL byte"),
    Case("NUL byte in a number", lambda: around(with_field(2, "446\x0000")), 0, ROWS, 1,
         "product_id"),
    Case("price 1e30", lambda: around(with_field(6, "1e30")), 0, ROWS, 1, "out of range"),
    Case("price 1e309", lambda: around(with_field(6, "1e309")), 0, ROWS, 1, "out of range"),
    Case("price NaN", lambda: around(with_field(6, "NaN")), 0, ROWS, 1, "non-negative"),
    Case("price -0", lambda: around(with_field(6, "-0")), 0, ROWS, 1, "non-negative"),
    Case("product_id 1e30", lambda: around(with_field(2, "1e30")), 0, ROWS, 1,
         "not a non-negative integer"),
    Case("superscript digits", lambda: around(with_field(7, "\u00b9\u00b2")), 0, ROWS, 1,
         "user_id"),
    Case("8 fields", lambda: around(REAL[0].rsplit(",", 1)[0]), 0, ROWS, 1,
         "expected 9 fields, got 8"),
    Case("10 fields", lambda: around(REAL[0] + ",extra"), 0, ROWS, 1,
         "expected 9 fields, got 10"),
    Case("stray quote", lambda: around(with_field(5, 'shi"seido')), 0, ROWS, 0),
    # The csv module reads on to its field limit looking for the closing quote: every line it
    # joined is one rejection (955 of them), so the run fails over the reject ratio.
    Case("quote left open", lambda: around(with_field(5, '"shiseido')), 1, ROWS, 955,
         "a quote left open on line 1,002 joined lines 1,002-1,956"),
    Case("BOM", lambda: b"\xef\xbb\xbf" + lines_file(*good(10)), 0, 10),
    Case("BOM without a header",
         lambda: b"\xef\xbb\xbf" + "\n".join(good(10)).encode() + b"\n", 0, 10),
    Case("mixed line endings",
         lambda: (HEADER + "\r\n" + REAL[0] + "\n" + REAL[1] + "\r" + REAL[2] + "\r\n").encode(),
         0, 3),
    Case("empty user_session is null", lambda: around(with_field(8, "")), 0, ROWS, 0),
    Case("every row bad", lambda: lines_file(*(with_field(6, "1e30") for _ in range(5))), 1, 5, 5,
         "out of range"),
    Case("truncated .gz", truncated_gzip, 2, None, 0, "unreadable after line",
         "events.csv.gz"),
    Case("truncated .zip", truncated_zip, 2, None, 0, "not a readable zip", "events.zip"),
    Case("empty file", lambda: b"", 2, None, 0, "is empty"),
    Case("header only", lambda: lines_file(), 0, 0),
    Case("a directory", lambda: None, 2, None, 0, "is not a file"),
]  # fmt: skip


def materialise(case: Case, folder: Path) -> Path:
    path = folder / case.filename
    content = case.make()
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    return path


def detect_counts(stderr: str) -> tuple[int, int, int] | None:
    """(rows, events, rejected) from `ecomm detect`'s summary line."""
    found = re.search(r": ([\d,]+) rows, ([\d,]+) events, ([\d,]+) rejected", stderr)
    if found is None:
        return None
    rows, events, rejected = (int(g.replace(",", "")) for g in found.groups())
    return rows, events, rejected


def check_failure_line(result_output: str, stderr: str, case: Case, exit_code: int) -> None:
    """No traceback; one `error:` line when the run fails, naming what happened on exit 2."""
    assert "Traceback" not in result_output
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    if exit_code == 0:
        assert errors == []
    else:
        assert len(errors) == 1, stderr
        assert case.message in errors[0] or exit_code == 1


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_replay_counts_every_row_or_stops_with_one_line(case: Case, tmp_path: Path) -> None:
    path = materialise(case, tmp_path)
    rejects = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(
        app, ["replay", str(path), "--dry-run", "--format", "json", "--rejects", str(rejects)]
    )
    assert result.exit_code == case.exit_code, result.output
    check_failure_line(result.output, result.stderr, case, case.exit_code)
    if case.read is None and case.filename.endswith(".gz"):
        # Read up to where the data stops: every row before it is counted, the rest reported.
        summary = json.loads(result.stdout)
        assert summary["read"] == summary["valid"] + summary["rejected"] > 0
        assert "the rest of the data is missing" in summary["unread"]
        return
    if case.read is None:
        assert result.stdout == ""
        return
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["rejected"]) == (case.read, case.rejected)
    assert summary["read"] == summary["valid"] + summary["rejected"]
    assert summary["unread"] is None
    if case.rejected:
        kept = [json.loads(line) for line in rejects.read_text().splitlines()]
        assert len(kept) == case.rejected and case.message in kept[0]["reason"]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_detect_reads_what_replay_reads(case: Case, tmp_path: Path) -> None:
    path = materialise(case, tmp_path)
    result = CliRunner().invoke(app, ["detect", str(path), "--format", "json"])
    # detect has no reject ratio: rejected rows are reported, the run is not failed for them.
    exit_code = 2 if case.exit_code == 2 else 0
    assert result.exit_code == exit_code, result.output
    check_failure_line(result.output, result.stderr, case, exit_code)
    counts = detect_counts(result.stderr)
    if case.read is None:
        if case.filename.endswith(".gz"):
            assert counts is not None and counts[0] == counts[1] + counts[2] > 0
        else:
            assert counts is None
        return
    assert counts == (case.read, case.read - case.rejected, case.rejected)
    if case.rejected:
        assert case.message in result.stderr


def test_the_three_inputs_of_the_issue_end_in_counted_rejections(tmp_path: Path) -> None:
    """The oversized row no longer ends the read; 1e30 and a Latin-1 byte are rejections."""
    for case in (CASES[0], CASES[1], CASES[5]):
        folder = tmp_path / case.name.replace(" ", "-")
        folder.mkdir()
        path = materialise(case, folder)
        result = CliRunner().invoke(app, ["replay", str(path), "--dry-run", "--format", "json"])
        summary = json.loads(result.stdout)
        assert (summary["read"], summary["valid"], summary["rejected"]) == (2001, 2000, 1)

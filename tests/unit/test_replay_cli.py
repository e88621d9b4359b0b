"""`ecomm replay` options that need no stream: --dry-run, the JSON summary, exit codes,
the rejects file, and the refusals (aggregate on AWS, no stream, bad options)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecomm_cli.app import app

pytestmark = pytest.mark.unit

HEADER = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
)
GOOD = "2019-10-01 00:00:0{s} UTC,view,5802432.0,2053013552326770905,,,5.56,51247544{s},s{s}"
SCIENTIFIC = "2019-10-01 00:00:09 UTC,view,1,2.05301355232677E+18,,,1.00,7,s7"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["replay", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _no_stream_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECOMM_EVENTS_STREAM", raising=False)
    monkeypatch.delenv("ECOMM_MAX_REJECT_RATIO", raising=False)


def write(path: Path, *lines: str, crlf: bool = False) -> Path:
    path.write_text(("\r\n" if crlf else "\n").join(lines) + "\n")
    return path


def test_dry_run_json_summary_balances(tmp_path: Path) -> None:
    path = write(
        tmp_path / "e.csv", HEADER, *(GOOD.format(s=s) for s in range(5)), SCIENTIFIC, crlf=True
    )
    code, out, err = run(str(path), "--dry-run", "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    for name in ("read", "valid", "sent", "rejected", "dead_lettered", "warnings"):
        assert isinstance(summary[name], int)
    assert (summary["read"], summary["valid"], summary["rejected"]) == (6, 6, 0)
    assert summary["sent"] == 0 and summary["warnings"] == 1 and summary["dry_run"] is True


def test_reject_ratio_exceeded_exits_1_and_rejects_name_line_and_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path / "e.csv",
        HEADER,
        GOOD.format(s=1),
        "2019-10-01 00:00:02 UTC,click,1,2,,,1,2,s",
        GOOD.format(s=3),
        "garbage",
    )
    rejects = tmp_path / "rejects.jsonl"
    code, out, err = run(str(path), "--dry-run", "--format", "json", "--rejects", str(rejects))
    assert code == 1
    assert "--max-reject-ratio" in err and len(err.strip().splitlines()) == 1
    summary = json.loads(out)
    assert summary["read"] == summary["valid"] + summary["rejected"] == 4
    kept = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(k["line"], k["reason"][:16]) for k in kept] == [
        (3, "event_type 'clic"),
        (5, "expected 9 field"),
    ]
    code, _, _ = run(str(path), "--dry-run", "--max-reject-ratio", "0.5", "--rejects", str(rejects))
    assert code == 0


def test_header_less_file_in_a_dry_run(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", *(GOOD.format(s=s) for s in range(3)))
    code, out, _ = run(str(path), "--dry-run", "--format", "json")
    assert code == 0 and json.loads(out)["valid"] == 3
    code, out, _ = run(str(path), "--dry-run", "--format", "json", "--no-header")
    assert code == 0 and json.loads(out)["valid"] == 3


def test_from_until_and_limit(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", HEADER, *(GOOD.format(s=s) for s in range(6)))
    code, out, _ = run(
        str(path),
        "--dry-run",
        "--format",
        "json",
        "--from",
        "2019-10-01T00:00:02Z",
        "--until",
        "2019-10-01 00:00:05 UTC",
    )
    summary = json.loads(out)
    assert code == 0 and (summary["read"], summary["filtered"]) == (3, 3)
    code, out, _ = run(str(path), "--dry-run", "--format", "json", "--limit", "2")
    assert json.loads(out)["read"] == 2


def test_aggregate_is_refused_outside_the_local_stack(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", HEADER, GOOD.format(s=1))
    code, _, err = run(str(path), "--aggregate", "--env", "dev", "--stream", "events")
    assert code == 2
    assert "does not de-aggregate" in err and "--allow-aggregate-on-aws" in err
    assert len(err.strip().splitlines()) == 1


def test_no_stream_without_a_local_stack(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", HEADER, GOOD.format(s=1))
    code, _, err = run(str(path))
    assert code == 2 and "local stack is not running" in err and "ecomm local up" in err


def test_missing_file_and_bad_options_are_one_line_errors(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path / "missing.csv"), "--dry-run")
    assert code == 2 and "does not exist" in err and "Traceback" not in err
    path = write(tmp_path / "e.csv", HEADER, GOOD.format(s=1))
    code, _, err = run(str(path), "--dry-run", "--from", "soon")
    assert code == 2 and "--from 'soon'" in err
    code, _, err = run(str(path), "--dry-run", "--partition-key", "colour")
    assert code == 2 and "--partition-key" in err


def test_real_sample_dry_run_matches_the_reference_figures(
    rees46: Callable[[str], Path],
) -> None:
    path = rees46("multicategory-2019-10-01-head.csv")
    code, out, _ = run(str(path), "--dry-run", "--format", "json")
    summary = json.loads(out)
    assert code == 0
    assert (summary["read"], summary["valid"], summary["rejected"]) == (17_435, 17_434, 1)


def test_progress_line_shows_an_eta_when_the_size_is_known() -> None:
    from ecomm_cli.commands.replay import _progress_line
    from ecomm_cli.replay.checkpoint import Ledger

    ledger = Ledger()
    ledger.sent(list(range(100)), warned=0)
    assert "ETA 30 s" in _progress_line(ledger, 10.0, 0.25, None)
    assert "ETA" not in _progress_line(ledger, 10.0, None, None)
    assert "ETA 10 s" in _progress_line(ledger, 10.0, None, 200)

"""`ecomm etl run` errors that must be one line, before any Spark or AWS call."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecomm_cli.app import app

pytestmark = pytest.mark.unit
runner = CliRunner()


def test_missing_csv_is_a_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["etl", "run", "--local", "--csv", str(tmp_path / "no.csv")])
    assert result.exit_code == 2
    assert "no such CSV file" in result.output
    assert "Traceback" not in result.output


def test_glue_run_without_a_job_name_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECOMM_GLUE_JOB", raising=False)
    result = runner.invoke(app, ["etl", "run", "--glue"])
    assert result.exit_code == 2
    # The job name comes from the environment's outputs: none without a stack.
    assert "the local stack is not running" in result.output


def test_bad_ingest_date_is_refused_before_spark_starts() -> None:
    result = runner.invoke(app, ["etl", "run", "--local", "--ingest-from", "2019-10"])
    assert result.exit_code == 2
    assert "--ingest-from must be a date" in result.output

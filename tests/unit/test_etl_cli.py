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


HEADER = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
)
ROW = "2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,s-1"


def _zip_bytes() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("2019-Oct.csv", f"{HEADER}\n{ROW}\n")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "is empty"),
        ("no-header.csv", f"{ROW}\n{ROW}\n".encode(), "first line is not a REES46 header"),
        ("bom-no-header.csv", f"\ufeff{ROW}\n".encode(), "first line is not a REES46 header"),
        ("other.csv", b"a,b,c\n1,2,3\n", "no event_time, event_type"),
        ("2019-Oct.csv", _zip_bytes(), "first line"),
        ("latin1.csv", HEADER.replace("brand", "marqu\xe9").encode("latin-1"), "not UTF-8"),
        ("events.csv.gz", b"not gzip at all\n", "cannot read"),
        ("folder", None, "is not a file"),
    ],
)
def test_bad_csv_files_are_one_line_errors_before_spark_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: bytes | None, message: str
) -> None:
    from ecomm_cli.etl import local_runner

    def no_spark() -> None:
        raise AssertionError("Spark must not start for a file it cannot curate")

    monkeypatch.setattr(local_runner, "load_glue_job", no_spark)
    path = tmp_path / name
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    result = runner.invoke(app, ["etl", "run", "--local", "--csv", str(path)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)

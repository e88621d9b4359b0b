"""`ecomm etl run`: the Glue job on AWS, or the same script on a local Spark session."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from ecomm_cli.console import err_console, fail
from ecomm_cli.environments import resolve, settings_for
from ecomm_cli.options import EnvOption, FormatOption, OutputFormat
from ecomm_cli.output import Record, render
from ecomm_cli.settings import Settings

app = typer.Typer(help="Batch ETL: raw zone to curated Parquet.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Batch ETL: raw zone to curated Parquet (the Glue job)."""


@app.command()
def run(
    local: Annotated[
        bool | None,
        typer.Option(
            "--local/--glue",
            help="Run the script on a local Spark session over the local lake, or start the "
            "Glue job. Default: local in the local environment, Glue in dev and prod.",
            show_default=False,
        ),
    ] = None,
    csv: Annotated[
        Path | None,
        typer.Option("--csv", help="Also backfill from this REES46 CSV file (local runs)."),
    ] = None,
    ingest_from: Annotated[
        str | None,
        typer.Option(
            "--ingest-from",
            help="Backfill: read every raw object from this ingest date on, curated or not.",
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Rebuild: read every raw object, curated or not (default: only the objects no "
            "successful run has curated).",
        ),
    ] = False,
    job_name: Annotated[
        str | None,
        typer.Option("--job-name", envvar="ECOMM_GLUE_JOB", help="Glue job name (AWS runs)."),
    ] = None,
    output: FormatOption = OutputFormat.table,
    env: EnvOption = "local",
) -> None:
    """Clean, type, deduplicate and partition the raw events; rejects go to quarantine."""
    settings = settings_for(env)
    if local is None:
        local = settings.env == "local"
    if local:
        _run_local(settings, csv, ingest_from, output, full=full)
    else:
        _run_glue(settings, job_name, ingest_from, output, full=full)


def _run_local(
    settings: Settings,
    csv: Path | None,
    ingest_from: str | None,
    output: OutputFormat,
    *,
    full: bool = False,
) -> None:
    from ecomm_cli.etl.local_runner import curate_local_lake

    counts = curate_local_lake(settings, csv_path=csv, ingest_from=ingest_from, full=full)
    render(Record("etl run (local Spark)", counts), output)
    if not counts["read"]:
        err_console.print(
            f"nothing to curate: no raw object under {settings.lake_dir / 'raw'} that a"
            " successful run has not curated (run `ecomm local deliver`, pass --csv FILE, or"
            " --full to rebuild)",
            style="yellow",
            highlight=False,
        )
    if counts["rejected"]:
        err_console.print(
            f"{counts['rejected']:,} rejected rows kept with their reason under "
            f"{settings.lake_dir / 'quarantine' / 'events'}",
            style="dim",
            highlight=False,
        )


def _run_glue(
    settings: Settings,
    job_name: str | None,
    ingest_from: str | None,
    output: OutputFormat,
    *,
    full: bool = False,
) -> None:
    from ecomm_cli.aws_clients import client
    from ecomm_cli.etl.glue_runner import run_glue_job

    arguments = {"--ingest_from": ingest_from} if ingest_from else {}
    if full:
        arguments["--full"] = "true"
    name = job_name
    if not name:
        settings, outputs = resolve(settings, require=["glue_job_name"])
        name = str(outputs["glue_job_name"])
    result = run_glue_job(
        client("glue", settings),
        str(name),
        arguments,
        on_state=lambda state: err_console.print(f"{name}: {state}", style="dim"),
    )
    render(Record(f"etl run (Glue job {result.job_name})", asdict(result)), output)
    if result.state != "SUCCEEDED":
        fail(
            f"Glue job {result.job_name} run {result.run_id} ended {result.state}"
            + (f": {result.error}" if result.error else ""),
            "the run's logs are in CloudWatch Logs under /aws-glue/jobs",
        )

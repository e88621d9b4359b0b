"""`ecomm etl run`: the Glue job on AWS, or the same script on a local Spark session."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from ecomm_cli.console import EXIT_FINDINGS, EcommError, console, err_console, fail
from ecomm_cli.environments import resolve, settings_for
from ecomm_cli.etl.local_runner import run_local_job
from ecomm_cli.options import EnvOption, FormatOption, OutputFormat
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
        typer.Option("--ingest-from", help="Read only raw partitions from this ingest date on."),
    ] = None,
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
        _run_local(settings, csv, ingest_from, output)
    else:
        _run_glue(settings, job_name, ingest_from, output)


def _run_local(
    settings: Settings, csv: Path | None, ingest_from: str | None, output: OutputFormat
) -> None:
    started = time.perf_counter()
    try:
        counts = run_local_job(
            settings.lake_dir,
            csv_path=csv,
            ingest_from=ingest_from,
            heartbeat=_local_heartbeat(settings),
        )
    except EcommError as exc:
        fail(exc.message, exc.hint, exc.code)
    seconds = time.perf_counter() - started
    values = asdict(counts)
    if output is OutputFormat.json:
        typer.echo(json.dumps({**values, "seconds": round(seconds, 2)}))
    else:
        console.print(
            f"curated {values['curated_rows']:,} rows for {len(values['event_dates'])} day(s) "
            f"in {seconds:.1f} s: read {values['read']:,}, valid {values['valid']:,}, "
            f"rejected {values['rejected']:,} (in quarantine), duplicates "
            f"{values['duplicates']:,}, new {values['new_events']:,}, "
            f"category_id warnings {values['warnings']:,}",
            highlight=False,
        )
    if not values["read"]:
        err_console.print(
            f"nothing to curate: no raw events under {settings.lake_dir / 'raw'}"
            " (run `ecomm local deliver`, or pass --csv FILE)",
            style="yellow",
            highlight=False,
        )
    if values["rejected"]:
        err_console.print(
            f"{values['rejected']:,} rejected rows kept with their reason under "
            f"{settings.lake_dir / 'quarantine' / 'events'}",
            style="dim",
            highlight=False,
        )


def _local_heartbeat(settings: Settings) -> Callable[[Any, Any], None] | None:
    """On a running local stack, a successful run reports CurationSucceeded to the emulator's
    CloudWatch as the Glue job does on AWS (signed as the Glue component)."""
    from ecomm_cli.local import stack

    if settings.env != "local" or not stack.is_up(settings):
        return None
    namespace = str(resolve(settings, require=["metric_namespace"])[1]["metric_namespace"])
    from ecomm_cli.aws_clients import client

    cloudwatch = client("cloudwatch", settings, component="glue", max_attempts=2)
    return lambda job, counts: job.publish_heartbeat(cloudwatch, namespace, counts)


def _run_glue(
    settings: Settings, job_name: str | None, ingest_from: str | None, output: OutputFormat
) -> None:
    from ecomm_cli.aws_clients import client
    from ecomm_cli.etl.glue_runner import run_glue_job

    arguments = {"--ingest_from": ingest_from} if ingest_from else {}
    name = job_name
    if not name:
        settings, outputs = resolve(settings, require=["glue_job_name"])
        name = str(outputs["glue_job_name"])
    try:
        result = run_glue_job(
            client("glue", settings),
            str(name),
            arguments,
            on_state=lambda state: err_console.print(f"{name}: {state}", style="dim"),
        )
    except EcommError as exc:
        fail(exc.message, exc.hint, exc.code)
    if output is OutputFormat.json:
        typer.echo(json.dumps(asdict(result)))
    else:
        console.print(
            f"{result.job_name} run {result.run_id}: {result.state} after "
            f"{result.execution_seconds} s"
            + (f", {result.dpu_seconds:.0f} DPU-seconds" if result.dpu_seconds else "")
            + (f": {result.error}" if result.error else ""),
            highlight=False,
        )
    if result.state != "SUCCEEDED":
        raise typer.Exit(EXIT_FINDINGS)

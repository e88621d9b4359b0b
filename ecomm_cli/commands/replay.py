"""`ecomm replay FILE...`: historic events into the Kinesis `events` stream."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ecomm_cli import aws_clients
from ecomm_cli.console import EXIT_FINDINGS, console, err_console, fail
from ecomm_cli.environments import resolve, settings_for
from ecomm_cli.options import EnvOption, FormatOption, OutputFormat
from ecomm_cli.replay.checkpoint import Ledger
from ecomm_cli.replay.encode import PARTITION_KEY_CHOICES
from ecomm_cli.replay.runner import ReplayError, ReplayInterrupted, ReplayOptions, replay
from ecomm_cli.replay.summary import Summary

AGGREGATE_REFUSED = (
    "--aggregate packs events into KPL records, which the Flink Kinesis SQL connector "
    "does not de-aggregate: the real-time rules on AWS would read none of them"
)


def register(app: typer.Typer) -> None:
    """Add `replay` to the root app."""
    app.command("replay", no_args_is_help=True)(replay_command)


def _parse_bound(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    text = value.strip().replace(" UTC", "+00:00").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {value!r} is not a date or timestamp", "e.g. 2019-10-01T02:00:00Z")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def replay_command(
    files: Annotated[
        list[str],
        typer.Argument(help="CSV, .csv.gz or .zip files, globs, or s3://bucket/key objects."),
    ],
    stream: Annotated[
        str | None,
        typer.Option(
            "--stream",
            envvar="ECOMM_EVENTS_STREAM",
            help="Kinesis stream [default: the chosen environment's events stream].",
        ),
    ] = None,
    env: EnvOption = "local",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Parse, validate and count; send nothing.")
    ] = False,
    rate: Annotated[
        float | None, typer.Option("--rate", min=0.001, help="At most N events per second.")
    ] = None,
    speedup: Annotated[
        float | None,
        typer.Option("--speedup", min=0.000001, help="Keep the original gaps divided by X."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Only events at or after this time (UTC).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Only events before this time (UTC).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=0, help="Read at most N rows.")
    ] = None,
    partition_key: Annotated[
        str,
        typer.Option(
            "--partition-key", help=f"Column to shard by: {', '.join(PARTITION_KEY_CHOICES)}."
        ),
    ] = "user_id",
    aggregate: Annotated[
        bool | None,
        typer.Option(
            "--aggregate/--no-aggregate",
            help="Pack events into KPL aggregated records (see docs/replay.md). "
            "Default: on for the local stack, whose consumers all de-aggregate; off on AWS.",
        ),
    ] = None,
    allow_aggregate_on_aws: Annotated[
        bool,
        typer.Option(
            "--allow-aggregate-on-aws",
            help="Allow --aggregate outside the local stack (no Flink app may read the stream).",
        ),
    ] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Concurrent senders.")
    ] = 4,
    max_attempts: Annotated[
        int,
        typer.Option("--max-attempts", min=1, help="Tries per event before it is dead-lettered."),
    ] = 8,
    no_header: Annotated[
        bool, typer.Option("--no-header", help="The files have no header row.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted replay from its checkpoint.")
    ] = False,
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="Checkpoint file for --resume.")
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="Where malformed rows are kept.")
    ] = None,
    dead_letter: Annotated[
        Path | None,
        typer.Option("--dead-letter", help="Where events that could not be sent are kept."),
    ] = None,
    max_reject_ratio: Annotated[
        float,
        typer.Option(
            "--max-reject-ratio",
            min=0.0,
            max=1.0,
            envvar="ECOMM_MAX_REJECT_RATIO",
            help="Exit 1 when more than this share of rows is rejected.",
        ),
    ] = 0.01,
    output: FormatOption = OutputFormat.table,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
) -> None:
    """Replay historic events into the events stream, event time kept, nothing lost."""
    settings = settings_for(env)
    if partition_key not in PARTITION_KEY_CHOICES:
        fail(
            f"--partition-key {partition_key!r} is not a column",
            f"one of {', '.join(PARTITION_KEY_CHOICES)}",
        )
    if aggregate is None:
        # Locally every consumer de-aggregates, and an aggregate keeps a user's burst in order
        # in one record: many times faster and on schedule (docs/replay.md, "Benchmark").
        aggregate = settings.env == "local"
    if aggregate and settings.env != "local" and not allow_aggregate_on_aws:
        fail(AGGREGATE_REFUSED, "pass --allow-aggregate-on-aws if no Flink app reads the stream")
    if not dry_run and not stream:
        settings, outputs = resolve(settings, require=["events_stream_name"])
        stream = str(outputs["events_stream_name"])
    work_dir = settings.state_dir / "replay"
    options = ReplayOptions(
        inputs=files,
        stream=stream,
        dry_run=dry_run,
        rate=rate,
        speedup=speedup,
        start=_parse_bound(start, "--from"),
        until=_parse_bound(until, "--until"),
        limit=limit,
        partition_key=partition_key,
        aggregate=aggregate,
        concurrency=concurrency,
        max_attempts=max_attempts,
        no_header=no_header,
        resume=resume,
        # A dry run sends nothing, so there is nothing to resume.
        checkpoint=None if dry_run else checkpoint or work_dir / "checkpoint.json",
        rejects=rejects or work_dir / "rejects.jsonl",
        dead_letter=dead_letter or work_dir / "dead-letter.jsonl",
    )

    def kinesis() -> Any:
        # Our own retries (per entry, with jitter) are the policy; botocore's would hide them.
        # Requests are built within the limits (batching.py), so botocore need not validate.
        return aws_clients.client("kinesis", settings, max_attempts=1, validate=False)

    def s3() -> Any:
        return aws_clients.client("s3", settings)

    show_progress = output == OutputFormat.table and not no_progress and err_console.is_terminal
    try:
        if show_progress:
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            ) as progress:
                task = progress.add_task("starting", total=None)

                def report(ledger: Ledger, elapsed: float, fraction: float | None) -> None:
                    line = _progress_line(ledger, elapsed, fraction, limit)
                    progress.update(task, description=line)

                summary = replay(options, kinesis_client=kinesis, s3_client=s3, on_progress=report)
        else:
            summary = replay(options, kinesis_client=kinesis, s3_client=s3)
    except ReplayError as exc:
        fail(str(exc))
    except ReplayInterrupted as exc:
        _render(exc.summary, output)
        fail(
            f"interrupted after {exc.summary.sent:,} acknowledged events",
            f"run the same command with --resume (checkpoint {options.checkpoint})",
            code=130,
        )
    _render(summary, output)
    if summary.dead_lettered:
        fail(
            f"{summary.dead_lettered:,} events could not be sent",
            f"kept with their reason in {summary.dead_letter_file}",
            code=EXIT_FINDINGS,
        )
    if summary.reject_ratio() > max_reject_ratio:
        fail(
            f"{summary.reject_ratio():.2%} of rows were rejected "
            f"(more than --max-reject-ratio {max_reject_ratio:g})",
            f"reasons in {summary.rejects_file}",
            code=EXIT_FINDINGS,
        )


def _progress_line(
    ledger: Ledger, elapsed: float, fraction: float | None, limit: int | None
) -> str:
    """rows, events/s, retries, throttles, and an ETA where the input's size is known."""
    counts = ledger.counts
    done = counts["read"]
    # A dry run sends nothing: its pace is the rows it validates.
    rate = (counts["sent"] or done) / elapsed if elapsed > 0 else 0.0
    line = (
        f"{done:,} rows  {rate:,.0f} events/s  {ledger.retries:,} retries  "
        f"{ledger.throttles:,} throttles"
    )
    if limit and rate > 0 and done < limit:
        fraction = max(fraction or 0.0, done / limit)
    if fraction:
        line = f"{fraction:6.1%}  {line}  ETA {elapsed * (1 - fraction) / fraction:,.0f} s"
    return line


def _render(summary: Summary, output: OutputFormat) -> None:
    if output == OutputFormat.json:
        typer.echo(json.dumps(summary.as_dict()))
    elif output == OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["figure", "value"])
        for name, value in summary.as_dict().items():
            text = "" if value is None else json.dumps(value) if isinstance(value, list) else value
            writer.writerow([name, text])
        typer.echo(buffer.getvalue(), nl=False)
    else:
        console.print(summary.table())

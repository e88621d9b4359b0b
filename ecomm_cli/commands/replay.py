"""`ecomm replay FILE...`: historic events into the Kinesis `events` stream."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ecomm_cli.console import err_console, fail
from ecomm_cli.environments import settings_for
from ecomm_cli.errors import EXIT_INTERRUPTED
from ecomm_cli.options import EnvOption, FormatOption, OutputFormat
from ecomm_cli.output import render
from ecomm_cli.replay.checkpoint import Ledger
from ecomm_cli.replay.encode import PARTITION_KEY_CHOICES
from ecomm_cli.replay.environment import replay_options, run_replay
from ecomm_cli.replay.runner import ReplayError, ReplayInterrupted, ReplayOptions
from ecomm_cli.replay.summary import DEFAULT_MAX_REJECT_RATIO


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
    ] = DEFAULT_MAX_REJECT_RATIO,
    output: FormatOption = OutputFormat.table,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
) -> None:
    """Replay historic events into the events stream, event time kept, nothing lost."""
    settings, options = replay_options(
        settings_for(env),
        ReplayOptions(
            inputs=files,
            stream=stream,
            dry_run=dry_run,
            rate=rate,
            speedup=speedup,
            start=_parse_bound(start, "--from"),
            until=_parse_bound(until, "--until"),
            limit=limit,
            partition_key=partition_key,
            concurrency=concurrency,
            max_attempts=max_attempts,
            no_header=no_header,
            resume=resume,
        ),
        aggregate=aggregate,
        allow_aggregate_on_aws=allow_aggregate_on_aws,
        checkpoint=checkpoint,
        rejects=rejects,
        dead_letter=dead_letter,
    )
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

                summary = run_replay(settings, options, on_progress=report)
        else:
            summary = run_replay(settings, options)
    except ReplayError as exc:
        fail(str(exc))
    except ReplayInterrupted as exc:
        render(exc.summary.record(), output)
        fail(
            f"interrupted after {exc.summary.sent:,} acknowledged events",
            f"run the same command with --resume (checkpoint {options.checkpoint})",
            code=EXIT_INTERRUPTED,
        )
    render(summary.record(), output)
    finding = summary.finding(max_reject_ratio)
    if finding is not None:
        fail(finding.message, finding.hint, finding.code)


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

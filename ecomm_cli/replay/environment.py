"""A replay aimed at an environment: its events stream, its Kinesis and S3 clients, its files.

`ecomm replay` and the demo both say what to replay; this fills in where, then runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ecomm_cli import aws_clients
from ecomm_cli.environments import resolve
from ecomm_cli.errors import EcommError
from ecomm_cli.replay.checkpoint import Ledger
from ecomm_cli.replay.encode import PARTITION_KEY_CHOICES
from ecomm_cli.replay.runner import ReplayOptions, replay
from ecomm_cli.replay.summary import Summary
from ecomm_cli.settings import Settings

AGGREGATE_REFUSED = (
    "--aggregate packs events into KPL records, which the Flink Kinesis SQL connector "
    "does not de-aggregate: the real-time rules on AWS would read none of them"
)


def replay_options(
    settings: Settings,
    options: ReplayOptions,
    *,
    aggregate: bool | None = None,
    allow_aggregate_on_aws: bool = False,
    checkpoint: Path | None = None,
    rejects: Path | None = None,
    dead_letter: Path | None = None,
) -> tuple[Settings, ReplayOptions]:
    """`options` completed for the settings' environment, with the settings its stream lives in.

    The stream is the environment's events stream unless `options` names one; KPL aggregation
    is on locally (every local consumer de-aggregates) and refused on AWS unless allowed; the
    checkpoint, rejects and dead-letter files go under `<state>/replay` unless given.
    """
    if options.partition_key not in PARTITION_KEY_CHOICES:
        raise EcommError(
            f"--partition-key {options.partition_key!r} is not a column",
            f"one of {', '.join(PARTITION_KEY_CHOICES)}",
        )
    if aggregate is None:
        # Locally an aggregate keeps a user's burst in order in one record: many times faster
        # and on schedule (docs/replay.md, "Benchmark").
        aggregate = settings.env == "local"
    if aggregate and settings.env != "local" and not allow_aggregate_on_aws:
        raise EcommError(
            AGGREGATE_REFUSED, "pass --allow-aggregate-on-aws if no Flink app reads the stream"
        )
    stream = options.stream
    if not options.dry_run and not stream:
        settings, outputs = resolve(settings, require=["events_stream_name"])
        stream = str(outputs["events_stream_name"])
    work_dir = settings.state_dir / "replay"
    return settings, replace(
        options,
        stream=stream,
        aggregate=aggregate,
        # A dry run sends nothing, so there is nothing to resume.
        checkpoint=None if options.dry_run else checkpoint or work_dir / "checkpoint.json",
        rejects=rejects or work_dir / "rejects.jsonl",
        dead_letter=dead_letter or work_dir / "dead-letter.jsonl",
    )


def run_replay(
    settings: Settings,
    options: ReplayOptions,
    on_progress: Callable[[Ledger, float, float | None], None] | None = None,
) -> Summary:
    """`replay(options)` with the Kinesis and S3 clients of the settings' environment."""

    def kinesis() -> Any:
        # Our own retries (per entry, with jitter) are the policy; botocore's would hide them.
        # Requests are built within the limits (batching.py), so botocore need not validate.
        return aws_clients.client("kinesis", settings, max_attempts=1, validate=False)

    def s3() -> Any:
        return aws_clients.client("s3", settings)

    return replay(options, kinesis_client=kinesis, s3_client=s3, on_progress=on_progress)

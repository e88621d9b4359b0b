"""One replay from inputs to stream: reads, validates, paces, encodes, routes to the senders
and accounts for every row. The CLI command only collects options and renders the result."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecomm_cli import contract
from ecomm_cli.kinesis_shards import list_shards
from ecomm_cli.replay import sources
from ecomm_cli.replay.batching import too_large
from ecomm_cli.replay.checkpoint import Ledger
from ecomm_cli.replay.encode import OutgoingRecord, ShardMap, partition_key_function
from ecomm_cli.replay.kept import KeptRows
from ecomm_cli.replay.pacing import Lateness, Pacer, ThrottleGovernor
from ecomm_cli.replay.sender import Sender
from ecomm_cli.replay.shard_queues import Aborted, ShardQueues
from ecomm_cli.replay.summary import Summary

# The checkpoint compacts the journal of acknowledgements (checkpoint.py), which is what makes
# a kill cheap; this only bounds the journal's length.
CHECKPOINT_EVERY_S = 2.0
PROGRESS_EVERY_S = 0.5
# How long a sender waits to fill a request: as fast as possible favours full requests; paced
# replays favour punctuality (the p99 target of lateness is 50 ms).
LINGER_S = 0.05
PACED_LINGER_S = 0.005
# Events waiting in the shard queues at most (about 10 MB): the reader waits beyond it.
QUEUED_EVENTS = 20_000


class ReplayError(Exception):
    """An expected failure of a replay, for a one-line message (and the exit code 2)."""


class ReplayInterrupted(Exception):
    """Ctrl-C: the checkpoint is saved; `--resume` continues."""

    def __init__(self, summary: Summary):
        super().__init__("interrupted")
        self.summary = summary


@dataclass
class ReplayOptions:
    """What to replay and how; mirrors the CLI options."""

    inputs: list[str]
    stream: str | None = None
    dry_run: bool = False
    rate: float | None = None
    speedup: float | None = None
    start: datetime | None = None
    until: datetime | None = None
    limit: int | None = None
    partition_key: str = "user_id"
    aggregate: bool = False
    concurrency: int = 4
    max_attempts: int = 8
    no_header: bool = False
    resume: bool = False
    checkpoint: Path | None = None
    rejects: Path = field(default_factory=lambda: Path("replay-rejects.jsonl"))
    dead_letter: Path = field(default_factory=lambda: Path("replay-dead-letter.jsonl"))

    def fingerprint(self, resolved: list[sources.Source]) -> dict[str, Any]:
        """What must not change between a run and its `--resume` (the ordinals depend on it)."""
        return {
            "inputs": [[s.name, s.size] for s in resolved],
            "stream": self.stream,
            "from": self.start.isoformat() if self.start else None,
            "until": self.until.isoformat() if self.until else None,
            "limit": self.limit,
            "partition_key": self.partition_key,
            "no_header": self.no_header,
            "dry_run": self.dry_run,
        }


def replay(
    options: ReplayOptions,
    *,
    kinesis_client: Callable[[], Any] | None = None,
    s3_client: Callable[[], Any] | None = None,
    on_progress: Callable[[Ledger, float, float | None], None] | None = None,
) -> Summary:
    """Replay `options.inputs` into the stream (or only validate, with `dry_run`).

    Raises `ReplayError` for expected failures (missing file, unknown stream) and
    `ReplayInterrupted` on Ctrl-C, after saving the checkpoint.
    """
    try:
        resolved = sources.resolve(options.inputs, s3_client)
    except sources.SourceError as exc:
        raise ReplayError(str(exc)) from None
    fingerprint = options.fingerprint(resolved)
    if options.resume:
        if options.checkpoint is None:
            raise ReplayError("--resume needs a checkpoint path")
        try:
            ledger = Ledger.resume(options.checkpoint, fingerprint)
        except Exception as exc:
            raise ReplayError(str(exc)) from None
    else:
        ledger = Ledger(fingerprint=fingerprint)

    shards = ShardMap.single()
    if not options.dry_run:
        if kinesis_client is None or not options.stream:
            raise ReplayError("no stream to replay into")
        shards = _shard_map(kinesis_client(), options.stream)

    rejects = KeptRows(options.rejects, append=options.resume, cut_to=ledger.rejects_bytes)
    if options.checkpoint is not None and not options.dry_run:
        ledger.open_journal(options.checkpoint, keep=options.resume)
    # Always appended: dead letters are the only copy of events that did not arrive.
    dead_letters = KeptRows(options.dead_letter, append=True)
    pacer = Pacer(options.speedup, options.rate)
    lateness = Lateness() if pacer.active else None
    queues = ShardQueues(
        len(shards),
        capacity=QUEUED_EVENTS,
        linger=PACED_LINGER_S if pacer.active else LINGER_S,
        aggregate=shards if options.aggregate else None,
    )
    senders: list[Sender] = []
    if not options.dry_run:
        assert kinesis_client is not None and options.stream
        governor = ThrottleGovernor()
        for index in range(max(1, min(options.concurrency, len(shards)))):
            senders.append(
                Sender(
                    index,
                    queues=queues,
                    client_factory=kinesis_client,
                    stream_name=options.stream,
                    ledger=ledger,
                    dead_letters=dead_letters,
                    governor=governor,
                    lateness=lateness,
                    max_attempts=options.max_attempts,
                )
            )
        for sender in senders:
            sender.start()

    started = time.monotonic()
    stats = {"resumed_skipped": 0}
    unread: list[sources.UnreadRest] = []
    interrupted = False
    try:
        _read_and_route(
            options,
            resolved,
            s3_client,
            ledger,
            rejects,
            dead_letters,
            pacer,
            queues if senders else None,
            shards,
            stats,
            unread,
            on_progress,
            started,
        )
    except KeyboardInterrupt:
        interrupted = True
        queues.abort()
    except sources.SourceError as exc:
        queues.abort()
        _close(senders, queues, rejects, dead_letters, ledger, options.checkpoint)
        raise ReplayError(str(exc)) from None
    except Aborted:
        pass  # a sender hit a fatal error: reported below
    finally:
        if not interrupted:
            queues.finish()
    _close(senders, queues, rejects, dead_letters, ledger, options.checkpoint)
    for sender in senders:
        if sender.error is not None:
            raise ReplayError(f"{sender.error}; the checkpoint is saved, fix it and --resume")
    summary = Summary.build(
        ledger,
        elapsed_s=time.monotonic() - started,
        stream=options.stream,
        inputs=[s.name for s in resolved],
        dry_run=options.dry_run,
        aggregate=options.aggregate,
        resumed_skipped=stats["resumed_skipped"],
        rejects_file=str(options.rejects) if rejects.written else None,
        dead_letter_file=str(options.dead_letter) if dead_letters.written else None,
        lateness_p99_ms=lateness.percentile_ms(0.99) if lateness and lateness.count else None,
        unread="; ".join(rest.message() for rest in unread) or None,
    )
    if interrupted:
        raise ReplayInterrupted(summary)
    return summary


def _shard_map(client: Any, stream: str) -> ShardMap:
    try:
        shards = list_shards(client, stream)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise ReplayError(f"stream {stream!r} does not exist") from None
        raise ReplayError(f"cannot list the shards of {stream!r}: {exc}") from None
    except BotoCoreError as exc:
        raise ReplayError(f"cannot reach Kinesis: {exc}") from None
    try:
        return ShardMap.from_shards(shards)
    except ValueError as exc:
        raise ReplayError(f"stream {stream!r}: {exc}") from None


def _read_and_route(
    options: ReplayOptions,
    resolved: list[sources.Source],
    s3_client: Callable[[], Any] | None,
    ledger: Ledger,
    rejects: KeptRows,
    dead_letters: KeptRows,
    pacer: Pacer,
    queues: ShardQueues | None,
    shards: ShardMap,
    stats: dict[str, int],
    unread: list[sources.UnreadRest],
    on_progress: Callable[[Ledger, float, float | None], None] | None,
    started: float,
) -> None:
    key_of = partition_key_function(options.partition_key)
    encode = contract.encode_event
    start_epoch = options.start.timestamp() if options.start else None
    until_epoch = options.until.timestamp() if options.until else None
    limit = options.limit
    taken = ledger.counts["read"]  # rows in scope so far, this run and the runs it resumes
    names = [s.name for s in resolved]
    paced = pacer.active
    ingested_at = contract.utc_now_iso()
    next_report = time.monotonic() + PROGRESS_EVERY_S
    next_checkpoint = time.monotonic() + CHECKPOINT_EVERY_S
    progress = sources.ReadProgress(resolved)
    rows = sources.merged_rows(
        resolved,
        no_header=options.no_header,
        s3_client=s3_client,
        progress=progress,
        unread=unread,
    )
    for ordinal, row in enumerate(rows):
        if limit is not None and taken >= limit:
            break
        if ledger.is_done(ordinal):
            stats["resumed_skipped"] += 1
            continue
        parsed = row.parsed
        event = parsed.event
        if event is None:
            taken += 1
            rejects.write(
                {
                    "file": names[row.source_index],
                    "line": row.line,
                    "reason": parsed.reason,
                    "fields": sources.printable_fields(row.raw),
                }
            )
            ledger.rejected(ordinal)
            continue
        epoch = parsed.epoch
        if (start_epoch is not None and epoch < start_epoch) or (
            until_epoch is not None and epoch >= until_epoch
        ):
            ledger.filtered(ordinal)
            continue
        taken += 1
        if queues is None:
            ledger.counted_dry(ordinal, parsed.warning is not None)
        else:
            scheduled = pacer.wait(epoch) if paced else None
            if paced or ordinal % 128 == 0:
                ingested_at = contract.utc_now_iso()
            key = key_of(event)
            shard = shards.shard_of(key)
            record = OutgoingRecord(
                ordinal,
                key,
                encode(event, ingested_at),
                shard,
                scheduled,
                parsed.warning is not None,
                epoch,
            )
            if too_large(record):
                dead_letters.write(
                    {
                        "ordinal": ordinal,
                        "partition_key": key,
                        "reason": "event exceeds the 1 MiB Kinesis record limit",
                        "event": event,
                    }
                )
                ledger.dead_lettered([ordinal], int(record.warned))
            else:
                queues.put(record)
        if paced or ordinal % 512 == 0:
            now = time.monotonic()
            if now >= next_report:
                next_report = now + PROGRESS_EVERY_S
                if on_progress is not None:
                    on_progress(ledger, now - started, progress.fraction())
                if options.checkpoint is not None and now >= next_checkpoint:
                    next_checkpoint = now + CHECKPOINT_EVERY_S
                    ledger.save(options.checkpoint, rejects.length())


def _close(
    senders: list[Sender],
    queues: ShardQueues,
    rejects: KeptRows,
    dead_letters: KeptRows,
    ledger: Ledger,
    checkpoint: Path | None,
) -> None:
    for sender in senders:
        # An aborted sender stops after its request in flight; a finishing one drains first.
        sender.join(timeout=30 if queues.aborted else None)
    if checkpoint is not None:
        ledger.save(checkpoint, rejects.length())
    ledger.close_journal()
    rejects.close()
    dead_letters.close()

"""Read every shard of the `events` stream and write GZIP JSON-lines objects into the raw zone.

Exactly-once into the lake, across restarts: an object's key is derived from its shard and the
sequence number of its first record, and the per-shard checkpoint moves only after the object
is in place. A restart re-reads from the checkpoint and rewrites the same keys, so nothing is
lost and nothing is duplicated.
"""

from __future__ import annotations

import gzip
import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ecomm_cli import kpl
from ecomm_cli.delivery import prefixes
from ecomm_cli.shard_checkpoint import ShardCheckpoint
from ecomm_cli.shard_reader import CommitWhenSafe, Page, ShardReader

READ_LIMIT = 10_000  # records per GetRecords, the Kinesis maximum


@dataclass
class DeliveryReport:
    kinesis_records: int = 0
    events: int = 0
    objects: int = 0
    bytes_written: int = 0
    keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeliveryTarget:
    """Where and how to write: the raw zone folder and Firehose's prefix and buffering."""

    zone_dir: Path  # the local mirror of the raw bucket
    prefix: str
    stream_name: str
    buffer_bytes: int = 5 * 1024 * 1024
    buffer_seconds: float = 60.0


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class ShardBuffer:
    """Records of one shard waiting to be written, grouped by their rendered prefix."""

    def __init__(self) -> None:
        self.lines: dict[str, list[bytes]] = defaultdict(list)
        self.first_sequence: dict[str, str] = {}
        self.last_sequence: str | None = None
        self.size = 0
        self.opened_at = time.monotonic()

    def add(self, prefix: str, sequence_number: str, payloads: list[bytes]) -> None:
        self.first_sequence.setdefault(prefix, sequence_number)
        for payload in payloads:
            # Firehose's AppendDelimiterToRecord processor: one JSON document per line.
            line = payload if payload.endswith(b"\n") else payload + b"\n"
            self.lines[prefix].append(line)
            self.size += len(line)
        self.last_sequence = sequence_number

    def __bool__(self) -> bool:
        return self.last_sequence is not None


class DeliveryRunner:
    """The Firehose stand-in; `kinesis` is a boto3 Kinesis client (the emulator's locally)."""

    def __init__(self, kinesis: Any, target: DeliveryTarget, checkpoint: ShardCheckpoint):
        self.kinesis = kinesis
        self.target = target
        self.checkpoint = checkpoint
        self.report = DeliveryReport()
        # A shard's position is committed only once the object holding its records is written.
        self.commits = CommitWhenSafe(checkpoint)
        self.reader = ShardReader(kinesis, target.stream_name, self.commits, limit=READ_LIMIT)
        self._buffers: dict[str, ShardBuffer] = {}

    def _flush(self, shard_id: str) -> None:
        buffer = self._buffers[shard_id]
        for prefix, lines in sorted(buffer.lines.items()):
            first = buffer.first_sequence[prefix]
            key = f"{prefix}{self.target.stream_name}-{shard_id}-{first}.json.gz"
            data = gzip.compress(b"".join(lines), mtime=0)
            _atomic_write(self.target.zone_dir / key, data)
            self.report.objects += 1
            self.report.bytes_written += len(data)
            self.report.keys.append(key)
        if buffer.last_sequence is not None:
            self.commits.commit({shard_id: buffer.last_sequence})
        del self._buffers[shard_id]

    def _flush_all(self) -> None:
        for shard_id in list(self._buffers):
            self._flush(shard_id)

    def _buffer(self, page: Page, flush_when_caught_up: bool) -> None:
        """A page of a shard into its buffer, written once full, stale, or the shard's end."""
        buffer = self._buffers.get(page.shard_id)
        if buffer is None:
            if not page.records:
                return
            buffer = self._buffers[page.shard_id] = ShardBuffer()
        for record in page.records:
            arrival = record["ApproximateArrivalTimestamp"]
            if not isinstance(arrival, datetime):
                arrival = datetime.fromtimestamp(float(arrival), UTC)
            payloads = kpl.user_records(bytes(record["Data"]))
            buffer.add(
                prefixes.render(self.target.prefix, arrival), record["SequenceNumber"], payloads
            )
            self.report.kinesis_records += 1
            self.report.events += len(payloads)
        full = buffer.size >= self.target.buffer_bytes
        stale = time.monotonic() - buffer.opened_at >= self.target.buffer_seconds
        if full or stale or page.closed or (page.caught_up and flush_when_caught_up):
            self._flush(page.shard_id)

    def drain(self) -> DeliveryReport:
        """Deliver everything the stream holds now, then return."""
        self.reader.drain(lambda page: self._buffer(page, flush_when_caught_up=True))
        self._flush_all()
        return self.report

    def follow(self, should_stop: Callable[[], bool], poll_seconds: float = 1.0) -> DeliveryReport:
        """Keep delivering until `should_stop()`; flushes at least every buffer interval."""
        self.reader.follow(
            lambda page: self._buffer(page, flush_when_caught_up=False), should_stop, poll_seconds
        )
        self._flush_all()
        return self.report

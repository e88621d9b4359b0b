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
from ecomm_cli.kinesis_shards import list_shards
from ecomm_cli.shard_checkpoint import ShardCheckpoint


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

    def _iterator(self, shard_id: str) -> str | None:
        args: dict[str, Any] = {"StreamName": self.target.stream_name, "ShardId": shard_id}
        if shard_id in self.checkpoint.positions:
            args.update(
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                StartingSequenceNumber=self.checkpoint.positions[shard_id],
            )
        else:
            args["ShardIteratorType"] = "TRIM_HORIZON"
        return str(self.kinesis.get_shard_iterator(**args)["ShardIterator"])

    def _flush(self, shard_id: str, buffer: ShardBuffer) -> None:
        for prefix, lines in sorted(buffer.lines.items()):
            first = buffer.first_sequence[prefix]
            key = f"{prefix}{self.target.stream_name}-{shard_id}-{first}.json.gz"
            data = gzip.compress(b"".join(lines), mtime=0)
            _atomic_write(self.target.zone_dir / key, data)
            self.report.objects += 1
            self.report.bytes_written += len(data)
            self.report.keys.append(key)
        if buffer.last_sequence is not None:
            self.checkpoint.save(shard_id, buffer.last_sequence)

    def _shard_ids(self) -> list[str]:
        return [s["ShardId"] for s in list_shards(self.kinesis, self.target.stream_name)]

    def deliver_shard(
        self,
        shard_id: str,
        *,
        follow: bool,
        should_stop: Callable[[], bool] = lambda: False,
        poll_seconds: float = 1.0,
    ) -> None:
        iterator = self._iterator(shard_id)
        buffer = ShardBuffer()
        while iterator and not should_stop():
            page = self.kinesis.get_records(ShardIterator=iterator, Limit=10000)
            iterator = page.get("NextShardIterator")
            for record in page["Records"]:
                arrival = record["ApproximateArrivalTimestamp"]
                if not isinstance(arrival, datetime):
                    arrival = datetime.fromtimestamp(float(arrival), UTC)
                payloads = kpl.user_records(bytes(record["Data"]))
                buffer.add(
                    prefixes.render(self.target.prefix, arrival), record["SequenceNumber"], payloads
                )
                self.report.kinesis_records += 1
                self.report.events += len(payloads)
            caught_up = not page["Records"] and page.get("MillisBehindLatest", 0) == 0
            full = buffer.size >= self.target.buffer_bytes
            stale = time.monotonic() - buffer.opened_at >= self.target.buffer_seconds
            if buffer and (full or stale or (caught_up and not follow)):
                self._flush(shard_id, buffer)
                buffer = ShardBuffer()
            if caught_up:
                if not follow:
                    break
                time.sleep(poll_seconds)
        if buffer:
            self._flush(shard_id, buffer)

    def drain(self) -> DeliveryReport:
        """Deliver everything the stream holds now, then return."""
        for shard_id in self._shard_ids():
            self.deliver_shard(shard_id, follow=False)
        return self.report

    def follow(self, should_stop: Callable[[], bool], poll_seconds: float = 1.0) -> DeliveryReport:
        """Keep delivering until `should_stop()`; flushes at least every buffer interval."""
        while not should_stop():
            for shard_id in self._shard_ids():
                # One pass per shard, bounded by the buffer interval, so every shard progresses.
                deadline = time.monotonic() + self.target.buffer_seconds

                def stop_shard(deadline: float = deadline) -> bool:
                    return should_stop() or time.monotonic() >= deadline

                self.deliver_shard(
                    shard_id, follow=True, should_stop=stop_shard, poll_seconds=poll_seconds
                )
        return self.report

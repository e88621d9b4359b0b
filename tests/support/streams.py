"""Kinesis helpers of the tests: what a stream holds after known positions, and a replay
killed between two of its checkpoints."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any


def records_after(
    kinesis: Any, stream: str, positions: dict[str, str]
) -> tuple[list[bytes], dict[str, str]]:
    """The records after `positions` (shard -> sequence number), and the new positions."""
    data: list[bytes] = []
    ends = dict(positions)
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        shard_id = shard["ShardId"]
        where: dict[str, Any] = {"ShardIteratorType": "TRIM_HORIZON"}
        if shard_id in positions:
            where = {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "StartingSequenceNumber": positions[shard_id],
            }
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, **where)[
            "ShardIterator"
        ]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            iterator = page.get("NextShardIterator")
            if not page["Records"]:
                break
            data += [bytes(r["Data"]) for r in page["Records"]]
            ends[shard_id] = page["Records"][-1]["SequenceNumber"]
    return data, ends


def kill_between_checkpoints(command: list[str], checkpoint: Path, after_s: float = 1.5) -> None:
    """Start `ecomm replay` (`command`) and SIGKILL it `after_s` after one of its periodic
    checkpoints (every 2 s): no handler runs and no last checkpoint is written, so whatever it
    acknowledged since that checkpoint is known only to its journal."""
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy()
    )
    try:
        deadline = time.monotonic() + 120
        while not checkpoint.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        written = checkpoint.stat().st_mtime
        while time.time() - written < after_s or checkpoint.stat().st_mtime != written:
            written = checkpoint.stat().st_mtime
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, process.returncode

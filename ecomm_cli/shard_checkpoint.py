"""Where a local consumer of a Kinesis stream has got to: a sequence number per shard.

Shared by the local stand-ins that read the emulator's streams (the Firehose delivery runner,
the detector, the Lambda event source mapping), each with its own file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path


class ShardCheckpoint:
    """Last sequence number per shard that a consumer is done with, written atomically."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.positions: dict[str, str] = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            self.positions = {}

    def save(self, shard_id: str, sequence_number: str) -> None:
        """Record that every record of `shard_id` up to `sequence_number` is done."""
        self.update({shard_id: sequence_number})

    def update(self, positions: Mapping[str, str]) -> None:
        """Merge and persist `positions` (the file is written only when they changed)."""
        merged = {**self.positions, **positions}
        if merged == self.positions and self.path.exists():
            return
        self.positions = merged
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(merged, sort_keys=True))
        tmp.replace(self.path)

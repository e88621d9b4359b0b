"""Events to Kinesis records: the partition key and the JSON payload of each event."""

from __future__ import annotations

import hashlib
import uuid
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ecomm_cli import contract

# Kinesis limits a partition key to 256 Unicode characters.
MAX_PARTITION_KEY_CHARS = 256
PARTITION_KEY_CHOICES = (*contract.COLUMNS, "random")


class OutgoingRecord:
    """One event on its way to the stream, with what the ledger needs to account for it."""

    __slots__ = (
        "attempts",
        "data",
        "epoch",
        "ordinal",
        "partition_key",
        "scheduled",
        "shard",
        "size",
        "warned",
    )

    def __init__(
        self,
        ordinal: int,
        partition_key: str,
        data: bytes,
        shard: int,
        scheduled: float | None,
        warned: bool,
        epoch: float | None = None,
    ):
        self.ordinal = ordinal
        self.partition_key = partition_key
        self.data = data
        self.shard = shard
        # Monotonic time the pacer meant this event to leave at (None when not paced).
        self.scheduled = scheduled
        self.warned = warned
        # Event time (epoch seconds): a user's events of one second may share a request.
        self.epoch = epoch
        # Bytes Kinesis counts against its limits: the payload plus the partition key.
        self.size = len(data) + len(partition_key.encode())
        # Failed sends so far; any sender may retry it, so the count travels with the event.
        self.attempts = 0


def partition_key_function(name: str) -> Callable[[dict[str, Any]], str]:
    """The function that picks an event's partition key: a contract column, or `random`.

    `user_id` (the default) keeps each user's events on one shard and in order, which is what
    the per-user real-time rules need.
    """
    if name == "random":
        return lambda _event: uuid.uuid4().hex
    if name not in contract.COLUMNS:
        raise ValueError(f"--partition-key must be one of {', '.join(PARTITION_KEY_CHOICES)}")

    def key(event: dict[str, Any]) -> str:
        value = event[name]
        # An empty key is refused by Kinesis; a null column still needs a stable key.
        return "null" if value is None else str(value)[:MAX_PARTITION_KEY_CHARS] or "empty"

    return key


@dataclass(frozen=True)
class ShardMap:
    """Open shards of the stream by hash range: Kinesis puts a key on the shard whose range
    holds the MD5 of the key, so the sender can route (and aggregate) per shard as KPL does."""

    shard_ids: tuple[str, ...]
    starting_hash_keys: tuple[int, ...]

    @classmethod
    def from_shards(cls, shards: Sequence[dict[str, Any]]) -> ShardMap:
        """From a ListShards answer; closed shards (after a reshard) take no new records."""
        open_shards = sorted(
            (
                (int(s["HashKeyRange"]["StartingHashKey"]), s["ShardId"])
                for s in shards
                if "EndingSequenceNumber" not in s.get("SequenceNumberRange", {})
            ),
        )
        if not open_shards:
            raise ValueError("the stream has no open shard")
        return cls(tuple(s for _, s in open_shards), tuple(h for h, _ in open_shards))

    @classmethod
    def single(cls) -> ShardMap:
        """A one-shard map (a dry run, which never talks to the stream)."""
        return cls(("shardId-000000000000",), (0,))

    def shard_of(self, partition_key: str) -> int:
        """Index of the shard that Kinesis will put `partition_key` on."""
        if len(self.starting_hash_keys) == 1:
            return 0
        digest = int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")
        return bisect_right(self.starting_hash_keys, digest) - 1

    def explicit_hash_key(self, shard: int) -> str:
        """A hash key inside `shard`, for an aggregated record that must land exactly there."""
        return str(self.starting_hash_keys[shard])

    def __len__(self) -> int:
        return len(self.shard_ids)

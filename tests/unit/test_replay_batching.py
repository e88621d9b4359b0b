"""PutRecords requests within the limits, one event per key per request, KPL aggregation."""

from __future__ import annotations

import hashlib
import json
from collections import deque

import pytest

from ecomm_cli import kpl
from ecomm_cli.replay import batching
from ecomm_cli.replay.encode import OutgoingRecord, ShardMap, partition_key_function

pytestmark = pytest.mark.unit


def record(ordinal: int, key: str, size: int = 100, shard: int = 0) -> OutgoingRecord:
    data = json.dumps({"n": ordinal, "pad": "x" * max(0, size - 20)}).encode()
    return OutgoingRecord(ordinal, key, data, shard, None, False)


def test_at_most_500_records_per_request() -> None:
    pending = deque(record(i, f"user-{i}") for i in range(1200))
    sizes = []
    while pending:
        sizes.append(len(batching.take_batch(pending)))
    assert sizes == [500, 500, 200]


def test_at_most_5_mib_per_request() -> None:
    pending = deque(record(i, f"u{i}", size=300_000) for i in range(40))
    batch = batching.take_batch(pending)
    assert sum(e.size for e in batch) <= batching.MAX_BYTES_PER_REQUEST
    assert len(batch) == 17 and len(pending) == 23
    assert pending[0].ordinal == 17


def test_a_request_takes_per_shard_runs_without_a_repeated_key() -> None:
    pending = deque(
        [
            record(0, "a", shard=0),
            record(1, "b", shard=1),
            record(2, "a", shard=0),
            record(3, "c", shard=0),
            record(4, "d", shard=1),
        ]
    )
    # Shard 0 closes at "a"'s second event, so "c" (same shard) cannot overtake it; shard 1
    # keeps filling the request.
    assert [e.records[0].ordinal for e in batching.take_batch(pending)] == [0, 1, 4]
    assert [r.ordinal for r in pending] == [2, 3]
    assert [e.records[0].ordinal for e in batching.take_batch(pending)] == [2, 3]
    assert not pending


def test_a_record_over_1_mib_can_never_be_sent() -> None:
    assert batching.too_large(record(0, "k", size=1024 * 1024 + 10))
    assert not batching.too_large(record(0, "k", size=1000))


def test_aggregates_are_per_shard_and_unpack_in_order() -> None:
    shards = ShardMap(("s0", "s1"), (0, 2**127))
    pending = deque(record(i, f"user-{i % 7}", shard=i % 2) for i in range(3000))
    entries = batching.aggregate_entries(pending, shards)
    assert len(entries) == 2 and not pending
    for entry in entries:
        shard = entry.records[0].shard
        assert entry.explicit_hash_key == str(shards.starting_hash_keys[shard])
        assert all(r.shard == shard for r in entry.records)
        unpacked = [json.loads(p)["n"] for p in kpl.user_records(entry.data)]
        assert unpacked == [r.ordinal for r in entry.records] == sorted(unpacked)
        assert entry.size <= batching.MAX_BYTES_PER_RECORD


def test_aggregates_stay_under_the_record_and_request_limits() -> None:
    shards = ShardMap(("s0",), (0,))
    pending = deque(record(i, "k", size=10_000) for i in range(300))  # about 3 MB, one shard
    entries = batching.aggregate_entries(pending, shards)
    assert len(entries) == 1 and entries[0].size <= batching.MAX_BYTES_PER_RECORD
    assert len(pending) == 300 - len(entries[0].records) > 0
    assert pending[0].ordinal == len(entries[0].records)


def test_shard_map_follows_kinesis_md5_routing() -> None:
    shards = ShardMap.from_shards(
        [
            {"ShardId": "b", "HashKeyRange": {"StartingHashKey": str(2**127)}},
            {"ShardId": "a", "HashKeyRange": {"StartingHashKey": "0"}},
            {
                "ShardId": "closed",
                "HashKeyRange": {"StartingHashKey": "0"},
                "SequenceNumberRange": {"EndingSequenceNumber": "9"},
            },
        ]
    )
    assert shards.shard_ids == ("a", "b")
    assert shards.shard_of("1") == 1  # md5("1") = c4ca...: the upper half of the hash space
    seen = set()
    for n in range(50):
        upper = int(hashlib.md5(str(n).encode()).hexdigest(), 16) >= 2**127
        assert shards.shard_of(str(n)) == int(upper)
        seen.add(upper)
    assert seen == {True, False}
    with pytest.raises(ValueError, match="no open shard"):
        ShardMap.from_shards([])


def test_partition_keys() -> None:
    event = {"user_id": 5, "category_code": None, "user_session": "s"}
    assert partition_key_function("user_id")(event) == "5"
    assert partition_key_function("category_code")(event) == "null"
    assert partition_key_function("random")(event) != partition_key_function("random")(event)
    with pytest.raises(ValueError, match="--partition-key"):
        partition_key_function("nope")

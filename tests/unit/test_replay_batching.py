"""PutRecords requests within the limits, per-shard runs without a user's later event, KPL
aggregation."""

from __future__ import annotations

import hashlib
import json
from collections import deque

import pytest

from ecomm_cli import kpl
from ecomm_cli.replay import batching
from ecomm_cli.replay.encode import OutgoingRecord, ShardMap, partition_key_function

pytestmark = pytest.mark.unit


def record(
    ordinal: int, key: str, size: int = 100, shard: int = 0, epoch: float | None = None
) -> OutgoingRecord:
    data = json.dumps({"n": ordinal, "pad": "x" * max(0, size - 20)}).encode()
    return OutgoingRecord(ordinal, key, data, shard, None, False, epoch)


def queues_of(*records: OutgoingRecord, shards: int = 1) -> list[deque[OutgoingRecord]]:
    queues: list[deque[OutgoingRecord]] = [deque() for _ in range(shards)]
    for r in records:
        queues[r.shard].append(r)
    return queues


def ordinals(entries: list[batching.Entry]) -> list[int]:
    return [r.ordinal for e in entries for r in e.records]


def test_at_most_500_records_per_request() -> None:
    queues = queues_of(*(record(i, f"user-{i}") for i in range(1200)))
    sizes = []
    while queues[0]:
        sizes.append(len(batching.build_request(queues, [0], None)[0]))
    assert sizes == [500, 500, 200]


def test_at_most_5_mib_per_request() -> None:
    queues = queues_of(*(record(i, f"u{i}", size=300_000) for i in range(40)))
    entries, used = batching.build_request(queues, [0], None)
    assert sum(e.size for e in entries) <= batching.MAX_BYTES_PER_REQUEST
    assert len(entries) == 17 and len(queues[0]) == 23 and used == [0]
    assert queues[0][0].ordinal == 17


def test_a_shard_run_stops_at_a_users_later_event() -> None:
    queues = queues_of(
        record(0, "a", shard=0, epoch=1.0),
        record(1, "b", shard=1, epoch=1.0),
        record(2, "a", shard=0, epoch=2.0),
        record(3, "c", shard=0, epoch=2.0),
        record(4, "d", shard=1, epoch=3.0),
        shards=2,
    )
    # Shard 0 stops at "a"'s later event, so "c" (same shard) cannot overtake it; shard 1
    # keeps filling the request.
    entries, used = batching.build_request(queues, [0, 1], None)
    assert ordinals(entries) == [0, 1, 4] and used == [0, 1]
    assert [r.ordinal for r in queues[0]] == [2, 3]
    assert ordinals(batching.build_request(queues, [0], None)[0]) == [2, 3]


def test_a_users_burst_of_one_second_leaves_in_one_request() -> None:
    # A 49-item checkout: 49 purchases of one user in the same second, then the next second.
    burst = [record(i, "buyer", epoch=10.0) for i in range(49)]
    queues = queues_of(*burst, record(49, "buyer", epoch=11.0), record(50, "other", epoch=11.0))
    entries, _ = batching.build_request(queues, [0], None)
    assert ordinals(entries) == list(range(49))
    # Without event times (or with different ones) a key never repeats in a request.
    queues = queues_of(record(0, "k"), record(1, "k"))
    assert ordinals(batching.build_request(queues, [0], None)[0]) == [0]


def test_the_shard_with_the_oldest_event_goes_first_when_the_request_fills() -> None:
    late = [record(1000 + i, f"late-{i}", shard=0) for i in range(400)]
    early = [record(i, f"early-{i}", shard=1) for i in range(400)]
    queues = queues_of(*late, *early, shards=2)
    entries, used = batching.build_request(queues, [0, 1], None)
    assert used == [1, 0] and ordinals(entries)[:400] == list(range(400))
    assert len(entries) == 500 and len(queues[0]) == 300


def test_a_record_over_1_mib_can_never_be_sent() -> None:
    assert batching.too_large(record(0, "k", size=1024 * 1024 + 10))
    assert not batching.too_large(record(0, "k", size=1000))


def test_aggregates_are_per_shard_and_unpack_in_order() -> None:
    shards = ShardMap(("s0", "s1"), (0, 2**127))
    queues = queues_of(*(record(i, f"user-{i % 7}", shard=i % 2) for i in range(3000)), shards=2)
    entries, used = batching.build_request(queues, [0, 1], shards)
    assert len(entries) == 2 and not queues[0] and not queues[1] and sorted(used) == [0, 1]
    for entry in entries:
        shard = entry.records[0].shard
        assert entry.explicit_hash_key == str(shards.starting_hash_keys[shard])
        assert all(r.shard == shard for r in entry.records)
        unpacked = [json.loads(p)["n"] for p in kpl.user_records(entry.data)]
        assert unpacked == [r.ordinal for r in entry.records] == sorted(unpacked)
        assert entry.size <= batching.MAX_BYTES_PER_RECORD


def test_aggregates_stay_under_the_record_and_request_limits() -> None:
    shards = ShardMap(("s0",), (0,))
    queues = queues_of(*(record(i, "k", size=10_000) for i in range(300)))  # about 3 MB
    entries, _ = batching.build_request(queues, [0], shards)
    assert len(entries) == 1 and entries[0].size <= batching.MAX_BYTES_PER_RECORD
    assert len(queues[0]) == 300 - len(entries[0].records) > 0
    assert queues[0][0].ordinal == len(entries[0].records)
    # Many shards of full aggregates: the request stops under 5 MiB.
    many = ShardMap(tuple(f"s{i}" for i in range(8)), tuple(i * 2**125 for i in range(8)))
    queues = queues_of(
        *(record(i, f"k{i}", size=10_000, shard=i % 8) for i in range(1200)), shards=8
    )
    entries, used = batching.build_request(queues, range(8), many)
    assert sum(e.size for e in entries) <= batching.MAX_BYTES_PER_REQUEST
    assert 0 < len(used) < 8


def test_an_event_too_large_to_share_an_aggregate_leaves_alone() -> None:
    shards = ShardMap(("s0",), (0,))
    big = record(0, "k", size=batching.MAX_BYTES_PER_RECORD - 200)
    queues = queues_of(big, record(1, "k"))
    entries, _ = batching.build_request(queues, [0], shards)
    assert len(entries) == 1 and entries[0].data == big.data  # a plain record
    assert entries[0].partition_key == "k" and entries[0].explicit_hash_key is None
    assert ordinals(batching.build_request(queues, [0], shards)[0]) == [1]


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

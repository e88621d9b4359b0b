"""The shared shard queues: one request in flight per shard, failed events first, bounded."""

from __future__ import annotations

import random
import threading
from collections import defaultdict

import pytest

from ecomm_cli.replay.encode import OutgoingRecord
from ecomm_cli.replay.shard_queues import Aborted, ShardQueues

pytestmark = pytest.mark.unit


def record(ordinal: int, key: str, shard: int) -> OutgoingRecord:
    return OutgoingRecord(ordinal, key, b"{}", shard, None, False, float(ordinal))


def ordinals(request: object) -> list[int]:
    return [r.ordinal for e in request.entries for r in e.records]  # type: ignore[attr-defined]


def test_a_shard_in_flight_waits_and_its_failed_events_go_first() -> None:
    queues = ShardQueues(2, capacity=100, linger=0.0)
    for ordinal, (key, shard) in enumerate([("a", 0), ("b", 1), ("a", 0), ("c", 1)]):
        queues.put(record(ordinal, key, shard))
    first = queues.take()
    assert first is not None and ordinals(first) == [0, 1, 3] and sorted(first.shards) == [0, 1]
    queues.put(record(4, "d", 0))  # shard 0 is in flight: nothing to take yet
    queues.finish()
    taken: list[object] = []
    waiter = threading.Thread(target=lambda: taken.append(queues.take()))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive()  # waits for the shards, not for more events
    # Event 0 failed: it goes back in front of shard 0, ahead of events 2 and 4.
    queues.release(first, [first.entries[0].records[0]])
    waiter.join(5)
    assert ordinals(taken[0]) == [0]
    queues.release(taken[0])  # type: ignore[arg-type]
    second = queues.take()
    assert second is not None and ordinals(second) == [2, 4]
    queues.release(second)
    assert queues.take() is None  # finished, drained, nothing in flight


def test_the_reader_waits_while_the_queues_are_full() -> None:
    queues = ShardQueues(1, capacity=2, linger=0.0)
    queues.put(record(0, "a", 0))
    queues.put(record(1, "b", 0))
    done = threading.Event()

    def put_third() -> None:
        queues.put(record(2, "c", 0))
        done.set()

    threading.Thread(target=put_third, daemon=True).start()
    assert not done.wait(0.3)
    request = queues.take()
    assert request is not None and ordinals(request) == [0, 1]
    assert done.wait(5)


def test_abort_stops_the_reader_and_the_senders() -> None:
    queues = ShardQueues(1, capacity=1, linger=10.0)
    queues.put(record(0, "a", 0))
    queues.abort()
    with pytest.raises(Aborted):
        queues.put(record(1, "b", 0))
    assert queues.take() is None


def test_a_partial_request_waits_for_its_linger_unless_the_input_ended() -> None:
    queues = ShardQueues(1, capacity=100, linger=60.0)
    queues.put(record(0, "a", 0))
    taken: list[object] = []
    waiter = threading.Thread(target=lambda: taken.append(queues.take()))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive()  # lingering for a fuller request
    queues.finish()
    waiter.join(5)
    assert ordinals(taken[0]) == [0]


def test_concurrent_senders_with_failures_keep_each_users_order() -> None:
    rnd = random.Random(7)
    n_shards, n_users, n_events = 4, 30, 3000
    queues = ShardQueues(n_shards, capacity=200, linger=0.0)
    landed: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()

    def sender(seed: int) -> None:
        fail = random.Random(seed)
        while (request := queues.take()) is not None:
            retry = []
            for entry in request.entries:
                if fail.random() < 0.3:
                    retry.extend(entry.records)
                else:
                    with lock:
                        for r in entry.records:
                            landed[r.partition_key].append(r.ordinal)
            queues.release(request, retry)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    wanted: dict[str, list[int]] = defaultdict(list)
    for ordinal in range(n_events):
        user = f"u{rnd.randrange(n_users)}"
        wanted[user].append(ordinal)
        queues.put(record(ordinal, user, int(user[1:]) % n_shards))
    queues.finish()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert landed == wanted


def test_shards_that_landed_go_on_while_the_failed_ones_back_off() -> None:
    queues = ShardQueues(2, capacity=100, linger=0.0)
    for ordinal, (key, shard) in enumerate([("a", 0), ("b", 1), ("a", 0), ("b", 1)]):
        queues.put(record(ordinal, key, shard))
    first = queues.take()
    assert first is not None and ordinals(first) == [0, 1]
    queues.release_early(first, [1])  # shard 1 landed; shard 0 failed and backs off
    second = queues.take()
    assert second is not None and ordinals(second) == [3] and second.shards == [1]
    queues.release(first, [first.entries[0].records[0]])
    third = queues.take()
    assert third is not None and ordinals(third) == [0] and third.shards == [0]

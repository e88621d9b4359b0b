"""The events waiting to be sent: one queue per shard, shared by the senders.

A sender takes a request spanning every shard that has events and no request in flight
(`take`), and gives the shards back when the answer is handled, failed events first
(`release`). So each shard has at most one request in flight and its events leave in order,
while requests stay as large as the data allows. The reader blocks in `put` while the queues
hold `capacity` events, which is what bounds the memory of a 40-million-row replay.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ecomm_cli.replay.batching import MAX_RECORDS_PER_REQUEST, Entry, build_request
from ecomm_cli.replay.encode import OutgoingRecord, ShardMap


class Aborted(Exception):
    """The replay stopped (Ctrl-C or a sender's fatal error) while the reader waited."""


@dataclass
class Request:
    """A request taken by a sender: its entries and the shards it holds until released."""

    entries: list[Entry]
    shards: list[int]


class ShardQueues:
    """Thread-safe per-shard queues. `linger` is how long a sender waits for more events
    before it sends a request that is not full (fewer, larger requests are what makes
    PutRecords fast; a paced replay keeps it short, so events still leave on time)."""

    def __init__(
        self,
        n_shards: int,
        *,
        capacity: int,
        linger: float,
        aggregate: ShardMap | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._queues: list[deque[OutgoingRecord]] = [deque() for _ in range(n_shards)]
        self._busy = [False] * n_shards
        self._ready: set[int] = set()  # shards with events and no request in flight
        self._ready_since: float | None = None
        self._total = 0
        self._in_flight = 0
        self._capacity = capacity
        self._linger = linger
        self._aggregate = aggregate
        self._clock = clock
        self._finished = False
        self._aborted = False
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # senders wait here
        self._room = threading.Condition(self._lock)  # the reader waits here

    def put(self, record: OutgoingRecord) -> None:
        """Queue an event on its shard; blocks while the queues are full."""
        with self._lock:
            while self._total >= self._capacity and not self._aborted:
                self._room.wait(0.2)
            if self._aborted:
                raise Aborted
            self._queues[record.shard].append(record)
            self._total += 1
            if not self._busy[record.shard] and record.shard not in self._ready:
                if not self._ready:
                    self._ready_since = self._clock()
                    self._work.notify()
                self._ready.add(record.shard)

    def finish(self) -> None:
        """No more events: senders send what is left, then stop."""
        with self._lock:
            self._finished = True
            self._work.notify_all()

    def abort(self) -> None:
        """Stop now: senders stop after their request in flight, the reader's `put` raises."""
        with self._lock:
            self._aborted = True
            self._work.notify_all()
            self._room.notify_all()

    @property
    def aborted(self) -> bool:
        return self._aborted

    def take(self) -> Request | None:
        """The next request, waiting for events or free shards; None when everything is sent
        (or the replay was aborted)."""
        with self._lock:
            while not self._aborted:
                if self._ready:
                    assert self._ready_since is not None
                    wait = self._ready_since + self._linger - self._clock()
                    if (
                        wait <= 0
                        or self._finished
                        or self._ready_events() >= (MAX_RECORDS_PER_REQUEST)
                    ):
                        return self._build()
                    self._work.wait(wait)
                elif self._finished and not self._total and not self._in_flight:
                    self._work.notify_all()
                    return None
                else:
                    self._work.wait(0.2)
            return None

    def release_early(self, request: Request, shards: Iterable[int]) -> None:
        """Give back some of the request's shards before the rest (those whose events all
        landed, while the failed ones back off)."""
        with self._lock:
            for shard in set(shards) & set(request.shards):
                request.shards.remove(shard)
                self._free(shard)
            self._work.notify_all()

    def release(self, request: Request, retry: Iterable[OutgoingRecord] = ()) -> None:
        """Give the request's shards back; `retry` (its failed events, in their order) go
        back to the front of their shards, ahead of everything that came after them."""
        with self._lock:
            by_shard: dict[int, list[OutgoingRecord]] = {}
            for record in retry:
                by_shard.setdefault(record.shard, []).append(record)
            for shard, records in by_shard.items():
                self._queues[shard].extendleft(reversed(records))
                self._total += len(records)
            for shard in request.shards:
                self._free(shard)
            request.shards = []
            self._in_flight -= 1
            self._work.notify_all()

    def _free(self, shard: int) -> None:
        self._busy[shard] = False
        if self._queues[shard]:
            self._ready.add(shard)
            if self._ready_since is None:
                # Events that waited for their shard leave at once: lingering would only add
                # to a burst's lateness.
                self._ready_since = self._clock() - self._linger

    def _ready_events(self) -> int:
        return sum(len(self._queues[s]) for s in self._ready)

    def _build(self) -> Request:
        before = self._total
        entries, used = build_request(self._queues, self._ready, self._aggregate)
        for shard in used:
            self._busy[shard] = True
            self._ready.discard(shard)
        self._total -= sum(len(e.records) for e in entries)
        if not self._ready:
            self._ready_since = None
        self._in_flight += 1
        if self._total < before:
            self._room.notify()
        return Request(entries, used)

"""The shard-reading loop of the local consumers of a Kinesis stream, written once.

The delivery runner (Firehose), the detector (Managed Flink) and the event source mapping
(Lambda) read their streams alike: list the shards (every page of ListShards, again on every
pass, so shards that appear are read too), open each one after its committed position
(AFTER_SEQUENCE_NUMBER) or at its start (TRIM_HORIZON), read a page of each shard per pass,
hand the page to the runner's handler and move the shard's iterator only once the handler has
returned. A read or a handler that raises leaves the shard where it was: the next pass reads
the same records again. `drain` reads until a pass finds every shard caught up, `follow` until
told to stop (`polling.follow`, resting after a pass that found nothing).

What differs is when a position counts as done, the commit policy passed in:

- `CommitEachPage`: the checkpoint moves after each handled page (the Lambda runner: a batch
  that succeeded or went to the DLQ);
- `CommitWhenSafe`: only what the runner commits once it knows (the delivery runner after the
  object is written, the detector once every window holding the events has closed);
- `CommitInMemory`: positions live as long as the reader (the mapping run on its own).

The Kinesis client is given, never built here: each local runner signs its calls with its own
component key (`ecomm_cli.aws_clients.COMPONENT_KEYS`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Protocol

from ecomm_cli.kinesis_shards import list_shards
from ecomm_cli.realtime import polling
from ecomm_cli.shard_checkpoint import ShardCheckpoint

# Rest after an empty read while a batching window is still open (Lambda polls the same way).
EMPTY_READ_REST_S = 0.05


@dataclass(frozen=True)
class Page:
    """What one read of a shard found: GetRecords records, in shard order."""

    shard_id: str
    records: list[dict[str, Any]]
    caught_up: bool  # no records and not behind the shard's tip (a closed shard read to its end)
    closed: bool  # the shard is closed and read to its end: nothing follows


Handler = Callable[[Page], None]


class CommitPolicy(Protocol):
    """Where a shard resumes, and what happens once a page of it is handled."""

    def resume_after(self, shard_id: str) -> str | None:
        """The sequence number a shard is done up to, or None to read it from its start."""
        ...

    def handled(self, shard_id: str, sequence_number: str) -> None:
        """The handler returned on a page of `shard_id` ending at `sequence_number`."""
        ...


class CommitInMemory:
    """Positions kept by the reader only: a new reader starts every shard from its start."""

    def __init__(self) -> None:
        self.positions: dict[str, str] = {}

    def resume_after(self, shard_id: str) -> str | None:
        return self.positions.get(shard_id)

    def handled(self, shard_id: str, sequence_number: str) -> None:
        self.positions[shard_id] = sequence_number


class CommitWhenSafe:
    """Positions on disk, moved only by `commit`, when the runner knows the records are done."""

    def __init__(self, checkpoint: ShardCheckpoint):
        self.checkpoint = checkpoint

    def resume_after(self, shard_id: str) -> str | None:
        return self.checkpoint.positions.get(shard_id)

    def handled(self, shard_id: str, sequence_number: str) -> None:
        """Nothing yet: a handled page is not done until the runner commits it."""

    def commit(self, positions: Mapping[str, str]) -> None:
        """Every record of each shard up to its sequence number in `positions` is done."""
        self.checkpoint.update(positions)


class CommitEachPage(CommitWhenSafe):
    """Positions on disk, moved as soon as the handler returns on a page."""

    def handled(self, shard_id: str, sequence_number: str) -> None:
        self.checkpoint.save(shard_id, sequence_number)


@dataclass
class _Shard:
    iterator: str | None  # None: a closed shard read to its end
    caught_up: bool = False  # what the last read of the shard found


@dataclass
class ShardReader:
    """Read every shard of `stream_name` through `kinesis`, a boto3 client (or a stand-in).

    `limit` bounds the records of a page. Without `batching_window_seconds` a page is one
    GetRecords; with it (Lambda's MaximumBatchingWindowInSeconds) reads go on until `limit`
    records, the shard's end, or an empty read once the window has passed.
    """

    kinesis: Any
    stream_name: str
    commits: CommitPolicy
    _: KW_ONLY
    limit: int = 10_000
    batching_window_seconds: float | None = None
    _shards: dict[str, _Shard] = field(default_factory=dict, init=False, repr=False)

    @property
    def caught_up(self) -> bool:
        """Whether the last read of every shard found nothing new."""
        return all(shard.caught_up for shard in self._shards.values())

    def refresh(self) -> None:
        """Open the shards not open yet, after their committed position or at their start."""
        for described in list_shards(self.kinesis, self.stream_name):
            shard_id = described["ShardId"]
            if shard_id in self._shards:
                continue
            args: dict[str, Any] = {"StreamName": self.stream_name, "ShardId": shard_id}
            position = self.commits.resume_after(shard_id)
            if position is None:
                args["ShardIteratorType"] = "TRIM_HORIZON"
            else:
                args.update(
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=position
                )
            self._shards[shard_id] = _Shard(
                self.kinesis.get_shard_iterator(**args)["ShardIterator"]
            )

    def _fetch(self, shard_id: str, iterator: str | None) -> tuple[Page, str | None]:
        """The page read from `iterator`, and the iterator after it (None: the shard ended)."""
        records: list[dict[str, Any]] = []
        behind = 0
        window_ends = time.monotonic() + (self.batching_window_seconds or 0.0)
        while iterator and len(records) < self.limit:
            answer = self.kinesis.get_records(
                ShardIterator=iterator, Limit=self.limit - len(records)
            )
            iterator = answer.get("NextShardIterator")
            records += answer["Records"]
            behind = answer.get("MillisBehindLatest", 0)
            if self.batching_window_seconds is None:
                break
            if not answer["Records"]:
                if time.monotonic() >= window_ends:
                    break
                time.sleep(EMPTY_READ_REST_S)
        page = Page(shard_id, records, caught_up=not records and not behind, closed=not iterator)
        return page, iterator

    def _read(self, shard_id: str, handle: Handler) -> int:
        shard = self._shards[shard_id]
        page, after = self._fetch(shard_id, shard.iterator)
        handle(page)  # raises: the shard stays where it was, and nothing is committed
        if page.records:
            self.commits.handled(shard_id, page.records[-1]["SequenceNumber"])
        shard.iterator, shard.caught_up = after, page.caught_up
        return len(page.records)

    def poll(self, handle: Handler, after_pass: Callable[[], None] | None = None) -> int:
        """One page of every shard to `handle`, then `after_pass()`; returns records read."""
        self.refresh()
        read = sum(self._read(shard_id, handle) for shard_id in list(self._shards))
        if after_pass is not None:
            after_pass()
        return read

    def drain(self, handle: Handler, after_pass: Callable[[], None] | None = None) -> None:
        """Pass after pass until one reads nothing and finds every shard caught up."""
        while self.poll(handle, after_pass) or not self.caught_up:
            pass

    def follow(
        self,
        handle: Handler,
        should_stop: Callable[[], bool],
        poll_seconds: float,
        *,
        retryable: tuple[type[Exception], ...] = (),
        on_error: Callable[[Exception], None] | None = None,
        after_pass: Callable[[], None] | None = None,
    ) -> None:
        """Pass after pass until `should_stop()` (see `polling.follow`): a `retryable`
        failure is told to `on_error` and the pass retried from the positions it left."""
        polling.follow(
            lambda: self.poll(handle, after_pass), should_stop, poll_seconds, retryable, on_error
        )

"""The one shard-reading loop of the local consumers: positions, commit policies, drain, follow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecomm_cli import shard_reader
from ecomm_cli.realtime import polling
from ecomm_cli.shard_checkpoint import ShardCheckpoint
from ecomm_cli.shard_reader import (
    CommitEachPage,
    CommitInMemory,
    CommitWhenSafe,
    Page,
    ShardReader,
)

pytestmark = pytest.mark.unit
A, B = "shardId-000000000000", "shardId-000000000001"


class FakeKinesis:
    """Shards of records whose sequence numbers are their index; an iterator is `shard@index`.

    At most `per_read` records a GetRecords, behind the tip by a second a record left; a closed
    shard's last read has no NextShardIterator. `failures` makes the next reads raise, `gaps`
    answer them empty though behind (Kinesis may, over a stretch with no records).
    """

    def __init__(self, per_read: int = 100) -> None:
        self.shards: dict[str, list[bytes]] = {}
        self.closed: set[str] = set()
        self.per_read = per_read
        self.failures = 0
        self.gaps = 0
        self.opened: list[tuple[str, str, str | None]] = []
        self.reads: list[str] = []

    def put(self, shard_id: str, *data: bytes) -> None:
        self.shards.setdefault(shard_id, []).extend(data)

    def list_shards(self, **_: Any) -> dict[str, Any]:
        return {"Shards": [{"ShardId": shard_id} for shard_id in self.shards]}

    def get_shard_iterator(self, **args: Any) -> dict[str, Any]:
        after = args.get("StartingSequenceNumber")
        self.opened.append((args["ShardId"], args["ShardIteratorType"], after))
        start = 0 if after is None else int(after) + 1
        return {"ShardIterator": f"{args['ShardId']}@{start}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the emulator answered 500")
        shard_id, _, start = ShardIterator.partition("@")
        self.reads.append(shard_id)
        data = self.shards[shard_id]
        first = int(start)
        end = min(first + Limit, first + self.per_read, len(data))
        if self.gaps:
            self.gaps -= 1
            end = first
        answer: dict[str, Any] = {
            "Records": [{"SequenceNumber": str(i), "Data": data[i]} for i in range(first, end)],
            "MillisBehindLatest": (len(data) - end) * 1000,
        }
        if shard_id not in self.closed or end < len(data):
            answer["NextShardIterator"] = f"{shard_id}@{end}"
        return answer


class Collector:
    """A handler that keeps what it was handed, and can be made to fail on some data."""

    def __init__(self, fail_on: bytes | None = None) -> None:
        self.pages: list[Page] = []
        self.fail_on = fail_on

    def __call__(self, page: Page) -> None:
        if self.fail_on is not None and any(r["Data"] == self.fail_on for r in page.records):
            raise RuntimeError("the DLQ cannot be reached")
        self.pages.append(page)

    def data(self, shard_id: str) -> list[bytes]:
        return [r["Data"] for p in self.pages if p.shard_id == shard_id for r in p.records]


def _stream() -> FakeKinesis:
    kinesis = FakeKinesis()
    kinesis.put(A, b"a0", b"a1", b"a2")
    kinesis.put(B, b"b0", b"b1")
    return kinesis


def test_drain_reads_every_shard_from_its_start_until_each_is_caught_up() -> None:
    kinesis = _stream()
    commits = CommitInMemory()
    handle = Collector()

    ShardReader(kinesis, "events", commits, limit=2).drain(handle)

    assert [(shard, kind) for shard, kind, _ in kinesis.opened] == [
        (A, "TRIM_HORIZON"),
        (B, "TRIM_HORIZON"),
    ]
    assert handle.data(A) == [b"a0", b"a1", b"a2"] and handle.data(B) == [b"b0", b"b1"]
    assert commits.positions == {A: "2", B: "1"}  # in memory only
    # Page by page: A is behind after its first page; the last pass finds both caught up.
    assert [(p.shard_id, len(p.records), p.caught_up) for p in handle.pages] == [
        (A, 2, False),
        (B, 2, False),
        (A, 1, False),
        (B, 0, True),
        (A, 0, True),
        (B, 0, True),
    ]


def test_commit_each_page_moves_the_checkpoint_only_once_the_handler_returned(
    tmp_path: Path,
) -> None:
    kinesis = _stream()
    checkpoint = ShardCheckpoint(tmp_path / "lambda.json")
    seen_at_handling: list[dict[str, str]] = []

    def handle(page: Page) -> None:
        if page.records:
            seen_at_handling.append(dict(checkpoint.positions))

    ShardReader(kinesis, "events", CommitEachPage(checkpoint), limit=2).drain(handle)

    assert seen_at_handling == [{}, {A: "1"}, {A: "1", B: "1"}]
    assert json.loads((tmp_path / "lambda.json").read_text()) == {A: "2", B: "1"}


def test_commit_when_safe_moves_nothing_until_the_runner_commits(tmp_path: Path) -> None:
    kinesis = _stream()
    commits = CommitWhenSafe(ShardCheckpoint(tmp_path / "detector.json"))

    ShardReader(kinesis, "events", commits).drain(Collector())
    assert not (tmp_path / "detector.json").exists()

    commits.commit({A: "0"})  # say only A's first record is done (its window closed)
    again = Collector()
    ShardReader(kinesis, "events", commits).drain(again)
    assert again.data(A) == [b"a1", b"a2"] and again.data(B) == [b"b0", b"b1"]


def test_a_reader_resumes_after_the_checkpoint(tmp_path: Path) -> None:
    kinesis = _stream()
    checkpoint = ShardCheckpoint(tmp_path / "delivery.json")
    checkpoint.update({A: "1"})
    handle = Collector()

    ShardReader(kinesis, "events", CommitEachPage(checkpoint)).drain(handle)

    assert kinesis.opened == [(A, "AFTER_SEQUENCE_NUMBER", "1"), (B, "TRIM_HORIZON", None)]
    assert handle.data(A) == [b"a2"] and handle.data(B) == [b"b0", b"b1"]


def test_a_handler_that_raises_leaves_the_shard_where_it_was(tmp_path: Path) -> None:
    kinesis = FakeKinesis()
    kinesis.put(A, b"a0", b"a1", b"poison", b"a3", b"a4")
    checkpoint = ShardCheckpoint(tmp_path / "lambda.json")
    reader = ShardReader(kinesis, "events", CommitEachPage(checkpoint), limit=2)
    handle = Collector(fail_on=b"poison")

    assert reader.poll(handle) == 2
    with pytest.raises(RuntimeError, match="DLQ"):
        reader.poll(handle)
    assert checkpoint.positions == {A: "1"}

    handle.fail_on = None
    assert reader.poll(handle) == 2  # the same page again, not the next one
    assert handle.data(A) == [b"a0", b"a1", b"poison", b"a3"]
    assert checkpoint.positions == {A: "3"}


def test_a_failed_read_is_retried_by_follow_from_the_same_position(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(polling.time, "sleep", lambda _: None)
    kinesis = _stream()
    kinesis.failures = 1
    errors: list[Exception] = []
    handle = Collector()

    ShardReader(kinesis, "events", CommitInMemory()).follow(
        handle,
        lambda: len(handle.data(A) + handle.data(B)) == 5,
        0.1,
        retryable=(ConnectionError,),
        on_error=errors.append,
    )

    assert len(errors) == 1
    assert handle.data(A) == [b"a0", b"a1", b"a2"] and handle.data(B) == [b"b0", b"b1"]


def test_a_failed_read_propagates_when_it_is_not_retryable() -> None:
    kinesis = _stream()
    kinesis.failures = 1
    commits = CommitInMemory()
    with pytest.raises(ConnectionError):
        ShardReader(kinesis, "events", commits).drain(Collector())
    assert commits.positions == {}


def test_a_closed_shard_is_read_to_its_end_then_never_again() -> None:
    kinesis = _stream()
    kinesis.closed.add(A)
    reader = ShardReader(kinesis, "events", CommitInMemory())
    handle = Collector()

    reader.poll(handle)
    reader.poll(handle)

    assert kinesis.reads == [A, B, B]
    first, _, later, _ = handle.pages
    assert first.closed and not first.caught_up and len(first.records) == 3
    # Afterwards it reads as an empty, caught-up page, so drains end and watermarks move.
    assert later.shard_id == A and later.closed and later.caught_up and not later.records


def test_a_shard_that_appears_is_opened_on_the_next_pass() -> None:
    kinesis = FakeKinesis()
    kinesis.put(A, b"a0")
    reader = ShardReader(kinesis, "events", CommitInMemory())
    handle = Collector()
    assert reader.poll(handle) == 1

    kinesis.put(B, b"b0")  # a reshard's child
    assert reader.poll(handle) == 1
    assert handle.data(B) == [b"b0"]
    assert [shard for shard, _, _ in kinesis.opened] == [A, B]


def test_a_batching_window_fills_a_page_across_reads() -> None:
    kinesis = FakeKinesis(per_read=2)
    kinesis.put(A, b"a0", b"a1", b"a2", b"a3", b"a4")
    one_read = Collector()
    ShardReader(kinesis, "events", CommitInMemory(), limit=4).poll(one_read)
    filled = Collector()
    ShardReader(kinesis, "events", CommitInMemory(), limit=4, batching_window_seconds=0).poll(
        filled
    )

    assert [len(p.records) for p in one_read.pages] == [2]
    assert [len(p.records) for p in filled.pages] == [4]  # two reads, up to the limit


def test_an_empty_read_ends_a_batch_once_its_window_passed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr(shard_reader.time, "monotonic", lambda: now[0])

    def rest(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr(shard_reader.time, "sleep", rest)
    kinesis = FakeKinesis()
    kinesis.put(A, b"a0")
    handle = Collector()

    ShardReader(kinesis, "events", CommitInMemory(), limit=10, batching_window_seconds=0.12).poll(
        handle
    )

    assert [len(p.records) for p in handle.pages] == [1]
    assert len(kinesis.reads) == 1 + 4  # the record, then empty reads until the window passed


def test_drain_stops_when_caught_up_and_follow_only_when_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(polling.time, "sleep", lambda _: None)
    kinesis = _stream()
    passes: list[int] = []
    reader = ShardReader(kinesis, "events", CommitInMemory())

    reader.drain(Collector(), after_pass=lambda: passes.append(len(kinesis.reads)))
    assert len(passes) == 2 and reader.caught_up  # the records, then one caught-up pass

    passes.clear()
    reader.follow(Collector(), lambda: len(passes) == 5, 0.1, after_pass=lambda: passes.append(0))
    assert len(passes) == 5  # caught up all along, yet it went on until told to stop


def test_an_empty_read_behind_the_tip_does_not_end_a_drain() -> None:
    kinesis = FakeKinesis()
    kinesis.put(A, b"a0")
    kinesis.gaps = 2
    handle = Collector()

    ShardReader(kinesis, "events", CommitInMemory()).drain(handle)

    assert handle.data(A) == [b"a0"]
    assert [p.caught_up for p in handle.pages] == [False, False, False, True]

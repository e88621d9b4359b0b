"""The emulator's Kinesis shard, patched: direct reads, serialised puts, same answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from moto.kinesis.models import Record, Shard

from ecomm_cli.local.emulator_gaps import patch_kinesis_shard_performance

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def patched(emulator_patch: Callable[[Callable[[], None]], None]) -> None:
    emulator_patch(patch_kinesis_shard_performance)


def _shard() -> Shard:
    return Shard(0, 0, 2**128 - 1)


def test_reads_continue_after_the_last_sequence_number() -> None:
    shard = _shard()
    sequence_numbers = [shard.put_record("k", f"d{i}", "") for i in range(5)]
    assert sequence_numbers == ["1", "2", "3", "4", "5"]
    first, last, _ = shard.get_records("0", 2)
    assert ([r.data for r in first], last) == (["d0", "d1"], 2)
    rest, last, behind = shard.get_records(str(last), None)
    assert ([r.data for r in rest], last, behind) == (["d2", "d3", "d4"], 5, 0)
    assert shard.get_records("5", 10)[:2] == ([], 5)


def test_reads_start_at_the_oldest_kept_record_after_trimming() -> None:
    shard = _shard()
    for i in range(6):
        shard.put_record("k", f"d{i}", "")
    for sequence in (1, 2, 3):  # what retention trims
        del shard.records[sequence]
    records, last, _ = shard.get_records("0", None)
    assert ([r.sequence_number for r in records], last) == ([4, 5, 6], 6)


def test_concurrent_writers_lose_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    shard = _shard()
    original_init = Record.__init__

    def slow_init(self: Record, *args: object) -> None:
        # Give other writers the chance to run between reading the last sequence number and
        # storing the record: without the lock they then reuse a number and overwrite a record.
        time.sleep(0.0002)
        original_init(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Record, "__init__", slow_init)

    def write(worker: int) -> None:
        for i in range(100):
            shard.put_record(str(worker), f"{worker}-{i}", "")

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records, last, _ = shard.get_records("0", None)
    assert last == 800
    assert len({r.data for r in records}) == 800

"""PutRecords requests within the service limits, keeping each partition key in order.

Limits (Kinesis PutRecords): at most 500 records and 5 MiB per request, 1 MiB per record
(payload plus partition key). A request holds at most one record per partition key (or per
shard, when aggregating): if an entry fails while a later one of the same key succeeds, the
retry would land after it and break the per-user order the real-time rules depend on. Keys
are many and interleaved in clickstream data, so requests still fill up.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from aws_kinesis_agg.aggregator import AggRecord

from ecomm_cli.replay.encode import OutgoingRecord, ShardMap

MAX_RECORDS_PER_REQUEST = 500
MAX_BYTES_PER_REQUEST = 5 * 1024 * 1024
MAX_BYTES_PER_RECORD = 1024 * 1024


@dataclass
class Entry:
    """One entry of a PutRecords request: one event, or a KPL aggregate of many."""

    partition_key: str
    data: bytes
    records: list[OutgoingRecord]
    explicit_hash_key: str | None = None

    @property
    def size(self) -> int:
        return len(self.data) + len(self.partition_key.encode())

    def request_item(self) -> dict[str, object]:
        """The entry as an item of PutRecords' `Records` parameter."""
        item: dict[str, object] = {"Data": self.data, "PartitionKey": self.partition_key}
        if self.explicit_hash_key is not None:
            item["ExplicitHashKey"] = self.explicit_hash_key
        return item


def too_large(record: OutgoingRecord) -> bool:
    """True when a single event can never be sent (over the 1 MiB record limit)."""
    return record.size > MAX_BYTES_PER_RECORD


def take_batch(
    pending: deque[OutgoingRecord],
    max_records: int = MAX_RECORDS_PER_REQUEST,
    max_bytes: int = MAX_BYTES_PER_REQUEST,
) -> list[Entry]:
    """The next request's entries, one event each, taken from `pending` in order: for each
    shard, the longest run of its events in which no partition key repeats (within the request
    limits); what is left stays in `pending` in its order.

    Why runs per shard: a user's second event may not share a request with the first (a partial
    failure would retry the first after the second landed), and each shard must carry the file's
    event-time order across users, because the real-time windows read it in that order (a user
    whose events fell behind would look late). A repeated key therefore closes its shard for
    this request; other shards keep filling it.
    """
    batch: list[Entry] = []
    keys: set[str] = set()
    closed: set[int] = set()
    left: list[OutgoingRecord] = []
    size = 0
    # Bounds the work per request when most waiting events belong to closed shards.
    max_scan = 4 * max_records
    scanned = 0
    while pending and len(batch) < max_records and scanned < max_scan:
        record = pending.popleft()
        scanned += 1
        if record.shard in closed:
            left.append(record)
            continue
        if record.partition_key in keys or size + record.size > max_bytes:
            closed.add(record.shard)
            left.append(record)
            continue
        keys.add(record.partition_key)
        batch.append(Entry(record.partition_key, record.data, [record]))
        size += record.size
    pending.extendleft(reversed(left))
    return batch


def aggregate_entries(records: deque[OutgoingRecord], shards: ShardMap) -> list[Entry]:
    """Pack events into KPL aggregated records, one per shard, each at most 1 MiB, and at most
    5 MiB in all; events that do not fit stay in `records` in their order.

    Each aggregate is pinned to its shard with an explicit hash key, so a user's events stay on
    the shard (and in the order) they would have had without aggregation.
    """
    aggregates: dict[int, AggRecord] = {}
    full: set[int] = set()
    members: dict[int, list[OutgoingRecord]] = {}
    left: list[OutgoingRecord] = []
    total = 0
    while records:
        record = records.popleft()
        shard = record.shard
        if shard in full or total + record.size + 64 > MAX_BYTES_PER_REQUEST:
            left.append(record)
            if total + record.size + 64 > MAX_BYTES_PER_REQUEST:
                break
            continue
        aggregate = aggregates.get(shard)
        if aggregate is None:
            if len(aggregates) >= MAX_RECORDS_PER_REQUEST:
                left.append(record)
                break
            # Headroom for the explicit hash key and partition key of the aggregate itself.
            aggregate = aggregates[shard] = AggRecord(max_size=MAX_BYTES_PER_RECORD - 512)
            members[shard] = []
        before = aggregate.get_size_bytes() if members[shard] else 0
        if not aggregate.add_user_record(record.partition_key, record.data):
            full.add(shard)
            left.append(record)
            continue
        members[shard].append(record)
        total += aggregate.get_size_bytes() - before
    records.extendleft(reversed(left))
    entries = []
    for shard, aggregate in aggregates.items():
        _, _, data = aggregate.get_contents()
        entries.append(Entry("a", data, members[shard], shards.explicit_hash_key(shard)))
    return entries

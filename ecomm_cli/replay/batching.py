"""PutRecords requests within the service limits, keeping each shard in order.

Limits (Kinesis PutRecords): at most 500 records and 5 MiB per request, 1 MiB per record
(payload plus partition key). A request takes, from each shard's queue, a run of plain records
without a repeated partition key, or one KPL aggregate: if an entry fails while a later one of
the same key succeeds, the retry would land after it and break the per-user order the
real-time rules depend on. Spanning every free shard is what keeps requests large: one shard's
run is short when few users are active on it, but 32 shards' runs add up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from aws_kinesis_agg.aggregator import AggRecord

from ecomm_cli.replay.encode import OutgoingRecord, ShardMap

MAX_RECORDS_PER_REQUEST = 500
MAX_BYTES_PER_REQUEST = 5 * 1024 * 1024
MAX_BYTES_PER_RECORD = 1024 * 1024
AGGREGATE_MAX_BYTES = MAX_BYTES_PER_RECORD - 512


@dataclass(slots=True)
class Entry:
    """One entry of a PutRecords request: one event, or a KPL aggregate of many."""

    partition_key: str
    data: bytes
    records: list[OutgoingRecord]
    explicit_hash_key: str | None = None
    # Bytes counted against the limits (payload plus partition key); computed once, because
    # request building reads it for every entry.
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.data) + len(self.partition_key.encode())

    def request_item(self) -> dict[str, object]:
        """The entry as an item of PutRecords' `Records` parameter."""
        item: dict[str, object] = {"Data": self.data, "PartitionKey": self.partition_key}
        if self.explicit_hash_key is not None:
            item["ExplicitHashKey"] = self.explicit_hash_key
        return item


def too_large(record: OutgoingRecord) -> bool:
    """True when a single event can never be sent (over the 1 MiB record limit)."""
    return record.size > MAX_BYTES_PER_RECORD


def plain_run(waiting: deque[OutgoingRecord], max_records: int, max_bytes: int) -> list[Entry]:
    """The head of one shard's queue as plain entries, one event each: the longest run in which
    no partition key repeats with a new event time, within the budget left in the request.

    Why a run stops at a user's later event: it may not share a request with the earlier one,
    because a partial failure would retry the earlier one after the later one landed. Events of
    one user in the same second (a 49-item checkout) may share it: if one fails, the retry can
    only land among events of the same event time, so event-time order still holds, and the
    burst leaves in one round trip instead of one per event. Why the rest of the shard waits
    too: each shard must carry the file's event-time order across users, because the
    real-time windows read it in that order (a user whose events fell behind would look late).
    """
    entries: list[Entry] = []
    key_times: dict[str, float | None] = {}
    size = 0
    while waiting and len(entries) < max_records:
        record = waiting[0]
        key = record.partition_key
        if key in key_times and (record.epoch is None or key_times[key] != record.epoch):
            break
        if size + record.size > max_bytes:
            break
        waiting.popleft()
        key_times[key] = record.epoch
        entries.append(Entry(record.partition_key, record.data, [record]))
        size += record.size
    return entries


def aggregate_run(
    waiting: deque[OutgoingRecord], shards: ShardMap, shard: int, max_bytes: int
) -> Entry | None:
    """The head of one shard's queue packed into one KPL aggregated record of at most 1 MiB
    (and `max_bytes`), pinned to the shard with an explicit hash key, so that a user's events
    keep the shard and the order they would have had without aggregation.

    An event too large to share an aggregate (close to 1 MiB) leaves alone as a plain record:
    de-aggregating consumers pass plain records through.
    """
    # Headroom for the partition key and explicit hash key of the aggregate itself.
    limit = min(AGGREGATE_MAX_BYTES, max_bytes - 512)
    if not waiting or limit < 1024:
        return None
    aggregate = AggRecord(max_size=limit)
    members: list[OutgoingRecord] = []
    while waiting:
        record = waiting[0]
        try:
            added = aggregate.add_user_record(record.partition_key, record.data)
        except ValueError:  # larger than the aggregate's whole budget
            added = False
        if not added:
            break
        members.append(waiting.popleft())
    if members:
        _, _, data = aggregate.get_contents()
        return Entry("a", data, members, shards.explicit_hash_key(shard))
    record = waiting[0]
    if limit < AGGREGATE_MAX_BYTES or record.size > max_bytes:
        return None  # the request is nearly full: the next one starts with this event
    waiting.popleft()
    return Entry(record.partition_key, record.data, [record])


def build_request(
    queues: Sequence[deque[OutgoingRecord]],
    ready: Iterable[int],
    aggregate: ShardMap | None,
) -> tuple[list[Entry], list[int]]:
    """One PutRecords request from the queues of the `ready` shards (those with events and no
    request in flight), and the shards it uses.

    Shards whose oldest waiting event is oldest go first, so that no shard falls behind in
    event time when the request fills up (a lagging shard holds back every window).
    """
    entries: list[Entry] = []
    used: list[int] = []
    size = 0
    for shard in sorted(ready, key=lambda s: queues[s][0].ordinal):
        room = MAX_RECORDS_PER_REQUEST - len(entries)
        if room <= 0 or size >= MAX_BYTES_PER_REQUEST:
            break
        if aggregate is None:
            run = plain_run(queues[shard], room, MAX_BYTES_PER_REQUEST - size)
        else:
            entry = aggregate_run(queues[shard], aggregate, shard, MAX_BYTES_PER_REQUEST - size)
            run = [entry] if entry is not None else []
        if run:
            used.append(shard)
            entries.extend(run)
            size += sum(e.size for e in run)
    return entries, used

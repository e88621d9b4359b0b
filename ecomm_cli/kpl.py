"""De-aggregation of Kinesis records written in the KPL aggregation format.

`ecomm replay --aggregate` packs many events into one Kinesis record; every local consumer of the
`events` stream (the delivery runner, the detector) unpacks them here. A record that is not an
aggregate comes back unchanged, as the KPL's own consumers do it.
"""

from __future__ import annotations

import hashlib

# Format: magic, protobuf AggregatedRecord, MD5 of the protobuf bytes.
KPL_MAGIC = b"\xf3\x89\x9a\xc2"
_DIGEST_SIZE = 16


def is_aggregated(data: bytes) -> bool:
    """True when `data` carries the KPL magic and a matching checksum."""
    if len(data) <= len(KPL_MAGIC) + _DIGEST_SIZE or not data.startswith(KPL_MAGIC):
        return False
    body, digest = data[len(KPL_MAGIC) : -_DIGEST_SIZE], data[-_DIGEST_SIZE:]
    return hashlib.md5(body, usedforsecurity=False).digest() == digest


def user_records(data: bytes) -> list[bytes]:
    """The user records inside one Kinesis record's data (itself when not aggregated)."""
    if not is_aggregated(data):
        return [data]
    from aws_kinesis_agg import messages_pb2  # protobuf import cost only when needed

    message = messages_pb2.AggregatedRecord()
    message.ParseFromString(data[len(KPL_MAGIC) : -_DIGEST_SIZE])
    return [bytes(record.data) for record in message.records]

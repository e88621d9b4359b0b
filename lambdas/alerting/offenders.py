"""Pure logic of the alerting Lambda: decode anomaly records and shape offender items.

No AWS calls here: everything takes and returns plain values so it is tested without an
emulator and reused by the local runner.

An anomaly (the `anomalies` stream, one JSON object per Kinesis user record)::

    {"user_id": 123, "rule": "flood", "window_start": "2019-10-01T00:00:00Z",
     "window_end": "2019-10-01T00:00:10Z", "count": 42, "samples": [...]}

`user_id` is absent (or null) for platform-wide rules such as `traffic_spike`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

# Rule names become a metric dimension: keep them short identifiers so the dimension stays
# low-cardinality and nothing user-controlled ends up in it.
_RULE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Enough to show what the offender did without making an item or message large.
MAX_SAMPLES = 10
PLATFORM_OFFENDER = "platform"
# First bytes of a KPL aggregate (aws_kinesis_agg.MAGIC): plain records skip the de-aggregator,
# whose import (protobuf) is only paid when a producer aggregates.
KPL_MAGIC = b"\xf3\x89\x9a\xc2"
COOLDOWN_SORT_KEY = "cooldown"
# Per offender and rule: the end of the latest window recorded, so the overlapping windows of a
# hopping rule (up to 12 for the sustained rules) are one offence, alerted once.
INCIDENT_SORT_KEY_PREFIX = "incident#"


class MalformedAnomaly(ValueError):
    """A record that is not a valid anomaly; reported as a batch item failure, never dropped."""


@dataclass(frozen=True)
class Anomaly:
    """One rule firing for one user (or the whole platform) in one event-time window."""

    rule: str
    window_start: datetime
    window_end: datetime
    count: int
    user_id: int | None = None
    samples: list[Any] = field(default_factory=list)

    @property
    def offender(self) -> str:
        """Who offended: `user#<id>`, or `platform` for platform-wide rules."""
        return PLATFORM_OFFENDER if self.user_id is None else f"user#{self.user_id}"


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, milliseconds only when they are not zero."""
    moment = moment.astimezone(UTC)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _parse_time(value: Any, name: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise MalformedAnomaly(f"{name} must be an ISO-8601 string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise MalformedAnomaly(f"{name} is not ISO-8601: {value!r}") from exc
    # Flink writes TIMESTAMP(3) without a zone; every time on the platform is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_anomaly(payload: bytes) -> Anomaly:
    """Validate one anomaly payload (JSON bytes); raise MalformedAnomaly with the reason."""
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedAnomaly(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise MalformedAnomaly(f"expected a JSON object, got {type(doc).__name__}")
    rule = doc.get("rule")
    if not isinstance(rule, str) or not _RULE_NAME.match(rule):
        raise MalformedAnomaly(f"rule must be a lowercase identifier, got {rule!r}")
    user_id = doc.get("user_id")
    if user_id is not None and not (_is_int(user_id) and user_id >= 0):
        raise MalformedAnomaly(f"user_id must be a non-negative integer, got {user_id!r}")
    start = _parse_time(doc.get("window_start"), "window_start")
    end = _parse_time(doc.get("window_end"), "window_end")
    if end <= start:
        raise MalformedAnomaly(f"window_end {doc['window_end']!r} is not after window_start")
    count = doc.get("count")
    if not (_is_int(count) and count >= 0):
        raise MalformedAnomaly(f"count must be a non-negative integer, got {count!r}")
    samples = doc.get("samples") or []
    if isinstance(samples, str):
        # Flink SQL builds the samples as JSON text (a STRING column of the sink table).
        try:
            samples = json.loads(samples)
        except json.JSONDecodeError as exc:
            raise MalformedAnomaly(f"samples is text but not a JSON list: {exc}") from exc
    if not isinstance(samples, list):
        raise MalformedAnomaly(f"samples must be a list, got {type(samples).__name__}")
    return Anomaly(
        rule=rule,
        window_start=start,
        window_end=end,
        count=count,
        user_id=user_id,
        samples=samples[:MAX_SAMPLES],
    )


def user_payloads(record: Mapping[str, Any]) -> Iterator[bytes]:
    """The payloads of one Lambda Kinesis record, de-aggregating KPL-aggregated records.

    `record` has the Lambda event shape (`{"kinesis": {"data": <base64>, ...}, ...}`).
    """
    raw = base64.b64decode(record["kinesis"]["data"])
    if not raw.startswith(KPL_MAGIC):
        yield raw
        return
    from aws_kinesis_agg.deaggregator import iter_deaggregate_records

    found = False
    for user_record in iter_deaggregate_records(dict(record)):
        found = True
        yield base64.b64decode(user_record["kinesis"]["data"])
    if not found:
        # The de-aggregator prints and swallows a broken aggregate: refuse it loudly instead.
        raise MalformedAnomaly("KPL aggregate holds no readable user record")


def offender_key(anomaly: Anomaly) -> tuple[str, str]:
    """(pk, sk) of the offender item: one per offender, rule and event-time window.

    The key is made only of the anomaly's own fields, so replaying the same anomaly hits the
    same item and the conditional put makes it a no-op.
    """
    return (
        anomaly.offender,
        f"rule#{anomaly.rule}#window#{iso_utc(anomaly.window_start)}#{iso_utc(anomaly.window_end)}",
    )


def cooldown_key(anomaly: Anomaly) -> tuple[str, str]:
    """(pk, sk) of the per-offender cooldown item, shared by all rules."""
    return anomaly.offender, COOLDOWN_SORT_KEY


def incident_key(anomaly: Anomaly) -> tuple[str, str]:
    """(pk, sk) of the offender's item for this rule that chains overlapping windows."""
    return anomaly.offender, f"{INCIDENT_SORT_KEY_PREFIX}{anomaly.rule}"


def expires_at(now: datetime, ttl_days: int) -> int:
    """TTL epoch seconds, counted from the alerting side's clock (replays of old data keep
    their items for the full TTL instead of expiring at once)."""
    return int((now + timedelta(days=ttl_days)).timestamp())


def offender_item(anomaly: Anomaly, detected_at: datetime, ttl_days: int) -> dict[str, Any]:
    """The offender item as plain values (the store turns it into DynamoDB attributes)."""
    pk, sk = offender_key(anomaly)
    item: dict[str, Any] = {
        "pk": pk,
        "sk": sk,
        "rule": anomaly.rule,
        "window_start": iso_utc(anomaly.window_start),
        "window_end": iso_utc(anomaly.window_end),
        "count": anomaly.count,
        # Samples are kept as JSON text: prices are floats, which DynamoDB numbers reject.
        "samples": json.dumps(anomaly.samples, separators=(",", ":"), sort_keys=True),
        "detected_at": iso_utc(detected_at),
        "expires_at": expires_at(detected_at, ttl_days),
    }
    if anomaly.user_id is not None:
        item["user_id"] = anomaly.user_id
    return item


def alert_message(anomaly: Anomaly, detected_at: datetime) -> tuple[str, str]:
    """(subject, body) of the SNS alert; the body is JSON so machines can read it too."""
    who = "the platform" if anomaly.user_id is None else f"user {anomaly.user_id}"
    subject = f"ecomm alert: {anomaly.rule} by {who}"
    body: dict[str, Any] = {
        "rule": anomaly.rule,
        "window_start": iso_utc(anomaly.window_start),
        "window_end": iso_utc(anomaly.window_end),
        "count": anomaly.count,
        "samples": anomaly.samples,
        "detected_at": iso_utc(detected_at),
    }
    if anomaly.user_id is not None:
        body = {"user_id": anomaly.user_id, **body}
    return subject[:100], json.dumps(body, separators=(",", ":"), sort_keys=True)

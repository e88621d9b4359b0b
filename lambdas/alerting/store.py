"""DynamoDB I/O of the alerting Lambda: idempotent offender items and the per-user cooldown.

Both writes are conditional, so a replay, a retried batch or two concurrent invocations can
never write an offender twice or send two alerts inside one cooldown.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from .offenders import Anomaly, cooldown_key, expires_at, iso_utc


def _attribute(value: Any) -> dict[str, str]:
    if isinstance(value, bool):
        raise TypeError("booleans are not stored in offender items")
    if isinstance(value, int | float):
        return {"N": str(value)}
    return {"S": str(value)}


def to_attributes(item: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Plain values to the DynamoDB attribute-value map (strings and numbers only)."""
    return {name: _attribute(value) for name, value in item.items()}


def _condition_failed(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


class OffenderStore:
    """The offenders table, through a low-level DynamoDB client (any endpoint, any session)."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    def put_offender(self, item: Mapping[str, Any]) -> bool:
        """Write the item unless its key exists; True when it was new."""
        try:
            self._db.put_item(
                TableName=self._table,
                Item=to_attributes(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def delete_offender(self, item: Mapping[str, Any]) -> None:
        """Undo `put_offender` (only our own write) so a retried record is processed afresh."""
        try:
            self._db.delete_item(
                TableName=self._table,
                Key=to_attributes({"pk": item["pk"], "sk": item["sk"]}),
                ConditionExpression="detected_at = :mine",
                ExpressionAttributeValues={":mine": {"S": item["detected_at"]}},
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise

    def claim_cooldown(
        self, anomaly: Anomaly, now: datetime, cooldown_seconds: int, ttl_days: int
    ) -> float | None:
        """Take the offender's alert slot if the last alert is older than the cooldown.

        Returns the previous alert time in epoch seconds (0.0 when there was none) when the
        slot was taken, or None when an alert went out within the cooldown. The clock is the
        alerting side's, not the events', so a fast replay cannot multiply messages.
        """
        pk, sk = cooldown_key(anomaly)
        now_s = now.timestamp()
        try:
            answer = self._db.update_item(
                TableName=self._table,
                Key=to_attributes({"pk": pk, "sk": sk}),
                UpdateExpression="SET notified_at = :now, notified_iso = :iso, expires_at = :exp",
                ConditionExpression="attribute_not_exists(notified_at) OR notified_at <= :cutoff",
                ExpressionAttributeValues=to_attributes(
                    {
                        ":now": now_s,
                        ":iso": iso_utc(now),
                        ":exp": expires_at(now, ttl_days),
                        ":cutoff": now_s - cooldown_seconds,
                    }
                ),
                ReturnValues="UPDATED_OLD",
            )
        except ClientError as error:
            if _condition_failed(error):
                return None
            raise
        old = answer.get("Attributes", {}).get("notified_at", {}).get("N")
        return float(old) if old is not None else 0.0

    def release_cooldown(self, anomaly: Anomaly, now: datetime, previous: float) -> None:
        """Give the slot back after a failed publish, unless someone else took it since."""
        pk, sk = cooldown_key(anomaly)
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_attributes({"pk": pk, "sk": sk}),
                UpdateExpression="SET notified_at = :previous",
                ConditionExpression="notified_at = :mine",
                ExpressionAttributeValues=to_attributes(
                    {":previous": previous, ":mine": now.timestamp()}
                ),
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise

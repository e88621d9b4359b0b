"""DynamoDB I/O of the alerting Lambda: idempotent offender items and the per-user cooldown
(`OffenderStore`), and the blocks and allowlist of the mitigation table (`MitigationStore`, also
read by the storefront's lookup function, lambdas/blocks).

Every write is conditional, so a replay, a retried batch or two concurrent invocations can
never write an offender twice, send two alerts inside one cooldown or shorten a block.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from .mitigation import BlockStatus, allowlisted, mitigation_key, status_from_item
from .offenders import Anomaly, cooldown_key, expires_at, incident_key, iso_utc


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

    def advance_incident(
        self, anomaly: Anomaly, now: datetime, ttl_days: int
    ) -> tuple[bool, float | None]:
        """Record the anomaly's window as the latest of its offender and rule.

        Returns (continued, previous end in epoch seconds or None). `continued` is True when
        the window overlaps one already recorded for the same offender and rule (a hopping
        window re-reporting the same offence, or an older window arriving late): that offence
        was already alerted. Tumbling windows never overlap, so for them it is always False.
        """
        pk, sk = incident_key(anomaly)
        end = anomaly.window_end.timestamp()
        try:
            answer = self._db.update_item(
                TableName=self._table,
                Key=to_attributes({"pk": pk, "sk": sk}),
                UpdateExpression="SET through = :end, expires_at = :exp",
                ConditionExpression="attribute_not_exists(through) OR through < :end",
                ExpressionAttributeValues=to_attributes(
                    {":end": end, ":exp": expires_at(now, ttl_days)}
                ),
                ReturnValues="UPDATED_OLD",
            )
        except ClientError as error:
            if _condition_failed(error):  # a window ending no later was recorded: it overlaps
                return True, None
            raise
        old = answer.get("Attributes", {}).get("through", {}).get("N")
        previous = float(old) if old is not None else None
        return previous is not None and previous > anomaly.window_start.timestamp(), previous

    def restore_incident(self, anomaly: Anomaly, previous: float | None) -> None:
        """Undo `advance_incident` after a failed alert, unless a later window moved it since,
        so the retried record is alerted."""
        pk, sk = incident_key(anomaly)
        mine = {":mine": anomaly.window_end.timestamp()}
        try:
            if previous is None:
                self._db.delete_item(
                    TableName=self._table,
                    Key=to_attributes({"pk": pk, "sk": sk}),
                    ConditionExpression="through = :mine",
                    ExpressionAttributeValues=to_attributes(mine),
                )
            else:
                self._db.update_item(
                    TableName=self._table,
                    Key=to_attributes({"pk": pk, "sk": sk}),
                    UpdateExpression="SET through = :previous",
                    ConditionExpression="through = :mine",
                    ExpressionAttributeValues=to_attributes({**mine, ":previous": previous}),
                )
        except ClientError as error:
            if not _condition_failed(error):
                raise


class MitigationStore:
    """The mitigation table (one item per user: block and allowlist entry), through a low-level
    DynamoDB client."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    def _item(self, user_id: int) -> dict[str, Any] | None:
        # Strongly consistent: an allowlist entry or an unblock counts from the moment the
        # command that wrote it returned.
        answer = self._db.get_item(
            TableName=self._table,
            Key=to_attributes(mitigation_key(user_id)),
            ConsistentRead=True,
        )
        item: dict[str, Any] | None = answer.get("Item")
        return item

    def allowlisted(self, user_id: int, now: datetime) -> bool:
        """Whether an allowlist entry for the user is in force at `now`."""
        return allowlisted(self._item(user_id), now)

    def status(self, user_id: int, now: datetime) -> BlockStatus:
        """The user's block status at `now` (one GetItem: the lookup's only read)."""
        return status_from_item(user_id, self._item(user_id), now)

    def extend_block(self, user_id: int, fields: Mapping[str, Any], now: datetime) -> bool:
        """Set the user's block part to `fields` (from `block_fields`) unless their block
        already ends as late or later, or an allowlist entry is in force at `now`: one
        conditional write, so neither a concurrent `ecomm alerts allow` nor a replay can end
        with an allowlisted user blocked or a block shortened. True when this write set it."""
        if "until" not in fields:
            raise ValueError("a block needs its end (`until`)")
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_attributes(mitigation_key(user_id)),
                UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in fields),
                ConditionExpression=(
                    "(attribute_not_exists(#until) OR #until < :until) AND "
                    "(attribute_not_exists(allowed_at) OR "
                    "(attribute_exists(allowed_until) AND allowed_until <= :now))"
                ),
                # Names as placeholders: `count` and others are DynamoDB reserved words.
                ExpressionAttributeNames={f"#{name}": name for name in fields},
                ExpressionAttributeValues=to_attributes(
                    {
                        **{f":{name}": value for name, value in fields.items()},
                        ":now": now.timestamp(),
                    }
                ),
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True

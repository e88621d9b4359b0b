"""AWS I/O of `ecomm alerts` and the report: the offenders table, the platform's CloudWatch
alarms, and the mitigation table (blocks and allowlist).

Clients are passed in (the emulator's locally, AWS's otherwise). The only writes are the
allowlist entries and block removals of `ecomm alerts allow | unblock`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from ecomm_cli.alerts.mitigation import AllowEntry, Block, mitigation_from_items
from ecomm_cli.alerts.status import (
    OFFENDER_SORT_KEY_PREFIX,
    Alarm,
    Offender,
    alarm_from_api,
    offender_from_item,
)


def _scan(dynamodb: Any, table_name: str, **filters: Any) -> Iterator[dict[str, Any]]:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name, **filters):
        yield from page.get("Items", [])


def read_offender_items(dynamodb: Any, table_name: str) -> list[dict[str, Any]]:
    """Every offender item of the table as DynamoDB returns it (cooldown items skipped).

    A Scan with a key filter: the table holds one item per offender, rule and window with a
    TTL, so it stays small; a time-ordered index would be the next step for a large one.
    """
    return list(
        _scan(
            dynamodb,
            table_name,
            FilterExpression="begins_with(sk, :prefix)",
            ExpressionAttributeValues={":prefix": {"S": OFFENDER_SORT_KEY_PREFIX}},
        )
    )


def read_offenders(dynamodb: Any, table_name: str) -> list[Offender]:
    """Every offender item of the table, as Offenders."""
    offenders = (offender_from_item(item) for item in read_offender_items(dynamodb, table_name))
    return [offender for offender in offenders if offender is not None]


def read_mitigation(dynamodb: Any, table_name: str) -> tuple[list[Block], list[AllowEntry]]:
    """Every block and allowlist entry of the mitigation table (one item per user ever
    blocked or allowlisted, so a Scan stays small), in force or not."""
    return mitigation_from_items(_scan(dynamodb, table_name))


def _block_in(answer: Mapping[str, Any]) -> Block | None:
    blocks, _ = mitigation_from_items([answer["Attributes"]] if "Attributes" in answer else [])
    return blocks[0] if blocks else None


def update_mitigation(dynamodb: Any, table_name: str, update: Mapping[str, Any]) -> Block | None:
    """Apply one UpdateItem to a user's item (`mitigation.allow_update | unblock_update`); the
    block part it replaced or removed (in force or not), or None when there was none."""
    try:
        answer = dynamodb.update_item(TableName=table_name, **update)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return None  # unblock of a user without a block: nothing to do
        raise
    return _block_in(answer)


def read_alarms(cloudwatch: Any, name_prefix: str) -> list[Alarm]:
    """The platform's metric alarms (every alarm Terraform named `<name_prefix>-...`)."""
    paginator = cloudwatch.get_paginator("describe_alarms")
    alarms: list[Alarm] = []
    for page in paginator.paginate(AlarmNamePrefix=f"{name_prefix}-", AlarmTypes=["MetricAlarm"]):
        alarms += [alarm_from_api(alarm) for alarm in page.get("MetricAlarms", [])]
    return sorted(alarms, key=lambda alarm: alarm.name)

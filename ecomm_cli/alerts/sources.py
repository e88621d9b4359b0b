"""AWS reads of `ecomm alerts`: the offenders table and the platform's CloudWatch alarms.

Clients are passed in (the emulator's locally, AWS's otherwise); only reads, never writes.
"""

from __future__ import annotations

from typing import Any

from ecomm_cli.alerts.status import (
    OFFENDER_SORT_KEY_PREFIX,
    Alarm,
    Offender,
    alarm_from_api,
    offender_from_item,
)


def read_offenders(dynamodb: Any, table_name: str) -> list[Offender]:
    """Every offender item of the table (the per-user cooldown items are skipped).

    A Scan with a key filter: the table holds one item per offender, rule and window with a
    TTL, so it stays small; a time-ordered index would be the next step for a large one.
    """
    paginator = dynamodb.get_paginator("scan")
    offenders: list[Offender] = []
    pages = paginator.paginate(
        TableName=table_name,
        FilterExpression="begins_with(sk, :prefix)",
        ExpressionAttributeValues={":prefix": {"S": OFFENDER_SORT_KEY_PREFIX}},
    )
    for page in pages:
        for item in page.get("Items", []):
            offender = offender_from_item(item)
            if offender is not None:
                offenders.append(offender)
    return offenders


def read_alarms(cloudwatch: Any, name_prefix: str) -> list[Alarm]:
    """The platform's metric alarms (every alarm Terraform named `<name_prefix>-...`)."""
    paginator = cloudwatch.get_paginator("describe_alarms")
    alarms: list[Alarm] = []
    for page in paginator.paginate(AlarmNamePrefix=f"{name_prefix}-", AlarmTypes=["MetricAlarm"]):
        alarms += [alarm_from_api(alarm) for alarm in page.get("MetricAlarms", [])]
    return sorted(alarms, key=lambda alarm: alarm.name)

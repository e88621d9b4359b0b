"""`ecomm alerts check | list` against a moto server holding what the Lambda writes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from alerting.offenders import Anomaly, offender_item
from alerting.store import OffenderStore
from typer.testing import CliRunner

from ecomm_cli.app import app

pytestmark = pytest.mark.aws
runner = CliRunner()
REGION = "eu-west-1"


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def stack(moto_endpoint: str, isolated_environment: Path) -> dict[str, Any]:
    """A table and alarms named like the local stack's, and its stack record pointing at them."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    table = f"{prefix}-offenders"
    _client("dynamodb", moto_endpoint).create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    cloudwatch = _client("cloudwatch", moto_endpoint)
    for name in (f"{prefix}-dlq-depth", f"{prefix}-lambda-errors", "someone-else-alarm"):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="Errors",
            Namespace="AWS/Lambda",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
        )
    record = isolated_environment / "local" / "stack.json"
    record.parent.mkdir(parents=True)
    record.write_text(
        json.dumps(
            {
                "endpoint_url": moto_endpoint,
                "outputs": {"offenders_table": table, "name_prefix": prefix, "region": REGION},
            }
        )
    )
    return {"table": table, "prefix": prefix, "endpoint": moto_endpoint}


def _record_offender(stack: dict[str, Any], user_id: int, detected_at: datetime) -> None:
    anomaly = Anomaly(
        rule="flood",
        window_start=datetime(2019, 10, 1, tzinfo=UTC),
        window_end=datetime(2019, 10, 1, 0, 0, 10, tzinfo=UTC),
        count=33,
        user_id=user_id,
    )
    store = OffenderStore(_client("dynamodb", stack["endpoint"]), stack["table"])
    assert store.put_offender(offender_item(anomaly, detected_at, ttl_days=30))
    store.claim_cooldown(anomaly, detected_at, 900, 30)  # the cooldown item shares the table


def test_quiet_is_exit_0(stack: dict[str, Any]) -> None:
    _record_offender(stack, 1, datetime.now(UTC) - timedelta(hours=3))
    result = runner.invoke(app, ["alerts", "check", "--since", "1h", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["firing"] is False and report["offenders"] == []
    assert sorted(a["name"] for a in report["alarms"]) == [
        f"{stack['prefix']}-dlq-depth",
        f"{stack['prefix']}-lambda-errors",
    ]
    table = runner.invoke(app, ["alerts", "check", "--since", "1h"])
    assert table.exit_code == 0 and "quiet" in table.output


def test_a_recent_offender_fires(stack: dict[str, Any]) -> None:
    _record_offender(stack, 1, datetime.now(UTC) - timedelta(hours=3))
    _record_offender(stack, 2, datetime.now(UTC) - timedelta(minutes=5))
    result = runner.invoke(app, ["alerts", "check", "--since", "15m"])
    assert result.exit_code == 1, result.output
    assert "user#2" in result.output and "user#1" not in result.output
    wider = runner.invoke(app, ["alerts", "check", "--since", "1d", "--format", "json"])
    assert wider.exit_code == 1
    assert [o["user_id"] for o in json.loads(wider.output)["offenders"]] == [2, 1]


def test_an_alarm_in_alarm_fires(stack: dict[str, Any]) -> None:
    _client("cloudwatch", stack["endpoint"]).set_alarm_state(
        AlarmName=f"{stack['prefix']}-dlq-depth", StateValue="ALARM", StateReason="DLQ not empty"
    )
    result = runner.invoke(app, ["alerts", "check"])
    assert result.exit_code == 1, result.output
    assert f"{stack['prefix']}-dlq-depth" in result.output and "1 of 2 alarms" in result.output


def test_list_is_the_history_newest_first(stack: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    for user, age in ((1, timedelta(days=3)), (2, timedelta(minutes=1)), (3, timedelta(hours=2))):
        _record_offender(stack, user, now - age)
    result = runner.invoke(app, ["alerts", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [o["user_id"] for o in json.loads(result.output)] == [2, 3, 1]
    limited = runner.invoke(app, ["alerts", "list", "--limit", "1"])
    assert limited.exit_code == 0 and "1 offenders (of 3)" in limited.output

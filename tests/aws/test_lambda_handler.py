"""The alerting Lambda's handler against moto (mock_aws): DynamoDB (offenders and mitigation
tables), SNS and an SQS subscriber.

The SQS queue subscribed to the alerts topic (raw delivery) is how the tests observe exactly
which SNS messages went out.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from alerting import handler
from alerting.handler import Dependencies, dependencies_from_environment
from alerting.mitigation import block_fields
from alerting.notify import AlertPublisher
from alerting.store import MitigationStore, OffenderStore
from aws_kinesis_agg.aggregator import RecordAggregator
from aws_lambda_powertools import Metrics
from moto import mock_aws

pytestmark = pytest.mark.aws

REGION = "eu-west-1"
TABLE = "ecomm-test-offenders"
MITIGATION = "ecomm-test-mitigation"
BLOCKS = {"flood": 3600, "scraper": 86400, "sustained_volume": 7200, "traffic_spike": 0}
NAMESPACE = "ecomm-test"
COOLDOWN = 900


class Clock:
    """The alerting side's clock, moved by the tests."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Stack:
    dynamodb: Any
    sns: Any
    sqs: Any
    topic_arn: str
    queue_url: str
    clock: Clock

    def deps(self, topic_arn: str | None = None) -> Dependencies:
        return Dependencies(
            store=OffenderStore(self.dynamodb, TABLE),
            publisher=AlertPublisher(self.sns, topic_arn or self.topic_arn),
            metrics=Metrics(namespace=NAMESPACE, service=handler.SERVICE),
            metric_namespace=NAMESPACE,
            cooldown_seconds=COOLDOWN,
            ttl_days=30,
            clock=self.clock,
            mitigation=MitigationStore(self.dynamodb, MITIGATION),
            block_seconds=BLOCKS,
        )

    def mitigation(self) -> MitigationStore:
        return MitigationStore(self.dynamodb, MITIGATION)

    def blocks(self) -> dict[str, dict[str, Any]]:
        """The users' items that hold a block part (in force or not)."""
        items = self.dynamodb.scan(TableName=MITIGATION)["Items"]
        return {i["pk"]["S"]: i for i in items if "until" in i}

    def allow(self, user_id: int, until: datetime | None = None) -> None:
        """An allowlist entry as `ecomm alerts allow` writes it (the contract test of the
        CLI's writes is tests/aws/test_alerts_mitigation.py)."""
        item = {
            "pk": {"S": f"user#{user_id}"},
            "sk": {"S": "mitigation"},
            "allowed_at": {"S": "2026-01-01T00:00:00Z"},
            "allowed_by": {"S": "arn:aws:iam::123456789012:user/support"},
        }
        if until is not None:
            item["allowed_until"] = {"N": str(int(until.timestamp()))}
        self.dynamodb.put_item(TableName=MITIGATION, Item=item)

    def messages(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            batch = answer.get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def offenders(self) -> list[dict[str, Any]]:
        items = self.dynamodb.scan(TableName=TABLE)["Items"]
        offenders = (i for i in items if i["sk"]["S"].startswith("rule#"))
        return sorted(offenders, key=lambda i: i["sk"]["S"])


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        for table in (TABLE, MITIGATION):
            dynamodb.create_table(
                TableName=table,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
            )
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic_arn = sns.create_topic(Name="ecomm-test-alerts")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="alerts-observer")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        test_stack = Stack(dynamodb, sns, sqs, topic_arn, queue_url, Clock())
        handler.configure(test_stack.deps())
        yield test_stack
        handler.configure(None)


def anomaly(user_id: int | None = 42, rule: str = "flood", start_s: int = 0, length_s: int = 10):
    start = datetime(2019, 10, 1, tzinfo=UTC) + timedelta(seconds=start_s)
    doc: dict[str, Any] = {
        "rule": rule,
        "window_start": start.isoformat().replace("+00:00", "Z"),
        "window_end": (start + timedelta(seconds=length_s)).isoformat().replace("+00:00", "Z"),
        "count": 31,
        "samples": [{"event_type": "view", "product_id": 1, "price": 9.99}],
    }
    if user_id is not None:
        doc["user_id"] = user_id
    return json.dumps(doc).encode()


def event(*payloads: bytes) -> dict[str, Any]:
    """A Lambda Kinesis event as the event source mapping delivers it."""
    return {
        "Records": [
            {
                "eventSource": "aws:kinesis",
                "eventSourceARN": f"arn:aws:kinesis:{REGION}:123456789012:stream/anomalies",
                "eventID": f"shardId-000000000000:{n}",
                "awsRegion": REGION,
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "p",
                    "sequenceNumber": str(1000 + n),
                    "approximateArrivalTimestamp": 1767225600.0,
                    "data": base64.b64encode(data).decode(),
                },
            }
            for n, data in enumerate(payloads)
        ]
    }


def test_a_new_offender_is_written_and_alerted_once(stack: Stack) -> None:
    response = handler.lambda_handler(event(anomaly()), None)

    assert response == {"batchItemFailures": []}
    [item] = stack.offenders()
    assert item["pk"]["S"] == "user#42"
    assert item["sk"]["S"] == "rule#flood#window#2019-10-01T00:00:00Z#2019-10-01T00:00:10Z"
    assert item["count"]["N"] == "31"
    assert int(item["expires_at"]["N"]) == int((stack.clock.now + timedelta(days=30)).timestamp())
    [message] = stack.messages()
    assert message["user_id"] == 42 and message["rule"] == "flood"


def test_replaying_the_same_anomalies_writes_and_notifies_nothing_new(stack: Stack) -> None:
    batch = event(anomaly(), anomaly(user_id=7, rule="scraper", length_s=60))
    handler.lambda_handler(batch, None)
    first_items, first_messages = stack.offenders(), stack.messages()
    # Replayed long after the cooldown: still nothing, because the windows are the same.
    stack.clock.now += timedelta(seconds=COOLDOWN * 10)

    response = handler.lambda_handler(batch, None)

    assert response == {"batchItemFailures": []}
    assert len(first_items) == 2 and len(first_messages) == 2
    assert stack.offenders() == first_items
    assert stack.messages() == []


def test_a_poison_record_is_the_only_batch_item_failure(stack: Stack) -> None:
    batch = event(anomaly(user_id=1), b'{"rule": "flood", "count": "many"}', anomaly(user_id=2))

    response = handler.lambda_handler(batch, None)

    assert response == {"batchItemFailures": [{"itemIdentifier": "1001"}]}
    assert [i["pk"]["S"] for i in stack.offenders()] == ["user#1", "user#2"]
    assert len(stack.messages()) == 2


def test_a_batch_of_only_poison_is_reported_record_by_record(stack: Stack) -> None:
    response = handler.lambda_handler(event(b"garbage", b"{}"), None)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": "1000"}, {"itemIdentifier": "1001"}]
    }
    assert stack.offenders() == []


def test_one_message_per_offender_per_cooldown_across_rules_and_windows(stack: Stack) -> None:
    burst = event(
        anomaly(start_s=0),
        anomaly(start_s=10),
        anomaly(rule="scraper", start_s=0, length_s=60),
        anomaly(user_id=None, rule="traffic_spike"),
    )
    handler.lambda_handler(burst, None)
    assert len(stack.offenders()) == 4
    messages = stack.messages()
    assert sorted(m.get("user_id", -1) for m in messages) == [-1, 42]

    stack.clock.now += timedelta(seconds=COOLDOWN - 1)
    handler.lambda_handler(event(anomaly(start_s=20)), None)
    assert stack.messages() == []

    stack.clock.now += timedelta(seconds=1)
    handler.lambda_handler(event(anomaly(start_s=30)), None)
    [late] = stack.messages()
    assert late["window_start"] == "2019-10-01T00:00:30Z"
    assert len(stack.offenders()) == 6


def test_a_kpl_aggregated_record_is_de_aggregated(stack: Stack) -> None:
    aggregator = RecordAggregator()
    aggregator.add_user_record("a", anomaly(user_id=5))
    aggregator.add_user_record("b", anomaly(user_id=6))
    _pk, _ehk, data = aggregator.clear_and_get().get_contents()

    response = handler.lambda_handler(event(data), None)

    assert response == {"batchItemFailures": []}
    assert [i["pk"]["S"] for i in stack.offenders()] == ["user#5", "user#6"]
    assert len(stack.messages()) == 2


def test_a_failed_publish_undoes_the_writes_so_the_retry_alerts(stack: Stack) -> None:
    missing_topic = stack.topic_arn + "-missing"
    handler.configure(stack.deps(topic_arn=missing_topic))

    response = handler.lambda_handler(event(anomaly()), None)

    assert response == {"batchItemFailures": [{"itemIdentifier": "1000"}]}
    assert stack.offenders() == []
    handler.configure(stack.deps())
    assert handler.lambda_handler(event(anomaly()), None) == {"batchItemFailures": []}
    assert len(stack.offenders()) == 1
    assert len(stack.messages()) == 1


class ThrottledCooldownStore(OffenderStore):
    """The real store, with the cooldown write failing as a throttled DynamoDB call would."""

    def claim_cooldown(self, *args: Any, **kwargs: Any) -> float | None:
        raise RuntimeError("ProvisionedThroughputExceededException")


def test_a_failed_cooldown_claim_undoes_the_offender_write(stack: Stack) -> None:
    deps = stack.deps()
    deps.store = ThrottledCooldownStore(stack.dynamodb, TABLE)
    handler.configure(deps)

    assert handler.lambda_handler(event(anomaly()), None) == {
        "batchItemFailures": [{"itemIdentifier": "1000"}]
    }
    assert stack.offenders() == []
    handler.configure(stack.deps())
    assert handler.lambda_handler(event(anomaly()), None) == {"batchItemFailures": []}
    assert len(stack.offenders()) == 1 and len(stack.messages()) == 1


def test_metrics_are_emf_with_rule_as_the_only_extra_dimension(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    handler.lambda_handler(event(anomaly(), anomaly(), b"bad"), None)

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    metrics: dict[str, list[str]] = {}
    for blob in blobs:
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == NAMESPACE
            dimensions = sorted({d for group in directive["Dimensions"] for d in group})
            assert set(dimensions) <= {"service", "rule"}
            for metric in directive["Metrics"]:
                metrics[metric["Name"]] = dimensions
                assert "user_id" not in blob and "offender" not in blob
    assert metrics["OffendersByRule"] == ["rule", "service"]
    assert metrics["Offenders"] == ["service"]
    totals = next(b for b in blobs if "Offenders" in b and "rule" not in b)

    def total(name: str) -> float:
        value = totals[name]
        return float(sum(value)) if isinstance(value, list) else float(value)

    assert total("Offenders") == 1
    assert total("DuplicateAnomalies") == 1
    assert total("MalformedAnomalies") == 1


def test_dependencies_come_from_the_terraform_environment(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFENDERS_TABLE", TABLE)
    monkeypatch.setenv("ALERTS_TOPIC_ARN", stack.topic_arn)
    monkeypatch.setenv("ALERT_COOLDOWN_SECONDS", "60")
    monkeypatch.setenv("OFFENDERS_TTL_DAYS", "7")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)
    monkeypatch.setenv("MITIGATION_TABLE", MITIGATION)
    monkeypatch.setenv("BLOCK_SECONDS", json.dumps({"flood": 120}))
    handler.configure(None)

    assert handler.lambda_handler(event(anomaly()), None) == {"batchItemFailures": []}
    deps = handler._current()
    assert (deps.cooldown_seconds, deps.ttl_days) == (60, 7)
    assert deps.block_seconds == {"flood": 120}
    assert len(stack.offenders()) == 1 and len(stack.messages()) == 1
    assert set(stack.blocks()) == {"user#42"}


def test_a_missing_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OFFENDERS_TABLE", raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)
    with pytest.raises(RuntimeError, match="OFFENDERS_TABLE"):
        dependencies_from_environment()


# --- blocks and the allowlist ------------------------------------------------------------------


def test_an_offender_is_blocked_for_the_rules_duration_and_the_block_ends_at_until(
    stack: Stack,
) -> None:
    assert handler.lambda_handler(event(anomaly()), None) == {"batchItemFailures": []}

    [block] = stack.blocks().values()
    until = stack.clock.now + timedelta(seconds=BLOCKS["flood"])
    assert int(block["until"]["N"]) == int(until.timestamp())
    assert block["rule"]["S"] == "flood" and block["count"]["N"] == "31"
    status = stack.mitigation().status(42, stack.clock.now)
    assert status.blocked and status.rule == "flood" and status.until == "2026-01-01T01:00:00Z"
    # No TTL on the emulator: the item is still there, and no longer counts.
    assert stack.mitigation().status(42, until - timedelta(seconds=1)).blocked
    assert not stack.mitigation().status(42, until).blocked
    assert len(stack.blocks()) == 1


def test_the_longest_block_wins_and_a_replay_never_moves_it(stack: Stack) -> None:
    handler.lambda_handler(event(anomaly(rule="scraper", length_s=60)), None)
    stack.clock.now += timedelta(minutes=5)
    handler.lambda_handler(event(anomaly(start_s=60)), None)  # flood: a shorter block
    [block] = stack.blocks().values()
    assert block["rule"]["S"] == "scraper"
    first_until = block["until"]["N"]

    stack.clock.now += timedelta(hours=2)
    handler.lambda_handler(event(anomaly(rule="scraper", length_s=60)), None)  # the same window
    assert stack.blocks()["user#42"]["until"]["N"] == first_until


def test_a_new_offence_after_the_block_ended_blocks_again(stack: Stack) -> None:
    handler.lambda_handler(event(anomaly()), None)
    stack.clock.now += timedelta(seconds=BLOCKS["flood"] + 1)
    assert not stack.mitigation().status(42, stack.clock.now).blocked

    handler.lambda_handler(event(anomaly(start_s=3600)), None)

    status = stack.mitigation().status(42, stack.clock.now)
    assert status.blocked and status.rule == "flood"


def test_platform_wide_and_alert_only_anomalies_block_nobody(stack: Stack) -> None:
    handler.lambda_handler(event(anomaly(user_id=None, rule="traffic_spike")), None)
    handler.lambda_handler(event(anomaly(user_id=8, rule="cart_stuffer")), None)  # not in BLOCKS
    assert stack.blocks() == {}
    assert len(stack.offenders()) == 2 and len(stack.messages()) == 2


def test_an_allowlisted_user_is_never_blocked_recorded_or_alerted(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.allow(42)
    batch = event(anomaly(), anomaly(rule="scraper", length_s=60), anomaly(user_id=7))

    assert handler.lambda_handler(batch, None) == {"batchItemFailures": []}

    assert set(stack.blocks()) == {"user#7"}
    assert [i["pk"]["S"] for i in stack.offenders()] == ["user#7"]
    assert [m["user_id"] for m in stack.messages()] == [7]
    assert "AllowlistedAnomalies" in capsys.readouterr().out


def test_an_allowlist_entry_ends_at_its_until(stack: Stack) -> None:
    stack.allow(42, until=stack.clock.now + timedelta(hours=1))
    handler.lambda_handler(event(anomaly()), None)
    assert stack.blocks() == {} and stack.messages() == []

    stack.clock.now += timedelta(hours=1)
    handler.lambda_handler(event(anomaly(start_s=10)), None)

    assert set(stack.blocks()) == {"user#42"}
    assert len(stack.messages()) == 1


def test_a_failed_publish_keeps_the_block_and_the_retry_alerts_once(stack: Stack) -> None:
    handler.configure(stack.deps(topic_arn=stack.topic_arn + "-missing"))
    assert handler.lambda_handler(event(anomaly()), None) == {
        "batchItemFailures": [{"itemIdentifier": "1000"}]
    }
    # Protection does not wait for the e-mail: the block holds, the offender item is undone.
    assert stack.offenders() == []
    until = stack.blocks()["user#42"]["until"]["N"]

    handler.configure(stack.deps())
    stack.clock.now += timedelta(seconds=30)  # the mapping's retry
    assert handler.lambda_handler(event(anomaly()), None) == {"batchItemFailures": []}
    assert len(stack.offenders()) == 1 and len(stack.messages()) == 1
    assert int(stack.blocks()["user#42"]["until"]["N"]) == int(until) + 30


class FailingBlocks(MitigationStore):
    """The real store, with the block write failing as a throttled DynamoDB call would."""

    def extend_block(self, *args: Any) -> bool:
        raise RuntimeError("ProvisionedThroughputExceededException")


def test_a_failed_block_write_undoes_the_offender_so_the_retry_blocks(stack: Stack) -> None:
    deps = stack.deps()
    deps.mitigation = FailingBlocks(stack.dynamodb, MITIGATION)
    handler.configure(deps)
    assert handler.lambda_handler(event(anomaly()), None) == {
        "batchItemFailures": [{"itemIdentifier": "1000"}]
    }
    assert stack.offenders() == [] and stack.messages() == []

    handler.configure(stack.deps())
    assert handler.lambda_handler(event(anomaly()), None) == {"batchItemFailures": []}
    assert set(stack.blocks()) == {"user#42"} and len(stack.messages()) == 1


def test_a_block_write_racing_an_allowlisting_never_blocks(stack: Stack) -> None:
    """The allowlist entry lands between the handler's check and its block write: the block
    write is conditional on the same item, so it does nothing."""
    store = stack.mitigation()
    stack.allow(42)
    anomaly_ = handler.parse_anomaly(anomaly())
    assert not store.extend_block(
        42, block_fields(anomaly_, stack.clock.now, 3600), stack.clock.now
    )
    assert stack.blocks() == {}


def test_the_overlapping_windows_of_a_hopping_rule_alert_once_and_keep_the_block_going(
    stack: Stack,
) -> None:
    """A sustained bot fires in 12 overlapping hour windows, one every 5 minutes (also on the
    alerting side's clock, past the cooldown): one alert, 12 offender items, and a block that
    runs the rule's duration from the last window that still showed the offence."""
    hour, slide = 3600, 300
    for n in range(12):
        window = anomaly(rule="sustained_volume", start_s=n * slide, length_s=hour)
        assert handler.lambda_handler(event(window), None) == {"batchItemFailures": []}
        if n < 11:
            stack.clock.now += timedelta(seconds=slide)
    [message] = stack.messages()
    assert message["rule"] == "sustained_volume" and message["window_start"].endswith("00:00:00Z")
    assert len(stack.offenders()) == 12
    until = stack.clock.now + timedelta(seconds=BLOCKS["sustained_volume"])
    assert int(stack.blocks()["user#42"]["until"]["N"]) == int(until.timestamp())

    # A late window overlapping the recorded ones is the same offence too.
    handler.lambda_handler(
        event(anomaly(rule="sustained_volume", start_s=-slide, length_s=hour)), None
    )
    assert stack.messages() == []

    # The bot comes back after a gap: a window that overlaps none recorded is a new offence.
    stack.clock.now += timedelta(hours=3)
    back = anomaly(rule="sustained_volume", start_s=11 * slide + 2 * hour, length_s=hour)
    handler.lambda_handler(event(back), None)
    [again] = stack.messages()
    assert again["rule"] == "sustained_volume"


def test_a_failed_publish_of_a_hopping_window_lets_the_retry_alert(stack: Stack) -> None:
    window = anomaly(rule="sustained_volume", length_s=3600)
    handler.configure(stack.deps(topic_arn=stack.topic_arn + "-missing"))
    assert handler.lambda_handler(event(window), None) == {
        "batchItemFailures": [{"itemIdentifier": "1000"}]
    }
    handler.configure(stack.deps())
    assert handler.lambda_handler(event(window), None) == {"batchItemFailures": []}
    [message] = stack.messages()
    assert message["rule"] == "sustained_volume"

"""The local event source mapping honours AWS's batching and failure semantics."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from ecomm_cli.realtime.event_source_mapping import (
    BatchInvoker,
    EventSourceMappingRunner,
    LambdaContext,
    MappingSettings,
)

pytestmark = pytest.mark.unit
SETTINGS = MappingSettings(
    stream_arn="arn:aws:kinesis:eu-west-1:1:stream/anomalies",
    function_arn="arn:aws:lambda:eu-west-1:1:function:alerting",
    batch_size=10,
    maximum_retry_attempts=2,
)
CONTEXT = LambdaContext("alerting", SETTINGS.function_arn)


def _records(payloads: list[bytes]) -> list[dict[str, Any]]:
    return [
        {
            "kinesis": {
                "sequenceNumber": f"{i:05d}",
                "data": base64.b64encode(p).decode(),
                "approximateArrivalTimestamp": 0.0,
            },
            "eventID": f"shardId-000000000000:{i:05d}",
        }
        for i, p in enumerate(payloads)
    ]


def _data(record: dict[str, Any]) -> bytes:
    return base64.b64decode(record["kinesis"]["data"])


class Recorder:
    def __init__(self) -> None:
        self.processed: list[bytes] = []
        self.dlq: list[dict[str, Any]] = []
        self.calls = 0


def test_poison_record_goes_to_dlq_after_bisecting_and_retries() -> None:
    seen = Recorder()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.calls += 1
        data = [_data(r) for r in event["Records"]]
        if b"poison" in data:
            raise ValueError("cannot parse")
        seen.processed += data
        return {"batchItemFailures": []}

    invoker = BatchInvoker(handler, SETTINGS, CONTEXT, seen.dlq.append)
    payloads = [b"a", b"b", b"c", b"poison", b"d", b"e"]
    invoker.process(_records(payloads))
    assert sorted(seen.processed) == [b"a", b"b", b"c", b"d", b"e"]
    assert len(seen.dlq) == 1
    info = seen.dlq[0]["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["batchSize"]) == ("00003", 1)
    assert seen.dlq[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert invoker.report.sent_to_dlq == 1
    assert invoker.report.retries == SETTINGS.maximum_retry_attempts


def test_batch_item_failure_retries_from_the_failed_record_only() -> None:
    seen = Recorder()
    failed_once: set[bytes] = set()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            data = _data(record)
            if data == b"flaky" and data not in failed_once:
                failed_once.add(data)
                failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
                break
            seen.processed.append(data)
        return {"batchItemFailures": failures}

    invoker = BatchInvoker(handler, SETTINGS, CONTEXT, seen.dlq.append)
    invoker.process(_records([b"a", b"flaky", b"b"]))
    assert seen.processed == [b"a", b"flaky", b"b"]
    assert seen.dlq == []
    assert invoker.report.invocations == 2


def test_record_that_always_fails_is_dead_lettered_and_the_rest_continue() -> None:
    seen = Recorder()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            if _data(record) == b"bad":
                return {
                    "batchItemFailures": [{"itemIdentifier": record["kinesis"]["sequenceNumber"]}]
                }
            seen.processed.append(_data(record))
        return {"batchItemFailures": []}

    invoker = BatchInvoker(handler, SETTINGS, CONTEXT, seen.dlq.append)
    invoker.process(_records([b"a", b"bad", b"b"]))
    assert b"b" in seen.processed
    assert [m["KinesisBatchInfo"]["startSequenceNumber"] for m in seen.dlq] == ["00001"]


def test_settings_from_the_lambda_api() -> None:
    mapping = {
        "EventSourceArn": "arn:s",
        "FunctionArn": "arn:f",
        "BatchSize": 50,
        "MaximumBatchingWindowInSeconds": 2,
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 4,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    settings = MappingSettings.from_api(mapping, "http://queue")
    assert (settings.batch_size, settings.maximum_retry_attempts) == (50, 4)
    assert settings.report_batch_item_failures
    assert settings.maximum_batching_window_seconds == 2.0


class OneShardStream:
    """A Kinesis client stand-in: one shard, iterators are positions."""

    def __init__(self, payloads: list[bytes]):
        self.records = [
            {
                "SequenceNumber": f"{i:05d}",
                "Data": p,
                "PartitionKey": "k",
                "ApproximateArrivalTimestamp": datetime(2026, 1, 1, tzinfo=UTC),
            }
            for i, p in enumerate(payloads)
        ]

    def list_shards(self, StreamName: str) -> dict[str, Any]:
        return {"Shards": [{"ShardId": "shardId-000000000000"}]}

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        page = self.records[start : start + Limit]
        return {"Records": page, "NextShardIterator": str(start + len(page))}


def test_a_batch_whose_dead_letter_could_not_be_sent_is_read_again() -> None:
    seen = Recorder()
    dlq_down = [True]

    def send_to_dlq(message: dict[str, Any]) -> None:
        if dlq_down[0]:
            raise RuntimeError("queue unreachable")
        seen.dlq.append(message)

    def handler(event: dict[str, Any], context: Any) -> None:
        data = [_data(r) for r in event["Records"]]
        if b"poison" in data:
            raise ValueError("cannot parse")
        seen.processed += data

    settings = MappingSettings(
        stream_arn=SETTINGS.stream_arn,
        function_arn=SETTINGS.function_arn,
        batch_size=10,
        maximum_retry_attempts=0,
        maximum_batching_window_seconds=0,
    )
    invoker = BatchInvoker(handler, settings, CONTEXT, send_to_dlq)
    runner = EventSourceMappingRunner(
        OneShardStream([b"a", b"poison", b"b"]), invoker, "anomalies", "eu-west-1"
    )
    with pytest.raises(RuntimeError, match="unreachable"):
        runner.poll_once()
    dlq_down[0] = False
    assert runner.poll_once() == 3  # the same batch again, not the next one
    assert len(seen.dlq) == 1
    assert seen.dlq[0]["KinesisBatchInfo"]["startSequenceNumber"] == "00001"
    assert b"b" in seen.processed
    assert runner.poll_once() == 0

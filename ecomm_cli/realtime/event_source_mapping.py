"""What AWS's Kinesis event source mapping does, for a handler called in-process.

moto's mapping calls the function once per record, with no batching, retries or on-failure
destination (and its Lambda invoke needs Docker), so locally this runner plays the mapping with
the settings Terraform gave it (read back from the emulator): batches up to `batch_size` records,
honours `batchItemFailures`, bisects a failing batch, retries up to `maximum_retry_attempts`, then
sends the batch's description to the on-failure SQS queue and moves on, so one poison record
never blocks the shard.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ecomm_cli.kinesis_shards import list_shards

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class MappingSettings:
    """The event source mapping's settings, as declared in the realtime module."""

    stream_arn: str
    function_arn: str
    batch_size: int = 100
    maximum_batching_window_seconds: float = 0.0
    bisect_batch_on_function_error: bool = True
    maximum_retry_attempts: int = 3
    report_batch_item_failures: bool = True
    on_failure_queue_url: str | None = None

    @classmethod
    def from_api(cls, mapping: dict[str, Any], queue_url: str | None) -> MappingSettings:
        """From a Lambda ListEventSourceMappings entry (what Terraform created)."""
        retries = mapping.get("MaximumRetryAttempts")
        return cls(
            stream_arn=mapping["EventSourceArn"],
            function_arn=mapping["FunctionArn"],
            batch_size=int(mapping.get("BatchSize") or 100),
            maximum_batching_window_seconds=float(
                mapping.get("MaximumBatchingWindowInSeconds") or 0
            ),
            bisect_batch_on_function_error=bool(mapping.get("BisectBatchOnFunctionError", True)),
            maximum_retry_attempts=3 if retries in (None, -1) else int(retries),
            report_batch_item_failures="ReportBatchItemFailures"
            in (mapping.get("FunctionResponseTypes") or []),
            on_failure_queue_url=queue_url,
        )


@dataclass
class RunnerReport:
    invocations: int = 0
    records: int = 0
    succeeded: int = 0
    retries: int = 0
    bisections: int = 0
    sent_to_dlq: int = 0
    dlq_messages: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    function_version: str = "$LATEST"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def lambda_record(
    record: dict[str, Any], shard_id: str, stream_arn: str, region: str
) -> dict[str, Any]:
    """A GetRecords record in the shape Lambda hands to a Kinesis-triggered function."""
    arrival = record["ApproximateArrivalTimestamp"]
    arrival_epoch = arrival.timestamp() if isinstance(arrival, datetime) else float(arrival)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(bytes(record["Data"])).decode(),
            "approximateArrivalTimestamp": arrival_epoch,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


class BatchInvoker:
    """Invoke a handler on one batch with AWS's failure semantics; pure, no I/O of its own."""

    def __init__(
        self,
        handler: Handler,
        settings: MappingSettings,
        context: LambdaContext,
        send_to_dlq: Callable[[dict[str, Any]], None],
    ):
        self.handler = handler
        self.settings = settings
        self.context = context
        self.send_to_dlq = send_to_dlq
        self.report = RunnerReport()

    def _invoke(self, records: list[dict[str, Any]]) -> int | None:
        """Index of the first record to retry, or None when the whole batch succeeded.

        Raises when the function itself failed.
        """
        self.report.invocations += 1
        response = self.handler({"Records": records}, self.context)
        if not self.settings.report_batch_item_failures or not isinstance(response, dict):
            return None
        failures = response.get("batchItemFailures") or []
        if not failures:
            return None
        sequence_numbers = [r["kinesis"]["sequenceNumber"] for r in records]
        failed = [f.get("itemIdentifier") for f in failures]
        # An identifier that is empty or unknown fails the whole batch, as on AWS.
        if any(item not in sequence_numbers for item in failed):
            return 0
        return min(sequence_numbers.index(item) for item in failed)

    def _dead_letter(self, records: list[dict[str, Any]], condition: str) -> None:
        first, last = records[0], records[-1]
        shard_id = first["eventID"].split(":", 1)[0]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.settings.function_arn,
                "condition": condition,
                "approximateInvokeCount": self.settings.maximum_retry_attempts + 1,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "KinesisBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["kinesis"]["sequenceNumber"],
                "endSequenceNumber": last["kinesis"]["sequenceNumber"],
                "approximateArrivalOfFirstRecord": first["kinesis"]["approximateArrivalTimestamp"],
                "approximateArrivalOfLastRecord": last["kinesis"]["approximateArrivalTimestamp"],
                "batchSize": len(records),
                "streamArn": self.settings.stream_arn,
            },
        }
        self.send_to_dlq(message)
        self.report.sent_to_dlq += len(records)
        self.report.dlq_messages.append(message)

    def process(self, records: list[dict[str, Any]]) -> None:
        """Deliver `records` (in shard order) until each succeeded or went to the DLQ."""
        self.report.records += len(records)
        self._process(records, attempts=0)

    def _process(self, records: list[dict[str, Any]], attempts: int) -> None:
        while records:
            try:
                retry_from = self._invoke(records)
            except Exception:
                if self.settings.bisect_batch_on_function_error and len(records) > 1:
                    # Halves are retried on their own; bisection does not use up retries.
                    self.report.bisections += 1
                    middle = len(records) // 2
                    self._process(records[:middle], attempts)
                    self._process(records[middle:], attempts)
                    return
                retry_from = 0
            if retry_from is None:
                self.report.succeeded += len(records)
                return
            self.report.succeeded += retry_from
            records = records[retry_from:]
            attempts += 1
            if attempts > self.settings.maximum_retry_attempts:
                self._dead_letter(
                    records[:1] if len(records) > 1 else records, "RetryAttemptsExhausted"
                )
                records, attempts = records[1:], 0
                continue
            self.report.retries += 1


class EventSourceMappingRunner:
    """Poll the stream's shards and feed a BatchInvoker; `kinesis` is a boto3 client."""

    def __init__(self, kinesis: Any, invoker: BatchInvoker, stream_name: str, region: str):
        self.kinesis = kinesis
        self.invoker = invoker
        self.stream_name = stream_name
        self.region = region
        self.iterators: dict[str, str | None] = {}

    def _shards(self) -> list[str]:
        return [s["ShardId"] for s in list_shards(self.kinesis, self.stream_name)]

    def poll_once(self) -> int:
        """One pass over every shard; returns how many records were handed to the function."""
        handled = 0
        settings = self.invoker.settings
        for shard_id in self._shards():
            if shard_id not in self.iterators:
                self.iterators[shard_id] = self.kinesis.get_shard_iterator(
                    StreamName=self.stream_name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self.iterators[shard_id]
            if not iterator:
                continue
            batch: list[dict[str, Any]] = []
            window_ends = time.monotonic() + settings.maximum_batching_window_seconds
            while iterator and len(batch) < settings.batch_size:
                page = self.kinesis.get_records(
                    ShardIterator=iterator, Limit=settings.batch_size - len(batch)
                )
                iterator = page.get("NextShardIterator")
                batch += [
                    lambda_record(r, shard_id, settings.stream_arn, self.region)
                    for r in page["Records"]
                ]
                if not page["Records"] and time.monotonic() >= window_ends:
                    break
                if not page["Records"]:
                    time.sleep(0.05)
            if batch:
                # The iterator moves only once the batch is handled: if handling fails (the
                # DLQ cannot be reached), the next pass reads the same batch again, as AWS
                # retries a shard's batch until it succeeds or expires.
                self.invoker.process(batch)
                handled += len(batch)
            self.iterators[shard_id] = iterator
        return handled

    def drain(self) -> RunnerReport:
        """Poll until a full pass hands nothing to the function."""
        while self.poll_once():
            pass
        return self.invoker.report


def sqs_sender(sqs: Any, queue_url: str | None) -> Callable[[dict[str, Any]], None]:
    """The on-failure destination: one SQS message per failed batch (a no-op without queue)."""

    def send(message: dict[str, Any]) -> None:
        if queue_url:
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))

    return send

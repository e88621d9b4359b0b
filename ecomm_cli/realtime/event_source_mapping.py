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
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ecomm_cli.shard_reader import CommitInMemory, CommitPolicy, Page, ShardReader

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
    """Poll the stream's shards and feed a BatchInvoker; `kinesis` is a boto3 client.

    A shard's position moves only once its batch is handled: if handling fails (the DLQ cannot
    be reached), the next pass reads the same batch again, as AWS retries a shard's batch until
    it succeeds or expires. Positions live in memory unless `commits` keeps them elsewhere.
    """

    def __init__(
        self,
        kinesis: Any,
        invoker: BatchInvoker,
        stream_name: str,
        region: str,
        commits: CommitPolicy | None = None,
    ):
        self.kinesis = kinesis
        self.invoker = invoker
        self.stream_name = stream_name
        self.region = region
        settings = invoker.settings
        self.reader = ShardReader(
            kinesis,
            stream_name,
            commits if commits is not None else CommitInMemory(),
            limit=settings.batch_size,
            batching_window_seconds=settings.maximum_batching_window_seconds,
        )

    def _handle(self, batch: Page) -> None:
        if batch.records:
            stream_arn = self.invoker.settings.stream_arn
            self.invoker.process(
                [lambda_record(r, batch.shard_id, stream_arn, self.region) for r in batch.records]
            )

    def poll_once(self) -> int:
        """One pass over every shard; returns how many records were handed to the function."""
        return self.reader.poll(self._handle)

    def drain(self) -> RunnerReport:
        """Poll until a pass hands nothing to the function and finds every shard caught up."""
        self.reader.drain(self._handle)
        return self.invoker.report

    def follow(
        self,
        should_stop: Callable[[], bool],
        poll_seconds: float,
        retryable: tuple[type[Exception], ...] = (),
        on_error: Callable[[Exception], None] | None = None,
    ) -> RunnerReport:
        """Poll until `should_stop()`; a `retryable` failure is retried on the next pass."""
        self.reader.follow(
            self._handle, should_stop, poll_seconds, retryable=retryable, on_error=on_error
        )
        return self.invoker.report


def sqs_sender(sqs: Any, queue_url: str | None) -> Callable[[dict[str, Any]], None]:
    """The on-failure destination: one SQS message per failed batch (a no-op without queue)."""

    def send(message: dict[str, Any]) -> None:
        if queue_url:
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))

    return send

"""Senders: threads that take requests from the shared shard queues and push them with
PutRecords, retrying what fails, until every event is acknowledged or dead-lettered.

A shard is in at most one request in flight (see shard_queues.py), so per-key and per-shard
order only depend on putting failed events back in front of their shard, which `release`
does. It also avoids concurrent writes to one shard, which moto's shard implementation did not
survive before the project's patch (it derived sequence numbers without a lock).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    EndpointConnectionError,
    HTTPClientError,
)

from ecomm_cli.replay.batching import Entry
from ecomm_cli.replay.checkpoint import Ledger
from ecomm_cli.replay.encode import OutgoingRecord
from ecomm_cli.replay.kept import KeptRows
from ecomm_cli.replay.pacing import Lateness, ThrottleGovernor, backoff_delay
from ecomm_cli.replay.shard_queues import ShardQueues

THROTTLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "LimitExceededException",
        "KMSThrottlingException",
        "RequestLimitExceeded",
    }
)
# Whole-request errors worth retrying; anything else (no stream, no permission) stops the run.
RETRYABLE_REQUEST_CODES = THROTTLE_CODES | {
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
}


class FatalSendError(Exception):
    """An error no retry can fix (the stream is gone, access is denied)."""


class Sender(threading.Thread):
    """One sending thread; it stops when the queues are drained or aborted, and on a fatal
    error it aborts the queues, which stops the reader and the other senders."""

    def __init__(
        self,
        index: int,
        *,
        queues: ShardQueues,
        client_factory: Callable[[], Any],
        stream_name: str,
        ledger: Ledger,
        dead_letters: KeptRows,
        governor: ThrottleGovernor,
        lateness: Lateness | None,
        max_attempts: int,
    ):
        super().__init__(name=f"replay-sender-{index}", daemon=True)
        self._queues = queues
        self._client = client_factory()
        self._stream = stream_name
        self._ledger = ledger
        self._dead_letters = dead_letters
        self._governor = governor
        self._lateness = lateness
        self._max_attempts = max_attempts
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while (request := self._queues.take()) is not None:
                retry = self._send(request.entries) if request.entries else []
                if retry:
                    # Shards whose events all landed go on; the failed ones stay held while
                    # they back off, so nothing overtakes their events.
                    failed = {r.shard for r in retry}
                    self._queues.release_early(
                        request, [s for s in request.shards if s not in failed]
                    )
                    time.sleep(backoff_delay(max(r.attempts for r in retry)))
                self._queues.release(request, retry)
        except BaseException as exc:  # reported by the runner, which stops the run
            self.error = exc
            self._queues.abort()

    def _send(self, entries: list[Entry]) -> list[OutgoingRecord]:
        """Send one request; return its events to retry (after their backoff)."""
        self._governor.before_request()
        if self._lateness is not None:
            now = time.monotonic()
            for entry in entries:
                for record in entry.records:
                    if record.scheduled is not None and not record.attempts:
                        self._lateness.record(record.scheduled, now)
        failed: list[tuple[Entry, str]] = []
        throttled = False
        try:
            answer = self._client.put_records(
                StreamName=self._stream, Records=[e.request_item() for e in entries]
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            if code not in RETRYABLE_REQUEST_CODES and status < 500:
                message = f"PutRecords failed: {code}: {error.get('Message', '')}"
                raise FatalSendError(message) from None
            throttled = code in THROTTLE_CODES
            failed = [(e, f"request failed: {code}: {error.get('Message', '')}") for e in entries]
        except (EndpointConnectionError, ConnectionError, HTTPClientError) as exc:
            failed = [(e, f"request failed: {exc}") for e in entries]
        except BotoCoreError as exc:
            raise FatalSendError(f"PutRecords failed: {exc}") from exc
        else:
            sent: list[OutgoingRecord] = []
            for entry, result in zip(entries, answer["Records"], strict=True):
                code = result.get("ErrorCode")
                if code:
                    throttled = throttled or code in THROTTLE_CODES
                    failed.append((entry, f"{code}: {result.get('ErrorMessage', '')}"))
                else:
                    sent.extend(entry.records)
            if sent:
                self._ledger.sent([r.ordinal for r in sent], sum(r.warned for r in sent))
        self._ledger.add_stats(requests=1, throttles=int(throttled))
        if throttled:
            self._governor.throttled()
        elif not failed:
            self._governor.succeeded()
        return self._retry_or_dead_letter(failed) if failed else []

    def _retry_or_dead_letter(self, failed: list[tuple[Entry, str]]) -> list[OutgoingRecord]:
        retry: list[OutgoingRecord] = []
        for entry, reason in failed:
            for record in entry.records:
                record.attempts += 1
                if record.attempts >= self._max_attempts:
                    self._dead_letter(record, f"{reason} (after {record.attempts} attempts)")
                else:
                    retry.append(record)
        if retry:
            self._ledger.add_stats(retries=len(retry))
        return retry

    def _dead_letter(self, record: OutgoingRecord, reason: str) -> None:
        self._dead_letters.write(
            {
                "ordinal": record.ordinal,
                "partition_key": record.partition_key,
                "reason": reason,
                "event": json.loads(record.data),
            }
        )
        self._ledger.dead_lettered([record.ordinal], int(record.warned))

"""Senders: threads that each own some shards of the stream and push their events with
PutRecords, retrying what fails, until every event is acknowledged or dead-lettered.

Each shard is written by exactly one sender, so per-key order only has to be kept inside one
thread: a failed entry goes back to the front of its sender's window and is resent before any
later event of its key (see batching.py). Owning whole shards also avoids concurrent writes
to one shard, which moto's shard implementation does not survive (it derives sequence numbers
without a lock).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    EndpointConnectionError,
    HTTPClientError,
)

from ecomm_cli.replay.batching import (
    MAX_RECORDS_PER_REQUEST,
    Entry,
    aggregate_entries,
    take_batch,
)
from ecomm_cli.replay.checkpoint import Ledger
from ecomm_cli.replay.encode import OutgoingRecord, ShardMap
from ecomm_cli.replay.kept import KeptRows
from ecomm_cli.replay.pacing import Lateness, ThrottleGovernor, backoff_delay

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
# How many events a sender holds beyond its queue while it builds requests.
WINDOW = 20_000
_END = object()


class FatalSendError(Exception):
    """An error no retry can fix (the stream is gone, access is denied)."""


class Sender(threading.Thread):
    """One sending thread with a bounded queue; `submit` blocks when the sender falls behind,
    which is what bounds the memory of a 40-million-row replay."""

    def __init__(
        self,
        index: int,
        *,
        client_factory: Callable[[], Any],
        stream_name: str,
        ledger: Ledger,
        dead_letters: KeptRows,
        governor: ThrottleGovernor,
        lateness: Lateness | None,
        shards: ShardMap | None,
        max_attempts: int,
        linger: float = 0.05,
        queue_size: int = 4000,
    ):
        super().__init__(name=f"replay-sender-{index}", daemon=True)
        self._client = client_factory()
        self._stream = stream_name
        self._ledger = ledger
        self._dead_letters = dead_letters
        self._governor = governor
        self._lateness = lateness
        self._aggregate_shards = shards
        self._max_attempts = max_attempts
        self._linger = linger
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._attempts: dict[int, int] = {}
        self.error: BaseException | None = None
        self.abort = threading.Event()

    def submit(self, record: OutgoingRecord) -> None:
        """Hand an event to this sender (blocks while its queue is full)."""
        while True:
            if self.error is not None or self.abort.is_set():
                raise FatalSendError(str(self.error or "replay aborted"))
            try:
                self.queue.put(record, timeout=0.2)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        """No more events: send what is left, then stop."""
        while self.is_alive():
            try:
                self.queue.put(_END, timeout=0.2)
                return
            except queue.Full:
                continue

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # reported to the reader thread, which stops the run
            self.error = exc

    def _loop(self) -> None:
        pending: deque[OutgoingRecord] = deque()
        finished = False
        while not self.abort.is_set():
            if not pending and not finished:
                try:
                    # A timeout, so that an aborted run (Ctrl-C) is noticed while idle.
                    item = self.queue.get(timeout=0.2)
                except queue.Empty:
                    continue
                if item is _END:
                    finished = True
                else:
                    pending.append(item)
            # Linger a moment for a fuller request: fewer, larger requests are what makes
            # PutRecords fast; `linger` is short when paced, so events still leave on time.
            # Events left over from the last request (later events of a key just sent, or
            # retries) leave at once: waiting would only add to a burst's lateness.
            leftovers = len(pending) > 1
            deadline = time.monotonic() + (0.0 if leftovers else self._linger)
            while not finished and len(pending) < WINDOW:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    wait = deadline - time.monotonic()
                    if len(pending) >= MAX_RECORDS_PER_REQUEST or wait <= 0:
                        break
                    try:
                        item = self.queue.get(timeout=wait)
                    except queue.Empty:
                        break
                if item is _END:
                    finished = True
                else:
                    pending.append(item)
            if not pending:
                if finished:
                    return
                continue
            if self._aggregate_shards is not None:
                entries = aggregate_entries(pending, self._aggregate_shards)
            else:
                entries = take_batch(pending)
            self._send(entries, pending)

    def _send(self, entries: list[Entry], pending: deque[OutgoingRecord]) -> None:
        self._governor.before_request()
        if self._lateness is not None:
            now = time.monotonic()
            for entry in entries:
                for record in entry.records:
                    if record.scheduled is not None and record.ordinal not in self._attempts:
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
                for record in sent:
                    self._attempts.pop(record.ordinal, None)
                self._ledger.sent([r.ordinal for r in sent], sum(r.warned for r in sent))
        self._ledger.add_stats(requests=1, throttles=int(throttled))
        if throttled:
            self._governor.throttled()
        elif not failed:
            self._governor.succeeded()
        if failed:
            self._retry_or_dead_letter(failed, pending)

    def _retry_or_dead_letter(
        self, failed: list[tuple[Entry, str]], pending: deque[OutgoingRecord]
    ) -> None:
        retry: list[OutgoingRecord] = []
        worst = 0
        for entry, reason in failed:
            for record in entry.records:
                attempts = self._attempts.get(record.ordinal, 0) + 1
                if attempts >= self._max_attempts:
                    self._attempts.pop(record.ordinal, None)
                    self._dead_letter(record, f"{reason} (after {attempts} attempts)")
                else:
                    self._attempts[record.ordinal] = attempts
                    worst = max(worst, attempts)
                    retry.append(record)
        if retry:
            self._ledger.add_stats(retries=len(retry))
            # Failed events go back in front of everything that came after them, in order.
            pending.extendleft(reversed(retry))
            time.sleep(backoff_delay(worst))

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

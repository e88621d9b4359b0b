"""The Managed Flink stand-in: the `events` stream through the local detector into `anomalies`.

Reads every shard of the events stream (KPL aggregates unpacked), feeds `ecomm_cli.detect` and
writes each alert as one JSON record to the anomalies stream with PutRecords.

Event time across shards works as in Flink: the watermark may only pass a time every active
shard has reached, so records are merged across shards in event-time order up to the slowest
active shard's newest event (a shard that reads ahead cannot make another shard's events late).
A shard that has been caught up for the idle timeout stops holding the others back (Flink's
source idleness), and when the whole stream is idle the watermark moves on the wall clock so
the last windows still close. `drain` treats the end of what the stream holds as the end of
input (Flink's final watermark for a bounded source).

Checkpoints are per shard and only ever move past records whose events can no longer belong
to an open window, so a restart rebuilds every open window from the stream. Alerts of windows
that closed just before a restart may be written again: the alerting Lambda's conditional put
per offender, rule and window makes that harmless (at-least-once in, exactly-once effect).
"""

from __future__ import annotations

import heapq
import json
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecomm_cli import kpl
from ecomm_cli.detect import Alert, Detector, Event, Thresholds, event_from_contract
from ecomm_cli.detect.rules import MANIFEST
from ecomm_cli.errors import EcommError
from ecomm_cli.shard_checkpoint import ShardCheckpoint
from ecomm_cli.shard_reader import CommitWhenSafe, Page, ShardReader

# Terraform `rules` keys that configure the Flink source, not a rule (no Thresholds field): the
# manifest's settings Flink reads and the detector does not.
FLINK_SOURCE_SETTINGS = tuple(
    s.name for s in MANIFEST.settings if "flink" in s.used_by and "detector" not in s.used_by
)
# Terraform `rules` key -> Thresholds field, where the names differ (none today: one place to
# add a mapping if either side is renamed, instead of a silent mismatch).
THRESHOLD_NAMES: dict[str, str] = {}
DEFAULT_IDLE_TIMEOUT_SECONDS = float(MANIFEST.setting("idle_timeout_seconds").value)
PUT_RECORDS_MAX = 500  # Kinesis PutRecords limit per call
PUT_ATTEMPTS = 6
REJECT_SAMPLES_KEPT = 5


class DetectorRunnerError(EcommError):
    """The runner could not read its settings or write its alerts."""


def _number(value: Any) -> str:
    # Terraform numbers arrive as JSON numbers, sometimes as 20.0: Thresholds wants text.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def thresholds_from_outputs(rule_thresholds: Mapping[str, Any]) -> tuple[Thresholds, float]:
    """(Thresholds, idle timeout in seconds) from the stack output `rule_thresholds`.

    The local detector takes its thresholds from Terraform, like the Flink application on
    AWS, so the two cannot drift. A key that is neither a threshold nor a Flink source setting
    is an error: a renamed variable must not silently fall back to a default.
    """
    overrides: dict[str, str] = {}
    idle = DEFAULT_IDLE_TIMEOUT_SECONDS
    known = set(Thresholds.names())
    for key, value in rule_thresholds.items():
        if value is None:
            continue
        if key in FLINK_SOURCE_SETTINGS:
            idle = float(value)
            continue
        name = THRESHOLD_NAMES.get(key, key)
        if name not in known:
            raise DetectorRunnerError(
                f"stack output rule_thresholds has {key!r}, which the local detector does not know",
                "map it in ecomm_cli/realtime/detector_runner.py THRESHOLD_NAMES",
            )
        overrides[name] = _number(value)
    try:
        return Thresholds().with_overrides(overrides), idle
    except ValueError as exc:
        raise DetectorRunnerError(f"stack output rule_thresholds: {exc}") from None


def longest_window_ms(thresholds: Thresholds) -> int:
    """The longest window any rule keeps open, in milliseconds."""
    return int(thresholds.longest_window_seconds() * 1000)


def partition_key(alert: Alert) -> str:
    """Per user, so one user's alerts stay in order; the rule for platform-wide alerts."""
    return str(alert.user_id) if alert.user_id is not None else alert.rule


@dataclass
class _Record:
    """One Kinesis record of a shard: its events not yet fed, and its newest event time."""

    sequence_number: str
    pending: int
    newest_ms: int = -(2**62)


@dataclass
class _Shard:
    shard_id: str
    newest_ms: int | None = None  # newest event time read from this shard
    caught_up_since: float | None = None  # monotonic time it first read nothing new
    records: deque[_Record] = field(default_factory=deque)


@dataclass
class DetectorReport:
    kinesis_records: int = 0
    events: int = 0
    alerts: int = 0
    alerts_by_rule: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    reject_reasons: list[str] = field(default_factory=list)
    late_events: int = 0
    late_by_rule: dict[str, int] = field(default_factory=dict)
    watermark_advances: int = 0
    transient_errors: int = 0  # failed AWS calls that `follow` retried


@dataclass(frozen=True)
class DetectorTarget:
    """The streams and settings, all from the stack's Terraform outputs."""

    events_stream: str
    anomalies_stream: str
    thresholds: Thresholds
    idle_timeout_seconds: float = DEFAULT_IDLE_TIMEOUT_SECONDS

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any]) -> DetectorTarget:
        """From the local stack's outputs (`environments.outputs`)."""
        missing = [
            name
            for name in ("events_stream_name", "anomalies_stream_name", "rule_thresholds")
            if outputs.get(name) is None
        ]
        if missing:
            raise DetectorRunnerError(
                f"the local stack has no output {', '.join(missing)}",
                "run `ecomm local up` again to apply the current Terraform",
            )
        thresholds, idle = thresholds_from_outputs(outputs["rule_thresholds"])
        return cls(
            events_stream=str(outputs["events_stream_name"]),
            anomalies_stream=str(outputs["anomalies_stream_name"]),
            thresholds=thresholds,
            idle_timeout_seconds=idle,
        )


class DetectorRunner:
    """Read the events stream, detect, write anomalies; `kinesis` is a boto3 client."""

    def __init__(
        self,
        kinesis: Any,
        target: DetectorTarget,
        checkpoint: ShardCheckpoint,
        *,
        read_limit: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.kinesis = kinesis
        self.target = target
        self.checkpoint = checkpoint
        # Positions are committed only once every window holding their events has closed.
        self.commits = CommitWhenSafe(checkpoint)
        self.reader = ShardReader(kinesis, target.events_stream, self.commits, limit=read_limit)
        self.detector = Detector(target.thresholds)
        self.report = DetectorReport()
        self.read_limit = read_limit
        self.clock = clock
        self.shards: dict[str, _Shard] = {}
        # (event time, arrival order, shard id, record, event): merged across shards.
        self._held: list[tuple[int, int, str, _Record, Event]] = []
        self._arrivals = 0
        self._watermark_ms = -(2**62)  # the detector's watermark, tracked on this side
        self._newest_fed_ms = -(2**62)
        self._outbox: list[Alert] = []  # alerts not yet taken by the anomalies stream

    # -- reading -------------------------------------------------------------------------

    def _reject(self, shard_id: str, sequence_number: str, reason: str) -> None:
        self.report.rejected += 1
        if len(self.report.reject_reasons) < REJECT_SAMPLES_KEPT:
            self.report.reject_reasons.append(f"{shard_id}/{sequence_number}: {reason}")

    def _take(self, page: Page) -> None:
        """One page of a shard; its events are held for the cross-shard merge."""
        shard = self.shards.setdefault(page.shard_id, _Shard(page.shard_id))
        for raw in page.records:
            self.report.kinesis_records += 1
            record = _Record(raw["SequenceNumber"], 0)
            shard.records.append(record)
            for payload in kpl.user_records(bytes(raw["Data"])):
                try:
                    event = event_from_contract(json.loads(payload))
                except (ValueError, KeyError, TypeError) as exc:
                    # Counted and reported with the record's position, never dropped silently.
                    self._reject(
                        shard.shard_id, raw["SequenceNumber"], f"{type(exc).__name__}: {exc}"
                    )
                    continue
                record.pending += 1
                record.newest_ms = max(record.newest_ms, event.ts_ms)
                shard.newest_ms = (
                    event.ts_ms if shard.newest_ms is None else max(shard.newest_ms, event.ts_ms)
                )
                self._arrivals += 1
                heapq.heappush(
                    self._held, (event.ts_ms, self._arrivals, shard.shard_id, record, event)
                )
        if not page.caught_up:
            shard.caught_up_since = None
        elif shard.caught_up_since is None:  # also a closed shard read to its end
            shard.caught_up_since = self.clock()

    # -- detecting -----------------------------------------------------------------------

    def _idle(self, shard: _Shard, now: float, end_of_input: bool) -> bool:
        if shard.caught_up_since is None:
            return False
        return end_of_input or now - shard.caught_up_since >= self.target.idle_timeout_seconds

    def _release(self, end_of_input: bool) -> list[Alert]:
        """Feed held events up to the slowest active shard's newest event time."""
        now = self.clock()
        active = [
            s.newest_ms
            for s in self.shards.values()
            if not self._idle(s, now, end_of_input) and s.newest_ms is not None
        ]
        waiting = [s for s in self.shards.values() if not self._idle(s, now, end_of_input)]
        # A non-idle shard that has not read any event yet holds everything back.
        if any(s.newest_ms is None for s in waiting):
            return []
        frontier = min(active) if active else 2**62
        alerts: list[Alert] = []
        held = self._held
        process = self.detector.process
        while held and held[0][0] <= frontier:
            _, _, _, record, event = heapq.heappop(held)
            record.pending -= 1
            alerts += process(event)
            self._newest_fed_ms = max(self._newest_fed_ms, event.ts_ms)
        delay_ms = self.target.thresholds.watermark_seconds * 1000
        self._watermark_ms = max(self._watermark_ms, self._newest_fed_ms - delay_ms)
        return alerts

    def _advance_when_quiet(self) -> list[Alert]:
        """Every shard idle: move the watermark on the wall clock so windows still close.

        From the moment the last shard went quiet, event time is taken to pass as fast as the
        clock: the watermark is the newest event time minus the bound, plus the quiet time.
        """
        now = self.clock()
        shards = list(self.shards.values())
        if not shards or self._held or not all(self._idle(s, now, False) for s in shards):
            return []
        newest = max((s.newest_ms for s in shards if s.newest_ms is not None), default=None)
        if newest is None:
            return []
        quiet_since = max(s.caught_up_since or 0.0 for s in shards)
        delay_ms = self.target.thresholds.watermark_seconds * 1000
        watermark = newest - delay_ms + int((now - quiet_since) * 1000)
        if watermark <= self._watermark_ms:
            return []
        self._watermark_ms = watermark
        self.report.watermark_advances += 1
        return self.detector.advance(watermark)

    # -- writing -------------------------------------------------------------------------

    def _write(self, alerts: list[Alert]) -> None:
        """Queue `alerts` and PutRecords everything queued, in chunks.

        An alert leaves the outbox only once the stream took it, so a failed call loses
        nothing: the next call sends it again (and the checkpoint waits for an empty outbox).
        """
        self._outbox += alerts
        while self._outbox:
            chunk = self._outbox[:PUT_RECORDS_MAX]
            entries = [
                {
                    "Data": json.dumps(alert.to_dict(), separators=(",", ":")).encode(),
                    "PartitionKey": partition_key(alert),
                }
                for alert in chunk
            ]
            for attempt in range(PUT_ATTEMPTS):
                answer = self.kinesis.put_records(
                    StreamName=self.target.anomalies_stream, Records=entries
                )
                if not answer.get("FailedRecordCount"):
                    break
                entries = [
                    entry
                    for entry, result in zip(entries, answer["Records"], strict=True)
                    if result.get("ErrorCode")
                ]
                time.sleep(min(0.1 * 2**attempt, 2.0))
            else:
                raise DetectorRunnerError(
                    f"{len(entries)} alerts could not be written to {self.target.anomalies_stream}",
                    "the checkpoint was not moved: run the detector again",
                )
            del self._outbox[: len(chunk)]
            for alert in chunk:
                self.report.alerts_by_rule[alert.rule] = (
                    self.report.alerts_by_rule.get(alert.rule, 0) + 1
                )
            self.report.alerts += len(chunk)

    def _save_checkpoint(self, everything_closed: bool) -> None:
        if self._outbox:
            return
        # Only records with every event fed and none inside a window still open.
        cutoff = (
            2**62
            if everything_closed
            else self._watermark_ms + 1 - longest_window_ms(self.target.thresholds)
        )
        positions: dict[str, str] = {}
        for shard in self.shards.values():
            records = shard.records
            while records and records[0].pending == 0 and records[0].newest_ms < cutoff:
                positions[shard.shard_id] = records.popleft().sequence_number
        if positions:
            self.commits.commit(positions)

    def _sync_report(self) -> None:
        late = self.detector.late
        self.report.events = self.detector.events
        self.report.late_events = late.events
        self.report.late_by_rule = {rule: n for rule, n in late.per_rule.items() if n}

    # -- loops ---------------------------------------------------------------------------

    def _settle(self) -> None:
        """After a pass: the merge, alerts written, positions whose windows closed committed."""
        alerts = self._release(end_of_input=False) + self._advance_when_quiet()
        self._write(alerts)
        self._save_checkpoint(everything_closed=False)
        self._sync_report()

    def poll_once(self) -> int:
        """One read of every shard, the merge, alerts written; returns records read."""
        return self.reader.poll(self._take, self._settle)

    def drain(self) -> DetectorReport:
        """Everything the stream holds now, as a bounded input: every window closes."""
        self.reader.drain(self._take, lambda: self._write(self._release(end_of_input=False)))
        self._write(self._release(end_of_input=True) + self.detector.finish())
        self._save_checkpoint(everything_closed=True)
        self._sync_report()
        return self.report

    def follow(
        self,
        should_stop: Callable[[], bool],
        poll_seconds: float = 0.2,
        on_error: Callable[[Exception], None] | None = None,
    ) -> DetectorReport:
        """Keep detecting until `should_stop()`; open windows are rebuilt after a restart.

        A failed AWS call (the emulator answers 500 under load) does not stop the loop: the
        shard iterators only move after a successful read and unsent alerts stay queued, so
        the next pass retries exactly what failed. `on_error` is told about each failure.
        """

        def failed(exc: Exception) -> None:
            self.report.transient_errors += 1
            if on_error is not None:
                on_error(exc)

        self.reader.follow(
            self._take,
            should_stop,
            poll_seconds,
            retryable=(BotoCoreError, ClientError, DetectorRunnerError),
            on_error=failed,
            after_pass=self._settle,
        )
        return self.report

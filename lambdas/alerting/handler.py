"""Lambda entry point: anomalies from the Kinesis event source mapping become offenders.

Thin on purpose: Powertools' BatchProcessor runs `record_handler` once per Kinesis record and
reports the failed ones in `batchItemFailures`, so one bad record never makes the whole batch
retry. The logic lives in `offenders` and `mitigation` (pure), `store` (DynamoDB) and `notify`
(SNS).

AWS clients are created on first use, not at import, so tests and the local runner can point
them at an emulator (`configure(...)` or the standard AWS_ENDPOINT_URL variables).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)

from .mitigation import block_duration, block_fields, parse_block_seconds
from .notify import AlertPublisher
from .offenders import Anomaly, MalformedAnomaly, offender_item, parse_anomaly, user_payloads
from .store import MitigationStore, OffenderStore

SERVICE = "alerting"
logger = Logger(service=SERVICE)
# A batch whose every record fails is reported record by record too (instead of raising), so
# the event source mapping bisects and retries it like any other partial failure.
processor = BatchProcessor(
    event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False
)


class Outcome(Enum):
    """What happened to one anomaly."""

    ALERTED = "alerted"  # new offender item, SNS message sent
    # new offender item, but the offender was alerted within the cooldown, or this window
    # overlaps one of the same rule already recorded (a hopping rule re-reporting the offence)
    SUPPRESSED = "suppressed"
    DUPLICATE = "duplicate"  # the same offender, rule and window was already recorded
    ALLOWLISTED = "allowlisted"  # the user is on the allowlist: nothing written, no alert


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Dependencies:
    """Everything the handler talks to; built from the environment on AWS, injected in tests."""

    store: OffenderStore
    publisher: AlertPublisher
    metrics: Metrics
    metric_namespace: str
    cooldown_seconds: int
    ttl_days: int
    clock: Callable[[], datetime] = field(default=_utc_now)
    # Blocks and the allowlist; None only for callers that exercise the alerting alone.
    mitigation: MitigationStore | None = None
    # Seconds an offender of each rule is blocked (0 or absent: alert only).
    block_seconds: Mapping[str, int] = field(default_factory=dict)


def _required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set (Terraform sets it)")
    return value


def dependencies_from_environment() -> Dependencies:
    """The Lambda's dependencies from the variables Terraform sets (clients made here)."""
    import boto3  # the Lambda runtime ships boto3; imported late with the clients

    namespace = _required_env("POWERTOOLS_METRICS_NAMESPACE")
    table = _required_env("OFFENDERS_TABLE")
    topic_arn = _required_env("ALERTS_TOPIC_ARN")
    dynamodb = boto3.client("dynamodb")
    return Dependencies(
        store=OffenderStore(dynamodb, table),
        publisher=AlertPublisher(boto3.client("sns"), topic_arn),
        metrics=Metrics(namespace=namespace, service=SERVICE),
        metric_namespace=namespace,
        # Both set by Terraform (the cooldown from the rules manifest): no default of their own.
        cooldown_seconds=int(_required_env("ALERT_COOLDOWN_SECONDS")),
        ttl_days=int(_required_env("OFFENDERS_TTL_DAYS")),
        mitigation=MitigationStore(dynamodb, _required_env("MITIGATION_TABLE")),
        # From the rules manifest's `block` of each rule, with the environment's overrides.
        block_seconds=parse_block_seconds(_required_env("BLOCK_SECONDS")),
    )


_dependencies: Dependencies | None = None


def configure(dependencies: Dependencies | None) -> None:
    """Inject dependencies (tests, the local runner); None makes the next call rebuild them."""
    global _dependencies
    _dependencies = dependencies


def _current() -> Dependencies:
    global _dependencies
    if _dependencies is None:
        _dependencies = dependencies_from_environment()
    return _dependencies


def _allowlisted(anomaly: Anomaly, deps: Dependencies, now: datetime) -> bool:
    if anomaly.user_id is None or deps.mitigation is None:
        return False
    return deps.mitigation.allowlisted(anomaly.user_id, now)


def _block(anomaly: Anomaly, deps: Dependencies, now: datetime) -> None:
    seconds = block_duration(anomaly, deps.block_seconds)
    if not seconds or deps.mitigation is None:
        return
    assert anomaly.user_id is not None  # block_duration is 0 for platform-wide anomalies
    if deps.mitigation.extend_block(anomaly.user_id, block_fields(anomaly, now, seconds), now):
        deps.metrics.add_metric(name="BlocksSet", unit=MetricUnit.Count, value=1)


def handle_anomaly(anomaly: Anomaly, deps: Dependencies) -> Outcome:
    """Record the offender once per rule and window, block the user for the rule's duration,
    alert once per offence (overlapping windows of one rule are one offence) and at most once
    per offender per cooldown; an allowlisted user gets none of it.

    If the block, the incident, the cooldown claim or the SNS publish fails, the offender item,
    the incident and the cooldown are undone and the error propagates, so the record is
    retried (and finally lands in the DLQ) instead of being recorded without its alert. A block
    already written stays: protection must not wait for the e-mail, and the retry's write only
    moves its end by the retry's delay (never shortens it).
    """
    now = deps.clock()
    if _allowlisted(anomaly, deps, now):
        return Outcome.ALLOWLISTED
    item = offender_item(anomaly, now, deps.ttl_days)
    if not deps.store.put_offender(item):
        return Outcome.DUPLICATE
    try:
        _block(anomaly, deps, now)
        continued, through = deps.store.advance_incident(anomaly, now, deps.ttl_days)
    except Exception:
        deps.store.delete_offender(item)
        raise
    if continued:
        # An overlapping window of a hopping rule: the offence was alerted when its first
        # window came; this one only kept the block going.
        return Outcome.SUPPRESSED
    try:
        previous = deps.store.claim_cooldown(anomaly, now, deps.cooldown_seconds, deps.ttl_days)
    except Exception:
        deps.store.restore_incident(anomaly, through)
        deps.store.delete_offender(item)
        raise
    if previous is None:
        return Outcome.SUPPRESSED
    try:
        deps.publisher.publish(anomaly, now)
    except Exception:
        deps.store.release_cooldown(anomaly, now, previous)
        deps.store.restore_incident(anomaly, through)
        deps.store.delete_offender(item)
        raise
    return Outcome.ALERTED


_OUTCOME_METRIC = {
    Outcome.ALERTED: "AlertsSent",
    Outcome.SUPPRESSED: "AlertsSuppressed",
    Outcome.DUPLICATE: "DuplicateAnomalies",
    Outcome.ALLOWLISTED: "AllowlistedAnomalies",
}


def _count(deps: Dependencies, anomaly: Anomaly, outcome: Outcome) -> None:
    deps.metrics.add_metric(name=_OUTCOME_METRIC[outcome], unit=MetricUnit.Count, value=1)
    if outcome in (Outcome.DUPLICATE, Outcome.ALLOWLISTED):
        return
    # "Offenders" (service dimension only) feeds the alarm; "OffendersByRule" adds the rule,
    # the only other dimension: never the user, which would make one metric per user.
    deps.metrics.add_metric(name="Offenders", unit=MetricUnit.Count, value=1)
    with single_metric(
        name="OffendersByRule",
        unit=MetricUnit.Count,
        value=1,
        namespace=deps.metric_namespace,
        default_dimensions={"service": SERVICE},
    ) as metric:
        metric.add_dimension(name="rule", value=anomaly.rule)


def record_handler(record: KinesisStreamRecord) -> None:
    """Process one Kinesis record (possibly a KPL aggregate of several anomalies)."""
    deps = _current()
    for payload in user_payloads(record.raw_event):
        try:
            anomaly = parse_anomaly(payload)
        except MalformedAnomaly as error:
            deps.metrics.add_metric(name="MalformedAnomalies", unit=MetricUnit.Count, value=1)
            logger.warning(
                "malformed anomaly",
                extra={"reason": str(error), "sequence_number": record.kinesis.sequence_number},
            )
            raise
        try:
            outcome = handle_anomaly(anomaly, deps)
        except Exception:
            # Retried by the event source mapping (then the DLQ); counted so it shows before.
            deps.metrics.add_metric(name="ProcessingErrors", unit=MetricUnit.Count, value=1)
            logger.exception("anomaly not processed", extra={"rule": anomaly.rule})
            raise
        _count(deps, anomaly, outcome)
        logger.info(
            "anomaly processed",
            extra={"rule": anomaly.rule, "offender": anomaly.offender, "outcome": outcome.value},
        )


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Entry point (`alerting.handler.lambda_handler`); returns `batchItemFailures`."""
    deps = _current()
    try:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        return dict(response)
    finally:
        deps.metrics.flush_metrics()

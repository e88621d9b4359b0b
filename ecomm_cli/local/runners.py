"""The local stand-ins for Firehose, Managed Flink and the alerting Lambda, built from the local
stack's Terraform outputs: the one place `ecomm local deliver | detector | lambda` and the demo
get them, each signed as the AWS component it plays and resuming from its own checkpoint.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecomm_cli import aws_clients, environments
from ecomm_cli.delivery.runner import DeliveryRunner, DeliveryTarget
from ecomm_cli.errors import EcommError
from ecomm_cli.local import stack
from ecomm_cli.realtime import lambda_runner
from ecomm_cli.realtime.detector_runner import DetectorReport, DetectorRunner, DetectorTarget
from ecomm_cli.settings import Settings
from ecomm_cli.shard_checkpoint import ShardCheckpoint


def _checkpoint(settings: Settings, name: str) -> ShardCheckpoint:
    return ShardCheckpoint(settings.local_dir / "checkpoints" / f"{name}.json")


def delivery(settings: Settings) -> DeliveryRunner:
    """The Firehose stand-in: the events stream into the local raw zone, Firehose's layout."""
    settings = stack.running(settings)
    outputs = environments.outputs(settings)
    target = DeliveryTarget(
        zone_dir=settings.lake_dir / "raw",
        prefix=str(outputs["raw_prefix"]),
        stream_name=str(outputs["events_stream_name"]),
        buffer_seconds=float(outputs.get("firehose_buffering_interval_seconds") or 60),
    )
    return DeliveryRunner(
        aws_clients.client("kinesis", settings, component="firehose"),
        target,
        _checkpoint(settings, "delivery"),
    )


def detector(settings: Settings) -> DetectorRunner:
    """The Managed Flink stand-in: the events stream through the rules into anomalies."""
    settings = stack.running(settings)
    return DetectorRunner(
        aws_clients.client("kinesis", settings, component="flink"),
        DetectorTarget.from_outputs(environments.outputs(settings)),
        _checkpoint(settings, "detector"),
    )


@dataclass(frozen=True)
class AlertingLambda:
    """The Lambda stand-in: the deployed function's handler behind its event source mapping."""

    runner: Any  # event_source_mapping.EventSourceMappingRunner
    setup: lambda_runner.FunctionSetup
    log_file: Path
    endpoint_url: str | None
    region: str

    @contextlib.contextmanager
    def invocations(self) -> Iterator[None]:
        """The function's environment variables, and its stdout into `log_file`, meanwhile."""
        with (
            lambda_runner.function_environment(
                self.setup.environment, self.endpoint_url, self.region
            ),
            lambda_runner.function_output(self.log_file),
        ):
            yield


def alerting_lambda(settings: Settings) -> AlertingLambda:
    """The alerting function as deployed (handler, environment, mapping), ready to poll."""
    settings = stack.running(settings)
    outputs = environments.outputs(settings)
    setup = lambda_runner.describe_function(
        aws_clients.client("lambda", settings),
        str(outputs["lambda_function_name"]),
        str(outputs["anomalies_stream_name"]),
        outputs.get("dlq_url"),
    )
    runner = lambda_runner.build_runner(
        aws_clients.client("kinesis", settings, component="lambda"),
        aws_clients.client("sqs", settings, component="lambda"),
        setup,
        lambda_runner.load_handler(setup.handler),
        _checkpoint(settings, "lambda"),
        settings.region,
    )
    log_file = settings.local_dir / "logs" / f"{setup.function_name}.log"
    return AlertingLambda(runner, setup, log_file, settings.resolved_endpoint(), settings.region)


def drain_detector(runner: DetectorRunner) -> DetectorReport:
    """Run every event past the checkpoint through the rules, once (open windows close)."""
    try:
        return runner.drain()
    except (BotoCoreError, ClientError) as exc:
        raise EcommError(
            f"reading or writing the streams failed: {str(exc).splitlines()[0]}",
            hint="the checkpoint was not moved past it: run the detector again",
        ) from None


def drain_lambda(function: AlertingLambda) -> Any:
    """Hand every anomaly past the checkpoint to the function, once, as its mapping says."""
    try:
        with function.invocations():
            return function.runner.drain()
    except (BotoCoreError, ClientError) as exc:
        raise EcommError(
            f"reading the anomalies stream failed: {str(exc).splitlines()[0]}",
            hint="run `ecomm local lambda` again: it resumes from its checkpoint",
        ) from None

"""The Lambda stand-in: the alerting handler fed from the anomalies stream, as AWS would.

Everything comes from what Terraform created in the emulator: the handler string and its
environment variables (`GetFunctionConfiguration`), the event source mapping's batching, bisect
and retry settings (`ListEventSourceMappings`), and the on-failure queue (the `dlq_url` output).
The handler is imported from `PROJECT_ROOT/lambdas` (the tree the Lambda zip is built from) and
called in-process by the mapping runner of `event_source_mapping`, with the function's
environment and the emulator's endpoint set, so its own boto3 clients reach the emulator.

A per-shard checkpoint (the last sequence number that succeeded or went to the DLQ) makes a
second run start where the first stopped, as the mapping's own position does on AWS.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecomm_cli.aws_clients import COMPONENT_KEYS
from ecomm_cli.errors import EcommError
from ecomm_cli.realtime.event_source_mapping import (
    BatchInvoker,
    EventSourceMappingRunner,
    Handler,
    LambdaContext,
    MappingSettings,
    RunnerReport,
    sqs_sender,
)
from ecomm_cli.settings import PROJECT_ROOT
from ecomm_cli.shard_checkpoint import ShardCheckpoint
from ecomm_cli.shard_reader import CommitEachPage

LAMBDAS_DIR = PROJECT_ROOT / "lambdas"
# What the handler's boto3 clients need to reach the emulator instead of AWS.
# The handler signs as the Lambda's role would: the emulator's call log attributes its calls.
EMULATOR_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": COMPONENT_KEYS["lambda"],
    "AWS_SECRET_ACCESS_KEY": "testing",
}


class LambdaRunnerError(EcommError):
    """The function, its mapping or its handler could not be found."""


@dataclass(frozen=True)
class FunctionSetup:
    """What the runner needs to know about the deployed function."""

    function_name: str
    function_arn: str
    handler: str  # module.function, e.g. alerting.handler.lambda_handler
    environment: dict[str, str]
    mapping: MappingSettings
    stream_name: str


def stream_name_of(stream_arn: str) -> str:
    """`arn:aws:kinesis:region:account:stream/NAME` -> NAME."""
    return stream_arn.rsplit("/", 1)[-1]


def describe_function(
    lambda_client: Any, function_name: str, stream_name: str, dlq_url: str | None
) -> FunctionSetup:
    """The function's handler, environment and its mapping on `stream_name`, from the API."""
    try:
        config = lambda_client.get_function_configuration(FunctionName=function_name)
    except lambda_client.exceptions.ResourceNotFoundException:
        raise LambdaRunnerError(
            f"no Lambda function {function_name!r} in the emulator",
            "run `ecomm local up` to apply terraform/environments/local",
        ) from None
    # All mappings, filtered here: moto 5.2 answers a FunctionName filter with an empty list.
    mappings: list[dict[str, Any]] = []
    for page in lambda_client.get_paginator("list_event_source_mappings").paginate():
        mappings += page["EventSourceMappings"]
    on_stream = [
        m
        for m in mappings
        if stream_name_of(m["EventSourceArn"]) == stream_name
        and m.get("FunctionArn", config["FunctionArn"]).split(":")[6] == function_name
    ]
    if not on_stream:
        raise LambdaRunnerError(
            f"{function_name} has no event source mapping on the stream {stream_name}",
            "the realtime module declares it: re-apply with `ecomm local up`",
        )
    mapping = dict(on_stream[0])
    # moto leaves out the function ARN on some versions; the function's own is the same.
    mapping.setdefault("FunctionArn", config["FunctionArn"])
    return FunctionSetup(
        function_name=function_name,
        function_arn=config["FunctionArn"],
        handler=config["Handler"],
        environment=dict((config.get("Environment") or {}).get("Variables") or {}),
        mapping=MappingSettings.from_api(mapping, dlq_url),
        stream_name=stream_name,
    )


def load_handler(handler: str, root: Path = LAMBDAS_DIR) -> Handler:
    """Import `module.function` from the Lambda source tree, as the Lambda runtime would."""
    module_name, _, function_name = handler.rpartition(".")
    if not module_name:
        raise LambdaRunnerError(f"handler {handler!r} is not module.function")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LambdaRunnerError(f"cannot import the handler module {module_name}: {exc}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise LambdaRunnerError(f"{module_name} has no function {function_name!r}")
    # Handlers that cache their clients (ours does, per container) must build them afresh for
    # this endpoint and environment, as a new Lambda container would.
    reset = getattr(module, "configure", None)
    if callable(reset):
        reset(None)
    handle: Handler = function
    return handle


@contextlib.contextmanager
def function_environment(
    variables: Mapping[str, str], endpoint_url: str | None, region: str
) -> Iterator[None]:
    """The function's environment for the duration of the run, restored afterwards."""
    values = {**variables, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}
    if endpoint_url:
        values.update(EMULATOR_CREDENTIALS, AWS_ENDPOINT_URL=endpoint_url)
        values.pop("AWS_SESSION_TOKEN", None)
    saved = {name: os.environ.get(name) for name in [*values, "AWS_SESSION_TOKEN"]}
    os.environ.update(values)
    if endpoint_url:
        os.environ.pop("AWS_SESSION_TOKEN", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def function_output(log_file: Path) -> Iterator[None]:
    """The function's stdout (its JSON logs and EMF metrics) into `log_file`, as CloudWatch
    Logs would take it, instead of the terminal.

    Plain stdout `StreamHandler`s bound at import (Powertools binds one per service logger) are
    pointed at the file for the run and back afterwards; subclasses (file handlers, pytest's
    capture) and stderr handlers are left alone.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        loggers = [logging.getLogger()] + [
            item
            for item in logging.Logger.manager.loggerDict.values()
            if isinstance(item, logging.Logger)
        ]
        swapped: list[tuple[logging.StreamHandler[Any], Any]] = []
        for logger in loggers:
            for handler in logger.handlers:
                if type(handler) is logging.StreamHandler and handler.stream not in (
                    sys.stderr,
                    sys.__stderr__,
                ):
                    # Not setStream(): it flushes the old stream, which may be closed by now
                    # (a test runner's capture from an earlier run in the same process).
                    swapped.append((handler, handler.stream))
                    handler.stream = log
        try:
            yield
        finally:
            for handler, stream in swapped:
                handler.stream = stream


def build_runner(
    kinesis: Any,
    sqs: Any,
    setup: FunctionSetup,
    handler: Handler,
    checkpoint: ShardCheckpoint,
    region: str,
) -> EventSourceMappingRunner:
    """The mapping runner: each shard resumes after the checkpoint, which moves once a batch
    has fully succeeded or gone to the DLQ."""
    context = LambdaContext(
        function_name=setup.function_name,
        invoked_function_arn=setup.function_arn,
        log_group_name=f"/aws/lambda/{setup.function_name}",
    )
    invoker = BatchInvoker(
        handler, setup.mapping, context, sqs_sender(sqs, setup.mapping.on_failure_queue_url)
    )
    return EventSourceMappingRunner(
        kinesis, invoker, setup.stream_name, region, CommitEachPage(checkpoint)
    )


def follow(
    runner: EventSourceMappingRunner,
    should_stop: Callable[[], bool],
    poll_seconds: float = 0.2,
    on_error: Callable[[Exception], None] | None = None,
) -> RunnerReport:
    """Poll until `should_stop()`, resting `poll_seconds` after a pass that found nothing.

    A failed read of the stream (the emulator answers 500 under load) or a failed send to the
    DLQ is reported to `on_error` and retried on the next pass: the runner keeps a shard's
    iterator until its batch is handled, so nothing is skipped (a retried batch may reach the
    function twice, as on AWS; its conditional writes absorb that).
    """
    return runner.follow(should_stop, poll_seconds, (BotoCoreError, ClientError), on_error)

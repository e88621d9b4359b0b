"""`ecomm local up | down | status`: the whole platform on this machine, no AWS account."""

from __future__ import annotations

import json
from collections.abc import Callable

import typer
from rich.table import Table

from ecomm_cli import environments
from ecomm_cli.console import EcommError, console, err_console
from ecomm_cli.local import stack
from ecomm_cli.settings import Settings

app = typer.Typer(
    help="The local stack: AWS emulator + terraform/environments/local.", no_args_is_help=True
)


@app.command()
def up() -> None:
    """Start the emulator on 127.0.0.1 and apply terraform/environments/local (no-op if up)."""
    settings = Settings.load(env="local")
    with console.status("starting the emulator and applying terraform/environments/local"):
        result = stack.up(settings, stream=False)
    stack.print_summary(result)


@app.command()
def down() -> None:
    """Stop the emulator this project started and clear the local state (the lake stays)."""
    settings = Settings.load(env="local")
    stopped = stack.down(settings)
    console.print("[green]local stack stopped[/]" if stopped else "local stack was not running")
    console.print(f"the data lake stays at {settings.lake_dir}")


@app.command()
def status(
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
) -> None:
    """Show the emulator endpoint and what is deployed."""
    info = stack.status(Settings.load(env="local"))
    if as_json:
        console.print_json(json.dumps(info))
        return
    state = "[green]up[/]" if info["serving"] else "[red]down[/]"
    console.print(
        f"local stack: {state}  endpoint: {info['endpoint_url'] or '-'}  "
        f"pid: {info['pid'] or '-'}  resources: {info['resources'] or 0}"
    )
    if info["outputs"]:
        table = Table("output", "value", title="terraform outputs (environments/local)")
        for key, value in sorted(info["outputs"].items()):
            table.add_row(key, value if isinstance(value, str) else json.dumps(value))
        console.print(table)
    console.print(f"data lake: {info['lake_dir']}")
    if not info["serving"]:
        raise typer.Exit(1)


@app.command()
def deliver(
    follow: bool = typer.Option(False, "--follow", help="Keep delivering until Ctrl-C."),
    poll_seconds: float = typer.Option(1.0, min=0.05, help="Wait between empty reads."),
) -> None:
    """The Firehose stand-in: deliver the events stream into the local raw zone."""
    import signal
    import threading

    from ecomm_cli import aws_clients
    from ecomm_cli.delivery.runner import DeliveryRunner, DeliveryTarget
    from ecomm_cli.shard_checkpoint import ShardCheckpoint

    settings = stack.running(Settings.load(env="local"))
    outputs = environments.outputs(settings)
    target = DeliveryTarget(
        zone_dir=settings.lake_dir / "raw",
        prefix=str(outputs["raw_prefix"]),
        stream_name=str(outputs["events_stream_name"]),
        buffer_seconds=float(outputs.get("firehose_buffering_interval_seconds") or 60),
    )
    runner = DeliveryRunner(
        aws_clients.client("kinesis", settings, component="firehose"),
        target,
        ShardCheckpoint(settings.local_dir / "checkpoints" / "delivery.json"),
    )
    if follow:
        stopping = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopping.set())
        console.print(f"delivering {target.stream_name} -> {target.zone_dir} (Ctrl-C stops)")
        report = runner.follow(stopping.is_set, poll_seconds)
    else:
        report = runner.drain()
    console.print(
        f"delivered {report.events} events ({report.kinesis_records} Kinesis records) "
        f"in {report.objects} objects under {target.zone_dir}"
    )


def _warn(exc: Exception) -> None:
    """One line on stderr for an AWS call a follow loop will retry."""
    err_console.print(f"[yellow]retrying after:[/] {str(exc).splitlines()[0]}", soft_wrap=True)


def _until_signalled() -> Callable[[], bool]:
    """A stop flag set by Ctrl-C or SIGTERM (a follow loop finishes its pass, then returns)."""
    import signal
    import threading

    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    return stopping.is_set


@app.command()
def detector(
    follow: bool = typer.Option(False, "--follow", help="Keep detecting until Ctrl-C."),
    poll_seconds: float = typer.Option(0.2, min=0.01, help="Wait between empty reads."),
) -> None:
    """The Managed Flink stand-in: the events stream through the rules into anomalies."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ecomm_cli import aws_clients
    from ecomm_cli.realtime.detector_runner import DetectorRunner, DetectorTarget
    from ecomm_cli.shard_checkpoint import ShardCheckpoint

    settings = stack.running(Settings.load(env="local"))
    target = DetectorTarget.from_outputs(environments.outputs(settings))
    runner = DetectorRunner(
        aws_clients.client("kinesis", settings, component="flink"),
        target,
        ShardCheckpoint(settings.local_dir / "checkpoints" / "detector.json"),
    )
    if follow:
        console.print(
            f"detecting {target.events_stream} -> {target.anomalies_stream} (Ctrl-C stops)"
        )
        report = runner.follow(_until_signalled(), poll_seconds, on_error=_warn)
    else:
        try:
            report = runner.drain()
        except (BotoCoreError, ClientError) as exc:
            raise EcommError(
                f"reading or writing the streams failed: {str(exc).splitlines()[0]}",
                hint="the checkpoint was not moved past it: run the detector again",
            ) from None
    rules = ", ".join(f"{rule} {n}" for rule, n in sorted(report.alerts_by_rule.items()))
    console.print(
        f"read {report.events} events ({report.kinesis_records} Kinesis records), "
        f"wrote {report.alerts} alerts to {target.anomalies_stream}"
        + (f" ({rules})" if rules else ""),
        highlight=False,
        soft_wrap=True,
    )
    if report.late_events:
        late = ", ".join(f"{rule} {n}" for rule, n in sorted(report.late_by_rule.items()))
        console.print(
            f"{report.late_events} events arrived behind the watermark ({late})", soft_wrap=True
        )
    if report.rejected:
        console.print(
            f"[yellow]{report.rejected} records rejected[/]: " + "; ".join(report.reject_reasons),
            soft_wrap=True,
        )


@app.command("lambda")
def lambda_(
    follow: bool = typer.Option(False, "--follow", help="Keep polling until Ctrl-C."),
    poll_seconds: float = typer.Option(0.2, min=0.01, help="Wait between empty polls."),
) -> None:
    """The Lambda stand-in: the alerting handler on the anomalies stream, as its mapping says."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ecomm_cli import aws_clients
    from ecomm_cli.realtime import lambda_runner
    from ecomm_cli.shard_checkpoint import ShardCheckpoint

    settings = stack.running(Settings.load(env="local"))
    outputs = environments.outputs(settings)
    setup = lambda_runner.describe_function(
        aws_clients.client("lambda", settings),
        str(outputs["lambda_function_name"]),
        str(outputs["anomalies_stream_name"]),
        outputs.get("dlq_url"),
    )
    handler = lambda_runner.load_handler(setup.handler)
    runner = lambda_runner.build_runner(
        aws_clients.client("kinesis", settings, component="lambda"),
        aws_clients.client("sqs", settings, component="lambda"),
        setup,
        handler,
        ShardCheckpoint(settings.local_dir / "checkpoints" / "lambda.json"),
        settings.region,
    )
    log_file = settings.local_dir / "logs" / f"{setup.function_name}.log"
    if follow:
        console.print(f"running {setup.handler} on {setup.stream_name} (Ctrl-C stops)")
    with (
        lambda_runner.function_environment(
            setup.environment, settings.resolved_endpoint(), settings.region
        ),
        lambda_runner.function_output(log_file),
    ):
        if follow:
            report = lambda_runner.follow(runner, _until_signalled(), poll_seconds, _warn)
        else:
            try:
                report = runner.drain()
            except (BotoCoreError, ClientError) as exc:
                raise EcommError(
                    f"reading the anomalies stream failed: {str(exc).splitlines()[0]}",
                    hint="run `ecomm local lambda` again: it resumes from its checkpoint",
                ) from None
    console.print(
        f"{report.records} records in {report.invocations} invocations: {report.succeeded} "
        f"succeeded, {report.retries} retries, {report.bisections} bisections, "
        f"{report.sent_to_dlq} sent to the DLQ; function logs in {log_file}",
        highlight=False,
        soft_wrap=True,
    )

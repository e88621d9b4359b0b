"""`ecomm local up | down | status`: the whole platform on this machine, no AWS account."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from ecomm_cli.console import EcommError, console
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
    from ecomm_cli.delivery.runner import Checkpoint, DeliveryRunner, DeliveryTarget

    settings = Settings.load(env="local")
    if not stack.is_up(settings):
        raise EcommError("the local stack is not running", hint="run `ecomm local up` first")
    outputs = settings.outputs()
    target = DeliveryTarget(
        zone_dir=settings.lake_dir / "raw",
        prefix=str(outputs["raw_prefix"]),
        stream_name=str(outputs["events_stream_name"]),
        buffer_seconds=float(outputs.get("firehose_buffering_interval_seconds") or 60),
    )
    runner = DeliveryRunner(
        aws_clients.client("kinesis", settings),
        target,
        Checkpoint(settings.local_dir / "checkpoints" / "delivery.json"),
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

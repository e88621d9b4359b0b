"""`ecomm local up | down | status`: the whole platform on this machine, no AWS account;
`ecomm local deliver | detector | lambda | lookup`: the stand-ins for what the emulator cannot
run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from ecomm_cli.console import console, err_console
from ecomm_cli.errors import EXIT_FINDINGS
from ecomm_cli.local import stack
from ecomm_cli.options import FormatOption, OutputFormat
from ecomm_cli.output import Record, render
from ecomm_cli.settings import Settings

Report = TypeVar("Report")

app = typer.Typer(
    help="The local stack: AWS emulator + terraform/environments/local.", no_args_is_help=True
)


def up_message(result: stack.UpResult) -> str:
    """One line on the stack `local up` started or found running."""
    if result.already_up:
        return (
            f"[green]local stack already up[/] at {result.endpoint_url} "
            f"({result.resources} resources)"
        )
    return (
        f"[green]local stack up[/] at {result.endpoint_url}: "
        f"{result.resources} resources in {result.seconds:.0f} s"
    )


@app.command()
def up() -> None:
    """Start the emulator on 127.0.0.1 and apply terraform/environments/local (no-op if up)."""
    settings = Settings.load(env="local")
    with console.status("starting the emulator and applying terraform/environments/local"):
        result = stack.up(settings, stream=False)
    console.print(up_message(result))


@app.command()
def down() -> None:
    """Stop the emulator this project started and clear the local state (the lake stays)."""
    settings = Settings.load(env="local")
    stopped = stack.down(settings)
    console.print("[green]local stack stopped[/]" if stopped else "local stack was not running")
    console.print(f"the data lake stays at {settings.lake_dir}")


def status_output(info: dict[str, Any]) -> Record:
    """`stack.status()` for the renderer: the stack's figures, then its Terraform outputs."""
    outputs = Record("terraform outputs (environments/local)", info["outputs"])
    state = "[green]up[/]" if info["serving"] else "[red]down[/]"
    return Record(
        "local stack",
        {**info, "outputs": outputs},
        verbatim=("pid",),
        note=f"local stack: {state}",
    )


@app.command()
def status(
    output: FormatOption = OutputFormat.table,
    as_json: Annotated[
        bool, typer.Option("--json", hidden=True, help="Deprecated: use --format json.")
    ] = False,
) -> None:
    """Show the emulator endpoint and what is deployed; exit 1 when the stack is down."""
    if as_json:
        err_console.print("--json is deprecated: use --format json", style="yellow")
        output = OutputFormat.json
    info = stack.status(Settings.load(env="local"))
    render(status_output(info), output)
    if not info["serving"]:
        raise typer.Exit(EXIT_FINDINGS)


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


def _follow_or_drain(
    follow: bool, banner: str, follow_loop: Callable[[], Report], drain: Callable[[], Report]
) -> Report:
    """Follow until Ctrl-C (after saying so), or one draining pass."""
    if not follow:
        return drain()
    console.print(banner, highlight=False, soft_wrap=True)
    return follow_loop()


@app.command()
def deliver(
    follow: bool = typer.Option(False, "--follow", help="Keep delivering until Ctrl-C."),
    poll_seconds: float = typer.Option(1.0, min=0.05, help="Wait between empty reads."),
) -> None:
    """The Firehose stand-in: deliver the events stream into the local raw zone."""
    from ecomm_cli.local import runners

    runner = runners.delivery(Settings.load(env="local"))
    target = runner.target
    report = _follow_or_drain(
        follow,
        f"delivering {target.stream_name} -> {target.zone_dir} (Ctrl-C stops)",
        lambda: runner.follow(_until_signalled(), poll_seconds),
        runner.drain,
    )
    console.print(
        f"delivered {report.events} events ({report.kinesis_records} Kinesis records) "
        f"in {report.objects} objects under {target.zone_dir}"
    )


@app.command()
def detector(
    follow: bool = typer.Option(False, "--follow", help="Keep detecting until Ctrl-C."),
    poll_seconds: float = typer.Option(0.2, min=0.01, help="Wait between empty reads."),
) -> None:
    """The Managed Flink stand-in: the events stream through the rules into anomalies."""
    from ecomm_cli.local import runners

    runner = runners.detector(Settings.load(env="local"))
    target = runner.target
    report = _follow_or_drain(
        follow,
        f"detecting {target.events_stream} -> {target.anomalies_stream} (Ctrl-C stops)",
        lambda: runner.follow(_until_signalled(), poll_seconds, on_error=_warn),
        lambda: runners.drain_detector(runner),
    )
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
    from ecomm_cli.local import runners
    from ecomm_cli.realtime import lambda_runner

    function = runners.alerting_lambda(Settings.load(env="local"))

    def follow_loop() -> Any:
        with function.invocations():
            return lambda_runner.follow(function.runner, _until_signalled(), poll_seconds, _warn)

    report = _follow_or_drain(
        follow,
        f"running {function.setup.handler} on {function.setup.stream_name} (Ctrl-C stops)",
        follow_loop,
        lambda: runners.drain_lambda(function),
    )
    console.print(
        f"{report.records} records in {report.invocations} invocations: {report.succeeded} "
        f"succeeded, {report.retries} retries, {report.bisections} bisections, "
        f"{report.sent_to_dlq} sent to the DLQ; function logs in {function.log_file}",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def lookup(
    port: int = typer.Option(
        8787, "--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free port)."
    ),
) -> None:
    """The function URL stand-in: the block lookup's handler on 127.0.0.1, SigV4 required."""
    from ecomm_cli.local import lookup_server

    server = lookup_server.serve(Settings.load(env="local"), port)
    stopped = _until_signalled()
    console.print(
        f"serving {server.function.function_name} on {server.url}blocks/{{user_id}} "
        f"(SigV4 for lambda in {server.function.region}; Ctrl-C stops)",
        highlight=False,
        soft_wrap=True,
    )
    import threading

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    thread.start()
    try:
        while not stopped() and thread.is_alive():
            thread.join(0.2)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    console.print(f"answered {server.served} signed requests, refused {server.refused}")

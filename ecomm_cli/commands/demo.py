"""`ecomm demo`: the local stack, a labelled sample, replay, ETL, KPIs, alerts and the report."""

from __future__ import annotations

import signal
from pathlib import Path

import typer

from ecomm_cli.console import console, fail
from ecomm_cli.demo.pipeline import DEFAULT_BOTS, DemoOptions, DemoRun, print_summary, run_demo
from ecomm_cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, EcommError
from ecomm_cli.settings import Settings


def demo(
    rows: int = typer.Option(200_000, min=1_000, help="Rows of generated traffic."),
    days: int = typer.Option(3, min=1, help="Days the generated traffic spans."),
    seed: int = typer.Option(7, help="Seed of the generator (same seed, same data)."),
    start: str | None = typer.Option(None, help="First day of the generated traffic."),
    bots: str = typer.Option(DEFAULT_BOTS, help="Bots to inject: KIND=COUNT,..."),
    data: Path | None = typer.Option(
        None,
        "--data",
        exists=True,
        dir_okay=False,
        help="Replay this file (e.g. a REES46 month) instead.",
    ),
    speedup: float | None = typer.Option(
        None, min=0.000001, help="Replay with the original gaps divided by X."
    ),
    report: Path = typer.Option(Path("report.html"), "--report", help="Where the report goes."),
    keep_stack: bool = typer.Option(False, help="Leave the local stack running at the end."),
) -> None:
    """Run the whole platform end to end on this machine (no AWS account, no network)."""
    settings = Settings.load(env="local")
    options = DemoOptions(
        rows=rows,
        days=days,
        seed=seed,
        start=start,
        bots=bots,
        data=data,
        speedup=speedup,
        report=report,
        keep_stack=keep_stack,
    )
    run = DemoRun(settings, options)
    # A SIGTERM (a closed terminal, a CI timeout) stops the demo like Ctrl-C does: the runners
    # and the emulator live in their own sessions, so only the demo can stop them.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        run_demo(run)
    except EcommError as exc:
        # Any failed stage is an error, whatever code its command would have used.
        print_summary(run)
        fail(exc.message, exc.hint or f"logs under {run.work_dir / 'logs'}", EXIT_ERROR)
    except KeyboardInterrupt:
        print_summary(run)
        fail("interrupted: everything the demo started was stopped", code=EXIT_INTERRUPTED)
    print_summary(run)
    console.print("[bold green]demo complete[/]")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def register(app: typer.Typer) -> None:
    app.command()(demo)

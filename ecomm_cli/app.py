"""The `ecomm` command: the root app only wires the command groups together."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ecomm_cli import __version__
from ecomm_cli.console import fail
from ecomm_cli.errors import EXIT_INTERRUPTED, EXIT_OK, EcommError


class EcommGroup(TyperGroup):
    """Root command group: an expected failure anywhere below (ours, or an AWS SDK error such
    as expired credentials) becomes one line and its code (EXIT_ERROR unless it says), Ctrl-C
    one line and EXIT_INTERRUPTED (ecomm_cli.errors holds the table)."""

    def invoke(self, ctx: Any) -> Any:  # click's Context, vendored by typer
        try:
            return super().invoke(ctx)
        except EcommError as exc:
            fail(exc.message, exc.hint, exc.code)
        except KeyboardInterrupt:
            # Commands that start something (local up, demo, replay) stop it before this.
            fail("interrupted", code=EXIT_INTERRUPTED)
        except Exception as exc:
            # Loaded only on this path, so `ecomm --version` does not import botocore.
            from ecomm_cli.aws_clients import aws_error

            known = aws_error(exc)
            if known is None:
                raise
            fail(known.message, known.hint, known.code)


app = typer.Typer(
    name="ecomm",
    cls=EcommGroup,
    help="eCommerce clickstream analytics platform: infrastructure, replay, KPIs and alerts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ecomm {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """eCommerce clickstream analytics on AWS, or on this machine with `ecomm local up`."""


def _register() -> None:
    # Imported here so that `ecomm --version` stays fast and import cycles cannot form.
    from ecomm_cli.commands import doctor, infra, local

    infra.register(app)
    doctor.register(app)
    app.add_typer(local.app, name="local")
    from ecomm_cli.commands import replay

    replay.register(app)
    from ecomm_cli.commands import detect, sample

    app.add_typer(sample.app, name="sample")
    detect.register(app)
    from ecomm_cli.commands import etl, kpi

    app.add_typer(kpi.app, name="kpi")
    app.add_typer(etl.app, name="etl")
    from ecomm_cli.commands import alerts

    app.add_typer(alerts.app, name="alerts")
    from ecomm_cli.commands import demo

    demo.register(app)
    from ecomm_cli.commands import report

    report.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    app()

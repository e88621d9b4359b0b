"""`ecomm local up | down | status`: the whole platform on this machine, no AWS account."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from ecomm_cli.console import console
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

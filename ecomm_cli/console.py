"""Rich consoles and the one helper that turns an expected failure into a one-line message."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from ecomm_cli.errors import EXIT_ERROR

__all__ = ["console", "err_console", "fail"]

console = Console()
err_console = Console(stderr=True)


def fail(message: str, hint: str | None = None, code: int = EXIT_ERROR) -> NoReturn:
    """Print `error: message (hint)` on one line to stderr and exit with `code`."""
    text = f"[bold red]error:[/] {message}"
    if hint:
        text += f" [dim]({hint})[/]"
    err_console.print(text, highlight=False, soft_wrap=True)
    raise typer.Exit(code)

"""Rich consoles and the one helper that turns an expected failure into a one-line message."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

# Exit codes shared by every command.
EXIT_OK = 0
EXIT_FINDINGS = 1  # the command worked and found something (alerts firing, rows dead-lettered)
EXIT_ERROR = 2  # an expected failure: bad input, missing tool, no credentials


class EcommError(Exception):
    """An expected failure with a message for the user and an optional hint."""

    def __init__(self, message: str, hint: str | None = None, code: int = EXIT_ERROR):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code


def fail(message: str, hint: str | None = None, code: int = EXIT_ERROR) -> NoReturn:
    """Print `error: message (hint)` on one line to stderr and exit with `code`."""
    text = f"[bold red]error:[/] {message}"
    if hint:
        text += f" [dim]({hint})[/]"
    err_console.print(text, highlight=False, soft_wrap=True)
    raise typer.Exit(code)

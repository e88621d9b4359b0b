"""Annotated option types shared by the commands (defined once, reused everywhere)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class OutputFormat(StrEnum):
    """How a command prints its data (ecomm_cli/output.py renders every one)."""

    table = "table"
    json = "json"
    jsonl = "jsonl"  # one JSON object per row: streams and `jq`-friendly (alerts, KPI rows)
    csv = "csv"


EnvOption = Annotated[
    str,
    typer.Option("--env", "-e", envvar="ECOMM_ENV", help="Environment: local, dev or prod."),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        envvar="ECOMM_FORMAT",
        help="Output: table, json, jsonl (one object per row) or csv.",
    ),
]

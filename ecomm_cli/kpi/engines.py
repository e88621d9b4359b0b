"""The KPI engines a command can choose (kept tiny: the CLI imports it at start-up)."""

from __future__ import annotations

from enum import StrEnum


class Engine(StrEnum):
    """`local`: DuckDB over the curated Parquet; `athena`: Athena in the platform's workgroup."""

    local = "local"
    athena = "athena"

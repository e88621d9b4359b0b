"""Render KPI results computed elsewhere: a Rich table, JSON (a list of row objects) or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.table import Table

from ecomm_cli.kpi.result import KpiResult


def _plain(value: Any) -> Any:
    # Decimal sums (revenue) print as JSON numbers; dates and times as ISO-8601.
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_json_rows(result: KpiResult) -> list[dict[str, Any]]:
    """The rows as JSON-ready objects, keys in column order."""
    return [{c: _plain(row[c]) for c in result.columns} for row in result.rows]


def to_json(results: Sequence[KpiResult], single: bool) -> str:
    """One KPI: a list of row objects. Several: an object of such lists by KPI name."""
    if single:
        return json.dumps(to_json_rows(results[0]), indent=2)
    return json.dumps({r.name: to_json_rows(r) for r in results}, indent=2)


def to_csv(results: Sequence[KpiResult], single: bool) -> str:
    """One KPI: a CSV with a header. Several: CSV blocks, each after a `# <kpi>` line."""
    out = io.StringIO()
    for i, result in enumerate(results):
        if not single:
            out.write(("\n" if i else "") + f"# {result.name}\n")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(result.columns)
        for row in result.rows:
            writer.writerow(["" if row[c] is None else _plain(row[c]) for c in result.columns])
    return out.getvalue()


def to_table(result: KpiResult, title: str) -> Table:
    """A Rich table with numbers right-aligned and thousands separated."""
    table = Table(title=title, title_justify="left")
    numeric = {
        c: all(isinstance(r[c], int | float | Decimal) or r[c] is None for r in result.rows)
        for c in result.columns
    }
    for column in result.columns:
        table.add_column(column, justify="right" if numeric[column] and result.rows else "left")
    for row in result.rows:
        table.add_row(*[format_cell(row[c]) for c in result.columns])
    return table


def format_cell(value: Any) -> str:
    """A table cell (terminal or HTML): thousands separated, rates to four places, '-' for
    NULL, dates and times in ISO-8601."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def run_summary(result: KpiResult) -> str:
    """One line on how the KPI ran (engine, time; data scanned and cost on Athena)."""
    text = f"{result.name}: {len(result.rows):,} rows on {result.engine} in {result.seconds:.2f} s"
    if result.data_scanned_bytes is not None:
        text += f", scanned {result.data_scanned_bytes / 1024**2:,.1f} MiB"
    if result.cost_usd is not None:
        text += f", cost ${result.cost_usd:.6f}"
    return text

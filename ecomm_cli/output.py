"""The one output path of every command: computed data in; a Rich table, JSON or CSV out.

A command computes its answer first, as `Rows` (records in a column order, e.g. a KPI's rows)
or a `Record` (one mapping, e.g. a replay summary, whose values may themselves be `Rows` or
`Record`s), then calls `render(data, output)`. The same data gives:

- table: one Rich table per part (a record's plain fields as a two-column table first, then
  each nested part), on stdout;
- json: one document, `Rows` as a list of objects and `Record` as an object;
- jsonl: one compact JSON object per line: a row of `Rows` each, a `Record` as one line;
- csv: `Rows` as a header and one line a row; a `Record`'s plain fields as a header and one
  line; nested parts as further blocks, each after a blank line and a `# <name>` line.

Progress, run notes and errors go to stderr (`console.err_console`), never through here.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ecomm_cli.console import console as stdout
from ecomm_cli.options import OutputFormat


@dataclass(frozen=True)
class Rows:
    """Records sharing the columns `columns` (in that order), with a title for the table.

    `table_columns` narrows the terminal table (JSON and CSV always hold every column);
    `verbatim` columns print as they are (ids, ports), not with thousands separators;
    `styles` colours a column's cells by value (`{"status": {"fail": "red"}}`), table only;
    `note` is a line under the terminal table (JSON and CSV carry the figures it sums up).
    """

    title: str
    columns: Sequence[str]
    rows: Sequence[Mapping[str, Any]]
    table_columns: Sequence[str] | None = None
    verbatim: Collection[str] = ()
    styles: Mapping[str, Mapping[Any, str]] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True)
class Record:
    """One answer as named fields, in order; a field may hold `Rows` or another `Record`.

    The terminal shows the plain fields as a two-column table, each nested part after it, and
    `note` (Rich markup) as a line under them all.
    """

    title: str
    fields: Mapping[str, Any]
    verbatim: Collection[str] = ()
    note: str | None = None


Output = Rows | Record


def render(data: Output, output: OutputFormat, console: Console | None = None) -> None:
    """Print `data` on stdout as `output` asks (a Rich table on `console` when given)."""
    if output is OutputFormat.json:
        typer.echo(to_json(data))
    elif output is OutputFormat.jsonl:
        typer.echo(to_jsonl(data), nl=False)
    elif output is OutputFormat.csv:
        typer.echo(to_csv(data), nl=False)
    else:
        for part in terminal_view(data):
            (console or stdout).print(part, highlight=False, soft_wrap=isinstance(part, str))


# JSON ---------------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """`value` made JSON-ready: Decimal as a number, dates and times in ISO-8601, `Rows` as a
    list of objects and `Record` as an object (recursively)."""
    if isinstance(value, Rows):
        # A key a row does not have stays absent (an alert of a platform-wide rule has no
        # user_id, per the alert contract); a present None is a JSON null.
        return [{c: plain(row[c]) for c in value.columns if c in row} for row in value.rows]
    if isinstance(value, Record):
        return {name: plain(item) for name, item in value.fields.items()}
    if isinstance(value, Mapping):
        return {str(name): plain(item) for name, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_json(data: Output) -> str:
    """One JSON document (indented), keys in the data's order."""
    return json.dumps(plain(data), indent=2)


def to_jsonl(data: Output) -> str:
    """JSON lines: one compact object per row of `Rows`, or the `Record` on one line."""
    items = plain(data) if isinstance(data, Rows) else [plain(data)]
    return "".join(json.dumps(item, separators=(",", ":")) + "\n" for item in items)


# CSV ----------------------------------------------------------------------------------------


def csv_cell(value: Any) -> Any:
    """A CSV field: empty for NULL, true/false as in JSON, lists and objects as JSON text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return json.dumps(plain(value))
    return plain(value)


def _blocks(data: Output, name: str | None) -> list[tuple[str | None, list[str], list[list[Any]]]]:
    """(name, header, lines) of each CSV block of `data`: its own first, then nested ones."""
    if isinstance(data, Rows):
        lines = [[csv_cell(row.get(c)) for c in data.columns] for row in data.rows]
        return [(name, list(data.columns), lines)]
    scalars = {k: v for k, v in data.fields.items() if not isinstance(v, Rows | Record)}
    blocks = [(name, list(scalars), [[csv_cell(v) for v in scalars.values()]])] if scalars else []
    for key, value in data.fields.items():
        if isinstance(value, Rows | Record):
            blocks += _blocks(value, f"{name}.{key}" if name else key)
    return blocks


def to_csv(data: Output) -> str:
    """CSV text (csv module quoting), a header line first; nested parts as named blocks."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for i, (name, header, lines) in enumerate(_blocks(data, None)):
        if i:
            out.write("\n")
        if name is not None:
            out.write(f"# {name}\n")
        writer.writerow(header)
        writer.writerows(lines)
    return out.getvalue()


# Tables -------------------------------------------------------------------------------------


def format_cell(value: Any, verbatim: bool = False) -> str:
    """A table cell (terminal or HTML): thousands separated, rates to four places, '-' for
    NULL, dates and times in ISO-8601, lists joined with commas (`verbatim`: as it is)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if verbatim:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple) and not any(isinstance(v, Mapping | list) for v in value):
        return ", ".join(format_cell(v) for v in value) or "-"
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(plain(value))
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _titled(title: str, **options: Any) -> Table:
    # At least as wide as its title, so a narrow table does not wrap it.
    width = Text.from_markup(title).cell_len
    return Table(title=title, title_justify="left", min_width=width, **options)


def _cell(data: Rows, column: str, value: Any) -> Text:
    styles = data.styles.get(column, {})
    style = styles.get(value, "") if isinstance(value, Hashable) else ""
    return Text(format_cell(value, column in data.verbatim), style=style)


def _rows_table(data: Rows) -> Table:
    columns = list(data.table_columns or data.columns)
    table = _titled(data.title)
    for column in columns:
        values = [row.get(column) for row in data.rows if row.get(column) is not None]
        numeric = bool(values) and all(_is_number(v) for v in values)
        table.add_column(column, justify="right" if numeric else "left")
    for row in data.rows:
        table.add_row(*[_cell(data, column, row.get(column)) for column in columns])
    return table


def _record_table(data: Record, scalars: Mapping[str, Any]) -> Table:
    table = _titled(data.title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in scalars.items():
        table.add_row(key, Text(format_cell(value, key in data.verbatim)))
    return table


def terminal_view(data: Output) -> list[Table | str]:
    """What the terminal shows of `data`: its tables in order, then its note (Rich markup)."""
    if isinstance(data, Rows):
        parts: list[Table | str] = [_rows_table(data)]
    else:
        scalars = {k: v for k, v in data.fields.items() if not isinstance(v, Rows | Record)}
        parts = [_record_table(data, scalars)] if scalars else []
        for value in data.fields.values():
            if isinstance(value, Rows | Record):
                parts += terminal_view(value)
    if data.note:
        parts.append(data.note)
    return parts

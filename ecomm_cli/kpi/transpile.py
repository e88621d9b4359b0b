"""Trino (Athena) SQL to DuckDB SQL: sqlglot, plus the fixes for what it gets wrong.

This is the one place those fixes live. sqlglot translates most of Trino faithfully; measured
exceptions, each handled here and covered by tests/unit/test_kpi_transpile.py:
- integer division: Trino's `7 / 2` is 3, DuckDB's is 3.5. sqlglot emits a truncating division
  only when it knows both operands are integers, so every query is typed against the `events`
  schema first, and a division whose operand types stay unknown is refused (cast one side).
- `split_part` past the last part: NULL in Trino, '' in DuckDB. Rewritten to a list lookup.
- `date_add` on a DATE: a DATE in Trino, a TIMESTAMP in DuckDB. Cast back to DATE.
- refused outright, because sqlglot's output is wrong or fails on DuckDB: `AT TIME ZONE`,
  `format`, `format_datetime`, `parse_datetime` (Java patterns), `to_iso8601`, `map_agg`,
  `every`, `checksum`.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from ecomm_cli.errors import EcommError

# The curated `events` table as the Glue job writes it (glue/curate_events.py CURATED_SCHEMA)
# and the Glue catalog declares it; tests check the Parquet against it.
EVENTS_COLUMNS: dict[str, str] = {
    "event_time": "TIMESTAMP",
    "event_type": "VARCHAR",
    "product_id": "BIGINT",
    "category_id": "BIGINT",
    "category_code": "VARCHAR",
    "brand": "VARCHAR",
    "price": "DECIMAL(12, 2)",
    "user_id": "BIGINT",
    "user_session": "VARCHAR",
    "ingested_at": "TIMESTAMP",
    "event_hour": "INT",
    "event_weekday": "INT",
    "top_category": "VARCHAR",
    "event_date": "VARCHAR",
}
EVENTS_SCHEMA: dict[str, object] = {"events": EVENTS_COLUMNS}

_REFUSED_NODES: dict[type[exp.Expr], str] = {
    exp.AtTimeZone: "AT TIME ZONE",
    exp.Format: "format()",
    exp.ParseDatetime: "parse_datetime()",
}
_REFUSED_FUNCTIONS = {"FORMAT_DATETIME", "TO_ISO8601", "MAP_AGG", "EVERY", "CHECKSUM"}
_DATE_UNITS = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


class TranspileError(EcommError):
    """Trino SQL that cannot be run faithfully on DuckDB."""


def trino_to_duckdb(sql: str, schema: dict[str, object] | None = None) -> str:
    """DuckDB SQL computing what `sql` computes on Athena; TranspileError when it cannot."""
    schema = EVENTS_SCHEMA if schema is None else schema
    try:
        tree = sqlglot.parse_one(sql, read="trino")
    except sqlglot.errors.ParseError as exc:
        raise TranspileError(f"not valid Trino SQL: {exc}") from exc
    _refuse_unsupported(tree)
    try:
        tree = qualify(tree, schema=schema, dialect="trino")
    except sqlglot.errors.OptimizeError as exc:
        raise TranspileError(f"cannot resolve the query's columns: {exc}") from exc
    tree = annotate_types(tree, schema=schema, dialect="trino")
    _check_divisions(tree)
    tree = tree.transform(_split_part_null_past_end)
    tree = tree.transform(_date_add_keeps_date)
    return tree.sql(dialect="duckdb")


def _refuse_unsupported(tree: exp.Expr) -> None:
    for node in tree.walk():
        label = next((v for k, v in _REFUSED_NODES.items() if isinstance(node, k)), None)
        if label is None and isinstance(node, exp.Anonymous):
            name = str(node.this).upper()
            label = f"{name.lower()}()" if name in _REFUSED_FUNCTIONS else None
        if label:
            raise TranspileError(
                f"{label} has no faithful DuckDB translation",
                hint="rewrite the KPI without it (see ecomm_cli/kpi/transpile.py)",
            )


def _is_unknown(node: exp.Expr) -> bool:
    return node.type is None or node.type.is_type(exp.DataType.Type.UNKNOWN)


def _check_divisions(tree: exp.Expr) -> None:
    # sqlglot marks Trino divisions "typed" (integer operands truncate); it can only honour
    # that when it knows the operand types.
    for div in tree.find_all(exp.Div):
        if div.args.get("typed") and (_is_unknown(div.this) or _is_unknown(div.expression)):
            raise TranspileError(
                f"cannot tell whether {div.sql('trino')} is an integer division",
                hint="CAST one operand, e.g. CAST(x AS DOUBLE) / y",
            )


def _split_part_null_past_end(node: exp.Expr) -> exp.Expr:
    if not isinstance(node, exp.SplitPart):
        return node
    # DuckDB's list_extract is 1-based like split_part and gives NULL past the end.
    parts = exp.Anonymous(this="string_split", expressions=[node.this, node.args["delimiter"]])
    return exp.Anonymous(this="list_extract", expressions=[parts, node.args["part_index"]])


def _date_add_keeps_date(node: exp.Expr) -> exp.Expr:
    if not isinstance(node, exp.DateAdd) or not node.this.is_type(exp.DataType.Type.DATE):
        return node
    unit = node.args.get("unit")
    unit_name = (unit.name if unit is not None else "DAY").upper()
    if unit_name not in _DATE_UNITS:
        return node
    return exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))

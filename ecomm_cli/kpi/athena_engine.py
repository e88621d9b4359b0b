"""The Athena KPI engine: the KPI's SQL as written, in the platform's workgroup.

Takes a boto3 Athena client (from `ecomm_cli.aws_clients.client`, or one under moto's
`mock_aws` in tests) so the same code runs against AWS and the emulator.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ecomm_cli.errors import EcommError
from ecomm_cli.kpi.catalog import KpiQuery
from ecomm_cli.kpi.result import KpiResult

# Athena bills data scanned at $5 per TB (TB = 2**40 bytes), at least 10 MB per query.
PRICE_PER_TB_USD = 5.0
MIN_BILLED_BYTES = 10 * 1024**2
_DONE = {"SUCCEEDED", "FAILED", "CANCELLED"}
_INTEGER_TYPES = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOAT_TYPES = {"double", "float", "real"}


def athena_literal(value: Any) -> str:
    """A parameter value as the SQL literal Athena's ExecutionParameters expect."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise EcommError(f"cannot bind {value!r} as an Athena parameter")
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def query_cost_usd(data_scanned_bytes: int, price_per_tb_usd: float = PRICE_PER_TB_USD) -> float:
    """What Athena charges for a query that scanned this many bytes."""
    billed = max(data_scanned_bytes, MIN_BILLED_BYTES)
    return billed / 1024**4 * price_per_tb_usd


def backoff_delays(first: float = 0.25, factor: float = 2.0, cap: float = 5.0) -> Any:
    """Polling delays: 0.25 s, 0.5 s, 1 s ... capped, so short queries return fast."""
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, cap)


def run_athena(
    client: Any,
    query: KpiQuery,
    values: list[Any],
    *,
    workgroup: str,
    database: str,
    max_wait_seconds: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
    price_per_tb_usd: float = PRICE_PER_TB_USD,
) -> KpiResult:
    """Run one KPI on Athena: start, poll with backoff, page through the results, cost it.

    The workgroup decides the result location and encryption (it is enforced), so none is
    passed here. A query still running after `max_wait_seconds` of polling is stopped.
    """
    request: dict[str, Any] = {
        "QueryString": query.sql,
        "QueryExecutionContext": {"Database": database},
        "WorkGroup": workgroup,
    }
    if values:
        request["ExecutionParameters"] = [athena_literal(v) for v in values]
    started = time.perf_counter()
    execution_id = client.start_query_execution(**request)["QueryExecutionId"]
    execution = _wait(client, execution_id, max_wait_seconds, sleep)
    state = execution["Status"]["State"]
    if state != "SUCCEEDED":
        reason = execution["Status"].get("StateChangeReason", "no reason given")
        raise EcommError(f"Athena query {execution_id} for KPI {query.name} {state}: {reason}")
    columns, rows = _results(client, execution_id)
    scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes", 0))
    return KpiResult(
        name=query.name,
        columns=columns,
        rows=rows,
        engine="athena",
        seconds=time.perf_counter() - started,
        data_scanned_bytes=scanned,
        cost_usd=query_cost_usd(scanned, price_per_tb_usd),
        query_execution_id=execution_id,
    )


def _wait(
    client: Any, execution_id: str, max_wait_seconds: float, sleep: Callable[[float], None]
) -> dict[str, Any]:
    waited = 0.0
    for delay in backoff_delays():
        execution: dict[str, Any] = client.get_query_execution(QueryExecutionId=execution_id)[
            "QueryExecution"
        ]
        if execution["Status"]["State"] in _DONE:
            return execution
        if waited >= max_wait_seconds:
            client.stop_query_execution(QueryExecutionId=execution_id)
            raise EcommError(
                f"Athena query {execution_id} still running after {waited:.0f} s; stopped it",
                hint="narrow the dates with --from/--to",
            )
        sleep(delay)
        waited += delay
    raise AssertionError("unreachable")  # backoff_delays never ends


def _results(client: Any, execution_id: str) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    columns: tuple[str, ...] = ()
    types: list[str] = []
    rows: list[dict[str, Any]] = []
    header_pending = True
    paginator = client.get_paginator("get_query_results")
    for page in paginator.paginate(QueryExecutionId=execution_id):
        result_set = page["ResultSet"]
        if not columns:
            info = result_set["ResultSetMetadata"]["ColumnInfo"]
            columns = tuple(c["Name"] for c in info)
            types = [c["Type"].lower() for c in info]
        for row in result_set.get("Rows", []):
            cells = [d.get("VarCharValue") for d in row["Data"]]
            # A SELECT's first row on the first page repeats the column names.
            if header_pending:
                header_pending = False
                if tuple(cells) == columns:
                    continue
            rows.append({c: _convert(v, t) for c, v, t in zip(columns, cells, types, strict=True)})
    return columns, rows


def _convert(value: str | None, athena_type: str) -> Any:
    """Athena returns every cell as text; give it back its type."""
    if value is None:
        return None
    if athena_type in _INTEGER_TYPES:
        return int(value)
    if athena_type in _FLOAT_TYPES:
        return float(value)
    if athena_type.startswith("decimal"):
        return Decimal(value)
    if athena_type == "boolean":
        return value.lower() == "true"
    return value

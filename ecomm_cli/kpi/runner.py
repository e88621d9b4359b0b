"""Run KPIs by name on the chosen engine: the one entry point for `ecomm kpi` and the report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ecomm_cli import environments
from ecomm_cli.kpi import catalog
from ecomm_cli.kpi.athena_engine import run_athena
from ecomm_cli.kpi.engines import Engine
from ecomm_cli.kpi.local_engine import connect, curated_events_dir, run_local
from ecomm_cli.kpi.parameters import KpiParameters
from ecomm_cli.kpi.result import KpiResult
from ecomm_cli.settings import Settings


def default_engine(settings: Settings) -> Engine:
    """DuckDB in the local environment, Athena in dev and prod."""
    return Engine.local if settings.env == "local" else Engine.athena


def run_kpis(
    names: Sequence[str],
    parameters: KpiParameters,
    engine: Engine,
    settings: Settings,
    *,
    workgroup: str | None = None,
    database: str | None = None,
    athena_client: Any = None,
) -> list[KpiResult]:
    """Load each KPI by name, bind its parameters and run it; results in the order asked."""
    queries = [catalog.load(name) for name in names]
    if engine is Engine.local:
        con = connect(curated_events_dir(settings.lake_dir))
        try:
            return [run_local(q, parameters.bind(q), con) for q in queries]
        finally:
            con.close()
    if not workgroup or not database:
        # Names the flags did not give come from the chosen environment's outputs only.
        settings, outputs = environments.resolve(
            settings, require=["athena_workgroup", "glue_database"]
        )
        workgroup = workgroup or str(outputs["athena_workgroup"])
        database = database or str(outputs["glue_database"])
    if athena_client is None:
        from ecomm_cli.aws_clients import client

        athena_client = client("athena", settings)
    return [
        run_athena(athena_client, q, parameters.bind(q), workgroup=workgroup, database=database)
        for q in queries
    ]

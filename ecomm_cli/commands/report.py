"""`ecomm report`: every KPI as one self-contained HTML page (charts and tables, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecomm_cli.commands.kpi import (
    DatabaseOption,
    EngineOption,
    FromOption,
    HoursOption,
    MinViewsOption,
    ToOption,
    TopOption,
    WorkgroupOption,
)
from ecomm_cli.console import console, err_console
from ecomm_cli.environments import settings_for
from ecomm_cli.options import EnvOption

OutOption = Annotated[
    Path, typer.Option("--out", "-o", help="Where to write the HTML page.", dir_okay=False)
]


def report(
    out: OutOption = Path("report.html"),
    from_date: FromOption = None,
    to_date: ToOption = None,
    top: TopOption = 10,
    hours: HoursOption = None,
    min_views: MinViewsOption = 100,
    engine: EngineOption = None,
    workgroup: WorkgroupOption = None,
    database: DatabaseOption = None,
    env: EnvOption = "local",
) -> None:
    """Run every KPI and write one HTML page with a chart and a table for each, and the
    environment's real-time section (offenders, blocks, evidence); opens offline."""
    # Loaded here so `ecomm --help` does not import DuckDB and sqlglot.
    from ecomm_cli.kpi.parameters import KpiParameters
    from ecomm_cli.kpi.render import run_summary
    from ecomm_cli.kpi.runner import default_engine
    from ecomm_cli.report.build import build_report, write_report

    settings = settings_for(env)
    parameters = KpiParameters.from_options(from_date, to_date, top, hours, min_views)
    chosen = engine or default_engine(settings)
    page = build_report(parameters, chosen, settings, workgroup=workgroup, database=database)
    size = write_report(page, out)
    for section in page.sections:
        err_console.print(run_summary(section.result), style="dim", highlight=False)
    console.print(f"wrote {out} ({size / 1024:,.1f} KiB, {len(page.sections)} KPIs)")
    live = page.realtime
    if live is not None and live.unavailable is None:
        err_console.print(
            f"real-time ({live.environment}): {len(live.alerts):,} alerts, "
            f"{len(live.active_blocks):,} blocks in force",
            style="dim",
            highlight=False,
        )
    elif live is not None:
        err_console.print(
            f"real-time section empty: {live.unavailable}", style="dim", highlight=False
        )


def register(app: typer.Typer) -> None:
    """Add `ecomm report` to the root app."""
    app.command()(report)

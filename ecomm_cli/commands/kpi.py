"""`ecomm kpi list | <name> | all`: the business KPIs, on DuckDB locally or Athena on AWS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from ecomm_cli.console import err_console
from ecomm_cli.environments import settings_for
from ecomm_cli.kpi import catalog
from ecomm_cli.kpi.engines import Engine
from ecomm_cli.options import EnvOption, FormatOption, OutputFormat
from ecomm_cli.output import Rows, render

app = typer.Typer(
    help="Business KPIs from sql/kpi/: DuckDB over the local lake, or Athena on AWS.",
    no_args_is_help=True,
)

FromOption = Annotated[
    str | None, typer.Option("--from", help="First day, YYYY-MM-DD (UTC). Default: all data.")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (UTC), inclusive.")
]
TopOption = Annotated[int, typer.Option("--top", help="Rows per ranking (top-categories, brands).")]
HoursOption = Annotated[
    str | None,
    typer.Option("--hours", help="Hour-of-day window in UTC, e.g. 18-23 (cart-abandonment)."),
]
MinViewsOption = Annotated[
    int, typer.Option("--min-views", help="Views a brand needs to be ranked (brands-to-push).")
]
EngineOption = Annotated[
    Engine | None,
    typer.Option(
        "--engine",
        envvar="ECOMM_KPI_ENGINE",
        help="athena or local (DuckDB). Default: local in the local environment, else athena.",
    ),
]
WorkgroupOption = Annotated[
    str | None,
    typer.Option("--workgroup", envvar="ECOMM_ATHENA_WORKGROUP", help="Athena workgroup."),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", envvar="ECOMM_GLUE_DATABASE", help="Glue database of `events`."),
]


def _run(
    names: list[str],
    single: bool,
    *,
    from_date: str | None,
    to_date: str | None,
    top: int,
    hours: str | None,
    min_views: int,
    engine: Engine | None,
    output: OutputFormat,
    workgroup: str | None,
    database: str | None,
    env: str,
) -> None:
    # Engines and sqlglot load only when a KPI runs: `ecomm --help` stays fast.
    from ecomm_cli.kpi.parameters import KpiParameters
    from ecomm_cli.kpi.render import kpi_output, run_summary
    from ecomm_cli.kpi.runner import default_engine, run_kpis

    settings = settings_for(env)
    parameters = KpiParameters.from_options(from_date, to_date, top, hours, min_views)
    chosen = engine or default_engine(settings)
    results = run_kpis(names, parameters, chosen, settings, workgroup=workgroup, database=database)
    render(kpi_output(results, single), output)
    for result in results:
        err_console.print(run_summary(result), style="dim", highlight=False)


def _kpi_command(name: str) -> Callable[..., None]:
    def command(
        from_date: FromOption = None,
        to_date: ToOption = None,
        top: TopOption = 10,
        hours: HoursOption = None,
        min_views: MinViewsOption = 100,
        engine: EngineOption = None,
        output: FormatOption = OutputFormat.table,
        workgroup: WorkgroupOption = None,
        database: DatabaseOption = None,
        env: EnvOption = "local",
    ) -> None:
        _run(
            [name],
            True,
            from_date=from_date,
            to_date=to_date,
            top=top,
            hours=hours,
            min_views=min_views,
            engine=engine,
            output=output,
            workgroup=workgroup,
            database=database,
            env=env,
        )

    return command


@app.command("list")
def list_kpis(output: FormatOption = OutputFormat.table) -> None:
    """The KPIs available, with their parameters and output columns."""
    queries = [catalog.load(name) for name in catalog.names()]
    rows = [
        {"name": q.name, "title": q.title, "parameters": q.parameters, "columns": q.columns}
        for q in queries
    ]
    render(Rows("KPIs (sql/kpi/)", ("name", "title", "parameters", "columns"), rows), output)


@app.command("all")
def all_kpis(
    from_date: FromOption = None,
    to_date: ToOption = None,
    top: TopOption = 10,
    hours: HoursOption = None,
    min_views: MinViewsOption = 100,
    engine: EngineOption = None,
    output: FormatOption = OutputFormat.table,
    workgroup: WorkgroupOption = None,
    database: DatabaseOption = None,
    env: EnvOption = "local",
) -> None:
    """Every KPI with the same options (JSON: an object of row lists by KPI name)."""
    _run(
        catalog.names(),
        False,
        from_date=from_date,
        to_date=to_date,
        top=top,
        hours=hours,
        min_views=min_views,
        engine=engine,
        output=output,
        workgroup=workgroup,
        database=database,
        env=env,
    )


# One command per SQL file, so `ecomm kpi --help` lists them and a typo is a usage error.
for _name, _title in catalog.titles().items():
    app.command(_name, help=f"{_title} (sql/kpi/{_name}.sql).")(_kpi_command(_name))

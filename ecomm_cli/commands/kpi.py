"""`ecomm kpi list | <name> | all`: the business KPIs, on DuckDB locally or Athena on AWS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from ecomm_cli.console import EcommError, console, err_console, fail
from ecomm_cli.environments import settings_for
from ecomm_cli.kpi import catalog
from ecomm_cli.kpi.engines import Engine
from ecomm_cli.options import EnvOption, FormatOption, OutputFormat

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
    # Engines, sqlglot and the renderers load only when a KPI runs: `ecomm --help` stays fast.
    from ecomm_cli.kpi.parameters import KpiParameters
    from ecomm_cli.kpi.render import run_summary, to_csv, to_json, to_table
    from ecomm_cli.kpi.runner import default_engine, run_kpis

    try:
        settings = settings_for(env)
        parameters = KpiParameters.from_options(from_date, to_date, top, hours, min_views)
        chosen = engine or default_engine(settings)
        results = run_kpis(
            names, parameters, chosen, settings, workgroup=workgroup, database=database
        )
    except EcommError as exc:
        fail(exc.message, exc.hint, exc.code)
    if output is OutputFormat.json:
        typer.echo(to_json(results, single))
    elif output is OutputFormat.csv:
        typer.echo(to_csv(results, single), nl=False)
    else:
        titles = catalog.titles()
        for result in results:
            console.print(to_table(result, titles.get(result.name, result.name)))
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
    try:
        queries = [catalog.load(name) for name in catalog.names()]
    except EcommError as exc:
        fail(exc.message, exc.hint, exc.code)
    rows = [
        {
            "name": q.name,
            "title": q.title,
            "parameters": list(q.parameters),
            "columns": list(q.columns),
        }
        for q in queries
    ]
    if output is OutputFormat.json:
        import json

        typer.echo(json.dumps(rows, indent=2))
        return
    if output is OutputFormat.csv:
        typer.echo("name,title")
        for row in rows:
            typer.echo(f'{row["name"]},"{str(row["title"]).replace(chr(34), chr(34) * 2)}"')
        return
    from rich.table import Table

    table = Table(title="KPIs (sql/kpi/)", title_justify="left")
    for column in ("name", "title", "parameters", "columns"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["name"]),
            str(row["title"]),
            ", ".join(row["parameters"]),
            ", ".join(row["columns"]),
        )
    console.print(table)


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

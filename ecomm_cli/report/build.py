"""Build the report: run every KPI on the chosen engine, then render the page (the I/O side)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from ecomm_cli import aws_clients, environments
from ecomm_cli.alerts.mitigation import active_blocks
from ecomm_cli.alerts.sources import read_mitigation, read_offender_items
from ecomm_cli.alerts.status import AlertsError
from ecomm_cli.errors import EcommError
from ecomm_cli.kpi import catalog
from ecomm_cli.kpi.engines import Engine
from ecomm_cli.kpi.parameters import ALL_FROM, ALL_TO, KpiParameters
from ecomm_cli.kpi.runner import run_kpis
from ecomm_cli.report.page import KpiSection, Report, render_report
from ecomm_cli.report.realtime import RealtimeSection, alerts_from_items
from ecomm_cli.settings import Settings


def describe_period(parameters: KpiParameters) -> str:
    """The period in words: 'all data', 'from 2019-10-01', '2019-10-01 to 2019-10-02'."""
    start = None if parameters.from_date == ALL_FROM else parameters.from_date
    end = None if parameters.to_date == ALL_TO else parameters.to_date
    if start and end:
        return f"{start} to {end}"
    if start:
        return f"from {start}"
    if end:
        return f"up to {end}"
    return "all data"


def read_realtime(settings: Settings, now: datetime | None = None) -> RealtimeSection:
    """The environment's offenders and blocks for the report; when they cannot be read (no
    local stack, no state, no access), a section that says why instead of an error, so the
    KPI part of the report never depends on the real-time stack."""
    now = now or datetime.now(UTC)
    try:
        settings, outputs = environments.resolve(
            settings, require=["offenders_table", "mitigation_table"]
        )
        dynamodb = aws_clients.client("dynamodb", settings, max_attempts=2)
        items = read_offender_items(dynamodb, str(outputs["offenders_table"]))
        blocks, allows = read_mitigation(dynamodb, str(outputs["mitigation_table"]))
        alerts = alerts_from_items(items)
    except (EcommError, AlertsError) as exc:
        return RealtimeSection(settings.env, unavailable=str(exc))
    except (BotoCoreError, ClientError) as exc:
        return RealtimeSection(settings.env, unavailable=str(exc).splitlines()[0])
    return RealtimeSection(
        environment=settings.env,
        alerts=alerts,
        active_blocks=active_blocks(blocks, allows, now),
        allowlisted=sum(1 for a in allows if a.in_force(now)),
    )


def build_report(
    parameters: KpiParameters,
    engine: Engine,
    settings: Settings,
    *,
    workgroup: str | None = None,
    database: str | None = None,
    with_realtime: bool = True,
) -> Report:
    """Every KPI of the catalog, run once with the same parameters, ready to render, and the
    environment's real-time section (unless `with_realtime` is False)."""
    names = catalog.names()
    queries = {name: catalog.load(name) for name in names}
    results = run_kpis(names, parameters, engine, settings, workgroup=workgroup, database=database)
    notes = []
    if parameters.hour_from != 0 or parameters.hour_to != 23:
        notes.append(
            f"cart-abandonment counts only UTC hours {parameters.hour_from}-{parameters.hour_to}"
        )
    return Report(
        sections=[
            KpiSection(r, queries[r.name].title, queries[r.name].description) for r in results
        ],
        engine=engine.value,
        period=describe_period(parameters),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        notes=notes,
        realtime=read_realtime(settings) if with_realtime else None,
    )


def write_report(report: Report, out: Path) -> int:
    """Write the page to `out`; returns its size in bytes. A folder that is missing is an error."""
    if not out.parent.is_dir():
        raise EcommError(f"cannot write {out}: folder {out.parent} does not exist")
    if out.is_dir():
        raise EcommError(f"cannot write {out}: it is a folder", hint="pass a file name to --out")
    data = render_report(report).encode("utf-8")
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise EcommError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return len(data)

"""`ecomm alerts check | list`: offenders and alarm states; the exit code says if any fire.

`check` is for cron and CI: exit 0 when quiet, 1 when an offender was detected within --since
or an alarm is in ALARM, 2 (one line on stderr) when it cannot tell (no stack, no endpoint).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.table import Table

from ecomm_cli import aws_clients, environments
from ecomm_cli.alerts.sources import read_alarms, read_offenders
from ecomm_cli.alerts.status import (
    AlertsError,
    CheckResult,
    Offender,
    iso_utc,
    parse_duration,
    recent_offenders,
)
from ecomm_cli.console import EXIT_FINDINGS, console, fail
from ecomm_cli.options import EnvOption
from ecomm_cli.settings import Settings

app = typer.Typer(help="Offenders found by the real-time rules, and the platform's alarms.")


class AlertsFormat(StrEnum):
    table = "table"
    json = "json"


AlertsFormatOption = Annotated[
    AlertsFormat,
    typer.Option("--format", "-f", envvar="ECOMM_FORMAT", help="Output: table or json."),
]


@app.callback()
def _group() -> None:
    """Offenders found by the real-time rules, and the platform's alarms."""


def _aws_failure(exc: Exception, settings: Settings) -> NoReturn:
    where = settings.resolved_endpoint() or f"AWS ({settings.region})"
    # botocore messages are one line already; keep only the first in case of a long one.
    fail(f"cannot read alerts from {where}: {str(exc).splitlines()[0]}", "is the stack up?")


def _load(settings: Settings, with_alarms: bool) -> tuple[list[Offender], list[Any]]:
    settings, outputs = environments.resolve(settings, require=["offenders_table", "name_prefix"])
    table = outputs["offenders_table"]
    try:
        offenders = read_offenders(
            aws_clients.client("dynamodb", settings, max_attempts=2), str(table)
        )
        alarms = (
            read_alarms(
                aws_clients.client("cloudwatch", settings, max_attempts=2),
                str(outputs["name_prefix"]),
            )
            if with_alarms
            else []
        )
    except (BotoCoreError, ClientError) as exc:
        _aws_failure(exc, settings)
    return offenders, alarms


def _offenders_table(offenders: list[Offender], title: str) -> Table:
    # Narrow enough for an 80-column terminal; `--format json` has every field.
    table = Table("offender", "rule", "window start (UTC)", "count", title=title)
    for o in offenders:
        table.add_row(o.offender, o.rule, o.window_start, str(o.count))
    return table


@app.command()
def check(
    since: Annotated[
        str,
        typer.Option(
            "--since", envvar="ECOMM_ALERTS_SINCE", help="Offenders this recent: 15m, 1h, 2d."
        ),
    ] = "1h",
    output: AlertsFormatOption = AlertsFormat.table,
    env: EnvOption = "local",
) -> None:
    """Active offenders and alarm states; exit 0 quiet, 1 something fires, 2 error."""
    try:
        window = parse_duration(since)
    except AlertsError as exc:
        fail(str(exc), "e.g. --since 15m")
    settings = environments.settings_for(env)
    now = datetime.now(UTC)
    offenders, alarms = _load(settings, with_alarms=True)
    try:
        active = recent_offenders(offenders, now - window)
    except AlertsError as exc:
        fail(str(exc), "the offenders table holds an item the Lambda did not write")
    result = CheckResult(since=iso_utc(now - window), offenders=active, alarms=alarms)
    if output is AlertsFormat.json:
        typer.echo(result.to_json())
    else:
        if active:
            console.print(_offenders_table(active, f"offenders since {result.since}"))
        firing = result.firing_alarms
        if firing:
            table = Table("alarm", "state", "since", "reason", title="alarms firing")
            for alarm in firing:
                table.add_row(alarm.name, alarm.state, alarm.updated, alarm.reason)
            console.print(table)
        verdict = "[red]FIRING[/]" if result.firing else "[green]quiet[/]"
        console.print(
            f"{verdict}: {len(active)} offenders since {result.since}, "
            f"{len(firing)} of {len(alarms)} alarms in ALARM",
            soft_wrap=True,
        )
    if result.firing:
        raise typer.Exit(EXIT_FINDINGS)


@app.command("list")
def list_offenders(
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only offenders this recent (15m, 1h, 2d); default all."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most N, newest first.")] = 100,
    output: AlertsFormatOption = AlertsFormat.table,
    env: EnvOption = "local",
) -> None:
    """History: every offender the alerting Lambda recorded (until TTL removes it)."""
    try:
        cutoff = datetime.now(UTC) - parse_duration(since) if since else None
    except AlertsError as exc:
        fail(str(exc), "e.g. --since 2d")
    settings = environments.settings_for(env)
    offenders, _ = _load(settings, with_alarms=False)
    try:
        history = recent_offenders(offenders, cutoff)[:limit]
    except AlertsError as exc:
        fail(str(exc), "the offenders table holds an item the Lambda did not write")
    if output is AlertsFormat.json:
        typer.echo(json.dumps([o.__dict__ for o in history], indent=2, sort_keys=True))
        return
    if history:
        console.print(_offenders_table(history, "offenders, newest first"))
    console.print(
        f"{len(history)} offenders"
        + (f" (of {len(offenders)})" if len(history) < len(offenders) else "")
    )

"""`ecomm alerts check | list`: offenders and alarm states; the exit code says if any fire.

`check` is for cron and CI: exit 0 when quiet, 1 when an offender was detected within --since
or an alarm is in ALARM, 2 (one line on stderr) when it cannot tell (no stack, no endpoint).
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import timedelta
from typing import Annotated, Any

import typer

from ecomm_cli import environments
from ecomm_cli.alerts.checks import check_alerts, offender_history
from ecomm_cli.alerts.status import AlertsError, CheckResult, Offender, parse_duration
from ecomm_cli.console import fail
from ecomm_cli.errors import EXIT_FINDINGS
from ecomm_cli.options import EnvOption, FormatOption, OutputFormat
from ecomm_cli.output import Record, Rows, render

app = typer.Typer(help="Offenders found by the real-time rules, and the platform's alarms.")

OFFENDER_COLUMNS = tuple(f.name for f in fields(Offender))


@app.callback()
def _group() -> None:
    """Offenders found by the real-time rules, and the platform's alarms."""


def _window(since: str, example: str) -> timedelta:
    try:
        return parse_duration(since)
    except AlertsError as exc:
        fail(str(exc), f"e.g. --since {example}")


def offender_rows(offenders: list[dict[str, Any]], title: str, note: str | None = None) -> Rows:
    """Offenders as output rows: every field in JSON and CSV, 80 columns on a terminal."""
    return Rows(
        title,
        OFFENDER_COLUMNS,
        offenders,
        table_columns=("offender", "rule", "window_start", "count"),
        verbatim=("user_id",),
        note=note,
    )


def check_output(result: CheckResult) -> Record:
    """The verdict, the active offenders and every alarm (JSON: CheckResult.to_dict())."""
    body = result.to_dict()
    firing = result.firing_alarms
    verdict = "[red]FIRING[/]" if result.firing else "[green]quiet[/]"
    return Record(
        f"alerts since {result.since}",
        {
            **body,
            "offenders": offender_rows(body["offenders"], f"offenders since {result.since}"),
            "alarms": Rows(
                "alarms",
                ("name", "state", "reason", "updated", "firing"),
                body["alarms"],
                table_columns=("name", "state", "updated", "reason"),
                styles={"state": {"ALARM": "red", "OK": "green"}},
            ),
        },
        note=f"{verdict}: {len(result.offenders)} offenders since {result.since}, "
        f"{len(firing)} of {len(result.alarms)} alarms in ALARM",
    )


@app.command()
def check(
    since: Annotated[
        str,
        typer.Option(
            "--since", envvar="ECOMM_ALERTS_SINCE", help="Offenders this recent: 15m, 1h, 2d."
        ),
    ] = "1h",
    output: FormatOption = OutputFormat.table,
    env: EnvOption = "local",
) -> None:
    """Active offenders and alarm states; exit 0 quiet, 1 something fires, 2 error."""
    window = _window(since, "15m")
    result = check_alerts(environments.settings_for(env), window)
    render(check_output(result), output)
    if result.firing:
        raise typer.Exit(EXIT_FINDINGS)


@app.command("list")
def list_offenders(
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only offenders this recent (15m, 1h, 2d); default all."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most N, newest first.")] = 100,
    output: FormatOption = OutputFormat.table,
    env: EnvOption = "local",
) -> None:
    """History: every offender the alerting Lambda recorded (until TTL removes it)."""
    window = _window(since, "2d") if since else None
    history = offender_history(environments.settings_for(env), window, limit)
    shown = len(history.offenders)
    note = f"{shown} offenders" + (f" (of {history.total})" if shown < history.total else "")
    rows = [asdict(o) for o in history.offenders]
    render(offender_rows(rows, "offenders, newest first", note), output)

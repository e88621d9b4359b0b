"""`ecomm alerts check | list`: offenders and alarm states; the exit code says if any fire.
`ecomm alerts list --active | allow | unblock`: blocks in force, and letting users through.

`check` is for cron and CI: exit 0 when quiet, 1 when an offender was detected within --since
or an alarm is in ALARM, 2 (one line on stderr) when it cannot tell (no stack, no endpoint).
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from ecomm_cli import environments
from ecomm_cli.alerts.checks import (
    ActiveBlocks,
    allow_user,
    blocks_in_force,
    check_alerts,
    offender_history,
    unblock_user,
)
from ecomm_cli.alerts.mitigation import Block, parse_until
from ecomm_cli.alerts.status import AlertsError, CheckResult, Offender, parse_duration
from ecomm_cli.console import fail
from ecomm_cli.errors import EXIT_FINDINGS
from ecomm_cli.options import EnvOption, FormatOption, OutputFormat
from ecomm_cli.output import Record, Rows, render

app = typer.Typer(
    help="Offenders found by the real-time rules, their blocks, the allowlist, and the alarms."
)

OFFENDER_COLUMNS = tuple(f.name for f in fields(Offender))
BLOCK_COLUMNS = ("user_id", "rule", "until", "blocked_at", "window_start", "count")
UserArgument = Annotated[int, typer.Argument(min=0, help="The user id (as the events carry it).")]


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


def active_output(active: ActiveBlocks) -> Rows:
    """Blocks in force, the longest first (an allowlisted user's block never shows)."""
    rows = [{c: getattr(b, c) for c in BLOCK_COLUMNS} for b in active.blocks]
    return Rows(
        f"blocks in force at {active.at}",
        BLOCK_COLUMNS,
        rows,
        table_columns=("user_id", "rule", "until", "count"),
        verbatim=("user_id",),
        note=f"{len(rows)} users blocked, {len(active.allowlisted)} allowlisted",
    )


@app.command("list")
def list_offenders(
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only offenders this recent (15m, 1h, 2d); default all."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most N, newest first.")] = 100,
    active: Annotated[
        bool,
        typer.Option("--active", help="Blocks in force now instead (allowlisted users never)."),
    ] = False,
    output: FormatOption = OutputFormat.table,
    env: EnvOption = "local",
) -> None:
    """History: every offender the alerting Lambda recorded (until TTL removes it); with
    --active, the users blocked now."""
    if active:
        render(active_output(blocks_in_force(environments.settings_for(env))), output)
        return
    window = _window(since, "2d") if since else None
    history = offender_history(environments.settings_for(env), window, limit)
    shown = len(history.offenders)
    note = f"{shown} offenders" + (f" (of {history.total})" if shown < history.total else "")
    rows = [asdict(o) for o in history.offenders]
    render(offender_rows(rows, "offenders, newest first", note), output)


def _block_line(block: Block) -> str:
    return f"its {block.rule} block until {block.until}"


def _block_record(title: str, block: Block | None) -> Record | None:
    fields = {c: getattr(block, c) for c in BLOCK_COLUMNS} if block else None
    return Record(title, fields, verbatim=("user_id",)) if fields else None


@app.command()
def allow(
    user_id: UserArgument,
    reason: Annotated[
        str, typer.Option("--reason", help="Why the user is let through (kept with the entry).")
    ],
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="Until when: 30d, 12h, 2026-12-31 or an ISO time; default: until removed.",
        ),
    ] = None,
    output: FormatOption = OutputFormat.table,
    env: EnvOption = "local",
) -> None:
    """Allowlist a user: never blocked or alerted again (until --until), their block lifted."""
    now = datetime.now(UTC)
    try:
        end = parse_until(until, now) if until else None
    except AlertsError as exc:
        fail(str(exc), "e.g. --until 30d or --until 2026-12-31")
    if not reason.strip():
        fail("--reason must say why the user is let through", 'e.g. --reason "wholesale buyer"')
    allowed = allow_user(environments.settings_for(env), user_id, reason, end, now)
    lifted = f"; lifted {_block_line(allowed.lifted)}" if allowed.lifted else ""
    render(
        Record(
            f"user {user_id} allowlisted",
            {
                **{k: v for k, v in asdict(allowed.entry).items() if k != "until_epoch"},
                "lifted_block": _block_record("block lifted", allowed.lifted),
            },
            verbatim=("user_id",),
            note=f"user {user_id} allowlisted until {allowed.entry.until or 'removed'}{lifted}",
        ),
        output,
    )


@app.command()
def unblock(
    user_id: UserArgument, output: FormatOption = OutputFormat.table, env: EnvOption = "local"
) -> None:
    """Lift a user's block now (a new offence blocks them again: `allow` lets them through)."""
    removed = unblock_user(environments.settings_for(env), user_id)
    in_force = removed is not None and removed.in_force(datetime.now(UTC))
    note = (
        f"user {user_id} unblocked: removed {_block_line(removed)}"
        if removed is not None and in_force
        else f"user {user_id} was not blocked" + (" (its block had ended)" if removed else "")
    )
    render(
        Record(
            f"user {user_id}",
            {
                "user_id": user_id,
                "was_blocked": in_force,
                "removed_block": _block_record("block removed", removed),
            },
            verbatim=("user_id",),
            note=note,
        ),
        output,
    )

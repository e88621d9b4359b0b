"""`ecomm alerts` on an environment: its offenders table and alarms read, the verdict computed;
blocks listed, users allowlisted and unblocked in its mitigation table.

The one entry point for the `alerts` commands and the demo; what it returns is data, rendered
by the caller (`ecomm_cli.output`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecomm_cli import aws_clients, environments
from ecomm_cli.alerts.mitigation import (
    AllowEntry,
    Block,
    active_blocks,
    allow_update,
    unblock_update,
)
from ecomm_cli.alerts.sources import (
    read_alarms,
    read_mitigation,
    read_offenders,
    update_mitigation,
)
from ecomm_cli.alerts.status import (
    Alarm,
    AlertsError,
    CheckResult,
    Offender,
    iso_utc,
    recent_offenders,
)
from ecomm_cli.errors import EcommError
from ecomm_cli.settings import Settings

FOREIGN_ITEM_HINT = "the offenders table holds an item the Lambda did not write"


@dataclass(frozen=True)
class History:
    """The newest offenders (at most the limit asked for) and how many the table holds."""

    offenders: list[Offender]
    total: int


@contextlib.contextmanager
def _aws_errors(settings: Settings, doing: str) -> Iterator[None]:
    """An AWS SDK failure inside as one line naming where (`doing`: 'read alerts from')."""
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        where = settings.resolved_endpoint() or f"AWS ({settings.region})"
        # botocore messages are one line already; keep only the first in case of a long one.
        raise EcommError(
            f"cannot {doing} {where}: {str(exc).splitlines()[0]}", "is the stack up?"
        ) from None


def _read(settings: Settings, with_alarms: bool) -> tuple[list[Offender], list[Alarm]]:
    settings, outputs = environments.resolve(settings, require=["offenders_table", "name_prefix"])
    with _aws_errors(settings, "read alerts from"):
        offenders = read_offenders(
            aws_clients.client("dynamodb", settings, max_attempts=2),
            str(outputs["offenders_table"]),
        )
        alarms = (
            read_alarms(
                aws_clients.client("cloudwatch", settings, max_attempts=2),
                str(outputs["name_prefix"]),
            )
            if with_alarms
            else []
        )
    return offenders, alarms


def _recent(offenders: list[Offender], since: datetime | None) -> list[Offender]:
    try:
        return recent_offenders(offenders, since)
    except AlertsError as exc:
        raise EcommError(str(exc), FOREIGN_ITEM_HINT) from None


def check_alerts(settings: Settings, window: timedelta, now: datetime | None = None) -> CheckResult:
    """Offenders detected within `window` before `now`, and every alarm's state."""
    since = (now or datetime.now(UTC)) - window
    offenders, alarms = _read(settings, with_alarms=True)
    return CheckResult(since=iso_utc(since), offenders=_recent(offenders, since), alarms=alarms)


def offender_history(
    settings: Settings, window: timedelta | None, limit: int, now: datetime | None = None
) -> History:
    """The newest `limit` offenders (within `window` when given), newest first."""
    since = (now or datetime.now(UTC)) - window if window else None
    offenders, _ = _read(settings, with_alarms=False)
    return History(_recent(offenders, since)[:limit], len(offenders))


@dataclass(frozen=True)
class ActiveBlocks:
    """Blocks in force (allowlisted users left out), and the allowlist entries in force."""

    blocks: list[Block]
    allowlisted: list[AllowEntry]
    at: str


def _mitigation(settings: Settings) -> tuple[Settings, Any, str]:
    settings, outputs = environments.resolve(settings, require=["mitigation_table"])
    client = aws_clients.client("dynamodb", settings, max_attempts=2)
    return settings, client, str(outputs["mitigation_table"])


def blocks_in_force(settings: Settings, now: datetime | None = None) -> ActiveBlocks:
    """Every block in force at `now` (`now < until`) of a user not allowlisted at `now`."""
    now = now or datetime.now(UTC)
    settings, dynamodb, table = _mitigation(settings)
    with _aws_errors(settings, "read blocks from"):
        blocks, allows = read_mitigation(dynamodb, table)
    return ActiveBlocks(
        blocks=active_blocks(blocks, allows, now),
        allowlisted=[a for a in allows if a.in_force(now)],
        at=iso_utc(now),
    )


@dataclass(frozen=True)
class Allowed:
    """The allowlist entry written, and the block it lifted (None when there was none)."""

    entry: AllowEntry
    lifted: Block | None


def allow_user(
    settings: Settings,
    user_id: int,
    reason: str,
    until: datetime | None = None,
    now: datetime | None = None,
) -> Allowed:
    """Allowlist a user (the Lambda then neither blocks nor alerts them) and lift their block,
    in one write of the user's item; `added_by` is the caller's identity (STS).

    The Lambda's block write is conditional on the same item holding no allowlist entry in
    force, so a block can never be written after this returned.
    """
    now = now or datetime.now(UTC)
    settings, dynamodb, table = _mitigation(settings)
    with _aws_errors(settings, "allowlist in"):
        caller = str(
            aws_clients.client("sts", settings, max_attempts=2).get_caller_identity()["Arn"]
        )
        update = allow_update(user_id, caller, reason, now, until)
        lifted = update_mitigation(dynamodb, table, update)
    entry = AllowEntry(
        user_id=user_id,
        added_by=caller,
        reason=reason.strip(),
        added_at=iso_utc(now),
        until=iso_utc(until) if until else None,
        until_epoch=until.timestamp() if until else None,
    )
    return Allowed(entry=entry, lifted=lifted)


def unblock_user(settings: Settings, user_id: int) -> Block | None:
    """Remove a user's block (idempotent); the block removed, or None when there was none.

    The user can be blocked again by a new offence; `allow_user` is for letting them through.
    """
    settings, dynamodb, table = _mitigation(settings)
    with _aws_errors(settings, "unblock in"):
        return update_mitigation(dynamodb, table, unblock_update(user_id))

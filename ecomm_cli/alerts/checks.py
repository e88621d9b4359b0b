"""`ecomm alerts` on an environment: its offenders table and alarms read, the verdict computed.

The one entry point for the `alerts` commands and the demo; what it returns is data, rendered
by the caller (`ecomm_cli.output`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError

from ecomm_cli import aws_clients, environments
from ecomm_cli.alerts.sources import read_alarms, read_offenders
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


def _read(settings: Settings, with_alarms: bool) -> tuple[list[Offender], list[Alarm]]:
    settings, outputs = environments.resolve(settings, require=["offenders_table", "name_prefix"])
    try:
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
    except (BotoCoreError, ClientError) as exc:
        where = settings.resolved_endpoint() or f"AWS ({settings.region})"
        # botocore messages are one line already; keep only the first in case of a long one.
        raise EcommError(
            f"cannot read alerts from {where}: {str(exc).splitlines()[0]}", "is the stack up?"
        ) from None
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

"""Pure logic of `ecomm alerts`: durations, offender items, alarm states, the verdict.

No AWS calls here (see `sources`): items and alarms come in as the APIs return them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Offender items' sort keys start with this; the per-user cooldown item shares the table.
OFFENDER_SORT_KEY_PREFIX = "rule#"
FIRING_STATE = "ALARM"


class AlertsError(ValueError):
    """Bad input to `ecomm alerts` (a duration, an item that is not an offender)."""


def parse_duration(text: str) -> timedelta:
    """`30s`, `15m`, `1h`, `2d`, `1w` -> timedelta; AlertsError otherwise."""
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise AlertsError(f"duration {text!r} is not a positive NUMBER+UNIT (s, m, h, d, w)")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def iso_utc(moment: datetime) -> str:
    """ISO-8601 UTC with a Z, to the second (how offender items store `detected_at`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Offender:
    """One offender item: a user (or the platform) that one rule flagged in one window."""

    offender: str
    rule: str
    window_start: str
    window_end: str
    count: int
    detected_at: str
    user_id: int | None = None


def _value(attribute: Mapping[str, str]) -> Any:
    if "N" in attribute:
        number = float(attribute["N"])
        return int(number) if number.is_integer() else number
    if "S" in attribute:
        return attribute["S"]
    raise AlertsError(f"unexpected attribute type {sorted(attribute)}")


def offender_from_item(item: Mapping[str, Mapping[str, str]]) -> Offender | None:
    """An Offender from a DynamoDB item (attribute-value map); None for non-offender items."""
    plain = {name: _value(value) for name, value in item.items()}
    if not str(plain.get("sk", "")).startswith(OFFENDER_SORT_KEY_PREFIX):
        return None
    try:
        return Offender(
            offender=str(plain["pk"]),
            rule=str(plain["rule"]),
            window_start=str(plain["window_start"]),
            window_end=str(plain["window_end"]),
            count=int(plain["count"]),
            detected_at=str(plain["detected_at"]),
            user_id=int(plain["user_id"]) if "user_id" in plain else None,
        )
    except KeyError as exc:
        raise AlertsError(
            f"offender item {plain.get('pk')}/{plain.get('sk')} lacks {exc}"
        ) from None


@dataclass(frozen=True)
class Alarm:
    """One CloudWatch alarm and its state."""

    name: str
    state: str
    reason: str
    updated: str

    @property
    def firing(self) -> bool:
        return self.state == FIRING_STATE


def alarm_from_api(alarm: Mapping[str, Any]) -> Alarm:
    """From a DescribeAlarms MetricAlarms entry."""
    updated = alarm.get("StateUpdatedTimestamp")
    return Alarm(
        name=str(alarm["AlarmName"]),
        state=str(alarm.get("StateValue", "INSUFFICIENT_DATA")),
        reason=str(alarm.get("StateReason", "")),
        updated=iso_utc(updated) if isinstance(updated, datetime) else str(updated or ""),
    )


@dataclass
class CheckResult:
    """Offenders detected since a moment, and every alarm's state."""

    since: str
    offenders: list[Offender] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)

    @property
    def firing_alarms(self) -> list[Alarm]:
        return [alarm for alarm in self.alarms if alarm.firing]

    @property
    def firing(self) -> bool:
        """Something needs attention: an active offender or an alarm in ALARM."""
        return bool(self.offenders or self.firing_alarms)

    def to_dict(self) -> dict[str, Any]:
        """The result as the JSON output prints it."""
        return {
            "since": self.since,
            "firing": self.firing,
            "offenders": [asdict(o) for o in self.offenders],
            "alarms": [{**asdict(a), "firing": a.firing} for a in self.alarms],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def detected_moment(offender: Offender) -> datetime:
    """When the alerting side recorded the offender (its own clock, not the events')."""
    try:
        moment = datetime.fromisoformat(offender.detected_at)
    except ValueError:
        raise AlertsError(
            f"offender {offender.offender} has detected_at {offender.detected_at!r}, not ISO-8601"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def recent_offenders(offenders: Iterable[Offender], since: datetime | None) -> list[Offender]:
    """Offenders detected at or after `since` (all when None), newest first."""
    dated = [(detected_moment(o), o) for o in offenders]
    recent = [(m, o) for m, o in dated if since is None or m >= since]
    recent.sort(key=lambda pair: (pair[0], pair[1].offender, pair[1].rule), reverse=True)
    return [o for _, o in recent]

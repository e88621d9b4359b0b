"""What the detector reads and what it reports: an event, and an alert of one rule for one
window (the `anomalies` stream's contract)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from ecomm_cli.contract import parse_event_time


class Event(NamedTuple):
    """What the rules read of one event (the contract's other fields do not matter here)."""

    ts_ms: int  # event_time, epoch milliseconds UTC
    event_type: str
    product_id: int
    user_id: int
    user_session: str


def event_from_contract(event: Mapping[str, Any]) -> Event:
    """A detector event from an event-contract dict (the JSON the `events` stream carries).

    Raises ValueError (contract.RowError) when `event_time` is not a timestamp with a zone,
    and KeyError when a field the rules read is missing.
    """
    _, epoch = parse_event_time(event["event_time"])
    return Event(
        round(epoch * 1000),
        event["event_type"],
        int(event["product_id"]),
        int(event["user_id"]),
        str(event["user_session"]),
    )


def iso_ms(ts_ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC with a Z; milliseconds only when not zero."""
    moment = datetime.fromtimestamp(ts_ms / 1000, UTC)
    if ts_ms % 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def sample_of(event: Event) -> dict[str, Any]:
    """An event as it appears in an alert's samples (the SQL's JSON_OBJECT)."""
    return {
        "event_time": iso_ms(event.ts_ms),
        "event_type": event.event_type,
        "product_id": event.product_id,
        "user_id": event.user_id,
        "user_session": event.user_session,
    }


@dataclass(frozen=True)
class Alert:
    """One rule firing for one window (user_id None for platform-wide rules)."""

    rule: str
    user_id: int | None
    window_start_ms: int
    window_end_ms: int
    count: int
    samples: tuple[Event, ...]

    def to_dict(self) -> dict[str, Any]:
        """The alert as the `anomalies` stream carries it (user_id absent when platform-wide)."""
        body: dict[str, Any] = {}
        if self.user_id is not None:
            body["user_id"] = self.user_id
        body.update(
            rule=self.rule,
            window_start=iso_ms(self.window_start_ms),
            window_end=iso_ms(self.window_end_ms),
            count=self.count,
            samples=[sample_of(event) for event in self.samples],
        )
        return body

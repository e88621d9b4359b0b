"""The local detector: the `sql/realtime` rules evaluated in pure Python on event time.

Semantics mirror the Flink SQL exactly (the PyFlink conformance test compares the two):

- windows are tumbling and aligned to the epoch, like Flink's TUMBLE;
- the watermark is the newest event time seen minus the out-of-orderness bound; a window
  `[start, end)` fires once the watermark reaches `end - 1 ms` (Flink's rule), and every
  window still open fires at the end of the input (Flink's final watermark);
- an event whose window has already fired is late: Flink drops it from that window, and so
  does this detector, but it is counted per rule and the first few are kept for the report;
- same-second `purchase` / `remove_from_cart` rows of one user (a checkout, a cart clearing)
  count as one action in `flood` and `traffic_spike`;
- each alert's samples are the first and the last event the window counted (the SQL's
  FIRST_VALUE / LAST_VALUE).

Written for speed (the target is 100,000 events per second on one core): per-user state is
plain lists in dicts keyed by window start, so closing a window is one dict pop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from ecomm_cli.contract import parse_event_time
from ecomm_cli.detect.rules import (
    BURST_EVENT_TYPES,
    CART_STUFFER,
    FLOOD,
    MINUTE_SECONDS,
    RULES,
    SCRAPER,
    SESSION_CYCLER,
    TRAFFIC_SPIKE,
    TRAFFIC_SPIKE_BASELINE_WINDOWS,
    TRAFFIC_SPIKE_MIN_BASELINE_WINDOWS,
    TRAFFIC_SPIKE_WINDOW_SECONDS,
    Thresholds,
)

LATE_SAMPLES_KEPT = 5


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


@dataclass
class LateEvents:
    """Events that arrived behind the watermark, per rule whose window had already fired."""

    per_rule: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RULES, 0))
    events: int = 0  # distinct events late for at least one rule
    samples: list[Event] = field(default_factory=list)


class Detector:
    """Feed events with `process` (any order; lateness is judged by the watermark), then
    call `finish`. Both return the alerts of the windows they closed."""

    def __init__(self, thresholds: Thresholds | None = None):
        t = self.thresholds = thresholds or Thresholds()
        self._delay_ms = t.watermark_seconds * 1000
        self._flood_ms = t.flood_window_seconds * 1000
        self._minute_ms = MINUTE_SECONDS * 1000
        self._cart_ms = t.cart_stuffer_window_seconds * 1000
        self._spike_ms = TRAFFIC_SPIKE_WINDOW_SECONDS * 1000
        # window start -> user -> [count, first, last, {(event_type, second)} of bursts]
        self._flood: dict[int, dict[int, list[Any]]] = {}
        # window start -> user -> [{viewed products}, first view, last view,
        #                          {sessions}, first event, last event]
        self._minute: dict[int, dict[int, list[Any]]] = {}
        # window start -> user -> [cart adds, purchases, first add, last add]
        self._cart: dict[int, dict[int, list[Any]]] = {}
        # window start -> [plain count, {(user, event_type, second)} of bursts, first, last]
        self._spike: dict[int, list[Any]] = {}
        self._baseline: deque[int] = deque(maxlen=TRAFFIC_SPIKE_BASELINE_WINDOWS)
        self._watermark = -(2**62)
        self._close_at = 2**62  # the earliest `end - 1` among open windows
        self.events = 0
        self.late = LateEvents()

    # -- input ---------------------------------------------------------------------------

    def process(self, event: Event) -> list[Alert]:
        """Count one event; return the alerts of any windows its watermark advance closed."""
        ts, event_type, product, user, session = event
        self.events += 1
        wm = self._watermark
        burst = event_type in BURST_EVENT_TYPES
        late_for: list[str] | None = None

        size = self._flood_ms
        start = ts - ts % size
        if start + size - 1 <= wm:
            late_for = [FLOOD]
        else:
            users = self._flood.get(start)
            if users is None:
                users = self._flood[start] = {}
                self._close_at = min(self._close_at, start + size - 1)
            state = users.get(user)
            if state is None:
                users[user] = [1, event, event, {(event_type, ts // 1000)} if burst else None]
            else:
                state[2] = event
                if not burst:
                    state[0] += 1
                else:
                    seen = state[3]
                    key = (event_type, ts // 1000)
                    if seen is None:
                        state[3] = {key}
                        state[0] += 1
                    elif key not in seen:
                        seen.add(key)
                        state[0] += 1

        size = self._minute_ms
        start = ts - ts % size
        if start + size - 1 <= wm:
            late_for = [*(late_for or ()), SCRAPER, SESSION_CYCLER]
        else:
            users = self._minute.get(start)
            if users is None:
                users = self._minute[start] = {}
                self._close_at = min(self._close_at, start + size - 1)
            state = users.get(user)
            if state is None:
                if event_type == "view":
                    users[user] = [{product}, event, event, {session}, event, event]
                else:
                    users[user] = [set(), None, None, {session}, event, event]
            else:
                state[3].add(session)
                state[5] = event
                if event_type == "view":
                    state[0].add(product)
                    if state[1] is None:
                        state[1] = event
                    state[2] = event

        if event_type == "cart" or event_type == "purchase":
            size = self._cart_ms
            start = ts - ts % size
            if start + size - 1 <= wm:
                late_for = [*(late_for or ()), CART_STUFFER]
            else:
                users = self._cart.get(start)
                if users is None:
                    users = self._cart[start] = {}
                    self._close_at = min(self._close_at, start + size - 1)
                state = users.get(user)
                if state is None:
                    state = users[user] = [0, 0, None, None]
                if event_type == "cart":
                    state[0] += 1
                    if state[2] is None:
                        state[2] = event
                    state[3] = event
                else:
                    state[1] += 1

        size = self._spike_ms
        start = ts - ts % size
        if start + size - 1 <= wm:
            late_for = [*(late_for or ()), TRAFFIC_SPIKE]
        else:
            window = self._spike.get(start)
            if window is None:
                window = self._spike[start] = [0, set(), event, event]
                self._close_at = min(self._close_at, start + size - 1)
            window[3] = event
            if burst:
                window[1].add((user, event_type, ts // 1000))
            else:
                window[0] += 1

        if late_for is not None:
            self._count_late(event, late_for)
        if ts - self._delay_ms > wm:
            wm = self._watermark = ts - self._delay_ms
            if wm >= self._close_at:
                return self._close(wm)
        return []

    def run(self, events: Iterable[Event]) -> Iterator[Alert]:
        """Every alert of a finite stream of events, in the order windows close."""
        process = self.process
        for event in events:
            alerts = process(event)
            if alerts:
                yield from alerts
        yield from self.finish()

    def advance(self, watermark_ms: int) -> list[Alert]:
        """Move the watermark to `watermark_ms` without an event (never backwards).

        For a live stream that goes quiet: the caller (the local stack's runner) plays Flink's
        source idleness by advancing the watermark on its own clock, so the last windows still
        close. Returns the alerts of the windows that closed.
        """
        if watermark_ms <= self._watermark:
            return []
        self._watermark = watermark_ms
        return self._close(watermark_ms) if watermark_ms >= self._close_at else []

    def finish(self) -> list[Alert]:
        """End of input: the final watermark fires every window still open."""
        return self._close(2**62)

    # -- windows closing -----------------------------------------------------------------

    def _count_late(self, event: Event, rules: list[str]) -> None:
        late = self.late
        late.events += 1
        for rule in rules:
            late.per_rule[rule] += 1
        if len(late.samples) < LATE_SAMPLES_KEPT:
            late.samples.append(event)

    def _close(self, wm: int) -> list[Alert]:
        t = self.thresholds
        alerts: list[Alert] = []
        size = self._flood_ms
        for start in sorted(s for s in self._flood if s + size - 1 <= wm):
            for user, (count, first, last, _) in self._flood.pop(start).items():
                if count >= t.flood_events_per_window:
                    alerts.append(Alert(FLOOD, user, start, start + size, count, (first, last)))
        size = self._minute_ms
        for start in sorted(s for s in self._minute if s + size - 1 <= wm):
            for user, (viewed, first_view, last_view, sessions, first, last) in self._minute.pop(
                start
            ).items():
                if len(viewed) >= t.scraper_distinct_products_per_minute:
                    alerts.append(
                        Alert(
                            SCRAPER, user, start, start + size, len(viewed), (first_view, last_view)
                        )
                    )
                if len(sessions) >= t.session_cycler_sessions_per_minute:
                    alerts.append(
                        Alert(
                            SESSION_CYCLER, user, start, start + size, len(sessions), (first, last)
                        )
                    )
        size = self._cart_ms
        for start in sorted(s for s in self._cart if s + size - 1 <= wm):
            for user, (adds, purchases, first, last) in self._cart.pop(start).items():
                if adds >= t.cart_stuffer_adds and purchases == 0:
                    alerts.append(
                        Alert(CART_STUFFER, user, start, start + size, adds, (first, last))
                    )
        size = self._spike_ms
        for start in sorted(s for s in self._spike if s + size - 1 <= wm):
            plain, bursts, first, last = self._spike.pop(start)
            total = plain + len(bursts)
            history = self._baseline
            # total > factor * mean(history), kept in integers and one product, as in the SQL.
            if (
                len(history) >= TRAFFIC_SPIKE_MIN_BASELINE_WINDOWS
                and total >= t.traffic_spike_min_events
                and total * len(history) > t.traffic_spike_factor * sum(history)
            ):
                alerts.append(Alert(TRAFFIC_SPIKE, None, start, start + size, total, (first, last)))
            history.append(total)
        opened = [
            s + n - 1
            for windows, n in (
                (self._flood, self._flood_ms),
                (self._minute, self._minute_ms),
                (self._cart, self._cart_ms),
                (self._spike, self._spike_ms),
            )
            for s in windows
        ]
        self._close_at = min(opened, default=2**62)
        alerts.sort(key=lambda a: (a.window_end_ms, RULES.index(a.rule), a.user_id or 0))
        return alerts

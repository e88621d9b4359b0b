"""One class per rule of the manifest: its per-window state and its verdict when a window closes.

Each class mirrors its `sql/realtime/<rule>.sql` (the PyFlink conformance test compares them):
tumbling windows aligned to the epoch like Flink's TUMBLE, a window `[start, end)` closes once
the watermark reaches `end - 1 ms`, and an alert's samples are the first and the last event the
window counted (the SQL's FIRST_VALUE / LAST_VALUE). The Detector (engine.py) owns the
watermark and asks each rule, per event, to count it, and per watermark advance, to close.

Written for speed: state is a small slotted object per user and window, looked up in dicts keyed
by window start, so closing a window is one dict pop. Adding a rule: its manifest entry, its
SQL, and a class here registered in RULE_ENGINES.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from ecomm_cli.detect.model import Alert, Event

if TYPE_CHECKING:
    from ecomm_cli.detect.rules import Thresholds


NEVER = 2**62


class TumblingRule:
    """What every rule shares: tumbling windows of `size_ms` and when the earliest closes."""

    name = ""
    # The event types the rule reads at all (late or not); None: every type.
    event_types: frozenset[str] | None = None
    windows: dict[int, Any]

    def __init__(self, thresholds: Thresholds) -> None:
        self.size_ms = int(thresholds.window_seconds(self.name) * 1000)
        self.windows = {}

    def add(self, event: Event, ts: int, burst: bool, watermark: int) -> int | None:
        """Count `event` (at `ts`, its time); None when its window has already closed (late),
        else the window's closing time (`end - 1`).

        The hot path: each rule writes it out in full (window lookup included) rather than
        calling a shared helper, which would double the calls per event per rule."""
        raise NotImplementedError

    def close(self, watermark: int) -> list[Alert]:
        """The alerts of every window the watermark has passed, those windows forgotten."""
        alerts: list[Alert] = []
        size = self.size_ms
        for start in sorted(s for s in self.windows if s + size - 1 <= watermark):
            self.verdict(start, start + size, self.windows.pop(start), alerts)
        return alerts

    def verdict(self, start: int, end: int, window: Any, alerts: list[Alert]) -> None:
        raise NotImplementedError

    def next_close(self) -> int:
        return min(self.windows, default=NEVER - self.size_ms) + self.size_ms - 1


# --- flood ------------------------------------------------------------------------------------


class FloodUser:
    """One user's actions in one window: a same-second burst counts once."""

    __slots__ = ("bursts", "count", "first", "last")

    def __init__(self, event: Event) -> None:
        self.count = 0
        self.first = self.last = event
        self.bursts: set[tuple[str, int]] | None = None


class Flood(TumblingRule):
    name = "flood"

    def __init__(self, thresholds: Thresholds) -> None:
        super().__init__(thresholds)
        self.threshold = thresholds.flood_events_per_window

    def add(self, event: Event, ts: int, burst: bool, watermark: int) -> int | None:
        start = ts - ts % self.size_ms
        closes = start + self.size_ms - 1
        if closes <= watermark:
            return None
        window = self.windows.get(start)
        if window is None:
            window = self.windows[start] = {}
        state = window.get(event[3])
        if state is None:
            state = window[event[3]] = FloodUser(event)
        state.last = event
        if not burst:
            state.count += 1
            return closes
        key = (event[1], ts // 1000)
        if state.bursts is None:
            state.bursts = {key}
            state.count += 1
        elif key not in state.bursts:
            state.bursts.add(key)
            state.count += 1
        return closes

    def verdict(
        self, start: int, end: int, window: dict[int, FloodUser], alerts: list[Alert]
    ) -> None:
        for user, state in window.items():
            if state.count >= self.threshold:
                alerts.append(
                    Alert(self.name, user, start, end, state.count, (state.first, state.last))
                )


# --- scraper and session cycler: distinct values per user ----------------------------------


class DistinctUser:
    """One user's distinct values of one field in one window, with the first and last event
    that brought one."""

    __slots__ = ("first", "last", "values")

    def __init__(self, event: Event, value: Any) -> None:
        self.values = {value}
        self.first = self.last = event


class DistinctPerUser(TumblingRule):
    """Counts a user's distinct values of event field `field` (an index into `Event`) in a
    window, from the events of type `only` (None: every type); fires at `threshold_name`."""

    field = 0
    only: str | None = None
    threshold_name = ""

    def __init__(self, thresholds: Thresholds) -> None:
        super().__init__(thresholds)
        self.threshold = thresholds[self.threshold_name]

    def add(self, event: Event, ts: int, burst: bool, watermark: int) -> int | None:
        start = ts - ts % self.size_ms
        closes = start + self.size_ms - 1
        if closes <= watermark:
            return None  # late whatever its type: any event's window is judged, as in the SQL
        if self.only is not None and event[1] != self.only:
            return closes
        window = self.windows.get(start)
        if window is None:
            window = self.windows[start] = {}
        state = window.get(event[3])
        if state is None:
            window[event[3]] = DistinctUser(event, event[self.field])
        else:
            state.values.add(event[self.field])
            state.last = event
        return closes

    def verdict(
        self, start: int, end: int, window: dict[int, DistinctUser], alerts: list[Alert]
    ) -> None:
        for user, state in window.items():
            count = len(state.values)
            if count >= self.threshold:
                alerts.append(Alert(self.name, user, start, end, count, (state.first, state.last)))


class Scraper(DistinctPerUser):
    """Distinct products a user viewed (views only, as scraper.sql)."""

    name = "scraper"
    field = 2  # product_id
    only = "view"
    threshold_name = "scraper_distinct_products_per_minute"


class SessionCycler(DistinctPerUser):
    """Distinct sessions of a user (every event type, as session_cycler.sql)."""

    name = "session_cycler"
    field = 4  # user_session
    threshold_name = "session_cycler_sessions_per_minute"


# --- cart stuffer -----------------------------------------------------------------------------


class CartUser:
    """One user's cart adds and purchases in one window."""

    __slots__ = ("adds", "first_add", "last_add", "purchases")

    def __init__(self) -> None:
        self.adds = 0
        self.purchases = 0
        self.first_add: Event | None = None
        self.last_add: Event | None = None


class CartStuffer(TumblingRule):
    name = "cart_stuffer"

    def __init__(self, thresholds: Thresholds) -> None:
        super().__init__(thresholds)
        self.threshold = thresholds.cart_stuffer_adds

    # The SQL reads only cart and purchase rows: other events are never late for it.
    event_types = frozenset({"cart", "purchase"})

    def add(self, event: Event, ts: int, burst: bool, watermark: int) -> int | None:
        start = ts - ts % self.size_ms
        closes = start + self.size_ms - 1
        if closes <= watermark:
            return None
        window = self.windows.get(start)
        if window is None:
            window = self.windows[start] = {}
        state = window.get(event[3])
        if state is None:
            state = window[event[3]] = CartUser()
        if event[1] == "cart":
            state.adds += 1
            if state.first_add is None:
                state.first_add = event
            state.last_add = event
        else:
            state.purchases += 1
        return closes

    def verdict(
        self, start: int, end: int, window: dict[int, CartUser], alerts: list[Alert]
    ) -> None:
        for user, state in window.items():
            if state.adds >= self.threshold and state.purchases == 0:
                samples = (state.first_add, state.last_add)
                alerts.append(Alert(self.name, user, start, end, state.adds, samples))  # type: ignore[arg-type]


# --- traffic spike ----------------------------------------------------------------------------


class SpikeWindow:
    """The whole platform's actions in one window: plain events, and bursts counted once."""

    __slots__ = ("bursts", "first", "last", "plain")

    def __init__(self, event: Event) -> None:
        self.plain = 0
        self.bursts: set[tuple[int, str, int]] = set()
        self.first = self.last = event


class TrafficSpike(TumblingRule):
    name = "traffic_spike"

    def __init__(self, thresholds: Thresholds) -> None:
        super().__init__(thresholds)
        self.factor = thresholds.traffic_spike_factor
        self.min_events = thresholds.traffic_spike_min_events
        self.min_baseline = thresholds.traffic_spike_min_baseline_windows
        # The trailing baseline: the totals of up to this many previous non-empty windows.
        self.baseline: deque[int] = deque(maxlen=int(thresholds.traffic_spike_baseline_windows))

    def add(self, event: Event, ts: int, burst: bool, watermark: int) -> int | None:
        start = ts - ts % self.size_ms
        closes = start + self.size_ms - 1
        if closes <= watermark:
            return None
        window = self.windows.get(start)
        if window is None:
            window = self.windows[start] = SpikeWindow(event)
        window.last = event
        if burst:
            window.bursts.add((event[3], event[1], ts // 1000))
        else:
            window.plain += 1
        return closes

    def verdict(self, start: int, end: int, window: SpikeWindow, alerts: list[Alert]) -> None:
        total = window.plain + len(window.bursts)
        history = self.baseline
        # total > factor * mean(history), kept in integers and one product, as in the SQL.
        if (
            len(history) >= self.min_baseline
            and total >= self.min_events
            and total * len(history) > self.factor * sum(history)
        ):
            alerts.append(Alert(self.name, None, start, end, total, (window.first, window.last)))
        history.append(total)


# Every rule of the manifest has its class here (a test checks both ways).
RULE_ENGINES: dict[str, type[TumblingRule]] = {
    engine.name: engine for engine in (Flood, Scraper, CartStuffer, SessionCycler, TrafficSpike)
}

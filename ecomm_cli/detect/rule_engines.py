"""One class per rule of the manifest: its per-window state and its verdict when a window closes.

Each class mirrors its `sql/realtime/<rule>.sql` (the PyFlink conformance test compares them):
tumbling windows aligned to the epoch like Flink's TUMBLE, a window `[start, end)` closes once
the watermark reaches `end - 1 ms`, and an alert's samples are the first and the last event the
window counted (the SQL's FIRST_VALUE / LAST_VALUE). The Detector (engine.py) owns the
watermark and asks each rule, per event, to count it, and per watermark advance, to close.

Written for speed: state lives in dicts keyed by window start, so closing a window is one dict
pop; a short window keeps a user's first event alone and a small slotted state only from the
second (most users have one event in a short window); the sustained rules' events are kept once
for all four in a store (panes.py) and read only when a window closes. Adding a rule: its
manifest entry, its SQL, and a class here registered in RULE_ENGINES.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ecomm_cli.detect.model import Alert, Event, sample_of
from ecomm_cli.detect.rules import BURST_EVENT_TYPES

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

    def readers(self, event_type: str) -> list[str]:
        """The rules an event late here is late for: this one."""
        return [self.name]

    def next_close(self) -> int:
        return min(self.windows, default=NEVER - self.size_ms) + self.size_ms - 1


# --- flood, scraper and session cycler: many users, most with one event per window -----------


class Firsts:
    """One window of a per-user rule: a user's first event alone (most users have no other in
    a short window, and one event cannot reach a threshold of 2 or more), and a state only for
    users with more, made on their second event: one object per window instead of per user."""

    __slots__ = ("firsts", "states")

    def __init__(self) -> None:
        self.firsts: dict[int, Event] = {}
        self.states: dict[int, Any] = {}

    def singles(self) -> list[tuple[int, Event]]:
        """The users with one event in the window, and that event."""
        states = self.states
        return [(user, event) for user, event in self.firsts.items() if user not in states]


class FirstsRule(TumblingRule):
    """A tumbling rule whose windows are `Firsts`, the last one used kept at hand (the input is
    mostly in time order, so most events land in it)."""

    windows: dict[int, Firsts]

    def __init__(self, thresholds: Thresholds) -> None:
        super().__init__(thresholds)
        self._start, self._window = NEVER, Firsts()

    def _open(self, start: int) -> Firsts:
        window = self.windows.get(start)
        if window is None:
            window = self.windows[start] = Firsts()
        self._start, self._window = start, window
        return window

    def close(self, watermark: int) -> list[Alert]:
        self._start, self._window = NEVER, Firsts()  # the window at hand may be closing
        return super().close(watermark)


class FloodUser:
    """One user's actions in one window (from the second): a same-second burst counts once."""

    __slots__ = ("bursts", "count", "first", "last")

    def __init__(self, first: Event) -> None:
        self.count = 1
        self.first = self.last = first
        self.bursts: set[tuple[str, int]] | None = (
            {(first[1], first[0] // 1000)} if first[1] in BURST_EVENT_TYPES else None
        )


class Flood(FirstsRule):
    name = "flood"

    def __init__(self, thresholds: Thresholds) -> None:
        super().__init__(thresholds)
        self.threshold = thresholds.flood_events_per_window

    def add(self, event: Event, ts: int, burst: bool, watermark: int) -> int | None:
        size = self.size_ms
        start = ts - ts % size
        closes = start + size - 1
        if closes <= watermark:
            return None
        window = self._window if start == self._start else self._open(start)
        user = event[3]
        state = window.states.get(user)
        if state is None:
            first = window.firsts.get(user)
            if first is None:
                window.firsts[user] = event
                return closes
            state = window.states[user] = FloodUser(first)
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

    def verdict(self, start: int, end: int, window: Firsts, alerts: list[Alert]) -> None:
        for user, state in window.states.items():
            if state.count >= self.threshold:
                alerts.append(
                    Alert(self.name, user, start, end, state.count, (state.first, state.last))
                )
        if self.threshold <= 1:  # never with the manifest's bounds (2 at least)
            for user, event in window.singles():
                alerts.append(Alert(self.name, user, start, end, 1, (event, event)))


class DistinctUser:
    """One user's distinct values of one field in one window (from the second event that
    brought one), with the first and last event that brought one."""

    __slots__ = ("first", "last", "values")

    def __init__(self, first: Event, value: Any) -> None:
        self.values = {value}
        self.first = self.last = first


class DistinctPerUser(FirstsRule):
    """Counts a user's distinct values of event field `field` (an index into `Event`) in a
    window, from the events of type `only` (None: every type); fires at `threshold_name`."""

    field = 0
    only: str | None = None
    threshold_name = ""

    def __init__(self, thresholds: Thresholds) -> None:
        super().__init__(thresholds)
        self.threshold = thresholds[self.threshold_name]
        # On the instance: read per event, and an instance attribute is the quicker lookup.
        self.field, self.only = type(self).field, type(self).only

    def add(self, event: Event, ts: int, burst: bool, watermark: int) -> int | None:
        size = self.size_ms
        start = ts - ts % size
        closes = start + size - 1
        if closes <= watermark:
            return None  # late whatever its type: any event's window is judged, as in the SQL
        value = event[self.field]
        if value is None or (self.only is not None and event[1] != self.only):
            return closes  # the SQL filters these rows out before the window (no sample either)
        window = self._window if start == self._start else self._open(start)
        user = event[3]
        state = window.states.get(user)
        if state is None:
            first = window.firsts.get(user)
            if first is None:
                window.firsts[user] = event
                return closes
            state = window.states[user] = DistinctUser(first, first[self.field])
        state.values.add(value)
        state.last = event
        return closes

    def verdict(self, start: int, end: int, window: Firsts, alerts: list[Alert]) -> None:
        for user, state in window.states.items():
            count = len(state.values)
            if count >= self.threshold:
                alerts.append(Alert(self.name, user, start, end, count, (state.first, state.last)))
        if self.threshold <= 1:  # never with the manifest's bounds (2 at least)
            for user, event in window.singles():
                alerts.append(Alert(self.name, user, start, end, 1, (event, event)))


class Scraper(DistinctPerUser):
    """Distinct products a user viewed (views only, as scraper.sql)."""

    name = "scraper"
    field = 2  # product_id
    only = "view"
    threshold_name = "scraper_distinct_products_per_minute"


class SessionCycler(DistinctPerUser):
    """Distinct sessions of a user (every event type; sessionless events do not count, as in
    session_cycler.sql)."""

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


# --- the sustained rules: hopping windows built from panes ---------------------------------
#
# The four sustained rules see nearly every event, over hour-long windows: their events are kept
# once, per pane and user, in a store they share (panes.py), and each rule reads what it counts
# of them only when a window closes, for the few users who could reach its threshold.


def sample_text(event: Event) -> str:
    """An event's sample exactly as the SQL's JSON_OBJECT writes it (the sustained rules pick
    their samples as MIN / MAX of this text, which starts with the event time)."""
    return json.dumps(sample_of(event), separators=(",", ":"), ensure_ascii=False)


def _time_key(ts: int) -> int:
    """Where an event time puts a sample text among those of its second: the text reads
    `...:SS.mmmZ` (ms order, and '.' sorts before 'Z') or `...:SSZ` when ms is 0 (after every
    `...:SS.mmmZ` of its second, before the next second): as one integer."""
    return ts if ts % 1000 else ts + 1000


def sample_key(event: Event) -> tuple[int, str]:
    """The order of MIN / MAX over the sample texts, which start with the event time."""
    return _time_key(event[0]), sample_text(event)


def sample_bounds(events: Sequence[Event]) -> tuple[Event, Event]:
    """The earliest and latest sample (MIN / MAX of the texts) among `events` (not empty).
    Texts are made only for events tied on the earliest (latest) time: the time alone cannot
    order those (REES46 times are whole seconds, so ties are common)."""
    if len(events) == 1:
        return events[0], events[0]
    keys = [ts if ts % 1000 else ts + 1000 for ts, *_ in events]
    low_key, high_key = min(keys), max(keys)
    lows = [event for event, key in zip(events, keys, strict=True) if key == low_key]
    highs = [event for event, key in zip(events, keys, strict=True) if key == high_key]
    low = lows[0] if len(lows) == 1 else min(lows, key=sample_text)
    high = highs[0] if len(highs) == 1 else max(highs, key=sample_text)
    return low, high


def sample_range(lows: Sequence[Event], highs: Sequence[Event]) -> tuple[Event, Event]:
    """MIN and MAX of the samples over a window's panes, from each pane's own."""
    return min(lows, key=sample_key), max(highs, key=sample_key)


class HoppingRule:
    """Windows `size_ms` long, one starting every `slide_ms` (Flink's HOP), built from panes of
    `slide_ms` as Flink builds them from slices: an event counts in its pane, a window is the
    merge of the size / slide panes it spans, and it fires once the watermark reaches its end - 1.
    An event is late (dropped) only when every window holding it has fired; one that misses an
    earlier window still counts in the later ones, as in Flink's slicing window operator.

    The events live in a PaneStore (panes.py) shared by the rules of the same size and slide;
    a rule says which events it counts (`keeps`), what one pane of a user's events adds up to
    (`pane`, None when it counts none of them) and its verdict over a window's panes."""

    name = ""
    # The event types the rule reads at all (late or not); None: every type.
    event_types: frozenset[str] | None = None
    threshold_name = ""
    keeps_every_event = False  # True: `keeps` is always true (the store then skips the test)

    def __init__(self, thresholds: Thresholds) -> None:
        self.size_ms = int(thresholds.window_seconds(self.name) * 1000)
        slide = thresholds.slide_seconds(self.name)
        assert slide is not None, f"{self.name} is not a hopping rule"
        self.slide_ms = int(slide * 1000)
        self.threshold = thresholds[self.threshold_name]

    def keeps(self, event: Event) -> bool:
        """Whether the rule counts `event` at all (the SQL's WHERE)."""
        raise NotImplementedError

    def pane(self, events: list[Event]) -> Any:
        """What one user's events of one pane add up to for this rule; None: nothing counted."""
        raise NotImplementedError

    def verdict(
        self, start: int, end: int, user: int, panes: list[Any], alerts: list[Alert]
    ) -> None:
        """Alert when the user's `panes` (each not None) of window [start, end) reach the
        threshold."""
        raise NotImplementedError


class SustainedVolume(HoppingRule):
    """Actions per user over a long window; a same-second burst counts once (as flood)."""

    name = "sustained_volume"
    threshold_name = "sustained_volume_actions"
    keeps_every_event = True

    def keeps(self, event: Event) -> bool:
        return True

    def pane(self, events: list[Event]) -> tuple[int, Event, Event]:
        # A burst key (type, second) never spans two panes: a pane is whole seconds.
        bursts = {(e[1], e[0] // 1000) for e in events if e[1] in BURST_EVENT_TYPES}
        actions = sum(1 for e in events if e[1] not in BURST_EVENT_TYPES)
        return (actions + len(bursts), *sample_bounds(events))

    def verdict(
        self,
        start: int,
        end: int,
        user: int,
        panes: list[tuple[int, Event, Event]],
        alerts: list[Alert],
    ) -> None:
        total = sum(p[0] for p in panes)
        if total >= self.threshold:
            samples = sample_range([p[1] for p in panes], [p[2] for p in panes])
            alerts.append(Alert(self.name, user, start, end, total, samples))


class SustainedDistinct(HoppingRule):
    """Distinct values of event field `field` per user over a long window, from the events of
    type `only` (None: every type); events without a value do not count."""

    field = 0
    only: str | None = None

    def keeps(self, event: Event) -> bool:
        return event[self.field] is not None and (self.only is None or event[1] == self.only)

    def pane(self, events: list[Event]) -> tuple[set[Any], Event, Event] | None:
        counted = [e for e in events if self.keeps(e)]
        if not counted:
            return None
        return {e[self.field] for e in counted}, *sample_bounds(counted)

    def verdict(
        self,
        start: int,
        end: int,
        user: int,
        panes: list[tuple[set[Any], Event, Event]],
        alerts: list[Alert],
    ) -> None:
        values = set().union(*(p[0] for p in panes))
        if len(values) >= self.threshold:
            samples = sample_range([p[1] for p in panes], [p[2] for p in panes])
            alerts.append(Alert(self.name, user, start, end, len(values), samples))


class SustainedScraper(SustainedDistinct):
    """Distinct products a user viewed over a long window (views only, as scraper)."""

    name = "sustained_scraper"
    threshold_name = "sustained_scraper_distinct_products"
    field = 2  # product_id
    only = "view"


class SustainedSessionChurn(SustainedDistinct):
    """Distinct sessions of a user over a long window (sessionless events do not count)."""

    name = "sustained_session_churn"
    threshold_name = "sustained_session_churn_sessions"
    field = 4  # user_session


class SustainedCartStuffer(HoppingRule):
    """Cart adds per user over a long window with no purchase in it (as cart_stuffer)."""

    name = "sustained_cart_stuffer"
    threshold_name = "sustained_cart_stuffer_adds"
    event_types = frozenset({"cart", "purchase"})

    def keeps(self, event: Event) -> bool:
        return event[1] in self.event_types

    def pane(self, events: list[Event]) -> tuple[int, int, Event | None, Event | None] | None:
        adds = [e for e in events if e[1] == "cart"]
        purchases = sum(1 for e in events if e[1] == "purchase")
        if not adds:
            return (0, purchases, None, None) if purchases else None
        return (len(adds), purchases, *sample_bounds(adds))  # samples come from cart adds only

    def verdict(
        self,
        start: int,
        end: int,
        user: int,
        panes: list[tuple[int, int, Event | None, Event | None]],
        alerts: list[Alert],
    ) -> None:
        adds = sum(p[0] for p in panes)
        if adds >= self.threshold and not any(p[1] for p in panes):
            lows = [p[2] for p in panes if p[2] is not None]
            highs = [p[3] for p in panes if p[3] is not None]
            alerts.append(Alert(self.name, user, start, end, adds, sample_range(lows, highs)))


# Every rule of the manifest has its class here (a test checks both ways).
RULE_ENGINES: dict[str, type[TumblingRule] | type[HoppingRule]] = {
    engine.name: engine
    for engine in (
        Flood,
        Scraper,
        CartStuffer,
        SessionCycler,
        SustainedVolume,
        SustainedScraper,
        SustainedCartStuffer,
        SustainedSessionChurn,
        TrafficSpike,
    )
}

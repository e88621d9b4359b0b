"""The local detector: the `sql/realtime` rules evaluated in pure Python on event time.

Semantics mirror the Flink SQL exactly (the PyFlink conformance test compares the two):

- every rule of the manifest (sql/realtime/rules.json) is one class of rule_engines.py, with
  tumbling windows aligned to the epoch, like Flink's TUMBLE;
- the watermark is the newest event time seen minus the out-of-orderness bound; a window
  `[start, end)` fires once the watermark reaches `end - 1 ms` (Flink's rule), and every
  window still open fires at the end of the input (Flink's final watermark);
- an event whose window has already fired is late: Flink drops it from that window, and so
  does this detector, but it is counted per rule and the first few are kept for the report;
- same-second `purchase` / `remove_from_cart` rows of one user (a checkout, a cart clearing)
  count as one action in `flood` and `traffic_spike`;
- each alert's samples are the first and the last event the window counted (the SQL's
  FIRST_VALUE / LAST_VALUE).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ecomm_cli.detect.model import Alert, Event, event_from_contract, iso_ms, sample_of
from ecomm_cli.detect.panes import PaneStore
from ecomm_cli.detect.rule_engines import NEVER, RULE_ENGINES, HoppingRule, TumblingRule
from ecomm_cli.detect.rules import BURST_EVENT_TYPES, RULES, Thresholds

__all__ = [
    "Alert",
    "Detector",
    "Event",
    "LateEvents",
    "event_from_contract",
    "iso_ms",
    "sample_of",
]

LATE_SAMPLES_KEPT = 5
# A rule's (or pane store's) `add` and `readers`.
Adder = Callable[[Event, int, bool, int], "int | None"]
Readers = Callable[[str], list[str]]


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
        self.thresholds = thresholds or Thresholds()
        self._delay_ms = int(self.thresholds.watermark_seconds * 1000)
        names = self.thresholds.manifest.rule_names
        missing = [rule for rule in names if rule not in RULE_ENGINES]
        if missing:
            raise ValueError(f"no engine class for rule(s) {', '.join(missing)} (rule_engines.py)")
        engines = [RULE_ENGINES[rule](self.thresholds) for rule in names]
        # The hopping rules of one window size and slide share one store of their events
        # (panes.py), in the place of the first of them.
        stores: dict[tuple[int, int], list[HoppingRule]] = {}
        for engine in engines:
            if isinstance(engine, HoppingRule):
                stores.setdefault((engine.size_ms, engine.slide_ms), []).append(engine)
        self._rules: list[TumblingRule | PaneStore] = []
        for engine in engines:
            if isinstance(engine, TumblingRule):
                self._rules.append(engine)
            elif stores[engine.size_ms, engine.slide_ms][0] is engine:
                self._rules.append(PaneStore(stores[engine.size_ms, engine.slide_ms]))
        self._order = {rule: i for i, rule in enumerate(names)}
        # Per event type: whether it is a burst type, and (bound add, the rules an event late
        # there is late for) of the rules reading it: looked up once per type, not per event.
        self._by_type: dict[str, tuple[bool, list[tuple[Adder, Readers]]]] = {}
        self._watermark = -(2**62)
        self._close_at = NEVER  # the earliest `end - 1` among open windows
        self.events = 0
        self.late = LateEvents()

    # -- input ---------------------------------------------------------------------------

    def process(self, event: Event) -> list[Alert]:
        """Count one event; return the alerts of any windows its watermark advance closed."""
        self.events += 1
        wm = self._watermark
        ts, event_type = event[0], event[1]
        burst, adders = self._by_type.get(event_type) or self._dispatch(event_type)
        late_for: list[str] | None = None
        close_at = self._close_at
        for add, readers in adders:
            closes = add(event, ts, burst, wm)
            if closes is None:
                late_for = (
                    readers(event_type) if late_for is None else late_for + readers(event_type)
                )
            elif closes < close_at:
                close_at = closes
        self._close_at = close_at
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
        return self._close(NEVER)

    def _dispatch(self, event_type: str) -> tuple[bool, list[tuple[Adder, Readers]]]:
        """What `process` needs for an event type, worked out on its first event."""
        dispatch = self._by_type[event_type] = (
            event_type in BURST_EVENT_TYPES,
            [
                (rule.add, rule.readers)
                for rule in self._rules
                if rule.event_types is None or event_type in rule.event_types
            ],
        )
        return dispatch

    # -- windows closing -----------------------------------------------------------------

    def _count_late(self, event: Event, rules: list[str]) -> None:
        late = self.late
        late.events += 1
        for rule in rules:
            late.per_rule[rule] += 1
        if len(late.samples) < LATE_SAMPLES_KEPT:
            late.samples.append(event)

    def _close(self, wm: int) -> list[Alert]:
        alerts: list[Alert] = []
        for rule in self._rules:
            alerts += rule.close(wm)
        self._close_at = min((rule.next_close() for rule in self._rules), default=NEVER)
        order = self._order
        alerts.sort(key=lambda a: (a.window_end_ms, order[a.rule], a.user_id or 0))
        return alerts

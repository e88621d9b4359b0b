"""The events of the sustained (hopping-window) rules, kept once for all of them.

The sustained rules of one window size and slide (all four, as shipped) see nearly every event
and keep it for an hour of event time. Counting it in four per-rule states cost four pane and
user lookups per event and a dozen small objects per pane and user, most of the detector's time
(half of it in the garbage collector walking those objects). Here an event costs one append to
its user's list in its pane, and a rule reads those lists only when a window closes, and only
for the users whose events in the panes still held could reach its threshold: a window cannot
count more than its events, so the others need no verdict (most users, most of the time).

Windows, lateness and closing are those of `HoppingRule` (rule_engines.py), unchanged: the
rules of one store share their size and slide, so an event is late for all of them or for none,
and the watermark fires their windows together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecomm_cli.detect.model import Alert, Event
from ecomm_cli.detect.rule_engines import NEVER, HoppingRule

# One pane's events: per user, in arrival order.
Pane = dict[int, list[Event]]


class PaneStore:
    """The panes of the hopping rules that share a window size and slide: per pane, per user,
    the events at least one of them counts."""

    def __init__(self, rules: list[HoppingRule]) -> None:
        self.rules = rules
        self.size_ms, self.slide_ms = rules[0].size_ms, rules[0].slide_ms
        assert all((r.size_ms, r.slide_ms) == (self.size_ms, self.slide_ms) for r in rules)
        types = [rule.event_types for rule in rules]
        # The event types the store reads at all (late or not); None: every type.
        self.event_types: frozenset[str] | None = (
            None if None in types else frozenset().union(*(t for t in types if t is not None))
        )
        # Which events to keep: those a rule counts (None: every event, no test per event).
        self.keeps: Callable[[Event], bool] | None = (
            None
            if any(rule.keeps_every_event for rule in rules)
            else lambda event: any(rule.keeps(event) for rule in rules)
        )
        self.panes: dict[int, Pane] = {}
        self.fired_until = -NEVER  # the end of the last window the watermark has passed
        # Per user, the events held in `panes`: no window of the user counts more.
        self.bound: dict[int, int] = {}
        # The users whose bound reaches the lowest threshold: the only ones a verdict can flag
        # (kept as bounds move, so a close need not scan every user).
        self.lowest = min(rule.threshold for rule in rules)
        self.watched: dict[int, None] = {}
        # Per rule, per pane and user: (events seen, what they add up to): the lists only grow,
        # so a pane read for one window serves the next ones unless events came in between.
        self.tallies: list[dict[int, dict[int, tuple[int, Any]]]] = [{} for _ in rules]
        # The pane of the last event and its users (the input is mostly in time order).
        self._pane: int = NEVER
        self._users: Pane = {}

    def readers(self, event_type: str) -> list[str]:
        """The rules reading events of `event_type` (those an event of it is late for)."""
        return [
            rule.name
            for rule in self.rules
            if rule.event_types is None or event_type in rule.event_types
        ]

    def add(self, event: Event, ts: int, burst: bool, watermark: int) -> int | None:
        """Keep the event in its pane; the end - 1 of the next window to fire, or None when
        every window holding the event has fired (late)."""
        slide = self.slide_ms
        pane = ts - ts % slide
        if pane + self.size_ms - 1 <= watermark:
            return None
        end, fired = pane + slide, self.fired_until + slide
        closes = (end if end > fired else fired) - 1
        keeps = self.keeps
        if keeps is not None and not keeps(event):
            return closes  # the SQL's WHERE drops these rows before the window
        if pane == self._pane:
            users = self._users
        else:
            got = self.panes.get(pane)
            if got is None:
                got = self.panes[pane] = {}
            users = got
            self._pane, self._users = pane, users
        user = event[3]
        events = users.get(user)
        if events is None:
            users[user] = [event]
        else:
            events.append(event)
        bound = self.bound
        held = bound[user] = bound.get(user, 0) + 1
        if held == self.lowest:
            self.watched[user] = None
        return closes

    def next_close(self) -> int:
        """The `end - 1` of the first window holding a held pane that has not fired."""
        if not self.panes:
            return NEVER - 1
        slide = self.slide_ms
        end, fired = min(self.panes) + slide, self.fired_until + slide
        return (end if end > fired else fired) - 1

    def close(self, watermark: int) -> list[Alert]:
        """The alerts of every window with data that the watermark has passed, in end order."""
        size, slide = self.size_ms, self.slide_ms
        limit = ((watermark + 1) // slide) * slide  # the last window end the watermark passed
        if limit <= self.fired_until:
            return []  # no window ended since the last close (the short rules close more often)
        ends = sorted(
            {
                pane + k
                for pane in self.panes
                for k in range(slide, size + 1, slide)
                if self.fired_until < pane + k <= limit
            }
        )
        alerts: list[Alert] = []
        for rule, tallies in zip(self.rules, self.tallies, strict=True):
            threshold = rule.threshold
            suspects = [user for user in self.watched if self.bound[user] >= threshold]
            if suspects:
                for end in ends:
                    self._verdicts(rule, tallies, end, suspects, alerts)
        self.fired_until = max(self.fired_until, limit)
        bound, watched, lowest = self.bound, self.watched, self.lowest
        for pane in [p for p in self.panes if p + size <= self.fired_until]:
            for user, events in self.panes.pop(pane).items():
                left = bound[user] - len(events)
                if left > 0:
                    bound[user] = left
                else:
                    del bound[user]
                if left < lowest:
                    watched.pop(user, None)
            for tallies in self.tallies:
                tallies.pop(pane, None)
            if pane == self._pane:
                self._pane, self._users = NEVER, {}
        return alerts

    def _verdicts(
        self,
        rule: HoppingRule,
        tallies: dict[int, dict[int, tuple[int, Any]]],
        end: int,
        suspects: list[int],
        alerts: list[Alert],
    ) -> None:
        """The rule's verdict on window [end - size, end) for each suspect with events in it."""
        size, slide = self.size_ms, self.slide_ms
        panes = [
            (pane, users)
            for pane in range(end - size, end, slide)
            if (users := self.panes.get(pane))
        ]
        for user in suspects:
            counted = []
            for pane, users in panes:
                events = users.get(user)
                if events is None:
                    continue
                known = tallies.setdefault(pane, {})
                seen = known.get(user)
                if seen is None or seen[0] != len(events):
                    seen = known[user] = (len(events), rule.pane(events))
                if seen[1] is not None:
                    counted.append(seen[1])
            if counted:
                rule.verdict(end - size, end, user, counted, alerts)

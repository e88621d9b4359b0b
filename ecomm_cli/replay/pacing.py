"""When each event leaves: as fast as possible, `--rate N` events per second at most, or
`--speedup X` (the original gaps between event times divided by X); and how the send rate
backs off while Kinesis throttles."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

# Sleeping for less than this costs more than it saves; the sender absorbs the difference.
_MIN_SLEEP = 0.0005


class Pacer:
    """Schedules events on the monotonic clock. Both limits may apply at once: an event leaves
    at the later of its `--speedup` time and its `--rate` slot."""

    def __init__(
        self,
        speedup: float | None = None,
        rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if speedup is not None and speedup <= 0:
            raise ValueError("--speedup must be greater than 0")
        if rate is not None and rate <= 0:
            raise ValueError("--rate must be greater than 0")
        self.speedup = speedup
        self.interval = 1.0 / rate if rate else 0.0
        self._clock = clock
        self._sleep = sleep
        self._origin: tuple[float, float] | None = None  # (event epoch, monotonic start)
        self._next_slot = 0.0

    @property
    def active(self) -> bool:
        return self.speedup is not None or self.interval > 0

    def wait(self, epoch: float) -> float | None:
        """Block until the event with event time `epoch` is due; return when it was due."""
        if not self.active:
            return None
        now = self._clock()
        target = now
        if self.speedup is not None:
            if self._origin is None:
                self._origin = (epoch, now)
            first_epoch, start = self._origin
            # An event earlier than the first (unsorted input) is due at once, not in the past.
            target = start + max(0.0, epoch - first_epoch) / self.speedup
        if self.interval:
            slot = max(self._next_slot, now)
            target = max(target, slot)
            self._next_slot = target + self.interval
        delay = target - now
        if delay > _MIN_SLEEP:
            self._sleep(delay)
        return target


class Lateness:
    """Histogram (1 ms buckets) of how late events left against their schedule."""

    def __init__(self, max_ms: int = 60_000):
        self._buckets = [0] * (max_ms + 1)
        self._count = 0
        self._lock = threading.Lock()

    def record(self, scheduled: float, actual: float) -> None:
        index = min(len(self._buckets) - 1, max(0, int((actual - scheduled) * 1000)))
        with self._lock:
            self._buckets[index] += 1
            self._count += 1

    @property
    def count(self) -> int:
        return self._count

    def percentile_ms(self, q: float) -> float | None:
        """The `q`-quantile of lateness in milliseconds (upper bucket edge), None if empty."""
        with self._lock:
            if not self._count:
                return None
            rank = q * self._count
            seen = 0
            for index, n in enumerate(self._buckets):
                seen += n
                if seen >= rank:
                    return float(index + 1)
        return float(len(self._buckets))


class ThrottleGovernor:
    """Backs the send rate off while Kinesis throttles and recovers when it stops.

    Shared by the senders: each waits `delay` (with jitter) before a request. A response with
    throttled entries multiplies the delay by 1.5 (from 10 ms up to 1 s); a response without
    halves it, down to none. Per-entry retries have their own backoff (`backoff_delay`).
    """

    MIN_DELAY = 0.01
    MAX_DELAY = 1.0

    def __init__(self, sleep: Callable[[float], None] = time.sleep):
        self.delay = 0.0
        self._lock = threading.Lock()
        self._sleep = sleep

    def before_request(self) -> None:
        """Wait the current delay (a random share of it, so that senders do not align)."""
        delay = self.delay
        if delay:
            self._sleep(delay * random.uniform(0.5, 1.0))

    def throttled(self) -> None:
        with self._lock:
            self.delay = min(self.MAX_DELAY, max(self.MIN_DELAY, self.delay * 1.5))

    def succeeded(self) -> None:
        with self._lock:
            self.delay = 0.0 if self.delay < 2 * self.MIN_DELAY else self.delay * 0.5


def backoff_delay(attempt: int, base: float = 0.02, cap: float = 2.0) -> float:
    """Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS
    Architecture Blog): uniform in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0, min(cap, base * (2**attempt)))

"""The follow loop of the local stream runners (detector, event source mapping)."""

from __future__ import annotations

import time
from collections.abc import Callable

MAX_BACKOFF_S = 5.0


def follow(
    poll_once: Callable[[], int],
    should_stop: Callable[[], bool],
    poll_seconds: float,
    retryable: tuple[type[Exception], ...],
    on_error: Callable[[Exception], None] | None = None,
) -> None:
    """Call `poll_once` until `should_stop()`, resting `poll_seconds` after a pass that found
    nothing. A `retryable` failure (the emulator answers 500 under load) is told to `on_error`
    and retried after a backoff that doubles per failure in a row (up to 5 s): the runners keep
    their positions until a pass succeeds, so the retry reads exactly what failed."""
    failures = 0
    while not should_stop():
        try:
            found = poll_once()
        except retryable as exc:
            failures += 1
            if on_error is not None:
                on_error(exc)
            time.sleep(min(poll_seconds * 2**failures, MAX_BACKOFF_S))
            continue
        failures = 0
        if not found:
            time.sleep(poll_seconds)

"""The follow loop of the local runners: retries what failed with a doubling backoff."""

from __future__ import annotations

import pytest

from ecomm_cli.realtime import polling

pytestmark = pytest.mark.unit


def test_failures_back_off_doubling_and_a_success_resets_the_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(polling.time, "sleep", slept.append)
    outcomes: list[int | Exception] = [OSError("500"), OSError("500"), 3, 0, OSError("500")]
    errors: list[Exception] = []

    def poll_once() -> int:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    polling.follow(poll_once, lambda: not outcomes, 0.5, (OSError,), errors.append)
    # Two failures (1 s, 2 s), a pass that found 3 (no rest), an empty pass (rest 0.5 s), and
    # a failure after a success starts the backoff over (1 s).
    assert slept == [1.0, 2.0, 0.5, 1.0]
    assert [str(e) for e in errors] == ["500", "500", "500"]


def test_the_backoff_is_bounded_and_other_errors_stop_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(polling.time, "sleep", slept.append)
    calls = iter(range(8))

    def poll_once() -> int:
        if next(calls) < 6:
            raise OSError("500")
        raise ValueError("a bug, not a transient failure")

    with pytest.raises(ValueError, match="a bug"):
        polling.follow(poll_once, lambda: False, 1.0, (OSError,))
    assert slept == [2.0, 4.0, 5.0, 5.0, 5.0, 5.0]

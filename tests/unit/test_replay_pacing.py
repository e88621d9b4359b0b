"""Pacing (--speedup, --rate), lateness percentiles, throttling backoff: on a fake clock."""

from __future__ import annotations

import pytest

from ecomm_cli.replay.pacing import Lateness, Pacer, ThrottleGovernor, backoff_delay

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_speedup_keeps_the_original_gaps_divided() -> None:
    clock = FakeClock()
    pacer = Pacer(speedup=10, clock=clock, sleep=clock.sleep)
    due = [pacer.wait(epoch) for epoch in (1000.0, 1000.0, 1010.0, 1030.0)]
    assert due == [100.0, 100.0, 101.0, 103.0]
    assert clock.now == pytest.approx(103.0)


def test_speedup_does_not_wait_for_an_event_out_of_order() -> None:
    clock = FakeClock()
    pacer = Pacer(speedup=1, clock=clock, sleep=clock.sleep)
    pacer.wait(1000.0)
    assert pacer.wait(990.0) == 100.0 and clock.sleeps == []


def test_rate_caps_events_per_second() -> None:
    clock = FakeClock()
    pacer = Pacer(rate=4, clock=clock, sleep=clock.sleep)
    due = [pacer.wait(0.0) for _ in range(9)]
    assert due == [100.0 + i * 0.25 for i in range(9)]


def test_rate_and_speedup_together_take_the_later() -> None:
    clock = FakeClock()
    pacer = Pacer(speedup=1, rate=1, clock=clock, sleep=clock.sleep)
    assert [pacer.wait(e) for e in (0.0, 0.1, 5.0)] == [100.0, 101.0, 105.0]


def test_unpaced_returns_none_and_bad_values_are_refused() -> None:
    assert Pacer().wait(1.0) is None
    with pytest.raises(ValueError):
        Pacer(speedup=0)
    with pytest.raises(ValueError):
        Pacer(rate=-1)


def test_lateness_percentiles() -> None:
    lateness = Lateness()
    assert lateness.percentile_ms(0.99) is None
    for ms in range(100):
        lateness.record(10.0, 10.0 + (ms + 0.5) / 1000)
    assert lateness.percentile_ms(0.5) == 50.0
    assert lateness.percentile_ms(0.99) == 99.0


def test_throttle_governor_backs_off_and_recovers() -> None:
    slept: list[float] = []
    governor = ThrottleGovernor(sleep=slept.append)
    governor.before_request()
    assert slept == []
    for _ in range(30):
        governor.throttled()
    assert governor.delay == ThrottleGovernor.MAX_DELAY
    governor.before_request()
    assert 0.5 <= slept[-1] <= 1.0
    for _ in range(20):
        governor.succeeded()
    assert governor.delay == 0.0


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    for attempt in range(12):
        for _ in range(20):
            assert 0 <= backoff_delay(attempt) <= min(2.0, 0.02 * 2**attempt)

"""The local detector's rules and event-time semantics, on hand-made event streams."""

from __future__ import annotations

import pytest

from ecomm_cli.detect import Detector, Event, Thresholds
from ecomm_cli.detect.engine import event_from_contract, iso_ms

pytestmark = pytest.mark.unit

T0 = 1_569_888_000_000  # 2019-10-01T00:00:00Z in epoch milliseconds


def at(second: float) -> int:
    return T0 + round(second * 1000)


def ev(second: float, kind: str = "view", product: int = 1, user: int = 7, session: str = "s1"):
    return Event(at(second), kind, product, user, session)


def run(events, **overrides) -> list[dict]:
    thresholds = Thresholds().with_overrides({k: str(v) for k, v in overrides.items()})
    return [alert.to_dict() for alert in Detector(thresholds).run(events)]


def rules(alerts: list[dict]) -> list[str]:
    return [alert["rule"] for alert in alerts]


# The semantics tests pin the flood threshold at 20 so they do not move with its default.
FLOOD_20 = {"flood_events_per_window": 20}


def test_flood_fires_at_the_threshold_and_not_below() -> None:
    at_threshold = [ev(i * 0.4, product=i % 3) for i in range(20)]  # 20 views in 8 s
    below = at_threshold[:19]
    alerts = run(at_threshold, **FLOOD_20)
    assert rules(alerts) == ["flood"]
    assert alerts[0] == {
        "user_id": 7,
        "rule": "flood",
        "window_start": "2019-10-01T00:00:00Z",
        "window_end": "2019-10-01T00:00:10Z",
        "count": 20,
        "samples": [
            {"event_time": "2019-10-01T00:00:00Z", "event_type": "view", "product_id": 0,
             "user_id": 7, "user_session": "s1"},
            {"event_time": "2019-10-01T00:00:07.600Z", "event_type": "view", "product_id": 1,
             "user_id": 7, "user_session": "s1"},
        ],
    }  # fmt: skip
    assert run(below, **FLOOD_20) == []
    default = Thresholds().flood_events_per_window
    assert rules(run([ev(i * 8 / default) for i in range(default)])) == ["flood"]
    assert run([ev(i * 8 / default) for i in range(default - 1)]) == []


def test_same_second_checkout_and_cart_clearing_count_as_one_action() -> None:
    checkout = [ev(3, "purchase", product=p) for p in range(49)]  # one click, 49 rows
    clearing = [ev(5, "remove_from_cart", product=p) for p in range(30)]
    assert run(checkout + clearing) == []
    # The same purchases spread over different seconds are separate actions.
    spread = [ev(i * 0.5, "purchase", product=i) for i in range(20)]  # 10 distinct seconds
    assert run(spread, flood_events_per_window=10) != []
    assert run(spread, flood_events_per_window=11) == []
    # Views are never deduplicated: 20 in one second are 20 actions.
    assert rules(run([ev(2) for _ in range(20)], **FLOOD_20)) == ["flood"]


def test_flood_windows_are_tumbling_and_aligned_to_the_epoch() -> None:
    # 12 events either side of a window boundary: 24 in 10 s, but 12 per window.
    events = [ev(5.2 + i * 0.4) for i in range(24)]
    assert run(events) == []
    alerts = run(events, flood_events_per_window=12)
    assert [(a["window_start"], a["count"]) for a in alerts] == [
        ("2019-10-01T00:00:00Z", 12),
        ("2019-10-01T00:00:10Z", 12),
    ]


def test_scraper_counts_distinct_viewed_products_per_minute() -> None:
    walker = [ev(i * 1.5, product=i) for i in range(30)]  # 30 products in 45 s
    reloader = [ev(i * 1.5, product=i % 5, user=8) for i in range(40)]
    carts = [ev(i * 1.5, "cart", product=i, user=9) for i in range(35)]
    alerts = run(walker + reloader + carts, flood_events_per_window=99, cart_stuffer_adds=99)
    assert [(a["rule"], a["user_id"], a["count"]) for a in alerts] == [("scraper", 7, 30)]
    assert [s["product_id"] for s in alerts[0]["samples"]] == [0, 29]


def test_session_cycler_counts_sessions_per_minute() -> None:
    cycler = [ev(i * 2, session=f"s{i // 2}") for i in range(24)]  # 12 sessions in 48 s
    alerts = run(cycler)
    assert [(a["rule"], a["count"]) for a in alerts] == [("session_cycler", 12)]
    assert run(cycler[:22]) == []


def test_cart_stuffer_needs_many_adds_and_no_purchase_in_the_window() -> None:
    adds = [ev(i * 4, "cart", product=i) for i in range(60)]  # 60 adds in 4 minutes
    alerts = run(adds)
    assert [(a["rule"], a["count"], a["window_end"]) for a in alerts] == [
        ("cart_stuffer", 60, "2019-10-01T00:05:00Z")
    ]
    assert run([*adds, ev(250, "purchase", product=3)]) == []
    # A purchase in the NEXT window does not clear this one.
    assert rules(run([*adds, ev(301, "purchase", product=3)])) == ["cart_stuffer"]


def test_traffic_spike_is_relative_to_a_trailing_baseline() -> None:
    # 20 windows of 10 events from 10 users, then one window with 200 events from 100 users.
    calm = [ev(w * 10 + i * 0.9, user=i) for w in range(20) for i in range(10)]
    burst = [ev(200 + i * 0.04, user=100 + i % 100) for i in range(200)]
    after = [ev(210 + i, user=1) for i in range(5)]
    alerts = run(calm + burst + after)
    assert [(a["rule"], a["count"], a["window_start"]) for a in alerts] == [
        ("traffic_spike", 200, "2019-10-01T00:03:20Z")
    ]
    assert "user_id" not in alerts[0]
    assert run(calm + burst + after, traffic_spike_min_events=201) == []
    assert run(calm + burst + after, traffic_spike_factor=20) == []
    # No verdict without at least six windows of history.
    assert run(calm[-50:] + burst + after) == []


def test_windows_close_when_the_watermark_passes_their_end() -> None:
    detector = Detector(Thresholds(**FLOOD_20))  # 5 s of out-of-orderness
    for i in range(20):
        assert detector.process(ev(i * 0.4)) == []
    assert detector.process(ev(14.998, user=1)) == []  # watermark 9.998 s: still open
    # Watermark 9.999 s = end - 1 ms: Flink fires a window there, so does the detector.
    closed = detector.process(ev(14.999, user=1))
    assert rules([a.to_dict() for a in closed]) == ["flood"]
    assert detector.finish() == []


def test_late_events_are_counted_and_reported_not_silently_dropped() -> None:
    detector = Detector()
    detector.process(ev(1))
    detector.process(ev(3, user=2))
    detector.process(ev(0.5))  # out of order but within 5 s: counted normally
    assert detector.late.events == 0
    detector.process(ev(70, user=3))  # watermark 65 s: the first flood and minute windows close
    detector.process(ev(2))  # behind the watermark: late for flood, minute rules, traffic
    detector.finish()
    assert detector.late.events == 1
    assert detector.late.per_rule == {
        "flood": 1,
        "scraper": 1,
        "cart_stuffer": 0,
        "session_cycler": 1,
        "traffic_spike": 1,
        # An hour-long window holding it is still open: on time for the sustained rules.
        "sustained_volume": 0,
        "sustained_scraper": 0,
        "sustained_cart_stuffer": 0,
        "sustained_session_churn": 0,
    }
    assert detector.late.samples == [ev(2)]
    assert detector.events == 5


def test_late_event_still_counts_where_its_longer_window_is_open() -> None:
    detector = Detector()
    detector.process(ev(0, "cart"))
    detector.process(ev(30, user=2))  # watermark 25 s: the 10-s windows before it closed
    detector.process(ev(1, "cart"))  # late for flood and traffic, on time for cart and minute
    assert detector.late.per_rule["flood"] == 1
    assert detector.late.per_rule["cart_stuffer"] == 0
    assert detector.late.per_rule["scraper"] == 0


def test_end_of_input_closes_every_open_window() -> None:
    alerts = run([ev(i * 0.1) for i in range(25)])
    assert [(a["rule"], a["count"]) for a in alerts] == [("flood", 25)]


def test_thresholds_validate_and_override() -> None:
    assert Thresholds().flood_window_seconds == 10
    assert Thresholds().with_overrides({"traffic_spike_factor": "2.5"}).traffic_spike_factor == 2.5
    with pytest.raises(ValueError, match="unknown threshold"):
        Thresholds().with_overrides({"nope": "1"})
    with pytest.raises(ValueError, match="needs a number"):
        Thresholds().with_overrides({"cart_stuffer_adds": "many"})
    with pytest.raises(ValueError, match="between 1 and 3600"):
        Thresholds(flood_window_seconds=0)


def test_iso_formatting() -> None:
    assert iso_ms(T0) == "2019-10-01T00:00:00Z"
    assert iso_ms(T0 + 1) == "2019-10-01T00:00:00.001Z"


def test_advancing_the_watermark_closes_windows_of_a_quiet_stream() -> None:
    detector = Detector(Thresholds(**FLOOD_20))
    for i in range(20):
        detector.process(ev(i * 0.4))
    assert detector.advance(at(9.998)) == []
    assert [a.rule for a in detector.advance(at(10))] == ["flood"]
    assert detector.advance(at(5)) == []  # never backwards
    detector.process(ev(3))  # its flood window fired: late, counted
    assert detector.late.per_rule["flood"] == 1


def test_events_from_the_contract_json() -> None:
    event = event_from_contract(
        {
            "event_time": "2019-10-01T00:00:07.250Z",
            "event_type": "cart",
            "product_id": 5802432,
            "category_id": 2053013555631882655,
            "user_id": 554043335,
            "user_session": "8ad649da",
            "ingested_at": "2026-11-28T02:00:00.000Z",
        }
    )
    assert event == Event(at(7.25), "cart", 5802432, 554043335, "8ad649da")
    with pytest.raises(ValueError, match="no time zone"):
        event_from_contract({**event._asdict(), "event_time": "2019-10-01 00:00:00"})

"""The detector on the real REES46 samples: it must not page on real customers.

No snapshot of the alerts: invariants every alert must satisfy, recomputed here independently
of the detector (the csv module over the raw files), and a short list of real users the docs
show to be automated, with the evidence. The thresholds were chosen on the cosmetics sample;
the multicategory head is the scoring sample, on which no user may be flagged unless listed.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pytest

from ecomm_cli.detect import Detector
from ecomm_cli.detect.envelope import flagged_rate_upper_bound
from ecomm_cli.detect.rules import MANIFEST, Thresholds
from ecomm_cli.detect.source import ReadStats, read_events
from ecomm_cli.settings import PROJECT_ROOT
from tests.conftest import rees46_file

pytestmark = pytest.mark.unit

COSMETICS = "cosmetics-2019-10-sample.csv"  # the tuning sample
MULTICATEGORY = "multicategory-2019-10-01-head.csv"  # the scoring sample
BURST_TYPES = {"purchase", "remove_from_cart"}

# Real users the detector flags, each shown in docs/realtime.md ("Real users still flagged")
# with the evidence that it is not a customer. Nothing else may be flagged.
DOCUMENTED_BOTS = {COSMETICS: {528971009}, MULTICATEGORY: set()}


class Row(NamedTuple):
    second: int  # epoch seconds (REES46 times are whole seconds)
    kind: str
    user: int
    product: int
    session: str | None


def _raw_rows(path: Path) -> list[Row]:
    """Every complete row, independently of the code under test."""
    rows = []
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        skip = 1 if next(reader)[0] == "" else 0  # the pandas index column
        for fields in reader:
            fields = fields[skip:]
            if len(fields) != 9:
                continue  # the truncated last line of the multicategory head
            moment = datetime.strptime(fields[0], "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
            rows.append(
                Row(int(moment.timestamp()), fields[1], int(fields[7]), int(fields[2]),
                    fields[8] or None)
            )  # fmt: skip
    return rows


def _burst_members(rows: list[Row]) -> Counter:
    """How many rows each (user, type, second) of purchase/removal holds."""
    return Counter((r.user, r.kind, r.second) for r in rows if r.kind in BURST_TYPES)


def _recount(rule: str, rows: list[Row]) -> int:
    """What `rule` counts over one user's rows of one window, written out plainly."""
    family = MANIFEST.rule(rule).family
    if family == "flood":  # actions: a same-second purchase or removal burst is one
        bursts = {(r.kind, r.second) for r in rows if r.kind in BURST_TYPES}
        return sum(r.kind not in BURST_TYPES for r in rows) + len(bursts)
    if family == "scraper":
        return len({r.product for r in rows if r.kind == "view"})
    if family == "cart_stuffer":
        return 0 if any(r.kind == "purchase" for r in rows) else sum(r.kind == "cart" for r in rows)
    if family == "session_cycler":
        return len({r.session for r in rows if r.session is not None})
    raise AssertionError(f"no recount for rule {rule}")


def _threshold(rule: str) -> float:
    name = next(p.name for p in MANIFEST.rule(rule).parameters if p.role == "threshold")
    return Thresholds()[name]


@pytest.fixture(scope="module", params=[COSMETICS, MULTICATEGORY])
def sample(request):
    path = rees46_file(request.param)
    return path, _raw_rows(path), list(Detector().run(read_events(path, ReadStats())))


def test_the_naive_rule_fires_98_times_on_the_cosmetics_bursts() -> None:
    rows = _raw_rows(rees46_file(COSMETICS))
    per_window = Counter((r.user, r.second // 10) for r in rows)
    assert sum(1 for n in per_window.values() if n > 10) == 98


def test_no_alert_window_holds_only_same_second_bursts(sample) -> None:
    _, rows, alerts = sample
    members = _burst_members(rows)
    for alert in alerts:
        if alert.user_id is None:
            continue
        start, end = alert.window_start_ms // 1000, alert.window_end_ms // 1000
        in_window = [r for r in rows if r.user == alert.user_id and start <= r.second < end]
        outside_bursts = [r for r in in_window if members[(r.user, r.kind, r.second)] < 2]
        assert outside_bursts, f"{alert.rule} fired on bursts only: {alert.to_dict()}"


def test_no_flood_on_customers_the_naive_rule_flags_for_bursts(sample) -> None:
    _, rows, alerts = sample
    members = _burst_members(rows)
    windows: dict[tuple[int, int], list[Row]] = defaultdict(list)
    for row in rows:
        windows[(row.user, row.second // 10)].append(row)
    burst_driven = {
        (user, window * 10)
        for (user, window), held in windows.items()
        if len(held) > 10 and sum(members[(r.user, r.kind, r.second)] < 2 for r in held) <= 10
    }
    flooded = {(a.user_id, a.window_start_ms // 1000) for a in alerts if a.rule == "flood"}
    assert not flooded & burst_driven


def test_every_alert_is_explained_by_its_window_and_samples(sample) -> None:
    """Recounted from the raw rows, each alert's window holds its count, at or over the
    threshold, and its samples are rows of that user in that window."""
    _, rows, alerts = sample
    by_user: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        by_user[row.user].append(row)
    for alert in alerts:
        assert alert.user_id is not None, f"a platform-wide alert on real traffic: {alert}"
        start, end = alert.window_start_ms // 1000, alert.window_end_ms // 1000
        held = [r for r in by_user[alert.user_id] if start <= r.second < end]
        count = _recount(alert.rule, held)
        assert count == alert.count >= _threshold(alert.rule), alert.to_dict()
        for event in alert.samples:
            row = Row(event.ts_ms // 1000, event.event_type, event.user_id, event.product_id,
                      event.user_session)  # fmt: skip
            assert row in held, f"sample {event} is no row of the window: {alert.to_dict()}"


def test_only_documented_bots_are_flagged(sample) -> None:
    path, _, alerts = sample
    flagged = {a.user_id for a in alerts}
    assert flagged <= DOCUMENTED_BOTS[path.name], sorted(flagged - DOCUMENTED_BOTS[path.name])


def test_the_docs_show_each_flagged_user_and_the_scoring_rate() -> None:
    docs = (PROJECT_ROOT / "docs" / "realtime.md").read_text()
    section = docs.split("### Real users still flagged", 1)[1].split("\n## ", 1)[0]
    for users in DOCUMENTED_BOTS.values():
        for user in users:
            assert f"`{user}`" in section
    path = rees46_file(MULTICATEGORY)
    users = {r.user for r in _raw_rows(path)}
    flagged = {a.user_id for a in Detector().run(read_events(path, ReadStats()))}
    bound = flagged_rate_upper_bound(len(flagged), len(users)) * 10_000
    assert f"{len(flagged)} of {len(users):,} users" in section
    assert f"at most {bound:.1f} per 10,000" in section


def _busiest_hours(rows: list[Row], skip_users: set[int]) -> dict[str, int]:
    """Per sustained figure, the busiest user-hour: every one-hour window starting on a
    5-minute boundary, counted as the sustained rules count."""
    windows: dict[tuple[int, int], list[Row]] = defaultdict(list)
    for row in rows:
        if row.user in skip_users:
            continue
        first = row.second - row.second % 300 - 3300
        for start in range(first, row.second + 1, 300):
            windows[(row.user, start)].append(row)
    return {
        figure: max(_recount(rule, held) for held in windows.values())
        for figure, rule in FIGURE_RULE.items()
    }


# docs/realtime.md, "How the defaults were chosen": the busiest real customer-hour per rule.
FIGURE_RULE = {
    "actions": "sustained_volume",
    "distinct_views": "sustained_scraper",
    "cart_adds": "sustained_cart_stuffer",
    "sessions": "sustained_session_churn",
}
BUSIEST_HOUR = {
    COSMETICS: {"actions": 176, "distinct_views": 57, "cart_adds": 95, "sessions": 41},
    MULTICATEGORY: {"actions": 51, "distinct_views": 37, "cart_adds": 5, "sessions": 7},
}


def test_the_busiest_real_customer_hours_are_those_the_docs_give() -> None:
    for name, expected in BUSIEST_HOUR.items():
        busiest = _busiest_hours(_raw_rows(rees46_file(name)), DOCUMENTED_BOTS[name])
        assert busiest == expected
        for figure, value in busiest.items():
            assert value < _threshold(FIGURE_RULE[figure])

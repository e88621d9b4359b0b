"""Every KPI's SQL (transpiled, on DuckDB) against an independent pure-Python computation.

The events are generated here and written to Parquet with DuckDB in the curated layout (no
Spark needed); the Python side re-implements each KPI from its header's definition, row by row.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ecomm_cli.kpi import catalog
from ecomm_cli.kpi.local_engine import connect, run_local
from ecomm_cli.kpi.parameters import KpiParameters

pytestmark = pytest.mark.unit

CATEGORIES = [
    None,
    "electronics.smartphone",
    "electronics.audio.headphone",
    "appliances.kitchen.mixer",
    "apparel.shoes",
    "computers.notebook",
]
BRANDS = [None, "apple", "samsung", "xiaomi", "lg", "bosch", "nike"]
EVENT_TYPES = ["view"] * 12 + ["cart"] * 4 + ["remove_from_cart"] * 2 + ["purchase"] * 3


@dataclass(frozen=True)
class Event:
    time: datetime
    type: str
    product_id: int
    category_code: str | None
    brand: str | None
    price: Decimal
    user_id: int
    session: str | None  # None: an event without a session (the full public exports have some)

    @property
    def date(self) -> str:
        return self.time.strftime("%Y-%m-%d")

    @property
    def hour(self) -> int:
        return self.time.hour

    @property
    def weekday(self) -> int:
        return self.time.isoweekday()

    @property
    def top_category(self) -> str | None:
        return self.category_code.split(".")[0] if self.category_code else None


# Users whose events carry no session: user-level figures count them, session-level ones
# must leave them out (a GROUP BY user_session would make them one "session").
SESSIONLESS_USERS = (1003, 1004, 1005)


def generate_events(seed: int = 7) -> list[Event]:
    """Users with sessions over four days (some crossing midnight), all event types; three
    users without any session."""
    rng = random.Random(seed)
    start = datetime(2019, 10, 1, tzinfo=UTC)
    events: list[Event] = []
    for user in range(1, 90):
        for s in range(rng.randint(1, 4)):
            session = f"s-{user}-{s}"
            # A few sessions start just before midnight, so they span two days.
            moment = start + timedelta(
                days=rng.randint(0, 3),
                hours=23 if rng.random() < 0.1 else rng.randint(0, 23),
                minutes=rng.randint(0, 59),
            )
            for _ in range(rng.randint(1, 9)):
                category = rng.choice(CATEGORIES)
                events.append(
                    Event(
                        time=moment,
                        type=rng.choice(EVENT_TYPES),
                        product_id=rng.randint(1, 40),
                        category_code=category,
                        brand=rng.choice(BRANDS),
                        price=Decimal(rng.randint(50, 90_000)) / 100,
                        user_id=1000 + user,
                        session=None if 1000 + user in SESSIONLESS_USERS else session,
                    )
                )
                moment += timedelta(minutes=rng.randint(0, 20))
    return events


def write_curated(events: Iterable[Event], curated_dir: Path) -> None:
    """The curated `events` table as the Glue job lays it out: Parquet per event_date."""
    curated_dir.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        """CREATE TABLE events (
            event_time TIMESTAMPTZ, event_type VARCHAR, product_id BIGINT, category_id BIGINT,
            category_code VARCHAR, brand VARCHAR, price DECIMAL(12, 2), user_id BIGINT,
            user_session VARCHAR, ingested_at TIMESTAMPTZ, event_hour INTEGER,
            event_weekday INTEGER, top_category VARCHAR, event_date VARCHAR)"""
    )
    con.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                e.time,
                e.type,
                e.product_id,
                2053013555631882655,
                e.category_code,
                e.brand,
                e.price,
                e.user_id,
                e.session,
                e.time,
                e.hour,
                e.weekday,
                e.top_category,
                e.date,
            ]
            for e in events
        ],
    )
    con.execute(f"COPY events TO '{curated_dir}' (FORMAT parquet, PARTITION_BY (event_date))")
    con.close()


# Independent reference computations ---------------------------------------------------------
def _periods(rows: list[Event]) -> list[tuple[str, list[Event]]]:
    by_day: dict[str, list[Event]] = defaultdict(list)
    for e in rows:
        by_day[e.date].append(e)
    out = sorted(by_day.items())
    return [*out, ("all", rows)] if rows else []


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _flags(rows: list[Event], key: Callable[[Event], Any]) -> dict[Any, set[str]]:
    flags: dict[Any, set[str]] = defaultdict(set)
    for e in rows:
        flags[key(e)].add(e.type)
    return flags


def ref_unique_visitors(events: list[Event], p: KpiParameters) -> list[dict[str, Any]]:
    rows = [e for e in events if p.from_date <= e.date <= p.to_date]
    return [
        {
            "event_date": period,
            "unique_visitors": len({e.user_id for e in sel}),
            "sessions": len({e.session for e in sel if e.session is not None}),
        }
        for period, sel in _periods(rows)
    ]


def ref_cart_abandonment(events: list[Event], p: KpiParameters) -> list[dict[str, Any]]:
    rows = [
        e
        for e in events
        if p.from_date <= e.date <= p.to_date
        and p.hour_from <= e.hour <= p.hour_to
        and e.type in ("cart", "purchase")  # a day with neither has no row
    ]
    out = []
    for period, sel in _periods(rows):
        in_session = [e for e in sel if e.session is not None]
        sessions = _flags(in_session, lambda e: e.session)
        cart_value: dict[str | None, Decimal] = defaultdict(Decimal)
        for e in in_session:
            if e.type == "cart":
                cart_value[e.session] += e.price
        carted = [s for s, t in sessions.items() if "cart" in t]
        abandoned = [s for s in carted if "purchase" not in sessions[s]]
        users = _flags(sel, lambda e: e.user_id)
        users_carted = [u for u, t in users.items() if "cart" in t]
        users_abandoned = [u for u in users_carted if "purchase" not in users[u]]
        out.append(
            {
                "event_date": period,
                "sessions_with_cart": len(carted),
                "abandoned_sessions": len(abandoned),
                "session_abandonment_rate": _rate(len(abandoned), len(carted)),
                "abandoned_cart_value": sum((cart_value[s] for s in abandoned), Decimal(0)),
                "users_with_cart": len(users_carted),
                "abandoned_users": len(users_abandoned),
                "user_abandonment_rate": _rate(len(users_abandoned), len(users_carted)),
            }
        )
    return out


def ref_funnel(events: list[Event], p: KpiParameters) -> list[dict[str, Any]]:
    rows = [e for e in events if p.from_date <= e.date <= p.to_date]
    out = []
    for period, sel in _periods(rows):
        sessions = _flags([e for e in sel if e.session is not None], lambda e: e.session)
        viewed = [t for t in sessions.values() if "view" in t]
        carted = [t for t in viewed if "cart" in t]
        bought = [t for t in carted if "purchase" in t]
        out.append(
            {
                "event_date": period,
                "sessions": len(sessions),
                "viewed_sessions": len(viewed),
                "carted_sessions": len(carted),
                "purchased_sessions": len(bought),
                "view_to_cart_rate": _rate(len(carted), len(viewed)),
                "cart_to_purchase_rate": _rate(len(bought), len(carted)),
                "view_to_purchase_rate": _rate(len(bought), len(viewed)),
            }
        )
    return out


def ref_revenue(events: list[Event], p: KpiParameters) -> list[dict[str, Any]]:
    rows = [e for e in events if p.from_date <= e.date <= p.to_date]
    out = []
    for period, sel in _periods(rows):
        purchases = [e for e in sel if e.type == "purchase"]
        orders = len({e.session for e in purchases if e.session is not None})
        revenue = sum((e.price for e in purchases), Decimal(0))
        order_revenue = sum((e.price for e in purchases if e.session is not None), Decimal(0))
        out.append(
            {
                "event_date": period,
                "orders": orders,
                "purchased_items": len(purchases),
                "buyers": len({e.user_id for e in purchases}),
                "revenue": revenue,
                "average_order_value": float(order_revenue) / orders if orders else None,
            }
        )
    return out


def _metrics(rows: list[Event]) -> dict[str, Any]:
    return {
        "views": sum(e.type == "view" for e in rows),
        "carts": sum(e.type == "cart" for e in rows),
        "purchases": sum(e.type == "purchase" for e in rows),
        "revenue": sum((e.price for e in rows if e.type == "purchase"), Decimal(0)),
    }


def ref_top_categories(events: list[Event], p: KpiParameters) -> list[dict[str, Any]]:
    rows = [e for e in events if p.from_date <= e.date <= p.to_date]
    out = []
    for dimension, slot_of in (("hour", lambda e: e.hour), ("weekday", lambda e: e.weekday)):
        groups: dict[tuple[int, str], list[Event]] = defaultdict(list)
        for e in rows:
            groups[(slot_of(e), e.top_category or "(none)")].append(e)
        for slot in sorted({s for s, _ in groups}):
            ranked = sorted(
                ({"category": c, **_metrics(g)} for (s, c), g in groups.items() if s == slot),
                key=lambda r: (
                    -r["views"],
                    -r["carts"],
                    -r["purchases"],
                    -r["revenue"],
                    r["category"],
                ),
            )
            for rank, r in enumerate(ranked[: p.top_n], start=1):
                out.append({"dimension": dimension, "slot": slot, "category_rank": rank, **r})
    return out


def ref_brands_to_push(events: list[Event], p: KpiParameters) -> list[dict[str, Any]]:
    by_brand: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        if p.from_date <= e.date <= p.to_date and e.brand is not None:
            by_brand[e.brand].append(e)
    brands = [{"brand": b, **_metrics(rows)} for b, rows in by_brand.items()]
    eligible = [b for b in brands if b["views"] >= p.min_views and b["views"] > 0]
    eligible.sort(key=lambda b: (b["purchases"] / b["views"], -b["views"], b["brand"]))
    return [
        {
            "push_rank": rank,
            "brand": b["brand"],
            "views": b["views"],
            "carts": b["carts"],
            "purchases": b["purchases"],
            "view_to_purchase_rate": b["purchases"] / b["views"],
            "cart_rate": b["carts"] / b["views"],
            "revenue": b["revenue"],
        }
        for rank, b in enumerate(eligible[: p.top_n], start=1)
    ]


REFERENCES: dict[str, Callable[[list[Event], KpiParameters], list[dict[str, Any]]]] = {
    "unique-visitors": ref_unique_visitors,
    "cart-abandonment": ref_cart_abandonment,
    "funnel": ref_funnel,
    "revenue": ref_revenue,
    "top-categories": ref_top_categories,
    "brands-to-push": ref_brands_to_push,
}
ROUNDED = {"average_order_value": 0.0051}  # rates are rounded to 4 decimals, AOV to 2


def assert_same_rows(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert len(actual) == len(expected), (actual, expected)
    for got, want in zip(actual, expected, strict=True):
        assert list(got) == list(want)
        for column, value in want.items():
            if isinstance(value, float):
                tolerance = ROUNDED.get(column, 0.000051)
                assert got[column] == pytest.approx(value, abs=tolerance), (column, got, want)
            else:
                assert got[column] == value, (column, got, want)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Event], Path]:
    events = generate_events()
    curated = tmp_path_factory.mktemp("lake") / "curated" / "events"
    write_curated(events, curated)
    return events, curated


def test_the_generated_data_exercises_the_edge_cases(generated: tuple[list[Event], Path]) -> None:
    events, _ = generated
    assert len({e.date for e in events}) >= 4
    assert any(e.category_code is None for e in events)
    assert any(e.brand is None for e in events)
    by_session: dict[str | None, set[str]] = defaultdict(set)
    by_user: dict[int, set[str]] = defaultdict(set)
    sessionless: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if e.session is None:
            sessionless[e.date].add(e.user_id)
        by_session[e.session].add(e.date)
        by_user[e.user_id].add(e.date)
    assert any(len(days) > 1 for days in by_session.values()), "a session across midnight"
    assert any(len(days) > 1 for days in by_user.values()), "a user on several days"
    assert any(len(users) >= 2 for users in sessionless.values()), "2 sessionless users a day"
    bought = {e.user_id for e in events if e.type == "purchase" and e.session is None}
    carted = {e.user_id for e in events if e.type == "cart" and e.session is None}
    assert bought and carted, "sessionless buyers and carts"


@pytest.mark.parametrize("name", sorted(REFERENCES))
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"from_date": "2019-10-02", "to_date": "2019-10-03", "top_n": 2, "min_views": 15},
        {"hours": "18-23", "top_n": 1, "min_views": 0},
        {"from_date": "2030-01-01"},  # no data in range: no rows, not a row of zeros
    ],
    ids=["all-data", "date-range", "evening", "empty-range"],
)
def test_kpi_matches_pure_python(
    generated: tuple[list[Event], Path], name: str, options: dict[str, Any]
) -> None:
    events, curated = generated
    parameters = KpiParameters.from_options(**options)
    query = catalog.load(name)
    con = connect(curated)
    result = run_local(query, parameters.bind(query), con)
    expected = REFERENCES[name](events, parameters)
    assert result.columns == query.columns
    assert_same_rows(result.rows, expected)
    if "from_date" not in options or options["from_date"] < "2030":
        assert expected, "the reference found nothing: the comparison would prove nothing"


def test_every_kpi_file_has_a_reference() -> None:
    assert set(catalog.names()) == set(REFERENCES)

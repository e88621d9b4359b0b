"""How each KPI is drawn: chart specifications computed from its rows (pure, no I/O).

A specification is plain JSON data the page's inline script draws as SVG:
    {"id", "title", "kind": "bars" | "stacked" | "hbars", "labels": [...],
     "series": [{"name", "values": [...]}], "format": "count" | "rate" | "money"}
`labels` are the x positions (days, hours, weekdays) or, for "hbars", the bars' names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ecomm_cli.kpi.result import KpiResult

# Per-day KPIs add a row for the whole period; a per-day chart must not plot it as a day.
PERIOD_TOTAL = "all"
WEEKDAYS = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}

ChartSpec = dict[str, Any]


def _number(value: Any) -> float:
    # Decimal revenue becomes a float for JSON; a missing rate (no views) draws as zero.
    if value is None:
        return 0.0
    if isinstance(value, Decimal):
        return float(value)
    return float(value)


def per_day_rows(result: KpiResult) -> list[dict[str, Any]]:
    """The rows of real days, without the whole-period total, in date order."""
    days = [r for r in result.rows if r.get("event_date") != PERIOD_TOTAL]
    return sorted(days, key=lambda r: str(r["event_date"]))


def period_total(result: KpiResult) -> dict[str, Any] | None:
    """The `event_date = 'all'` row a per-day KPI adds, or None."""
    return next((r for r in result.rows if r.get("event_date") == PERIOD_TOTAL), None)


def _per_day(
    result: KpiResult, title: str, columns: Sequence[str], fmt: str = "count"
) -> list[ChartSpec]:
    rows = per_day_rows(result)
    return [
        {
            "id": f"{result.name}-per-day",
            "title": title,
            "kind": "bars",
            "labels": [str(r["event_date"]) for r in rows],
            "series": [{"name": c, "values": [_number(r[c]) for r in rows]} for c in columns],
            "format": fmt,
        }
    ]


def _top_categories(result: KpiResult) -> list[ChartSpec]:
    """Views of the top categories, stacked, per hour of day and per weekday."""
    specs = []
    for dimension, title in (
        ("hour", "Views by hour of day (UTC)"),
        ("weekday", "Views by weekday"),
    ):
        rows = [r for r in result.rows if r["dimension"] == dimension]
        slots = sorted({int(r["slot"]) for r in rows})
        categories = sorted({str(r["category"]) for r in rows})
        views = {(int(r["slot"]), str(r["category"])): _number(r["views"]) for r in rows}
        labels = [WEEKDAYS.get(s, str(s)) if dimension == "weekday" else f"{s:02d}h" for s in slots]
        specs.append(
            {
                "id": f"{result.name}-by-{dimension}",
                "title": title,
                "kind": "stacked",
                "labels": labels,
                "series": [
                    {"name": c, "values": [views.get((s, c), 0.0) for s in slots]}
                    for c in categories
                ],
                "format": "count",
            }
        )
    return specs


def _brands_to_push(result: KpiResult) -> list[ChartSpec]:
    rows = sorted(result.rows, key=lambda r: int(r["push_rank"]))
    return [
        {
            "id": f"{result.name}-conversion",
            "title": "View-to-purchase conversion (lowest first: push these)",
            "kind": "hbars",
            "labels": [str(r["brand"]) for r in rows],
            "series": [
                {
                    "name": "view_to_purchase_rate",
                    "values": [_number(r["view_to_purchase_rate"]) for r in rows],
                }
            ],
            "format": "rate",
        }
    ]


_CHARTS: dict[str, Callable[[KpiResult], list[ChartSpec]]] = {
    "unique-visitors": lambda r: _per_day(
        r, "Unique visitors and sessions per day", ["unique_visitors", "sessions"]
    ),
    "cart-abandonment": lambda r: _per_day(
        r,
        "Sessions with a cart and abandoned, per day",
        ["sessions_with_cart", "abandoned_sessions"],
    ),
    "funnel": lambda r: _per_day(
        r,
        "Sessions per funnel step, per day",
        ["viewed_sessions", "carted_sessions", "purchased_sessions"],
    ),
    "revenue": lambda r: _per_day(r, "Revenue per day", ["revenue"], fmt="money"),
    "top-categories": _top_categories,
    "brands-to-push": _brands_to_push,
}


def chart_specs(result: KpiResult) -> list[ChartSpec]:
    """The charts of one KPI; a KPI the report does not know yet gets none (its table shows)."""
    build = _CHARTS.get(result.name)
    return build(result) if build else []


def mark_count(spec: ChartSpec) -> int:
    """How many bars the script draws for a specification (zero values draw no bar)."""
    return sum(1 for s in spec["series"] for v in s["values"] if v)

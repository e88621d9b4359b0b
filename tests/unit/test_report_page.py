"""The report's pure parts: chart specifications from KPI rows, and the rendered page."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest

from ecomm_cli.kpi.parameters import KpiParameters
from ecomm_cli.kpi.result import KpiResult
from ecomm_cli.report.build import describe_period
from ecomm_cli.report.charts import chart_specs, mark_count, per_day_rows, period_total
from ecomm_cli.report.page import KpiSection, Report, render_report, script_json

pytestmark = pytest.mark.unit


def result(name: str, rows: list[dict[str, Any]]) -> KpiResult:
    columns = tuple(rows[0]) if rows else ("event_date",)
    return KpiResult(name=name, columns=columns, rows=rows, engine="local", seconds=0.01)


VISITORS = result(
    "unique-visitors",
    [
        {"event_date": "2019-10-02", "unique_visitors": 5, "sessions": 7},
        {"event_date": "2019-10-01", "unique_visitors": 3, "sessions": 0},
        {"event_date": "all", "unique_visitors": 6, "sessions": 7},
    ],
)
TOP = result(
    "top-categories",
    [
        {"dimension": "hour", "slot": 9, "category_rank": 1, "category": "apparel", "views": 4,
         "carts": 1, "purchases": 0, "revenue": Decimal("0")},
        {"dimension": "hour", "slot": 9, "category_rank": 2, "category": "(none)", "views": 2,
         "carts": 0, "purchases": 0, "revenue": Decimal("0")},
        {"dimension": "hour", "slot": 20, "category_rank": 1, "category": "(none)", "views": 3,
         "carts": 0, "purchases": 1, "revenue": Decimal("5.50")},
        {"dimension": "weekday", "slot": 2, "category_rank": 1, "category": "apparel",
         "views": 4, "carts": 1, "purchases": 0, "revenue": Decimal("0")},
    ],
)  # fmt: skip


class Figures(HTMLParser):
    """Collects the chart figures and the embedded JSON of a rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict[str, str | None]] = []
        self.data: str = ""
        self._in_data = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "figure":
            self.figures.append(found)
        self._in_data = tag == "script" and found.get("id") == "report-data"

    def handle_data(self, data: str) -> None:
        if self._in_data:
            self.data += data

    def handle_endtag(self, tag: str) -> None:
        self._in_data = False


def page(*sections: KpiSection) -> str:
    return render_report(
        Report(sections=sections, engine="local", period="all data", generated_at="then")
    )


def test_per_day_chart_leaves_out_the_period_total_and_sorts_days() -> None:
    [spec] = chart_specs(VISITORS)
    assert spec["labels"] == ["2019-10-01", "2019-10-02"]
    assert spec["series"] == [
        {"name": "unique_visitors", "values": [3.0, 5.0]},
        {"name": "sessions", "values": [0.0, 7.0]},
    ]
    assert [r["event_date"] for r in per_day_rows(VISITORS)] == ["2019-10-01", "2019-10-02"]
    assert period_total(VISITORS) == VISITORS.rows[2]
    # A zero draws no bar, so three marks, not four.
    assert mark_count(spec) == 3


def test_top_categories_stack_views_per_hour_and_per_weekday() -> None:
    by_hour, by_weekday = chart_specs(TOP)
    assert by_hour["kind"] == "stacked"
    assert by_hour["labels"] == ["09h", "20h"]
    assert by_hour["series"] == [
        {"name": "(none)", "values": [2.0, 3.0]},
        {"name": "apparel", "values": [4.0, 0.0]},
    ]
    assert by_weekday["labels"] == ["Tue"]
    assert mark_count(by_hour) == 3


def test_brands_are_drawn_in_push_order_with_rates() -> None:
    brands = result(
        "brands-to-push",
        [
            {"push_rank": 2, "brand": "b", "view_to_purchase_rate": Decimal("0.25")},
            {"push_rank": 1, "brand": "a", "view_to_purchase_rate": None},
        ],
    )
    [spec] = chart_specs(brands)
    assert spec["kind"] == "hbars"
    assert spec["labels"] == ["a", "b"]
    assert spec["series"][0]["values"] == [0.0, 0.25]


def test_a_kpi_without_a_chart_shape_still_gets_its_table() -> None:
    other = result("new-kpi", [{"x": 1}])
    assert chart_specs(other) == []
    assert '<table data-kpi="new-kpi">' in page(KpiSection(other, "New"))


def test_embedded_json_cannot_close_its_script_element() -> None:
    text = script_json({"brand": "</script><script>alert(1)</script>&"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"brand": "</script><script>alert(1)</script>&"}


def test_every_chart_has_its_figure_and_its_data_in_the_page() -> None:
    html = page(KpiSection(VISITORS, "Visitors"), KpiSection(TOP, "Top categories"))
    parser = Figures()
    parser.feed(html)
    specs = json.loads(parser.data)
    assert [f["data-chart"] for f in parser.figures] == [s["id"] for s in specs]
    assert all(f["data-drawn"] == "false" for f in parser.figures)
    # The total row is in the table (marked), though not in the chart.
    assert '<tr class="total"><td>all</td><td class=num>6</td>' in html


def test_values_are_escaped_in_tables_and_titles() -> None:
    hostile = result("brands-to-push", [{"push_rank": 1, "brand": "<img src=x>",
                                         "view_to_purchase_rate": 0.5}])  # fmt: skip
    html = page(KpiSection(hostile, "Brands <b>"))
    assert "<img src=x>" not in html
    assert "&lt;img src=x&gt;" in html and "Brands &lt;b&gt;" in html


def test_the_page_loads_nothing_from_outside() -> None:
    html = page(KpiSection(VISITORS, "Visitors"), KpiSection(TOP, "Top categories"))
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\(", html, re.IGNORECASE)
    assert not re.search(r"""href=["']?(https?:)?//""", html)
    assert "default-src 'none'" in html


def test_a_kpi_without_rows_says_so() -> None:
    empty = result("revenue", [])
    html = page(KpiSection(empty, "Revenue"))
    assert "No rows for this period." in html
    parser = Figures()
    parser.feed(html)
    [spec] = json.loads(parser.data)
    assert spec["labels"] == [] and mark_count(spec) == 0


@pytest.mark.parametrize(
    ("from_date", "to_date", "words"),
    [
        (None, None, "all data"),
        ("2019-10-01", None, "from 2019-10-01"),
        (None, "2019-10-02", "up to 2019-10-02"),
        ("2019-10-01", "2019-10-02", "2019-10-01 to 2019-10-02"),
    ],
)
def test_the_period_is_said_in_words(
    from_date: str | None, to_date: str | None, words: str
) -> None:
    assert describe_period(KpiParameters.from_options(from_date, to_date)) == words

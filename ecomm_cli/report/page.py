"""Render the report page from KPI results (pure: strings in, one HTML string out).

The page needs no network: CSS and the drawing script are inline, the chart data is JSON in a
`<script type="application/json">` element. Each chart element starts `data-drawn="false"`;
the script sets `data-drawn="true"` and `data-marks` (bars drawn) once it drew, or
`data-state="empty"` for the explicit "no data" state, so a browser test can check every chart.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ecomm_cli.kpi.result import KpiResult
from ecomm_cli.output import format_cell
from ecomm_cli.report import realtime
from ecomm_cli.report.assets import CHARTS_JS, REPORT_CSS
from ecomm_cli.report.charts import PERIOD_TOTAL, ChartSpec, chart_specs


@dataclass(frozen=True)
class KpiSection:
    """One KPI of the report: its result and how the catalog describes it."""

    result: KpiResult
    title: str
    description: str = ""


@dataclass(frozen=True)
class Report:
    """Everything the page shows; `generated_at` is passed in so rendering is repeatable."""

    sections: Sequence[KpiSection]
    engine: str
    period: str
    generated_at: str
    notes: list[str] = field(default_factory=list)
    # The real-time section (None: the report was built without one).
    realtime: realtime.RealtimeSection | None = None


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element: no `</script>`, `<!--` or `&` can end or alter it."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _is_numeric(result: KpiResult, column: str) -> bool:
    values = [r[column] for r in result.rows if r[column] is not None]
    return bool(values) and all(
        isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in values
    )


def render_table(result: KpiResult) -> str:
    """The figures behind the chart: every row, the whole-period total last and marked."""
    if not result.rows:
        return '<p class="empty">No rows for this period.</p>'
    numeric = {c: _is_numeric(result, c) for c in result.columns}
    head = "".join(
        f'<th scope="col"{" class=num" if numeric[c] else ""}>{html.escape(c)}</th>'
        for c in result.columns
    )
    body = []
    for row in result.rows:
        total = row.get("event_date") == PERIOD_TOTAL
        cells = "".join(
            f"<td{' class=num' if numeric[c] else ''}>{html.escape(format_cell(row[c]))}</td>"
            for c in result.columns
        )
        body.append(f'<tr class="total">{cells}</tr>' if total else f"<tr>{cells}</tr>")
    return (
        f'<div class="table-wrap"><table data-kpi="{html.escape(result.name)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _chart_element(spec: ChartSpec) -> str:
    return (
        f'<figure class="chart" id="chart-{html.escape(spec["id"])}" '
        f'data-chart="{html.escape(spec["id"])}" data-drawn="false">'
        f"<figcaption>{html.escape(spec['title'])}</figcaption>"
        '<noscript><p class="empty">Charts need JavaScript; the table below has the figures.'
        "</p></noscript></figure>"
    )


def _run_line(result: KpiResult) -> str:
    text = f"{len(result.rows):,} rows on {result.engine} in {result.seconds:.2f} s"
    if result.data_scanned_bytes is not None:
        text += f", scanned {result.data_scanned_bytes / 1024**2:,.1f} MiB"
    if result.cost_usd is not None:
        text += f", cost ${result.cost_usd:.6f}"
    return text


def render_section(section: KpiSection, specs: Sequence[ChartSpec]) -> str:
    """One KPI: heading, description, its charts, then its table."""
    result = section.result
    charts = "".join(_chart_element(s) for s in specs)
    return (
        f'<section class="kpi" id="kpi-{html.escape(result.name)}">'
        f"<h2>{html.escape(section.title)} <code>{html.escape(result.name)}</code></h2>"
        f'<p class="description">{html.escape(section.description)}</p>'
        f'<div class="charts">{charts}</div>'
        f"{render_table(result)}"
        f'<p class="run">{html.escape(_run_line(result))}</p>'
        "</section>"
    )


def render_report(report: Report) -> str:
    """The whole page as one self-contained HTML string."""
    specs = {s.result.name: chart_specs(s.result) for s in report.sections}
    all_specs = [spec for s in report.sections for spec in specs[s.result.name]]
    all_specs += realtime.chart_specs(report.realtime)
    nav = "".join(
        f'<a href="#kpi-{html.escape(s.result.name)}">{html.escape(s.result.name)}</a>'
        for s in report.sections
    ) + ('<a href="#realtime">real-time</a>' if report.realtime else "")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    sections = "".join(render_section(s, specs[s.result.name]) for s in report.sections)
    sections += realtime.render_section(report.realtime)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No network: forbid every fetch, allow only this page's inline style and script.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        "<title>ecomm KPI report</title>"
        f"<style>{REPORT_CSS}</style></head><body>"
        '<header><h1>eCommerce KPI report</h1><p class="meta">'
        f"Period: <strong>{html.escape(report.period)}</strong> · "
        f"engine: <strong>{html.escape(report.engine)}</strong> · "
        f"generated {html.escape(report.generated_at)}</p>"
        f"{f'<ul class=notes>{notes}</ul>' if notes else ''}"
        f"<nav>{nav}</nav></header><main>{sections}</main>"
        f'<script type="application/json" id="report-data">{script_json(all_specs)}</script>'
        f"<script>{CHARTS_JS}</script></body></html>\n"
    )

"""The report's real-time section: offenders per rule and per hour, blocks in force, and each
alert with its evidence samples (pure: items in, data and HTML out; `build.read_realtime` reads).

Platform-wide alerts (`traffic_spike`) have no user: they are shown as "platform-wide", never as
a user "None". When the environment has no real-time data to read (no local stack, no state),
the section says why and the rest of the report is unaffected.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecomm_cli.alerts.mitigation import Block
from ecomm_cli.alerts.status import offender_from_item
from ecomm_cli.report.charts import ChartSpec

CHART_ID = "realtime-offenders-per-hour"
# The newest alerts shown with their evidence; the rest are counted (ecomm alerts list has all).
MAX_ALERTS = 100
SAMPLE_COLUMNS = ("event_time", "event_type", "product_id", "user_id", "user_session")
PLATFORM_WIDE = "platform-wide"


@dataclass(frozen=True)
class Alert:
    """One offender item (one rule firing in one window) with the events it counted."""

    rule: str
    window_start: str
    window_end: str
    count: int
    detected_at: str
    user_id: int | None
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def who(self) -> str:
        return PLATFORM_WIDE if self.user_id is None else f"user {self.user_id}"


@dataclass(frozen=True)
class RealtimeSection:
    """What the section shows for one environment, or why it shows nothing."""

    environment: str
    alerts: list[Alert] = field(default_factory=list)  # newest first
    active_blocks: list[Block] = field(default_factory=list)
    allowlisted: int = 0
    unavailable: str | None = None


def _samples(item: Mapping[str, Mapping[str, str]]) -> list[dict[str, Any]]:
    text = item.get("samples", {}).get("S")
    try:
        samples = json.loads(text) if text else []
    except json.JSONDecodeError:
        return []
    return [s for s in samples if isinstance(s, dict)] if isinstance(samples, list) else []


def alerts_from_items(items: Iterable[Mapping[str, Mapping[str, str]]]) -> list[Alert]:
    """Offender items (as DynamoDB returns them) as alerts, newest detection first."""
    alerts = []
    for item in items:
        offender = offender_from_item(item)
        if offender is None:
            continue
        alerts.append(
            Alert(
                rule=offender.rule,
                window_start=offender.window_start,
                window_end=offender.window_end,
                count=offender.count,
                detected_at=offender.detected_at,
                user_id=offender.user_id,
                samples=_samples(item),
            )
        )
    return sorted(alerts, key=lambda a: (a.detected_at, a.window_start, a.rule), reverse=True)


def _hour(timestamp: str) -> str:
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return moment.strftime("%Y-%m-%d %H:00")


def offenders_per_hour(section: RealtimeSection) -> ChartSpec:
    """Distinct offenders per hour of the offence (window start, UTC), stacked by rule."""
    seen = {(_hour(a.window_start), a.rule, a.who) for a in section.alerts}
    hours = sorted({hour for hour, _, _ in seen})
    rules = sorted({rule for _, rule, _ in seen})
    counts = Counter((hour, rule) for hour, rule, _ in seen)
    return {
        "id": CHART_ID,
        "title": "Offenders per hour of the offence (UTC), by rule",
        "kind": "stacked",
        "labels": hours,
        "series": [
            {"name": rule, "values": [float(counts[(hour, rule)]) for hour in hours]}
            for rule in rules
        ],
        "format": "count",
    }


def chart_specs(section: RealtimeSection | None) -> list[ChartSpec]:
    """The section's charts: none when it has no data to show."""
    if section is None or section.unavailable is not None:
        return []
    return [offenders_per_hour(section)]


def _table(name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], empty: str) -> str:
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    if not body:
        return f'<p class="empty">{html.escape(empty)}</p>'
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in columns)
    return (
        f'<div class="table-wrap"><table data-realtime="{html.escape(name)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _per_rule(section: RealtimeSection) -> str:
    offenders: dict[str, set[str]] = {}
    windows: Counter[str] = Counter()
    for alert in section.alerts:
        offenders.setdefault(alert.rule, set()).add(alert.who)
        windows[alert.rule] += 1
    blocked = Counter(b.rule for b in section.active_blocks)
    rows = [
        (rule, len(offenders[rule]), windows[rule], blocked.get(rule, 0))
        for rule in sorted(offenders)
    ]
    return _table(
        "per-rule",
        ("rule", "offenders", "alerts (windows)", "blocked now"),
        rows,
        "No offenders recorded.",
    )


def _evidence(alert: Alert) -> str:
    if not alert.samples:
        return "no samples"
    rows = "".join(
        "<li>"
        + html.escape(" · ".join(str(s.get(c, "")) for c in SAMPLE_COLUMNS if c in s))
        + "</li>"
        for s in alert.samples
    )
    return f'<ul class="samples">{rows}</ul>'


def _alerts(section: RealtimeSection) -> str:
    shown = section.alerts[:MAX_ALERTS]
    if not shown:
        return '<p class="empty">No alerts recorded.</p>'
    head = "".join(
        f'<th scope="col">{c}</th>'
        for c in ("detected", "offender", "rule", "window (UTC)", "count", "evidence")
    )
    rows = "".join(
        "<tr>"
        f"<td>{html.escape(a.detected_at)}</td>"
        f'<td class="{"platform" if a.user_id is None else "user"}">{html.escape(a.who)}</td>'
        f"<td>{html.escape(a.rule)}</td>"
        f"<td>{html.escape(a.window_start)} to {html.escape(a.window_end)}</td>"
        f'<td class="num">{a.count:,}</td>'
        f"<td>{_evidence(a)}</td>"
        "</tr>"
        for a in shown
    )
    more = len(section.alerts) - len(shown)
    note = (
        f'<p class="run">{more:,} older alerts not shown (`ecomm alerts list` has them all).</p>'
        if more > 0
        else ""
    )
    return (
        f'<div class="table-wrap"><table data-realtime="alerts"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>{note}"
    )


def render_section(section: RealtimeSection | None) -> str:
    """The section's HTML (empty when the report was built without one)."""
    if section is None:
        return ""
    title = (
        '<section class="kpi" id="realtime"><h2>Real-time protection '
        f"<code>{html.escape(section.environment)}</code></h2>"
    )
    if section.unavailable is not None:
        return (
            f'{title}<p class="empty" data-realtime="unavailable">No real-time data: '
            f"{html.escape(section.unavailable)}</p></section>"
        )
    blocks = _table(
        "blocks",
        ("user", "rule", "until (UTC)", "blocked at", "offence window start", "count"),
        (
            (f"user {b.user_id}", b.rule, b.until, b.blocked_at, b.window_start, b.count)
            for b in section.active_blocks
        ),
        "No block in force.",
    )
    figure = (
        f'<figure class="chart" id="chart-{CHART_ID}" data-chart="{CHART_ID}" '
        'data-drawn="false"><figcaption>Offenders per hour of the offence (UTC), by rule'
        "</figcaption></figure>"
    )
    return (
        f"{title}"
        '<p class="description">Offenders the real-time rules flagged (per user, or '
        "platform-wide), the blocks the storefront enforces now, and each alert with the first "
        "and last events its window counted.</p>"
        f'<div class="charts">{figure}</div>'
        f"<h3>Per rule</h3>{_per_rule(section)}"
        f"<h3>Blocks in force ({len(section.active_blocks):,}; "
        f"{section.allowlisted:,} users allowlisted)</h3>{blocks}"
        f"<h3>Alerts and their evidence</h3>{_alerts(section)}"
        "</section>"
    )

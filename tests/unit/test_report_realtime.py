"""The report's real-time section: offenders per rule and hour, blocks in force, evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alerting.mitigation import block_fields
from alerting.offenders import Anomaly, offender_item
from alerting.store import to_attributes
from typer.testing import CliRunner

from ecomm_cli.alerts.mitigation import mitigation_from_items
from ecomm_cli.app import app
from ecomm_cli.report.build import read_realtime
from ecomm_cli.report.charts import mark_count
from ecomm_cli.report.page import Report, render_report
from ecomm_cli.report.realtime import (
    CHART_ID,
    PLATFORM_WIDE,
    RealtimeSection,
    alerts_from_items,
    chart_specs,
)
from ecomm_cli.settings import Settings

pytestmark = pytest.mark.unit
NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _anomaly(user_id: int | None, rule: str, hour: int, samples: list[Any]) -> Anomaly:
    start = datetime(2019, 10, 1, hour, tzinfo=UTC)
    return Anomaly(rule, start, start + timedelta(seconds=10), 40, user_id, samples)


SAMPLE = {
    "event_time": "2019-10-01T06:00:01Z",
    "event_type": "view",
    "product_id": 5802432,
    "user_id": 42,
    "user_session": "s-1",
}


def realtime_section(now: datetime = NOW) -> RealtimeSection:
    """Two users and a platform-wide spike over two hours; one user blocked now."""
    anomalies = [
        _anomaly(42, "flood", 6, [SAMPLE, {**SAMPLE, "event_time": "2019-10-01T06:00:09Z"}]),
        _anomaly(42, "scraper", 6, []),
        _anomaly(7, "flood", 7, [{**SAMPLE, "user_id": 7, "product_id": "<b>x</b>"}]),
        _anomaly(None, "traffic_spike", 7, []),
    ]
    items = [
        to_attributes(offender_item(a, now - timedelta(minutes=i), 30))
        for i, a in enumerate(anomalies)
    ]
    mitigation = [
        to_attributes(
            {"pk": "user#42", "sk": "mitigation", **block_fields(anomalies[0], now, 3600)}
        ),
        to_attributes({"pk": "user#7", "sk": "mitigation", **block_fields(anomalies[2], now, 1)}),
    ]
    blocks, allows = mitigation_from_items(mitigation)
    return RealtimeSection(
        environment="local",
        alerts=alerts_from_items(items),
        active_blocks=[b for b in blocks if b.in_force(now + timedelta(seconds=5))],
        allowlisted=len(allows),
    )


def page(section: RealtimeSection | None) -> str:
    return render_report(
        Report(sections=[], engine="local", period="all", generated_at="then", realtime=section)
    )


def test_offenders_are_counted_per_hour_and_rule_the_platform_as_one() -> None:
    [spec] = chart_specs(realtime_section())
    assert spec["id"] == CHART_ID and spec["kind"] == "stacked"
    assert spec["labels"] == ["2019-10-01 06:00", "2019-10-01 07:00"]
    assert spec["series"] == [
        {"name": "flood", "values": [1.0, 1.0]},
        {"name": "scraper", "values": [1.0, 0.0]},
        {"name": "traffic_spike", "values": [0.0, 1.0]},
    ]
    assert mark_count(spec) == 4


def test_alerts_are_newest_first_with_their_samples() -> None:
    alerts = realtime_section().alerts
    assert [a.rule for a in alerts] == ["flood", "scraper", "flood", "traffic_spike"]
    assert alerts[0].samples[0]["product_id"] == 5802432 and len(alerts[0].samples) == 2
    assert alerts[-1].user_id is None and alerts[-1].who == PLATFORM_WIDE


def test_the_section_shows_blocks_evidence_and_platform_wide_alerts_as_such() -> None:
    html = page(realtime_section())
    assert '<section class="kpi" id="realtime">' in html and 'href="#realtime"' in html
    assert f'data-chart="{CHART_ID}"' in html
    assert '<td class="platform">platform-wide</td>' in html
    assert "None" not in html and "user None" not in html
    assert "Blocks in force (1; 0 users allowlisted)" in html
    assert "2019-10-01T06:00:09Z · view · 5802432 · 42 · s-1" in html
    # Evidence is data from the stream: escaped.
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_without_data_the_section_says_why_and_draws_nothing() -> None:
    section = RealtimeSection("dev", unavailable="environment dev has no Terraform state")
    html = page(section)
    assert chart_specs(section) == []
    assert "No real-time data: environment dev has no Terraform state" in html
    assert f'data-chart="{CHART_ID}"' not in html
    assert 'id="realtime"' not in page(None)


def test_read_realtime_without_a_stack_is_a_section_not_an_error(tmp_path: Path) -> None:
    section = read_realtime(Settings.load(env="local", state_dir=tmp_path))
    assert section.unavailable is not None and "not running" in section.unavailable


def test_the_report_command_works_without_a_stack_and_says_so(
    tmp_path: Path, isolated_environment: Path
) -> None:
    from tests.browser.test_report_chromium import write_lake

    write_lake(isolated_environment / "lake" / "curated" / "events")
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "real-time section empty: the local stack is not running" in result.output
    assert "No real-time data" in out.read_text()

"""`ecomm report` opened in headless Chromium: every chart draws and the console stays silent.

The page is written by the real command from a small curated lake (Parquet written by DuckDB),
then Chromium loads it from disk, runs its script and dumps the DOM; the console messages come
from Chromium's own log on stderr. The page logs nothing when all is well, so any console line
counts as a failure.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from ecomm_cli.app import app
from ecomm_cli.report.charts import mark_count

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    # Virtual time: scripts run to completion without the test waiting on a wall clock.
    "--virtual-time-budget=5000",
]
CATEGORIES = [None, "electronics.smartphone", "apparel.shoes", "appliances.kitchen.mixer"]
BRANDS = ["apple", "samsung", "nike", "bosch"]


def chromium() -> str:
    """Debian's chromium, or a failure (not a skip) saying how to get it."""
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if path is None:
        pytest.fail("chromium is not installed: `make test` installs it (make browser-deps)")
    return path


@dataclass
class RenderedPage:
    """What a page looked like after its scripts ran, and what its console said."""

    figures: list[dict[str, str | None]] = field(default_factory=list)
    body: dict[str, str | None] = field(default_factory=dict)
    specs: list[dict[str, object]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    dom: str = ""  # the serialized DOM after the scripts ran


class _DomReader(HTMLParser):
    def __init__(self, page: RenderedPage) -> None:
        super().__init__()
        self.page = page
        self._data: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "figure" and "data-chart" in found:
            self.page.figures.append(found)
        elif tag == "body":
            self.page.body = found
        elif tag == "script" and found.get("id") == "report-data":
            self._data = []

    def handle_data(self, data: str) -> None:
        if self._data is not None:
            self._data.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._data is not None:
            self.page.specs = json.loads("".join(self._data))
            self._data = None


def render(page_file: Path, profile: Path) -> RenderedPage:
    """Open the page in headless Chromium; the DOM after its scripts ran, and the console."""
    done = subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--dump-dom",
            page_file.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        # A guard against a hung browser, not a performance check.
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    page = RenderedPage(dom=done.stdout)
    _DomReader(page).feed(done.stdout)
    # Chromium logs each console message as `...:CONSOLE:<line>] "<text>", source: ...`.
    page.console = [
        line for line in done.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line
    ]
    return page


def write_lake(curated: Path) -> None:
    """Three days of shopping between 00:00 and 17:59 UTC (none in the evening)."""
    rng = random.Random(46)
    rows = []
    for user in range(1, 41):
        for day in (1, 2, 3):
            if rng.random() < 0.4:
                continue
            hour = rng.randint(0, 17)
            for step, event_type in enumerate(["view", "view", "cart", "purchase"]):
                if event_type == "purchase" and rng.random() < 0.5:
                    break
                rows.append(
                    (
                        f"2019-10-0{day} {hour:02d}:{10 + step}:00",
                        event_type,
                        round(rng.uniform(1, 300), 2),
                        user,
                        f"s{user}-{day}",
                        rng.choice(CATEGORIES),
                        rng.choice(BRANDS),
                    )
                )
    curated.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE raw (t TIMESTAMPTZ, event_type VARCHAR, price DECIMAL(12, 2), "
        "user_id BIGINT, user_session VARCHAR, category_code VARCHAR, brand VARCHAR)"
    )
    con.executemany("INSERT INTO raw VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute(
        f"""COPY (
            SELECT t AS event_time, event_type, 1::BIGINT AS product_id,
                   NULL::BIGINT AS category_id, category_code, brand, price, user_id,
                   user_session, t AS ingested_at, hour(t)::INTEGER AS event_hour,
                   isodow(t)::INTEGER AS event_weekday,
                   split_part(category_code, '.', 1) AS top_category,
                   strftime(t, '%Y-%m-%d') AS event_date
            FROM raw
        ) TO '{curated}' (FORMAT parquet, PARTITION_BY (event_date))"""
    )


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report the real command writes; the evening window leaves cart-abandonment empty."""
    state = tmp_path_factory.mktemp("report-state")
    write_lake(state / "lake" / "curated" / "events")
    out = state / "report.html"
    env = {"ECOMM_ENV": "local", "ECOMM_STATE_DIR": str(state)}
    args = ["report", "--out", str(out), "--hours", "18-23", "--min-views", "5"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return out


def test_every_chart_draws_and_the_console_is_silent(report_file: Path, tmp_path: Path) -> None:
    page = render(report_file, tmp_path / "profile")
    assert page.console == []
    assert page.body.get("data-errors") == "0"
    specs = {str(s["id"]): s for s in page.specs}
    drawn = {str(f["data-chart"]): f for f in page.figures}
    assert set(drawn) == set(specs) and len(drawn) == 7
    for chart_id, figure in drawn.items():
        assert figure.get("data-drawn") == "true", chart_id
        assert figure.get("data-error") is None, figure.get("data-error")
        # The script drew one bar per non-zero value of the chart's data.
        assert figure.get("data-marks") == str(mark_count(specs[chart_id])), chart_id
    # No cart in the evening window: only the 'all' row, so an explicit "no data" chart.
    assert drawn["cart-abandonment-per-day"]["data-state"] == "empty"
    others = [f for c, f in drawn.items() if c != "cart-abandonment-per-day"]
    assert all(f["data-state"] == "drawn" and int(f["data-marks"] or 0) > 0 for f in others)


def test_a_broken_chart_and_a_script_error_are_caught(report_file: Path, tmp_path: Path) -> None:
    # The same page with one chart's data removed and a failing script: the check must see both.
    html = report_file.read_text(encoding="utf-8")
    html = re.sub(r'\{"id":"revenue-per-day".*?"format":"money"\},?', "", html)
    html = html.replace("</body>", "<script>notDefinedAnywhere();</script></body>")
    broken = tmp_path / "broken.html"
    broken.write_text(html, encoding="utf-8")
    page = render(broken, tmp_path / "profile")
    revenue = next(f for f in page.figures if f["data-chart"] == "revenue-per-day")
    assert revenue["data-drawn"] == "false"
    assert "no chart data" in str(revenue["data-error"])
    assert any("chart revenue-per-day failed" in line for line in page.console)
    assert any("notDefinedAnywhere" in line for line in page.console)
    # The other charts still drew.
    assert sum(f["data-drawn"] == "true" for f in page.figures) == 6


def test_the_real_time_section_draws_with_its_evidence(tmp_path: Path) -> None:
    """A report with offenders, a block and a platform-wide spike: its chart draws one bar per
    (hour, rule) with offenders, and the page stays silent."""
    from ecomm_cli.report.page import Report, render_report
    from ecomm_cli.report.realtime import CHART_ID
    from tests.unit.test_report_realtime import realtime_section

    page_file = tmp_path / "realtime.html"
    section = realtime_section()
    page_file.write_text(
        render_report(
            Report(sections=[], engine="local", period="all", generated_at="now", realtime=section)
        ),
        encoding="utf-8",
    )
    page = render(page_file, tmp_path / "profile")
    assert page.console == [] and page.body.get("data-errors") == "0"
    [figure] = page.figures
    [spec] = page.specs
    assert figure["data-chart"] == CHART_ID and figure["data-state"] == "drawn"
    assert figure["data-marks"] == str(mark_count(spec)) == "4"
    # What the browser shows: the spike as platform-wide (never a user "None"), the block in
    # force, and each alert's evidence samples, escaped.
    assert '<td class="platform">platform-wide</td>' in page.dom and "None" not in page.dom
    assert 'data-realtime="blocks"' in page.dom and "<td>user 42</td>" in page.dom
    assert "2019-10-01T06:00:09Z · view · 5802432 · 42 · s-1" in page.dom
    assert "&lt;b&gt;x&lt;/b&gt;" in page.dom

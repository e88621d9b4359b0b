"""Conformance: the Flink SQL of sql/realtime on a real PyFlink raises exactly the alerts of the
local detector (`ecomm detect FILE --format jsonl`) over the same files.

Inputs: generated traffic with every bot kind, the same file with rows held back so that some
arrive behind the watermark (late events: both engines must drop the same ones), and the real
REES46 samples in ../shared/data/rees46/ (absent: skipped, or failed when `CI` is set). Each
file runs with the default thresholds and with lowered ones that make every rule fire on it, so
the comparison covers every rule, not only the quiet case.

`ecomm detect` reads each original file (header, index column, CRLF, truncated last line and
all); PyFlink reads the rows the detector accepted, written by the detector's own reader
(ecomm_cli.detect.source, i.e. the event contract) as JSON lines in the shape the `events`
Kinesis stream carries, because the job's tables are flink/main.py's (JSON, ISO-8601 event time
with a Z) with the filesystem connector in place of Kinesis. PyFlink lives in .venv-flink
(`make test` creates it); all cases run in ONE subprocess of it (tests/flink/run_rules.py), so
the JVM starts once.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecomm_cli.app import app
from ecomm_cli.detect import envelope
from ecomm_cli.detect.engine import iso_ms
from ecomm_cli.detect.rules import RULES, SUSTAINED_RULES, USER_RULES, Thresholds
from ecomm_cli.detect.source import ReadStats, read_events
from ecomm_cli.settings import PROJECT_ROOT
from tests.conftest import rees46_file

pytestmark = pytest.mark.flink

REES46 = PROJECT_ROOT.parent / "shared" / "data" / "rees46"
REAL_FILES = {
    "cosmetics": "cosmetics-2019-10-sample.csv",
    "multicategory": "multicategory-2019-10-01-head.csv",
}
# Low enough that every rule fires on both real samples and on generated traffic (checked
# below, so a later change of the data or the rules cannot make the comparison vacuous). The
# watermark and both window sizes move too, since they are runtime properties as well.
LOWERED = {
    "flood_events_per_window": "3",
    "flood_window_seconds": "5",
    "scraper_distinct_products_per_minute": "5",
    "cart_stuffer_adds": "2",
    "cart_stuffer_window_seconds": "120",
    "session_cycler_sessions_per_minute": "2",
    "traffic_spike_factor": "1.5",
    "traffic_spike_min_events": "5",
    "watermark_seconds": "0",
    # Every window and baseline is a manifest parameter, so they move too.
    "scraper_window_seconds": "30",
    "session_cycler_window_seconds": "30",
    "traffic_spike_window_seconds": "5",
    "traffic_spike_baseline_windows": "12",
    "traffic_spike_min_baseline_windows": "3",
    # The sustained rules: shorter hopping windows with a slide, low enough to fire everywhere.
    "sustained_volume_window_seconds": "1200",
    "sustained_volume_slide_seconds": "300",
    "sustained_volume_actions": "20",
    "sustained_scraper_window_seconds": "1800",
    "sustained_scraper_slide_seconds": "600",
    "sustained_scraper_distinct_products": "8",
    "sustained_cart_stuffer_window_seconds": "1200",
    "sustained_cart_stuffer_slide_seconds": "300",
    "sustained_cart_stuffer_adds": "3",
    "sustained_session_churn_window_seconds": "1200",
    "sustained_session_churn_slide_seconds": "300",
    "sustained_session_churn_sessions": "2",
}
# The job's non-rule properties (flink/main.py validates them; the filesystem run ignores ARNs).
JOB_PROPERTIES = {
    "aws_region": "eu-west-1",
    "events_stream_arn": "arn:aws:kinesis:eu-west-1:123456789012:stream/ecomm-test-events",
    "anomalies_stream_arn": "arn:aws:kinesis:eu-west-1:123456789012:stream/ecomm-test-anomalies",
    "idle_timeout_seconds": "30",
}
# Late case: every HOLD_EVERY-th row of the generated file is written HOLD_ROWS rows later
# (about 20 minutes of generated traffic), behind the watermark of every rule's window.
HOLD_EVERY = 97
HOLD_ROWS = 400

AlertKey = tuple[int | None, str, str, str, int]


@dataclass
class Case:
    """One input file with one set of thresholds, run through both engines."""

    name: str
    source: Path  # what `ecomm detect` reads
    overrides: dict[str, str]
    events: Path | None = None  # the detector-accepted rows, for PyFlink
    flink_out: Path | None = None
    detector: list[dict[str, Any]] | None = None
    summary: str = ""


def _pyflink_python() -> Path:
    configured = os.environ.get("ECOMM_PYFLINK_PYTHON")
    return Path(configured) if configured else PROJECT_ROOT / ".venv-flink" / "bin" / "python"


def _generate(folder: Path) -> Path:
    out = folder / "generated.csv"
    result = CliRunner().invoke(
        app,
        [
            "sample",
            "generate",
            "--rows",
            "30000",
            "--days",
            "1",
            "--seed",
            "5",
            "--out",
            str(out),
            "--bots",
            "flood=2,scraper=2,cart_stuffer=2,session_cycler=2",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


# Slow bots of the evaluation model, each at half (a quarter for the scraper) of its own short
# rule's threshold for an hour: the sustained rules fire at their DEFAULT windows, slides and
# thresholds on them. (The slow flood bot's rotating views still trip the short scraper rule.)
SUSTAINED_BOTS = (
    envelope.Cell("flood", 0.5, 60),
    envelope.Cell("scraper", 0.25, 60),
    envelope.Cell("cart_stuffer", 0.5, 60),
    envelope.Cell("session_cycler", 0.5, 60),
)


def _sustained(folder: Path) -> Path:
    """A REES46-shaped CSV (whole-second times) of the slow bots and one of each hard negative,
    all within two hours."""
    rng = random.Random(11)
    thresholds = Thresholds()
    events = []
    for user, cell in enumerate(SUSTAINED_BOTS, start=1):
        start = envelope.START_MS + rng.randrange(0, 3_600_000)
        events += envelope.bot_events(cell, user, start, rng, thresholds)
    for user, kind in enumerate(envelope.HARD_NEGATIVES, start=100):
        start = envelope.START_MS + rng.randrange(0, 3_600_000)
        events += envelope.hard_negative_events(kind, user, start, rng)
    out = folder / "sustained.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["event_time", "event_type", "product_id", "category_id",
                         "category_code", "brand", "price", "user_id", "user_session"])  # fmt: skip
        for event in sorted(events):
            moment = datetime.fromtimestamp(event.ts_ms // 1000, UTC)
            writer.writerow([moment.strftime("%Y-%m-%d %H:%M:%S UTC"), event.event_type,
                             event.product_id, 1, "", "", "1.00", event.user_id,
                             event.user_session])  # fmt: skip
    return out


def _hold_back(source: Path, out: Path) -> Path:
    """The same rows with every HOLD_EVERY-th one moved HOLD_ROWS rows later (late events)."""
    with source.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    order: list[list[str]] = []
    held: list[tuple[int, list[str]]] = []
    for i, row in enumerate(rows):
        if i % HOLD_EVERY == HOLD_EVERY - 1:
            held.append((i + HOLD_ROWS, row))
        else:
            order.append(row)
        while held and held[0][0] <= i:
            order.append(held.pop(0)[1])
    order.extend(row for _, row in held)
    with out.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *order])
    return out


def _accepted_rows_as_events(source: Path, out: Path) -> ReadStats:
    """The rows the detector accepts, in file order, as `events` stream JSON lines."""
    stats = ReadStats()
    with out.open("w", encoding="utf-8") as handle:
        for event in read_events(source, stats):
            record = {
                "event_time": iso_ms(event.ts_ms),
                "event_type": event.event_type,
                "product_id": event.product_id,
                "user_id": event.user_id,
                "user_session": event.user_session,
            }
            handle.write(json.dumps(record) + "\n")
    return stats


def _detect(case: Case) -> None:
    args = ["detect", str(case.source), "--format", "jsonl"]
    for name, value in case.overrides.items():
        args += ["--set", f"{name}={value}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    case.detector = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    case.summary = result.stderr


def _properties(overrides: dict[str, str]) -> dict[str, str]:
    defaults = {name: str(value) for name, value in Thresholds().as_dict().items()}
    return {**defaults, **overrides, **JOB_PROPERTIES}


def _flink_alerts(folder: Path) -> list[dict[str, Any]]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [
        json.loads(line)
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def _key(alert: dict[str, Any]) -> AlertKey:
    return (
        alert.get("user_id"),
        alert["rule"],
        alert["window_start"],
        alert["window_end"],
        int(alert["count"]),
    )


def _samples(alert: dict[str, Any]) -> list[dict[str, Any]]:
    # The SQL builds the samples as JSON text; the detector writes a JSON array.
    samples = alert["samples"]
    return json.loads(samples) if isinstance(samples, str) else samples


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    """Every available case, run through the detector and, in one PyFlink process, the SQL."""
    python = _pyflink_python()
    if not python.is_file():
        pytest.fail(
            f"no PyFlink interpreter at {python}: `make test` creates .venv-flink "
            "(alone: `make .venv-flink/bin/python`); ECOMM_PYFLINK_PYTHON names another one",
            pytrace=False,
        )
    folder = tmp_path_factory.mktemp("flink-conformance")
    generated = _generate(folder)
    sources = {
        "generated": generated,
        "generated_late": _hold_back(generated, folder / "generated-late.csv"),
        "sustained": _sustained(folder),
    }
    sources.update(
        {name: REES46 / file for name, file in REAL_FILES.items() if (REES46 / file).is_file()}
    )
    found: dict[str, Case] = {}
    for name, source in sources.items():
        events = folder / f"{name}.jsonl"
        _accepted_rows_as_events(source, events)
        flavours = (("default", {}), ("lowered", LOWERED))
        for flavour, overrides in flavours[:1] if name == "sustained" else flavours:
            case = Case(
                f"{name}-{flavour}", source, overrides, events, folder / f"out-{name}-{flavour}"
            )
            found[case.name] = case
    manifest = folder / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "main": str(PROJECT_ROOT / "flink" / "main.py"),
                "sql_dir": str(PROJECT_ROOT / "sql" / "realtime"),
                "cases": [
                    {
                        "name": case.name,
                        "events": str(case.events),
                        "out": str(case.flink_out),
                        "properties": _properties(case.overrides),
                    }
                    for case in found.values()
                ],
            }
        ),
        encoding="utf-8",
    )
    # PyFlink reads only the accepted rows and the properties, never the detector's alerts, so
    # it starts first and the local detector runs while it does: the same two computations,
    # overlapped rather than one after the other (its output goes to files, so a full pipe can
    # never stall it while the detector runs).
    started = time.monotonic()
    out, err = folder / "pyflink.stdout", folder / "pyflink.stderr"
    with out.open("w", encoding="utf-8") as stdout, err.open("w", encoding="utf-8") as stderr:
        proc = subprocess.Popen(
            [str(python), str(PROJECT_ROOT / "tests" / "flink" / "run_rules.py"), str(manifest)],
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
        try:
            for case in found.values():
                _detect(case)
            returncode = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    errors = err.read_text(encoding="utf-8")
    assert returncode == 0, f"PyFlink run failed:\n{errors[-4000:]}"
    print(f"PyFlink: {len(found)} job(s) in {time.monotonic() - started:.1f} s")
    print(out.read_text(encoding="utf-8"))
    for case in found.values():
        print(case.name, dict(Counter(a["rule"] for a in case.detector or [])))
    return found


CASE_NAMES = [
    f"{name}-{flavour}"
    for name in ("generated", "generated_late", *REAL_FILES)
    for flavour in ("default", "lowered")
] + ["sustained-default"]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_flink_sql_raises_the_alerts_of_the_local_detector(
    name: str, cases: dict[str, Case]
) -> None:
    if name not in cases:
        rees46_file(REAL_FILES[name.split("-")[0]])  # absent: a skip, or a failure in CI
    case = cases[name]
    assert case.flink_out is not None and case.detector is not None
    flink = _flink_alerts(case.flink_out)
    expected, actual = Counter(map(_key, case.detector)), Counter(map(_key, flink))
    missing, extra = sorted(expected - actual, key=str), sorted(actual - expected, key=str)
    assert not missing and not extra, (
        f"{name}: detector {len(case.detector)} alerts, Flink {len(flink)}; "
        f"only the detector: {missing[:10]}; only Flink: {extra[:10]}"
    )
    # Same windows, so the same first and last counted events (FIRST_VALUE / LAST_VALUE; the
    # sustained rules' MIN / MAX of the sample text).
    flink_samples = {_key(alert): _samples(alert) for alert in flink}
    for alert in case.detector:
        assert flink_samples[_key(alert)] == _samples(alert), f"{name}: samples of {_key(alert)}"


def test_the_comparison_covers_every_rule_and_late_events(cases: dict[str, Case]) -> None:
    """Guards against a vacuous pass: every rule fires, and late rows are dropped and matter."""
    fired = {name: {a["rule"] for a in case.detector or []} for name, case in cases.items()}
    # The generated bots are short and well above the short rules: each short rule fires at
    # its defaults (the sustained rules' own traffic is the evaluation model's, docs/realtime.md).
    short = {rule for rule in USER_RULES if rule not in SUSTAINED_RULES}
    assert short <= fired["generated-default"], fired["generated-default"]
    # ...and each sustained rule fires at its defaults on the slow bots.
    assert set(SUSTAINED_RULES) <= fired["sustained-default"], fired["sustained-default"]
    for name in fired:
        if name.endswith("-lowered"):
            assert set(RULES) == fired[name], f"{name}: only {sorted(fired[name])} fired"
    for flavour in ("default", "lowered"):
        summary = cases[f"generated_late-{flavour}"].summary
        late = re.search(r"([\d,]+) late", summary)
        assert late and int(late.group(1).replace(",", "")) > 0, summary
    # ...and dropping them changes what fires, so the late case tests the drop itself.
    on_time = Counter(map(_key, cases["generated-lowered"].detector or []))
    held = Counter(map(_key, cases["generated_late-lowered"].detector or []))
    assert on_time != held

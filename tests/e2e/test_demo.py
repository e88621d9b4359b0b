"""The demo path on the shared local stack: KPIs equal figures computed independently from the
input file, every injected bot is an offender, and each was notified exactly once."""

from __future__ import annotations

import csv
import json
import shutil
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecomm_cli import aws_clients, environments
from ecomm_cli.alerts.sources import read_offenders
from ecomm_cli.app import app
from ecomm_cli.demo.pipeline import DemoOptions, DemoRun, run_demo
from ecomm_cli.settings import Settings

pytestmark = pytest.mark.e2e
runner = CliRunner()


def _observe_alerts(settings: Settings) -> tuple[Any, str]:
    """An SQS queue subscribed to the alerts topic with raw delivery (test-only observer)."""
    sqs = aws_clients.client("sqs", settings)
    queue_url = sqs.create_queue(QueueName=f"demo-observer-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws_clients.client("sns", settings).subscribe(
        TopicArn=environments.outputs(settings)["alerts_topic_arn"],
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return sqs, queue_url


def _messages(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while True:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        messages = answer.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _visitors_per_day(events: Path) -> dict[str, int]:
    """Distinct users per day, straight from the generated CSV with the csv module."""
    users: dict[str, set[str]] = defaultdict(set)
    with events.open(newline="") as f:
        for row in csv.DictReader(f):
            users[row["event_time"][:10]].add(row["user_id"])
    return {day: len(ids) for day, ids in users.items()}


def _revenue_per_day(events: Path) -> dict[str, float]:
    revenue: dict[str, float] = defaultdict(float)
    seen: set[tuple[str, ...]] = set()
    with events.open(newline="") as f:
        for row in csv.DictReader(f):
            key = tuple(row.values())
            if row["event_type"] == "purchase" and key not in seen:  # exact duplicates once
                revenue[row["event_time"][:10]] += float(row["price"])
            seen.add(key)
    return {day: round(total, 2) for day, total in revenue.items()}


def _kpi(name: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["kpi", name, "--engine", "local", "--format", "json"])
    assert result.exit_code == 0, result.output
    # stdout holds the JSON document only; the timing note goes to stderr.
    return list(json.loads(result.stdout))


def test_demo_path(use_stack: Settings, tmp_path: Path) -> None:
    # Start from what this run replays: older stream content delivered, the lake emptied.
    assert runner.invoke(app, ["local", "deliver"]).exit_code == 0
    for zone in ("raw", "curated", "quarantine"):
        shutil.rmtree(use_stack.lake_dir / zone, ignore_errors=True)
    sqs, queue_url = _observe_alerts(use_stack)

    # Event time only moves forward on the shared stream: traffic older than what earlier tests
    # replayed (REES46 October 2019) would arrive behind the detector's watermark.
    options = DemoOptions(
        rows=12_000, days=1, seed=20261128, start="2020-01-06", report=tmp_path / "report.html"
    )
    run = DemoRun(use_stack, options)
    run_demo(run)
    assert [r.name for r in run.results if not r.ok] == []
    assert (tmp_path / "report.html").stat().st_size > 0
    # What the stages' service functions returned (no command output was parsed for it).
    assert run.facts["replay"]["sent"] == run.facts["replay"]["read"] == 12_000
    assert run.facts["etl"]["read"] == 12_000 and run.facts["etl"]["rejected"] == 0
    assert run.facts["bots"] == {"injected": 12, "caught": 12}

    events = run.work_dir / "events.csv"
    visitors = {r["event_date"]: r["unique_visitors"] for r in _kpi("unique-visitors")}
    expected = _visitors_per_day(events)
    assert {d: v for d, v in visitors.items() if d != "all"} == expected
    revenue = {
        r["event_date"]: float(r["revenue"]) for r in _kpi("revenue") if r["event_date"] != "all"
    }
    assert revenue == pytest.approx(_revenue_per_day(events))

    with (run.work_dir / "labels.csv").open(newline="") as f:
        bots = {int(row["user_id"]) for row in csv.DictReader(f)}
    assert len(bots) == 12
    offenders = read_offenders(
        aws_clients.client("dynamodb", use_stack),
        environments.outputs(use_stack)["offenders_table"],
    )
    assert bots <= {o.user_id for o in offenders}
    notified = Counter(m.get("user_id") for m in _messages(sqs, queue_url))
    assert {bot: notified[bot] for bot in bots} == dict.fromkeys(bots, 1)

"""`ecomm detect FILE`: the real-time rules run offline over a CSV file.

Alerts go to stdout (a table, or one JSON object per line for pipes); the run summary (events,
rejected rows, late events) goes to stderr, so `--format jsonl` output stays pure alerts.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ecomm_cli import contract
from ecomm_cli.console import console, err_console, fail
from ecomm_cli.detect.engine import Alert, Detector
from ecomm_cli.detect.evaluation import KindScore, LabelsError, read_labels, score
from ecomm_cli.detect.rules import Thresholds
from ecomm_cli.detect.source import ReadStats, read_events


class DetectFormat(StrEnum):
    table = "table"
    jsonl = "jsonl"


def register(app: typer.Typer) -> None:
    """Add `ecomm detect` to the root app."""
    app.command(name="detect")(detect)


def detect(
    file: Annotated[Path, typer.Argument(help="REES46 CSV (or .csv.gz) in event-time order.")],
    output: Annotated[
        DetectFormat,
        typer.Option("--format", "-f", envvar="ECOMM_DETECT_FORMAT", help="table or jsonl."),
    ] = DetectFormat.table,
    labels: Annotated[
        Path | None,
        typer.Option("--labels", help="Bot labels from `ecomm sample generate`: score the rules."),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a threshold, NAME=VALUE (repeatable)."),
    ] = None,
) -> None:
    """Run flood, scraper, cart_stuffer, session_cycler and traffic_spike over FILE."""
    try:
        thresholds = Thresholds().with_overrides(dict(_pairs(overrides or [])))
    except ValueError as exc:
        fail(str(exc), "see docs/realtime.md for the thresholds")
    truth = None
    if labels is not None:
        try:
            truth = read_labels(labels)
        except OSError as exc:
            fail(f"cannot read labels {labels}: {exc.strerror}", "check the path")
        except LabelsError as exc:
            fail(str(exc), "use the file `ecomm sample generate --labels` wrote")
    stats = ReadStats()
    detector = Detector(thresholds)
    alerts: list[Alert] = []
    try:
        for alert in detector.run(read_events(file, stats)):
            alerts.append(alert)
            if output is DetectFormat.jsonl:
                sys.stdout.write(json.dumps(alert.to_dict()) + "\n")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}", "check the path")
    except contract.RowError as exc:
        fail(f"{file}: {exc}", "expected a REES46 CSV with the event contract's columns")
    if output is DetectFormat.table:
        _print_alerts(alerts)
    _print_summary(file, stats, detector, len(alerts))
    if truth is not None:
        _print_scores(score(alerts, truth), output)


def _pairs(items: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set {item!r} is not NAME=VALUE")
        pairs.append((name.strip(), value.strip()))
    return pairs


def _print_alerts(alerts: list[Alert]) -> None:
    table = Table(title=f"{len(alerts)} alert(s)")
    for column in ("rule", "user_id", "window_start", "window_end", "count"):
        table.add_column(column, justify="right" if column == "count" else "left", no_wrap=True)
    for alert in alerts:
        body = alert.to_dict()
        table.add_row(
            alert.rule,
            "(platform)" if alert.user_id is None else str(alert.user_id),
            body["window_start"],
            body["window_end"],
            str(alert.count),
        )
    console.print(table)


def _print_summary(file: Path, stats: ReadStats, detector: Detector, alerts: int) -> None:
    late = detector.late
    late_rules = ", ".join(f"{rule} {n}" for rule, n in late.per_rule.items() if n) or "none"
    err_console.print(
        f"{file}: {stats.rows:,} rows, {detector.events:,} events, {stats.rejected:,} rejected, "
        f"{late.events:,} late ({late_rules}), {alerts:,} alert(s)",
        highlight=False,
        soft_wrap=True,
    )
    for reason in stats.reasons:
        err_console.print(f"  rejected {reason}", highlight=False, soft_wrap=True)


def _print_scores(scores: list[KindScore], output: DetectFormat) -> None:
    table = Table(title="rules against the labels")
    for column in ("kind", "labelled", "flagged", "caught", "precision", "recall"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for item in scores:
        table.add_row(
            item.kind,
            str(item.labelled),
            str(item.flagged),
            str(item.true_positives),
            "n/a" if item.precision is None else f"{item.precision:.3f}",
            "n/a" if item.recall is None else f"{item.recall:.3f}",
        )
    # With jsonl the scores must not mix into the alert lines on stdout.
    (err_console if output is DetectFormat.jsonl else console).print(table)

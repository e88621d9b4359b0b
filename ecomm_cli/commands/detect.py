"""`ecomm detect FILE`: the real-time rules run offline over a CSV file.

The alerts, and with --labels the rules' precision and recall, go to stdout (tables, one JSON
object `{"alerts": [...], "scores": [...]}`, CSV blocks, or JSON lines: one alert per line as the
anomalies stream carries it, the scores then on stderr); the run summary (events, rejected rows,
late events) goes to stderr, so JSON, JSON lines and CSV output stays pure data. The file is
read as `ecomm replay` reads it (ecomm_cli/replay/sources.py); when its rest cannot be read (a
truncated .gz), the alerts of what was read are printed and the command exits 2 saying where
reading stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ecomm_cli.console import err_console, fail
from ecomm_cli.detect.engine import Alert, Detector
from ecomm_cli.detect.evaluation import KindScore, LabelsError, read_labels, score
from ecomm_cli.detect.rules import Thresholds
from ecomm_cli.detect.source import ReadStats, read_events
from ecomm_cli.options import FormatOption, OutputFormat
from ecomm_cli.output import Record, Rows, render
from ecomm_cli.replay.sources import SourceError


def register(app: typer.Typer) -> None:
    """Add `ecomm detect` to the root app."""
    app.command(name="detect")(detect)


def detect(
    file: Annotated[
        Path, typer.Argument(help="REES46 CSV (or .csv.gz, .zip) in event-time order.")
    ],
    output: FormatOption = OutputFormat.table,
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
        alerts.extend(detector.run(read_events(file, stats)))
    except SourceError as exc:
        fail(str(exc), "expected a REES46 CSV (.csv, .csv.gz or .zip)")
    _print_summary(file, stats, detector, len(alerts))
    scores = None if truth is None else score(alerts, truth)
    data = detect_output(file, alerts, scores)
    if output is OutputFormat.jsonl:
        # The anomalies stream's records, one per line; the scores go to stderr beside them.
        render(data.fields["alerts"], output)
        if "scores" in data.fields:
            render(data.fields["scores"], OutputFormat.table, console=err_console)
    else:
        render(data, output)
    if stats.unread:
        fail(
            "; ".join(rest.message() for rest in stats.unread),
            "the alerts above cover only the rows before it; fix or fetch the file again",
        )


def _pairs(items: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set {item!r} is not NAME=VALUE")
        pairs.append((name.strip(), value.strip()))
    return pairs


def detect_output(file: Path, alerts: list[Alert], scores: list[KindScore] | None) -> Record:
    """The alerts as the anomalies stream carries them (samples in JSON and CSV only), and the
    score of each rule against the labels when there are labels."""
    fields: dict[str, Any] = {
        "alerts": Rows(
            f"{len(alerts)} alert(s)",
            ("rule", "user_id", "window_start", "window_end", "count", "samples"),
            [alert.to_dict() for alert in alerts],
            table_columns=("rule", "user_id", "window_start", "window_end", "count"),
            verbatim=("user_id",),
        )
    }
    if scores is not None:
        fields["scores"] = Rows(
            "rules against the labels",
            ("kind", "labelled", "flagged", "caught", "precision", "recall"),
            [
                {
                    "kind": item.kind,
                    "labelled": item.labelled,
                    "flagged": item.flagged,
                    "caught": item.true_positives,
                    "precision": item.precision,
                    "recall": item.recall,
                }
                for item in scores
            ],
        )
    return Record(f"ecomm detect {file}", fields)


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

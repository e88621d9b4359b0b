"""The demo's stages, in order, each timed; the first failure stops the run.

Every stage runs the same `ecomm` command a user would type (as a child process), so the demo
shows and checks the real command surface, not a shortcut through internals.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from ecomm_cli.console import console
from ecomm_cli.demo.supervisor import Supervisor
from ecomm_cli.local import stack
from ecomm_cli.settings import Settings

DEFAULT_BOTS = "flood=3,scraper=3,cart_stuffer=3,session_cycler=3"
RUNNERS = {
    "delivery": ["local", "deliver", "--follow"],
    "detector": ["local", "detector", "--follow"],
    "lambda": ["local", "lambda", "--follow"],
}


@dataclass
class StageResult:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class DemoOptions:
    rows: int = 200_000
    days: int = 3
    seed: int = 7
    start: str | None = None  # first day of generated traffic (the generator's default if None)
    bots: str = DEFAULT_BOTS
    data: Path | None = None
    speedup: float | None = None
    report: Path = Path("report.html")
    keep_stack: bool = False


@dataclass
class DemoRun:
    settings: Settings
    options: DemoOptions
    results: list[StageResult] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def work_dir(self) -> Path:
        return self.settings.state_dir / "demo"

    def ecomm(self, *args: str, echo: bool = False) -> str:
        """Run `ecomm args...`; its output is returned (and shown when `echo`)."""
        proc = subprocess.run(
            [sys.executable, "-m", "ecomm_cli", *args], capture_output=True, text=True
        )
        log = self.work_dir / "logs" / "stages.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as f:
            f.write(f"$ ecomm {' '.join(args)}\n{proc.stdout}{proc.stderr}\n")
        if echo:
            console.out(proc.stdout, end="", highlight=False)
        # Exit 1 means "the command found something" (alerts firing), not a failure.
        if proc.returncode not in (0, 1) or (proc.returncode == 1 and args[0] != "alerts"):
            raise StageError(f"ecomm {' '.join(args)} failed: {_last_message(proc)}")
        return proc.stdout

    def stage(self, name: str, action: Callable[[], str]) -> None:
        started = time.monotonic()
        with console.status(f"[bold]{name}[/]…"):
            try:
                detail = action()
            except (StageError, OSError, subprocess.SubprocessError) as exc:
                self.results.append(StageResult(name, False, time.monotonic() - started, str(exc)))
                raise
        result = StageResult(name, True, time.monotonic() - started, detail)
        self.results.append(result)
        console.print(
            f"[green]✓[/] {name} [dim]({result.seconds:.1f} s)[/] {detail}", highlight=False
        )


def _last_message(proc: subprocess.CompletedProcess[str]) -> str:
    """The last line of a failed command that says something (Rich boxes stripped)."""
    for line in reversed((proc.stderr + proc.stdout).splitlines()):
        text = line.strip(" │╭╮╰╯─┃━")
        if any(c.isalnum() for c in text):
            return text
    return f"exit code {proc.returncode}, no output"


class StageError(RuntimeError):
    """A stage's command failed; the message is one line."""


def _json_document(text: str) -> Any:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line[:1] in "[{")
    return json.JSONDecoder().raw_decode("\n".join(lines[start:]))[0]


def run_demo(run: DemoRun) -> None:
    """Every stage of the demo; raises StageError at the first failure (results kept in run)."""
    settings, options = run.settings, run.options
    run.work_dir.mkdir(parents=True, exist_ok=True)
    (run.work_dir / "logs" / "stages.log").unlink(missing_ok=True)
    started_stack = not stack.is_up(settings)

    def local_stack() -> str:
        result = stack.up(settings, stream=False)
        return f"{result.resources} resources at {result.endpoint_url}" + (
            " (already up)" if result.already_up else ""
        )

    run.stage("local stack (emulator + terraform apply)", local_stack)
    try:
        _run_pipeline(run)
    finally:
        if started_stack and not options.keep_stack:
            stack.down(settings)


def _run_pipeline(run: DemoRun) -> None:
    options = run.options
    events = options.data or run.work_dir / "events.csv"
    labels = run.work_dir / "labels.csv"
    if options.data is None:
        run.stage("sample with labelled bots", lambda: _generate(run, events, labels))
    with Supervisor(run.work_dir / "logs") as supervisor:

        def start_runners() -> str:
            for name, args in RUNNERS.items():
                supervisor.start(name, args)
            time.sleep(1.0)
            supervisor.check()
            return "delivery, detector and Lambda runners following the streams"

        run.stage("start local runners", start_runners)
        run.stage("replay into the events stream", lambda: _replay(run, events))
        supervisor.check()
    # The followers are stopped; one draining pass of each makes sure every event reached the
    # raw zone, every window closed and every anomaly reached the Lambda (checkpoints continue
    # exactly where the followers left off).
    run.stage("drain runners", lambda: _drain(run))
    run.stage("Glue job (local Spark)", lambda: _etl(run))
    run.stage("KPIs (DuckDB)", lambda: _kpis(run))
    run.stage("alerts", lambda: _alerts(run, labels if options.data is None else None))
    run.stage("report", lambda: _report(run))


def _generate(run: DemoRun, events: Path, labels: Path) -> str:
    o = run.options
    args = [
        "sample",
        "generate",
        "--rows",
        str(o.rows),
        "--days",
        str(o.days),
        "--seed",
        str(o.seed),
        "--bots",
        o.bots,
        "--out",
        str(events),
        "--labels",
        str(labels),
    ]
    if o.start:
        args += ["--start", o.start]
    run.ecomm(*args)
    return f"{o.rows:,} rows over {o.days} days, bots {o.bots}"


def _replay(run: DemoRun, events: Path) -> str:
    # KPL-aggregated records: many events per Kinesis record, de-aggregated by every local
    # consumer; a user's events stay in order and the replay is several times faster.
    args = [
        "replay",
        str(events),
        "--aggregate",
        "--format",
        "json",
        "--rejects",
        str(run.work_dir / "rejects.jsonl"),
        "--dead-letter",
        str(run.work_dir / "dead-letter.jsonl"),
    ]
    if run.options.speedup:
        args += ["--speedup", str(run.options.speedup)]
    summary = _json_document(run.ecomm(*args))
    run.facts["replay"] = summary
    return (
        f"read {summary['read']:,}, sent {summary['sent']:,}, rejected "
        f"{summary['rejected']:,}, dead-lettered {summary['dead_lettered']:,}"
    )


def _drain(run: DemoRun) -> str:
    for step in ("deliver", "detector", "lambda"):
        run.ecomm("local", step)
    return "every event delivered, every window closed, every anomaly handled"


def _etl(run: DemoRun) -> str:
    out = run.ecomm("etl", "run", "--local", "--format", "json")
    counts = _json_document(out)
    run.facts["etl"] = counts
    if isinstance(counts, dict):
        shown = {k: counts[k] for k in ("read", "valid", "rejected", "duplicates") if k in counts}
        return ", ".join(f"{k} {v:,}" for k, v in shown.items())
    return "done"


def _kpis(run: DemoRun) -> str:
    console.rule("KPIs")
    run.ecomm("kpi", "all", "--engine", "local", echo=True)
    return "every KPI of sql/kpi on the curated Parquet"


def _alerts(run: DemoRun, labels: Path | None) -> str:
    console.rule("alerts")
    out = run.ecomm("alerts", "check", "--since", "30d", "--format", "json")
    report = _json_document(out)
    run.facts["alerts"] = report
    offenders = report.get("offenders", []) if isinstance(report, dict) else report
    users = {str(o.get("user_id")) for o in offenders if o.get("user_id") is not None}
    detail = f"{len(users)} offenders in DynamoDB"
    if labels is not None and labels.exists():
        import csv

        with labels.open(newline="") as f:
            bots = {row["user_id"] for row in csv.DictReader(f)}
        caught = len(bots & users)
        detail += f"; {caught} of {len(bots)} injected bots caught, {len(users - bots)} others"
        run.facts["bots"] = {"injected": len(bots), "caught": caught}
    table = Table("user", "rules", title="offenders")
    by_user: dict[str, set[str]] = {}
    for offender in offenders:
        by_user.setdefault(str(offender.get("user_id", "platform")), set()).add(
            str(offender.get("rule"))
        )
    for user, rules in sorted(by_user.items())[:25]:
        table.add_row(user, ", ".join(sorted(rules)))
    console.print(table)
    return detail


def _report(run: DemoRun) -> str:
    run.ecomm("report", "--out", str(run.options.report))
    return f"written to {run.options.report}"


def print_summary(run: DemoRun) -> None:
    table = Table("stage", "status", "seconds", "detail", title="ecomm demo")
    for result in run.results:
        status = "[green]ok[/]" if result.ok else "[red]failed[/]"
        table.add_row(result.name, status, f"{result.seconds:.1f}", result.detail)
    console.print(table)
    console.print(
        f"lake: {run.settings.lake_dir}   logs: {run.work_dir / 'logs'}   "
        f"report: {run.options.report}",
        highlight=False,
    )

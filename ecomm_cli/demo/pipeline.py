"""The demo's stages, in order, each timed; the first failure stops the run.

Every stage calls the service function its `ecomm` command calls (sample generation, replay, the
local runners' drain, the ETL, the KPI runner, the alerts check, the report), in this process,
and gets data back; only the three runners that follow the streams while the replay runs are
child processes (`ecomm local deliver|detector|lambda --follow`, see supervisor.py).
"""

from __future__ import annotations

import contextlib
import csv
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from ecomm_cli.console import console
from ecomm_cli.demo.supervisor import Supervisor
from ecomm_cli.errors import EcommError
from ecomm_cli.local import stack
from ecomm_cli.options import OutputFormat
from ecomm_cli.output import Rows, render
from ecomm_cli.settings import Settings

DEFAULT_BOTS = "flood=3,scraper=3,cart_stuffer=3,session_cycler=3"
RUNNERS = {
    "delivery": ["local", "deliver", "--follow"],
    "detector": ["local", "detector", "--follow"],
    "lambda": ["local", "lambda", "--follow"],
}
# Offenders a demo's alerts stage looks back over (generated traffic is days old).
ALERTS_WINDOW = "30d"


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


class StageError(EcommError):
    """A stage failed; the message is one line."""


@dataclass
class DemoRun:
    settings: Settings
    options: DemoOptions
    results: list[StageResult] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def work_dir(self) -> Path:
        return self.settings.state_dir / "demo"

    def stage(self, name: str, action: Callable[[], str]) -> None:
        """Run one stage under a spinner; its result (or failure) is kept in `results`."""
        started = time.monotonic()
        with console.status(f"[bold]{name}[/]…"):
            try:
                detail = action()
            except Exception as exc:
                failure = _expected_failure(exc)
                message = failure.message if failure is not None else repr(exc)
                self.results.append(StageResult(name, False, time.monotonic() - started, message))
                if failure is None or failure is exc:
                    raise
                raise failure from exc
        result = StageResult(name, True, time.monotonic() - started, detail)
        self.results.append(result)
        console.print(
            f"[green]✓[/] {name} [dim]({result.seconds:.1f} s)[/] {detail}", highlight=False
        )


def _expected_failure(exc: Exception) -> EcommError | None:
    """The one-line failure `exc` stands for (an AWS SDK error included), None for a bug."""
    if isinstance(exc, EcommError):
        return exc
    if isinstance(exc, OSError):
        return StageError(str(exc))
    from ecomm_cli.aws_clients import aws_error

    return aws_error(exc)


def run_demo(run: DemoRun) -> None:
    """Every stage of the demo; raises EcommError at the first failure (results kept in run)."""
    settings, options = run.settings, run.options
    run.work_dir.mkdir(parents=True, exist_ok=True)
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
    run.stage("storefront lookup", lambda: _lookup(run, labels if options.data is None else None))
    run.stage("report", lambda: _report(run))


def _generate(run: DemoRun, events: Path, labels: Path) -> str:
    from ecomm_cli.sample import SampleError, SampleSpec, parse_bots, write_sample

    o = run.options
    try:
        spec = SampleSpec(rows=o.rows, days=o.days, seed=o.seed, bots=parse_bots(o.bots))
        if o.start:
            spec = replace(spec, start=date.fromisoformat(o.start))
        result = write_sample(spec, events, labels)
    except (SampleError, ValueError) as exc:
        raise StageError(f"sample: {exc}") from None
    return f"{result.rows:,} rows over {o.days} days, {len(result.labels)} bots ({o.bots})"


def _replay(run: DemoRun, events: Path) -> str:
    from ecomm_cli.replay.environment import replay_options, run_replay
    from ecomm_cli.replay.runner import ReplayError, ReplayInterrupted, ReplayOptions

    # KPL-aggregated records: many events per Kinesis record, de-aggregated by every local
    # consumer; a user's events stay in order and the replay is several times faster.
    settings, options = replay_options(
        run.settings,
        ReplayOptions(inputs=[str(events)], speedup=run.options.speedup),
        aggregate=True,
        rejects=run.work_dir / "rejects.jsonl",
        dead_letter=run.work_dir / "dead-letter.jsonl",
    )
    try:
        summary = run_replay(settings, options)
    except ReplayError as exc:
        raise StageError(f"replay: {exc}") from None
    except ReplayInterrupted:
        raise KeyboardInterrupt from None
    run.facts["replay"] = summary.as_dict()
    finding = summary.finding()
    if finding is not None:
        raise StageError(f"replay: {finding.message}", finding.hint)
    return (
        f"read {summary.read:,}, sent {summary.sent:,}, rejected "
        f"{summary.rejected:,}, dead-lettered {summary.dead_lettered:,}"
    )


def _drain(run: DemoRun) -> str:
    from ecomm_cli.local import runners

    delivered = runners.delivery(run.settings).drain()
    detected = runners.drain_detector(runners.detector(run.settings))
    handled = runners.drain_lambda(runners.alerting_lambda(run.settings))
    run.facts["drain"] = {
        "delivered_events": delivered.events,
        "alerts": detected.alerts,
        "lambda_records": handled.records,
    }
    return "every event delivered, every window closed, every anomaly handled"


@contextlib.contextmanager
def _stderr_into(log: Path) -> Iterator[None]:
    """File descriptor 2 into `log` meanwhile: a JVM started here (Spark) keeps writing there."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with log.open("ab") as file:
            os.dup2(file.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _etl(run: DemoRun) -> str:
    from ecomm_cli.etl.local_runner import curate_local_lake

    with _stderr_into(run.work_dir / "logs" / "spark.log"):
        counts = curate_local_lake(run.settings)
    run.facts["etl"] = counts
    return ", ".join(f"{k} {counts[k]:,}" for k in ("read", "valid", "rejected", "duplicates"))


def _kpis(run: DemoRun) -> str:
    from ecomm_cli.kpi import catalog
    from ecomm_cli.kpi.engines import Engine
    from ecomm_cli.kpi.parameters import KpiParameters
    from ecomm_cli.kpi.render import kpi_output
    from ecomm_cli.kpi.runner import run_kpis

    results = run_kpis(catalog.names(), KpiParameters(), Engine.local, run.settings)
    console.rule("KPIs")
    render(kpi_output(results, single=False), OutputFormat.table)
    return f"{len(results)} KPIs of sql/kpi on the curated Parquet"


def _lookup(run: DemoRun, labels: Path | None) -> str:
    """The block lookup as the storefront calls it: `ecomm local lookup` in this process, one
    signed request per offender (and per injected bot), one unsigned request refused."""

    from botocore.credentials import Credentials

    from ecomm_cli.alerts.lookup import BlocksLookup
    from ecomm_cli.local import lookup_server

    offenders = {
        o["user_id"] for o in run.facts.get("alerts", {}).get("offenders", []) if o["user_id"]
    }
    if labels is not None and labels.exists():
        with labels.open(newline="") as f:
            offenders |= {int(row["user_id"]) for row in csv.DictReader(f)}
    with lookup_server.running(lookup_server.serve(run.settings, 0)) as server:
        client = BlocksLookup(
            server.url, Credentials("AKIADEMOSTOREFRONT01", "testing"), run.settings.region
        )
        answers = [client.check(user) for user in sorted(offenders)]
        unsigned = client.request("/blocks/0", sign=False)[0]
        client.close()
    blocked = sum(a.blocked for a in answers)
    failed = sum(a.failed_open for a in answers)
    run.facts["lookup"] = {"asked": len(answers), "blocked": blocked, "failed_open": failed}
    if failed or unsigned != 403:
        raise StageError(
            f"lookup: {failed} of {len(answers)} lookups failed, an unsigned one got {unsigned}"
        )
    return (
        f"{blocked} of {len(answers)} offenders blocked per the lookup; "
        "an unsigned request refused (403)"
    )


def _alerts(run: DemoRun, labels: Path | None) -> str:
    from ecomm_cli.alerts.checks import check_alerts
    from ecomm_cli.alerts.status import parse_duration

    result = check_alerts(run.settings, parse_duration(ALERTS_WINDOW))
    run.facts["alerts"] = result.to_dict()
    users = {o.user_id for o in result.offenders if o.user_id is not None}
    detail = f"{len(users)} offenders in DynamoDB"
    if labels is not None and labels.exists():
        with labels.open(newline="") as f:
            bots = {int(row["user_id"]) for row in csv.DictReader(f)}
        caught = len(bots & users)
        detail += f"; {caught} of {len(bots)} injected bots caught, {len(users - bots)} others"
        run.facts["bots"] = {"injected": len(bots), "caught": caught}
    by_offender: dict[str, set[str]] = {}
    for offender in result.offenders:
        by_offender.setdefault(offender.offender, set()).add(offender.rule)
    console.rule("alerts")
    render(
        Rows(
            "offenders",
            ("offender", "rules"),
            [
                {"offender": name, "rules": sorted(rules)}
                for name, rules in sorted(by_offender.items())[:25]
            ],
        ),
        OutputFormat.table,
    )
    return detail


def _report(run: DemoRun) -> str:
    from ecomm_cli.kpi.engines import Engine
    from ecomm_cli.kpi.parameters import KpiParameters
    from ecomm_cli.report.build import build_report, write_report

    page = build_report(KpiParameters(), Engine.local, run.settings)
    size = write_report(page, run.options.report)
    return f"written to {run.options.report} ({size / 1024:,.1f} KiB, {len(page.sections)} KPIs)"


def print_summary(run: DemoRun) -> None:
    """Every stage that ran, with its time and what it did or why it failed."""
    render(
        Rows(
            "ecomm demo",
            ("stage", "status", "seconds", "detail"),
            [
                {
                    "stage": r.name,
                    "status": "ok" if r.ok else "failed",
                    "seconds": round(r.seconds, 1),
                    "detail": r.detail,
                }
                for r in run.results
            ],
            styles={"status": {"ok": "green", "failed": "red"}},
        ),
        OutputFormat.table,
    )
    console.print(
        f"lake: {run.settings.lake_dir}   logs: {run.work_dir / 'logs'}   "
        f"report: {run.options.report}",
        highlight=False,
    )

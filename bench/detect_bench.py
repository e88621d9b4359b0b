"""Benchmark of the local detector (issue 5) and of `ecomm sample generate` (issue 3).

    .venv/bin/python bench/detect_bench.py [--rows 500000] [--no-docs]

Generates a labelled sample with every bot kind, then measures on one core (the process is
pinned to one CPU where the OS allows): the generator's rows per second, the detector alone
over already-parsed events (best of three), and the whole `ecomm detect` path from the CSV file
(contract parsing included). It scores the rules against the labels, writes the figures with
this command into docs/realtime.md between the `bench:detect` markers, prints the verdicts last
and exits 1 when a target is missed: the detector alone at 100,000 events per second on one
core, and precision and recall of at least 0.98 for every labelled bot kind.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecomm_cli.detect import Detector  # noqa: E402
from ecomm_cli.detect.evaluation import read_labels, score  # noqa: E402
from ecomm_cli.detect.source import ReadStats, read_events  # noqa: E402
from ecomm_cli.sample import BotKind, SampleSpec, generate_sample  # noqa: E402

DOCS = ROOT / "docs" / "realtime.md"
START, END = "<!-- bench:detect:start -->", "<!-- bench:detect:end -->"
TARGET_EVENTS_PER_SECOND = 100_000
TARGET_SCORE = 0.98  # precision and recall of every labelled bot kind


def _pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity here)"


def _row(measure: str, events: int, seconds: float) -> str:
    return f"| {measure} | {events:,} | {seconds:.2f} | {events / seconds:,.0f} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--bots", type=int, default=10, help="bots of each kind")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-docs", action="store_true", help="print only, do not edit docs")
    args = parser.parse_args()
    pinning = _pin_to_one_core()

    with tempfile.TemporaryDirectory() as folder:
        events_path, labels_path = Path(folder) / "events.csv", Path(folder) / "labels.csv"
        began = time.perf_counter()
        with events_path.open("w") as out, labels_path.open("w") as truth:
            spec = SampleSpec(
                rows=args.rows, days=max(1, args.rows // 400_000), seed=args.seed,
                bots=dict.fromkeys(BotKind, args.bots),
            )  # fmt: skip
            generate_sample(spec, out, truth)
        generate_seconds = time.perf_counter() - began

        began = time.perf_counter()
        stats = ReadStats()
        events = list(read_events(events_path, stats))
        parse_seconds = time.perf_counter() - began

        core_seconds = float("inf")
        alerts = []
        for _ in range(3):
            began = time.perf_counter()
            alerts = list(Detector().run(events))
            core_seconds = min(core_seconds, time.perf_counter() - began)

        began = time.perf_counter()
        end_to_end = list(Detector().run(read_events(events_path, ReadStats())))
        file_seconds = time.perf_counter() - began
        scores = score(end_to_end, read_labels(labels_path))

    n = len(events)
    core_rate = n / core_seconds
    machine = platform.processor() or platform.machine()
    command = (
        f".venv/bin/python bench/detect_bench.py --rows {args.rows} --bots {args.bots} "
        f"--seed {args.seed}"
    )
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}, {os.cpu_count()} CPUs "
        f"(process {pinning}), Python {platform.python_version()}, with:",
        "",
        "```",
        command,
        "```",
        "",
        "| measure | events | seconds | events per second |",
        "|---|---:|---:|---:|",
        _row("`ecomm sample generate` (writing the CSV)", args.rows, generate_seconds),
        _row("CSV parsing through the event contract", n, parse_seconds),
        _row("**detector alone, parsed events, one core (best of 3)**", n, core_seconds),
        _row("`ecomm detect` path: file -> contract -> detector", n, file_seconds),
        "",
        f"Target for the detector: {TARGET_EVENTS_PER_SECOND:,} events per second on one core: "
        + ("met." if core_rate >= TARGET_EVENTS_PER_SECOND else "**NOT met**."),
        f"The run raised {len(alerts):,} alerts; against the labels "
        f"({args.bots} bots of each kind):",
        "",
        "| kind (rule family) | labelled | flagged | of which bots (any kind) | caught | "
        "precision | recall |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for item in scores:
        precision = "n/a" if item.precision is None else f"{item.precision:.3f}"
        recall = "n/a" if item.recall is None else f"{item.recall:.3f}"
        lines.append(
            f"| {item.kind} | {item.labelled} | {item.flagged} | {item.bots_flagged} "
            f"| {item.true_positives} "
            f"| {precision} | {recall} |"
        )
    block = "\n".join(lines)
    print(block)
    if not args.no_docs:
        text = DOCS.read_text()
        if START not in text or END not in text:
            print(f"error: {DOCS} lacks the {START} / {END} markers", file=sys.stderr)
            return 2
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        DOCS.write_text(f"{head}{START}\n{block}\n{END}{tail}")
        print(f"figures written to {DOCS.relative_to(ROOT)}")
    verdicts = {
        f"detector alone {core_rate:,.0f} events/s >= {TARGET_EVENTS_PER_SECOND:,}": (
            core_rate >= TARGET_EVENTS_PER_SECOND
        ),
    }
    for item in scores:
        if item.labelled:
            verdicts[
                f"{item.kind}: precision {item.precision}, recall {item.recall} >= {TARGET_SCORE}"
            ] = (item.precision or 0) >= TARGET_SCORE and (item.recall or 0) >= TARGET_SCORE
    print(f"detector alone / target: {core_rate / TARGET_EVENTS_PER_SECOND:.2f}")
    for name, ok in verdicts.items():
        print(f"  {'met' if ok else 'MISSED'}: {name}")
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

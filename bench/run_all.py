"""Every benchmark, in one go: what `make bench` runs.

    .venv/bin/python bench/run_all.py [--only NAME ...]

Runs each bench of BENCHES with the command docs/benchmarks.md gives for it, whether or not an
earlier one missed its target. The benches that need the local stack run last: the stack is
started for them (`ecomm local up`) and stopped after them, unless it was already running, in
which case it is left as it was. Each bench prints its figures and its verdicts last; this script
then repeats every bench's last lines and exits 1 if any bench missed a target or failed
(a bench file under bench/ that is not listed here is a failure too, so none is forgotten).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ECOMM = [PYTHON, "-m", "ecomm_cli"]
TAIL_LINES = 8  # the verdicts each bench prints last


@dataclass(frozen=True)
class Bench:
    name: str
    args: tuple[str, ...]
    needs_stack: bool = False

    @property
    def script(self) -> str:
        return self.args[0]


BENCHES = (
    Bench("replay", ("bench/replay_bench.py", "--rows", "200000")),
    Bench("detect", ("bench/detect_bench.py", "--rows", "500000", "--bots", "10", "--seed", "42")),
    Bench(
        "batch",
        ("bench/batch_bench.py", "--rows", "10000000", "--days", "31", "--seed", "42"),
    ),
    Bench(
        "latency, aggregated",
        ("bench/realtime_latency_bench.py", "--rate", "1000", "--seconds", "60", "--aggregate"),
        needs_stack=True,
    ),
    Bench(
        "latency, plain records",
        ("bench/realtime_latency_bench.py", "--rate", "1000", "--seconds", "60"),
        needs_stack=True,
    ),
    Bench("lookup", ("bench/lookup_bench.py", "--requests", "5000"), needs_stack=True),
)


@dataclass
class Outcome:
    bench: Bench
    code: int
    seconds: float
    tail: list[str]


def run(command: list[str]) -> tuple[int, list[str]]:
    """Run `command` from the project root, its output shown as it comes; (code, last lines)."""
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            tail.append(line.rstrip())
    return process.returncode, list(tail)


def unlisted() -> list[str]:
    listed = {b.script for b in BENCHES}
    return sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "bench").glob("*.py")
        if p.name != Path(__file__).name and p.relative_to(ROOT).as_posix() not in listed
    )


def stack_is_up() -> bool:
    """`ecomm local status` exits 0 only while the local stack runs."""
    status = subprocess.run([*ECOMM, "local", "status"], cwd=ROOT, capture_output=True)
    return status.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run only the benches with these names")
    args = parser.parse_args()
    benches = [b for b in BENCHES if not args.only or b.name in args.only]
    outcomes: list[Outcome] = []
    started_stack = False
    problems = [f"{script} is not in bench/run_all.py BENCHES" for script in unlisted()]
    try:
        for bench in sorted(benches, key=lambda b: b.needs_stack):
            if bench.needs_stack and not started_stack and not stack_is_up():
                print("== ecomm local up (for the benches that need the local stack)", flush=True)
                code, tail = run([*ECOMM, "local", "up"])
                if code != 0:
                    problems.append("`ecomm local up` failed: " + " / ".join(tail[-2:]))
                    break
                started_stack = True
            print(f"== {bench.name}: {' '.join(bench.args)}", flush=True)
            began = time.monotonic()
            code, tail = run([PYTHON, *bench.args])
            outcomes.append(Outcome(bench, code, time.monotonic() - began, tail))
    finally:
        if started_stack:
            print("== ecomm local down", flush=True)
            run([*ECOMM, "local", "down"])

    print("\n== every bench")
    for outcome in outcomes:
        verdict = "ok" if outcome.code == 0 else f"FAILED (exit {outcome.code})"
        print(f"-- {outcome.bench.name}: {verdict} in {outcome.seconds:.0f} s")
        for line in outcome.tail:
            print(f"   {line}")
    ran = {o.bench.name for o in outcomes}
    problems += [f"{b.name} did not run" for b in benches if b.name not in ran]
    problems += [f"{o.bench.name} missed a target or failed" for o in outcomes if o.code]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Run the real-time rules of sql/realtime on PyFlink over files: the conformance test's engine.

Runs under .venv-flink's interpreter (PyFlink pins old numpy/pyarrow), started by
tests/flink/test_rules_conformance.py as:

    .venv-flink/bin/python tests/flink/run_rules.py MANIFEST.json

The manifest names flink/main.py, the rule folder and the cases; each case is one input file
(JSON lines in the event contract) and one set of runtime properties. Every case runs as its
own Flink job, one after the other in this one process, so the JVM starts once. The tables,
the placeholder substitution and the job submission are flink/main.py's (`plan_job`, `run`):
only the connector options differ from Managed Flink (filesystem instead of Kinesis), and the
table config adds what makes a test run deterministic. Prints one JSON line per case with its
wall time, for the test's report.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType

_JSON_FORMAT = {"format": "json", "json.timestamp-format.standard": "ISO-8601"}
# The engine settings that make one run deterministic and comparable with the local detector:
# - one task, so the file is read and windowed in file order (the detector's order);
# - a watermark on every advance of event time (interval 0): the table watermark assigner
#   otherwise holds back advances smaller than the 200 ms default until a processing-time
#   timer, so with sub-second event times whether a row is late would depend on machine
#   speed; the detector's watermark moves with every event.
_DETERMINISTIC = {
    "parallelism.default": "1",
    "pipeline.auto-watermark-interval": "0 ms",
}


def _load_app(main_py: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("ecomm_flink_main", main_py)
    if spec is None or spec.loader is None:
        raise SystemExit(f"error: cannot load {main_py}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _run_case(app: ModuleType, sql_dir: Path, case: dict) -> None:
    plan = app.plan_job(
        case["properties"],
        sql_dir,
        source_options={"connector": "filesystem", "path": case["events"], **_JSON_FORMAT},
        sink_options={"connector": "filesystem", "path": case["out"], **_JSON_FORMAT},
    )
    # The job is submitted by the application's own `run`, so the test covers it too.
    plan = dataclasses.replace(plan, table_config={**plan.table_config, **_DETERMINISTIC})
    app.run(plan, wait=True)


def main(argv: list[str]) -> int:
    """Run every case of the manifest; a failed case ends the run with its error."""
    if len(argv) != 2:
        print("usage: run_rules.py MANIFEST.json", file=sys.stderr)
        return 2
    manifest = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    app = _load_app(Path(manifest["main"]))
    sql_dir = Path(manifest["sql_dir"])
    for case in manifest["cases"]:
        started = time.monotonic()
        _run_case(app, sql_dir, case)
        seconds = round(time.monotonic() - started, 2)
        print(json.dumps({"case": case["name"], "seconds": seconds}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""`ecomm etl run --local`: the Glue job's own script on a local SparkSession over the lake.

Local Spark has no S3 connector offline (its jars come from Maven), so the job reads and writes
the on-disk lake, a folder that mirrors the buckets' key layout (see docs/batch.md).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

from ecomm_cli.errors import EcommError
from ecomm_cli.settings import PROJECT_ROOT, Settings

GLUE_SCRIPT = PROJECT_ROOT / "glue" / "curate_events.py"
_MODULE_NAME = "curate_events"


@dataclass(frozen=True)
class LakePaths:
    """The three zones in the local lake, keyed like the buckets (`<bucket>/<prefix>`)."""

    raw: Path
    curated: Path
    quarantine: Path

    @classmethod
    def of(cls, lake_dir: Path) -> LakePaths:
        return cls(
            raw=lake_dir / "raw" / "raw" / "events",
            curated=lake_dir / "curated" / "events",
            quarantine=lake_dir / "quarantine" / "events",
        )


def load_glue_job() -> ModuleType:
    """Import glue/curate_events.py as a module (it is a Glue script, not part of a package)."""
    if _MODULE_NAME in sys.modules:
        return sys.modules[_MODULE_NAME]
    if importlib.util.find_spec("pyspark") is None:
        raise EcommError(
            "PySpark is not installed", hint="pip install -e '.[etl]' (Glue 5 runs Spark 3.5)"
        )
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise EcommError(
            "Spark needs Java and none was found", hint="install a JDK 17 or set JAVA_HOME"
        )
    spec = importlib.util.spec_from_file_location(_MODULE_NAME, GLUE_SCRIPT)
    if spec is None or spec.loader is None:
        raise EcommError(f"cannot load the Glue job from {GLUE_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODULE_NAME] = module  # dataclasses look their module up while defining
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[_MODULE_NAME]
        raise
    return module


def run_local_job(
    lake_dir: Path,
    *,
    csv_path: Path | None = None,
    ingest_from: str | None = None,
    spark: Any = None,
    heartbeat: Callable[[ModuleType, Any], None] | None = None,
) -> Any:
    """Run the Glue job once over the local lake; returns its CurationCounts.

    `spark` lets tests share one session; without it a small local[2] session is started.
    `heartbeat(job_module, counts)` runs after a successful run, as the job's own end does on
    Glue (the local stack's CloudWatch gets the same CurationSucceeded).
    """
    if csv_path is not None and not csv_path.exists():
        raise EcommError(f"no such CSV file: {csv_path}")
    if ingest_from is not None:
        try:
            ingest_from = date.fromisoformat(ingest_from).isoformat()
        except ValueError:
            raise EcommError(
                f"--ingest-from must be a date YYYY-MM-DD, got {ingest_from!r}"
            ) from None
    job = load_glue_job()
    paths = LakePaths.of(lake_dir)
    session = spark if spark is not None else job.local_session()
    try:
        counts = job.curate(
            session,
            raw_path=str(paths.raw),
            curated_path=str(paths.curated),
            quarantine_path=str(paths.quarantine),
            csv_path=str(csv_path) if csv_path is not None else None,
            ingest_from=ingest_from,
            print_counts=False,
        )
    except ValueError as exc:  # the job's own argument checks (bad date, CSV without columns)
        raise EcommError(str(exc)) from exc
    if heartbeat is not None:
        heartbeat(job, counts)
    return counts


def curate_local_lake(
    settings: Settings, *, csv_path: Path | None = None, ingest_from: str | None = None
) -> dict[str, Any]:
    """`ecomm etl run --local`: the job over the settings' lake; its counts and `seconds`.

    On a running local stack a successful run reports CurationSucceeded to the emulator's
    CloudWatch, as the Glue job does on AWS (signed as the Glue component).
    """
    started = time.perf_counter()
    counts = run_local_job(
        settings.lake_dir,
        csv_path=csv_path,
        ingest_from=ingest_from,
        heartbeat=_local_heartbeat(settings),
    )
    return {**asdict(counts), "seconds": round(time.perf_counter() - started, 2)}


def _local_heartbeat(settings: Settings) -> Callable[[Any, Any], None] | None:
    from ecomm_cli.local import stack

    if settings.env != "local" or not stack.is_up(settings):
        return None
    from ecomm_cli.aws_clients import client
    from ecomm_cli.environments import resolve

    namespace = str(resolve(settings, require=["metric_namespace"])[1]["metric_namespace"])
    cloudwatch = client("cloudwatch", settings, component="glue", max_attempts=2)
    return lambda job, counts: job.publish_heartbeat(cloudwatch, namespace, counts)

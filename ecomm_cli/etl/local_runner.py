"""`ecomm etl run --local`: the Glue job's own script on a local SparkSession over the lake.

Local Spark has no S3 connector offline (its jars come from Maven), so the job reads and writes
the on-disk lake, a folder that mirrors the buckets' key layout (see docs/batch.md).
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

from ecomm_cli.contract import COLUMNS
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
    full: bool = False,
    spark: Any = None,
    heartbeat: Callable[[ModuleType, Any], None] | None = None,
    profile: dict[str, float] | None = None,
) -> Any:
    """Run the Glue job once over the local lake; returns its CurationCounts.

    `spark` lets tests share one session; without it a small local[2] session is started.
    `heartbeat(job_module, counts)` runs after a successful run, as the job's own end does on
    Glue (the local stack's CloudWatch gets the same CurationSucceeded). An input Spark cannot
    read (a truncated .gz) stops the run with one line, before any day is switched.
    """
    if csv_path is not None:
        check_csv_input(csv_path)
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
            full=full,
            profile=profile,
        )
    except ValueError as exc:  # the job's own argument checks (bad date, CSV without columns)
        raise EcommError(str(exc)) from exc
    except Exception as exc:
        unreadable = unreadable_input(exc, csv_path)
        if unreadable is None:
            raise
        raise EcommError(
            unreadable,
            hint="nothing was switched: every reader still sees the previous days; "
            "fix or remove the file and run again",
        ) from None
    if heartbeat is not None:
        heartbeat(job, counts)
    return counts


def check_csv_input(csv_path: Path) -> None:
    """A `--csv` input the job can read, checked before Spark starts: an existing, non-empty
    file (plain or .gz) whose first line is a REES46 header; one line otherwise. Bad rows
    after the header are the job's to count and quarantine."""
    if not csv_path.exists():
        raise EcommError(f"no such CSV file: {csv_path}")
    if not csv_path.is_file():
        raise EcommError(f"{csv_path} is not a file", hint="--csv takes one REES46 CSV file")
    if csv_path.stat().st_size == 0:
        raise EcommError(
            f"{csv_path} is empty", hint="a REES46 CSV file starts with its header line"
        )
    header = _first_line(csv_path)
    names = next(csv.reader([header.lstrip("\ufeff")]), [])
    missing = [c for c in COLUMNS if c not in {n.strip().strip('"') for n in names}]
    if missing:
        raise EcommError(
            f"{csv_path}: its first line is not a REES46 header (no {', '.join(missing)})",
            hint="the job reads CSV files whose first line names the columns " + ",".join(COLUMNS),
        )


def _first_line(csv_path: Path, limit: int = 65_536) -> str:
    """The file's first line as text (a .gz file decompressed); one line if unreadable."""
    opener: Callable[..., Any] = gzip.open if csv_path.name.endswith(".gz") else open
    try:
        with opener(csv_path, "rb") as stream:
            first = stream.readline(limit)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise EcommError(f"cannot read {csv_path}: {exc}") from None
    try:
        return first.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise EcommError(
            f"{csv_path}: its first line is not UTF-8 text (a binary or compressed file?)",
            hint="--csv takes a REES46 CSV file, plain or .gz",
        ) from None


# What Spark says, innermost first, when a file's bytes cannot be read to the end.
_UNREADABLE = (
    ("Unexpected end of input stream", "ends before its end (a truncated gzip file?)"),
    ("invalid block type", "is not a readable gzip file"),
    ("incorrect header check", "is not a readable gzip file"),
    ("Not in GZIP format", "is not a readable gzip file"),
    ("not in GZIP format", "is not a readable gzip file"),
)


def unreadable_input(exc: BaseException, csv_path: Path | None = None) -> str | None:
    """One line naming the file Spark could not read and why, or None for other failures.

    Spark's error does not always name the file: then the line names the candidates."""
    text = str(exc)
    for marker, meaning in _UNREADABLE:
        if marker in text:
            found = re.search(r"(?:file|path)[: ]+(?:file:)?(/[^\s,]+)", text)
            if found:
                where = found.group(1).rstrip(".")
            elif csv_path is not None:
                where = f"an input file (the --csv file {csv_path}, or a raw object)"
            else:
                where = "a raw object of the lake"
            return f"cannot read {where}: it {meaning}; the run stopped"
    return None


def curate_local_lake(
    settings: Settings,
    *,
    csv_path: Path | None = None,
    ingest_from: str | None = None,
    full: bool = False,
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
        full=full,
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

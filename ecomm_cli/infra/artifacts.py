"""Byte-reproducible build of the Lambda and Managed Flink zips, done before every plan.

Terraform has no archive provider here and hashes the zips at plan time
(`filebase64sha256`), so the same sources must give the same bytes: fixed timestamps, fixed
permissions, sorted entries, no compression-level surprises.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ecomm_cli.errors import EcommError
from ecomm_cli.settings import PROJECT_ROOT, Settings

LAMBDA_ZIP = "alerting-lambda.zip"
FLINK_ZIP = "flink-app.zip"
# The earliest timestamp a zip can hold; any fixed value makes the bytes reproducible.
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_SKIP_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache"}


@dataclass(frozen=True)
class BuiltArtifacts:
    lambda_zip: Path
    flink_zip: Path
    flink_has_connector: bool


def _source_files(root: Path) -> list[Path]:
    files = [
        p
        for p in root.rglob("*")
        if p.is_file()
        and not _SKIP_PARTS.intersection(p.relative_to(root).parts)
        and p.suffix not in {".pyc", ".pyo"}
        and not p.name.startswith("test_")
    ]
    return sorted(files)


def write_reproducible_zip(target: Path, entries: Iterable[tuple[str, Path]]) -> Path:
    """Write `entries` (name in zip, file on disk) so equal inputs give equal bytes.

    The zip is written beside the target and renamed into place, so a plan never sees half a file
    and an unchanged artifact keeps its modification time.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for name, path in sorted(entries, key=lambda e: e[0]):
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    if target.exists() and target.read_bytes() == tmp.read_bytes():
        tmp.unlink()
    else:
        tmp.replace(target)
    return target


def build_lambda_zip(settings: Settings, source: Path | None = None) -> Path:
    """The Lambdas' code: the `lambdas/` package tree, handler modules at the zip root (one zip
    for the alerting Lambda, `alerting.handler`, and the block lookup, `blocks.handler`)."""
    source = source or PROJECT_ROOT / "lambdas"
    files = _source_files(source)
    if not any(f.suffix == ".py" for f in files):
        raise EcommError(f"no Lambda sources under {source}", hint="is the checkout complete?")
    entries = [(f.relative_to(source).as_posix(), f) for f in files]
    return write_reproducible_zip(settings.build_dir / LAMBDA_ZIP, entries)


def build_flink_zip(settings: Settings, root: Path | None = None) -> tuple[Path, bool]:
    """The Managed Flink application: main.py, the rules manifest and SQL, and the connector
    jar if given.

    Returns the zip path and whether the Kinesis SQL connector jar went in (AWS needs it; the
    local stack never runs the application, so there it may be absent).
    """
    root = root or PROJECT_ROOT
    app_dir = root / "flink"
    entries = [(f.relative_to(app_dir).as_posix(), f) for f in _source_files(app_dir)]
    if not any(name == "main.py" for name, _ in entries):
        raise EcommError(f"no Flink application at {app_dir / 'main.py'}")
    rules_dir = root / "sql" / "realtime"
    entries += [
        (f"sql/realtime/{f.name}", f)
        for f in sorted([*rules_dir.glob("*.sql"), *rules_dir.glob("rules.json")])
    ]
    jar = settings.flink_connector_jar
    if jar is not None:
        if not jar.is_file():
            raise EcommError(
                f"Flink connector jar not found: {jar}",
                hint="set ECOMM_FLINK_CONNECTOR_JAR to the downloaded jar",
            )
        entries.append((f"lib/{jar.name}", jar))
    return write_reproducible_zip(settings.build_dir / FLINK_ZIP, entries), jar is not None


def build_all(settings: Settings) -> BuiltArtifacts:
    """Build every zip Terraform reads; cheap when nothing changed."""
    lambda_zip = build_lambda_zip(settings)
    flink_zip, has_connector = build_flink_zip(settings)
    return BuiltArtifacts(lambda_zip, flink_zip, has_connector)

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ecomm_cli.errors import EcommError
from ecomm_cli.infra import artifacts
from ecomm_cli.settings import Settings

pytestmark = pytest.mark.unit


def _tree(root: Path) -> None:
    (root / "flink").mkdir(parents=True)
    (root / "flink" / "main.py").write_text("print('app')\n")
    (root / "flink" / "__pycache__").mkdir()
    (root / "flink" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"junk")
    (root / "sql" / "realtime").mkdir(parents=True)
    (root / "sql" / "realtime" / "flood.sql").write_text("INSERT INTO anomalies SELECT 1;\n")
    (root / "sql" / "realtime" / "rules.json").write_text('{"rules": {}}\n')


def test_flink_zip_is_byte_reproducible_and_holds_app_and_rules(tmp_path: Path) -> None:
    _tree(tmp_path / "src")
    settings = Settings.load(state_dir=tmp_path / "state")
    first, has_jar = artifacts.build_flink_zip(settings, tmp_path / "src")
    bytes_one = first.read_bytes()
    # Touch the sources: a new mtime must not change the zip.
    (tmp_path / "src" / "flink" / "main.py").write_text("print('app')\n")
    second, _ = artifacts.build_flink_zip(settings, tmp_path / "src")
    assert second.read_bytes() == bytes_one
    assert not has_jar
    names = zipfile.ZipFile(first).namelist()
    # The manifest goes with the rules: the application reads it at start.
    assert names == ["main.py", "sql/realtime/flood.sql", "sql/realtime/rules.json"]


def test_flink_zip_packs_connector_jar_under_lib(tmp_path: Path) -> None:
    _tree(tmp_path / "src")
    jar = tmp_path / "flink-sql-connector.jar"
    jar.write_bytes(b"PK-jar")
    settings = Settings.load(state_dir=tmp_path / "state", flink_connector_jar=jar)
    path, has_jar = artifacts.build_flink_zip(settings, tmp_path / "src")
    assert has_jar
    assert "lib/flink-sql-connector.jar" in zipfile.ZipFile(path).namelist()


def test_missing_connector_jar_is_a_clear_error(tmp_path: Path) -> None:
    _tree(tmp_path / "src")
    settings = Settings.load(state_dir=tmp_path / "state", flink_connector_jar=tmp_path / "no.jar")
    with pytest.raises(EcommError, match="connector jar not found"):
        artifacts.build_flink_zip(settings, tmp_path / "src")


def test_lambda_zip_changes_only_when_sources_change(tmp_path: Path) -> None:
    src = tmp_path / "lambdas" / "alerting"
    src.mkdir(parents=True)
    (src / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    (src / "test_handler.py").write_text("# tests stay out of the zip\n")
    settings = Settings.load(state_dir=tmp_path / "state")
    one = artifacts.build_lambda_zip(settings, tmp_path / "lambdas").read_bytes()
    two = artifacts.build_lambda_zip(settings, tmp_path / "lambdas").read_bytes()
    assert one == two
    (src / "handler.py").write_text("def handler(event, context):\n    return {'x': 1}\n")
    three = artifacts.build_lambda_zip(settings, tmp_path / "lambdas").read_bytes()
    assert three != one
    assert zipfile.ZipFile(settings.build_dir / artifacts.LAMBDA_ZIP).namelist() == [
        "alerting/handler.py"
    ]


def test_the_shipped_lambda_zip_holds_both_handlers(tmp_path: Path) -> None:
    """One zip for the alerting Lambda and the block lookup (which imports the alerting
    package's store), handler modules at the root as their `handler` settings name them."""
    settings = Settings.load(state_dir=tmp_path)
    names = set(zipfile.ZipFile(artifacts.build_lambda_zip(settings)).namelist())
    assert {"alerting/handler.py", "alerting/store.py", "blocks/handler.py"} <= names
    assert not any(name.startswith("tests/") or "__pycache__" in name for name in names)

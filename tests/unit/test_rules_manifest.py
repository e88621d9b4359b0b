"""The rules manifest (sql/realtime/rules.json) is the one definition of the real-time rules:
it is validated once, every reader takes it, and one change in it reaches them all."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from ecomm_cli.detect import manifest
from ecomm_cli.detect.rule_engines import RULE_ENGINES
from ecomm_cli.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit
SHIPPED = PROJECT_ROOT / "sql" / "realtime"


def copy_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "sql" / "realtime"
    shutil.copytree(SHIPPED, folder)
    return folder


def edit(folder: Path, change: dict[str, object]) -> None:
    path = folder / "rules.json"
    document = json.loads(path.read_text())
    rule, parameter, key = change["at"]  # type: ignore[misc]
    document["rules"][rule]["parameters"][parameter][key] = change["value"]
    path.write_text(json.dumps(document))


def test_the_shipped_manifest_is_valid_and_every_rule_has_an_engine() -> None:
    rules = manifest.load()
    assert set(rules.rule_names) == set(RULE_ENGINES)
    assert {r.kind for r in rules.rules} <= set(manifest.RULE_KINDS)
    # Count thresholds of per-user rules start at 2: a threshold of 1 flags every user.
    for rule in rules.rules:
        for p in rule.parameters:
            if p.role == "threshold" and p.integer and rule.kind == "per_user":
                assert p.minimum >= 2, p.name


@pytest.mark.parametrize(
    ("at", "value", "message"),
    [
        (("flood", "flood_events_per_window", "value"), 1, "between 2 and"),
        (("flood", "flood_events_per_window", "value"), 20.5, "whole number"),
        (("flood", "flood_events_per_window", "min"), 10**7, "min is above max"),
        (("scraper", "scraper_window_seconds", "description"), "", "needs a description"),
    ],
)
def test_a_malformed_manifest_is_refused_with_its_place(
    tmp_path: Path, at: tuple[str, str, str], value: object, message: str
) -> None:
    folder = copy_rules(tmp_path)
    edit(folder, {"at": at, "value": value})
    with pytest.raises(manifest.ManifestError, match=message):
        manifest.load(folder / "rules.json")


def test_a_placeholder_that_is_no_parameter_is_refused(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    sql = folder / "flood.sql"
    sql.write_text(sql.read_text().replace("${flood_events_per_window}", "${flood_events}"))
    with pytest.raises(manifest.ManifestError, match=r"flood.sql uses \$\{flood_events\}"):
        manifest.load(folder / "rules.json")


def test_no_threshold_literal_is_written_outside_the_manifest() -> None:
    """The SQL reads every window, threshold and baseline from a placeholder."""
    for path in sorted(SHIPPED.glob("*.sql")):
        code = "\n".join(line.split("--", 1)[0] for line in path.read_text().splitlines())
        assert not re.search(r"INTERVAL\s+'\d+'", code), path.name
        assert not re.search(r"(>=|>|<=|<)\s*\d", code), path.name
        assert not re.search(r"ROWS BETWEEN \d+", code), path.name


def test_the_docs_tables_are_the_manifest() -> None:
    table = manifest.markdown_table()
    for document in manifest.DOCUMENTS:
        text = document.read_text()
        assert manifest.replace_table(text, table) == text, (
            f"{document.name} is out of date: run python -m ecomm_cli.detect"
        )

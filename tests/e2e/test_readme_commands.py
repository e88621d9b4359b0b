"""Every command of the README's "Commands" section, run as written against the local stack.

Runs last on the shared stack (tests/conftest.py orders it), because the section ends with
`ecomm local down`. File names in the commands are created in a scratch folder that is the
working directory, so the commands run exactly as a user would type them there.
"""

from __future__ import annotations

import re
import shlex
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecomm_cli.app import app
from ecomm_cli.errors import EXIT_FINDINGS, EXIT_OK
from ecomm_cli.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.e2e

# Commands the README shows that this test does not run, and why (the README says so too).
NOT_RUN_HERE = {
    "ecomm demo": "the same stages are tested on a smaller sample by tests/e2e/test_demo.py",
}
# Exit codes that mean "worked" for a command: alerts check exits 1 when something fires.
FINDINGS_OK = {("alerts", "check"): (EXIT_OK, EXIT_FINDINGS)}


def readme_commands() -> list[str]:
    """The `ecomm ...` lines of the README's Commands block, continuations joined, comments cut."""
    text = (PROJECT_ROOT / "README.md").read_text()
    block = re.search(r"## Commands\n\n```bash\n(.*?)\n```", text, re.S)
    assert block, "the README has no Commands block"
    joined = block.group(1).replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        command = line.split("#", 1)[0].strip()
        if command.startswith("ecomm "):
            commands.append(" ".join(command.split()))
    return commands


def test_the_readme_lists_the_command_surface() -> None:
    commands = readme_commands()
    for group in (
        "local up",
        "replay",
        "kpi",
        "report",
        "detect",
        "alerts check",
        "demo",
        "local down",
    ):
        assert any(c.startswith(f"ecomm {group}") for c in commands), group


def test_every_readme_command_works_as_written(
    use_stack: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    ran = []
    for command in readme_commands():
        if command in NOT_RUN_HERE:
            continue
        args = shlex.split(command)[1:]
        if args[:2] == ["replay", "2019-Oct.csv.zip"]:
            # The Kaggle download's shape: the generated CSV inside a zip of that name.
            with zipfile.ZipFile(tmp_path / "2019-Oct.csv.zip", "w") as archive:
                archive.write(tmp_path / "events.csv", "2019-Oct.csv")
        result = runner.invoke(app, args)
        allowed = FINDINGS_OK.get(tuple(args[:2]), (EXIT_OK,))
        assert result.exit_code in allowed, f"{command}\n{result.output}"
        ran.append(command)
    assert len(ran) == len(readme_commands()) - len(NOT_RUN_HERE)
    assert (tmp_path / "report.html").stat().st_size > 0

"""One table of exit codes: the README shows it, the code holds it once, commands use the names."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from ecomm_cli import console, errors
from ecomm_cli.app import app
from ecomm_cli.errors import EXIT_CODES, EXIT_ERROR, EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK
from ecomm_cli.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit
runner = CliRunner()


def test_the_readme_table_is_the_code_table() -> None:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"\n## Exit codes\n(.*?)\n## ", text, re.S)
    assert section, "the README has no 'Exit codes' section"
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section.group(1), re.M)
    assert {int(code): meaning for code, meaning in rows} == EXIT_CODES
    assert (EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED) == (0, 1, 2, 130)


def _is_number(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


def _literal_exit_codes(path: Path) -> list[str]:
    """Calls that give an exit code as a number: typer.Exit(1), sys.exit(2), code=1, and
    fail(message, hint, 1); one `path:line call` each."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        arguments = {"Exit": node.args, "exit": node.args, "fail": node.args[2:3]}.get(name, [])
        arguments += [k.value for k in node.keywords if k.arg == "code"]
        found += [f"{path}:{a.lineno} {ast.unparse(node)}" for a in arguments if _is_number(a)]
    return found


def test_no_command_exits_with_a_number() -> None:
    package = PROJECT_ROOT / "ecomm_cli"
    literal = [hit for path in sorted(package.rglob("*.py")) for hit in _literal_exit_codes(path)]
    assert literal == [], "use the names of ecomm_cli/errors.py"


def test_the_error_class_lives_only_in_the_errors_module() -> None:
    assert not hasattr(console, "EcommError")
    importers = [
        path.relative_to(PROJECT_ROOT)
        for root in ("ecomm_cli", "tests", "bench")
        for path in (PROJECT_ROOT / root).rglob("*.py")
        if "from ecomm_cli.console import" in path.read_text()
        and "EcommError"
        in path.read_text().split("from ecomm_cli.console import", 1)[1].split("\n", 1)[0]
    ]
    assert importers == [] and errors.EcommError.__module__ == "ecomm_cli.errors"


def test_the_check_finds_numbers(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "raise typer.Exit(1)\nfail('m', 'h', 2)\nEcommError('m', code=1)\n"
        "raise typer.Exit(EXIT_FINDINGS)\nfail('m', code=EXIT_ERROR)\nraise typer.Exit()\n"
    )
    hits = [hit.split()[0].rsplit(":", 1)[1] for hit in _literal_exit_codes(sample)]
    assert hits == ["1", "2", "3"]


def test_a_declined_confirmation_is_exit_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ecomm_cli.commands import infra

    settings = SimpleNamespace(env="local", state_dir=tmp_path)
    monkeypatch.setattr(infra, "_prepare", lambda env: settings)
    monkeypatch.setattr(infra.terraform, "var_args", lambda settings: [])
    monkeypatch.setattr(infra.terraform, "run", lambda *a, **k: SimpleNamespace(returncode=2))
    monkeypatch.setattr(infra.remote_state, "forget", lambda settings: None)
    result = runner.invoke(app, ["apply", "--env", "local"], input="n\n")
    assert result.exit_code == EXIT_FINDINGS, result.output
    assert "cancelled, nothing changed" in result.output


def test_an_interrupt_is_exit_130(monkeypatch: pytest.MonkeyPatch) -> None:
    from ecomm_cli.commands import doctor

    def interrupted(settings: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(doctor, "run_checks", interrupted)
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == EXIT_INTERRUPTED
    assert result.output.strip() == "error: interrupted"

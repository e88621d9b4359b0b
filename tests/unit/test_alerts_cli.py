"""`ecomm alerts` when it cannot tell: one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecomm_cli.app import app

pytestmark = pytest.mark.unit
runner = CliRunner()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


@pytest.mark.parametrize("command", [["alerts", "check"], ["alerts", "list"]])
def test_no_stack_is_exit_2(command: list[str]) -> None:
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert "local stack is not running" in _one_error_line(result.output)


def test_unreachable_endpoint_is_exit_2(isolated_environment: Path) -> None:
    stack_file = isolated_environment / "local" / "stack.json"
    stack_file.parent.mkdir(parents=True)
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    stack_file.write_text(
        json.dumps(
            {
                "endpoint_url": endpoint,
                "outputs": {
                    "offenders_table": "ecomm-local-offenders",
                    "name_prefix": "ecomm-local",
                },
            }
        )
    )
    result = runner.invoke(app, ["alerts", "check"])
    assert result.exit_code == 2
    line = _one_error_line(result.output)
    assert "cannot read alerts from" in line and endpoint in line


@pytest.mark.parametrize("since", ["0m", "soon", "15"])
def test_bad_since_is_exit_2(since: str) -> None:
    result = runner.invoke(app, ["alerts", "check", "--since", since])
    assert result.exit_code == 2
    assert "duration" in _one_error_line(result.output)


def test_unknown_environment_is_exit_2() -> None:
    result = runner.invoke(app, ["alerts", "check", "--env", "staging"])
    assert result.exit_code == 2
    assert "unknown environment" in _one_error_line(result.output)

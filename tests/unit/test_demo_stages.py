"""The demo's stage wrapper: results kept, expected failures one line, nothing run as `ecomm`."""

from __future__ import annotations

import ast
import inspect

import pytest
from botocore.exceptions import ClientError

from ecomm_cli.demo import pipeline
from ecomm_cli.demo.pipeline import DemoOptions, DemoRun
from ecomm_cli.errors import EcommError
from ecomm_cli.settings import Settings

pytestmark = pytest.mark.unit


@pytest.fixture
def run() -> DemoRun:
    return DemoRun(Settings.load(env="local"), DemoOptions())


def test_a_stage_keeps_what_its_service_returned(run: DemoRun) -> None:
    run.stage("sample", lambda: "12,000 rows")
    assert [(r.name, r.ok, r.detail) for r in run.results] == [("sample", True, "12,000 rows")]


def test_an_expected_failure_is_kept_and_raised(run: DemoRun) -> None:
    def fails() -> str:
        raise EcommError("the local stack is not running", hint="run `ecomm local up` first")

    with pytest.raises(EcommError, match="not running"):
        run.stage("alerts", fails)
    assert [(r.name, r.ok, r.detail) for r in run.results] == [
        ("alerts", False, "the local stack is not running")
    ]


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (FileNotFoundError(2, "No such file or directory", "events.csv"), "No such file"),
        (
            ClientError({"Error": {"Code": "ExpiredToken", "Message": "m"}}, "PutRecords"),
            "invalid or expired",
        ),
    ],
)
def test_os_and_aws_errors_become_one_line_failures(
    run: DemoRun, error: Exception, message: str
) -> None:
    def fails() -> str:
        raise error

    with pytest.raises(EcommError, match=message) as raised:
        run.stage("replay", fails)
    assert raised.value.__cause__ is error
    assert not run.results[0].ok and message in run.results[0].detail


def test_a_bug_is_not_hidden(run: DemoRun) -> None:
    def fails() -> str:
        raise KeyError("rows")

    with pytest.raises(KeyError):
        run.stage("KPIs", fails)
    assert not run.results[0].ok


def test_stages_run_in_process_and_parse_no_output() -> None:
    # Only the supervised runners are processes (supervisor.py); stages call services.
    imported: set[str] = set()
    for node in ast.walk(ast.parse(inspect.getsource(pipeline))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"subprocess", "json"}

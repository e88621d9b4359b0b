from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ecomm_cli import __version__
from ecomm_cli.app import app

pytestmark = pytest.mark.unit
runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"ecomm {__version__}"


def test_plan_on_aws_without_credentials_is_one_line_and_exit_2() -> None:
    result = runner.invoke(app, ["plan", "--env", "dev"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "no AWS credentials found for --env dev" in lines[0]
    assert "Traceback" not in result.output


def test_unknown_environment_is_rejected() -> None:
    result = runner.invoke(app, ["plan", "--env", "staging"])
    assert result.exit_code == 2
    assert "unknown environment 'staging'" in result.output


def test_apply_on_aws_without_connector_jar_says_how_to_provide_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    result = runner.invoke(app, ["apply", "--env", "dev"])
    assert result.exit_code == 2
    assert "Kinesis SQL connector jar" in result.output
    assert "ECOMM_FLINK_CONNECTOR_JAR" in result.output


def test_plan_local_without_a_running_stack() -> None:
    result = runner.invoke(app, ["plan", "--env", "local"])
    assert result.exit_code == 2
    assert "the local stack is not running" in result.output


def test_missing_terraform_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMM_TERRAFORM", "terraform-that-does-not-exist")
    result = runner.invoke(app, ["plan", "--env", "dev"])
    assert result.exit_code == 2
    assert "terraform is not installed" in result.output


def test_local_status_when_down_exits_1() -> None:
    result = runner.invoke(app, ["local", "status"])
    assert result.exit_code == 1
    assert "down" in result.output


def test_unconfigured_state_bucket_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    result = runner.invoke(app, ["plan", "--env", "prod"])
    assert result.exit_code == 2
    assert "state bucket of prod is not configured" in result.output


@pytest.mark.parametrize("runner_name", ["deliver", "detector", "lambda"])
def test_local_runners_without_a_stack_say_so_in_one_line(runner_name: str) -> None:
    result = runner.invoke(app, ["local", runner_name])
    assert result.exit_code == 2
    assert "the local stack is not running" in result.output
    assert "Traceback" not in result.output


def test_the_platform_object_is_read_flat() -> None:
    from ecomm_cli.infra.terraform import flat_outputs

    nested = {"platform": {"events_stream_name": "ecomm-local-events", "rule_thresholds": {"a": 1}}}
    assert flat_outputs(nested) == {
        "events_stream_name": "ecomm-local-events",
        "rule_thresholds": {"a": 1},
    }
    # A state from before the platform module (flat outputs) reads the same.
    assert flat_outputs({"events_stream_name": "x"}) == {"events_stream_name": "x"}

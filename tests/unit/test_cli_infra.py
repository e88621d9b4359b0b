from __future__ import annotations

from pathlib import Path

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


def test_ctrl_c_stops_terraform_gracefully_and_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal
    import threading

    from ecomm_cli.infra import terraform
    from ecomm_cli.settings import Settings

    # A stand-in for terraform that stops gracefully on its first interrupt, as Terraform does.
    fake = tmp_path / "terraform"
    done = tmp_path / "stopped"
    fake.write_text(
        "#!/usr/bin/env python3\n"
        "import signal, sys, time\n"
        "def stop(*_):\n"
        "    print('Interrupt received. Stopping operation...', flush=True)\n"
        "    time.sleep(0.5)\n"
        f"    open({str(done)!r}, 'w').write('graceful')\n"
        "    sys.exit(1)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        "print('applying', flush=True)\n"
        "time.sleep(10)\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("ECOMM_TERRAFORM", str(fake))
    settings = Settings.load(env="local")
    # Ctrl-C: a real SIGINT to the main thread, where the CLI is reading Terraform's output.
    main = threading.main_thread().ident
    assert main is not None
    threading.Timer(1.0, signal.pthread_kill, (main, signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        terraform.run(settings, ["apply"], stream=False)
    # The CLI waited for the graceful stop before giving up control.
    assert done.read_text() == "graceful"

"""`ecomm local up` stands the platform up on the emulator, and Terraform then sees no drift."""

from __future__ import annotations

import json
import subprocess

import pytest
from typer.testing import CliRunner

from ecomm_cli import aws_clients, environments
from ecomm_cli.app import app
from ecomm_cli.infra import terraform
from ecomm_cli.local import emulator
from ecomm_cli.settings import Settings

pytestmark = pytest.mark.e2e
runner = CliRunner()


def test_second_plan_reports_no_changes(use_stack: Settings) -> None:
    """The gaps are closed: a plan right after apply is empty (-detailed-exitcode 0)."""
    result = terraform.run(
        use_stack,
        ["plan", "-input=false", "-detailed-exitcode", "-no-color", *terraform.var_args(use_stack)],
        stream=False,
        check=False,
    )
    assert result.returncode == 0, result.tail


def test_second_up_is_a_no_op(use_stack: Settings) -> None:
    before = use_stack.stack()
    result = runner.invoke(app, ["local", "up"])
    assert result.exit_code == 0, result.output
    assert "already up" in result.output
    assert use_stack.stack() == before


def test_status_shows_endpoint_and_outputs(use_stack: Settings) -> None:
    result = runner.invoke(app, ["local", "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    stack = use_stack.stack()
    assert stack is not None
    status = json.loads(result.stdout)
    assert status["serving"] is True and status["endpoint_url"] == stack["endpoint_url"]
    assert status["outputs"] == stack["outputs"]
    outputs = stack["outputs"]
    for name in (
        "events_stream_name",
        "anomalies_stream_name",
        "offenders_table",
        "alerts_topic_arn",
        "raw_prefix",
        "athena_workgroup",
    ):
        assert outputs.get(name), name
    assert stack["resources"] > 50


def test_resources_exist_in_the_emulator(use_stack: Settings) -> None:
    outputs = environments.outputs(use_stack)
    kinesis = aws_clients.client("kinesis", use_stack)
    streams = kinesis.list_streams()["StreamNames"]
    assert outputs["events_stream_name"] in streams
    assert outputs["anomalies_stream_name"] in streams
    description = kinesis.describe_stream_summary(StreamName=outputs["events_stream_name"])
    assert description["StreamDescriptionSummary"]["EncryptionType"] == "KMS"
    dynamodb = aws_clients.client("dynamodb", use_stack)
    assert outputs["offenders_table"] in dynamodb.list_tables()["TableNames"]
    s3 = aws_clients.client("s3", use_stack)
    s3.put_object(Bucket=outputs["raw_bucket"], Key="raw/probe.json", Body=b"{}")
    encryption = s3.get_bucket_encryption(Bucket=outputs["raw_bucket"])
    rule = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_down_stops_only_the_emulator_and_keeps_the_lake(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """A separate, bare emulator record: down stops our process, ignores a foreign pid."""
    from ecomm_cli.local import stack

    state = tmp_path_factory.mktemp("down")
    settings = Settings.load(env="local", state_dir=state)
    proc = emulator.start(settings.local_dir)
    settings.lake_dir.mkdir(parents=True)
    (settings.lake_dir / "kept.txt").write_text("results")
    stack._write_stack(settings, {"endpoint_url": proc.endpoint_url, "pid": proc.pid})
    assert stack.down(settings) is True
    assert not emulator.is_ours(proc.pid)
    assert (settings.lake_dir / "kept.txt").exists()
    assert settings.stack() is None
    # A pid that is not an emulator of ours is never signalled.
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        stack._write_stack(settings, {"endpoint_url": "http://127.0.0.1:1", "pid": sleeper.pid})
        assert stack.down(settings) is False
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()

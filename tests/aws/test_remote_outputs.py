"""dev/prod outputs read from the Terraform state in S3 (moto in-process), cached by ETag; and
AWS SDK failures anywhere in a command turned into one line.

Terraform itself is replaced by a recorder here (the rehearsal in tests/e2e runs the real one
against a state in the emulator); what is tested is when it is called and what is kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from typer.testing import CliRunner

from ecomm_cli import environments
from ecomm_cli.app import app
from ecomm_cli.errors import EcommError
from ecomm_cli.infra import remote_state, terraform
from ecomm_cli.kpi import catalog
from ecomm_cli.kpi.athena_engine import run_athena
from ecomm_cli.settings import Settings

pytestmark = pytest.mark.aws
REGION = "eu-west-1"
BUCKET = "ecomm-tfstate-123456789012"
KEY = "ecomm/dev/terraform.tfstate"
OUTPUTS = {
    "region": REGION,
    "glue_job_name": "ecomm-dev-curate-events",
    "athena_workgroup": "ecomm-dev-analytics",
    "glue_database": "ecomm_dev",
}


class FakeTerraform:
    """Stands in for `terraform init` and `terraform output` and counts the calls."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.inits = 0
        self.reads = 0

    def init(self, settings: Settings, *, stream: bool = True) -> None:
        self.inits += 1
        data_dir = terraform.data_dir(settings)
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "terraform.tfstate").write_text(
            json.dumps({"backend": {"type": "s3", "config": {"bucket": BUCKET, "key": KEY}}})
        )

    def outputs(self, settings: Settings) -> dict[str, Any]:
        self.reads += 1
        return dict(self.values)


@pytest.fixture
def dev(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeTerraform]:
    """dev's backend points at a bucket in moto; Terraform is the recorder above."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    backend = remote_state.Backend(
        env="dev", path=tmp_path / "backend.hcl", bucket=BUCKET, key=KEY, region=REGION
    )
    monkeypatch.setattr(remote_state, "backend", lambda settings: backend)
    fake = FakeTerraform(OUTPUTS)
    monkeypatch.setattr(terraform, "init", fake.init)
    monkeypatch.setattr(terraform, "outputs", fake.outputs)
    with mock_aws():
        yield fake


def _s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def _write_state(serial: int) -> None:
    _s3().put_object(Bucket=BUCKET, Key=KEY, Body=json.dumps({"serial": serial}).encode())


def test_no_state_bucket_is_one_line(dev: FakeTerraform) -> None:
    with pytest.raises(EcommError, match=f"state bucket {BUCKET} of dev does not exist"):
        environments.outputs(Settings.load(env="dev"))


def test_no_state_names_the_apply(dev: FakeTerraform) -> None:
    _s3().create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    with pytest.raises(EcommError, match="dev has no Terraform state") as raised:
        environments.outputs(Settings.load(env="dev"))
    assert raised.value.hint == "run `ecomm apply --env dev`"
    assert dev.inits == dev.reads == 0


def test_outputs_are_read_once_per_state_object(dev: FakeTerraform) -> None:
    _s3().create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    _write_state(1)
    settings = Settings.load(env="dev")
    # A fresh clone: init, then read.
    assert environments.outputs(settings) == OUTPUTS
    assert (dev.inits, dev.reads) == (1, 1)
    # Same state object: the cache answers, Terraform is not run.
    assert environments.outputs(settings) == OUTPUTS
    assert (dev.inits, dev.reads) == (1, 1)
    # Someone else applied: a new object (new ETag) is read again, without a new init.
    dev.values = {**OUTPUTS, "glue_job_name": "ecomm-dev-curate-events-v2"}
    _write_state(2)
    assert environments.outputs(settings)["glue_job_name"] == "ecomm-dev-curate-events-v2"
    assert (dev.inits, dev.reads) == (1, 2)


def test_the_region_of_the_stack_is_the_one_clients_use(dev: FakeTerraform) -> None:
    _s3().create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    _write_state(1)
    dev.values = {**OUTPUTS, "region": "us-west-2"}
    settings, _ = environments.resolve(Settings.load(env="dev", region="eu-central-1"))
    assert settings.region == "us-west-2"


def test_an_interrupted_apply_without_outputs_names_the_apply(dev: FakeTerraform) -> None:
    _s3().create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    _write_state(1)
    dev.values = {"region": REGION}  # the apply stopped before the job existed
    result = CliRunner().invoke(app, ["etl", "run", "--glue", "--env", "dev"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "has no output glue_job_name" in lines[0] and "ecomm apply --env dev" in lines[0]


def test_expired_credentials_are_one_line() -> None:
    s3 = boto3.client("s3", region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b")
    where = remote_state.Backend("dev", Path("backend.hcl"), BUCKET, KEY, REGION)
    with Stubber(s3) as stub:
        stub.add_client_error("head_object", "ExpiredToken", http_status_code=400)
        with pytest.raises(EcommError, match="invalid or expired"):
            remote_state.state_etag(s3, where)


def test_missing_credentials_are_one_line(
    dev: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = CliRunner().invoke(
        app, ["etl", "run", "--glue", "--env", "dev", "--job-name", "ecomm-dev-curate-events"]
    )
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "no AWS credentials found" in lines[0], result.output


def test_an_aws_refusal_inside_a_command_is_one_line(
    dev: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No such job in the account: Glue's own error, as one line, no traceback.
    result = CliRunner().invoke(
        app, ["etl", "run", "--glue", "--env", "dev", "--job-name", "no-such-job"]
    )
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "StartJobRun failed: EntityNotFoundException" in lines[0]


def test_athena_results_over_several_pages_and_the_cost_line() -> None:
    """Athena pages results (the emulator answers one page): every page is read, the header
    only once, and the cost follows the bytes scanned."""
    athena = boto3.client(
        "athena", region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b"
    )
    query = catalog.load("unique-visitors")
    columns = [("event_date", "varchar"), ("unique_visitors", "bigint"), ("sessions", "bigint")]
    info = {"ColumnInfo": [{"Name": n, "Type": t} for n, t in columns]}

    def rows(*values: tuple[str, str, str]) -> list[dict[str, Any]]:
        return [{"Data": [{"VarCharValue": v} for v in row]} for row in values]

    scanned = 3 * 1024**3
    with Stubber(athena) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": "q1"})
        stub.add_response(
            "get_query_execution",
            {
                "QueryExecution": {
                    "QueryExecutionId": "q1",
                    "Status": {"State": "SUCCEEDED"},
                    "Statistics": {"DataScannedInBytes": scanned},
                }
            },
        )
        stub.add_response(
            "get_query_results",
            {
                "ResultSet": {
                    "Rows": rows(
                        ("event_date", "unique_visitors", "sessions"), ("2019-10-01", "5", "6")
                    ),
                    "ResultSetMetadata": info,
                },
                "NextToken": "page-2",
            },
            {"QueryExecutionId": "q1"},
        )
        stub.add_response(
            "get_query_results",
            {
                "ResultSet": {
                    # A later page starts with data, even a row that looks like a header.
                    "Rows": rows(("2019-10-02", "7", "8"), ("event_date", "9", "9")),
                    "ResultSetMetadata": info,
                }
            },
            {"QueryExecutionId": "q1", "NextToken": "page-2"},
        )
        result = run_athena(athena, query, [], workgroup="wg", database="db", sleep=lambda _: None)
    assert [r["event_date"] for r in result.rows] == ["2019-10-01", "2019-10-02", "event_date"]
    assert result.rows[1]["unique_visitors"] == 7
    assert result.data_scanned_bytes == scanned
    assert result.cost_usd == pytest.approx(scanned / 1024**4 * 5.0)

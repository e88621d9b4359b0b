"""The emulator process with its gap patches, driven the way Terraform drives it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ecomm_cli.errors import EcommError
from ecomm_cli.local import emulator
from ecomm_cli.local.emulator_gaps import MOTO_VERSION

pytestmark = pytest.mark.aws


@pytest.fixture(scope="module")
def emulator_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator")


@pytest.fixture(scope="module")
def endpoint(emulator_dir: Path) -> Iterator[str]:
    proc = emulator.start(emulator_dir)
    try:
        yield proc.endpoint_url
    finally:
        assert emulator.stop(proc.pid)
        assert not emulator.is_ours(proc.pid)


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_tls_only_bucket_policy_still_allows_object_calls(endpoint: str) -> None:
    s3 = _client("s3", endpoint)
    s3.create_bucket(Bucket="lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_policy(
        Bucket="lake",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": ["arn:aws:s3:::lake", "arn:aws:s3:::lake/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
    )
    s3.put_object(Bucket="lake", Key="raw/x.json", Body=b"{}")
    assert s3.get_object(Bucket="lake", Key="raw/x.json")["Body"].read() == b"{}"


def test_a_plain_deny_policy_is_still_enforced(endpoint: str) -> None:
    s3 = _client("s3", endpoint)
    s3.create_bucket(Bucket="locked", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_policy(
        Bucket="locked",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::locked/*",
                    }
                ],
            }
        ),
    )
    s3.put_object(Bucket="locked", Key="k", Body=b"v")
    with pytest.raises(s3.exceptions.ClientError, match="403"):
        s3.get_object(Bucket="locked", Key="k")


def test_kinesis_create_stream_keeps_tags(endpoint: str) -> None:
    kinesis = _client("kinesis", endpoint)
    kinesis.create_stream(StreamName="events", ShardCount=1, Tags={"project": "ecomm"})
    tags = kinesis.list_tags_for_stream(StreamName="events")["Tags"]
    assert {"Key": "project", "Value": "ecomm"} in tags


def test_athena_named_query_can_be_deleted(endpoint: str) -> None:
    athena = _client("athena", endpoint)
    athena.create_work_group(Name="wg", Configuration={})
    query_id = athena.create_named_query(
        Name="q", Database="db", QueryString="SELECT 1", WorkGroup="wg"
    )["NamedQueryId"]
    athena.delete_named_query(NamedQueryId=query_id)
    assert query_id not in athena.list_named_queries(WorkGroup="wg")["NamedQueryIds"]


def test_a_workgroup_with_query_history_is_deleted_only_recursively(endpoint: str) -> None:
    """As on AWS: `force_destroy` (RecursiveDeleteOption) is what deletes a used workgroup."""
    athena = _client("athena", endpoint)
    athena.create_work_group(Name="used")
    athena.create_work_group(Name="unused")
    athena.start_query_execution(QueryString="SELECT 1", WorkGroup="used")
    with pytest.raises(athena.exceptions.InvalidRequestException, match="not empty"):
        athena.delete_work_group(WorkGroup="used")
    athena.delete_work_group(WorkGroup="unused")
    athena.delete_work_group(WorkGroup="used", RecursiveDeleteOption=True)
    names = {w["Name"] for w in athena.list_work_groups()["WorkGroups"]}
    assert not {"used", "unused"} & names


def test_flink_application_lifecycle(endpoint: str, tmp_path: Path) -> None:
    flink = _client("kinesisanalyticsv2", endpoint)
    created = flink.create_application(
        ApplicationName="detector",
        RuntimeEnvironment="FLINK-1_20",
        ServiceExecutionRole="arn:aws:iam::123456789012:role/flink",
        Tags=[{"Key": "project", "Value": "ecomm"}],
    )["ApplicationDetail"]
    # botocore parses these as datetimes only when they are epoch numbers, as on AWS.
    assert created["CreateTimestamp"].year >= 2024
    detail = flink.describe_application(ApplicationName="detector")["ApplicationDetail"]
    assert detail["ApplicationName"] == "detector"
    assert detail["ApplicationStatus"] == "READY"
    arn = detail["ApplicationARN"]
    flink.untag_resource(ResourceARN=arn, TagKeys=["project"])
    assert flink.list_tags_for_resource(ResourceARN=arn)["Tags"] == []
    flink.delete_application(ApplicationName="detector", CreateTimestamp=detail["CreateTimestamp"])
    with pytest.raises(flink.exceptions.ClientError, match="ResourceNotFound"):
        flink.describe_application(ApplicationName="detector")


def test_put_to_a_stream_with_a_lambda_mapping_does_not_invoke_through_docker(
    endpoint: str, emulator_dir: Path
) -> None:
    import io
    import zipfile

    iam = _client("iam", endpoint)
    role = iam.create_role(
        RoleName="alerting",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    raise RuntimeError\n")
    lam = _client("lambda", endpoint)
    lam.create_function(
        FunctionName="alerting",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )
    kinesis = _client("kinesis", endpoint)
    kinesis.create_stream(StreamName="anomalies", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="anomalies")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="alerting", StartingPosition="TRIM_HORIZON", BatchSize=10
    )
    for n in range(20):
        kinesis.put_record(StreamName="anomalies", Data=b"{}", PartitionKey=str(n))
    shard = kinesis.list_shards(StreamName="anomalies")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="anomalies", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert len(kinesis.get_records(ShardIterator=iterator)["Records"]) == 20
    # The emulator's own per-record invocation would have tried (and failed) to reach Docker.
    assert "docker" not in (emulator_dir / "emulator.log").read_text().lower()


def test_glue_data_quality_ruleset_lifecycle(endpoint: str) -> None:
    glue = _client("glue", endpoint)
    glue.create_data_quality_ruleset(
        Name="contract",
        Ruleset='Rules = [ IsComplete "user_id" ]',
        TargetTable={"DatabaseName": "db", "TableName": "events"},
        Tags={"project": "ecomm"},
    )
    got = glue.get_data_quality_ruleset(Name="contract")
    assert got["Ruleset"] == 'Rules = [ IsComplete "user_id" ]'
    assert got["TargetTable"]["TableName"] == "events"
    glue.update_data_quality_ruleset(Name="contract", Ruleset="Rules = [ RowCount > 0 ]")
    assert glue.get_data_quality_ruleset(Name="contract")["Ruleset"] == "Rules = [ RowCount > 0 ]"
    assert [r["Name"] for r in glue.list_data_quality_rulesets()["Rulesets"]] == ["contract"]
    glue.delete_data_quality_ruleset(Name="contract")
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_data_quality_ruleset(Name="contract")


def test_an_emulator_for_another_moto_stops_with_the_reason_in_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The emulator refuses a moto its patches were not written for: one line in its log says
    why, and the start error (what `ecomm local up` prints) quotes it and points at the log."""
    other = tmp_path / "other-moto" / "moto-9.9.9.dist-info"
    other.mkdir(parents=True)
    (other / "METADATA").write_text("Metadata-Version: 2.1\nName: moto\nVersion: 9.9.9\n")
    # Found before the installed moto's metadata: the emulator process sees moto 9.9.9.
    monkeypatch.setenv(
        "PYTHONPATH",
        os.pathsep.join(filter(None, [str(other.parent), os.environ.get("PYTHONPATH")])),
    )
    log_dir = tmp_path / "emulator"
    with pytest.raises(EcommError) as failed:
        emulator.start(log_dir)
    reason = (
        "the emulator patches in ecomm_cli/local/emulator_gaps.py were written for moto "
        f"{MOTO_VERSION}, found 9.9.9"
    )
    assert failed.value.message.startswith(f"the emulator exited at start (code 2): {reason} (")
    assert failed.value.hint == f"see {log_dir / 'emulator.log'}"
    log_lines = (log_dir / "emulator.log").read_text().splitlines()
    assert log_lines[-1].startswith(f"error: {reason} (install the pinned moto")

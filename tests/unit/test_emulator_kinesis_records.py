"""The emulator's Kinesis record answers, built directly: what boto3 reads from them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ecomm_cli.local.emulator_gaps import patch_kinesis_record_responses

pytestmark = pytest.mark.unit


@pytest.fixture
def kinesis(monkeypatch: pytest.MonkeyPatch, emulator_patch: Any) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    emulator_patch(patch_kinesis_record_responses)
    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName="s", ShardCount=2)
        yield client


def test_puts_and_reads_answer_as_kinesis_does(kinesis: Any) -> None:
    client = kinesis
    one = client.put_record(StreamName="s", Data=b'{"a":1}', PartitionKey="k")
    many = client.put_records(
        StreamName="s",
        Records=[
            {"Data": b"x", "PartitionKey": "k"},
            {"Data": b"y", "PartitionKey": "j", "ExplicitHashKey": "0"},
        ],
    )
    assert many["FailedRecordCount"] == 0
    assert [r["ShardId"] for r in many["Records"]] == [one["ShardId"], "shardId-000000000000"]
    iterator = client.get_shard_iterator(
        StreamName="s", ShardId=one["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    got = client.get_records(ShardIterator=iterator, Limit=10)
    assert [(r["Data"], r["PartitionKey"], r["SequenceNumber"]) for r in got["Records"]] == [
        (b'{"a":1}', "k", one["SequenceNumber"]),
        (b"x", "k", many["Records"][0]["SequenceNumber"]),
    ]
    arrived = got["Records"][0]["ApproximateArrivalTimestamp"]
    assert abs((datetime.now(UTC) - arrived).total_seconds()) < 300
    assert got["MillisBehindLatest"] == 0
    rest = client.get_records(ShardIterator=got["NextShardIterator"])
    assert rest["Records"] == []


def test_errors_are_still_the_emulators(kinesis: Any) -> None:
    client = kinesis
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.put_records(StreamName="nope", Records=[{"Data": b"x", "PartitionKey": "k"}])
    with pytest.raises(ClientError, match="1048576"):
        client.put_records(
            StreamName="s", Records=[{"Data": b"x" * 1_100_000, "PartitionKey": "k"}]
        )


def test_the_patch_is_undone_after_each_test() -> None:
    from moto.kinesis.responses import KinesisResponse

    assert not hasattr(KinesisResponse.put_records, "_ecomm_emulator_patch")

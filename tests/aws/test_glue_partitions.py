"""The Glue job's AWS side under moto: catalog partitions switched per day, S3 zone, retire tag."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ecomm_cli.etl.local_runner import load_glue_job

pytestmark = pytest.mark.aws

ROOT = "s3://curated-bucket/events"


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        glue = boto3.client("glue", region_name="eu-west-1")
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket="curated-bucket",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        )
        glue.create_database(DatabaseInput={"Name": "ecomm_test"})
        glue.create_table(
            DatabaseName="ecomm_test",
            TableInput={
                "Name": "events",
                "PartitionKeys": [{"Name": "event_date", "Type": "string"}],
                "StorageDescriptor": {
                    "Columns": [{"Name": "user_session", "Type": "string"}],
                    "Location": ROOT + "/",
                    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                },
            },
        )
        yield glue, s3


def test_days_are_created_then_switched_one_update_each(aws: tuple[Any, Any]) -> None:
    glue, _ = aws
    job = load_glue_job()
    partitions = job.GluePartitions(glue, "ecomm_test", "events", ROOT)
    assert partitions.current() == {}

    first = {
        d: job.run_location("20191001T000000Z-0000000a", d) for d in ("2019-10-01", "2019-10-02")
    }
    partitions.switch(first)
    assert partitions.current() == first
    stored = glue.get_partition(
        DatabaseName="ecomm_test", TableName="events", PartitionValues=["2019-10-01"]
    )["Partition"]["StorageDescriptor"]
    assert stored["Location"] == f"{ROOT}/runs/20191001T000000Z-0000000a/event_date=2019-10-01"
    # The table's storage descriptor (formats, columns) is copied into each partition.
    assert stored["InputFormat"].endswith("MapredParquetInputFormat")

    # A later run rewrites day 2 and adds day 3: day 1 is left where it was.
    second = {
        d: job.run_location("20191002T000000Z-0000000b", d) for d in ("2019-10-02", "2019-10-03")
    }
    partitions.switch(second)
    assert partitions.current() == {"2019-10-01": first["2019-10-01"], **second}


def test_the_ledger_and_the_retired_tag_on_s3(aws: tuple[Any, Any]) -> None:
    _, s3 = aws
    job = load_glue_job()
    zone = job.open_zone(ROOT, s3, job.parse_tag("ecomm-lifecycle=superseded"))
    key = "runs/20191001T000000Z-0000000a/event_date=2019-10-01/part-0.parquet"
    zone.write(key, b"PAR1")
    zone.write("_state/ledger.json.gz", b"{}")
    s3.put_object(Bucket="curated-bucket", Key="events/runs_$folder$", Body=b"")
    assert zone.list() == ["_state/ledger.json.gz", key]  # EMRFS markers are not objects
    assert zone.read(key) == b"PAR1" and zone.read("missing") is None

    zone.retire([key])
    tags = s3.get_object_tagging(Bucket="curated-bucket", Key=f"events/{key}")["TagSet"]
    assert tags == [{"Key": "ecomm-lifecycle", "Value": "superseded"}]
    with pytest.raises(ValueError, match="key=value"):
        job.parse_tag("superseded")


def test_an_appended_day_carries_its_files_by_server_side_copy(aws: tuple[Any, Any]) -> None:
    """The copy into the new run's folder has the same bytes and no tag, even when the file
    it was copied from has been retired in the meantime."""
    _, s3 = aws
    job = load_glue_job()
    zone = job.open_zone(ROOT, s3)
    held = "runs/20191001T000000Z-0000000a/event_date=2019-10-01/part-0.parquet"
    carried = "runs/20191002T000000Z-0000000b/event_date=2019-10-01/part-0.parquet"
    zone.write(held, b"PAR1 held rows")
    zone.retire([held])
    zone.copy(held, carried)
    assert zone.read(carried) == b"PAR1 held rows"
    assert s3.get_object_tagging(Bucket="curated-bucket", Key=f"events/{carried}")["TagSet"] == []

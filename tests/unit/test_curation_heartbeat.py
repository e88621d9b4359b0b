"""The Glue job's heartbeat: what it publishes at the end of a successful run (the curation
alarm watches it), and that a local run on a running stack publishes the same."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ecomm_cli.etl.local_runner import load_glue_job

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def job() -> Any:
    return load_glue_job()


def test_the_heartbeat_is_one_success_and_the_rows_of_the_touched_days(job: Any) -> None:
    cloudwatch = boto3.client(
        "cloudwatch", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    counts = job.CurationCounts(
        read=10,
        valid=9,
        rejected=1,
        duplicates=0,
        warnings=0,
        new_events=9,
        curated_rows=9,
        event_dates=["2019-10-01"],
    )
    dimensions = [{"Name": "Dataset", "Value": "events"}]
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "put_metric_data",
            {},
            {
                "Namespace": "ecomm-dev",
                "MetricData": [
                    {
                        "MetricName": "CurationSucceeded",
                        "Dimensions": dimensions,
                        "Value": 1,
                        "Unit": "Count",
                    },
                    {
                        "MetricName": "CuratedRows",
                        "Dimensions": dimensions,
                        "Value": 9,
                        "Unit": "Count",
                    },
                ],
            },
        )
        job.publish_heartbeat(cloudwatch, "ecomm-dev", counts)
        stub.assert_no_pending_responses()


def test_the_namespace_is_a_job_argument(job: Any) -> None:
    args = job.parse_args(
        [
            "--raw_path",
            "r",
            "--curated_path",
            "c",
            "--quarantine_path",
            "q",
            "--metric_namespace",
            "ecomm-prod",
            "--JOB_NAME",
            "x",
        ]
    )
    assert args["metric_namespace"] == "ecomm-prod"
    assert (
        job.parse_args(["--raw_path", "r", "--curated_path", "c", "--quarantine_path", "q"])[
            "metric_namespace"
        ]
        is None
    )

"""The Firehose stand-in against moto: every event lands once, across restarts, de-aggregated."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_kinesis_agg.aggregator import RecordAggregator
from moto import mock_aws

from ecomm_cli.delivery.runner import DeliveryRunner, DeliveryTarget
from ecomm_cli.shard_checkpoint import ShardCheckpoint

pytestmark = pytest.mark.aws
PREFIX = "raw/events/ingest_date=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/"


@pytest.fixture
def kinesis() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("kinesis", region_name="eu-west-1")
        client.create_stream(StreamName="events", ShardCount=2)
        yield client


def _put(kinesis: Any, start: int, count: int) -> None:
    records = [
        {"Data": json.dumps({"n": n}).encode(), "PartitionKey": str(n)}
        for n in range(start, start + count)
    ]
    for i in range(0, len(records), 500):
        kinesis.put_records(StreamName="events", Records=records[i : i + 500])


def _lines(zone: Path) -> list[int]:
    found = []
    for obj in sorted(zone.rglob("*.json.gz")):
        found += [json.loads(line)["n"] for line in gzip.decompress(obj.read_bytes()).splitlines()]
    return found


def _runner(kinesis: Any, tmp_path: Path) -> DeliveryRunner:
    target = DeliveryTarget(zone_dir=tmp_path / "lake" / "raw", prefix=PREFIX, stream_name="events")
    return DeliveryRunner(kinesis, target, ShardCheckpoint(tmp_path / "checkpoint.json"))


def test_drain_delivers_every_event_once_under_the_terraform_prefix(
    kinesis: Any, tmp_path: Path
) -> None:
    _put(kinesis, 0, 1200)
    report = _runner(kinesis, tmp_path).drain()
    assert report.events == 1200
    assert sorted(_lines(tmp_path / "lake" / "raw")) == list(range(1200))
    assert all(k.startswith("raw/events/ingest_date=") and "/hour=" in k for k in report.keys)
    # A second drain finds nothing new and writes nothing.
    again = _runner(kinesis, tmp_path).drain()
    assert (again.events, again.objects) == (0, 0)


def test_restart_after_a_crash_neither_loses_nor_duplicates(kinesis: Any, tmp_path: Path) -> None:
    _put(kinesis, 0, 300)
    _runner(kinesis, tmp_path).drain()
    saved = json.loads((tmp_path / "checkpoint.json").read_text())
    _put(kinesis, 300, 300)
    _runner(kinesis, tmp_path).drain()
    # Crash between writing the objects and moving the checkpoint: the old position is back.
    (tmp_path / "checkpoint.json").write_text(json.dumps(saved))
    _runner(kinesis, tmp_path).drain()
    assert sorted(_lines(tmp_path / "lake" / "raw")) == list(range(600))


def test_kpl_aggregated_records_are_unpacked(kinesis: Any, tmp_path: Path) -> None:
    aggregator = RecordAggregator()
    for n in range(50):
        aggregator.add_user_record(str(n), json.dumps({"n": n}).encode())
    pk, _, data = aggregator.clear_and_get().get_contents()
    kinesis.put_record(StreamName="events", Data=data, PartitionKey=pk)
    report = _runner(kinesis, tmp_path).drain()
    assert (report.kinesis_records, report.events) == (1, 50)
    assert sorted(_lines(tmp_path / "lake" / "raw")) == list(range(50))

"""The local Flink stand-in on a moto server: cross-shard event time, idleness, checkpoints."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from ecomm_cli.detect import Thresholds
from ecomm_cli.realtime.detector_runner import DetectorRunner, DetectorTarget
from ecomm_cli.shard_checkpoint import ShardCheckpoint

pytestmark = pytest.mark.aws
SHARD_KEYS = {0: "0", 1: str(2**127)}  # explicit hash keys of the two shards


class FakeClock:
    """The runner's monotonic clock, moved by the test (no wall-clock waits)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _kinesis(endpoint: str) -> Any:
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _event(second: float, user: int, product: int = 1, session: str = "s") -> bytes:
    millis = round(second * 1000)
    text = f"2019-10-01T00:{millis // 60_000:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}Z"
    return json.dumps(
        {
            "event_time": text,
            "event_type": "view",
            "product_id": product,
            "user_id": user,
            "user_session": session,
            "price": 1.0,
        }
    ).encode()


def _put(kinesis: Any, stream: str, shard: int, payloads: list[bytes]) -> None:
    for payload in payloads:
        kinesis.put_record(
            StreamName=stream, Data=payload, PartitionKey="k", ExplicitHashKey=SHARD_KEYS[shard]
        )


def _anomalies(kinesis: Any, stream: str) -> list[dict[str, Any]]:
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return [json.loads(r["Data"]) for r in kinesis.get_records(ShardIterator=iterator)["Records"]]


@pytest.fixture
def streams(moto_endpoint: str) -> tuple[Any, str, str]:
    kinesis = _kinesis(moto_endpoint)
    events, anomalies = f"events-{uuid.uuid4().hex[:8]}", f"anomalies-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=events, ShardCount=2)
    kinesis.create_stream(StreamName=anomalies, ShardCount=1)
    return kinesis, events, anomalies


def _runner(
    streams: tuple[Any, str, str], checkpoint: Path, idle: float = 30.0, **kwargs: Any
) -> DetectorRunner:
    kinesis, events, anomalies = streams
    target = DetectorTarget(events, anomalies, Thresholds(), idle_timeout_seconds=idle)
    return DetectorRunner(kinesis, target, ShardCheckpoint(checkpoint), **kwargs)


def test_a_shard_that_reads_ahead_does_not_make_another_late(
    streams: tuple[Any, str, str], tmp_path: Path
) -> None:
    kinesis, events, anomalies = streams
    # Shard 1: a calm user over two minutes; shard 0: a flood of 25 views in one 10-s window.
    _put(kinesis, events, 1, [_event(s, user=2) for s in range(0, 120, 5)])
    _put(kinesis, events, 0, [_event(s * 0.36, user=1, product=s) for s in range(25)])
    # Five records per read: shard 1 reaches t=20 s while shard 0 is still at t=1 s.
    runner = _runner(streams, tmp_path / "cp.json", read_limit=5)

    report = runner.drain()

    assert report.late_events == 0, report
    assert report.events == 25 + 24
    alerts = _anomalies(kinesis, anomalies)
    assert [(a["user_id"], a["rule"], a["count"]) for a in alerts] == [(1, "flood", 25)]
    assert alerts[0]["window_start"] == "2019-10-01T00:00:00Z"


def test_a_restart_reads_only_what_is_new(streams: tuple[Any, str, str], tmp_path: Path) -> None:
    kinesis, events, anomalies = streams
    checkpoint = tmp_path / "cp.json"
    _put(kinesis, events, 0, [_event(s * 0.3, user=1, product=s) for s in range(25)])
    assert _runner(streams, checkpoint).drain().events == 25
    assert set(json.loads(checkpoint.read_text())) == {"shardId-000000000000"}

    again = _runner(streams, checkpoint).drain()
    assert (again.events, again.alerts) == (0, 0)

    _put(kinesis, events, 1, [_event(60 + s * 0.3, user=3, product=s) for s in range(26)])
    later = _runner(streams, checkpoint).drain()
    assert (later.events, later.alerts) == (26, 1)
    assert [(a["user_id"], a["rule"]) for a in _anomalies(kinesis, anomalies)] == [
        (1, "flood"),
        (3, "flood"),
    ]


def test_when_the_stream_goes_quiet_the_watermark_moves_on_the_clock(
    streams: tuple[Any, str, str], tmp_path: Path
) -> None:
    kinesis, events, anomalies = streams
    clock = FakeClock()
    runner = _runner(streams, tmp_path / "cp.json", idle=5.0, clock=clock)
    _put(kinesis, events, 0, [_event(s * 0.3, user=1, product=s) for s in range(25)])

    runner.poll_once()  # reads the flood; shard 1 has nothing yet and is not idle
    assert runner.report.alerts == 0
    clock.now = 6.0  # both shards caught up for longer than the idle timeout
    runner.poll_once()
    assert runner.report.events == 25 and runner.report.alerts == 0  # watermark at t=2.2 s
    clock.now = 20.0  # 14 s of quiet: the watermark passes the window's end (t=10 s)
    runner.poll_once()

    assert runner.report.alerts == 1
    assert [(a["user_id"], a["rule"]) for a in _anomalies(kinesis, anomalies)] == [(1, "flood")]


def test_records_that_break_the_contract_are_counted_not_dropped_silently(
    streams: tuple[Any, str, str], tmp_path: Path
) -> None:
    kinesis, events, _ = streams
    _put(kinesis, events, 0, [b"not json", json.dumps({"event_time": "x"}).encode()])
    _put(kinesis, events, 0, [_event(1, user=1)])

    report = _runner(streams, tmp_path / "cp.json").drain()

    assert (report.rejected, report.events) == (2, 1)
    assert len(report.reject_reasons) == 2 and "shardId-000000000000/" in report.reject_reasons[0]

"""`ecomm replay` through the CLI against moto in server mode: the real samples arrive whole,
faults lose nothing, per-user order holds, --resume resends nothing acknowledged."""

from __future__ import annotations

import csv
import gzip
import json
import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from ecomm_cli import kpl
from ecomm_cli.app import app
from tests.support.streams import kill_between_checkpoints

pytestmark = pytest.mark.aws

HEADER = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
)


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def stream(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh 4-shard stream (the real stack creates it with Terraform), the CLI pointed at it."""
    name = f"events-{uuid.uuid4().hex[:8]}"
    kinesis = _client("kinesis", moto_endpoint)
    kinesis.create_stream(StreamName=name, ShardCount=4)
    monkeypatch.setenv("ECOMM_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("ECOMM_EVENTS_STREAM", name)
    yield name
    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)


def read_back(endpoint: str, stream: str) -> list[tuple[str, int, str, dict[str, Any]]]:
    """Every record of every shard (de-aggregated), as (shard, sequence, key, event)."""
    kinesis = _client("kinesis", endpoint)
    found = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            answer = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            for record in answer["Records"]:
                for index, payload in enumerate(kpl.user_records(record["Data"])):
                    event = json.loads(payload)
                    # Each payload carries the 19 digits literally, never a float.
                    if event["category_id"] is not None:
                        assert f'"category_id":{event["category_id"]},'.encode() in payload
                    sequence = int(record["SequenceNumber"]) * 100_000 + index
                    found.append((shard["ShardId"], sequence, record["PartitionKey"], event))
            if not answer["Records"]:
                break
            iterator = answer["NextShardIterator"]
    return found


def expected_rows(path: Path) -> list[dict[str, str]]:
    """The file read independently with the csv module: rows with every column present."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader)]
        rows = [dict(zip(header, r, strict=True)) for r in reader if len(r) == len(header)]
    return rows


def cli(*args: str) -> tuple[int, dict[str, Any] | None, str]:
    result = CliRunner().invoke(app, ["replay", *args, "--format", "json", "--no-progress"])
    # stdout holds the JSON summary only (errors go to stderr); none when the replay did not run.
    summary = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, summary, result.stdout + result.stderr


def user_sequences(events: list[tuple[str, int, str, dict[str, Any]]]) -> dict[int, list[Any]]:
    """Each user's events in stream order (all of a user's events sit on one shard)."""
    by_user: dict[int, list[Any]] = defaultdict(list)
    shards_of_user: dict[int, set[str]] = defaultdict(set)
    for shard, _sequence, _key, event in sorted(events, key=lambda e: (e[0], e[1])):
        by_user[event["user_id"]].append(event)
        shards_of_user[event["user_id"]].add(shard)
    assert all(len(s) == 1 for s in shards_of_user.values())
    return by_user


def _check_sample(path: Path, endpoint: str, stream: str, summary: dict[str, Any]) -> None:
    expected = expected_rows(path)
    events = read_back(endpoint, stream)
    assert len(events) == summary["sent"] == len(expected)
    sent = sorted(
        (e["event_time"], e["user_id"], e["product_id"], str(e["category_id"]), e["event_type"])
        for _, _, _, e in events
    )
    wanted = sorted(
        (
            r["event_time"].replace(" UTC", "Z").replace(" ", "T"),
            int(r["user_id"]),
            int(r["product_id"]),
            r["category_id"],
            r["event_type"],
        )
        for r in expected
    )
    assert sent == wanted  # original event_time and all 19 digits of category_id
    assert all(e["ingested_at"].endswith("Z") for _, _, _, e in events)
    # Per-user order: each user's events come back in file order.
    file_order: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for r in expected:
        file_order[int(r["user_id"])].append(
            (r["event_time"].replace(" UTC", "Z").replace(" ", "T"), int(r["product_id"]))
        )
    for user, seq in user_sequences(events).items():
        assert [(e["event_time"], e["product_id"]) for e in seq] == file_order[user]


def test_multicategory_sample_arrives_whole(
    moto_endpoint: str, stream: str, rees46: Callable[[str], Path]
) -> None:
    path = rees46("multicategory-2019-10-01-head.csv")
    code, summary, output = cli(str(path))
    assert code == 0, output
    assert summary is not None
    assert (summary["read"], summary["valid"], summary["rejected"]) == (17_435, 17_434, 1)
    assert summary["sent"] == 17_434 and summary["dead_lettered"] == 0
    assert summary["read"] == summary["sent"] + summary["rejected"] + summary["dead_lettered"]
    rejects = [json.loads(line) for line in Path(summary["rejects_file"]).read_text().splitlines()]
    assert len(rejects) == 1
    assert rejects[0]["line"] == 17_436 and "expected 9 fields, got 8" in rejects[0]["reason"]
    _check_sample(path, moto_endpoint, stream, summary)


def test_cosmetics_sample_arrives_whole(
    moto_endpoint: str, stream: str, rees46: Callable[[str], Path]
) -> None:
    path = rees46("cosmetics-2019-10-sample.csv")
    # Plain records (as on AWS): its 49-item checkout is a burst of one user.
    code, summary, output = cli(str(path), "--no-aggregate")
    assert code == 0, output
    assert summary is not None
    assert (summary["read"], summary["valid"], summary["sent"]) == (22_283, 22_283, 22_283)
    assert summary["rejected"] == summary["dead_lettered"] == summary["warnings"] == 0
    _check_sample(path, moto_endpoint, stream, summary)


def _synthetic(path: Path, rows: int, users: int = 150, seed: int = 7) -> list[str]:
    """A small REES46-shaped file in event-time order: three rows a second, several events per
    user, and every tenth second a burst of three events of one user (a small checkout)."""
    rnd = random.Random(seed)
    lines = [HEADER]
    user = 0
    for i in range(rows):
        second = i // 3
        if i % 3 == 0 or second % 10:
            user = 500_000_000 + rnd.randrange(users)
        lines.append(
            f"2019-11-0{1 + second // 86400} {second // 3600 % 24:02d}:{second // 60 % 60:02d}:"
            f"{second % 60:02d} UTC,view,{1_000_000 + i},2053013555631882655,,,"
            f"{rnd.randrange(100, 99999) / 100:.2f},{user},s-{user}"
        )
    path.write_text("\n".join(lines) + "\n")
    return lines[1:]


def faulty_kinesis(entry_share: float, request_share: float, code: str) -> Any:
    """A factory like `aws_clients.client` whose Kinesis clients lose a share of PutRecords
    entries (left out of the real request and reported failed, as Kinesis does) and of whole
    requests (never sent, answered with an error)."""
    from botocore.exceptions import ClientError

    from ecomm_cli import aws_clients

    real_factory = aws_clients.client
    rnd = random.Random(1234)
    status = 400 if "Exceeded" in code else 500

    def factory(service: str, settings: Any, **kwargs: Any) -> Any:
        client = real_factory(service, settings, **kwargs)
        if service != "kinesis":
            return client
        put_records = client.put_records

        def failing_put_records(**call: Any) -> Any:
            if rnd.random() < request_share:
                error = {"Code": code, "Message": "injected request failure"}
                meta = {"HTTPStatusCode": status}
                raise ClientError({"Error": error, "ResponseMetadata": meta}, "PutRecords")
            records = call["Records"]
            lost = {i for i in range(len(records)) if rnd.random() < entry_share}
            if len(lost) == len(records):
                lost.discard(len(records) - 1)  # a request needs at least one record
            answer = put_records(
                StreamName=call["StreamName"],
                Records=[r for i, r in enumerate(records) if i not in lost],
            )
            results = iter(answer["Records"])
            merged = [
                {"ErrorCode": code, "ErrorMessage": "injected"} if i in lost else next(results)
                for i in range(len(records))
            ]
            return {**answer, "Records": merged, "FailedRecordCount": len(lost)}

        client.put_records = failing_put_records
        return client

    return factory


# Both modes: plain records (what AWS gets, where the Flink connector cannot de-aggregate) and
# KPL aggregates (the local default).
MODES = pytest.mark.parametrize("mode", ["--no-aggregate", "--aggregate"])


@MODES
@pytest.mark.parametrize(
    ("code", "entry_share", "request_share"),
    [
        ("InternalFailure", 0.2, 0.1),
        # Throttling also slows the senders down (by design), so a smaller share keeps it quick.
        ("ProvisionedThroughputExceededException", 0.05, 0.05),
    ],
)
def test_faults_lose_nothing_and_keep_per_user_order(
    moto_endpoint: str,
    stream: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
    entry_share: float,
    request_share: float,
    mode: str,
) -> None:
    lines = _synthetic(tmp_path / "events.csv", 3000)
    monkeypatch.setattr(
        "ecomm_cli.replay.environment.aws_clients.client",
        faulty_kinesis(entry_share, request_share, code),
    )
    exit_code, summary, output = cli(str(tmp_path / "events.csv"), "--max-attempts", "30", mode)
    assert exit_code == 0, output
    assert summary is not None
    assert summary["sent"] == summary["valid"] == summary["read"] == 3000
    assert summary["dead_lettered"] == 0 and summary["retries"] > 0
    if code.startswith("Provisioned"):
        assert summary["throttles"] > 0
    events = read_back(moto_endpoint, stream)
    # Nothing lost, nothing twice.
    assert sorted(e["product_id"] for *_, e in events) == list(range(1_000_000, 1_003_000))
    # Per-user order: each user's events come back in file order. With plain records one
    # exception is allowed: a failed entry's retry may land after events of the same user and
    # the same second, which shared its request (see batching.plain_run); aggregates are atomic.
    wanted: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for line in lines:
        fields = line.split(",")
        stamp = fields[0].replace(" UTC", "Z").replace(" ", "T")
        wanted[int(fields[7])].append((stamp, int(fields[2])))
    got = {
        user: [(e["event_time"], e["product_id"]) for e in seq]
        for user, seq in user_sequences(events).items()
    }
    if mode == "--aggregate":
        assert got == wanted
    else:
        assert {u: [t for t, _ in seq] for u, seq in got.items()} == {
            u: [t for t, _ in seq] for u, seq in wanted.items()
        }
        assert {u: sorted(seq) for u, seq in got.items()} == {
            u: sorted(seq) for u, seq in wanted.items()
        }


def test_what_cannot_be_sent_is_dead_lettered_and_counted(
    moto_endpoint: str, stream: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _synthetic(tmp_path / "events.csv", 1000)
    monkeypatch.setattr(
        "ecomm_cli.replay.environment.aws_clients.client",
        faulty_kinesis(0.3, 0.2, "InternalFailure"),
    )
    exit_code, summary, output = cli(str(tmp_path / "events.csv"), "--max-attempts", "1")
    assert exit_code == 1, output
    assert "could not be sent" in output
    assert summary is not None and summary["dead_lettered"] > 0
    assert summary["read"] == summary["sent"] + summary["rejected"] + summary["dead_lettered"]
    letters = [json.loads(x) for x in Path(summary["dead_letter_file"]).read_text().splitlines()]
    assert len(letters) == summary["dead_lettered"]
    assert all("InternalFailure" in d["reason"] for d in letters)
    arrived = {e["product_id"] for *_, e in read_back(moto_endpoint, stream)}
    kept = {d["event"]["product_id"] for d in letters}
    assert len(arrived) == summary["sent"] and not arrived & kept
    assert arrived | kept == set(range(1_000_000, 1_001_000))


def test_resume_after_interrupt_resends_nothing_acknowledged(
    moto_endpoint: str, stream: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _synthetic(tmp_path / "events.csv", 4000)
    from ecomm_cli.replay import runner

    real_rows = runner.sources.merged_rows

    def interrupted_rows(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for index, row in enumerate(real_rows(*args, **kwargs)):
            if index == 2500:
                # Ctrl-C once some events are acknowledged (the reader runs ahead of them).
                deadline = time.monotonic() + 30
                while not read_back(moto_endpoint, stream) and time.monotonic() < deadline:
                    time.sleep(0.05)
                raise KeyboardInterrupt
            yield row

    monkeypatch.setattr(runner.sources, "merged_rows", interrupted_rows)
    exit_code, first, output = cli(str(tmp_path / "events.csv"))
    assert exit_code == 130, output
    assert "--resume" in output
    assert first is not None and 0 < first["sent"] <= 2500
    monkeypatch.setattr(runner.sources, "merged_rows", real_rows)
    exit_code, summary, output = cli(str(tmp_path / "events.csv"), "--resume")
    assert exit_code == 0, output
    assert summary is not None
    assert summary["read"] == summary["sent"] == 4000
    assert summary["resumed_skipped"] == first["sent"]
    products = sorted(e["product_id"] for *_, e in read_back(moto_endpoint, stream))
    assert products == list(range(1_000_000, 1_004_000))  # each exactly once


def _event_key(event: dict[str, Any]) -> tuple[Any, ...]:
    """An event without the send time it carries (a resent event is the same event)."""
    return tuple(v for k, v in sorted(event.items()) if k != "ingested_at")


def test_a_killed_replay_resends_at_most_its_requests_in_flight(
    moto_endpoint: str, stream: str, tmp_path: Path
) -> None:
    """SIGKILL (no handler runs, no last checkpoint) mid-stream, then --resume: every row
    arrives, and the resent events fit in the requests in flight (one per shard, at most
    --concurrency of them, 500 records each)."""
    rows, concurrency = 12_000, 1
    in_flight = concurrency * 500  # 4 shards, so --concurrency is the bound here
    _synthetic(tmp_path / "events.csv", rows)
    checkpoint = tmp_path / "checkpoint.json"
    command = [
        sys.executable, "-m", "ecomm_cli", "replay", str(tmp_path / "events.csv"),
        "--no-aggregate", "--rate", "3000", "--concurrency", str(concurrency),
        "--checkpoint", str(checkpoint), "--rejects", str(tmp_path / "rejects.jsonl"),
        "--dead-letter", str(tmp_path / "dead.jsonl"), "--format", "json", "--no-progress",
    ]  # fmt: skip
    # Killed 1.5 s after a periodic checkpoint (they come every 2 s): with only the
    # checkpoint, the events acknowledged in those 1.5 s (more than in flight) would be resent.
    kill_between_checkpoints(command, checkpoint)
    before = read_back(moto_endpoint, stream)
    assert 0 < len(before) < rows, "killed too late or too early to prove anything"
    # What the last checkpoint holds: without the journal, the rest of `before` is resent.
    checkpointed = json.loads(checkpoint.read_text())["counts"]["sent"]
    assert len(before) - checkpointed > in_flight, (len(before), checkpointed)

    exit_code, summary, output = cli(
        str(tmp_path / "events.csv"),
        "--resume",
        "--no-aggregate",
        *("--checkpoint", str(checkpoint), "--rejects", str(tmp_path / "rejects.jsonl")),
        *("--dead-letter", str(tmp_path / "dead.jsonl")),
    )
    assert exit_code == 0, output
    assert summary is not None and summary["read"] == summary["sent"] == rows
    events = read_back(moto_endpoint, stream)
    keys = [_event_key(e) for *_, e in events]
    arrived = {e["product_id"] for *_, e in events}
    assert arrived == set(range(1_000_000, 1_000_000 + rows))  # every row, at least once
    resent = len(keys) - len(set(keys))
    assert resent <= in_flight, f"{resent} events sent twice"
    assert summary["resumed_skipped"] + resent >= len(before)


def test_aggregate_packs_events_that_local_consumers_unpack(
    moto_endpoint: str, stream: str, tmp_path: Path
) -> None:
    lines = _synthetic(tmp_path / "events.csv", 2000)
    exit_code, summary, output = cli(str(tmp_path / "events.csv"), "--aggregate")
    assert exit_code == 0, output
    assert summary is not None and summary["sent"] == 2000
    # Each request carries one aggregate per shard, each holding many events.
    assert summary["requests"] <= 40
    events = read_back(moto_endpoint, stream)
    wanted: dict[int, list[int]] = defaultdict(list)
    for line in lines:
        fields = line.split(",")
        wanted[int(fields[7])].append(int(fields[2]))
    got = {user: [e["product_id"] for e in seq] for user, seq in user_sequences(events).items()}
    assert got == wanted


def test_several_gzip_files_from_s3_are_merged_in_event_time_order(
    moto_endpoint: str, stream: str, tmp_path: Path
) -> None:
    lines = _synthetic(tmp_path / "all.csv", 900)
    s3 = _client("s3", moto_endpoint)
    bucket = f"replay-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    # Three files, each in time order, interleaved in time (every third row).
    for part in range(3):
        body = "\n".join([HEADER, *lines[part::3]]) + "\n"
        s3.put_object(
            Bucket=bucket, Key=f"in/part-{part}.csv.gz", Body=gzip.compress(body.encode())
        )
    exit_code, summary, output = cli(f"s3://{bucket}/in/part-*.csv.gz", "--concurrency", "1")
    assert exit_code == 0, output
    assert summary is not None and summary["sent"] == 900 and len(summary["inputs"]) == 3
    events = read_back(moto_endpoint, stream)
    for seq in user_sequences(events).values():
        times = [e["event_time"] for e in seq]
        assert times == sorted(times)
    assert sorted(e["product_id"] for *_, e in events) == list(range(1_000_000, 1_000_900))


def test_unknown_stream_is_one_line_error(
    moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _synthetic(tmp_path / "events.csv", 10)
    monkeypatch.setenv("ECOMM_ENDPOINT_URL", moto_endpoint)
    result = CliRunner().invoke(
        app, ["replay", str(tmp_path / "events.csv"), "--stream", "no-such-stream"]
    )
    assert result.exit_code == 2
    assert "stream 'no-such-stream' does not exist" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_speedup_keeps_event_time_and_reports_lateness(
    moto_endpoint: str, stream: str, tmp_path: Path
) -> None:
    # 300 events one second apart, replayed 1,000 times faster (0.3 s).
    _synthetic(tmp_path / "events.csv", 900)
    exit_code, summary, output = cli(
        str(tmp_path / "events.csv"), "--speedup", "1000", "--limit", "300"
    )
    assert exit_code == 0, output
    assert summary is not None and summary["sent"] == summary["read"] == 300
    assert summary["lateness_p99_ms"] is not None
    times = sorted(e["event_time"] for *_, e in read_back(moto_endpoint, stream))
    assert times[0] == "2019-11-01T00:00:00Z" and times[-1] == "2019-11-01T00:01:39Z"


def test_default_stream_is_the_local_stacks_output(
    moto_endpoint: str,
    stream: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    isolated_environment: Path,
) -> None:
    # What `ecomm local up` records: the emulator's endpoint and the Terraform outputs.
    stack_file = isolated_environment / "local" / "stack.json"
    stack_file.parent.mkdir(parents=True)
    stack_file.write_text(
        json.dumps({"endpoint_url": moto_endpoint, "outputs": {"events_stream_name": stream}})
    )
    monkeypatch.delenv("ECOMM_EVENTS_STREAM")
    monkeypatch.delenv("ECOMM_ENDPOINT_URL")
    _synthetic(tmp_path / "events.csv", 50)
    exit_code, summary, output = cli(str(tmp_path / "events.csv"))
    assert exit_code == 0, output
    assert summary is not None and summary["stream"] == stream and summary["sent"] == 50
    assert len(read_back(moto_endpoint, stream)) == 50


@MODES
def test_a_bursty_user_does_not_fall_behind_other_users(
    tmp_path: Path, moto_endpoint: str, stream: str, mode: str
) -> None:
    """Each shard carries events in the file's event-time order, a burst included: the
    real-time windows read the stream in that order (a user who falls behind looks late)."""
    path = tmp_path / "bursty.csv"
    lines = [HEADER]
    for second in range(120):
        stamp = f"2019-11-01 00:{second // 60:02d}:{second % 60:02d} UTC"
        for user in range(40):  # ordinary users, one event a second each
            lines.append(
                f"{stamp},view,{1_000 + user},2053013555631882655,,,1.00,"
                f"{500_000_000 + user},s{user}"
            )
        for burst in range(30):  # one user with 30 events every second
            lines.append(
                f"{stamp},view,{2_000 + burst},2053013555631882655,,,1.00,600000000,s-burst"
            )
    path.write_text("\n".join(lines) + "\n")
    code, summary, output = cli(str(path), mode)
    assert code == 0, output
    assert summary is not None and summary["sent"] == 120 * 70
    by_shard: dict[str, list[str]] = defaultdict(list)
    for shard, _sequence, _key, event in sorted(
        read_back(moto_endpoint, stream), key=lambda e: (e[0], e[1])
    ):
        by_shard[shard].append(event["event_time"])
    for shard, times in by_shard.items():
        assert times == sorted(times), f"{shard} is out of event-time order"

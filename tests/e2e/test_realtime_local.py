"""The real-time path on the local stack: events -> detector -> anomalies -> Lambda -> offenders.

Generated traffic with every bot kind is replayed into the events stream; `ecomm local detector`
and `ecomm local lambda` play Managed Flink and the Lambda's event source mapping; the alerts
topic is observed through an SQS queue subscribed with raw delivery (created here, not by
Terraform: it is the test's own observer).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alerting.mitigation import block_fields
from alerting.offenders import Anomaly
from alerting.store import MitigationStore
from botocore.credentials import Credentials
from typer.testing import CliRunner

from ecomm_cli import aws_clients, environments
from ecomm_cli.alerts.lookup import BlocksLookup
from ecomm_cli.app import app
from ecomm_cli.detect import RULES
from ecomm_cli.detect.evaluation import read_labels
from ecomm_cli.local import lookup_server
from ecomm_cli.settings import PROJECT_ROOT, Settings
from tests.support.streams import records_after

pytestmark = pytest.mark.e2e
runner = CliRunner()
BOTS = "flood=2,scraper=2,cart_stuffer=2,session_cycler=2"
# A user id no generated customer has: the valid anomaly sent right after the poison record.
PROBE_USER = 7
STOREFRONT = Credentials("AKIASTOREFRONT000001", "testing")


def _invoke(settings: Settings, *args: str) -> Any:
    env = {"ECOMM_STATE_DIR": str(settings.state_dir), "ECOMM_ENV": "local"}
    return runner.invoke(app, list(args), env=env)


def _drain_queue(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message in the queue (deleted once read), bodies parsed as JSON."""
    bodies: list[dict[str, Any]] = []
    empty_polls = 0
    while empty_polls < 2:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = answer.get("Messages", [])
        if not messages:
            empty_polls += 1
            continue
        empty_polls = 0
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def _offender_items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        items += [i for i in page["Items"] if i["sk"]["S"].startswith("rule#")]
    return items


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]


@dataclass
class Pipeline:
    settings: Settings
    labels: dict[int, str]
    quiet_check: Any
    loud_check: Any  # the quiet check's window, once the replay's offenders are in
    detector_output: str
    lambda_output: str
    offenders: list[dict[str, Any]]
    notifications: list[dict[str, Any]]
    anomalies: list[bytes]


@pytest.fixture(scope="module")
def pipeline(local_stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    settings = local_stack
    # The quiet check looks back to here, past the drain of what earlier tests left below.
    began = time.time()
    outputs = environments.outputs(settings)
    work = tmp_path_factory.mktemp("realtime")
    sqs = aws_clients.client("sqs", settings)
    sns = aws_clients.client("sns", settings)
    dynamodb = aws_clients.client("dynamodb", settings)
    kinesis = aws_clients.client("kinesis", settings)
    # The stack is shared by the run's end-to-end tests: first consume what earlier tests left
    # in the streams and the DLQ, then look only at what this run adds.
    for step in ("detector", "lambda"):
        result = _invoke(settings, "local", step)
        assert result.exit_code == 0, result.output
    _drain_queue(sqs, outputs["dlq_url"])
    before = {_key(i) for i in _offender_items(dynamodb, outputs["offenders_table"])}
    _, anomalies_end = records_after(kinesis, outputs["anomalies_stream_name"], {})
    queue_url = sqs.create_queue(QueueName="e2e-alerts-observer")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    subscription = sns.subscribe(
        TopicArn=outputs["alerts_topic_arn"],
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]

    quiet = _invoke(settings, "alerts", "check", "--since", _since(began), "--format", "json")

    events, labels_file = work / "events.csv", work / "labels.csv"
    result = _invoke(
        settings,
        *("sample", "generate", "--rows", "20000", "--days", "1", "--seed", "11"),
        *("--out", str(events), "--bots", BOTS, "--labels", str(labels_file)),
    )
    assert result.exit_code == 0, result.output
    # --aggregate: one KPL record per request keeps the file's event-time order in the shard,
    # and makes the detector de-aggregate (see the report on plain replay ordering).
    result = _invoke(settings, "replay", str(events), "--aggregate", "--no-progress")
    assert result.exit_code == 0, result.output
    detector = _invoke(settings, "local", "detector")
    assert detector.exit_code == 0, detector.output
    lambda_run = _invoke(settings, "local", "lambda")
    assert lambda_run.exit_code == 0, lambda_run.output
    loud = _invoke(settings, "alerts", "check", "--since", _since(began), "--format", "json")

    yield Pipeline(
        settings=settings,
        labels=read_labels(labels_file),
        quiet_check=quiet,
        loud_check=loud,
        detector_output=detector.output,
        lambda_output=lambda_run.output,
        offenders=[
            item
            for item in _offender_items(dynamodb, outputs["offenders_table"])
            if _key(item) not in before
        ],
        notifications=_drain_queue(sqs, queue_url),
        anomalies=records_after(kinesis, outputs["anomalies_stream_name"], anomalies_end)[0],
    )
    sns.unsubscribe(SubscriptionArn=subscription)
    sqs.delete_queue(QueueUrl=queue_url)


def _since(moment: float) -> str:
    """`--since` reaching back to `moment` (whole seconds, rounded up)."""
    return f"{int(time.time() - moment) + 1}s"


def test_check_is_quiet_before_anything_was_detected(pipeline: Pipeline) -> None:
    # The window starts before the drain of what earlier tests left, and the same window
    # fires once the replay's offenders are in: the quiet verdict is not an empty window's.
    assert pipeline.quiet_check.exit_code == 0, pipeline.quiet_check.output
    assert json.loads(pipeline.quiet_check.output)["offenders"] == []
    assert pipeline.loud_check.exit_code == 1, pipeline.loud_check.output
    loud = {o["user_id"] for o in json.loads(pipeline.loud_check.output)["offenders"]}
    assert loud >= set(pipeline.labels)


def test_every_injected_bot_is_an_offender_for_its_own_rule(pipeline: Pipeline) -> None:
    assert sorted(Counter(pipeline.labels.values()).values()) == [2, 2, 2, 2]
    assert "late" not in pipeline.detector_output, pipeline.detector_output
    flagged: dict[int, set[str]] = {}
    for item in pipeline.offenders:
        flagged.setdefault(int(item["user_id"]["N"]), set()).add(item["rule"]["S"])
    for user, kind in pipeline.labels.items():
        assert kind in flagged.get(user, set()), (user, kind, flagged.get(user))
    # No real customer of the generated traffic is flagged (precision, on this seed).
    assert set(flagged) == set(pipeline.labels)
    # One item per offender, rule and window: as many as the alerts the detector wrote.
    assert len(pipeline.offenders) == len(pipeline.anomalies)


def test_every_bot_got_exactly_one_sns_message(pipeline: Pipeline) -> None:
    per_user = Counter(body["user_id"] for body in pipeline.notifications)
    assert per_user == dict.fromkeys(pipeline.labels, 1)
    for body in pipeline.notifications:
        assert body["rule"] in RULES
        assert body["window_start"].endswith("Z") and body["count"] > 0


def test_poison_record_goes_to_the_dlq_without_blocking_the_rest(pipeline: Pipeline) -> None:
    settings = pipeline.settings
    outputs = environments.outputs(settings)
    kinesis = aws_clients.client("kinesis", settings)
    sqs = aws_clients.client("sqs", settings)
    dynamodb = aws_clients.client("dynamodb", settings)
    stream = outputs["anomalies_stream_name"]
    poison = kinesis.put_record(StreamName=stream, Data=b"{not json", PartitionKey="poison")
    valid = {
        "user_id": PROBE_USER,
        "rule": "flood",
        "window_start": "2019-10-02T00:00:00Z",
        "window_end": "2019-10-02T00:00:10Z",
        "count": 99,
        "samples": [],
    }
    kinesis.put_record(
        StreamName=stream, Data=json.dumps(valid).encode(), PartitionKey=str(PROBE_USER)
    )

    result = _invoke(settings, "local", "lambda")

    assert result.exit_code == 0, result.output
    assert "1 sent to the DLQ" in result.output, result.output
    dead = _drain_queue(sqs, outputs["dlq_url"])
    assert len(dead) == 1
    batch = dead[0]["KinesisBatchInfo"]
    assert batch["startSequenceNumber"] == poison["SequenceNumber"]
    assert batch["batchSize"] == 1 and batch["streamArn"].endswith(f"/{stream}")
    probe = dynamodb.query(
        TableName=outputs["offenders_table"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :rule)",
        ExpressionAttributeValues={":pk": {"S": f"user#{PROBE_USER}"}, ":rule": {"S": "rule#"}},
    )["Items"]
    assert [item["count"]["N"] for item in probe] == ["99"]


def test_replaying_the_same_anomalies_writes_and_notifies_nothing_new(pipeline: Pipeline) -> None:
    settings = pipeline.settings
    outputs = environments.outputs(settings)
    kinesis = aws_clients.client("kinesis", settings)
    sqs = aws_clients.client("sqs", settings)
    sns = aws_clients.client("sns", settings)
    dynamodb = aws_clients.client("dynamodb", settings)
    queue_url = sqs.create_queue(QueueName="e2e-alerts-replay-observer")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    subscription = sns.subscribe(
        TopicArn=outputs["alerts_topic_arn"],
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    before_replay = _offender_items(dynamodb, outputs["offenders_table"])
    try:
        for _ in range(2):
            for start in range(0, len(pipeline.anomalies), 500):
                chunk = pipeline.anomalies[start : start + 500]
                answer = kinesis.put_records(
                    StreamName=outputs["anomalies_stream_name"],
                    Records=[{"Data": data, "PartitionKey": "replay"} for data in chunk],
                )
                assert answer["FailedRecordCount"] == 0
            result = _invoke(settings, "local", "lambda")
            assert result.exit_code == 0, result.output
            assert f"{len(pipeline.anomalies)} succeeded" in result.output, result.output
        after = _offender_items(dynamodb, outputs["offenders_table"])
        notified = _drain_queue(sqs, queue_url)
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=queue_url)
    assert len(after) == len(before_replay)
    assert {(*_key(i), i["detected_at"]["S"]) for i in after} == {
        (*_key(i), i["detected_at"]["S"]) for i in before_replay
    }
    assert notified == []


def test_alerts_check_fires_with_the_offenders_listed(
    pipeline: Pipeline, use_stack: Settings
) -> None:
    result = runner.invoke(app, ["alerts", "check", "--since", "1h", "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["firing"] is True
    assert {o["user_id"] for o in report["offenders"]} >= set(pipeline.labels)
    table = runner.invoke(app, ["alerts", "check"])
    assert table.exit_code == 1, table.output
    for user in pipeline.labels:
        assert f"user#{user}" in table.output
    assert "FIRING" in table.output
    history = runner.invoke(app, ["alerts", "list", "--format", "json", "--limit", "1000"])
    assert history.exit_code == 0, history.output
    # Every offender of the pipeline (and the poison test's probe user when it ran).
    assert len(json.loads(history.output)) >= len(pipeline.offenders)


def test_a_second_detector_drain_reads_nothing_again(
    pipeline: Pipeline, use_stack: Settings
) -> None:
    result = runner.invoke(app, ["local", "detector"])
    assert result.exit_code == 0, result.output
    assert "read 0 events" in result.output


# --- mitigation: blocks, the allowlist and the storefront's lookup ------------------------------


@pytest.fixture(scope="module")
def lookup(pipeline: Pipeline) -> Iterator[BlocksLookup]:
    """`ecomm local lookup` (the function URL stand-in) on a free port, and a storefront client
    signing with its own key."""
    with lookup_server.running(lookup_server.serve(pipeline.settings, 0)) as server:
        client = BlocksLookup(server.url, STOREFRONT, pipeline.settings.region, timeout=2.0)
        try:
            yield client
        finally:
            client.close()


@contextlib.contextmanager
def _alerts_observed(settings: Settings) -> Iterator[list[dict[str, Any]]]:
    """The SNS messages sent while inside, through an SQS queue subscribed with raw delivery
    (filled when the block exits)."""
    outputs = environments.outputs(settings)
    sqs, sns = aws_clients.client("sqs", settings), aws_clients.client("sns", settings)
    queue_url = sqs.create_queue(QueueName=f"e2e-observer-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    subscription = sns.subscribe(
        TopicArn=outputs["alerts_topic_arn"],
        Protocol="sqs",
        Endpoint=attributes["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    notified: list[dict[str, Any]] = []
    try:
        yield notified
        notified += _drain_queue(sqs, queue_url)
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=queue_url)


def _block_seconds(settings: Settings) -> dict[str, int]:
    return {k: int(v) for k, v in environments.outputs(settings)["block_seconds"].items()}


def test_every_bot_is_blocked_for_its_rule_and_the_lookup_says_so(
    pipeline: Pipeline, lookup: BlocksLookup
) -> None:
    durations = _block_seconds(pipeline.settings)
    for user, kind in pipeline.labels.items():
        answer = lookup.check(user)
        assert answer.blocked and not answer.failed_open, (user, kind, answer)
        assert answer.until is not None and answer.until > datetime.now(UTC).isoformat()
        # The block is the longest of the rules the bot broke.
        assert durations[str(answer.rule)] == max(
            durations.get(str(i["rule"]["S"]), 0)
            for i in pipeline.offenders
            if int(i.get("user_id", {}).get("N", -1)) == user
        )
    assert not lookup.check(PROBE_USER + 1).blocked
    assert lookup.request(f"/blocks/{next(iter(pipeline.labels))}", sign=False)[0] == 403
    listed = _invoke(pipeline.settings, "alerts", "list", "--active", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert set(pipeline.labels) <= {row["user_id"] for row in json.loads(listed.output)}


def test_an_allowlisted_user_is_let_through_and_never_blocked_or_alerted_again(
    pipeline: Pipeline, lookup: BlocksLookup
) -> None:
    settings = pipeline.settings
    outputs = environments.outputs(settings)
    user = sorted(pipeline.labels)[0]
    allowed = _invoke(
        settings, "alerts", "allow", str(user), "--reason", "wholesale", "--format", "json"
    )
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.output)["lifted_block"] is not None
    assert not lookup.check(user).blocked

    offence = {
        "user_id": user,
        "rule": "flood",
        "window_start": "2019-10-05T00:00:00Z",
        "window_end": "2019-10-05T00:00:10Z",
        "count": 500,
        "samples": [],
    }
    with _alerts_observed(settings) as notified:
        aws_clients.client("kinesis", settings).put_record(
            StreamName=outputs["anomalies_stream_name"],
            Data=json.dumps(offence).encode(),
            PartitionKey=str(user),
        )
        result = _invoke(settings, "local", "lambda")
        assert result.exit_code == 0 and "1 succeeded" in result.output, result.output
    assert notified == []
    new = aws_clients.client("dynamodb", settings).query(
        TableName=outputs["offenders_table"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :rule)",
        ExpressionAttributeValues={
            ":pk": {"S": f"user#{user}"},
            ":rule": {"S": "rule#flood#window#2019-10-05"},
        },
    )["Items"]
    assert new == []
    assert not lookup.check(user).blocked
    listed = _invoke(settings, "alerts", "list", "--active", "--format", "json")
    assert user not in {row["user_id"] for row in json.loads(listed.output)}


def test_unblock_lifts_a_block_and_a_block_ends_at_its_until(
    pipeline: Pipeline, lookup: BlocksLookup
) -> None:
    settings = pipeline.settings
    user = sorted(pipeline.labels)[1]
    assert lookup.check(user).blocked
    result = _invoke(settings, "alerts", "unblock", str(user))
    assert result.exit_code == 0 and f"user {user} unblocked" in result.output, result.output
    assert not lookup.check(user).blocked

    # A short block, written as the Lambda writes it: blocked, then not (no TTL here). Three
    # seconds, not one, so the first check comes before the end even on a busy machine (CI,
    # two workers); the second waits for the stored `until` (whole seconds, rounded up).
    probe = PROBE_USER + 2
    store = MitigationStore(
        aws_clients.client("dynamodb", settings),
        str(environments.outputs(settings)["mitigation_table"]),
    )
    now = datetime.now(UTC)
    anomaly = Anomaly("flood", now, now + timedelta(seconds=10), 30, user_id=probe)
    fields = block_fields(anomaly, now, 3)
    assert store.extend_block(probe, fields, now)
    assert lookup.check(probe).blocked
    time.sleep(max(0.0, fields["until"] + 0.05 - datetime.now(UTC).timestamp()))
    assert not lookup.check(probe).blocked


def test_the_lookup_bench_answers_right_and_refuses_unsigned(pipeline: Pipeline) -> None:
    """bench/lookup_bench.py on this stack: signed requests through `ecomm local lookup`, every
    answer right, unsigned and wrongly signed ones refused. Its p99 target (20 ms) is the
    bench's verdict in `make bench`, not asserted here: a wall-clock limit in a test would
    measure the machine's load, not the code (the p99 is printed with `pytest -s`)."""
    proc = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "bench" / "lookup_bench.py"),
            "--requests",
            "2000",
            "--no-docs",
            "--target-ms",
            "1e9",  # latency is not this test's verdict (above)
        ],
        env={**os.environ, "ECOMM_STATE_DIR": str(pipeline.settings.state_dir)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    figures = json.loads(proc.stdout)
    print(
        f"lookup p99 {figures['lookup']['p99_ms']} ms over {figures['lookup']['requests']} requests"
    )
    assert figures["wrong_answers"] == 0
    assert figures["unsigned_and_wrongly_signed_statuses"] == [403, 403]

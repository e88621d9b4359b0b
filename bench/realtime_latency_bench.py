"""End-to-end latency of the local real-time path, at a steady event rate.

From the put of the event that makes a flood bot cross the threshold to the offender item in
DynamoDB, with `ecomm local detector --follow` and `ecomm local lambda --follow` running as their
own processes (as Flink and Lambda are separate services) against the local stack:

    ecomm local up
    .venv/bin/python bench/realtime_latency_bench.py --rate 1000 --seconds 90

Live traffic: events are stamped with the wall clock (event time = now), a pool of ordinary
users browses at `--rate` events per second, and every 10-s window two fresh flood bots each
send 25 views in about 3 s, starting just after the window opens. The latency of a bot is its
item's `detected_at` (written by the Lambda, same machine clock) minus the put time of its
threshold-crossing event. The target: p95 <= flood window + watermark bound + 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ecomm_cli import aws_clients, environments
from ecomm_cli.local import stack
from ecomm_cli.realtime.detector_runner import DetectorTarget
from ecomm_cli.settings import PROJECT_ROOT, Settings

BOT_EVENTS = 25
BOTS_PER_WINDOW = 2
TICK_SECONDS = 0.25


def _iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _event(now: float, user: int, product: int, session: str) -> dict[str, Any]:
    return {
        "event_time": _iso(now),
        "event_type": "view",
        "product_id": product,
        "category_id": None,
        "category_code": None,
        "brand": None,
        "price": 9.99,
        "user_id": user,
        "user_session": session,
        "ingested_at": _iso(now),
    }


class Bot:
    """A flood bot: BOT_EVENTS views spread over ~3 s from `start`."""

    def __init__(self, user: int, start: float):
        self.user = user
        self.times = [start + i * 3.0 / BOT_EVENTS for i in range(BOT_EVENTS)]
        self.sent = 0
        self.crossed_at: float | None = None  # put time of the threshold-crossing event


def _aggregated(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events packed into KPL aggregated records (what `ecomm replay --aggregate` sends)."""
    from aws_kinesis_agg.aggregator import RecordAggregator

    aggregator = RecordAggregator()
    records: list[dict[str, Any]] = []
    for event in events:
        data = json.dumps(event, separators=(",", ":")).encode()
        full = aggregator.add_user_record(str(event["user_id"]), data)
        if full is not None:
            key, _, payload = full.get_contents()
            records.append({"Data": payload, "PartitionKey": key})
    last = aggregator.clear_and_get()
    if last is not None and last.get_num_user_records():
        key, _, payload = last.get_contents()
        records.append({"Data": payload, "PartitionKey": key})
    return records


def _put(kinesis: Any, stream: str, events: list[dict[str, Any]], aggregate: bool) -> float:
    records = (
        _aggregated(events)
        if aggregate
        else [
            {
                "Data": json.dumps(e, separators=(",", ":")).encode(),
                "PartitionKey": str(e["user_id"]),
            }
            for e in events
        ]
    )
    for start in range(0, len(records), 500):
        chunk = records[start : start + 500]
        while chunk:
            answer = kinesis.put_records(StreamName=stream, Records=chunk)
            chunk = [
                r for r, res in zip(chunk, answer["Records"], strict=True) if "ErrorCode" in res
            ]
    return time.time()


def _offender_detected(dynamodb: Any, table: str, user: int) -> float | None:
    items = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :rule)",
        ExpressionAttributeValues={":pk": {"S": f"user#{user}"}, ":rule": {"S": "rule#flood"}},
    )["Items"]
    if not items:
        return None
    first = min(item["detected_at"]["S"] for item in items)
    return datetime.fromisoformat(first).timestamp()


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=os.environ.copy())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=90.0, help="length of the run")
    parser.add_argument("--users", type=int, default=5000, help="ordinary users in the pool")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--aggregate",
        action="store_true",
        help="send KPL aggregated records (the emulator's PutRecords cost is per record)",
    )
    args = parser.parse_args()

    settings = Settings.load(env="local")
    if not stack.is_up(settings):
        print("error: the local stack is not running (run `ecomm local up` first)", file=sys.stderr)
        return 2
    outputs = environments.outputs(settings)
    target = DetectorTarget.from_outputs(outputs)
    thresholds = target.thresholds
    budget = thresholds.flood_window_seconds + thresholds.watermark_seconds + 5
    kinesis = aws_clients.client("kinesis", settings)
    dynamodb = aws_clients.client("dynamodb", settings)
    rng = random.Random(args.seed)
    run_id = uuid.uuid4().hex[:6]
    # Fresh bot ids every run: items of an earlier run must not count as detections.
    base_user = 900_000_000 + int(run_id, 16) % 1_000_000 * 100
    logs = settings.local_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    ecomm = str(PROJECT_ROOT / ".venv" / "bin" / "ecomm")
    workers = [
        _start([ecomm, "local", "detector", "--follow"], logs / f"bench-detector-{run_id}.log"),
        _start([ecomm, "local", "lambda", "--follow"], logs / f"bench-lambda-{run_id}.log"),
    ]
    bots: list[Bot] = []
    sent = 0
    try:
        time.sleep(3.0)  # let both runners catch up with what the stream already holds
        began = time.time()
        window = thresholds.flood_window_seconds
        next_window = (int(began) // window + 1) * window
        bot_deadline = began + args.seconds - budget  # the last bots' windows must close
        next_tick = began
        while time.time() < began + args.seconds:
            now = time.time()
            if now >= next_window and now < bot_deadline:
                for _ in range(BOTS_PER_WINDOW):
                    bots.append(Bot(base_user + len(bots), next_window + 0.2))
                next_window += window
            count = int(args.rate * TICK_SECONDS)
            batch = [
                _event(now, rng.randrange(args.users) + 1, rng.randrange(50_000), f"s{run_id}")
                for _ in range(count)
            ]
            crossing: list[Bot] = []
            for bot in bots:
                while bot.sent < BOT_EVENTS and bot.times[bot.sent] <= now:
                    batch.append(_event(now, bot.user, 1000 + bot.sent, f"bot{bot.user}"))
                    bot.sent += 1
                    if bot.sent == thresholds.flood_events_per_window:
                        crossing.append(bot)
            put_at = _put(kinesis, target.events_stream, batch, args.aggregate)
            for bot in crossing:
                bot.crossed_at = put_at
            sent += len(batch)
            next_tick += TICK_SECONDS
            time.sleep(max(0.0, next_tick - time.time()))
        elapsed = time.time() - began
        # Traffic goes on in event time only while we wait: the stream is quiet now, and the
        # detector's idleness closes what is left. Wait for every bot's item (bounded).
        wait_until = time.time() + 60
        latencies: dict[int, float] = {}
        while time.time() < wait_until and len(latencies) < len(bots):
            for bot in bots:
                if bot.user not in latencies and bot.crossed_at is not None:
                    detected = _offender_detected(dynamodb, outputs["offenders_table"], bot.user)
                    if detected is not None:
                        latencies[bot.user] = detected - bot.crossed_at
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGINT)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
    values = sorted(latencies.values())
    if not values:
        print("error: no bot became an offender; see the logs in", logs, file=sys.stderr)
        return 1
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    result = {
        "events_sent": sent,
        "seconds": round(elapsed, 1),
        "events_per_second": round(sent / elapsed),
        "bots": len(bots),
        "bots_detected": len(values),
        "latency_p50_s": round(statistics.median(values), 2),
        "latency_p95_s": round(p95, 2),
        "latency_max_s": round(values[-1], 2),
        "target_p95_s": budget,
        "aggregated": args.aggregate,
        "meets_target": p95 <= budget and len(values) == len(bots),
    }
    print(json.dumps(result, indent=2))
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

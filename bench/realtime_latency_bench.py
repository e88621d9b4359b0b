"""End-to-end latency of the local real-time path, at a steady event rate.

From the put of the event that makes a flood bot cross the threshold to the offender item in
DynamoDB, with `ecomm local detector --follow` and `ecomm local lambda --follow` running as their
own processes (as Flink and Lambda are separate services) against the local stack:

    ecomm local up
    .venv/bin/python bench/realtime_latency_bench.py --rate 1000 --seconds 60 --aggregate
    .venv/bin/python bench/realtime_latency_bench.py --rate 1000 --seconds 60   # plain records

Live traffic: events are stamped with the wall clock (event time = now), a pool of ordinary
users browses at `--rate` events per second, and every 10-s window `--bots-per-window` fresh
flood bots each send 25 views in about 3 s, starting just after the window opens. The latency of
a bot is its item's `detected_at` (written by the Lambda, same machine clock) minus the put time
of its threshold-crossing event. Targets, each a failure (exit 1) when missed: p95 <= flood
window + watermark bound + 5 s, taken over at least `--min-detections` bots (the p95 of a
handful of bots would be their maximum); every bot detected; and the producer reached at least
95% of `--rate` (a slow producer would make the latency look better than it is). The figures are
printed as JSON, the verdicts last.
"""

from __future__ import annotations

import argparse
import json
import math
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
TICK_SECONDS = 0.25
RATE_REACHED = 0.95  # share of --rate the producer must reach


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
    parser.add_argument("--bots-per-window", type=int, default=30, help="new flood bots a window")
    parser.add_argument(
        "--min-detections", type=int, default=100, help="bots the p95 is taken over, at least"
    )
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
    pool_sent = 0  # the ordinary users' events: the rate asked for, bots not included
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
                for _ in range(args.bots_per_window):
                    bots.append(Bot(base_user + len(bots), next_window + 0.2))
                next_window += window
            count = int(args.rate * TICK_SECONDS)
            pool_sent += count
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
    # Nearest rank: with at least 100 values the p95 is not simply the maximum.
    p95 = values[math.ceil(0.95 * len(values)) - 1]
    rate = pool_sent / elapsed
    result = {
        "events_sent": sent,
        "seconds": round(elapsed, 1),
        "events_per_second": round(sent / elapsed),
        "pool_events_per_second": round(rate),
        "bots": len(bots),
        "bots_detected": len(values),
        "latency_p50_s": round(statistics.median(values), 2),
        "latency_p95_s": round(p95, 2),
        "latency_max_s": round(values[-1], 2),
        "target_p95_s": budget,
        "aggregated": args.aggregate,
    }
    print(json.dumps(result, indent=2))
    verdicts = {
        f"p95 {p95:.2f} s <= {budget} s": p95 <= budget,
        f"every bot detected ({len(values)} of {len(bots)})": len(values) == len(bots),
        f"p95 over >= {args.min_detections} detections ({len(values)})": (
            len(values) >= args.min_detections
        ),
        f"rate {rate:,.0f} events/s >= {RATE_REACHED:.0%} of {args.rate:,.0f}": (
            rate >= RATE_REACHED * args.rate
        ),
    }
    mode = "aggregated records" if args.aggregate else "plain records"
    print(f"p95 / target ({mode}): {p95 / budget:.2f}; rate reached: {rate / args.rate:.2f}")
    for name, ok in verdicts.items():
        print(f"  {'met' if ok else 'MISSED'}: {name}")
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())

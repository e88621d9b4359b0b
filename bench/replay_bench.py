"""Replay benchmark: naive producer vs `ecomm replay`, parse-and-encode speed, pacing accuracy.

    .venv/bin/python bench/replay_bench.py [--rows 200000] [--shards 8] [--dev-shards 1]
                                           [--no-docs]

In one run it starts its own ThreadedMotoServer with the project's emulator patches (in a
child process, as the local stack runs the emulator beside the CLI), generates one REES46-shaped
file and measures on it:

  (a) a naive producer: one `put_record` per row, no sleep (the blueprint this project grew
      from, minus its sleep), timed on the first rows of the file;
  (b) `ecomm replay`: the runner the CLI uses, over the whole file, with plain records (the
      default on AWS) and with KPL aggregation (the default of the local stack), on a stream of
      `--shards` shards and of `--dev-shards` (what the dev environment deploys);
  (c) the parse-and-encode path (sources + contract + partition key + JSON) into a null sink,
      on one core;
  (d) `--speedup` scheduling accuracy: p99 of (actual send - scheduled send) at about
      5,000 events per second. With KPL aggregation the target is 50 ms. With plain records,
      per-user order lets one event of a user (per event-time second) leave per round trip, so
      an event that k - 1 earlier events of its user were due in the 50 ms before cannot leave
      before k - 1 round trips have passed: the target is 50 ms + (k99 - 1) x RTT, k99 the
      99th percentile of k over the paced events and RTT the median PutRecords round trip, both
      measured in the same run.

It prints the figures, writes them with this command into docs/replay.md between the
`bench:replay` markers, prints the ratios and the verdict of every target last, and exits 1
when any target is missed.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import multiprocessing
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ecomm_cli import aws_clients, contract
from ecomm_cli.replay import sources
from ecomm_cli.replay.encode import OutgoingRecord, ShardMap, partition_key_function
from ecomm_cli.replay.runner import ReplayOptions, replay
from ecomm_cli.settings import PROJECT_ROOT, Settings

DOCS = PROJECT_ROOT / "docs" / "replay.md"
START, END = "<!-- bench:replay:start -->", "<!-- bench:replay:end -->"


def _serve(port_queue: Any, stop: Any) -> None:
    from moto.server import ThreadedMotoServer

    from ecomm_cli.local import emulator_gaps

    # The emulator as the local stack runs it (its Kinesis shard patched to O(1) puts and reads).
    emulator_gaps.apply_all()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port_queue.put(server.get_host_and_port()[1])
    stop.wait()
    server.stop()


def generate(path: Path, rows: int) -> str:
    """The benchmark input: `ecomm sample generate` when present, else a small inline one."""
    try:
        from ecomm_cli.sample.generator import SampleSpec, generate_sample
    except ImportError:
        generate_sample = None
    if generate_sample is not None:
        with path.open("w", newline="") as out:
            generate_sample(SampleSpec(rows=rows, days=1, seed=42), out)
        return "ecomm_cli.sample (seed 42, 1 day, no bots)"
    rnd = random.Random(42)
    start = int(datetime(2019, 10, 1, tzinfo=UTC).timestamp())
    with path.open("w", newline="") as out:
        out.write(",".join(contract.COLUMNS) + "\n")
        for i in range(rows):
            moment = datetime.fromtimestamp(start + i * 86400 // rows, UTC)
            user = 500_000_000 + rnd.randrange(max(1, rows // 8))
            out.write(
                f"{moment:%Y-%m-%d %H:%M:%S} UTC,{rnd.choice(['view'] * 8 + ['cart', 'purchase'])},"
                f"{1_000_000 + rnd.randrange(50_000)},2053013555631882655,"
                f"{rnd.choice(['', 'electronics.smartphone'])},{rnd.choice(['', 'samsung'])},"
                f"{rnd.randrange(100, 200_000) / 100:.2f},{user},session-{user}-{i // 50}\n"
            )
    return "inline generator (ecomm_cli.sample not installed)"


def naive(path: Path, client: Any, stream: str, rows: int) -> float:
    """The blueprint's producer without its sleep: one put_record per row, wall-clock time."""
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        started = time.perf_counter()
        for n, row in enumerate(reader):
            if n >= rows:
                break
            row["event_time"] = datetime.now(UTC).isoformat()  # what the blueprint did
            client.put_record(StreamName=stream, Data=json.dumps(row), PartitionKey=row["user_id"])
        return rows / (time.perf_counter() - started)


def parse_and_encode(path: Path) -> tuple[int, float, float]:
    """The replay path up to the sender, into a null sink, on this one thread."""
    resolved = sources.resolve([str(path)])
    key_of = partition_key_function("user_id")
    shards = ShardMap(tuple(f"s{i}" for i in range(8)), tuple(i * 2**125 for i in range(8)))
    encode = contract.encode_event
    sink = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    ingested_at = contract.utc_now_iso()
    for ordinal, row in enumerate(sources.merged_rows(resolved)):
        event = row.parsed.event
        if event is None:
            continue
        if ordinal % 128 == 0:
            ingested_at = contract.utc_now_iso()
        key = key_of(event)
        record = OutgoingRecord(
            ordinal, key, encode(event, ingested_at), shards.shard_of(key), None, False
        )
        sink += record.size
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    # CPU time is what "on one core" means on a shared machine; wall time is shown too.
    return ordinal + 1, (ordinal + 1) / cpu, (ordinal + 1) / elapsed


def paced_window(path: Path, rows: int, peak_rate: float) -> float:
    """The largest --speedup at which no second of the replay of the first `rows` rows holds
    more than `peak_rate` events (the target is "at up to 5,000 events per second": a
    speedup from the average rate would overshoot it in the busy minutes)."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        times = [
            contract.parse_event_time(r[0])[1] for _, r in zip(range(rows), reader, strict=False)
        ]

    def busiest_second(speedup: float) -> int:
        # Events within any `speedup` seconds of event time leave within one second.
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= speedup:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    low, high = 1.0, max(2.0, times[-1] - times[0])
    for _ in range(40):
        mid = (low + high) / 2
        low, high = (mid, high) if busiest_second(mid) <= peak_rate else (low, mid)
    return low


def same_user_backlog(path: Path, rows: int, speedup: float, window_s: float = 0.05) -> int:
    """k99: the 99th percentile, over the first `rows` events replayed at `speedup`, of how
    many events of the event's user (one per event-time second: a second's events may share a
    request) were due in the `window_s` before it, itself included."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        user_column = header.index("user_id")
        due_by_user: dict[str, list[float]] = {}
        for _, row in zip(range(rows), reader, strict=False):
            epoch = contract.parse_event_time(row[0])[1]
            seconds = due_by_user.setdefault(row[user_column], [])
            if not seconds or seconds[-1] != epoch:
                seconds.append(epoch)
    backlog: list[int] = []
    for seconds in due_by_user.values():
        low = 0
        for high, epoch in enumerate(seconds):
            while (epoch - seconds[low]) / speedup >= window_s:
                low += 1
            backlog.append(high - low + 1)
    backlog.sort()
    return backlog[max(0, math.ceil(0.99 * len(backlog)) - 1)]


def round_trip_ms(client: Any, stream: str, calls: int = 200) -> float:
    """Median PutRecords round trip of a one-record request (what one event of a user costs)."""
    times = []
    for i in range(calls):
        started = time.perf_counter()
        client.put_records(StreamName=stream, Records=[{"Data": b"{}", "PartitionKey": str(i)}])
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--naive-rows", type=int, default=5_000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument(
        "--dev-shards", type=int, default=1, help="Shards of the dev environment's stream."
    )
    parser.add_argument("--paced-rows", type=int, default=25_000)
    parser.add_argument("--paced-rate", type=float, default=5_000.0, help="Peak events/s.")
    parser.add_argument("--no-docs", action="store_true", help="Do not update docs/replay.md.")
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    port_queue, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(port_queue, stop), daemon=True)
    server.start()
    try:
        port = port_queue.get(timeout=60)
        settings = Settings.load(endpoint_url=f"http://127.0.0.1:{port}")
        kinesis = aws_clients.client("kinesis", settings)

        def fresh_stream(name: str, shards: int = args.shards) -> str:
            kinesis.create_stream(StreamName=name, ShardCount=shards)
            kinesis.get_waiter("stream_exists").wait(StreamName=name)
            return name

        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            data = work / "events.csv"
            t0 = time.perf_counter()
            origin = generate(data, args.rows)
            print(f"input: {args.rows:,} rows from {origin} in {time.perf_counter() - t0:.1f} s")

            naive_rate = naive(data, kinesis, fresh_stream("naive"), args.naive_rows)
            print(f"(a) naive put_record per row: {naive_rate:,.0f} events/s")

            def options(stream: str, **extra: Any) -> ReplayOptions:
                return ReplayOptions(
                    inputs=[str(data)],
                    stream=stream,
                    rejects=work / f"{stream}-rejects.jsonl",
                    dead_letter=work / f"{stream}-dead.jsonl",
                    **extra,
                )

            def client() -> Any:
                # As `ecomm replay` makes it (commands/replay.py).
                return aws_clients.client("kinesis", settings, max_attempts=1, validate=False)

            results: dict[str, Any] = {}
            for shards in dict.fromkeys((args.shards, args.dev_shards)):
                for mode, extra in (("plain", {}), ("aggregate", {"aggregate": True})):
                    stream = fresh_stream(f"replay-{mode}-{shards}", shards)
                    summary = replay(options(stream, **extra), kinesis_client=client)
                    assert summary.balanced and summary.dead_lettered == 0, summary
                    results[f"b-{mode}-{shards}"] = summary
                    print(
                        f"(b) ecomm replay [{mode}, {shards} shards]: {summary.sent:,} events "
                        f"in {summary.elapsed_s:.1f} s = {summary.events_per_s:,.0f} events/s "
                        f"({summary.requests:,} requests)"
                    )

            rows, parse_rate, parse_wall_rate = parse_and_encode(data)
            print(
                f"(c) parse + encode, null sink: {rows:,} rows at {parse_rate:,.0f} events/s "
                f"per CPU second ({parse_wall_rate:,.0f} events/s of wall time)"
            )

            speedup = paced_window(data, args.paced_rows, args.paced_rate)
            rtt_ms = round_trip_ms(client(), fresh_stream("round-trip"))
            backlog = same_user_backlog(data, args.paced_rows, speedup)
            plain_target_ms = 50 + (backlog - 1) * rtt_ms
            print(
                f"(d) plain-record physics: RTT {rtt_ms:.1f} ms, k99 {backlog} events of one "
                f"user due within 50 ms: target {plain_target_ms:.0f} ms"
            )
            for mode, extra in (("plain", {}), ("aggregate", {"aggregate": True})):
                paced = replay(
                    options(
                        fresh_stream(f"paced-{mode}"),
                        speedup=speedup,
                        limit=args.paced_rows,
                        **extra,
                    ),
                    kinesis_client=client,
                )
                assert paced.balanced and paced.dead_lettered == 0, paced
                results[f"d-{mode}"] = paced
                print(
                    f"(d) --speedup {speedup:,.0f} [{mode}]: {paced.sent:,} events at "
                    f"{paced.events_per_s:,.0f} events/s, p99 lateness {paced.lateness_p99_ms} ms"
                )
    finally:
        stop.set()
        server.join(timeout=30)

    targets = {"d-plain": plain_target_ms, "d-aggregate": 50.0}
    verdicts: list[tuple[str, bool]] = []
    ratios: list[str] = []
    for shards in dict.fromkeys((args.shards, args.dev_shards)):
        for mode in ("plain", "aggregate"):
            ratio = results[f"b-{mode}-{shards}"].events_per_s / naive_rate
            ratios.append(f"(b)/(a) {mode}, {shards} shard(s): {ratio:,.1f}x")
            verdicts.append((f"(b) >= 20 x (a), {mode}, {shards} shard(s)", ratio >= 20))
    verdicts.append(("(c) >= 150,000 events per CPU second", parse_rate >= 150_000))
    for mode in ("plain", "aggregate"):
        p99 = results[f"d-{mode}"].lateness_p99_ms
        verdicts.append(
            (
                f"(d) p99 lateness {p99} ms < {targets[f'd-{mode}']:.0f} ms, {mode}",
                p99 is not None and p99 < targets[f"d-{mode}"],
            )
        )
    if not args.no_docs:
        physics = (rtt_ms, backlog, plain_target_ms)
        write_docs(
            args, origin, naive_rate, results, rows, (parse_rate, parse_wall_rate), speedup, physics
        )
    for line in ratios:
        print(line)
    for name, ok in verdicts:
        print(f"  {'met' if ok else 'MISSED'}: {name}")
    return 0 if all(ok for _, ok in verdicts) else 1


def write_docs(
    args: argparse.Namespace,
    origin: str,
    naive_rate: float,
    results: dict[str, Any],
    rows: int,
    parse_rates: tuple[float, float],
    speedup: float,
    physics: tuple[float, int, float],
) -> None:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        START,
        f"Measured {when} on {platform.machine()} ({multiprocessing.cpu_count()} cores, shared "
        f"with other work), Python {platform.python_version()}, moto server in a child process, "
        f"streams of {args.shards} and {args.dev_shards} shard(s) (dev's), input "
        f"{args.rows:,} rows from {origin}:",
        "",
        "```",
        f".venv/bin/python bench/replay_bench.py --rows {args.rows} --shards {args.shards} "
        f"--dev-shards {args.dev_shards}",
        "```",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| (a) naive producer, one `put_record` per row (first {args.naive_rows:,} rows) "
        f"| {naive_rate:,.0f} events/s | |",
    ]
    for shards in dict.fromkeys((args.shards, args.dev_shards)):
        for mode in ("plain", "aggregate"):
            b = results[f"b-{mode}-{shards}"]
            flag = " --aggregate" if mode == "aggregate" else " --no-aggregate"
            lines.append(
                f"| (b) `ecomm replay{flag}`, {shards} shard(s) | {b.sent:,} events in "
                f"{b.elapsed_s:.1f} s = {b.events_per_s:,.0f} events/s ({b.requests:,} "
                f"requests); **{b.events_per_s / naive_rate:,.1f}x (a)** | >= 20x (a) |"
            )
    lines.append(
        f"| (c) parse + validate + encode into a null sink, one core | {rows:,} rows at "
        f"**{parse_rates[0]:,.0f} events per CPU second** ({parse_rates[1]:,.0f} events/s of "
        "wall time) | >= 150,000 |"
    )
    rtt_ms, backlog, plain_target_ms = physics
    for mode in ("plain", "aggregate"):
        d = results[f"d-{mode}"]
        flag = " --aggregate" if mode == "aggregate" else " --no-aggregate"
        target = (
            f"< 50 ms + ({backlog} - 1) x {rtt_ms:.1f} ms = {plain_target_ms:.0f} ms"
            if mode == "plain"
            else "< 50 ms"
        )
        lines.append(
            f"| (d) `--speedup {speedup:,.0f}{flag}`, {args.shards} shards: p99 of actual minus "
            f"scheduled send | **{d.lateness_p99_ms} ms** ({d.sent:,} events at "
            f"{d.events_per_s:,.0f} events/s) | {target} at up to 5,000 events/s |"
        )
    lines.append(END)
    block = "\n".join(lines)
    text = DOCS.read_text() if DOCS.exists() else ""
    if START in text and END in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _m: block, text, flags=re.S)
    else:
        text += "\n" + block + "\n"
    DOCS.write_text(text)
    print(f"figures written to {DOCS.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    sys.exit(main())

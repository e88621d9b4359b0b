"""A replay killed mid-stream (SIGKILL: no handler runs, no last checkpoint), then resumed,
through the whole batch path of the local stack, against a clean replay of the same file:

- every row arrives at least once, and the events sent twice fit in the requests that were in
  flight when it died (one per shard, at most --concurrency, of 500 records each;
  docs/replay.md, "What a crash costs");
- the curated lake after the Glue job is the clean run's (the job keeps a resent event once);
- the real-time rules: a resent event may count again in a window still open when it arrives
  (the detector does not deduplicate, as Flink does not); each alert's count grows by at most
  the resent events of its user, and no alert of the clean run is lost.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ecomm_cli import aws_clients, environments, kpl
from ecomm_cli.app import app
from ecomm_cli.detect import Detector, event_from_contract
from ecomm_cli.kpi import local_engine
from ecomm_cli.settings import Settings
from tests.support.streams import kill_between_checkpoints, records_after

pytestmark = pytest.mark.e2e
runner = CliRunner()

# Enough rows that the killed run (--rate 3000) is still sending when it is killed: the kill
# comes 1.5 s after its first checkpoint (2 s into sending), at most about 10,500 rows in, and
# 20,000 rows take at least 6.7 s. Every bound below holds per request in flight, not per row,
# so more rows would only make the clean, killed and resumed runs and both Glue runs longer.
ROWS = 20_000
CONCURRENCY = 4
MAX_RECORDS_PER_REQUEST = 500
BOTS = "flood=2,scraper=2,cart_stuffer=2,session_cycler=2"


def _cli(*args: str) -> Result:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"ecomm {' '.join(args)}:\n{result.output}"
    return result


def _stream_end(kinesis: Any, stream: str) -> dict[str, str]:
    """The newest sequence number of every shard that holds a record."""
    return records_after(kinesis, stream, {})[1]


def _events_after(
    kinesis: Any, stream: str, positions: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The events (de-aggregated) after `positions`, and the new positions."""
    records, ends = records_after(kinesis, stream, positions)
    return [json.loads(p) for r in records for p in kpl.user_records(r)], ends


def _key(event: dict[str, Any]) -> tuple[Any, ...]:
    """An event without the time it was sent: a resent event has the same key."""
    return tuple(event[k] for k in sorted(event) if k != "ingested_at")


def _fresh_lake(settings: Settings) -> None:
    _cli("local", "deliver")  # what the stream holds from earlier tests, out of the way
    for zone in ("raw", "curated", "quarantine"):
        shutil.rmtree(settings.lake_dir / zone, ignore_errors=True)


def _curated(settings: Settings) -> list[tuple[Any, ...]]:
    """The curated lake after `etl run --local`, every column but ingested_at, sorted."""
    _cli("local", "deliver")
    _cli("etl", "run", "--local")
    # What the KPIs read: each day's current files, as the job's partition record names them.
    con = local_engine.connect(local_engine.curated_events_dir(settings.lake_dir))
    return con.execute("SELECT * EXCLUDE (ingested_at) FROM events ORDER BY ALL").fetchall()


def _alerts(events: list[dict[str, Any]]) -> dict[tuple[str, int | None, int], int]:
    """(rule, user, window start) -> count, over the events in event-time order."""
    ordered = sorted(events, key=lambda e: e["event_time"])
    alerts = Detector().run(event_from_contract(e) for e in ordered)
    return {(a.rule, a.user_id, a.window_start_ms): a.count for a in alerts}


def test_a_killed_and_resumed_replay_costs_only_its_requests_in_flight(
    use_stack: Settings, tmp_path: Path
) -> None:
    outputs = environments.outputs(use_stack)
    stream = str(outputs["events_stream_name"])
    kinesis = aws_clients.client("kinesis", use_stack)
    events_file = tmp_path / "events.csv"
    _cli(
        *("sample", "generate", "--rows", str(ROWS), "--days", "1", "--seed", "5"),
        *("--bots", BOTS, "--out", str(events_file)),
    )

    def files(run: str) -> list[str]:
        return [
            *("--rejects", str(tmp_path / f"{run}-rejects.jsonl")),
            *("--dead-letter", str(tmp_path / f"{run}-dead.jsonl")),
            *("--checkpoint", str(tmp_path / f"{run}-checkpoint.json")),
        ]

    replay = ["replay", str(events_file), "--no-aggregate", "--no-progress", "--format", "json"]

    # The clean run.
    _fresh_lake(use_stack)
    start = _stream_end(kinesis, stream)
    clean = json.loads(_cli(*replay, *files("clean")).stdout)
    assert (clean["read"], clean["sent"]) == (ROWS, ROWS)
    clean_events, start = _events_after(kinesis, stream, start)
    clean_lake = _curated(use_stack)
    # The job keeps each distinct event once: exactly what the clean run sent, nothing lost.
    assert len(clean_lake) == len(set(map(_key, clean_events))) > 0

    # The killed run, then --resume.
    _fresh_lake(use_stack)
    start = _stream_end(kinesis, stream)
    command = [sys.executable, "-m", "ecomm_cli", *replay, *files("killed")]
    kill_between_checkpoints(
        [*command, "--rate", "3000", "--concurrency", str(CONCURRENCY)],
        tmp_path / "killed-checkpoint.json",
    )
    resumed = json.loads(_cli(*replay, *files("killed"), "--resume").stdout)
    assert (resumed["read"], resumed["sent"], resumed["dead_lettered"]) == (ROWS, ROWS, 0)
    crashed_events, _ = _events_after(kinesis, stream, start)

    wanted, arrived = Counter(map(_key, clean_events)), Counter(map(_key, crashed_events))
    assert not wanted - arrived, "rows lost"
    resent = arrived - wanted
    assert 0 < resumed["resumed_skipped"] < ROWS, "killed too early or too late"
    # One request in flight per shard (per-user order), and at most --concurrency of them.
    shards = len(kinesis.list_shards(StreamName=stream)["Shards"])
    in_flight = min(shards, CONCURRENCY) * MAX_RECORDS_PER_REQUEST
    assert resent.total() <= in_flight, (resent.total(), in_flight)

    assert _curated(use_stack) == clean_lake

    clean_alerts, crashed_alerts = _alerts(clean_events), _alerts(crashed_events)
    user_of = {_key(e): e["user_id"] for e in crashed_events}
    resent_by_user: Counter[int] = Counter()
    for key, times in resent.items():
        resent_by_user[user_of[key]] += times
    assert set(clean_alerts) <= set(crashed_alerts)
    for (rule, user, window), count in crashed_alerts.items():
        extra = count - clean_alerts.get((rule, user, window), 0)
        allowed = resent.total() if user is None else resent_by_user[user]
        assert extra <= allowed, (rule, user, window, count)

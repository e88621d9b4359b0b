"""Issue 13's batch on real Spark: input chosen by raw object key, days switched whole.

Land day 1, curate; land day 2 plus late rows for day 1 (one object under an hour prefix the
first run already read), curate again: only the touched days change, byte for byte the others
stay, and the KPIs equal those of one run over everything. A run killed half way (SIGKILL of
the whole process tree, or a death between two day switches) leaves readers on complete days,
and the next run converges to the lake of an uninterrupted run.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ecomm_cli.contract import encode_event
from ecomm_cli.etl.local_runner import LakePaths, load_glue_job, run_local_job
from ecomm_cli.kpi import catalog
from ecomm_cli.kpi.engines import Engine
from ecomm_cli.kpi.local_engine import PARTITIONS_RECORD, connect
from ecomm_cli.kpi.parameters import KpiParameters
from ecomm_cli.kpi.runner import run_kpis
from ecomm_cli.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.spark

DAY_0, DAY_1, DAY_2 = "2019-09-30", "2019-10-01", "2019-10-02"
BRANDS = ["samsung", "apple", "xiaomi", None, "lenovo"]
CODES = ["electronics.smartphone", "appliances.kitchen.washer", None, "computers.notebook"]


def day_events(day: str, count: int, seed: int) -> list[dict[str, Any]]:
    """REES46-shaped events of one day: 60 users sharing products, a few sessions each, views
    mostly, some carts and purchases, and users 7 and 14 without any session (as in the full
    public exports)."""
    rng = random.Random(seed)
    events = []
    for _ in range(count):
        user = rng.randrange(60)
        second = rng.randrange(86_400)
        session = None if user in (7, 14) else f"{day}-{user}-{rng.randrange(3)}"
        kind = rng.choices(["view", "cart", "remove_from_cart", "purchase"], [80, 10, 3, 7])[0]
        product = rng.randrange(40)
        events.append(
            {
                "event_time": f"{day}T{second // 3600:02d}:{second // 60 % 60:02d}:"
                f"{second % 60:02d}Z",
                "event_type": kind,
                "product_id": 1_000_000 + product,
                "category_id": 2_053_013_555_631_882_655 + product % 5,
                "category_code": CODES[product % len(CODES)],
                "brand": BRANDS[product % len(BRANDS)],
                "price": round(1 + product * 7.31, 2),
                "user_id": 512_000_000 + user,
                "user_session": session,
            }
        )
    return events


def land(lake: Path, key: str, events: list[dict[str, Any]], ingested_at: str) -> None:
    """One Firehose object: GZIP JSON lines, encoded as `ecomm replay` encodes them."""
    path = LakePaths.of(lake).raw / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(b"".join(encode_event(e, ingested_at) + b"\n" for e in events)))


FIRST = "ingest_date=2019-10-01/hour=10/events-1.json.gz"
SECOND = "ingest_date=2019-10-02/hour=00/events-2.json.gz"
# Firehose can land an object under an hour the first run already read.
LATE = "ingest_date=2019-10-01/hour=10/events-late.json.gz"


def land_first(lake: Path) -> list[dict[str, Any]]:
    batch = day_events(DAY_0, 150, 1) + day_events(DAY_1, 300, 2)
    land(lake, FIRST, batch, "2019-10-01T10:00:01.000Z")
    return batch


def land_second(lake: Path, first: list[dict[str, Any]]) -> None:
    # Day 2, plus a retry of 20 day-1 events already curated (a later ingested_at).
    land(lake, SECOND, day_events(DAY_2, 300, 3) + first[150:170], "2019-10-02T00:00:09.000Z")
    land(lake, LATE, day_events(DAY_1, 40, 4), "2019-10-02T00:05:00.000Z")


def curated(lake: Path) -> Path:
    return LakePaths.of(lake).curated


def record(lake: Path) -> dict[str, str]:
    """Each day's current folder, as the partition record names it."""
    data = json.loads((curated(lake) / PARTITIONS_RECORD).read_text(encoding="utf-8"))
    return {day: p["location"] for day, p in data["partitions"].items()}


def files_of(lake: Path, location: str) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of every file of a day folder (Spark's .crc files included)."""
    folder = curated(lake) / location
    return {
        p.relative_to(curated(lake)).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def parquet_digests(lake: Path, location: str) -> dict[str, str]:
    """sha256 of each Parquet file of a day folder, by file name."""
    folder = curated(lake) / location
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.parquet")}


def rows_in(parquet: Path) -> int:
    row = (
        duckdb.connect().execute("SELECT count(*) FROM read_parquet(?)", [str(parquet)]).fetchone()
    )
    assert row is not None
    return int(row[0])


def days_seen(lake: Path) -> dict[str, str]:
    """What a reader sees now: a digest of each day's rows, through the KPI engine's view."""
    con = connect(curated(lake))
    try:
        rows = con.execute("SELECT * FROM events ORDER BY ALL").fetchall()
    finally:
        con.close()
    by_day: dict[str, Any] = {}
    for row in rows:
        by_day.setdefault(str(row[-1]), hashlib.sha256()).update(repr(row).encode())
    return {day: h.hexdigest() for day, h in sorted(by_day.items())}


def kpis(lake: Path) -> list[tuple[str, list[dict[str, Any]]]]:
    """Every KPI with its default parameters over the lake (`lake` is `<state>/lake`)."""
    settings = Settings.load(state_dir=lake.parent, env="local")
    results = run_kpis(catalog.names(), KpiParameters.from_options(), Engine.local, settings)
    return [(r.name, r.rows) for r in results]


def ledger(lake: Path) -> list[str]:
    data = gzip.decompress((curated(lake) / "_state" / "ledger.json.gz").read_bytes())
    return list(json.loads(data)["processed"])


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, spark: Any) -> Iterator[Path]:
    """The uninterrupted story: land day 1, curate, land day 2 and the late rows, curate."""
    lake = tmp_path_factory.mktemp("reference") / "lake"
    first = land_first(lake)
    run_local_job(lake, spark=spark)
    land_second(lake, first)
    run_local_job(lake, spark=spark)
    yield lake


def test_second_run_rewrites_only_the_touched_days_and_equals_one_full_run(
    spark: Any, tmp_path: Path, reference: Path
) -> None:
    lake = tmp_path / "incremental" / "lake"
    first = land_first(lake)
    counts = run_local_job(lake, spark=spark)
    assert (counts.raw_objects, counts.event_dates) == (1, [DAY_0, DAY_1])
    before = record(lake)
    untouched = files_of(lake, before[DAY_0])
    assert any(key.endswith(".parquet") for key in untouched)
    held_day_1 = parquet_digests(lake, before[DAY_1])

    land_second(lake, first)
    counts = run_local_job(lake, spark=spark)
    # Both new objects, the late one under an already-read hour too; only their days.
    assert (counts.raw_objects, counts.event_dates) == (2, [DAY_1, DAY_2])
    assert counts.read == 300 + 20 + 40
    after = record(lake)
    assert after[DAY_0] == before[DAY_0]
    assert files_of(lake, after[DAY_0]) == untouched  # same bytes, never rewritten
    assert after[DAY_1] != before[DAY_1] and DAY_2 in after
    # Day 1 was appended to: the file it held is carried over byte for byte, and its 40 new
    # events (the 20 retried ones were held already) are one more file.
    now_day_1 = parquet_digests(lake, after[DAY_1])
    added = sorted(set(now_day_1) - set(held_day_1))
    assert {name: now_day_1[name] for name in held_day_1} == held_day_1
    assert len(added) == 1 and rows_in(curated(lake) / after[DAY_1] / added[0]) == 40
    assert counts.new_events == 300 + 40
    assert counts.curated_rows == 300 + (300 + 40)  # every row days 1 and 2 now hold

    # Nothing new: nothing read, nothing switched, nothing rewritten.
    current = {day: files_of(lake, location) for day, location in after.items()}
    counts = run_local_job(lake, spark=spark)
    assert (counts.raw_objects, counts.read, counts.event_dates) == (0, 0, [])
    assert record(lake) == after
    assert {day: files_of(lake, location) for day, location in after.items()} == current

    # One run over every object on an empty lake: the same rows per day, the same KPIs.
    single = tmp_path / "single" / "lake"
    shutil.copytree(LakePaths.of(lake).raw, LakePaths.of(single).raw)
    counts = run_local_job(single, spark=spark)
    assert (counts.raw_objects, counts.event_dates) == (3, [DAY_0, DAY_1, DAY_2])
    assert days_seen(lake) == days_seen(single) == days_seen(reference)
    assert kpis(lake) == kpis(single)
    # The sessionless users are visitors (counted), not a session (never one "NULL" session).
    visitors = dict(kpis(lake))["unique-visitors"]
    assert next(r for r in visitors if r["event_date"] == "all")["unique_visitors"] == 60


def test_a_run_killed_half_way_leaves_complete_days_and_the_rerun_converges(
    spark: Any, tmp_path: Path, reference: Path
) -> None:
    """SIGKILL of the job's whole process tree (Python and its JVM) once it has started
    writing the new day folders; a reader polls the lake the whole time."""
    lake = tmp_path / "killed" / "lake"
    first = land_first(lake)
    run_local_job(lake, spark=spark)
    seen_before = days_seen(lake)
    land_second(lake, first)
    complete = {day: {seen_before.get(day), d} for day, d in days_seen(reference).items()}

    runs = curated(lake) / "runs"
    runs_before = set(os.listdir(runs))
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; "
         "from ecomm_cli.etl.local_runner import run_local_job; run_local_job(Path(sys.argv[1]))",
         str(lake)],
        cwd=PROJECT_ROOT,
        start_new_session=True,  # its own process group: the JVM dies with it
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    readings = 0
    try:
        while child.poll() is None:
            for day, digest in days_seen(lake).items():  # a reader during the run
                assert digest in complete[day], f"a reader saw a partial {day}"
            readings += 1
            if set(os.listdir(runs)) - runs_before:  # the run is writing its day folders
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == -signal.SIGKILL, "the job ended before it could be killed"
    assert readings > 0
    assert days_seen(lake) == seen_before  # killed before any switch: the previous days
    assert sorted(ledger(lake)) == [FIRST]  # the ledger did not move either

    counts = run_local_job(lake, spark=spark)
    assert (counts.raw_objects, counts.event_dates) == (2, [DAY_1, DAY_2])
    assert days_seen(lake) == days_seen(reference)
    assert sorted(ledger(lake)) == sorted(ledger(reference))
    assert kpis(lake) == kpis(reference)


def test_a_run_that_dies_between_two_day_switches_converges(
    spark: Any, tmp_path: Path, reference: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run switches day 1, then dies before day 2 and before its ledger: a reader sees
    the new complete day 1 and no day 2; the next run reads the same objects again."""
    lake = tmp_path / "died" / "lake"
    first = land_first(lake)
    run_local_job(lake, spark=spark)
    seen_before = days_seen(lake)
    land_second(lake, first)

    job = load_glue_job()
    switch = job.LocalPartitions.switch

    def dies_after_the_first_day(self: Any, locations: dict[str, str]) -> None:
        day = sorted(locations)[0]
        switch(self, {day: locations[day]})
        raise RuntimeError("the driver died")

    monkeypatch.setattr(job.LocalPartitions, "switch", dies_after_the_first_day)
    with pytest.raises(RuntimeError, match="the driver died"):
        run_local_job(lake, spark=spark)
    seen = days_seen(lake)
    assert seen[DAY_0] == seen_before[DAY_0]
    assert seen[DAY_1] == days_seen(reference)[DAY_1]  # complete, new
    assert DAY_2 not in seen
    assert sorted(ledger(lake)) == [FIRST]

    monkeypatch.setattr(job.LocalPartitions, "switch", switch)
    counts = run_local_job(lake, spark=spark)
    assert counts.raw_objects == 2 and counts.new_events < counts.read  # day 1's were in
    assert days_seen(lake) == days_seen(reference)
    assert sorted(ledger(lake)) == sorted(ledger(reference))
    assert kpis(lake) == kpis(reference)


def test_a_day_that_reaches_max_day_files_is_rewritten_whole(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Appending stops at MAX_DAY_FILES: the next run that touches the day compacts it into
    one sorted file, with the same rows as one run over everything."""
    job = load_glue_job()
    monkeypatch.setattr(job, "MAX_DAY_FILES", 2)
    lake = tmp_path / "compacted" / "lake"
    land_first(lake)
    run_local_job(lake, spark=spark)
    late = [
        ("ingest_date=2019-10-02/hour=01/late-a.json.gz", day_events(DAY_1, 30, 5)),
        ("ingest_date=2019-10-02/hour=02/late-b.json.gz", day_events(DAY_1, 30, 6)),
    ]
    files = []
    for key, events in late:
        land(lake, key, events, "2019-10-02T02:00:00.000Z")
        counts = run_local_job(lake, spark=spark)
        assert (counts.raw_objects, counts.event_dates, counts.new_events) == (1, [DAY_1], 30)
        files.append(len(parquet_digests(lake, record(lake)[DAY_1])))
    assert files == [2, 1]  # appended once, then rewritten whole
    single = tmp_path / "single" / "lake"
    shutil.copytree(LakePaths.of(lake).raw, LakePaths.of(single).raw)
    run_local_job(single, spark=spark)
    assert days_seen(lake) == days_seen(single)

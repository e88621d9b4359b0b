"""What the Glue job retires in the curated zone, and when (pure logic over a local folder).

A day folder a newer run replaced is retired at once and, locally, deleted an hour later; a
folder of a run that died before switching is retired once older than any run can last; what
is left of an old run folder (Spark's `_SUCCESS`, a killed run's `_temporary`) goes too, but
never a folder a reader is sent to.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ecomm_cli.etl.local_runner import load_glue_job

pytestmark = pytest.mark.unit

NOW = datetime(2019, 10, 10, 12, 0, tzinfo=UTC)
OLD = "20191005T000000Z-0000000a"  # five days old: past ORPHAN_AGE
DEAD = "20191006T000000Z-0000000b"  # killed while writing: only its _temporary files
LIVE = "20191010T110000Z-0000000c"  # the run readers are sent to
RECENT = "20191010T113000Z-0000000d"  # died half an hour ago: it may be a run still going


@pytest.fixture(scope="module")
def job() -> Any:
    return load_glue_job()


def lake_with(root: Path, job: Any, keys: list[str]) -> Any:
    for key in keys:
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(b"x")
    return SimpleNamespace(curated=job.LocalZone(str(root)))


def retire(job: Any, lake: Any, ledger: Any, current: dict[str, str], now: datetime) -> None:
    job._retire(lake, ledger, current, lake.curated.list(), now=now)


def test_replaced_orphaned_and_leftover_folders_go_and_live_ones_stay(
    job: Any, tmp_path: Path
) -> None:
    day = "2019-10-01"
    keys = [
        f"runs/{OLD}/event_date={day}/part-0.parquet",  # replaced by LIVE
        f"runs/{OLD}/_SUCCESS",
        f"runs/{DEAD}/_temporary/0/_temporary/attempt_1/event_date={day}/part-0.parquet",
        f"runs/{LIVE}/event_date={day}/part-0.parquet",
        f"runs/{LIVE}/event_date={day}/part-1.parquet",
        f"runs/{LIVE}/_SUCCESS",
        f"runs/{RECENT}/event_date=2019-10-02/part-0.parquet",  # not switched yet
        f"runs/{RECENT}/_temporary/0/part-0.parquet",
    ]
    lake = lake_with(tmp_path, job, keys)
    ledger = job.Ledger()
    current = {day: f"runs/{LIVE}/event_date={day}"}

    retire(job, lake, ledger, current, NOW)
    # The replaced day folder and the dead run's leftovers are retired, nothing deleted yet:
    # a query planned a moment ago may still read the replaced folder.
    assert set(ledger.retired) == {f"runs/{DEAD}", f"runs/{OLD}/event_date={day}"}
    assert all((tmp_path / key).exists() for key in keys)

    retire(job, lake, ledger, current, NOW + job.LOCAL_RETIRED_TTL)
    # An hour on: those are deleted; OLD's day folder gone, its _SUCCESS is a leftover now.
    assert not (tmp_path / f"runs/{OLD}/event_date={day}").exists()
    assert not (tmp_path / f"runs/{DEAD}").exists()
    assert sorted(ledger.retired) == [f"runs/{OLD}"]

    retire(job, lake, ledger, current, NOW + 2 * job.LOCAL_RETIRED_TTL)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [LIVE, RECENT]
    assert ledger.retired == {}
    # The live run and the recent one are whole.
    assert all((tmp_path / key).exists() for key in keys if LIVE in key or RECENT in key)

    # Past ORPHAN_AGE a run that never switched is dead: its day folder is retired, then its
    # leftovers once the day folder is gone.
    later = NOW + job.ORPHAN_AGE
    retire(job, lake, ledger, current, later)
    assert sorted(ledger.retired) == [f"runs/{RECENT}/event_date=2019-10-02"]
    retire(job, lake, ledger, current, later + job.LOCAL_RETIRED_TTL)
    assert sorted(ledger.retired) == [f"runs/{RECENT}"]
    retire(job, lake, ledger, current, later + 2 * job.LOCAL_RETIRED_TTL)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [LIVE]
    assert ledger.retired == {}


def test_a_folder_a_reader_is_sent_to_is_never_retired(job: Any, tmp_path: Path) -> None:
    day = "2019-10-01"
    keys = [f"runs/{OLD}/event_date={day}/part-0.parquet", f"runs/{OLD}/_SUCCESS"]
    lake = lake_with(tmp_path, job, keys)
    ledger = job.Ledger()
    current = {day: f"runs/{OLD}/event_date={day}"}  # old, but still the day's location
    for hours in (0, 1, 2, 100):
        retire(job, lake, ledger, current, NOW + timedelta(hours=hours))
    assert ledger.retired == {}
    assert all((tmp_path / key).exists() for key in keys)

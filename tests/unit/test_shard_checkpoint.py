from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecomm_cli.shard_checkpoint import ShardCheckpoint

pytestmark = pytest.mark.unit


def test_positions_survive_a_restart_and_merge(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints" / "consumer.json"
    first = ShardCheckpoint(path)
    assert first.positions == {}
    first.save("shardId-000000000000", "41")
    first.update({"shardId-000000000001": "7"})
    again = ShardCheckpoint(path)
    assert again.positions == {"shardId-000000000000": "41", "shardId-000000000001": "7"}
    assert not list(path.parent.glob("*.tmp"))


def test_an_unchanged_position_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "consumer.json"
    checkpoint = ShardCheckpoint(path)
    checkpoint.save("s", "1")
    path.write_text(json.dumps({"s": "1", "marker": "kept"}))
    checkpoint.update({"s": "1"})
    assert json.loads(path.read_text())["marker"] == "kept"


def test_a_corrupt_file_starts_from_nothing(tmp_path: Path) -> None:
    path = tmp_path / "consumer.json"
    path.write_text("{not json")
    assert ShardCheckpoint(path).positions == {}

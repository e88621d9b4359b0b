"""The ledger: every row accounted once; its checkpoint resumes exactly where it stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomm_cli.replay.checkpoint import CheckpointError, Ledger

pytestmark = pytest.mark.unit


def test_watermark_advances_over_out_of_order_acknowledgements() -> None:
    ledger = Ledger()
    ledger.sent([2, 3], warned=0)
    assert ledger.watermark == -1 and ledger.done_above == {2, 3}
    ledger.rejected(0)
    ledger.sent([1], warned=1)
    assert ledger.watermark == 3 and ledger.done_above == set()
    ledger.dead_lettered([5], warned=0)
    assert ledger.is_done(3) and not ledger.is_done(4) and ledger.is_done(5)
    assert ledger.counts["read"] == 5
    assert ledger.counts["read"] == (
        ledger.counts["sent"] + ledger.counts["rejected"] + ledger.counts["dead_lettered"]
    )
    assert ledger.counts["warnings"] == 1


def test_checkpoint_round_trip_and_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "cp" / "checkpoint.json"
    ledger = Ledger(fingerprint={"inputs": [["a.csv", 10]]})
    ledger.sent([0, 1, 4], warned=0)
    ledger.filtered(2)
    ledger.save(path)
    resumed = Ledger.resume(path, {"inputs": [["a.csv", 10]]})
    assert resumed.watermark == 2 and resumed.done_above == {4}
    assert resumed.counts["sent"] == 3 and resumed.counts["filtered"] == 1
    with pytest.raises(CheckpointError, match="other inputs"):
        Ledger.resume(path, {"inputs": [["a.csv", 11]]})
    with pytest.raises(CheckpointError, match="no checkpoint"):
        Ledger.resume(tmp_path / "missing.json", {})
    path.write_text("{not json")
    with pytest.raises(CheckpointError, match="unreadable"):
        Ledger.resume(path, {})

"""On generated traffic with every bot kind injected, each rule finds its bots and no one else."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomm_cli.detect import Detector
from ecomm_cli.detect.evaluation import read_labels, score
from ecomm_cli.detect.source import ReadStats, read_events
from ecomm_cli.sample import BotKind, SampleSpec, generate_sample

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("seed", [1, 2])
def test_every_kind_reaches_precision_and_recall_of_0_98(tmp_path: Path, seed: int) -> None:
    events, labels = tmp_path / "events.csv", tmp_path / "labels.csv"
    bots = dict.fromkeys(BotKind, 6)
    with events.open("w") as out, labels.open("w") as truth:
        generate_sample(SampleSpec(rows=100_000, days=1, seed=seed, bots=bots), out, truth)
    stats = ReadStats()
    detector = Detector()
    alerts = list(detector.run(read_events(events, stats)))
    assert stats.rows == 100_000 and stats.rejected == 0
    assert detector.late.events == 0  # the generator writes in event-time order

    scores = score(alerts, read_labels(labels))
    assert [s.kind for s in scores] == [kind.value for kind in BotKind]
    for item in scores:
        assert item.labelled == 6
        assert item.precision is not None and item.precision >= 0.98, item
        assert item.recall is not None and item.recall >= 0.98, item
    # The generated customers (with their checkout and cart-clearing bursts) are never flagged.
    bots_ids = set(read_labels(labels))
    assert {a.user_id for a in alerts if a.user_id is not None} <= bots_ids

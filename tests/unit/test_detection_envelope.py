"""The detection envelope (docs/realtime.md), measured on the evaluation's own traffic model.

The model's bots run from well under to several times each short rule's threshold rate, with
jittered timing, for minutes to an hour; none of it chose a threshold (those come from the real
samples). The seed here differs from the one the docs' figures use, and each cell holds fewer
bots, so the test is a second draw, not a replay of the published numbers.
"""

from __future__ import annotations

import math

import pytest

from ecomm_cli.detect import envelope
from ecomm_cli.detect.envelope import Cell, flagged_rate_upper_bound, in_envelope
from ecomm_cli.detect.rules import MANIFEST, Thresholds
from ecomm_cli.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def report() -> envelope.EnvelopeReport:
    return envelope.evaluate(seed=7, bots_per_cell=10, hard_negatives_per_kind=40)


def test_recall_is_at_least_095_in_every_cell_of_the_envelope(report) -> None:
    inside = [r for r in report.cells if r.inside]
    assert inside
    missed = [(r.cell, f"{r.caught}/{r.bots}") for r in inside if r.recall < 0.95]
    assert not missed


def test_the_envelope_holds_bots_under_every_short_threshold_for_30_minutes(report) -> None:
    """Per kind, bots that no short-window rule ever flagged, running 30 minutes or more, sit
    inside the envelope, and are caught."""
    for kind in MANIFEST.families():
        slow = [
            r
            for r in report.cells
            if r.cell.kind == kind and r.inside and r.cell.minutes >= 30 and r.short_flagged == 0
        ]
        assert slow, f"no under-threshold {kind} of 30 minutes or more is in the envelope"
        assert all(r.recall >= 0.95 for r in slow)


def test_the_evaluation_can_fail(report) -> None:
    """Outside the envelope the same rules miss: slow, short bots go unseen."""
    for kind in MANIFEST.families():
        (quiet,) = [r for r in report.cells if r.cell == Cell(kind, 0.1, 5)]
        assert not quiet.inside
        assert quiet.recall < 0.5


def test_no_hard_negative_is_flagged(report) -> None:
    assert set(report.hard_negatives) == {"bulk_buyer", "fast_browser", "cart_clearer",
                                          "flaky_sessions"}  # fmt: skip
    assert report.hard_negatives_flagged == {kind: [] for kind in report.hard_negatives}


def test_the_envelope_follows_the_thresholds() -> None:
    cell = Cell("scraper", 0.25, 30)  # 450 distinct products an hour, 225 in the run
    assert in_envelope(cell, Thresholds())
    # 225 < 1.25 x 200: raising the sustained threshold moves the cell out.
    assert not in_envelope(cell, Thresholds(sustained_scraper_distinct_products=200))
    # A 5-minute run at 1.5 x a 5-minute window's rate: at worst half of it in one window.
    assert not in_envelope(Cell("cart_stuffer", 1.5, 5), Thresholds())
    assert in_envelope(Cell("cart_stuffer", 3.0, 5), Thresholds())


def test_upper_bound_of_a_flagged_rate() -> None:
    assert flagged_rate_upper_bound(0, 4504) == pytest.approx(1 - 0.05 ** (1 / 4504), rel=1e-6)
    assert flagged_rate_upper_bound(1, 100) == pytest.approx(0.0466, abs=1e-4)
    assert flagged_rate_upper_bound(5, 5) == 1.0
    assert math.isclose(flagged_rate_upper_bound(0, 1), 0.95)
    with pytest.raises(ValueError):
        flagged_rate_upper_bound(0, 0)


def test_the_docs_figures_were_measured_with_the_shipped_thresholds() -> None:
    docs = (PROJECT_ROOT / "docs" / "realtime.md").read_text()
    block = docs.split(envelope.BLOCK_START, 1)[1].split(envelope.BLOCK_END, 1)[0]
    assert envelope.thresholds_fingerprint(Thresholds()) in block, (
        "stale: run python -m ecomm_cli.detect.envelope --write-docs"
    )

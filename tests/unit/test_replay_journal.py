"""The acknowledgement journal: what a killed replay (no last checkpoint) still knows on resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomm_cli.replay.checkpoint import CheckpointError, Ledger, journal_path
from ecomm_cli.replay.kept import KeptRows

pytestmark = pytest.mark.unit

FINGERPRINT = {"inputs": [["a.csv", 10]]}


def killed_after(path: Path, *, before: list[int], after: list[list[int]]) -> Ledger:
    """A ledger that checkpointed `before`, then acknowledged `after` (one answer each) and
    died: no second save, the journal file left as the process wrote it."""
    ledger = Ledger(fingerprint=FINGERPRINT)
    ledger.open_journal(path, keep=False)
    ledger.sent(before, warned=0)
    ledger.save(path)
    for answer in after:
        ledger.sent(answer, warned=1)
    assert ledger.journal is not None
    ledger.journal.close()  # what the kernel keeps of a killed process: every written line
    return ledger


def test_acknowledgements_after_the_checkpoint_are_skipped_on_resume(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    killed_after(path, before=[0, 1], after=[[2, 3], [5]])
    resumed = Ledger.resume(path, FINGERPRINT)
    assert [resumed.is_done(o) for o in range(7)] == [True] * 4 + [False, True, False]
    assert (resumed.counts["sent"], resumed.counts["read"], resumed.counts["warnings"]) == (5, 5, 2)


def test_the_checkpoint_empties_the_journal_it_now_holds(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    ledger = Ledger(fingerprint=FINGERPRINT)
    ledger.open_journal(path, keep=False)
    ledger.sent([0, 1], warned=0)
    assert journal_path(path).read_text() == "sent 0 0 1\n"
    ledger.save(path)
    assert journal_path(path).read_bytes() == b""
    ledger.sent([2], warned=0)  # appended at the start again, not after a hole
    assert journal_path(path).read_text() == "sent 0 2\n"
    ledger.close_journal()


def test_lines_the_checkpoint_already_holds_are_not_counted_twice(tmp_path: Path) -> None:
    """A kill between the checkpoint's rename and the journal's truncation."""
    path = tmp_path / "checkpoint.json"
    killed_after(path, before=[0], after=[[1, 2]])
    journal = journal_path(path).read_bytes()
    Ledger.resume(path, FINGERPRINT).save(path)  # the checkpoint now holds 1 and 2 ...
    journal_path(path).write_bytes(journal)  # ... and the journal still has their line
    resumed = Ledger.resume(path, FINGERPRINT)
    assert (resumed.counts["sent"], resumed.watermark) == (3, 2)


def test_a_line_cut_short_was_never_acknowledged_here(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    killed_after(path, before=[0], after=[[1]])
    with journal_path(path).open("ab") as journal:
        journal.write(b"sent 0 2 3")  # no newline: the write did not finish
    resumed = Ledger.resume(path, FINGERPRINT)
    assert resumed.is_done(1) and not resumed.is_done(2) and resumed.counts["sent"] == 2
    journal_path(path).write_text("garbage\n")
    with pytest.raises(CheckpointError, match="journal"):
        Ledger.resume(path, FINGERPRINT)


def test_a_resumed_run_cuts_the_rejects_file_back_to_the_checkpoint(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.jsonl"
    kept = KeptRows(rejects)
    kept.write({"line": 1})
    at_checkpoint = kept.length()
    kept.write({"line": 7})  # after the checkpoint: read and rejected again on resume
    kept.close()
    KeptRows(rejects, append=True, cut_to=at_checkpoint).close()
    assert rejects.read_text() == '{"line": 1}\n'

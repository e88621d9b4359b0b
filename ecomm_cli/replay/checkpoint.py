"""Accounting of every row (the ledger) and its checkpoint file for `--resume`.

Every row of the input gets an ordinal (its position in the merged, deterministic input
order). A row is done once it is acknowledged by Kinesis, rejected, dead-lettered or filtered
out. The checkpoint keeps the highest ordinal below which everything is done (the watermark)
plus the few done ordinals above it (events acknowledged out of order by concurrent senders),
and the counts of done rows, so a resumed run skips exactly what was acknowledged and its
summary still balances over the whole replay.

A killed process (SIGKILL, the OOM killer, a closed laptop lid's power cut aside) writes no
last checkpoint, so every acknowledgement is also appended to a journal beside it
(`<checkpoint>.acks`) the moment it arrives: one line per PutRecords answer, written with one
unbuffered `write`, which the kernel keeps when the process dies. `resume` applies the lines
the checkpoint does not hold yet; each checkpoint is written under the ledger's lock and then
empties the journal. What a kill can still resend is what was in flight: the requests sent
whose answers had not been journaled (at most one per shard). Rejected and filtered rows are
not journaled: a resumed run reads them again, and the rejects file is cut back to the length
the checkpoint recorded, so they are kept once.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

COUNT_FIELDS = ("read", "valid", "sent", "rejected", "dead_lettered", "warnings", "filtered")


class CheckpointError(Exception):
    """The checkpoint cannot be used (unreadable, or written for other inputs)."""


@dataclass
class Ledger:
    """Thread-safe counts and done-set of one replay (restored from a checkpoint on resume)."""

    fingerprint: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_FIELDS, 0))
    watermark: int = -1
    done_above: set[int] = field(default_factory=set)
    retries: int = 0
    throttles: int = 0
    requests: int = 0
    # Set by `open_journal`: where acknowledgements are appended as they arrive.
    journal: IO[bytes] | None = field(default=None, repr=False)
    # The rejects file's length when the checkpoint was written (None: not recorded).
    rejects_bytes: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # The reader thread's questions --------------------------------------------------------
    def is_done(self, ordinal: int) -> bool:
        """True when a resumed run must skip this row (already accounted for)."""
        return ordinal <= self.watermark or ordinal in self.done_above

    # Accounting ----------------------------------------------------------------------------
    def _done(self, ordinal: int) -> None:
        if ordinal == self.watermark + 1:
            self.watermark = ordinal
            done = self.done_above
            while self.watermark + 1 in done:
                self.watermark += 1
                done.discard(self.watermark)
        else:
            self.done_above.add(ordinal)

    def rejected(self, ordinal: int) -> None:
        with self._lock:
            self.counts["read"] += 1
            self.counts["rejected"] += 1
            self._done(ordinal)

    def filtered(self, ordinal: int) -> None:
        """Out of the --from/--until window: not read in the summary's sense."""
        with self._lock:
            self.counts["filtered"] += 1
            self._done(ordinal)

    def sent(self, ordinals: list[int], warned: int) -> None:
        """Events Kinesis acknowledged: done, counted and journaled."""
        self._delivered(_SENT, ordinals, warned)

    def dead_lettered(self, ordinals: list[int], warned: int) -> None:
        """Events kept in the dead-letter file: done, counted and journaled."""
        self._delivered(_DEAD_LETTERED, ordinals, warned)

    def _delivered(self, outcome: str, ordinals: list[int], warned: int) -> None:
        with self._lock:
            self._count(outcome, ordinals, warned)
            if self.journal is not None:
                line = f"{outcome} {warned} {' '.join(map(str, ordinals))}\n"
                self.journal.write(line.encode())

    def _count(self, outcome: str, ordinals: list[int], warned: int) -> None:
        counts = self.counts
        n = len(ordinals)
        counts["read"] += n
        counts["valid"] += n
        counts[outcome] += n
        counts["warnings"] += warned
        for ordinal in ordinals:
            self._done(ordinal)

    def counted_dry(self, ordinal: int, warned: bool) -> None:
        """A valid row in a dry run: counted as read and valid, never sent."""
        with self._lock:
            self.counts["read"] += 1
            self.counts["valid"] += 1
            self.counts["warnings"] += int(warned)
            self._done(ordinal)

    def add_stats(self, *, retries: int = 0, throttles: int = 0, requests: int = 0) -> None:
        with self._lock:
            self.retries += retries
            self.throttles += throttles
            self.requests += requests

    # Persistence ---------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> dict[str, Any]:
        return {
            "version": 2,
            "fingerprint": self.fingerprint,
            "watermark": self.watermark,
            "done_above": sorted(self.done_above),
            "counts": dict(self.counts),
            "rejects_bytes": self.rejects_bytes,
        }

    def open_journal(self, checkpoint: Path, *, keep: bool) -> None:
        """Journal acknowledgements beside `checkpoint` from now on; `keep` (a resumed run)
        appends to the journal `resume` read, otherwise it starts empty."""
        path = journal_path(checkpoint)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not keep:
            path.unlink(missing_ok=True)
        # Unbuffered: each line reaches the kernel in one write, so a killed process keeps it.
        # Appending (O_APPEND) also puts the next line at the start once `save` empties it.
        self.journal = open(path, "ab", buffering=0)  # noqa: SIM115

    def close_journal(self) -> None:
        with self._lock:
            if self.journal is not None:
                self.journal.close()
                self.journal = None

    def save(self, path: Path, rejects_bytes: int | None = None) -> None:
        """Write the checkpoint atomically (a crash mid-write leaves the previous one), then
        empty the journal it now holds; `rejects_bytes` is the rejects file's length."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        with self._lock:
            # Under the lock, so no acknowledgement lands between the two: a kill between
            # them leaves journal lines the checkpoint already holds, which `resume` skips.
            self.rejects_bytes = rejects_bytes
            tmp.write_text(json.dumps(self._snapshot()))
            os.replace(tmp, path)
            if self.journal is not None:
                self.journal.truncate(0)

    @classmethod
    def resume(cls, path: Path, fingerprint: dict[str, Any]) -> Ledger:
        """The ledger saved at `path`, refused if it was written for other inputs/options."""
        try:
            saved = json.loads(path.read_text())
        except FileNotFoundError:
            raise CheckpointError(f"no checkpoint at {path}") from None
        except (OSError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"checkpoint {path} is unreadable ({exc})") from None
        if saved.get("fingerprint") != fingerprint:
            raise CheckpointError(
                f"checkpoint {path} was written for other inputs or options; "
                "run without --resume to start over"
            )
        counts = dict.fromkeys(COUNT_FIELDS, 0)
        counts.update({k: int(v) for k, v in saved.get("counts", {}).items() if k in counts})
        ledger = cls(
            fingerprint=fingerprint,
            counts=counts,
            watermark=int(saved["watermark"]),
            done_above={int(o) for o in saved.get("done_above", [])},
            rejects_bytes=saved.get("rejects_bytes"),
        )
        ledger._apply_journal(journal_path(path))
        return ledger

    def _apply_journal(self, path: Path) -> None:
        """The acknowledgements journaled after the checkpoint was written."""
        try:
            text = path.read_bytes().decode()
        except FileNotFoundError:
            return
        # A line is whole only with its newline; one cut short was never acknowledged here.
        for line in text.split("\n")[:-1]:
            outcome, _, numbers = line.partition(" ")
            try:
                warned, *done = map(int, numbers.split(" "))
            except ValueError:
                warned, done = 0, []
            if outcome not in (_SENT, _DEAD_LETTERED) or not done:
                raise CheckpointError(
                    f"journal {path} is unreadable (line {line[:40]!r}); "
                    "run without --resume to start over"
                )
            # Written with the checkpoint under one lock: a line is in it whole or not at all.
            if not self.is_done(done[0]):
                self._count(outcome, done, warned)


_SENT, _DEAD_LETTERED = "sent", "dead_lettered"


def journal_path(checkpoint: Path) -> Path:
    """Where the acknowledgements of the replay with this checkpoint are journaled."""
    return checkpoint.with_name(checkpoint.name + ".acks")

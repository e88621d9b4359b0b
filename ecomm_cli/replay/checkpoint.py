"""Accounting of every row (the ledger) and its checkpoint file for `--resume`.

Every row of the input gets an ordinal (its position in the merged, deterministic input
order). A row is done once it is acknowledged by Kinesis, rejected, dead-lettered or filtered
out. The checkpoint keeps the highest ordinal below which everything is done (the watermark)
plus the few done ordinals above it (events acknowledged out of order by concurrent senders),
and the counts of done rows, so a resumed run skips exactly what was acknowledged and its
summary still balances over the whole replay.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
        with self._lock:
            counts = self.counts
            n = len(ordinals)
            counts["read"] += n
            counts["valid"] += n
            counts["sent"] += n
            counts["warnings"] += warned
            for ordinal in ordinals:
                self._done(ordinal)

    def dead_lettered(self, ordinals: list[int], warned: int) -> None:
        with self._lock:
            counts = self.counts
            n = len(ordinals)
            counts["read"] += n
            counts["valid"] += n
            counts["dead_lettered"] += n
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
            return {
                "version": 1,
                "fingerprint": self.fingerprint,
                "watermark": self.watermark,
                "done_above": sorted(self.done_above),
                "counts": dict(self.counts),
            }

    def save(self, path: Path) -> None:
        """Write the checkpoint atomically (a crash mid-write leaves the previous one)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.snapshot()))
        os.replace(tmp, path)

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
        return cls(
            fingerprint=fingerprint,
            counts=counts,
            watermark=int(saved["watermark"]),
            done_above={int(o) for o in saved.get("done_above", [])},
        )

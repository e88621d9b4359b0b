"""Events for the local detector from a REES46 file, read by the replay's reader.

`ecomm detect` and `ecomm replay` read, decode and validate alike (ecomm_cli/replay/sources.py
and the event contract): plain CSV, .csv.gz or .zip, the same quirks tolerated and the same rows
rejected. Rows that break the contract are counted and their first reasons kept, and an input
whose rest cannot be read is kept in `ReadStats.unread`: the detector reports them instead of
dropping them silently. The file is streamed, never loaded whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ecomm_cli.detect.engine import Event
from ecomm_cli.replay import sources

REJECT_SAMPLES_KEPT = 5


@dataclass
class ReadStats:
    """Rows read from the file, the ones the contract rejected (with the first reasons), and
    the inputs whose rest could not be read."""

    rows: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)
    unread: list[sources.UnreadRest] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        """Count one rejected row and keep its reason if it is among the first few."""
        self.rejected += 1
        if len(self.reasons) < REJECT_SAMPLES_KEPT:
            self.reasons.append(f"line {line}: {reason}")


def read_events(path: Path, stats: ReadStats) -> Iterator[Event]:
    """The events of one REES46 file in file order; bad rows and an unreadable rest go to
    `stats`.

    Raises `sources.SourceError` (a one-line message) when the file cannot be opened, is empty,
    or has a header without the contract's columns or a first row that fits no known layout.
    """
    resolved = sources.resolve([str(path)])
    for row in sources.merged_rows(resolved, unread=stats.unread):
        stats.rows += 1
        event = row.parsed.event
        if event is None:
            stats.reject(row.line, row.parsed.reason or "rejected")
            continue
        yield Event(
            round(row.parsed.epoch * 1000),
            event["event_type"],
            event["product_id"],
            event["user_id"],
            event["user_session"],
        )

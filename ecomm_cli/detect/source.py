"""Events for the local detector from a REES46 CSV file (plain or .gz), via the event contract.

Rows that break the contract are counted and their first reasons kept: the detector reports
them instead of dropping them silently. The file is streamed, never loaded whole.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ecomm_cli import contract
from ecomm_cli.detect.engine import Event

REJECT_SAMPLES_KEPT = 5


@dataclass
class ReadStats:
    """Rows read from the file and the ones the contract rejected (with the first reasons)."""

    rows: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        """Count one rejected row and keep its reason if it is among the first few."""
        self.rejected += 1
        if len(self.reasons) < REJECT_SAMPLES_KEPT:
            self.reasons.append(f"line {line}: {reason}")


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def read_events(path: Path, stats: ReadStats) -> Iterator[Event]:
    """The events of one CSV file in file order; bad rows go to `stats`.

    Raises OSError when the file cannot be opened, and contract.RowError when it has a header
    without the contract's columns or a first row that fits no known layout.
    """
    with _open(path) as handle:
        reader = csv.reader(handle)
        first = next(reader, None)
        if first is None:
            return
        layout: contract.Layout | None
        pending: list[str] | None = None
        if contract.is_header(first):
            layout = contract.layout_from_header(first)
        else:
            layout = contract.layout_from_data(first)
            if layout is None:
                raise contract.RowError(f"the first row has {len(first)} fields: not REES46 CSV")
            pending = first
        parse_row = contract.parse_row
        line = 0 if pending is not None else 1
        rows = [pending] if pending is not None else []
        for fields in _chain(rows, reader):
            line += 1
            stats.rows += 1
            parsed = parse_row(fields, layout)
            event = parsed.event
            if event is None:
                stats.reject(line, parsed.reason or "rejected")
                continue
            yield Event(
                round(parsed.epoch * 1000),
                event["event_type"],
                event["product_id"],
                event["user_id"],
                event["user_session"],
            )


def _chain(first: list[list[str]], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield from first
    try:
        yield from rest
    except csv.Error as exc:  # a garbage row the csv module cannot split: counted, not raised
        raise contract.RowError(f"unreadable CSV: {exc}") from None

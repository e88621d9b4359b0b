"""The result of a replay: computed first, rendered second (a Rich table or one JSON object).

The counts always balance: `read = sent + rejected + dead_lettered` (in a dry run
`read = valid + rejected` and `sent = 0`); rows outside `--from/--until` are `filtered`, not
read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rich.table import Table

from ecomm_cli.replay.checkpoint import Ledger


@dataclass(frozen=True)
class Summary:
    """Counts and figures of one replay (cumulative over the runs a `--resume` continues)."""

    read: int
    valid: int
    sent: int
    rejected: int
    dead_lettered: int
    warnings: int
    filtered: int
    resumed_skipped: int
    requests: int
    retries: int
    throttles: int
    elapsed_s: float
    events_per_s: float
    stream: str | None
    inputs: list[str]
    dry_run: bool
    aggregate: bool
    rejects_file: str | None
    dead_letter_file: str | None
    lateness_p99_ms: float | None

    @classmethod
    def build(cls, ledger: Ledger, *, elapsed_s: float, **fields: Any) -> Summary:
        """Freeze the ledger's counts with the run's other figures."""
        counts = ledger.snapshot()["counts"]
        done_now = counts["sent"] if not fields.get("dry_run") else counts["read"]
        return cls(
            read=counts["read"],
            valid=counts["valid"],
            sent=counts["sent"],
            rejected=counts["rejected"],
            dead_lettered=counts["dead_lettered"],
            warnings=counts["warnings"],
            filtered=counts["filtered"],
            requests=ledger.requests,
            retries=ledger.retries,
            throttles=ledger.throttles,
            elapsed_s=round(elapsed_s, 3),
            events_per_s=round(done_now / elapsed_s, 1) if elapsed_s > 0 else 0.0,
            **fields,
        )

    @property
    def balanced(self) -> bool:
        """The invariant every replay keeps: no row unaccounted for."""
        if self.dry_run:
            return self.read == self.valid + self.rejected and self.sent == 0
        return self.read == self.sent + self.rejected + self.dead_lettered

    def reject_ratio(self) -> float:
        return self.rejected / self.read if self.read else 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> Table:
        """The summary as a two-column Rich table."""
        title = "replay (dry run)" if self.dry_run else f"replay into {self.stream}"
        table = Table(title=title, show_header=False, title_justify="left")
        table.add_column("figure", style="bold")
        table.add_column("value", justify="right")
        rows: list[tuple[str, str]] = [
            ("read", f"{self.read:,}"),
            ("valid", f"{self.valid:,}"),
            ("sent", f"{self.sent:,}"),
            ("rejected", f"{self.rejected:,}"),
            ("dead-lettered", f"{self.dead_lettered:,}"),
            ("warnings", f"{self.warnings:,}"),
        ]
        if self.filtered:
            rows.append(("outside --from/--until", f"{self.filtered:,}"))
        if self.resumed_skipped:
            rows.append(("skipped (already done, --resume)", f"{self.resumed_skipped:,}"))
        if not self.dry_run:
            rows += [
                ("requests", f"{self.requests:,}"),
                ("retried entries", f"{self.retries:,}"),
                ("throttled requests", f"{self.throttles:,}"),
            ]
        rows += [("elapsed", f"{self.elapsed_s:.1f} s"), ("events/s", f"{self.events_per_s:,.0f}")]
        if self.lateness_p99_ms is not None:
            rows.append(("p99 lateness vs schedule", f"{self.lateness_p99_ms:.0f} ms"))
        if self.rejects_file:
            rows.append(("rejects file", self.rejects_file))
        if self.dead_letter_file:
            rows.append(("dead-letter file", self.dead_letter_file))
        for name, value in rows:
            table.add_row(name, value)
        return table

"""The result of a replay: computed first, rendered second (ecomm_cli.output: table, JSON, CSV).

The counts always balance: `read = sent + rejected + dead_lettered` (in a dry run
`read = valid + rejected` and `sent = 0`); rows outside `--from/--until` are `filtered`, not
read. What could not be read at all (the rest of a truncated .gz) is `unread`, and fails the run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ecomm_cli.errors import EXIT_ERROR, EXIT_FINDINGS, EcommError
from ecomm_cli.output import Record
from ecomm_cli.replay.checkpoint import Ledger

# The share of rejected rows above which a replay needs attention (--max-reject-ratio).
DEFAULT_MAX_REJECT_RATIO = 0.01


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
    # Inputs whose rest could not be read: where each stopped and how much was left.
    unread: str | None = None

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

    def finding(self, max_reject_ratio: float = DEFAULT_MAX_REJECT_RATIO) -> EcommError | None:
        """What needs attention after the replay: an input whose rest could not be read (exit
        2, bad input), events that could not be sent, or more rejected rows than
        `max_reject_ratio` allows (exit 1); None when none of them."""
        if self.unread:
            return EcommError(
                self.unread,
                "the rows before it are accounted for above; fix or fetch the file again",
                code=EXIT_ERROR,
            )
        if self.dead_lettered:
            return EcommError(
                f"{self.dead_lettered:,} events could not be sent",
                f"kept with their reason in {self.dead_letter_file}",
                code=EXIT_FINDINGS,
            )
        if self.reject_ratio() > max_reject_ratio:
            return EcommError(
                f"{self.reject_ratio():.2%} of rows were rejected "
                f"(more than --max-reject-ratio {max_reject_ratio:g})",
                f"reasons in {self.rejects_file}",
                code=EXIT_FINDINGS,
            )
        return None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def record(self) -> Record:
        """Every figure, for the renderer: one JSON object, one CSV line, a two-column table."""
        title = "replay (dry run)" if self.dry_run else f"replay into {self.stream}"
        return Record(title, self.as_dict())

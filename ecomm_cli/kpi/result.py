"""A KPI's answer, engine-independent: computed first, rendered later (table, JSON, CSV)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class KpiResult:
    """Rows of one KPI run, with what the engine reports about the run."""

    name: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    engine: str
    seconds: float
    # Athena only: bytes scanned and what they cost at the workgroup's price per TB.
    data_scanned_bytes: int | None = None
    cost_usd: float | None = None
    query_execution_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

"""KPI parameters from the command line, validated, then bound by name to a KPI's `?` list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ecomm_cli.errors import EcommError
from ecomm_cli.kpi.catalog import KpiQuery

# "No dates" means all the data: bounds no real event date falls outside of.
ALL_FROM = "0001-01-01"
ALL_TO = "9999-12-31"


@dataclass(frozen=True)
class KpiParameters:
    """Values every KPI may use; each KPI binds only the ones its header declares."""

    from_date: str = ALL_FROM
    to_date: str = ALL_TO
    top_n: int = 10
    hour_from: int = 0
    hour_to: int = 23
    min_views: int = 100

    @classmethod
    def from_options(
        cls,
        from_date: str | None = None,
        to_date: str | None = None,
        top_n: int = 10,
        hours: str | None = None,
        min_views: int = 100,
    ) -> KpiParameters:
        """Validate command-line values; a bad one is an EcommError naming the option."""
        start = _iso_date(from_date, "--from") if from_date else ALL_FROM
        end = _iso_date(to_date, "--to") if to_date else ALL_TO
        if start > end:
            raise EcommError(f"--from {start} is after --to {end}")
        if top_n < 1:
            raise EcommError(f"--top must be at least 1, got {top_n}")
        if min_views < 0:
            raise EcommError(f"--min-views must not be negative, got {min_views}")
        hour_from, hour_to = parse_hours(hours) if hours else (0, 23)
        return cls(start, end, top_n, hour_from, hour_to, min_views)

    def bind(self, query: KpiQuery) -> list[str | int]:
        """The values for the query's placeholders, in the order its header declares."""
        values: dict[str, str | int] = {
            "from_date": self.from_date,
            "to_date": self.to_date,
            "top_n": self.top_n,
            "hour_from": self.hour_from,
            "hour_to": self.hour_to,
            "min_views": self.min_views,
        }
        unknown = [p for p in query.parameters if p not in values]
        if unknown:
            raise EcommError(f"{query.path.name}: unknown parameters {', '.join(unknown)}")
        return [values[p] for p in query.parameters]


def parse_hours(text: str) -> tuple[int, int]:
    """'18-23' -> (18, 23); '7' -> (7, 7). Hours of day in UTC, inclusive, not wrapping."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*(?:-\s*(\d{1,2})\s*)?", text)
    if not match:
        raise EcommError(f"--hours must look like 18-23, got {text!r}")
    start = int(match.group(1))
    end = int(match.group(2)) if match.group(2) is not None else start
    if not (0 <= start <= 23 and 0 <= end <= 23):
        raise EcommError(f"--hours must be within 0-23, got {text!r}")
    if start > end:
        raise EcommError(
            f"--hours {text!r} wraps past midnight",
            hint="run it as two windows, e.g. 22-23 and 0-2",
        )
    return start, end


def _iso_date(text: str, option: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise EcommError(f"{option} must be a date YYYY-MM-DD, got {text!r}") from None

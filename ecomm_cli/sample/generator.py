"""`ecomm sample generate`: REES46-shaped traffic with labelled bots, streamed to a CSV file.

Everything comes from one `random.Random(seed)`, consumed in a fixed order, so a seed gives
the same bytes on every run and machine. Rows are produced hour by hour: each hour's customer
sessions start inside that hour, so once an hour is generated every buffered row earlier than
the next hour is final and can be sorted and written. Memory stays at about one hour of
traffic whatever `--rows` is, which is what lets the 10-million-row benchmark input stream.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import itemgetter
from pathlib import Path
from typing import IO

from ecomm_cli.sample.bots import ACTIVE_SECONDS, BotKind, BotLabel, bot_rows
from ecomm_cli.sample.catalog import Catalog, build_catalog
from ecomm_cli.sample.customers import (
    HOURLY_WEIGHTS,
    WEEKDAY_WEIGHTS,
    Row,
    customer_session,
)

HEADER = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n"
)
LABELS_HEADER = "user_id,kind,active_from,active_until\n"
# Customer ids and bot ids are drawn from disjoint halves of one 9-digit range, so a label
# never names a customer and both look alike in the file.
_CUSTOMER_IDS = (300_000_000, 600_000_000)
_BOT_IDS = (600_000_000, 650_000_000)
_EVENTS_PER_SESSION = 6.5  # the mean of `customer_session`, used to size the customer pool


class SampleError(ValueError):
    """The requested sample cannot be generated (the message says why)."""


@dataclass(frozen=True)
class SampleSpec:
    """What to generate: `rows` in total (customers plus bots) over `days` from `start`."""

    rows: int
    days: int = 1
    seed: int = 0
    start: date = date(2019, 10, 1)
    bots: dict[BotKind, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SampleResult:
    """What was written: row counts and the ground truth for every bot."""

    rows: int
    customer_rows: int
    bot_rows: int
    labels: list[BotLabel]


def parse_bots(text: str) -> dict[BotKind, int]:
    """`flood=3,scraper=2` -> {flood: 3, scraper: 2}; raises SampleError on anything else."""
    bots: dict[BotKind, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        kind, sep, count = item.partition("=")
        try:
            bot_kind = BotKind(kind.strip())
        except ValueError:
            kinds = ", ".join(k.value for k in BotKind)
            raise SampleError(f"unknown bot kind {kind.strip()!r} (one of {kinds})") from None
        if not sep or not count.strip().isdigit():
            raise SampleError(f"bot count in {item!r} must be a non-negative integer (KIND=COUNT)")
        bots[bot_kind] = bots.get(bot_kind, 0) + int(count)
    return bots


def _hour_budgets(total: int, start_epoch: int, hours: int, rng: random.Random) -> list[int]:
    """Customer rows per hour: hour-of-day and weekday seasonality plus day-to-day noise."""
    weights = []
    day_factor = 1.0
    for hour in range(hours):
        moment = time.gmtime(start_epoch + hour * 3600)
        if moment.tm_hour == 0 or hour == 0:
            day_factor = rng.uniform(0.9, 1.1)
        weights.append(
            HOURLY_WEIGHTS[moment.tm_hour] * WEEKDAY_WEIGHTS[moment.tm_wday] * day_factor
        )
    scale = total / sum(weights)
    budgets, carried, assigned = [], 0.0, 0
    for weight in weights:
        carried += weight * scale
        budget = round(carried) - assigned
        budgets.append(budget)
        assigned += budget
    return budgets


def _customer_rows(
    rng: random.Random, catalog: Catalog, start_epoch: int, budgets: list[int], pool: list[int]
) -> Iterator[Row]:
    """Customer events in time order, generated an hour at a time."""
    pending: list[Row] = []
    pool_size = len(pool)
    end = start_epoch + len(budgets) * 3600
    for hour, budget in enumerate(budgets):
        hour_start = start_epoch + hour * 3600
        made = 0
        while made < budget:
            # Squaring the draw skews activity: a few loyal customers come back many times.
            user_id = pool[int(pool_size * rng.random() ** 2)]
            session = customer_session(rng, catalog, hour_start + rng.randrange(3600), user_id)
            if session[-1][0] >= end:  # the sample ends mid-session: keep what came before
                session = [row for row in session if row[0] < end]
            if made + len(session) > budget:
                session = session[: budget - made]  # still browsing when the sample ends
            pending.extend(session)
            made += len(session)
        pending.sort(key=itemgetter(0))
        # Rows before the next hour can no longer be preceded by anything generated later.
        cut = _first_at_or_after(pending, hour_start + 3600)
        yield from pending[:cut]
        del pending[:cut]
    yield from pending


def _first_at_or_after(rows: list[Row], moment: int) -> int:
    low, high = 0, len(rows)
    while low < high:
        middle = (low + high) // 2
        if rows[middle][0] < moment:
            low = middle + 1
        else:
            high = middle
    return low


def _plan_bots(
    rng: random.Random, catalog: Catalog, spec: SampleSpec, start_epoch: int, span: int
) -> tuple[list[Row], list[BotLabel]]:
    rows: list[Row] = []
    labels: list[BotLabel] = []
    wanted = sum(spec.bots.values())
    bot_ids = rng.sample(range(*_BOT_IDS), wanted) if wanted else []
    for kind in BotKind:  # a fixed order keeps the output reproducible
        for _ in range(spec.bots.get(kind, 0)):
            low, high = ACTIVE_SECONDS[kind]
            duration = min(rng.randint(low, high), span - 1)
            active_from = start_epoch + rng.randrange(max(1, span - duration))
            user_id = bot_ids[len(labels)]
            events = bot_rows(rng, catalog, kind, user_id, active_from, active_from + duration)
            rows.extend(events)
            labels.append(BotLabel(user_id, kind, events[0][0], events[-1][0]))
    rows.sort(key=itemgetter(0))
    return rows, labels


def iso_utc(epoch: int) -> str:
    """Epoch seconds as ISO-8601 UTC with a Z (the project's timestamp format)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_sample(
    spec: SampleSpec, out: IO[str], labels_out: IO[str] | None = None
) -> SampleResult:
    """Write `spec.rows` REES46-shaped rows (header first, sorted by event_time) to `out`.

    Raises SampleError when the request cannot be met (the bots alone need more rows than
    asked for, or the numbers are out of range).
    """
    if spec.rows < 1:
        raise SampleError("--rows must be at least 1")
    if spec.days < 1:
        raise SampleError("--days must be at least 1")
    rng = random.Random(spec.seed)
    start_epoch = int(
        datetime(spec.start.year, spec.start.month, spec.start.day, tzinfo=UTC).timestamp()
    )
    span = spec.days * 86400
    catalog = build_catalog(rng, min(200_000, max(2_000, spec.rows // 25)))
    bots, labels = _plan_bots(rng, catalog, spec, start_epoch, span)
    customer_total = spec.rows - len(bots)
    if customer_total < 0:
        raise SampleError(
            f"the requested bots alone make {len(bots):,} rows, more than --rows {spec.rows:,}"
        )
    pool_size = max(1, int(customer_total / _EVENTS_PER_SESSION / 1.6))
    pool = rng.sample(range(*_CUSTOMER_IDS), pool_size)
    budgets = _hour_budgets(customer_total, start_epoch, spec.days * 24, rng)
    customers = _customer_rows(rng, catalog, start_epoch, budgets, pool)
    out.write(HEADER)
    written = _write_rows(heapq.merge(customers, bots, key=itemgetter(0)), catalog, out)
    if labels_out is not None:
        labels_out.write(LABELS_HEADER)
        for label in labels:
            labels_out.write(
                f"{label.user_id},{label.kind.value},"
                f"{iso_utc(label.active_from)},{iso_utc(label.active_until)}\n"
            )
    return SampleResult(written, customer_total, len(bots), labels)


def write_sample(spec: SampleSpec, out: Path, labels: Path | None = None) -> SampleResult:
    """`generate_sample` into the file `out` (and the bots' labels into `labels`).

    On any failure (SampleError, OSError) neither file is left behind: a half-written sample
    would look complete to the next command.
    """
    written: list[Path] = []
    try:
        with out.open("w", encoding="utf-8", newline="") as events_file:
            written.append(out)
            if labels is None:
                return generate_sample(spec, events_file)
            with labels.open("w", encoding="utf-8", newline="") as labels_file:
                written.append(labels)
                return generate_sample(spec, events_file, labels_file)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _write_rows(rows: Iterable[Row], catalog: Catalog, out: IO[str]) -> int:
    fragments = catalog.fragments
    last_second = -1
    stamp = ""
    batch: list[str] = []
    written = 0
    for second, event_type, product, user_id, session in rows:
        if second != last_second:  # rows are sorted: format each second once
            last_second = second
            stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(second))
        batch.append(f"{stamp},{event_type},{fragments[product]},{user_id},{session}\n")
        if len(batch) >= 8192:
            out.writelines(batch)
            written += len(batch)
            batch.clear()
    out.writelines(batch)
    return written + len(batch)

"""Labelled bots: the four kinds of automated traffic the real-time rules are meant to catch.

Each kind is shaped to stand out on exactly one rule, and to stay under the others, so the
labels give a clean precision/recall per rule:

- `flood`: 4-10 events a second on a handful of product pages (page reloads from a script);
- `scraper`: walks the catalog, a new product about every second, views only;
- `cart_stuffer`: adds an item to the cart every 2-4 s and never buys (stock hoarding);
- `session_cycler`: drops its session every 1-3 events to dodge per-session limits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from ecomm_cli.sample.catalog import Catalog
from ecomm_cli.sample.customers import Row, new_session_id


class BotKind(StrEnum):
    """The bot kinds `ecomm sample generate --bots` can inject (one per real-time rule)."""

    flood = "flood"
    scraper = "scraper"
    cart_stuffer = "cart_stuffer"
    session_cycler = "session_cycler"


# How long each kind stays active, in seconds (min, max). Long enough to fill several whole
# windows of its rule, short enough that bots stay a minority of a 100k-row sample.
ACTIVE_SECONDS: dict[BotKind, tuple[int, int]] = {
    BotKind.flood: (120, 300),
    BotKind.scraper: (600, 1200),
    BotKind.cart_stuffer: (900, 1800),
    BotKind.session_cycler: (300, 600),
}


@dataclass(frozen=True)
class BotLabel:
    """Ground truth for one injected bot (a row of the labels file)."""

    user_id: int
    kind: BotKind
    active_from: int  # epoch seconds of its first event
    active_until: int  # epoch seconds of its last event


def bot_rows(
    rng: random.Random, catalog: Catalog, kind: BotKind, user_id: int, start: int, end: int
) -> list[Row]:
    """The events of one bot active from `start` to `end` (epoch seconds), in time order."""
    rows: list[Row] = []
    append = rows.append
    session = new_session_id(rng)
    n_products = len(catalog.product_ids)
    if kind is BotKind.flood:
        targets = [rng.randrange(n_products) for _ in range(rng.randint(1, 3))]
        rate = rng.uniform(4.0, 10.0)
        for second in range(start, end + 1):
            for _ in range(int(rate + rng.random())):
                append((second, "view", rng.choice(targets), user_id, session))
    elif kind is BotKind.scraper:
        product = rng.randrange(n_products)
        t = float(start)
        views = 0
        while t <= end:
            append((int(t), "view", product, user_id, session))
            product = (product + rng.randint(1, 3)) % n_products  # the next item in the listing
            t += rng.uniform(0.8, 1.2)
            views += 1
            if views % 300 == 0:
                session = new_session_id(rng)
    elif kind is BotKind.cart_stuffer:
        t = float(start)
        while t <= end:
            product = rng.randrange(n_products)
            if rng.random() < 0.3:
                append((int(t), "view", product, user_id, session))
                t += rng.uniform(0.5, 1.5)
            append((int(t), "cart", product, user_id, session))
            t += rng.uniform(2.0, 4.0)
    else:  # session_cycler
        targets = [rng.randrange(n_products) for _ in range(rng.randint(2, 5))]
        t = float(start)
        left = rng.randint(1, 3)
        while t <= end:
            append((int(t), "view", rng.choice(targets), user_id, session))
            t += rng.uniform(1.0, 2.0)
            left -= 1
            if left == 0:
                session = new_session_id(rng)
                left = rng.randint(1, 3)
    return rows

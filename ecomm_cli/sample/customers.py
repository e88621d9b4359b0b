"""Real customers: shopping sessions with view -> cart -> remove -> purchase funnels.

The behaviours that trip naive bot rules are reproduced on purpose, because the detector is
judged on not flagging them: a multi-item checkout writes one `purchase` per item in the same
second, clearing a cart writes a same-second burst of `remove_from_cart`, and a few customers
stock up with dozens of cart adds a few seconds apart.
"""

from __future__ import annotations

import random
import uuid

from ecomm_cli.sample.catalog import Catalog

# One generated event before rendering: (epoch second, event_type, product index, user_id,
# user_session). Tuples, not objects: millions are created and sorted.
Row = tuple[int, str, int, int, str]

# Hour-of-day weights in UTC. REES46 shoppers are mostly in UTC+3: quiet at night, a morning
# ramp from 04:00 UTC, an evening peak around 17:00 UTC (20:00 local).
HOURLY_WEIGHTS = (
    0.30, 0.22, 0.20, 0.24, 0.38, 0.55, 0.72, 0.85, 0.93, 0.98, 1.00, 1.00,
    0.98, 0.97, 0.98, 1.02, 1.08, 1.12, 1.10, 1.00, 0.86, 0.70, 0.52, 0.39,
)  # fmt: skip
# Weekend traffic runs a little higher in this dataset (Saturday=5, Sunday=6).
WEEKDAY_WEIGHTS = (0.96, 0.95, 0.97, 0.98, 1.0, 1.08, 1.10)


def new_session_id(rng: random.Random) -> str:
    """A UUID4-shaped session id drawn from the seeded generator (so runs are reproducible)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _gap(rng: random.Random) -> int:
    # Time on a product page: log-normal, median about 20 s, seldom under 2 s.
    return int(rng.lognormvariate(3.0, 0.9)) + 1


def customer_session(rng: random.Random, catalog: Catalog, start: int, user_id: int) -> list[Row]:
    """One shopping session of one customer, its events in time order."""
    session = new_session_id(rng)
    rows: list[Row] = []
    append = rows.append
    category = catalog.pick_category(rng)
    n_views = 1 + min(int(rng.expovariate(0.22)), 60)
    products = catalog.pick_products(rng, category, n_views)
    cart: list[int] = []
    t = start
    random_ = rng.random
    for product in products:
        if random_() < 0.12:  # wandered to another category
            category = catalog.pick_category(rng)
            product = catalog.pick_products(rng, category, 1)[0]
        append((t, "view", product, user_id, session))
        t += _gap(rng)
        if random_() < 0.09:
            append((t, "cart", product, user_id, session))
            cart.append(product)
            t += rng.randint(2, 25)
    if random_() < 0.006:
        # Stocking up from a listing page: many adds a few seconds apart (cosmetics-shop style).
        for product in catalog.pick_products(rng, category, rng.randint(8, 30)):
            append((t, "cart", product, user_id, session))
            cart.append(product)
            t += rng.randint(3, 9)
    if not cart:
        return rows
    ending = random_()
    if ending < 0.42:
        # Checkout: one purchase per item, all in the same second.
        t += rng.randint(20, 240)
        for product in cart:
            append((t, "purchase", product, user_id, session))
    elif ending < 0.58 and len(cart) > 1:
        # "Clear cart": one click, a same-second burst of removals.
        t += rng.randint(5, 120)
        for product in cart:
            append((t, "remove_from_cart", product, user_id, session))
    elif ending < 0.75:
        # Second thoughts: a removal or two, then maybe checkout of the rest.
        for _ in range(min(len(cart), rng.randint(1, 2))):
            t += rng.randint(3, 40)
            append((t, "remove_from_cart", cart.pop(), user_id, session))
        if cart and random_() < 0.5:
            t += rng.randint(20, 240)
            for product in cart:
                append((t, "purchase", product, user_id, session))
    # Otherwise the cart is abandoned, as most are.
    return rows

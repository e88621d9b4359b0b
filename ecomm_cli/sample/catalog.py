"""The synthetic shop's catalog: a category tree, brands and products with skewed popularity.

Built once per `ecomm sample generate` run from the seeded generator. Each product carries its
CSV fragment (`product_id,category_id,category_code,brand,price`) pre-rendered, because the
writer emits millions of rows and formatting the same product again for every view would
dominate the run time.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

# (dotted category_code or "" for the uncoded categories REES46 is full of, median price,
# price spread as a log-normal sigma, brands). Prices follow the real October 2019 files:
# smartphones around 250, notebooks around 500, cosmetics a few units.
_CATEGORIES: tuple[tuple[str, float, float, tuple[str, ...]], ...] = (
    (
        "electronics.smartphone",
        260.0,
        0.8,
        ("samsung", "apple", "xiaomi", "huawei", "oppo", "meizu", "nokia", "honor"),
    ),
    (
        "electronics.audio.headphone",
        45.0,
        0.9,
        ("samsung", "apple", "sony", "jbl", "xiaomi", "sennheiser"),
    ),
    ("electronics.video.tv", 420.0, 0.7, ("samsung", "lg", "sony", "philips", "hisense", "artel")),
    (
        "electronics.clocks",
        180.0,
        0.9,
        ("apple", "samsung", "casio", "garmin", "xiaomi", "amazfit"),
    ),
    ("electronics.tablet", 230.0, 0.7, ("apple", "samsung", "lenovo", "huawei", "xiaomi")),
    ("electronics.camera.photo", 390.0, 0.8, ("canon", "nikon", "sony", "fujifilm")),
    ("computers.notebook", 520.0, 0.6, ("lenovo", "hp", "asus", "acer", "apple", "dell", "msi")),
    ("computers.desktop", 610.0, 0.7, ("hp", "lenovo", "dell", "acer")),
    ("computers.peripherals.printer", 150.0, 0.7, ("hp", "canon", "epson", "brother")),
    ("computers.components.videocards", 330.0, 0.7, ("msi", "gigabyte", "asus", "palit")),
    (
        "appliances.kitchen.refrigerators",
        480.0,
        0.5,
        ("samsung", "lg", "beko", "indesit", "atlant", "bosch"),
    ),
    ("appliances.kitchen.washer", 360.0, 0.5, ("samsung", "lg", "beko", "indesit", "bosch")),
    ("appliances.kitchen.microwave", 90.0, 0.5, ("samsung", "lg", "midea", "panasonic")),
    ("appliances.kitchen.kettle", 25.0, 0.6, ("tefal", "polaris", "bosch", "redmond", "vitek")),
    (
        "appliances.environment.vacuum",
        130.0,
        0.7,
        ("samsung", "dyson", "philips", "xiaomi", "bosch", "lg"),
    ),
    (
        "appliances.environment.water_heater",
        110.0,
        0.5,
        ("ariston", "thermex", "electrolux", "aqua"),
    ),
    ("appliances.environment.air_conditioner", 420.0, 0.5, ("midea", "samsung", "lg", "artel")),
    ("appliances.personal.hair_cutter", 35.0, 0.6, ("philips", "braun", "polaris", "rowenta")),
    ("appliances.iron", 40.0, 0.5, ("philips", "tefal", "braun", "rowenta")),
    ("furniture.living_room.sofa", 540.0, 0.6, ("", "divan", "askona")),
    ("furniture.bedroom.bed", 330.0, 0.6, ("", "askona", "ormatek")),
    ("apparel.shoes", 70.0, 0.7, ("nike", "adidas", "puma", "reebok", "respect", "baden")),
    ("apparel.shoes.keds", 60.0, 0.6, ("nike", "adidas", "puma", "converse", "vans")),
    ("apparel.trousers", 45.0, 0.6, ("levis", "wrangler", "", "lee")),
    ("kids.toys", 30.0, 0.9, ("lego", "hasbro", "mattel", "")),
    ("kids.carriage", 260.0, 0.6, ("peg-perego", "cybex", "")),
    ("sport.bicycle", 310.0, 0.7, ("stels", "forward", "stern", "")),
    ("auto.accessories.videoregister", 80.0, 0.6, ("xiaomi", "neoline", "mio")),
    ("construction.tools.drill", 95.0, 0.7, ("bosch", "makita", "dewalt", "interskol")),
    ("accessories.bag", 50.0, 0.8, ("", "samsonite", "xiaomi")),
    ("country_yard.lawn_mower", 210.0, 0.5, ("bosch", "makita", "huter")),
    ("", 12.0, 1.1, ("", "runail", "irisk", "masura", "grattol", "estel", "kapous")),
    ("", 6.0, 0.9, ("", "runail", "irisk", "ingarden", "bpw.style", "uno")),
    ("", 35.0, 1.0, ("", "lucente", "", "elizavecca", "jessnail")),
    ("", 90.0, 1.2, ("", "", "", "")),
    ("", 240.0, 1.0, ("", "", "")),
    ("", 18.0, 0.8, ("", "de.lux", "", "")),
)
_CATEGORY_ID_BASE = 2053013552226107603  # 19 digits, like every REES46 category_id
_PRODUCT_ID_BASE = 1000978


@dataclass(frozen=True)
class Catalog:
    """Products grouped by category; popularity is Zipf-like at both levels."""

    fragments: list[str]  # per product: "product_id,category_id,category_code,brand,price"
    product_ids: list[int]
    category_products: list[list[int]]  # per category: product indexes, most popular first
    category_cum_weights: list[list[float]]  # per category: cumulative product weights
    category_order: list[int]  # category indexes
    category_cum: list[float]  # cumulative category weights

    def pick_category(self, rng: random.Random) -> int:
        """A category, popular ones far more often (electronics dominates, as in REES46)."""
        return rng.choices(self.category_order, cum_weights=self.category_cum)[0]

    def pick_products(self, rng: random.Random, category: int, k: int) -> list[int]:
        """`k` product indexes of one category drawn by popularity (repeats allowed)."""
        return rng.choices(
            self.category_products[category], cum_weights=self.category_cum_weights[category], k=k
        )


def _zipf_cum(n: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**exponent) for rank in range(1, n + 1)))


def build_catalog(rng: random.Random, n_products: int) -> Catalog:
    """A catalog of about `n_products` products over the fixed category tree."""
    n_categories = len(_CATEGORIES)
    order = list(range(n_categories))
    rng.shuffle(order)  # which category is most popular varies with the seed
    category_cum = _zipf_cum(n_categories, 0.9)
    shares = [category_cum[0]] + [b - a for a, b in itertools.pairwise(category_cum)]
    total_share = category_cum[-1]
    category_ids = rng.sample(range(10**15), n_categories)

    fragments: list[str] = []
    product_ids: list[int] = []
    category_products: list[list[int]] = [[] for _ in range(n_categories)]
    next_id = _PRODUCT_ID_BASE
    for rank, category in enumerate(order):
        code, median, sigma, brands = _CATEGORIES[category]
        category_id = _CATEGORY_ID_BASE + category_ids[category]
        count = max(5, round(n_products * shares[rank] / total_share))
        for _ in range(count):
            next_id += rng.randint(1, 40)
            brand = rng.choice(brands) if rng.random() > 0.12 else ""
            price = round(median * rng.lognormvariate(0.0, sigma), 2)
            price = max(price, 0.79)
            category_products[category].append(len(fragments))
            product_ids.append(next_id)
            fragments.append(f"{next_id},{category_id},{code},{brand},{price:.2f}")
    category_cum_weights = [_zipf_cum(len(products), 1.05) for products in category_products]
    # The category weights were built in popularity order; re-key them by category index.
    cum_by_category = list(
        itertools.accumulate(shares[order.index(c)] for c in range(n_categories))
    )
    return Catalog(
        fragments=fragments,
        product_ids=product_ids,
        category_products=category_products,
        category_cum_weights=category_cum_weights,
        category_order=list(range(n_categories)),
        category_cum=cum_by_category,
    )

"""The real-time rules' thresholds and names, shared by the local detector and the docs.

The defaults equal the Terraform defaults (the Managed Flink runtime properties that fill the
`${name}` placeholders of `sql/realtime/*.sql`). They were chosen on the real REES46 samples
and on generated traffic (docs/realtime.md): every real customer's busiest window stays well
under each threshold once same-second checkout and cart-clearing bursts count as one action,
and every injected bot kind sits well above its own threshold and under the others.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

FLOOD = "flood"
SCRAPER = "scraper"
CART_STUFFER = "cart_stuffer"
SESSION_CYCLER = "session_cycler"
TRAFFIC_SPIKE = "traffic_spike"
USER_RULES = (FLOOD, SCRAPER, CART_STUFFER, SESSION_CYCLER)
RULES = (*USER_RULES, TRAFFIC_SPIKE)

# One click that writes one row per item in the same second: a checkout or a cart clearing.
# Such a burst is one action, not N, for every rule that counts actions.
BURST_EVENT_TYPES = frozenset({"purchase", "remove_from_cart"})

# Fixed by the rules' definitions ("per minute", "per 10 s"), not runtime properties.
MINUTE_SECONDS = 60
TRAFFIC_SPIKE_WINDOW_SECONDS = 10
# The trailing baseline: the mean of up to this many previous non-empty 10-s windows...
TRAFFIC_SPIKE_BASELINE_WINDOWS = 30
# ...and no verdict before this many exist (the first minute of a stream has no baseline).
TRAFFIC_SPIKE_MIN_BASELINE_WINDOWS = 6


@dataclass(frozen=True)
class Thresholds:
    """Every tunable of the rules; a rule fires when its count reaches its threshold."""

    flood_events_per_window: int = 20
    flood_window_seconds: int = 10
    scraper_distinct_products_per_minute: int = 30
    cart_stuffer_adds: int = 50
    cart_stuffer_window_seconds: int = 300
    session_cycler_sessions_per_minute: int = 12
    traffic_spike_factor: float = 4.0
    traffic_spike_min_events: int = 100
    # The watermark trails the newest event time by this much (the Flink source's
    # `WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND`).
    watermark_seconds: int = 5

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            minimum = 0 if item.name == "watermark_seconds" else 1
            if value < minimum:
                raise ValueError(f"{item.name} must be at least {minimum}, got {value}")

    @classmethod
    def names(cls) -> list[str]:
        """The threshold names (the `${name}` placeholders of the SQL files)."""
        return [item.name for item in fields(cls)]

    def with_overrides(self, overrides: dict[str, str]) -> Thresholds:
        """A copy with `name -> text` overrides applied; ValueError names a bad one."""
        values: dict[str, int | float] = {}
        known = {item.name: item.type for item in fields(self)}
        for name, text in overrides.items():
            if name not in known:
                raise ValueError(f"unknown threshold {name!r} (one of {', '.join(known)})")
            try:
                values[name] = float(text) if name == "traffic_spike_factor" else int(text)
            except ValueError:
                raise ValueError(f"threshold {name} needs a number, got {text!r}") from None
        current = {item.name: getattr(self, item.name) for item in fields(self)}
        return Thresholds(**{**current, **values})

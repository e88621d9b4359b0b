"""The real-time rules' names and parameters, from the rules manifest (sql/realtime/rules.json).

The manifest is the one place a rule's kind, window, thresholds and baseline are written; the
Terraform realtime module (the Managed Flink runtime properties), the Flink application and this
package read it. The defaults were chosen on the real REES46 samples and on generated traffic
(docs/realtime.md): every real customer's busiest window stays well under each threshold once
same-second checkout and cart-clearing bursts count as one action, and every injected bot kind
sits well above its own threshold and under the others.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ecomm_cli.detect import manifest

MANIFEST = manifest.load()
FLOOD = "flood"
SCRAPER = "scraper"
CART_STUFFER = "cart_stuffer"
SESSION_CYCLER = "session_cycler"
TRAFFIC_SPIKE = "traffic_spike"
# The short rules' sustained counterparts, over hopping windows of about an hour.
SUSTAINED_RULES = tuple(r.name for r in MANIFEST.rules if r.window_slide is not None)
# In the manifest's order: the order alerts of one window end are reported in.
RULES = MANIFEST.rule_names
USER_RULES = tuple(rule.name for rule in MANIFEST.rules if rule.kind == "per_user")

# One click that writes one row per item in the same second: a checkout or a cart clearing.
# Such a burst is one action, not N, for every rule that counts actions (sql/realtime/_actions.sql).
BURST_EVENT_TYPES = frozenset({"purchase", "remove_from_cart"})


class Thresholds(Mapping[str, Any]):
    """Every parameter the detector reads: each rule's parameters and the shared settings the
    manifest marks `used_by: detector`, at their defaults unless overridden; every value is
    checked against the manifest's bounds. Read as attributes (`t.flood_window_seconds`) or
    as a mapping."""

    __slots__ = ("_manifest", "_values")

    def __init__(self, manifest_: manifest.Manifest | None = None, **overrides: float) -> None:
        rules = manifest_ or MANIFEST
        known = {p.name: p for p in rules.parameters_for("detector")}
        values: dict[str, int | float] = {}
        for name, parameter in known.items():
            value = overrides.pop(name, parameter.value)
            values[name] = parameter.check(value)
        if overrides:
            raise ValueError(
                f"unknown threshold {sorted(overrides)[0]!r} (one of {', '.join(known)})"
            )
        for rule in rules.rules:
            if rule.window_slide is not None:
                size, slide = values[rule.window_size], values[rule.window_slide]
                if size % slide:
                    raise ValueError(
                        f"{rule.window_size} ({size}) must be a multiple of "
                        f"{rule.window_slide} ({slide})"
                    )
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_manifest", rules)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Thresholds are immutable: use with_overrides")

    def __getitem__(self, name: str) -> int | float:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Thresholds) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values.items())))

    def __repr__(self) -> str:
        return f"Thresholds({', '.join(f'{k}={v}' for k, v in self._values.items())})"

    @classmethod
    def names(cls) -> list[str]:
        """The parameter names (the `${name}` placeholders of the SQL files)."""
        return [p.name for p in MANIFEST.parameters_for("detector")]

    def as_dict(self) -> dict[str, int | float]:
        return dict(self._values)

    def with_overrides(self, overrides: Mapping[str, str]) -> Thresholds:
        """A copy with `name -> text` overrides applied; ValueError names a bad one."""
        known = set(self._values)
        values: dict[str, float] = {}
        for name, text in overrides.items():
            if name not in known:
                raise ValueError(f"unknown threshold {name!r} (one of {', '.join(known)})")
            try:
                values[name] = float(text)
            except ValueError:
                raise ValueError(f"threshold {name} needs a number, got {text!r}") from None
        return Thresholds(self._manifest, **{**self._values, **values})

    @property
    def manifest(self) -> manifest.Manifest:
        """The manifest these values come from (the shipped one unless a test gave another)."""
        return self._manifest

    def window_seconds(self, rule: str) -> int | float:
        """The window length of `rule`, in seconds."""
        return self._values[self._manifest.rule(rule).window_size]

    def slide_seconds(self, rule: str) -> int | float | None:
        """How often a hopping window of `rule` starts; None for a tumbling rule."""
        slide = self._manifest.rule(rule).window_slide
        return None if slide is None else self._values[slide]

    def longest_window_seconds(self) -> int | float:
        """The longest window any rule keeps open."""
        return max(self.window_seconds(rule) for rule in self._manifest.rule_names)

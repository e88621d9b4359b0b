"""Pure logic of mitigation: blocks with an end time, the allowlist, and what a lookup answers.

No AWS calls here (see `store.MitigationStore`). The mitigation table holds one item per user,
`pk = user#<id>`, `sk = mitigation`, with two independent parts:

- the block (`rule`, `until` in epoch seconds, `until_iso`, `blocked_at`, the window and count
  of the offence): written by the alerting Lambda, only ever moved later (the longest block of
  the rules that fired wins, a replayed anomaly cannot shorten it, an ended block is replaced);
- the allowlist entry (`allowed_by`, `allowed_reason`, `allowed_at`, optional `allowed_until`):
  written by `ecomm alerts allow`, which removes the block part in the same write.

One item per user makes both guarantees atomic: the Lambda's block write is conditional on the
same item holding no allowlist entry in force, so an allowlisted user is never blocked whatever
the order of the writes, and the storefront's lookup is one GetItem.

Everything is decided when read: a block is in force while `now < until`, an allowlist entry
while it has no `allowed_until` or `now < allowed_until`. DynamoDB TTL (`expires_at`) only tidies
up later (up to days after; the emulator never does), so no read trusts an item's presence.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .offenders import Anomaly, iso_utc

MITIGATION_SORT_KEY = "mitigation"
# The largest user id the events carry (BIGINT), so a lookup path cannot name anything else.
MAX_USER_ID = 2**63 - 1


def user_key(user_id: int) -> str:
    """The partition key of a user's items (the offenders table uses the same spelling)."""
    return f"user#{user_id}"


def parse_block_seconds(text: str) -> dict[str, int]:
    """The rule -> block seconds map Terraform passes as JSON (`BLOCK_SECONDS`); ValueError
    with the reason when it is not an object of non-negative whole numbers."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"BLOCK_SECONDS is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError("BLOCK_SECONDS must be a JSON object of rule -> seconds")
    durations: dict[str, int] = {}
    for rule, seconds in document.items():
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValueError(f"BLOCK_SECONDS[{rule!r}] must be a number, got {seconds!r}")
        if seconds < 0 or int(seconds) != seconds:
            raise ValueError(f"BLOCK_SECONDS[{rule!r}] must be a whole number >= 0")
        durations[str(rule)] = int(seconds)
    return durations


def block_duration(anomaly: Anomaly, durations: Mapping[str, int]) -> int:
    """Seconds the anomaly's user is blocked for: 0 for platform-wide anomalies (nobody to
    block) and for rules the map does not list or lists as 0 (alert only)."""
    if anomaly.user_id is None:
        return 0
    return max(0, durations.get(anomaly.rule, 0))


def mitigation_key(user_id: int) -> dict[str, str]:
    """(pk, sk) of a user's mitigation item, as plain values."""
    return {"pk": user_key(user_id), "sk": MITIGATION_SORT_KEY}


def block_fields(anomaly: Anomaly, now: datetime, seconds: int) -> dict[str, Any]:
    """The block part of an offender's item, in force from `now` (the alerting side's clock,
    like the cooldown: a replay of old events still blocks for the full duration) for
    `seconds`; `expires_at` lets TTL remove the item some time after the block ended."""
    if anomaly.user_id is None or seconds <= 0:
        raise ValueError("only a user can be blocked, for a positive duration")
    # Whole seconds, rounded up: a block never ends before its rule's duration has passed
    # (rounded down, a 1 s block written at x.9 s ended 0.1 s later).
    until = datetime.fromtimestamp(math.ceil((now + timedelta(seconds=seconds)).timestamp()), UTC)
    return {
        "user_id": anomaly.user_id,
        "rule": anomaly.rule,
        "until": int(until.timestamp()),
        "until_iso": iso_utc(until),
        "blocked_at": iso_utc(now),
        "window_start": iso_utc(anomaly.window_start),
        "window_end": iso_utc(anomaly.window_end),
        "count": anomaly.count,
        "expires_at": int(until.timestamp()),
    }


def _number(attribute: Mapping[str, Any] | None) -> float | None:
    if not attribute or "N" not in attribute:
        return None
    return float(attribute["N"])


def _text(attribute: Mapping[str, Any] | None) -> str | None:
    if not attribute or "S" not in attribute:
        return None
    return str(attribute["S"])


Item = Mapping[str, Mapping[str, Any]]


def allowlisted(item: Item | None, now: datetime) -> bool:
    """Whether the item (DynamoDB attribute values) holds an allowlist entry in force at `now`."""
    if not item or "allowed_at" not in item:
        return False
    until = _number(item.get("allowed_until"))
    return until is None or now.timestamp() < until


def blocked(item: Item | None, now: datetime) -> bool:
    """Whether the item holds a block in force at `now` for a user not allowlisted at `now`
    (a block without a readable `until` cannot end, so it never counts)."""
    if not item or allowlisted(item, now):
        return False
    until = _number(item.get("until"))
    return until is not None and now.timestamp() < until


@dataclass(frozen=True)
class BlockStatus:
    """What the lookup answers for one user."""

    user_id: int
    blocked: bool
    rule: str | None = None
    until: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The lookup's JSON body: `rule` and `until` only when blocked."""
        body: dict[str, Any] = {"user_id": self.user_id, "blocked": self.blocked}
        if self.blocked:
            body.update(rule=self.rule, until=self.until)
        return body


def status_from_item(user_id: int, item: Item | None, now: datetime) -> BlockStatus:
    """The user's status from their mitigation item (None: no item): blocked when a block is
    in force and no allowlist entry is."""
    if item is None or not blocked(item, now):
        return BlockStatus(user_id, blocked=False)
    until = _number(item.get("until")) or 0.0
    return BlockStatus(
        user_id,
        blocked=True,
        rule=_text(item.get("rule")),
        until=_text(item.get("until_iso")) or iso_utc(datetime.fromtimestamp(until, UTC)),
    )

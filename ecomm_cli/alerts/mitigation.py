"""Pure logic of blocks and the allowlist as `ecomm alerts` and the report see them.

The mitigation table (Terraform output `mitigation_table`) holds one item per user,
`pk = user#<id>`, `sk = mitigation`, with a block part (`rule`, `until`, ...: written by the
alerting Lambda, lambdas/alerting/mitigation.py) and an allowlist part (`allowed_by`,
`allowed_reason`, `allowed_at`, `allowed_until`: written by `ecomm alerts allow`, which removes
the block part in the same write). Whether either counts is decided at read time: a block while
`now < until`, an allowlist entry while it has no `allowed_until` or `now < allowed_until`.
DynamoDB TTL deletes items later, on AWS only; nothing here relies on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ecomm_cli.alerts.status import AlertsError, iso_utc, parse_duration

MITIGATION_SORT_KEY = "mitigation"
BLOCK_ATTRIBUTES = (
    "rule",
    "until",
    "until_iso",
    "blocked_at",
    "window_start",
    "window_end",
    "count",
)
_USER_KEY = re.compile(r"^user#([0-9]+)$")


def mitigation_key(user_id: int) -> dict[str, dict[str, str]]:
    """The key of a user's mitigation item (the Lambda spells it the same way)."""
    return {"pk": {"S": f"user#{user_id}"}, "sk": {"S": MITIGATION_SORT_KEY}}


@dataclass(frozen=True)
class Block:
    """A user's block: the rule that set its end, and when it ends (epoch seconds and ISO)."""

    user_id: int
    rule: str
    until: str
    blocked_at: str
    window_start: str
    count: int
    until_epoch: float

    def in_force(self, now: datetime) -> bool:
        return now.timestamp() < self.until_epoch


@dataclass(frozen=True)
class AllowEntry:
    """An allowlisted user: who added them, why, and until when (None: until removed)."""

    user_id: int
    added_by: str
    reason: str
    added_at: str
    until: str | None = None
    until_epoch: float | None = None

    def in_force(self, now: datetime) -> bool:
        return self.until_epoch is None or now.timestamp() < self.until_epoch


def _plain(item: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for name, value in item.items():
        if "N" in value:
            plain[name] = float(value["N"])
        elif "S" in value:
            plain[name] = value["S"]
    return plain


def _user_of(plain: Mapping[str, Any]) -> int:
    match = _USER_KEY.match(str(plain.get("pk", "")))
    if match is None:
        raise AlertsError(f"mitigation item {plain.get('pk')}/{plain.get('sk')} is not a user's")
    return int(match.group(1))


def mitigation_from_items(
    items: Iterable[Mapping[str, Mapping[str, str]]],
) -> tuple[list[Block], list[AllowEntry]]:
    """The block parts and allowlist parts of the table's items (attribute-value maps)."""
    blocks: list[Block] = []
    allows: list[AllowEntry] = []
    for item in items:
        plain = _plain(item)
        try:
            if "until" in plain:
                blocks.append(
                    Block(
                        user_id=_user_of(plain),
                        rule=str(plain["rule"]),
                        until=str(plain["until_iso"]),
                        blocked_at=str(plain["blocked_at"]),
                        window_start=str(plain["window_start"]),
                        count=int(plain["count"]),
                        until_epoch=float(plain["until"]),
                    )
                )
            if "allowed_at" in plain:
                allows.append(
                    AllowEntry(
                        user_id=_user_of(plain),
                        added_by=str(plain["allowed_by"]),
                        reason=str(plain["allowed_reason"]),
                        added_at=str(plain["allowed_at"]),
                        until=plain.get("allowed_until_iso"),
                        until_epoch=plain.get("allowed_until"),
                    )
                )
        except KeyError as exc:
            raise AlertsError(f"mitigation item {plain.get('pk')} lacks {exc}") from None
    return blocks, allows


def active_blocks(
    blocks: Iterable[Block], allows: Iterable[AllowEntry], now: datetime
) -> list[Block]:
    """Blocks in force at `now` of users not allowlisted at `now`, the longest first."""
    allowed = {a.user_id for a in allows if a.in_force(now)}
    active = [b for b in blocks if b.in_force(now) and b.user_id not in allowed]
    return sorted(active, key=lambda b: (-b.until_epoch, b.user_id))


def parse_until(text: str, now: datetime) -> datetime:
    """`--until`: a duration from now (`12h`, `30d`), a date (`2026-12-31`, midnight UTC) or an
    ISO-8601 time (`2026-12-31T18:00:00Z`); it must be in the future."""
    text = text.strip()
    moment: datetime
    try:
        moment = now + parse_duration(text)
    except AlertsError:
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                day = date.fromisoformat(text)
                moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            raise AlertsError(
                f"--until {text!r} is neither a duration (12h, 30d) nor an ISO-8601 date or time"
            ) from None
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment <= now:
        raise AlertsError(f"--until {text!r} is not in the future ({iso_utc(moment)})")
    return moment


def allow_update(
    user_id: int, added_by: str, reason: str, now: datetime, until: datetime | None
) -> dict[str, Any]:
    """The UpdateItem arguments (without the table) that allowlist a user and remove their
    block part in one write; with an end, TTL may remove the item after it."""
    if not reason.strip():
        raise AlertsError("--reason must say why the user is let through")
    values: dict[str, dict[str, str]] = {
        ":user_id": {"N": str(user_id)},
        ":allowed_by": {"S": added_by},
        ":allowed_reason": {"S": reason.strip()},
        ":allowed_at": {"S": iso_utc(now)},
    }
    removed = [f"#{name}" for name in BLOCK_ATTRIBUTES]
    if until is None:
        removed += ["allowed_until", "allowed_until_iso", "expires_at"]
    else:
        epoch = str(int(until.timestamp()))
        values.update(
            {
                ":allowed_until": {"N": epoch},
                ":allowed_until_iso": {"S": iso_utc(until)},
                ":expires_at": {"N": epoch},
            }
        )
    assigned = ", ".join(f"{name[1:]} = {name}" for name in values)
    return {
        "Key": mitigation_key(user_id),
        "UpdateExpression": f"SET {assigned} REMOVE {', '.join(removed)}",
        # Block attribute names as placeholders: `count` is a DynamoDB reserved word.
        "ExpressionAttributeNames": {f"#{name}": name for name in BLOCK_ATTRIBUTES},
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_OLD",
    }


def unblock_update(user_id: int) -> dict[str, Any]:
    """The UpdateItem arguments that remove a user's block part (the allowlist part stays);
    they fail their condition when the user has no block part (then nothing is written)."""
    return {
        "Key": mitigation_key(user_id),
        "UpdateExpression": "REMOVE " + ", ".join(f"#{name}" for name in BLOCK_ATTRIBUTES),
        "ConditionExpression": "attribute_exists(#until)",
        "ExpressionAttributeNames": {f"#{name}": name for name in BLOCK_ATTRIBUTES},
        "ReturnValues": "ALL_OLD",
    }

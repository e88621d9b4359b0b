"""The event contract (ARCHITECTURE.md, "Event contract"): one REES46 CSV row to one event.

Pure and dependency-free on purpose: `ecomm replay`, the local detector and the local delivery
runner all apply the same rules, so a row is valid (or rejected for the same reason)
everywhere. The hot path (`parse_row`) runs once per row of a 42-million-row month, so it
avoids regular expressions and `datetime` on the common shapes and caches timestamp parsing
(REES46 has second resolution: many rows share a timestamp).

A row becomes either an event dict with the contract's fields (minus `ingested_at`, which
the producer adds when it sends) or a one-line rejection reason. A `category_id` already
mangled into scientific notation is unrecoverable: the event is kept with a null
`category_id` and a warning, because dropping it would lose a real visitor. An empty
`user_session` is null (the full public datasets have such rows; the visitor is real).

Text that was not UTF-8: the readers decode with `surrogateescape`, so a byte that is not
UTF-8 reaches this module as a lone surrogate. Such a row is rejected, its reason naming the
first field that holds one ("not UTF-8"), never guessed into another encoding.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple

# The REES46 columns, in the order the Kaggle files use.
COLUMNS = (
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
)
EVENT_TYPES = frozenset({"view", "cart", "remove_from_cart", "purchase"})
# The fields of a sent event, in the order they are encoded.
EVENT_FIELDS = (*COLUMNS, "ingested_at")

WARNING_CATEGORY_ID_SCIENTIFIC = "category_id in scientific notation (digits lost): sent as null"

_INT64_MAX = 2**63 - 1
# The curated lake stores price as DECIMAL(12, 2) (glue/curate_events.py): anything larger
# could not be stored there, so it is refused here too.
_PRICE_LIMIT = Decimal("10000000000")
_CENTS = Decimal("0.01")


class Layout(NamedTuple):
    """Where each contract column sits in a CSV row, and how many fields a row must have."""

    width: int
    event_time: int = 0
    event_type: int = 1
    product_id: int = 2
    category_id: int = 3
    category_code: int = 4
    brand: int = 5
    price: int = 6
    user_id: int = 7
    user_session: int = 8


DEFAULT_LAYOUT = Layout(width=9)
# A pandas export with its unnamed index column in front (seen in public copies).
INDEXED_LAYOUT = Layout(10, 1, 2, 3, 4, 5, 6, 7, 8, 9)


class Parsed(NamedTuple):
    """The outcome of one row: `event` or `reason` is set; `epoch` orders and paces events."""

    event: dict[str, Any] | None
    reason: str | None
    warning: str | None
    epoch: float


class RowError(ValueError):
    """A row does not meet the contract; the message is the rejection reason."""


def layout_from_header(header: Sequence[str]) -> Layout:
    """The layout named by a header row (any column order; extra columns are ignored).

    Raises `RowError` naming the missing columns when the header lacks any contract column.
    """
    names = [name.strip().lstrip("\ufeff").strip('"').lower() for name in header]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise RowError(f"header lacks column(s) {', '.join(missing)}")
    return Layout(len(names), *(names.index(column) for column in COLUMNS))


def is_header(fields: Sequence[str]) -> bool:
    """True when a first row is a header rather than data (it names `event_time`)."""
    return any(f.strip().lstrip("\ufeff").strip('"').lower() == "event_time" for f in fields)


def layout_from_data(fields: Sequence[str]) -> Layout | None:
    """Guess the layout of a header-less file from its first data row, None if it fits none."""
    if len(fields) == 9:
        return DEFAULT_LAYOUT
    if len(fields) == 10 and fields[0].strip().isdigit():
        return INDEXED_LAYOUT
    return None


@lru_cache(maxsize=1 << 16)
def parse_event_time(text: str) -> tuple[str, float]:
    """`2019-10-01 00:00:00 UTC` -> (`2019-10-01T00:00:00Z`, epoch seconds).

    Also accepts ISO-8601 with `T`, `Z` or an explicit offset (converted to UTC). Raises
    `RowError` on anything else: a missing zone is refused, because guessing one would
    silently shift every event.
    """
    raw = text.strip()
    candidate = raw
    if raw.endswith(" UTC"):
        candidate = raw[:-4] + "+00:00"
    elif raw.endswith("Z"):
        candidate = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        raise RowError(f"event_time {text!r} is not a timestamp") from None
    if moment.tzinfo is None:
        raise RowError(f"event_time {text!r} has no time zone")
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        iso = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    else:
        iso = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return iso, moment.timestamp()


def parse_id(text: str, column: str) -> int:
    """A non-negative integer id; `5802432.0` (an integral float written by pandas) is accepted.

    Only ASCII digits: `str.isdigit` also accepts superscripts and other scripts' digits."""
    if text.isascii() and text.isdigit():  # the fast path: nearly every REES46 id
        return int(text)
    stripped = text.strip()
    whole, dot, fraction = stripped.partition(".")
    if whole.isascii() and whole.isdigit() and (not dot or (fraction and set(fraction) == {"0"})):
        return int(whole)
    if not stripped:
        raise RowError(f"{column} is empty")
    raise RowError(f"{column} {text!r} is not a non-negative integer")


def parse_category_id(text: str) -> tuple[int | None, str | None]:
    """(category_id or None, warning or None). Empty means null; scientific notation means
    the digits are already gone: null plus a warning, never a float."""
    if text.isascii() and text.isdigit():
        value = int(text)
    else:
        stripped = text.strip()
        if not stripped:
            return None, None
        if "e" in stripped.lower() and stripped.isascii():
            try:
                float(stripped)
            except ValueError:
                raise RowError(f"category_id {text!r} is not an integer") from None
            return None, WARNING_CATEGORY_ID_SCIENTIFIC
        value = parse_id(stripped, "category_id")
    if value > _INT64_MAX:
        raise RowError(f"category_id {text!r} does not fit in 64 bits")
    return value, None


def parse_price(text: str) -> float:
    """A non-negative price with at most two decimals (`0.4` is fine; `1.234` is refused),
    below 10,000,000,000 (the lake's DECIMAL(12, 2)); `1e2` is 100, as the Glue job reads it.

    Refused with a reason: `NaN`, infinities, any sign (`-0` too, as the Glue job does), and
    numbers out of range such as `1e30` or `1e309`."""
    whole, _, fraction = text.partition(".")
    if (
        whole.isascii()
        and whole.isdigit()
        and len(whole) <= 10
        and len(fraction) <= 2
        and (not fraction or (fraction.isascii() and fraction.isdigit()))
    ):
        return float(text)
    stripped = text.strip()
    try:
        value = Decimal(stripped) if stripped.isascii() else None
    except InvalidOperation:
        value = None
    if value is None:
        raise RowError(f"price {text!r} is not a number")
    if not value.is_finite() or value.is_signed():
        raise RowError(f"price {text!r} is not a non-negative number")
    if value >= _PRICE_LIMIT:
        raise RowError(f"price {text!r} is out of range (at most 9999999999.99)")
    if value != value.quantize(_CENTS):
        raise RowError(f"price {text!r} has more than two decimals")
    return float(value)


def _text_or_null(text: str) -> str | None:
    return text if text else None


def _utf8_error(fields: Sequence[str], layout: Layout) -> str | None:
    """The rejection reason when a field holds bytes that were not UTF-8, else None."""
    for column in COLUMNS:
        value = fields[getattr(layout, column)]
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError as exc:
                byte = value.encode("utf-8", "surrogateescape")[exc.start]
                return f"{column} is not UTF-8 (byte 0x{byte:02x})"
    return None


def parse_row(fields: Sequence[str], layout: Layout = DEFAULT_LAYOUT) -> Parsed:
    """Apply the contract to one CSV row (already split into fields by the csv module).

    Never raises on bad data: a row that does not meet the contract comes back with
    `reason` set (and `event` None) so that the caller can count and keep it.
    """
    if len(fields) != layout.width:
        return Parsed(None, f"expected {layout.width} fields, got {len(fields)}", None, 0.0)
    try:
        event_time, epoch = parse_event_time(fields[layout.event_time])
        event_type = fields[layout.event_type]
        if event_type not in EVENT_TYPES:
            raise RowError(f"event_type {event_type!r} is not one of {sorted(EVENT_TYPES)}")
        category_id, warning = parse_category_id(fields[layout.category_id])
        session = fields[layout.user_session].strip()
        event = {
            "event_time": event_time,
            "event_type": event_type,
            "product_id": parse_id(fields[layout.product_id], "product_id"),
            "category_id": category_id,
            "category_code": _text_or_null(fields[layout.category_code].strip()),
            "brand": _text_or_null(fields[layout.brand].strip()),
            "price": parse_price(fields[layout.price]),
            "user_id": parse_id(fields[layout.user_id], "user_id"),
            "user_session": session or None,
        }
    except RowError as exc:
        return Parsed(None, _utf8_error(fields, layout) or str(exc), None, 0.0)
    # Only the free-text fields can carry a non-UTF-8 byte or a NUL this far (the others
    # would not have parsed); plain ASCII, nearly every row, needs one more look each.
    text = session + fields[layout.category_code] + fields[layout.brand]  # one look, not six
    if not text.isascii():
        reason = _utf8_error(fields, layout)
        if reason is not None:
            return Parsed(None, reason, None, 0.0)
    if "\x00" in text:
        return Parsed(None, "a text field holds a NUL byte (a corrupt row)", None, 0.0)
    return Parsed(event, None, warning, epoch)


def _json_string(value: str) -> str:
    # Nearly every value is plain ASCII without quotes or backslashes: skip json.dumps then.
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def encode_event(event: dict[str, Any], ingested_at: str) -> bytes:
    """The event as one compact UTF-8 JSON object with `ingested_at` added.

    Hand-written because it runs once per event and is about four times faster than
    `json.dumps`; `tests/unit/test_contract.py` checks it against `json.loads`. `category_id`
    is written as a JSON integer (all 19 digits), `price` as a number with at most two decimals.
    """
    category_id = event["category_id"]
    category_code = event["category_code"]
    brand = event["brand"]
    session = event["user_session"]
    return (
        f'{{"event_time":"{event["event_time"]}","event_type":"{event["event_type"]}",'
        f'"product_id":{event["product_id"]},'
        f'"category_id":{"null" if category_id is None else category_id},'
        f'"category_code":{"null" if category_code is None else _json_string(category_code)},'
        f'"brand":{"null" if brand is None else _json_string(brand)},'
        f'"price":{event["price"]!r},"user_id":{event["user_id"]},'
        f'"user_session":{"null" if session is None else _json_string(session)},'
        f'"ingested_at":"{ingested_at}"}}'
    ).encode()


def utc_now_iso() -> str:
    """The current time as the contract writes it (`ingested_at`), millisecond precision."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"

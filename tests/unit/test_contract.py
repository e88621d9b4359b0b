"""The event contract: one REES46 row to one event, or a rejection with its reason."""

from __future__ import annotations

import json

import pytest

from ecomm_cli import contract

pytestmark = pytest.mark.unit

ROW = [
    "2019-10-01 00:00:00 UTC",
    "view",
    "44600062",
    "2103807459595387724",
    "",
    "shiseido",
    "35.79",
    "541312140",
    "72d76fde-8bb3-4e00-8c23-a032dfed738c",
]


def with_(index: int, value: str) -> list[str]:
    row = list(ROW)
    row[index] = value
    return row


def test_a_real_row_becomes_the_contract_event() -> None:
    parsed = contract.parse_row(ROW)
    assert parsed.reason is None and parsed.warning is None
    assert parsed.event == {
        "event_time": "2019-10-01T00:00:00Z",
        "event_type": "view",
        "product_id": 44600062,
        "category_id": 2103807459595387724,
        "category_code": None,
        "brand": "shiseido",
        "price": 35.79,
        "user_id": 541312140,
        "user_session": "72d76fde-8bb3-4e00-8c23-a032dfed738c",
    }
    assert parsed.epoch == 1569888000.0


def test_encoded_event_keeps_19_digits_and_adds_ingested_at() -> None:
    event = contract.parse_row(ROW).event
    assert event is not None
    data = contract.encode_event(event, "2026-11-28T01:00:00.000Z")
    assert b'"category_id":2103807459595387724,' in data
    decoded = json.loads(data)
    assert decoded == {**event, "ingested_at": "2026-11-28T01:00:00.000Z"}
    assert list(decoded) == list(contract.EVENT_FIELDS)


@pytest.mark.parametrize(
    "text", ['Apple "Pro"', "back\\slash", "tab\there", "марка", "emoji 😀", "line\nbreak"]
)
def test_encoding_escapes_what_json_needs(text: str) -> None:
    event = contract.parse_row(with_(5, text)).event
    assert event is not None
    assert json.loads(contract.encode_event(event, "x"))["brand"] == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5802432.0", 5802432), ("5802432", 5802432), ("5802432.00", 5802432)],
)
def test_integral_ids_written_as_floats_are_integers(value: str, expected: int) -> None:
    event = contract.parse_row(with_(2, value)).event
    assert event is not None and event["product_id"] == expected
    event = contract.parse_row(with_(7, value)).event
    assert event is not None and event["user_id"] == expected


def test_scientific_category_id_becomes_null_with_a_warning() -> None:
    parsed = contract.parse_row(with_(3, "2.05301355069845E+18"))
    assert parsed.event is not None and parsed.event["category_id"] is None
    assert parsed.warning == contract.WARNING_CATEGORY_ID_SCIENTIFIC


def test_empty_code_brand_and_category_are_null() -> None:
    row = with_(4, "")
    row[5] = ""
    row[3] = ""
    event = contract.parse_row(row).event
    assert event is not None
    assert (event["category_code"], event["brand"], event["category_id"]) == (None, None, None)


def test_an_empty_user_session_is_null() -> None:
    event = contract.parse_row(with_(8, " ")).event
    assert event is not None and event["user_session"] is None
    assert json.loads(contract.encode_event(event, "x"))["user_session"] is None


def test_price_keeps_at_most_two_decimals() -> None:
    event = contract.parse_row(with_(6, "0.4")).event
    assert event is not None and event["price"] == 0.4
    assert b'"price":0.4,' in contract.encode_event(event, "x")


@pytest.mark.parametrize(
    ("index", "value", "reason"),
    [
        (0, "2019-10-01 00:00:00", "has no time zone"),
        (0, "yesterday", "is not a timestamp"),
        (1, "click", "event_type 'click'"),
        (2, "12a", "product_id '12a' is not a non-negative integer"),
        (2, "5802432.5", "is not a non-negative integer"),
        (7, "", "user_id is empty"),
        (3, "99999999999999999999", "does not fit in 64 bits"),
        (3, "abc", "category_id 'abc'"),
        (6, "1.234", "more than two decimals"),
        (6, "-1", "non-negative"),
        (6, "cheap", "is not a number"),
        (6, "1e30", "out of range"),
        (6, "1e309", "out of range"),
        (6, "NaN", "non-negative"),
        (6, "-0", "non-negative"),
        (6, "¹", "is not a number"),
        (2, "¹²", "is not a non-negative integer"),
        (5, "nestl\udce9", "brand is not UTF-8 (byte 0xe9)"),
        (0, "2019-10-01 00:00:00 UTC\udcff", "event_time is not UTF-8 (byte 0xff)"),
    ],
)
def test_rows_breaking_the_contract_are_rejected_with_a_reason(
    index: int, value: str, reason: str
) -> None:
    parsed = contract.parse_row(with_(index, value))
    assert parsed.event is None
    assert parsed.reason is not None and reason in parsed.reason


def test_a_truncated_row_is_rejected() -> None:
    parsed = contract.parse_row(ROW[:8])
    assert parsed.event is None and parsed.reason == "expected 9 fields, got 8"


def test_other_time_zones_are_converted_to_utc() -> None:
    assert contract.parse_event_time("2019-10-01T02:00:00+02:00")[0] == "2019-10-01T00:00:00Z"
    assert contract.parse_event_time("2019-10-01T00:00:00.250Z")[0] == "2019-10-01T00:00:00.250Z"


def test_layouts_from_header_index_column_and_data() -> None:
    header = ["", *contract.COLUMNS]
    assert contract.is_header(header)
    assert contract.layout_from_header(header) == contract.INDEXED_LAYOUT
    assert contract.layout_from_data(ROW) == contract.DEFAULT_LAYOUT
    assert contract.layout_from_data(["17", *ROW]) == contract.INDEXED_LAYOUT
    assert contract.layout_from_data(ROW[:5]) is None
    assert not contract.is_header(ROW)
    with pytest.raises(contract.RowError, match="lacks column"):
        contract.layout_from_header(["event_time", "event_type"])
    parsed = contract.parse_row(["0", *ROW], contract.INDEXED_LAYOUT)
    assert parsed.event is not None and parsed.event["user_id"] == 541312140

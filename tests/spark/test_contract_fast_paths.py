"""The contract's fast paths give the answers of the plain expressions they replaced.

Each fast path in glue/curate_events.py skips work for the common row (trims only where an end
is whitespace, counts characters only past FIELD_LIMIT bytes, builds the list of reasons only
for a row that fails a rule). These tests hold each to the plain expression on the rows where
the two could differ, and hold the session to the code-size limit the job's speed depends on.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from ecomm_cli.etl.local_runner import load_glue_job

job = load_glue_job()
TEXT = StructType([StructField("t", StringType())])


def column(spark: Any, values: list[str | None], expression: Any) -> list[Any]:
    frame = spark.createDataFrame([(v,) for v in values], TEXT)
    return [row[0] for row in frame.select(expression).collect()]


def test_stripped_equals_btrim_then_empty_as_null(spark: Any) -> None:
    values = [None, "", " ", "\t\r\n ", "apple", " apple", "apple\n", "\tapple ", "a b", "\r", "é "]
    fast = column(spark, values, job._stripped(F.col("t")))
    plain = [v.strip(" \t\r\n") or None if v is not None else None for v in values]
    assert fast == plain


def test_text_longer_than_the_limit_counts_characters_not_bytes(spark: Any) -> None:
    limit = job.FIELD_LIMIT
    values = [
        "é" * (limit // 2 + 10),  # more bytes than the limit, fewer characters: kept
        "é" * limit,  # exactly the limit in characters: kept
        "é" * (limit + 1),  # one character over: refused
        "x" * (limit + 1),
        "bad \ufffd byte",
        "nul \x00 byte",
        "plain",
    ]
    problems = column(spark, values, job._text_problem("t"))
    assert problems == [
        None,
        None,
        f"t: longer than {limit} characters",
        f"t: longer than {limit} characters",
        "t: not UTF-8",
        "t: holds a NUL byte",
        None,
    ]


def test_price_bounds_with_the_narrow_decimal(spark: Any) -> None:
    # (price text, reason or None): DECIMAL(12,2) holds 10 integer digits; the check reads
    # the price as DECIMAL(18,6), which must still tell each of these apart.
    cases = [
        ("9999999999.99", None),
        ("0.4", None),
        ("1.2345678E7", None),  # 12345678: a JSON float that holds whole cents
        ("1.234567891E7", None),
        ("1.2345678912E7", "price: more than two decimals"),
        ("1.2345678E10", "price: out of range"),  # 11 integer digits
        ("10000000000", "price: out of range"),
        ("123456789012.5", "price: out of range"),  # 12 digits: fits the check, not the column
        ("1234567890123", "price: out of range"),  # 13 digits: fits neither
        ("1e30", "price: out of range"),
        ("1.005", "price: more than two decimals"),
        ("-1", "price: not a non-negative number"),
    ]
    rows = [
        {
            "event_time": "2019-10-06T10:15:00Z",
            "event_type": "view",
            "product_id": "1",
            "category_id": None,
            "category_code": None,
            "brand": None,
            "price": price,
            "user_id": "7",
            "user_session": "s",
            "ingested_at": None,
            "record": "{}",
            "batch": "b",
            "object": "o",
            "source_error": None,
        }
        for price, _ in cases
    ]
    schema = StructType([StructField(name, StringType()) for name in rows[0]])
    frame = spark.createDataFrame(rows, schema)
    frame = frame.withColumn(job.EVENT_TIME_AT, job._utc_timestamp(F.col("event_time")))
    conformed = job.conform(frame).collect()
    assert [r["reason"] for r in conformed] == [reason for _, reason in cases]
    # A valid row keeps no record; a rejected one keeps it for the quarantine.
    assert [r["record"] is None for r in conformed] == [reason is None for _, reason in cases]


def test_the_session_compiles_the_contract_method_by_method(spark: Any) -> None:
    # The contract's fused method is 11,000-15,000 bytes of bytecode, over HotSpot's 8,000-byte
    # JIT limit: without this setting it runs interpreted, at about half the job's speed.
    assert spark.conf.get("spark.sql.codegen.hugeMethodLimit") == "8000"

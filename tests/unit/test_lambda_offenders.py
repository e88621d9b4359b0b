"""Pure logic of the alerting Lambda: anomaly parsing, KPL de-aggregation, item shapes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from alerting.offenders import (
    MAX_SAMPLES,
    MalformedAnomaly,
    alert_message,
    cooldown_key,
    iso_utc,
    offender_item,
    offender_key,
    parse_anomaly,
    user_payloads,
)
from aws_kinesis_agg.aggregator import RecordAggregator

pytestmark = pytest.mark.unit

GOOD: dict[str, Any] = {
    "user_id": 512386086,
    "rule": "flood",
    "window_start": "2019-10-01T00:00:00Z",
    "window_end": "2019-10-01T00:00:10Z",
    "count": 42,
    "samples": [{"event_type": "view", "product_id": 5802432, "price": 1.99}],
}


def payload(**changes: Any) -> bytes:
    doc = {**GOOD, **changes}
    doc = {k: v for k, v in doc.items() if v is not ...}
    return json.dumps(doc).encode()


def lambda_record(data: bytes, sequence: str = "1") -> dict[str, Any]:
    return {
        "eventSource": "aws:kinesis",
        "eventID": f"shardId-000000000000:{sequence}",
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "p",
            "sequenceNumber": sequence,
            "approximateArrivalTimestamp": 1569888000.0,
            "data": base64.b64encode(data).decode(),
        },
    }


def test_a_valid_anomaly_is_parsed_with_utc_windows() -> None:
    anomaly = parse_anomaly(payload())
    assert anomaly.user_id == 512386086
    assert anomaly.rule == "flood"
    assert anomaly.window_start == datetime(2019, 10, 1, tzinfo=UTC)
    assert anomaly.count == 42
    assert anomaly.offender == "user#512386086"


def test_a_platform_wide_anomaly_has_no_user() -> None:
    anomaly = parse_anomaly(payload(user_id=..., rule="traffic_spike"))
    assert anomaly.user_id is None
    assert anomaly.offender == "platform"
    assert parse_anomaly(payload(user_id=None)).offender == "platform"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (payload(rule=...), "rule"),
        (payload(rule="Flood Rule"), "rule"),
        (payload(user_id="42"), "user_id"),
        (payload(user_id=True), "user_id"),
        (payload(user_id=-1), "user_id"),
        (payload(window_start="yesterday"), "window_start"),
        (payload(window_end=...), "window_end"),
        (payload(window_end="2019-10-01T00:00:00Z"), "not after"),
        (payload(count=1.5), "count"),
        (payload(count=...), "count"),
        (payload(samples="x"), "samples"),
    ],
)
def test_malformed_anomalies_are_refused_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedAnomaly, match=reason):
        parse_anomaly(raw)


def test_window_times_in_any_iso_spelling_give_the_same_offender_key() -> None:
    # Flink's TIMESTAMP(3) JSON has no zone; an offset spelling is the same instant.
    a = parse_anomaly(payload())
    b = parse_anomaly(payload(window_start="2019-10-01 00:00:00", window_end="2019-10-01T00:00:10"))
    c = parse_anomaly(
        payload(window_start="2019-10-01T02:00:00+02:00", window_end="2019-10-01T00:00:10.000Z")
    )
    assert offender_key(a) == offender_key(b) == offender_key(c)
    assert offender_key(a) == (
        "user#512386086",
        "rule#flood#window#2019-10-01T00:00:00Z#2019-10-01T00:00:10Z",
    )


def test_iso_utc_keeps_milliseconds_only_when_present() -> None:
    assert iso_utc(datetime(2019, 10, 1, 0, 0, 0, tzinfo=UTC)) == "2019-10-01T00:00:00Z"
    assert iso_utc(datetime(2019, 10, 1, 0, 0, 0, 250000, tzinfo=UTC)) == "2019-10-01T00:00:00.250Z"


def test_the_cooldown_key_is_per_offender_across_rules() -> None:
    flood = parse_anomaly(payload())
    scraper = parse_anomaly(payload(rule="scraper", window_end="2019-10-01T00:01:00Z"))
    assert cooldown_key(flood) == cooldown_key(scraper) == ("user#512386086", "cooldown")
    assert offender_key(flood) != offender_key(scraper)


def test_the_offender_item_expires_from_the_alerting_clock() -> None:
    detected = datetime(2026, 1, 1, tzinfo=UTC)
    item = offender_item(parse_anomaly(payload()), detected, ttl_days=30)
    assert item["expires_at"] == int(datetime(2026, 1, 31, tzinfo=UTC).timestamp())
    assert item["detected_at"] == "2026-01-01T00:00:00Z"
    assert item["pk"] == "user#512386086" and item["user_id"] == 512386086
    assert json.loads(item["samples"]) == GOOD["samples"]
    platform = offender_item(parse_anomaly(payload(user_id=...)), detected, ttl_days=1)
    assert "user_id" not in platform


def test_samples_written_as_json_text_by_flink_are_read_as_a_list() -> None:
    text = json.dumps([{"event_type": "view", "user_id": 1}])
    assert parse_anomaly(payload(samples=text)).samples == [{"event_type": "view", "user_id": 1}]
    with pytest.raises(MalformedAnomaly, match="samples"):
        parse_anomaly(payload(samples="[not json"))
    with pytest.raises(MalformedAnomaly, match="samples"):
        parse_anomaly(payload(samples='{"a": 1}'))


def test_samples_are_capped() -> None:
    anomaly = parse_anomaly(payload(samples=[{"n": i} for i in range(50)]))
    assert len(anomaly.samples) == MAX_SAMPLES


def test_alert_message_names_the_offender_and_is_json() -> None:
    detected = datetime(2026, 1, 1, tzinfo=UTC)
    subject, body = alert_message(parse_anomaly(payload()), detected)
    assert subject == "ecomm alert: flood by user 512386086"
    assert json.loads(body)["user_id"] == 512386086
    subject, body = alert_message(
        parse_anomaly(payload(user_id=..., rule="traffic_spike")), detected
    )
    assert "the platform" in subject
    assert "user_id" not in json.loads(body)


def test_a_plain_record_yields_its_payload() -> None:
    assert list(user_payloads(lambda_record(payload()))) == [payload()]


def test_a_kpl_aggregate_is_split_into_its_anomalies() -> None:
    aggregator = RecordAggregator()
    first, second = payload(), payload(user_id=7, rule="scraper")
    aggregator.add_user_record("a", first)
    aggregator.add_user_record("b", second)
    _pk, _ehk, data = aggregator.clear_and_get().get_contents()
    assert list(user_payloads(lambda_record(data))) == [first, second]


def test_a_corrupt_kpl_aggregate_is_not_silently_empty() -> None:
    aggregator = RecordAggregator()
    aggregator.add_user_record("a", payload())
    _pk, _ehk, data = aggregator.clear_and_get().get_contents()
    corrupt = data[:-3] + b"xyz"  # the MD5 no longer matches: not an aggregate any more
    payloads = list(user_payloads(lambda_record(corrupt)))
    with pytest.raises(MalformedAnomaly):
        parse_anomaly(payloads[0])


def test_the_kpl_magic_matches_the_library() -> None:
    import aws_kinesis_agg
    from alerting.offenders import KPL_MAGIC

    assert aws_kinesis_agg.MAGIC == KPL_MAGIC

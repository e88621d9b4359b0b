"""Pure logic of `ecomm alerts`: durations, offender items, the verdict."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ecomm_cli.alerts.status import (
    AlertsError,
    CheckResult,
    Offender,
    alarm_from_api,
    offender_from_item,
    parse_duration,
    recent_offenders,
)

pytestmark = pytest.mark.unit


def _item(**overrides: dict[str, str]) -> dict[str, dict[str, str]]:
    item = {
        "pk": {"S": "user#42"},
        "sk": {"S": "rule#flood#window#2019-10-01T00:00:00Z#2019-10-01T00:00:10Z"},
        "rule": {"S": "flood"},
        "window_start": {"S": "2019-10-01T00:00:00Z"},
        "window_end": {"S": "2019-10-01T00:00:10Z"},
        "count": {"N": "31"},
        "detected_at": {"S": "2026-11-28T02:00:00.250Z"},
        "user_id": {"N": "42"},
        "expires_at": {"N": "1800000000"},
    }
    item.update(overrides)
    return item


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("1h", 3600), (" 2d ", 172800), ("1w", 604800)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0m", "15", "m", "1.5h", "-1h", "1y", "1h30m"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(AlertsError, match="duration"):
        parse_duration(text)


def test_offender_item_decodes() -> None:
    offender = offender_from_item(_item())
    assert offender == Offender(
        offender="user#42",
        rule="flood",
        window_start="2019-10-01T00:00:00Z",
        window_end="2019-10-01T00:00:10Z",
        count=31,
        detected_at="2026-11-28T02:00:00.250Z",
        user_id=42,
    )


def test_platform_offender_has_no_user() -> None:
    item = _item(pk={"S": "platform"}, rule={"S": "traffic_spike"})
    del item["user_id"]
    offender = offender_from_item(item)
    assert offender is not None and offender.user_id is None and offender.offender == "platform"


def test_cooldown_items_are_not_offenders() -> None:
    cooldown = {"pk": {"S": "user#42"}, "sk": {"S": "cooldown"}, "notified_at": {"N": "1.5"}}
    assert offender_from_item(cooldown) is None


def test_an_offender_item_without_its_fields_is_an_error() -> None:
    item = _item()
    del item["rule"]
    with pytest.raises(AlertsError, match="lacks 'rule'"):
        offender_from_item(item)


def test_recent_offenders_compare_moments_not_strings() -> None:
    cutoff = datetime(2026, 11, 28, 2, 0, 0, tzinfo=UTC)
    just_after = Offender("user#1", "flood", "a", "b", 20, "2026-11-28T02:00:00.250Z", 1)
    exactly = Offender("user#2", "flood", "a", "b", 20, "2026-11-28T02:00:00Z", 2)
    before = Offender("user#3", "flood", "a", "b", 20, "2026-11-28T01:59:59.999Z", 3)
    assert recent_offenders([before, exactly, just_after], cutoff) == [just_after, exactly]
    assert recent_offenders([before, just_after], None) == [just_after, before]


def test_a_bad_detected_at_is_an_error() -> None:
    broken = Offender("user#1", "flood", "a", "b", 20, "yesterday", 1)
    with pytest.raises(AlertsError, match="not ISO-8601"):
        recent_offenders([broken], None)


def test_verdict() -> None:
    ok = alarm_from_api({"AlarmName": "ecomm-local-dlq-depth", "StateValue": "OK"})
    unknown = alarm_from_api({"AlarmName": "ecomm-local-lambda-errors"})
    firing = alarm_from_api(
        {
            "AlarmName": "ecomm-local-dlq-depth",
            "StateValue": "ALARM",
            "StateReason": "Threshold Crossed",
            "StateUpdatedTimestamp": datetime(2026, 11, 28, 2, 0, tzinfo=UTC),
        }
    )
    assert unknown.state == "INSUFFICIENT_DATA" and not unknown.firing
    assert firing.updated == "2026-11-28T02:00:00Z"
    assert not CheckResult(since="s", alarms=[ok, unknown]).firing
    assert CheckResult(since="s", alarms=[ok, firing]).firing
    offender = offender_from_item(_item())
    assert offender is not None
    result = CheckResult(since="s", offenders=[offender], alarms=[ok])
    assert result.firing
    body = json.loads(result.to_json())
    assert body["firing"] is True and body["offenders"][0]["user_id"] == 42
    assert body["alarms"] == [
        {"name": ok.name, "state": "OK", "reason": "", "updated": "", "firing": False}
    ]

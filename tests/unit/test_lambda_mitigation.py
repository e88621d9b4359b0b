"""Blocks, the allowlist and the lookup's answers: the pure side (lambdas/alerting/mitigation.py
and the routing of lambdas/blocks/handler.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alerting.mitigation import (
    BlockStatus,
    allowlisted,
    block_duration,
    block_fields,
    blocked,
    mitigation_key,
    parse_block_seconds,
    status_from_item,
)
from alerting.offenders import Anomaly
from alerting.store import to_attributes
from blocks.handler import parse_user_id, respond

from ecomm_cli.detect import manifest

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def anomaly(user_id: int | None = 42, rule: str = "flood") -> Anomaly:
    start = datetime(2019, 10, 1, tzinfo=UTC)
    return Anomaly(rule, start, start + timedelta(seconds=10), 31, user_id)


def item(**values: Any) -> dict[str, dict[str, str]]:
    return to_attributes(values)


def test_block_durations_parse_from_the_terraform_json() -> None:
    assert parse_block_seconds('{"flood": 3600, "traffic_spike": 0}') == {
        "flood": 3600,
        "traffic_spike": 0,
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[]", "JSON object"),
        ("nope", "not JSON"),
        ('{"flood": -1}', ">= 0"),
        ('{"flood": 1.5}', "whole number"),
        ('{"flood": "1h"}', "must be a number"),
        ('{"flood": true}', "must be a number"),
    ],
)
def test_bad_block_durations_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_block_seconds(text)


def test_the_manifest_blocks_every_per_user_rule_and_only_alerts_on_the_platform_rule() -> None:
    blocks = {rule.name: rule.block for rule in manifest.load().rules}
    assert all(block is not None for block in blocks.values())
    for rule in manifest.load().rules:
        assert rule.block is not None
        assert (rule.block.value == 0) == (rule.kind == "platform"), rule.name


def test_platform_wide_and_alert_only_rules_block_nobody() -> None:
    durations = {"flood": 3600, "traffic_spike": 0}
    assert block_duration(anomaly(), durations) == 3600
    assert block_duration(anomaly(None, "traffic_spike"), durations) == 0
    assert block_duration(anomaly(rule="traffic_spike"), durations) == 0
    # A rule the map does not list (deployed before the Lambda's settings): alert only.
    assert block_duration(anomaly(rule="new_rule"), durations) == 0
    with pytest.raises(ValueError):
        block_fields(anomaly(None), NOW, 60)


def test_a_block_ends_on_the_alerting_clock_not_the_events() -> None:
    block = block_fields(anomaly(), NOW, 3600)
    assert mitigation_key(42) == {"pk": "user#42", "sk": "mitigation"}
    assert block["until"] == int((NOW + timedelta(hours=1)).timestamp())
    assert block["until_iso"] == "2026-01-01T13:00:00Z"
    assert block["expires_at"] == block["until"]
    assert block["window_start"] == "2019-10-01T00:00:00Z" and block["rule"] == "flood"


def test_a_block_never_ends_before_its_duration_has_passed() -> None:
    # `until` is stored in whole seconds: rounded down, this 1 s block would end 0.1 s after
    # it began.
    late_in_a_second = NOW + timedelta(microseconds=900_000)
    block = block_fields(anomaly(), late_in_a_second, 1)
    assert block["until"] == int(NOW.timestamp()) + 2
    assert block["until_iso"] == "2026-01-01T12:00:02Z"
    assert blocked(user_item(**block), late_in_a_second + timedelta(seconds=1))
    assert not blocked(user_item(**block), NOW + timedelta(seconds=2))


def user_item(**parts: Any) -> dict[str, dict[str, str]]:
    return item(**mitigation_key(42), **parts)


def test_a_block_is_in_force_while_now_is_before_until() -> None:
    block = user_item(**block_fields(anomaly(), NOW, 60))
    assert blocked(block, NOW)
    assert blocked(block, NOW + timedelta(seconds=59))
    assert not blocked(block, NOW + timedelta(seconds=60))
    # A block that cannot end is never honoured; no item is no block.
    assert not blocked(user_item(rule="flood"), NOW)
    assert not blocked(None, NOW)


def test_an_allowlist_entry_without_an_end_lasts_until_removed() -> None:
    forever = user_item(allowed_at="2026-01-01T00:00:00Z", allowed_by="me")
    assert allowlisted(forever, NOW + timedelta(days=3650))
    ending = user_item(allowed_at="x", allowed_until=int(NOW.timestamp()) + 10)
    assert allowlisted(ending, NOW) and not allowlisted(ending, NOW + timedelta(seconds=10))
    assert not allowlisted(user_item(), NOW) and not allowlisted(None, NOW)


def test_status_blocked_then_not_when_the_block_ends() -> None:
    block = user_item(**block_fields(anomaly(), NOW, 60))
    assert status_from_item(42, block, NOW) == BlockStatus(
        42, True, "flood", "2026-01-01T12:01:00Z"
    )
    assert status_from_item(42, block, NOW + timedelta(seconds=60)) == BlockStatus(42, False)
    assert status_from_item(42, None, NOW) == BlockStatus(42, False)


def test_the_allowlist_wins_over_any_block() -> None:
    both = user_item(
        **block_fields(anomaly(), NOW, 86400),
        allowed_at="x",
        allowed_until=int(NOW.timestamp()) + 60,
    )
    assert not status_from_item(42, both, NOW).blocked
    # Once the allowlist entry ended, the block (still in force) counts again.
    assert status_from_item(42, both, NOW + timedelta(seconds=60)).blocked


def test_the_answer_carries_rule_and_until_only_when_blocked() -> None:
    assert BlockStatus(7, False).to_dict() == {"user_id": 7, "blocked": False}
    assert BlockStatus(7, True, "scraper", "2026-01-02T00:00:00Z").to_dict() == {
        "user_id": 7,
        "blocked": True,
        "rule": "scraper",
        "until": "2026-01-02T00:00:00Z",
    }


def url_event(path: str, method: str = "GET") -> dict[str, Any]:
    """The parts of a function URL event (payload format 2.0) the handler reads."""
    return {"rawPath": path, "requestContext": {"http": {"method": method, "path": path}}}


def lookup_of(status: BlockStatus) -> Any:
    calls: list[tuple[int, datetime]] = []

    def lookup(user_id: int, now: datetime) -> BlockStatus:
        calls.append((user_id, now))
        return BlockStatus(user_id, status.blocked, status.rule, status.until)

    lookup.calls = calls  # type: ignore[attr-defined]
    return lookup


def test_the_lookup_answers_blocked_with_rule_and_until() -> None:
    lookup = lookup_of(BlockStatus(0, True, "flood", "2026-01-01T13:00:00Z"))
    response = respond(url_event("/blocks/42"), lookup, NOW)
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert response["headers"]["cache-control"] == "no-store"
    assert json.loads(response["body"]) == {
        "user_id": 42,
        "blocked": True,
        "rule": "flood",
        "until": "2026-01-01T13:00:00Z",
    }
    assert lookup.calls == [(42, NOW)]


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [
        ("/blocks/42/", "GET", 200),
        ("/blocks/abc", "GET", 400),
        ("/blocks/-1", "GET", 400),
        ("/blocks/99999999999999999999", "GET", 400),
        ("/blocks/", "GET", 404),
        ("/", "GET", 404),
        ("/blocks/42/extra", "GET", 404),
        ("/blocks/42", "POST", 405),
        ("/blocks/42", "DELETE", 405),
    ],
)
def test_the_lookup_refuses_what_it_does_not_serve(path: str, method: str, status: int) -> None:
    response = respond(url_event(path, method), lookup_of(BlockStatus(0, False)), NOW)
    assert response["statusCode"] == status, response
    assert isinstance(json.loads(response["body"]), dict)


def test_a_failed_read_is_a_503_the_storefront_fails_open_on() -> None:
    def broken(user_id: int, now: datetime) -> BlockStatus:
        raise RuntimeError("ProvisionedThroughputExceededException")

    response = respond(url_event("/blocks/42"), broken, NOW)
    assert response["statusCode"] == 503
    assert json.loads(response["body"]) == {"message": "lookup unavailable"}


def test_user_ids_are_bigints() -> None:
    assert parse_user_id("0") == 0
    assert parse_user_id(str(2**63 - 1)) == 2**63 - 1
    assert parse_user_id(str(2**63)) is None
    assert parse_user_id("4 2") is None and parse_user_id("") is None

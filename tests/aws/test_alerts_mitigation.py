"""`ecomm alerts allow | unblock | list --active` against a moto server, and the contract with the
alerting Lambda: what the CLI writes, the Lambda's store reads, and the other way round."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from alerting.mitigation import block_fields
from alerting.offenders import Anomaly
from alerting.store import MitigationStore
from typer.testing import CliRunner

from ecomm_cli.alerts.mitigation import BLOCK_ATTRIBUTES, parse_until
from ecomm_cli.alerts.status import AlertsError
from ecomm_cli.app import app

pytestmark = pytest.mark.aws
runner = CliRunner()
REGION = "eu-west-1"


def _dynamodb(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def table(moto_endpoint: str, isolated_environment: Path) -> MitigationStore:
    """A mitigation table named like the local stack's, and the stack record naming it."""
    name = f"t{uuid.uuid4().hex[:8]}-mitigation"
    _dynamodb(moto_endpoint).create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    record = isolated_environment / "local" / "stack.json"
    record.parent.mkdir(parents=True)
    record.write_text(
        json.dumps(
            {
                "endpoint_url": moto_endpoint,
                "outputs": {"mitigation_table": name, "region": REGION},
            }
        )
    )
    return MitigationStore(_dynamodb(moto_endpoint), name)


def block(store: MitigationStore, user_id: int, seconds: int, rule: str = "flood") -> None:
    """A block as the alerting Lambda writes it."""
    now = datetime.now(UTC)
    anomaly = Anomaly(rule, now - timedelta(seconds=10), now, 40, user_id=user_id)
    assert store.extend_block(user_id, block_fields(anomaly, now, seconds), now)


def _json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_list_active_shows_blocks_in_force_longest_first(table: MitigationStore) -> None:
    block(table, 1, 3600)
    block(table, 2, 86400, rule="scraper")
    block(table, 3, 1)  # ends within two seconds (`until` is rounded up): gone when listed

    time.sleep(2.1)
    rows = _json("alerts", "list", "--active")

    assert [(r["user_id"], r["rule"]) for r in rows] == [(2, "scraper"), (1, "flood")]
    assert rows[0]["until"].endswith("Z") and rows[0]["count"] == 40
    terminal = runner.invoke(app, ["alerts", "list", "--active"])
    assert terminal.exit_code == 0 and "2 users blocked, 0 allowlisted" in terminal.output


def test_allow_lifts_the_block_and_the_lambda_never_blocks_again(table: MitigationStore) -> None:
    block(table, 5, 3600)
    assert table.status(5, datetime.now(UTC)).blocked

    answer = _json("alerts", "allow", "5", "--reason", "wholesale buyer", "--until", "30d")

    assert answer["reason"] == "wholesale buyer" and answer["added_by"].startswith("arn:aws:")
    assert answer["lifted_block"]["rule"] == "flood"
    now = datetime.now(UTC)
    assert not table.status(5, now).blocked
    assert table.allowlisted(5, now) and not table.allowlisted(5, now + timedelta(days=31))
    # The Lambda's block write is refused while the entry is in force (one conditional write).
    anomaly = Anomaly("flood", now, now + timedelta(seconds=10), 40, user_id=5)
    assert not table.extend_block(5, block_fields(anomaly, now, 3600), now)
    assert _json("alerts", "list", "--active") == []
    # After the entry ended, the user can be blocked again.
    later = now + timedelta(days=31)
    assert table.extend_block(5, block_fields(anomaly, later, 3600), later)
    assert table.status(5, later).blocked


def test_allow_without_until_lasts_and_a_second_allow_replaces_the_first(
    table: MitigationStore,
) -> None:
    _json("alerts", "allow", "6", "--reason", "first", "--until", "1h")
    second = runner.invoke(app, ["alerts", "allow", "6", "--reason", "reseller"])
    assert second.exit_code == 0, second.output
    assert "allowlisted until removed" in second.output
    assert table.allowlisted(6, datetime.now(UTC) + timedelta(days=3650))
    listed = runner.invoke(app, ["alerts", "list", "--active"])
    assert "0 users blocked, 1 allowlisted" in listed.output


def test_unblock_lifts_a_block_and_is_idempotent(table: MitigationStore) -> None:
    block(table, 7, 3600)
    first = runner.invoke(app, ["alerts", "unblock", "7"])
    assert first.exit_code == 0, first.output
    assert "user 7 unblocked: removed its flood block until" in first.output
    assert not table.status(7, datetime.now(UTC)).blocked

    again = _json("alerts", "unblock", "7")
    assert again["was_blocked"] is False and again["removed_block"] is None
    never = runner.invoke(app, ["alerts", "unblock", "8"])
    assert never.exit_code == 0 and "user 8 was not blocked" in never.output
    # A new offence blocks the user again (unblock is not an allowlisting).
    block(table, 7, 60)
    assert table.status(7, datetime.now(UTC)).blocked


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["alerts", "allow", "5", "--reason", "x", "--until", "yesterday"], "--until"),
        (["alerts", "allow", "5", "--reason", "x", "--until", "2001-01-01"], "not in the future"),
        (["alerts", "allow", "5", "--reason", "  "], "--reason"),
        (["alerts", "allow", "-3", "--reason", "x"], "-3"),
    ],
)
def test_bad_allow_input_is_one_line_and_exit_2(
    table: MitigationStore, args: list[str], message: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_no_stack_is_exit_2(isolated_environment: Path) -> None:
    for args in (["alerts", "list", "--active"], ["alerts", "unblock", "1"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "local stack is not running" in result.output


def test_until_accepts_a_duration_a_date_or_a_time() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert parse_until("12h", now) == datetime(2026, 1, 2, 0, tzinfo=UTC)
    assert parse_until("2026-02-01", now) == datetime(2026, 2, 1, tzinfo=UTC)
    assert parse_until("2026-01-01T18:30:00Z", now) == datetime(2026, 1, 1, 18, 30, tzinfo=UTC)
    with pytest.raises(AlertsError, match="not in the future"):
        parse_until("2026-01-01T12:00:00Z", now)


def test_the_cli_removes_exactly_the_block_part_the_lambda_writes() -> None:
    now = datetime.now(UTC)
    fields = block_fields(Anomaly("flood", now, now, 1, user_id=1), now, 60)
    assert set(BLOCK_ATTRIBUTES) == set(fields) - {"user_id", "expires_at"}

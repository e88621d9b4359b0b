"""The block lookup served locally: the real handler on a moto server's table, over HTTP with
SigV4, and the storefront client's fail-open behaviour."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from alerting.mitigation import block_fields
from alerting.offenders import Anomaly
from alerting.store import MitigationStore
from blocks import handler
from botocore.credentials import Credentials

from ecomm_cli.alerts.lookup import BlocksLookup
from ecomm_cli.local.lookup_server import LookupFunction, LookupServer, running

pytestmark = pytest.mark.aws
REGION = "eu-west-1"
STOREFRONT = Credentials("AKIASTOREFRONT000001", "testing")


@pytest.fixture
def served(moto_endpoint: str) -> Iterator[tuple[LookupServer, MitigationStore]]:
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    table = f"t{uuid.uuid4().hex[:8]}-mitigation"
    dynamodb.create_table(
        TableName=table,
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
    store = MitigationStore(dynamodb, table)
    handler.configure(store)
    server = LookupServer(
        LookupFunction("ecomm-test-blocks", handler.lambda_handler, REGION, "123456789012"), 0
    )
    try:
        with running(server):
            yield server, store
    finally:
        handler.configure(None)


def block(store: MitigationStore, user_id: int, seconds: int) -> datetime:
    """Block the user for `seconds` from now; the `until` stored (whole seconds, rounded up)."""
    now = datetime.now(UTC)
    anomaly = Anomaly("scraper", now, now + timedelta(seconds=60), 51, user_id=user_id)
    fields = block_fields(anomaly, now, seconds)
    assert store.extend_block(user_id, fields, now)
    return datetime.fromtimestamp(fields["until"], UTC)


def test_a_signed_lookup_answers_blocked_with_rule_and_until(served: Any) -> None:
    server, store = served
    until = block(store, 42, 3600)
    client = BlocksLookup(server.url, STOREFRONT, REGION)

    status, body = client.request("/blocks/42")
    assert status == 200
    assert body == {
        "user_id": 42,
        "blocked": True,
        "rule": "scraper",
        "until": until.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    answer = client.check(42)
    assert answer.blocked and answer.rule == "scraper" and not answer.failed_open
    assert client.check(43).blocked is False and not client.check(43).failed_open
    assert server.served == 4 and server.refused == 0


def test_unsigned_and_wrongly_signed_requests_get_403_before_the_handler(served: Any) -> None:
    server, store = served
    block(store, 42, 3600)

    assert BlocksLookup(server.url, STOREFRONT, REGION).request("/blocks/42", sign=False) == (
        403,
        {"Message": "Forbidden"},
    )
    wrong = BlocksLookup(server.url, Credentials("AKIASTOREFRONT000001", "guess"), REGION)
    assert wrong.request("/blocks/42")[0] == 403
    other_region = BlocksLookup(server.url, STOREFRONT, "us-east-1")
    assert other_region.request("/blocks/42")[0] == 403
    # The storefront fails open on a refusal (and counts it).
    answer = wrong.check(42)
    assert answer.blocked is False and answer.failed_open and answer.status == 403
    assert server.served == 0 and server.refused == 4


def test_the_handlers_errors_are_answered_as_the_function_url_would(served: Any) -> None:
    server, _ = served
    client = BlocksLookup(server.url, STOREFRONT, REGION)
    assert client.request("/blocks/nobody")[0] == 400
    assert client.request("/users/42")[0] == 404


def test_a_block_ends_at_its_until(served: Any) -> None:
    server, store = served
    until = block(store, 44, 1)
    client = BlocksLookup(server.url, STOREFRONT, REGION)
    assert client.check(44).blocked
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.05)
    assert not client.check(44).blocked


def test_a_broken_table_is_a_503_and_the_storefront_fails_open(served: Any) -> None:
    server, _ = served
    handler.configure(MitigationStore(boto3.client("dynamodb", region_name=REGION), "missing"))
    answer = BlocksLookup(server.url, STOREFRONT, REGION).check(42)
    assert answer.blocked is False and answer.failed_open and answer.status == 503


def test_an_unreachable_lookup_fails_open_quickly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    answer = BlocksLookup(f"http://127.0.0.1:{port}/", STOREFRONT, REGION).check(42)
    assert answer.blocked is False and answer.failed_open and answer.status is None
    assert answer.reason

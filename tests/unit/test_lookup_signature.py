"""The local function URL's IAM auth: SigV4 signatures made by botocore, checked again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.credentials import Credentials

from ecomm_cli.alerts.lookup import signed_headers
from ecomm_cli.local.lookup_server import Signer, url_event, verify_signature

pytestmark = pytest.mark.unit

REGION = "eu-west-1"
HOST = "127.0.0.1:8787"
URL = f"http://{HOST}/blocks/42"
KEY = Credentials("AKIASTOREFRONT000001", "testing")


def headers(url: str = URL, credentials: Credentials = KEY, region: str = REGION) -> dict[str, str]:
    signed = signed_headers("GET", url, credentials, region)
    # What the HTTP client adds, and what the server then sees.
    return {**signed, "Host": HOST, "User-Agent": "storefront/1.0"}


def verify(found: dict[str, str], target: str = "/blocks/42", **kwargs: object) -> Signer | None:
    now = kwargs.pop("now", datetime.now(UTC))
    return verify_signature("GET", target, found, b"", REGION, now, **kwargs)  # type: ignore[arg-type]


def test_a_request_signed_with_the_local_secret_passes() -> None:
    assert verify(headers()) == Signer("AKIASTOREFRONT000001")


def test_a_session_token_is_signed_along() -> None:
    temporary = Credentials("ASIATEMPORARY0000001", "testing", token="session-token")
    found = headers(credentials=temporary)
    assert found["X-Amz-Security-Token"] == "session-token"
    assert verify(found) == Signer("ASIATEMPORARY0000001")


def test_unsigned_and_wrongly_signed_requests_are_refused() -> None:
    assert verify({"Host": HOST}) is None
    assert verify(headers(credentials=Credentials("AKIASTOREFRONT000001", "guessed"))) is None
    assert verify(headers(region="us-east-1")) is None


def test_a_signature_does_not_carry_over_to_another_user_or_host() -> None:
    assert verify(headers(), target="/blocks/43") is None
    assert verify({**headers(), "Host": "127.0.0.1:9999"}) is None


def test_a_signature_for_another_service_is_refused() -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="GET", url=URL)
    SigV4Auth(KEY, "execute-api", REGION).add_auth(request)
    assert verify({**dict(request.headers.items()), "Host": HOST}) is None


def test_an_old_or_future_signature_is_refused() -> None:
    found = headers()
    assert verify(found, now=datetime.now(UTC) + timedelta(minutes=6)) is None
    assert verify(found, now=datetime.now(UTC) - timedelta(minutes=6)) is None
    assert verify(found, now=datetime.now(UTC) + timedelta(minutes=4)) is not None


def test_the_date_must_be_signed() -> None:
    found = headers()
    found["Authorization"] = found["Authorization"].replace(
        "SignedHeaders=host;x-amz-date", "SignedHeaders=host"
    )
    assert verify(found) is None


def test_the_event_has_the_function_url_shape() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    event = url_event(
        "GET", "/blocks/42?x=1", headers(), b"", Signer("AKIA1"), "123456789012", "10.0.0.1", now
    )
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/blocks/42" and event["rawQueryString"] == "x=1"
    http = event["requestContext"]["http"]
    assert http == {
        "method": "GET",
        "path": "/blocks/42",
        "protocol": "HTTP/1.1",
        "sourceIp": "10.0.0.1",
        "userAgent": "storefront/1.0",
    }
    assert event["requestContext"]["authorizer"]["iam"]["accessKey"] == "AKIA1"
    assert event["headers"]["host"] == HOST and event["isBase64Encoded"] is False

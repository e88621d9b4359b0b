"""Lambda entry point of the block lookup: `GET /blocks/{user_id}` -> blocked (rule, until) or not.

Served by a Lambda function URL with `AWS_IAM` auth, so every request reached here was signed
by a principal allowed `lambda:InvokeFunctionUrl` (the storefront). Locally `ecomm local lookup`
serves this same handler on 127.0.0.1 and checks the signature itself.

Answers (JSON):
- 200 `{"user_id": 42, "blocked": true, "rule": "flood", "until": "2026-01-01T01:00:00Z"}` or
  `{"user_id": 42, "blocked": false}` (no block in force, or the user is allowlisted);
- 400 for a user id that is not a non-negative whole number, 404 for another path, 405 for
  another method;
- 503 when the table cannot be read. The storefront fails open on anything but a 200: a lookup
  that is down must not lock every customer out.

The routing (`respond`) is pure; the table is read through a function passed in, and the client
is created on the first request, not at import.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from alerting.mitigation import MAX_USER_ID, BlockStatus
from alerting.store import MitigationStore

logger = logging.getLogger("blocks")
PATH = re.compile(r"^/blocks/([^/]+)/?$")
_DIGITS = re.compile(r"^[0-9]{1,19}$")

Lookup = Callable[[int, datetime], BlockStatus]


def _answer(status: int, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        # A block ends at a given second and can be lifted any time: never cached.
        "headers": {"content-type": "application/json", "cache-control": "no-store", **headers},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def parse_user_id(text: str) -> int | None:
    """The user id of a path segment, or None when it is not one (a BIGINT, >= 0)."""
    if not _DIGITS.match(text):
        return None
    value = int(text)
    return value if value <= MAX_USER_ID else None


def respond(event: dict[str, Any], lookup: Lookup, now: datetime) -> dict[str, Any]:
    """The function URL response (payload format 2.0) to one request event."""
    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method", "")).upper()
    path = str(event.get("rawPath") or http.get("path") or "")
    match = PATH.match(path)
    if match is None:
        return _answer(404, {"message": "not found: use GET /blocks/{user_id}"})
    if method != "GET":
        return _answer(405, {"message": "only GET is allowed"}, allow="GET")
    user_id = parse_user_id(match.group(1))
    if user_id is None:
        return _answer(400, {"message": "user_id must be a non-negative whole number"})
    try:
        status = lookup(user_id, now)
    except Exception:
        # The storefront fails open on a 503; the log carries the cause.
        logger.exception("block lookup failed", extra={"user_id": user_id})
        return _answer(503, {"message": "lookup unavailable"})
    return _answer(200, status.to_dict())


_store: MitigationStore | None = None


def configure(store: MitigationStore | None) -> None:
    """Inject the store (tests, the local server); None makes the next request rebuild it."""
    global _store
    _store = store


def _current() -> MitigationStore:
    global _store
    if _store is None:
        import boto3  # the Lambda runtime ships boto3; imported late with the client

        table = os.environ.get("MITIGATION_TABLE")
        if not table:
            raise RuntimeError(
                "environment variable MITIGATION_TABLE is not set (Terraform sets it)"
            )
        _store = MitigationStore(boto3.client("dynamodb"), table)
    return _store


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Entry point (`blocks.handler.lambda_handler`)."""
    return respond(event, _current().status, datetime.now(UTC))

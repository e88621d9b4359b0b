"""A storefront's client of the block lookup (`GET /blocks/{user_id}`), failing open.

The lookup is a Lambda function URL with IAM auth on AWS, and `ecomm local lookup` on the local
stack; both want a SigV4 signature for the service `lambda`. `BlocksLookup.check` answers
`blocked` only when the lookup said so: any failure (timeout, refused connection, 403, 5xx,
unreadable body) is "not blocked" with `failed_open` set, because a lookup that is down must
not lock every customer out. The storefront should count those (they are the metric to alarm
on) rather than retry on the request path.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "lambda"  # function URLs are signed for the Lambda service


def signed_headers(
    method: str, url: str, credentials: Credentials, region: str, body: bytes = b""
) -> dict[str, str]:
    """The headers that sign a request to `url` (Authorization, X-Amz-Date, and the session
    token when the credentials carry one), as botocore's SigV4 signer makes them."""
    request = AWSRequest(method=method, url=url, data=body)
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return dict(request.headers.items())


@dataclass(frozen=True)
class LookupAnswer:
    """What the storefront acts on: block only when `blocked`."""

    user_id: int
    blocked: bool
    rule: str | None = None
    until: str | None = None
    failed_open: bool = False
    status: int | None = None  # HTTP status, None when no answer came
    reason: str = ""


class BlocksLookup:
    """Signed calls to one lookup URL over a kept-alive connection (not thread-safe: one per
    thread)."""

    def __init__(
        self, url: str, credentials: Credentials, region: str, timeout: float = 0.2
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"lookup URL {url!r} is not http(s)://host[:port]/")
        self._scheme = parts.scheme
        self._netloc = parts.netloc
        self._base = parts.path.rstrip("/")
        self._credentials = credentials
        self._region = region
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = (
                http.client.HTTPSConnection
                if self._scheme == "https"
                else http.client.HTTPConnection
            )
            self._connection = kind(self._netloc, timeout=self._timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(self, path: str, sign: bool = True) -> tuple[int, dict[str, Any]]:
        """GET `path` (signed unless `sign` is False); (status, JSON body). Raises on a
        transport error or a body that is not a JSON object."""
        url = f"{self._scheme}://{self._netloc}{self._base}{path}"
        headers = signed_headers("GET", url, self._credentials, self._region) if sign else {}
        connection = self._connect()
        try:
            connection.request("GET", f"{self._base}{path}", headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.getheader("connection", "").lower() == "close":
            self.close()
        document = json.loads(body or b"{}")
        if not isinstance(document, dict):
            raise ValueError("the lookup answered something other than a JSON object")
        return response.status, document

    def check(self, user_id: int) -> LookupAnswer:
        """Whether to block the user now; never raises (fails open)."""
        try:
            status, body = self.request(f"/blocks/{user_id}")
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return LookupAnswer(
                user_id, False, failed_open=True, reason=str(exc) or type(exc).__name__
            )
        if status != 200 or not isinstance(body.get("blocked"), bool):
            return LookupAnswer(
                user_id, False, failed_open=True, status=status, reason=str(body.get("message", ""))
            )
        if not body["blocked"]:
            return LookupAnswer(user_id, False, status=status)
        return LookupAnswer(
            user_id, True, rule=body.get("rule"), until=body.get("until"), status=status
        )

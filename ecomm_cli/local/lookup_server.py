"""The function URL stand-in: the block lookup's own handler served on 127.0.0.1, IAM auth included.

The emulator stores the lookup function and its URL but cannot invoke either (no Docker), so
`ecomm local lookup` serves the deployed function's handler (`blocks.handler.lambda_handler`,
imported from `lambdas/` as the Lambda runner does) over HTTP, as the function URL would:

- every request must carry a valid SigV4 signature for the service `lambda` and the stack's
  region, made with the local stack's fake secret (`testing`) and at most 5 minutes old, as AWS
  requires; anything else gets AWS's `403 {"Message":"Forbidden"}`, before the handler runs;
- the handler gets the function URL event (payload format 2.0, with the signer's access key
  under `requestContext.authorizer.iam`) and its answer is sent back as the HTTP response;
- the handler reads the mitigation table named in the function's environment, signed as the
  lookup's role (`aws_clients.COMPONENT_KEYS["blocks"]`), so the emulator's call log attributes
  its reads to that role for the permission check.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import re
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ecomm_cli import aws_clients, environments
from ecomm_cli.errors import EcommError
from ecomm_cli.local import stack
from ecomm_cli.realtime import lambda_runner
from ecomm_cli.settings import Settings

SERVICE = "lambda"
# The emulator's convention: every access key's secret is this (ecomm_cli.aws_clients).
LOCAL_SECRET = "testing"
MAX_SKEW = timedelta(minutes=5)
DEFAULT_PORT = 8787
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/"
    r"(?P<service>[^/,\s]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;_.-]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)
FORBIDDEN: dict[str, Any] = {"statusCode": 403, "headers": {"content-type": "application/json"},
             "body": json.dumps({"Message": "Forbidden"})}  # fmt: skip

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Signer:
    """Who signed a request: the access key, as IAM auth passes it to the function."""

    access_key: str


def verify_signature(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    region: str,
    now: datetime,
    secret: str = LOCAL_SECRET,
) -> Signer | None:
    """The signer of a SigV4-signed request, or None when it is unsigned or wrongly signed.

    The signature is computed again with botocore's signer over the headers the request says
    it signed (`host` and `x-amz-date` must be among them), for the service `lambda` and
    `region`, and compared in constant time; `x-amz-date` must be within 5 minutes of `now`.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    match = _AUTHORIZATION.match(lowered.get("authorization", "").strip())
    if match is None or match["service"] != SERVICE or match["region"] != region:
        return None
    signed = match["signed"].split(";")
    if "host" not in signed or "x-amz-date" not in signed or any(h not in lowered for h in signed):
        return None
    stamp = lowered["x-amz-date"]
    try:
        moment = datetime.strptime(stamp, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        return None
    if stamp[:8] != match["date"] or abs(now - moment) > MAX_SKEW:
        return None
    request = AWSRequest(
        method=method,
        url=f"http://{lowered['host']}{target}",
        headers={name: lowered[name] for name in signed},
        data=body,
    )
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(match["key"], secret), SERVICE, region)
    if signer.signed_headers(signer.headers_to_sign(request)) != match["signed"]:
        return None
    expected = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    if not hmac.compare_digest(expected, match["signature"]):
        return None
    return Signer(match["key"])


def url_event(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    signer: Signer,
    account: str,
    source_ip: str,
    now: datetime,
) -> dict[str, Any]:
    """The function URL event (payload format 2.0) for one HTTP request."""
    parts = urlsplit(target)
    lowered = {name.lower(): value for name, value in headers.items()}
    host = lowered.get("host", "127.0.0.1")
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": account,
            "apiId": "local",
            "authorizer": {
                "iam": {
                    "accessKey": signer.access_key,
                    "accountId": account,
                    "callerId": signer.access_key,
                    "userArn": f"arn:aws:iam::{account}:user/{signer.access_key}",
                    "userId": signer.access_key,
                }
            },
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": body.decode("utf-8", "replace") if body else None,
        "isBase64Encoded": False,
    }


@dataclass(frozen=True)
class LookupFunction:
    """The deployed lookup function: its handler, ready to call, and where it lives."""

    function_name: str
    handler: Handler
    region: str
    account: str


def lookup_function(settings: Settings) -> LookupFunction:
    """The lookup as deployed on the local stack: handler and environment from the emulator
    (GetFunctionConfiguration), its table read with the lookup role's key."""
    settings = stack.running(settings)
    outputs = environments.outputs(settings)
    name = str(outputs["lookup_function_name"])
    client = aws_clients.client("lambda", settings)
    try:
        config = client.get_function_configuration(FunctionName=name)
    except client.exceptions.ResourceNotFoundException:
        raise EcommError(
            f"no Lambda function {name!r} in the emulator",
            "run `ecomm local up` to apply terraform/environments/local",
        ) from None
    handler = lambda_runner.load_handler(config["Handler"])
    table = ((config.get("Environment") or {}).get("Variables") or {}).get("MITIGATION_TABLE")
    if not table:
        raise EcommError(f"{name} has no MITIGATION_TABLE in its environment", "re-apply the stack")
    module = sys.modules[handler.__module__]
    # The handler's documented injection point: the same store it builds on AWS from its
    # environment, with a client signed as the lookup's role on the emulator.
    module.configure(
        module.MitigationStore(
            aws_clients.client("dynamodb", settings, max_attempts=2, component="blocks"), table
        )
    )
    return LookupFunction(name, handler, settings.region, config["FunctionArn"].split(":")[4])


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a storefront's client would use
    # Headers and body go out in separate writes: with Nagle's algorithm the body waits for
    # the client's delayed ACK (about 40 ms on Linux) on every kept-alive request.
    disable_nagle_algorithm = True
    server: LookupServer

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.answer(self, body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: one line per request would cost more than the lookup itself."""


class LookupServer(ThreadingHTTPServer):
    """The lookup function behind a local HTTP endpoint with SigV4 verification."""

    daemon_threads = True

    def __init__(self, function: LookupFunction, port: int = DEFAULT_PORT) -> None:
        super().__init__(("127.0.0.1", port), _RequestHandler)
        self.function = function
        self.served = 0
        self.refused = 0
        self._count = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"

    def answer(self, request: _RequestHandler, body: bytes) -> None:
        now = datetime.now(UTC)
        headers = dict(request.headers.items())
        signer = verify_signature(
            request.command, request.path, headers, body, self.function.region, now
        )
        if signer is None:
            response = FORBIDDEN
        else:
            event = url_event(
                request.command,
                request.path,
                headers,
                body,
                signer,
                self.function.account,
                request.client_address[0],
                now,
            )
            response = self.function.handler(event, None)
        with self._count:
            if signer is None:
                self.refused += 1
            else:
                self.served += 1
        payload = str(response.get("body") or "").encode()
        request.send_response(int(response.get("statusCode", 200)))
        for name, value in (response.get("headers") or {}).items():
            request.send_header(name, str(value))
        request.send_header("content-length", str(len(payload)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(payload)


@contextlib.contextmanager
def running(server: LookupServer) -> Iterator[LookupServer]:
    """`server` answering from a daemon thread while inside; shut down and closed on the way
    out (the demo, the benches and the tests that need a lookup for a while)."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def serve(settings: Settings, port: int = DEFAULT_PORT) -> LookupServer:
    """A server for the local stack's lookup on 127.0.0.1:`port` (0: any free port), not yet
    serving: call `serve_forever()` (or run it in a thread) and `shutdown()` to stop."""
    function = lookup_function(settings)
    try:
        return LookupServer(function, port)
    except OSError as exc:
        raise EcommError(
            f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}",
            "pick another with --port (0 for any free port)",
        ) from None

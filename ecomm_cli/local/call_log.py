"""The emulator's log of who called what: one JSON line per distinct AWS call it answers.

The emulator enforces no IAM. To check what AWS would allow, the tests need every call the
platform's code makes, attributed to the component that makes it: each local runner signs with
its own access key (`aws_clients.COMPONENT_KEYS`), and this WSGI middleware writes the signing
key, service, region, operation, the request's parameters that name a resource and the
answer's status. Identical calls are written once, so a follow loop's thousand polls cost one line.

Set ECOMM_EMULATOR_CALL_LOG=<file> in the environment of `ecomm local up` (or of the
emulator process) to turn it on; tests/permissions reads the file.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

ENV_VAR = "ECOMM_EMULATOR_CALL_LOG"
# The request parameters that name what a call acts on (what IAM evaluates it against);
# payloads (records, items, messages) and per-call tokens are left out, so polls dedupe.
RESOURCE_PARAMS = frozenset(
    {
        "AlarmNamePrefix",
        "Bucket",
        "ConsumerARN",
        "ConsumerName",
        "DatabaseName",
        "FunctionName",
        "JobName",
        "Key",
        "Namespace",
        "Prefix",
        "QueueUrl",
        "StreamARN",
        "StreamName",
        "TableName",
        "TargetArn",
        "TopicArn",
        "WorkGroup",
        "logGroupName",
        "logStreamName",
    }
)
_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_CBOR_PATH = re.compile(r"/service/[^/]+/operation/([A-Za-z]+)$")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def describe(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    """The call a request makes: signing key, service, region, operation and parameters."""
    authorization = headers.get("authorization", "")
    match = _CREDENTIAL.search(authorization)
    key, region, service = match.groups() if match else ("", "", "")
    if not match and "X-Amz-Credential" in query:
        # Presigned URLs carry the credential in the query string.
        credential = dict(parse_qsl(query)).get("X-Amz-Credential", "")
        parts = credential.split("/")
        if len(parts) >= 4:
            key, region, service = parts[0], parts[2], parts[3]
    operation, params = _operation(method, path, query, headers, body, service)
    return {
        "key": key,
        "service": service,
        "region": region,
        "operation": operation,
        "params": params,
    }


def _operation(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, service: str
) -> tuple[str, dict[str, str]]:
    target = headers.get("x-amz-target", "")
    if target:  # JSON protocols: Kinesis, DynamoDB, SQS, Logs, Glue, Athena, ...
        return target.rsplit(".", 1)[-1], _short_strings(_json(body))
    cbor = _CBOR_PATH.search(path)
    if cbor:  # smithy RPC v2 CBOR: CloudWatch
        return cbor.group(1), _short_strings(_cbor(body))
    form = dict(parse_qsl(body.decode("utf-8", "replace"))) if body else {}
    form.update(dict(parse_qsl(query)))
    if "Action" in form:  # query protocols: SNS, IAM, STS
        return str(form.pop("Action")), _short_strings(form)
    if service == "s3":
        return _s3_operation(method, path, query)
    # REST-JSON services (Lambda, Firehose is JSON above): the method and path say it.
    return f"{method} {urlparse(path).path}", {}


def _s3_operation(method: str, path: str, query: str) -> tuple[str, dict[str, str]]:
    """S3 is REST: the operation follows from the method, the path and the query keys."""
    parts = unquote(path).lstrip("/").split("/", 1)
    bucket = parts[0]
    key = parts[1] if len(parts) > 1 else ""
    keys = {k for k, _ in parse_qsl(query, keep_blank_values=True)}
    params = {"Bucket": bucket, **({"Key": key} if key else {})}
    if not key:
        if method == "GET" and "list-type" in keys:
            return "ListObjectsV2", {**params, **_prefix(query)}
        if method == "GET" and "versions" in keys:
            return "ListObjectVersions", params
        if method == "GET" and not keys:
            return "ListObjects", {**params, **_prefix(query)}
        if method == "HEAD":
            return "HeadBucket", params
        if method == "POST" and "delete" in keys:
            return "DeleteObjects", params
        return f"{method} bucket ?{','.join(sorted(keys))}", params
    if "uploads" in keys or "uploadId" in keys:
        name = {
            "POST": "CreateMultipartUpload" if "uploads" in keys else "CompleteMultipartUpload",
            "PUT": "UploadPart",
            "DELETE": "AbortMultipartUpload",
        }
        return name.get(method, f"{method} upload"), params
    names = {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "DELETE": "DeleteObject"}
    return names.get(method, f"{method} object"), params


def _prefix(query: str) -> dict[str, str]:
    prefix = dict(parse_qsl(query)).get("prefix")
    return {"Prefix": prefix} if prefix is not None else {}


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _cbor(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    from botocore.parsers import RpcV2CBORParser

    try:
        value = RpcV2CBORParser().parse_data_item(io.BufferedReader(io.BytesIO(body)))
    except Exception:  # a body we cannot read still names its operation
        return {}
    return value if isinstance(value, dict) else {}


def _short_strings(params: dict[str, Any]) -> dict[str, str]:
    """The string parameters that name resources (RESOURCE_PARAMS)."""
    kept = {
        name: value
        for name, value in params.items()
        if name in RESOURCE_PARAMS and isinstance(value, str)
    }
    iterator = params.get("ShardIterator")
    if isinstance(iterator, str):
        # The emulator's iterators encode "stream:shard:sequence"; the stream is what IAM sees
        # (AWS resolves the iterator to its stream ARN), and dropping the rest dedupes polls.
        try:
            kept["StreamName"] = base64.b64decode(iterator).decode().split(":", 1)[0]
        except ValueError:
            kept["StreamName"] = "?"
    return kept


class CallLog:
    """WSGI middleware writing `describe(...)` plus the answer's status, once per distinct
    call, to a JSON lines file."""

    def __init__(self, app: WsgiApp, path: Path) -> None:
        self._app = app
        self._path = path
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {
            name[5:].replace("_", "-").lower(): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        call = describe(
            environ.get("REQUEST_METHOD", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            headers,
            body,
        )

        def recording_start_response(status: str, *args: Any) -> Any:
            if call["key"]:  # unsigned requests are the emulator's own API, not AWS calls
                self._write({**call, "status": int(status.split(" ", 1)[0])})
            return start_response(status, *args)

        return self._app(environ, recording_start_response)

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True)
        with self._lock:
            if line in self._seen:
                return
            self._seen.add(line)
            with self._path.open("a", encoding="utf-8") as log:
                log.write(line + "\n")


def read(path: Path) -> list[dict[str, Any]]:
    """Every call in a log file (none when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]

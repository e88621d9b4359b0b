"""The Terraform state of dev and prod, read from their S3 backend: where it is, and its outputs.

`backend.hcl` says where the state lives; a HEAD on that object gives its ETag, which keys a
cache of the outputs in the state folder, so that every command after the first costs one
request, and someone else's apply (a new state object, a new ETag) invalidates the cache.
On a cache miss Terraform itself reads the outputs (`terraform output -json`), after a
`terraform init` when this machine has none for that backend (a fresh clone).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecomm_cli.aws_clients import aws_error
from ecomm_cli.errors import EcommError
from ecomm_cli.settings import Settings

# What `ecomm bootstrap` replaces: the committed backend.hcl files name no real bucket.
PLACEHOLDER = "replace-with-your-account-id"
# One `name = value` per line: a string, a boolean or a number (all backend.hcl ever holds).
_LINE = re.compile(r'^\s*([a-z_]+)\s*=\s*("(?:[^"\\]|\\.)*"|true|false|-?\d+)\s*(?:#.*)?$')


@dataclass(frozen=True)
class Backend:
    """The S3 backend settings of one environment (its backend.hcl)."""

    env: str
    path: Path
    bucket: str
    key: str
    region: str
    kms_key_id: str | None = None

    @property
    def state_url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_backend_hcl(text: str, path: Path) -> dict[str, Any]:
    """The settings of a backend.hcl file; a line that is not `name = value` is an error."""
    values: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise EcommError(
                f"{path}:{number} is not a `name = value` line: {line.strip()!r}",
                hint="write it again with `ecomm bootstrap`",
            )
        name, raw = match.groups()
        values[name] = raw == "true" if raw in ("true", "false") else json.loads(raw)
    return values


def backend(settings: Settings) -> Backend:
    """The environment's backend, or one line saying that `ecomm bootstrap` has not run."""
    path = settings.environment_dir / "backend.hcl"
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise EcommError(
            f"the Terraform state bucket of {settings.env} is not configured ({path} is missing)",
            hint="run `ecomm bootstrap` once per account; it writes backend.hcl",
        ) from None
    values = parse_backend_hcl(text, path)
    bucket = str(values.get("bucket", ""))
    if not bucket or PLACEHOLDER in bucket:
        raise EcommError(
            f"the Terraform state bucket of {settings.env} is not configured",
            hint="run `ecomm bootstrap` once per account; it writes backend.hcl",
        )
    missing = [name for name in ("key", "region") if not values.get(name)]
    if missing:
        raise EcommError(
            f"{path} has no {' and no '.join(missing)}",
            hint="write it again with `ecomm bootstrap`",
        )
    return Backend(
        env=settings.env,
        path=path,
        bucket=bucket,
        key=str(values["key"]),
        region=str(values["region"]),
        kms_key_id=values.get("kms_key_id"),
    )


def _aws_error(exc: Exception, where: Backend) -> EcommError:
    """A one-line error for a failed read of the state object."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket":
            return EcommError(
                f"the Terraform state bucket {where.bucket} of {where.env} does not exist",
                hint=f"run `ecomm bootstrap` in this account, or fix the bucket in {where.path}",
            )
        if code in ("403", "AccessDenied", "Forbidden") or status == 403:
            return EcommError(
                f"access denied reading the state of {where.env} ({where.state_url})",
                hint="attach the bootstrap's state_reader_policy_json for this environment",
            )
    known = aws_error(exc)
    if known is not None and known.hint:  # credentials, endpoint, region: the fix is known
        return known
    reason = known.message if known else (str(exc).splitlines() or [type(exc).__name__])[0]
    return EcommError(
        f"cannot read the state of {where.env} ({where.state_url}): {reason}",
        hint="check the network, AWS_ENDPOINT_URL and the region in backend.hcl",
    )


def state_etag(s3: Any, where: Backend) -> str | None:
    """The ETag of the state object; None when no state was ever written there."""
    try:
        head = s3.head_object(Bucket=where.bucket, Key=where.key)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if status == 404 and code != "NoSuchBucket":
            # HEAD has no body, so a missing bucket is also a bare 404: ask which it is.
            if _bucket_exists(s3, where):
                return None
            exc.response["Error"]["Code"] = "NoSuchBucket"
        raise _aws_error(exc, where) from None
    except BotoCoreError as exc:
        raise _aws_error(exc, where) from None
    return str(head["ETag"]).strip('"')


def _bucket_exists(s3: Any, where: Backend) -> bool:
    try:
        s3.head_bucket(Bucket=where.bucket)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404:
            return False
        raise _aws_error(exc, where) from None
    return True


def cache_file(settings: Settings) -> Path:
    return settings.state_dir / "outputs" / f"{settings.env}.json"


def read_cache(settings: Settings, where: Backend, etag: str) -> dict[str, Any] | None:
    """The cached outputs when they were read from this very state object, else None."""
    try:
        cached = json.loads(cache_file(settings).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if (cached.get("state_url"), cached.get("etag")) != (where.state_url, etag):
        return None
    return dict(cached["outputs"])


def write_cache(settings: Settings, where: Backend, etag: str, outputs: dict[str, Any]) -> None:
    path = cache_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"state_url": where.state_url, "etag": etag, "outputs": outputs}))
    tmp.replace(path)


def forget(settings: Settings) -> None:
    """Drop the cached outputs (after an apply or destroy through this machine)."""
    cache_file(settings).unlink(missing_ok=True)


def initialised_for(data_dir: Path, where: Backend) -> bool:
    """True when `terraform init` already ran in `data_dir` for this bucket and key."""
    try:
        recorded = json.loads((data_dir / "terraform.tfstate").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    config = (recorded.get("backend") or {}).get("config") or {}
    return bool(config.get("bucket") == where.bucket and config.get("key") == where.key)

"""The environment a command works on, and that environment's Terraform outputs.

Every command that touches AWS takes `--env/-e` (or ECOMM_ENV), builds its settings with
`settings_for(env)` and finds stream, job, workgroup and table names with `outputs(settings)`.
Nothing else knows where outputs come from: `local` reads the local stack's record, `dev` and
`prod` read their Terraform state in S3 (cached by ETag, see `infra/remote_state`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ecomm_cli.errors import EcommError
from ecomm_cli.settings import ENVIRONMENTS, Settings


def check_environment(env: str) -> None:
    """One line (exit 2) for a name that is not local, dev or prod."""
    if env not in ENVIRONMENTS:
        raise EcommError(
            f"unknown environment {env!r}", hint=f"use one of {', '.join(ENVIRONMENTS)}"
        )


def settings_for(env: str, **overrides: Any) -> Settings:
    """Settings of a known environment (flags > environment variables > defaults)."""
    check_environment(env)
    return Settings.load(env=env, **overrides)


def apply_hint(env: str) -> str:
    """The command that gives an environment its outputs."""
    return "run `ecomm local up`" if env == "local" else f"run `ecomm apply --env {env}`"


def outputs(settings: Settings, require: Sequence[str] = ()) -> dict[str, Any]:
    """The environment's Terraform outputs (flat), with every name in `require` present.

    No outputs, or a required one missing (say, after an interrupted apply): one line naming
    the command that fixes it, exit 2. A local name is never used for another environment.
    """
    values = _local_outputs(settings) if settings.env == "local" else _remote_outputs(settings)
    if not values:
        raise EcommError(
            f"environment {settings.env} has no Terraform outputs", hint=apply_hint(settings.env)
        )
    missing = [name for name in require if values.get(name) in (None, "")]
    if missing:
        raise EcommError(
            f"environment {settings.env} has no output {', '.join(missing)} "
            "(its last apply did not complete?)",
            hint=apply_hint(settings.env),
        )
    return values


def resolve(settings: Settings, require: Sequence[str] = ()) -> tuple[Settings, dict[str, Any]]:
    """The environment's outputs, and settings whose region is the one its stack lives in
    (clients made from them reach the stack wherever its tfvars put it)."""
    values = outputs(settings, require)
    region = values.get("region")
    return (settings.with_(region=str(region)) if region else settings), values


def _local_outputs(settings: Settings) -> dict[str, Any]:
    stack = settings.stack()
    if stack is None:
        raise EcommError("the local stack is not running", hint="run `ecomm local up` first")
    return dict(stack.get("outputs") or {})


def _remote_outputs(settings: Settings) -> dict[str, Any]:
    from ecomm_cli import aws_clients
    from ecomm_cli.infra import remote_state, terraform

    where = remote_state.backend(settings)
    s3 = aws_clients.client("s3", settings.with_(region=where.region), max_attempts=2)
    etag = remote_state.state_etag(s3, where)
    if etag is None:
        raise EcommError(
            f"environment {settings.env} has no Terraform state at {where.state_url}",
            hint=apply_hint(settings.env),
        )
    cached = remote_state.read_cache(settings, where, etag)
    if cached is not None:
        return cached
    if not remote_state.initialised_for(terraform.data_dir(settings), where):
        terraform.init(settings, stream=False)
    values = terraform.outputs(settings)
    remote_state.write_cache(settings, where, etag, values)
    return values

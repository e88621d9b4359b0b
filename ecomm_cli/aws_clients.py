"""The one place AWS clients are made. Tests and the local stack point it at the emulator."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from ecomm_cli.errors import EcommError
from ecomm_cli.settings import Settings

# Error codes that mean "these credentials will not do", whatever the service.
CREDENTIAL_ERROR_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "InvalidToken",
        "SignatureDoesNotMatch",
        "TokenRefreshRequired",
        "UnrecognizedClientException",
    }
)

# The access key each local runner signs with on the emulator, one per AWS component it stands
# in for (the runner plays that component's role): the emulator's call log attributes every
# call to its component, and tests/permissions checks it against that role's policies.
COMPONENT_KEYS = {
    "firehose": "ECOMMLOCALFIREHOSE01",
    "flink": "ECOMMLOCALFLINK00001",
    "lambda": "ECOMMLOCALLAMBDA0001",
    "glue": "ECOMMLOCALGLUE000001",
    # The block lookup function (`ecomm local lookup` serves its handler).
    "blocks": "ECOMMLOCALBLOCKS0001",
}
# What the CLI itself (and the runners' own set-up calls) sign with on the emulator.
EMULATOR_KEY = "testing"


def emulator_credentials(component: str | None = None) -> dict[str, str]:
    """Fake credentials for the emulator; never used against AWS (only with an endpoint)."""
    key = COMPONENT_KEYS[component] if component else EMULATOR_KEY
    return {"aws_access_key_id": key, "aws_secret_access_key": "testing"}


def session(settings: Settings, component: str | None = None) -> boto3.session.Session:
    """A boto3 session for the settings' region (fake credentials when on the emulator,
    signed as `component` when a local runner plays one)."""
    if settings.resolved_endpoint():
        return boto3.session.Session(region_name=settings.region, **emulator_credentials(component))
    return boto3.session.Session(region_name=settings.region)


def client(
    service: str,
    settings: Settings,
    *,
    max_attempts: int = 5,
    validate: bool = True,
    component: str | None = None,
    **kwargs: Any,
) -> Any:
    """A boto3 client for `service`, on the emulator when the settings name one.

    `validate=False` skips botocore's parameter validation, for callers that build requests
    within the service limits themselves (replay: it walks every record of every request).
    `component` names the AWS component a local runner plays (a key of COMPONENT_KEYS).
    """
    config = Config(
        retries={"max_attempts": max_attempts, "mode": "standard"},
        parameter_validation=validate,
    )
    return session(settings, component).client(
        service, endpoint_url=settings.resolved_endpoint(), config=config, **kwargs
    )


def aws_error(exc: BaseException) -> EcommError | None:
    """An AWS SDK failure as a one-line error with its fix; None for anything else.

    The root command turns these into one line and exit 2, so no command shows a botocore
    traceback for missing or expired credentials, an unreachable endpoint or a refusal.
    """
    if isinstance(exc, NoCredentialsError):
        return EcommError(
            "no AWS credentials found",
            hint="configure a profile (aws configure / AWS_PROFILE), or use --env local",
        )
    if isinstance(exc, NoRegionError):
        return EcommError("no AWS region set", hint="set ECOMM_REGION or AWS_DEFAULT_REGION")
    if isinstance(exc, EndpointConnectionError):
        return EcommError(
            f"cannot reach {exc.kwargs.get('endpoint_url', 'the AWS endpoint')}",
            hint="check the network, or AWS_ENDPOINT_URL / `ecomm local status`",
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        operation = exc.operation_name
        message = str(error.get("Message", "")).splitlines()[0] if error.get("Message") else ""
        if code in CREDENTIAL_ERROR_CODES:
            return EcommError(
                f"the AWS credentials are invalid or expired ({code} on {operation})",
                hint="refresh them (aws sso login, a new session token) and retry",
            )
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return EcommError(
                f"access denied: {operation}" + (f": {message}" if message else ""),
                hint="the operator policy (Terraform output operator_policy_json) lists "
                "what running ecomm needs",
            )
        return EcommError(f"{operation} failed: {code}" + (f": {message}" if message else ""))
    if isinstance(exc, BotoCoreError):
        return EcommError(f"AWS call failed: {str(exc).splitlines()[0]}")
    return None

"""The one place AWS clients are made. Tests and the local stack point it at the emulator."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from ecomm_cli.settings import Settings

# Credentials the emulator accepts; never used against AWS (only when an endpoint is set).
_EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def session(settings: Settings) -> boto3.session.Session:
    """A boto3 session for the settings' region (fake credentials when on the emulator)."""
    if settings.resolved_endpoint():
        return boto3.session.Session(region_name=settings.region, **_EMULATOR_CREDENTIALS)
    return boto3.session.Session(region_name=settings.region)


def client(
    service: str,
    settings: Settings,
    *,
    max_attempts: int = 5,
    validate: bool = True,
    **kwargs: Any,
) -> Any:
    """A boto3 client for `service`, on the emulator when the settings name one.

    `validate=False` skips botocore's parameter validation, for callers that build requests
    within the service limits themselves (replay: it walks every record of every request).
    """
    config = Config(
        retries={"max_attempts": max_attempts, "mode": "standard"},
        parameter_validation=validate,
    )
    return session(settings).client(
        service, endpoint_url=settings.resolved_endpoint(), config=config, **kwargs
    )

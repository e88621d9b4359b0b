from __future__ import annotations

import pytest

from ecomm_cli.local.emulator_gaps import condition_holds, effective_policy

pytestmark = pytest.mark.unit

CONTEXT = {"aws:securetransport": "true"}
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def test_tls_only_statement_does_not_apply_to_secure_requests() -> None:
    assert condition_holds(TLS_ONLY["Condition"], CONTEXT) is False
    assert effective_policy({"Statement": [TLS_ONLY]}, CONTEXT)["Statement"] == []


def test_tls_only_statement_applies_to_insecure_requests() -> None:
    policy = effective_policy({"Statement": [TLS_ONLY]}, {"aws:securetransport": "false"})
    assert len(policy["Statement"]) == 1
    assert "Condition" not in policy["Statement"][0]


def test_unknown_conditions_are_left_to_the_emulator() -> None:
    other = {**TLS_ONLY, "Condition": {"StringLike": {"aws:PrincipalArn": "arn:*"}}}
    assert condition_holds(other["Condition"], CONTEXT) is None
    assert effective_policy({"Statement": other}, CONTEXT)["Statement"] == [other]

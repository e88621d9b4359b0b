"""The local IAM evaluator the permission tests rely on: IAM semantics and principalmapper quirks.

Each `test_principalmapper_*` test pins a principalmapper 1.1.5 bug on its own functions, next to
the test that shows tests/permissions/evaluator.py gets the same case right.
"""

from __future__ import annotations

import collections
import copy
import re
from pathlib import Path
from typing import Any

import pytest

from tests.permissions import evaluator
from tests.permissions.evaluator import (
    Call,
    Grant,
    evaluate_identity,
    evaluate_resource_policy,
    granted_actions,
    unused_grants,
    without_action,
)

pytestmark = pytest.mark.unit

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REGION = "eu-west-1"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ecomm-alerts"
STREAM = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/ecomm-clickstream"
BUCKET = f"ecomm-lake-{ACCOUNT}"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:ecomm-alerts"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecomm-alerting-lambda"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/ecomm-alerting"
RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/ecomm-hourly"
SECURE = {"aws:SecureTransport": "true"}

# What Terraform gives the alerting Lambda, shaped as IAM returns it (dict or list Statement,
# str or list Action).
ALERTING_POLICIES: dict[str, dict[str, Any]] = {
    "alerting-lambda": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AlertsTable",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                "Resource": TABLE,
            },
            {
                "Sid": "ReadClickstream",
                "Effect": "Allow",
                "Action": ["kinesis:Get*", "kinesis:DescribeStream"],
                "Resource": [STREAM],
            },
            {
                "Sid": "Metrics",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": "Ecomm/Alerts"}},
            },
            {
                "Sid": "RawEvents",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/raw/events/*",
            },
            {
                "Sid": "StreamKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": KEY,
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"kinesis.{REGION}.amazonaws.com"}
                },
            },
        ],
    },
    "deny-insecure-transport": {
        "Version": "2012-10-17",
        "Statement": {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    },
}

VIA_KINESIS = {**SECURE, "kms:ViaService": f"kinesis.{REGION}.amazonaws.com"}

# One call per grant of ALERTING_POLICIES: what the Lambda's code does.
ALERTING_CALLS = [
    Call("alerting-lambda", "dynamodb:GetItem", TABLE, SECURE, "load alert state"),
    Call("alerting-lambda", "dynamodb:PutItem", TABLE, SECURE, "store a new alert"),
    Call("alerting-lambda", "dynamodb:UpdateItem", TABLE, SECURE, "bump an alert"),
    Call("alerting-lambda", "kinesis:GetRecords", STREAM, SECURE, "read events"),
    Call("alerting-lambda", "kinesis:DescribeStream", STREAM, SECURE, "list shards"),
    Call(
        "alerting-lambda",
        "cloudwatch:PutMetricData",
        "*",
        {**SECURE, "cloudwatch:namespace": "Ecomm/Alerts"},
        "alert counters",
    ),
    Call("alerting-lambda", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/raw/events/x.json", SECURE),
    Call("alerting-lambda", "kms:Decrypt", KEY, VIA_KINESIS, "decrypt stream records"),
    Call("alerting-lambda", "kms:GenerateDataKey", KEY, VIA_KINESIS),
]


def alerting(action: str, resource: str, context: dict[str, Any] | None = None) -> bool:
    """Whether the alerting Lambda's policies allow the call (secure transport by default)."""
    call = Call("alerting-lambda", action, resource, SECURE if context is None else context)
    return evaluate_identity(call, ALERTING_POLICIES).allowed


def one_statement(statement: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {"p": {"Version": "2012-10-17", "Statement": [{"Sid": "S", **statement}]}}


def allowed_with(condition: dict[str, Any], context: dict[str, Any]) -> bool:
    """An Allow s3:GetObject on everything under `condition`, for `context`."""
    policies = one_statement(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}
    )
    call = Call("c", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/k", context)
    return evaluate_identity(call, policies).allowed


def cid(values: dict[str, Any]) -> Any:
    return evaluator._cid.CaseInsensitiveDict(values)


# ---------------------------------------------------------------------------------------------
# Importing principalmapper


def test_principalmapper_import_leaves_collections_unchanged() -> None:
    # The aliases principalmapper needs are only lent for its import.
    assert not hasattr(collections, "Mapping")
    assert not hasattr(collections, "MutableMapping")
    assert evaluator._pm.__name__ == "principalmapper.querying.local_policy_simulation"


def test_runtime_code_never_imports_principalmapper() -> None:
    # AGPL-3.0: a test-only dependency, never shipped in the CLI or the Lambda zip.
    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for package in ("ecomm_cli", "lambdas")
        for path in (root / package).rglob("*.py")
        if re.search(r"^\s*(import|from)\s+principalmapper", path.read_text(), re.MULTILINE)
    ]
    assert offenders == []


# ---------------------------------------------------------------------------------------------
# Identity policies: actions


@pytest.mark.parametrize("action", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"])
def test_table_actions_are_allowed_by_their_statement(action: str) -> None:
    decision = evaluate_identity(Call("alerting-lambda", action, TABLE, SECURE), ALERTING_POLICIES)
    assert decision.allowed
    assert decision.statements == (("alerting-lambda", "AlertsTable"),)
    assert "allowed by alerting-lambda/AlertsTable" in decision.reason


def test_an_action_no_statement_lists_is_an_implicit_deny() -> None:
    call = Call("alerting-lambda", "dynamodb:DeleteItem", TABLE, SECURE)
    decision = evaluate_identity(call, ALERTING_POLICIES)
    assert not decision.allowed
    assert decision.statements == ()
    assert "implicit deny" in decision.reason


def test_the_table_grant_does_not_reach_other_tables_or_indexes() -> None:
    assert not alerting("dynamodb:GetItem", f"{TABLE}-archive")
    assert not alerting("dynamodb:GetItem", f"{TABLE}/index/by-user")


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        ("kinesis:GetRecords", True),
        ("kinesis:GetShardIterator", True),
        ("kinesis:DescribeStream", True),
        ("kinesis:PutRecord", False),
        ("kinesis:DescribeStreamSummary", False),  # no trailing wildcard on DescribeStream
    ],
)
def test_action_wildcards(action: str, allowed: bool) -> None:
    assert alerting(action, STREAM) is allowed


def test_action_matching_ignores_case() -> None:
    assert alerting("Kinesis:getrecords", STREAM)
    assert alerting("DYNAMODB:PUTITEM", TABLE)


def test_question_mark_in_an_action_is_one_character() -> None:
    policies = one_statement({"Effect": "Allow", "Action": "s3:Get?bject", "Resource": "*"})
    assert evaluate_identity(Call("c", "s3:GetObject", "*"), policies).allowed
    assert not evaluate_identity(Call("c", "s3:GetObjectAcl", "*"), policies).allowed


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        ("kms:Decrypt", True),
        ("kms:GenerateDataKey", True),
        ("kms:GenerateDataKeyWithoutPlaintext", True),
        ("kms:Encrypt", False),
    ],
)
def test_kms_grant_through_kinesis(action: str, allowed: bool) -> None:
    assert alerting(action, KEY, VIA_KINESIS) is allowed


@pytest.mark.parametrize(
    "context",
    [SECURE, {**SECURE, "kms:ViaService": f"s3.{REGION}.amazonaws.com"}],
    ids=["no-via-service", "via-s3"],
)
def test_kms_grant_needs_the_kinesis_via_service(context: dict[str, str]) -> None:
    assert not alerting("kms:Decrypt", KEY, context)


def test_not_action_allows_everything_else() -> None:
    policies = one_statement({"Effect": "Allow", "NotAction": ["iam:*", "kms:*"], "Resource": "*"})
    assert evaluate_identity(Call("c", "s3:GetObject", "*"), policies).allowed
    assert not evaluate_identity(Call("c", "iam:PassRole", ROLE), policies).allowed
    assert not evaluate_identity(Call("c", "KMS:Decrypt", KEY), policies).allowed


# ---------------------------------------------------------------------------------------------
# Identity policies: resources


@pytest.mark.parametrize(
    ("key", "allowed"),
    [
        ("raw/events/2024/06/01/part-0.json", True),
        ("raw/events/", True),
        ("raw/eventsX/part-0.json", False),
        ("raw/events", False),  # the bare prefix is not under "raw/events/"
        ("RAW/events/part-0.json", False),  # keys and ARNs are case-sensitive
        ("curated/raw/events/part-0.json", False),
    ],
)
def test_s3_prefix_grant(key: str, allowed: bool) -> None:
    assert alerting("s3:GetObject", f"arn:aws:s3:::{BUCKET}/{key}") is allowed


def test_a_dot_in_a_resource_pattern_is_literal() -> None:
    policies = one_statement(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::ecomm.lake/*"}
    )
    assert evaluate_identity(
        Call("c", "s3:GetObject", "arn:aws:s3:::ecomm.lake/k"), policies
    ).allowed
    assert not evaluate_identity(
        Call("c", "s3:GetObject", "arn:aws:s3:::ecommXlake/k"), policies
    ).allowed


@pytest.mark.parametrize(
    ("key", "allowed"),
    [("day=1/k", True), ("day=12/k", False), ("day=/k", False)],
)
def test_a_question_mark_in_a_resource_pattern_is_one_character(key: str, allowed: bool) -> None:
    policies = one_statement(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/day=?/*"}
    )
    call = Call("c", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{key}")
    assert evaluate_identity(call, policies).allowed is allowed


def test_principalmapper_resource_patterns_are_case_insensitive_and_regex() -> None:
    def pm_allows(pattern: str, resource: str) -> bool:
        policy = {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": pattern}}
        return bool(
            evaluator._pm.policy_has_matching_statement(
                policy, "Allow", "s3:GetObject", resource, cid({})
            )
        )

    assert pm_allows(f"arn:aws:s3:::{BUCKET}/raw/*", f"arn:aws:s3:::{BUCKET}/RAW/k")
    assert pm_allows("arn:aws:s3:::b/a+b/*", "arn:aws:s3:::b/aab/k")
    assert not pm_allows("arn:aws:s3:::b/a+b/*", "arn:aws:s3:::b/a+b/k")
    with pytest.raises(re.error):
        pm_allows("arn:aws:s3:::b/a(b/*", "arn:aws:s3:::b/a(b/k")


@pytest.mark.parametrize(
    ("pattern", "key", "allowed"),
    [
        ("a+b/*", "a+b/k", True),
        ("a+b/*", "aab/k", False),
        ("a(b)/*", "a(b)/k", True),
        ("[ab]/*", "[ab]/k", True),
        ("[ab]/*", "a/k", False),
        ("raw/*", "RAW/k", False),
    ],
)
def test_resource_patterns_are_literal_and_case_sensitive(
    pattern: str, key: str, allowed: bool
) -> None:
    policies = one_statement(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b/{pattern}"}
    )
    call = Call("c", "s3:GetObject", f"arn:aws:s3:::b/{key}")
    assert evaluate_identity(call, policies).allowed is allowed


def test_policy_variables_are_literal_text() -> None:
    # Our policies use no ${...}; matching it literally can only deny, never over-allow.
    policies = one_statement(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/${aws:username}/*",
        }
    )
    context = {"aws:username": "alice"}
    assert not evaluate_identity(
        Call("c", "s3:GetObject", "arn:aws:s3:::b/alice/k", context), policies
    ).allowed
    assert evaluate_identity(
        Call("c", "s3:GetObject", "arn:aws:s3:::b/${aws:username}/k", context), policies
    ).allowed


def test_not_resource_in_a_deny() -> None:
    policies = {
        "p": {
            "Statement": [
                {"Sid": "AllDynamo", "Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
                {
                    "Sid": "OnlyAlertsTable",
                    "Effect": "Deny",
                    "Action": "dynamodb:*",
                    "NotResource": [TABLE, f"{TABLE}/index/*"],
                },
            ]
        }
    }
    assert evaluate_identity(
        Call("c", "dynamodb:Query", f"{TABLE}/index/by-user"), policies
    ).allowed
    other = evaluate_identity(Call("c", "dynamodb:GetItem", f"{TABLE}-archive"), policies)
    assert not other.allowed
    assert other.statements == (("p", "OnlyAlertsTable"),)


def test_not_resource_in_an_allow() -> None:
    policies = one_statement(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "NotResource": f"arn:aws:s3:::{BUCKET}/secret/*",
        }
    )
    assert evaluate_identity(
        Call("c", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/raw/k"), policies
    ).allowed
    assert not evaluate_identity(
        Call("c", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/secret/k"), policies
    ).allowed


# ---------------------------------------------------------------------------------------------
# Identity policies: explicit deny


def test_explicit_deny_wins_over_a_matching_allow() -> None:
    call = Call("alerting-lambda", "dynamodb:PutItem", TABLE, {"aws:SecureTransport": "false"})
    decision = evaluate_identity(call, ALERTING_POLICIES)
    assert not decision.allowed
    assert decision.statements == (("deny-insecure-transport", "DenyInsecureTransport"),)
    assert "explicitly denied" in decision.reason


def test_a_bool_deny_does_not_fire_without_its_key() -> None:
    # IAM: a condition on a key missing from the request is false, so the Deny does not apply.
    assert alerting("dynamodb:PutItem", TABLE, {})


def test_a_json_boolean_in_a_bool_condition_still_denies() -> None:
    # jsonencode({... "aws:SecureTransport" = false}) writes a JSON boolean, not "false".
    policies = copy.deepcopy(ALERTING_POLICIES)
    policies["deny-insecure-transport"]["Statement"]["Condition"] = {
        "Bool": {"aws:SecureTransport": False}
    }
    call = Call("alerting-lambda", "dynamodb:PutItem", TABLE, {"aws:SecureTransport": "false"})
    assert not evaluate_identity(call, policies).allowed


def test_principalmapper_ignores_json_booleans() -> None:
    condition = {"Bool": {"aws:SecureTransport": False}}
    assert not evaluator._pm._get_condition_match(condition, cid({"aws:SecureTransport": "false"}))


# ---------------------------------------------------------------------------------------------
# Conditions


@pytest.mark.parametrize(
    ("context", "allowed"),
    [
        ({"cloudwatch:namespace": "Ecomm/Alerts"}, True),
        ({"cloudwatch:namespace": "Ecomm/Other"}, False),
        ({"cloudwatch:namespace": "ecomm/alerts"}, False),  # values are case-sensitive
        ({"CloudWatch:Namespace": "Ecomm/Alerts"}, True),  # key names are not
        ({}, False),
    ],
    ids=["namespace", "other-namespace", "value-case", "key-case", "no-namespace"],
)
def test_metric_namespace_condition(context: dict[str, str], allowed: bool) -> None:
    assert alerting("cloudwatch:PutMetricData", "*", {**SECURE, **context}) is allowed


LOGS_ARN_PATTERN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/ecomm-*"

CONDITION_CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("StringEquals missing key", {"StringEquals": {"aws:SourceAccount": ACCOUNT}}, {}, False),
    (
        "StringEquals any listed value",
        {"StringEquals": {"aws:SourceAccount": [OTHER_ACCOUNT, ACCOUNT]}},
        {"aws:SourceAccount": ACCOUNT},
        True,
    ),
    ("StringNotEquals missing key", {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}, {}, True),
    (
        "StringNotEquals equal",
        {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}},
        {"aws:SourceAccount": ACCOUNT},
        False,
    ),
    (
        "StringEqualsIgnoreCase",
        {"StringEqualsIgnoreCase": {"s3:prefix": "Raw/"}},
        {"s3:prefix": "raw/"},
        True,
    ),
    ("StringEqualsIfExists missing", {"StringEqualsIfExists": {"s3:prefix": "raw/"}}, {}, True),
    (
        "StringEqualsIfExists mismatch",
        {"StringEqualsIfExists": {"s3:prefix": "raw/"}},
        {"s3:prefix": "curated/"},
        False,
    ),
    (
        "StringLike glob",
        {"StringLike": {"kms:EncryptionContext:aws:logs:arn": LOGS_ARN_PATTERN}},
        {"kms:EncryptionContext:aws:logs:arn": LOG_GROUP},
        True,
    ),
    (
        "StringLike other group",
        {"StringLike": {"kms:EncryptionContext:aws:logs:arn": LOGS_ARN_PATTERN}},
        {"kms:EncryptionContext:aws:logs:arn": LOG_GROUP.replace("ecomm-", "other-")},
        False,
    ),
    (
        "StringLike plus is literal",
        {"StringLike": {"s3:prefix": "a+b*"}},
        {"s3:prefix": "aab"},
        False,
    ),
    (
        "StringLike question mark",
        {"StringLike": {"s3:prefix": "day=?/"}},
        {"s3:prefix": "day=7/"},
        True,
    ),
    ("StringNotLike missing key", {"StringNotLike": {"s3:prefix": "secret/*"}}, {}, True),
    (
        "StringNotLike matching",
        {"StringNotLike": {"s3:prefix": "secret/*"}},
        {"s3:prefix": "secret/x"},
        False,
    ),
    (
        "ArnLike wildcard",
        {"ArnLike": {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/ecomm-*"}},
        {"aws:SourceArn": RULE},
        True,
    ),
    (
        "ArnLike is case-sensitive",
        {"ArnLike": {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/ECOMM-*"}},
        {"aws:SourceArn": RULE},
        False,
    ),
    (
        "ArnLike wildcard component",
        {"ArnLike": {"aws:SourceArn": f"arn:aws:events:*:{ACCOUNT}:rule/*"}},
        {"aws:SourceArn": RULE},
        True,
    ),
    (
        "ArnLike other account",
        {"ArnLike": {"aws:SourceArn": f"arn:aws:events:*:{ACCOUNT}:rule/*"}},
        {"aws:SourceArn": RULE.replace(ACCOUNT, OTHER_ACCOUNT)},
        False,
    ),
    (
        "ArnLike needs six components",
        {"ArnLike": {"aws:SourceArn": "arn:aws:events:*"}},
        {"aws:SourceArn": RULE},
        False,
    ),
    (
        "ArnLike wildcard stays in its component",
        # "*" may not swallow "123456789012:log-group" (account and resource type).
        {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:*:/aws/*"}},
        {"kms:EncryptionContext:aws:logs:arn": LOG_GROUP},
        False,
    ),
    (
        "ArnLike not an ARN",
        {"ArnLike": {"aws:SourceArn": "*"}},
        {"aws:SourceArn": "ecomm-hourly"},
        False,
    ),
    ("ArnEquals exact", {"ArnEquals": {"aws:SourceArn": RULE}}, {"aws:SourceArn": RULE}, True),
    ("ArnEquals missing key", {"ArnEquals": {"aws:SourceArn": RULE}}, {}, False),
    ("ArnNotLike missing key", {"ArnNotLike": {"aws:SourceArn": RULE}}, {}, True),
    (
        "ArnNotEquals equal",
        {"ArnNotEquals": {"aws:SourceArn": RULE}},
        {"aws:SourceArn": RULE},
        False,
    ),
    ("Bool true", {"Bool": {"aws:SecureTransport": "true"}}, SECURE, True),
    ("Bool false vs true", {"Bool": {"aws:SecureTransport": "false"}}, SECURE, False),
    ("Bool missing key", {"Bool": {"aws:SecureTransport": "true"}}, {}, False),
    ("Bool JSON true", {"Bool": {"aws:SecureTransport": True}}, SECURE, True),
    ("BoolIfExists missing", {"BoolIfExists": {"aws:SecureTransport": "true"}}, {}, True),
    ("Null true, missing", {"Null": {"aws:SourceAccount": "true"}}, {}, True),
    (
        "Null true, present",
        {"Null": {"aws:SourceAccount": "true"}},
        {"aws:SourceAccount": ACCOUNT},
        False,
    ),
    (
        "Null false, present",
        {"Null": {"aws:SourceAccount": "false"}},
        {"aws:SourceAccount": ACCOUNT},
        True,
    ),
    ("Null true, empty list", {"Null": {"aws:TagKeys": "true"}}, {"aws:TagKeys": []}, True),
    ("Null false, missing", {"Null": {"aws:SourceAccount": "false"}}, {}, False),
    ("Null JSON true, missing", {"Null": {"aws:SourceAccount": True}}, {}, True),
    (
        "NumericLessThan below",
        {"NumericLessThan": {"s3:max-keys": "10"}},
        {"s3:max-keys": "5"},
        True,
    ),
    (
        "NumericLessThan above",
        {"NumericLessThan": {"s3:max-keys": "10"}},
        {"s3:max-keys": "15"},
        False,
    ),
    ("NumericLessThan missing", {"NumericLessThan": {"s3:max-keys": "10"}}, {}, False),
    (
        "NumericLessThan JSON number",
        {"NumericLessThan": {"s3:max-keys": 10}},
        {"s3:max-keys": "5"},
        True,
    ),
    (
        "NumericLessThanIfExists missing",
        {"NumericLessThanIfExists": {"s3:max-keys": "10"}},
        {},
        True,
    ),
    (
        "NumericLessThanIfExists below",
        {"NumericLessThanIfExists": {"s3:max-keys": "10"}},
        {"s3:max-keys": "5"},
        True,
    ),
    (
        "NumericLessThanIfExists above",
        {"NumericLessThanIfExists": {"s3:max-keys": "10"}},
        {"s3:max-keys": "15"},
        False,
    ),
    (
        "ForAnyValue one matches",
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "env"]}},
        {"aws:TagKeys": ["env", "cost"]},
        True,
    ),
    (
        "ForAnyValue none matches",
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "env"]}},
        {"aws:TagKeys": ["cost"]},
        False,
    ),
    ("ForAnyValue missing key", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}, {}, False),
    (
        "ForAnyValue ANDs its keys",
        {"ForAnyValue:StringEquals": {"aws:TagKeys": "team", "aws:SourceAccount": ACCOUNT}},
        {"aws:TagKeys": "team", "aws:SourceAccount": OTHER_ACCOUNT},
        False,
    ),
    (
        "ForAnyValue:StringNotEquals some value differs",
        {"ForAnyValue:StringNotEquals": {"aws:TagKeys": "team"}},
        {"aws:TagKeys": ["team", "cost"]},
        True,
    ),
    (
        "ForAnyValue:StringLike",
        {"ForAnyValue:StringLike": {"aws:TagKeys": "ecomm-*"}},
        {"aws:TagKeys": ["cost", "ecomm-team"]},
        True,
    ),
    (
        "ForAllValues subset",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}},
        {"aws:TagKeys": ["env", "team"]},
        True,
    ),
    (
        "ForAllValues one outside",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}},
        {"aws:TagKeys": ["env", "cost"]},
        False,
    ),
    (
        "ForAllValues missing key",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}},
        {},
        True,
    ),
    (
        "operators are ANDed",
        {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "Bool": {"aws:SecureTransport": "true"}},
        {"aws:SourceAccount": ACCOUNT, "aws:SecureTransport": "false"},
        False,
    ),
    (
        "operators all met",
        {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "Bool": {"aws:SecureTransport": "true"}},
        {"aws:SourceAccount": ACCOUNT, "aws:SecureTransport": "true"},
        True,
    ),
]


@pytest.mark.parametrize(
    ("condition", "context", "allowed"),
    [case[1:] for case in CONDITION_CASES],
    ids=[case[0] for case in CONDITION_CASES],
)
def test_condition(condition: dict[str, Any], context: dict[str, Any], allowed: bool) -> None:
    assert allowed_with(condition, context) is allowed


@pytest.mark.parametrize(
    ("condition", "context", "principalmapper_says"),
    [
        ({"NumericLessThanIfExists": {"k": "10"}}, {"k": "5"}, False),
        ({"StringNotLike": {"k": "secret/*"}}, {}, False),
        ({"StringLike": {"k": "a+b*"}}, {"k": "aab"}, True),
        ({"ArnLike": {"k": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/ECOMM-*"}}, {"k": RULE}, True),
        ({"ForAnyValue:StringEquals": {"a": "1", "b": "2"}}, {"a": "1", "b": "x"}, True),
        ({"ForAnyValue:StringNotEquals": {"a": "1"}}, {"a": ["1", "2"]}, False),
        ({"Null": {"k": True}}, {}, False),
        ({"Frobnicate": {"k": "v"}}, {}, True),
    ],
    ids=[
        "NumericIfExists",
        "StringNotLike-missing",
        "StringLike-regex",
        "ArnLike-case",
        "ForAnyValue-OR",
        "ForAnyValue-NotEquals",
        "Null-json",
        "unknown-operator",
    ],
)
def test_principalmapper_condition_quirks(
    condition: dict[str, Any], context: dict[str, Any], principalmapper_says: bool
) -> None:
    # Each case is evaluated the other way round by `test_condition` (or rejected, below).
    assert evaluator._pm._get_condition_match(condition, cid(context)) is principalmapper_says


@pytest.mark.parametrize(
    "operator", ["Frobnicate", "DateGreaterThan", "IpAddress", "NullIfExists", "ForAnyValue:Null"]
)
def test_unsupported_condition_operators_are_refused(operator: str) -> None:
    with pytest.raises(ValueError, match="unsupported condition operator"):
        allowed_with({operator: {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}, {})


def test_context_values_must_be_strings() -> None:
    with pytest.raises(TypeError, match="must be str"):
        allowed_with({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": True})


# ---------------------------------------------------------------------------------------------
# Policy shape


def test_statement_without_sid_is_named_by_index() -> None:
    policies = {
        "p": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    }
    decision = evaluate_identity(Call("c", "s3:GetObject", "*"), policies)
    assert decision.statements == (("p", "#0"),)


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        ([{"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}] * 2, "duplicate Sid"),
        ([{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}], "Effect"),
        ([{"Effect": "Allow", "Resource": "*"}], "Action/NotAction"),
    ],
    ids=["duplicate-sid", "bad-effect", "no-action"],
)
def test_malformed_policies_are_refused(statements: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate_identity(Call("c", "s3:GetObject", "*"), {"p": {"Statement": statements}})


# ---------------------------------------------------------------------------------------------
# Resource policies

KEY_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "EnableIamPolicies",
            "Effect": "Allow",
            "Principal": {"AWS": ROOT},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "EventBridgeFromThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        },
        {
            "Sid": "CloudWatchLogs",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": LOGS_ARN_PATTERN}},
        },
    ],
}


def key_decision(principal: str, action: str, context: dict[str, Any] | None = None) -> Any:
    return evaluate_resource_policy(
        principal, Call("c", action, KEY, context or {}), KEY_POLICY, policy_name="key policy"
    )


def test_root_statement_delegates_a_same_account_role_to_iam() -> None:
    decision = key_decision(ROLE, "kms:Decrypt", VIA_KINESIS)
    assert not decision.allowed
    assert decision.delegated_to_iam
    assert decision.statements == (("key policy", "EnableIamPolicies"),)
    # The caller then needs the role's own policies too: these allow Decrypt via Kinesis only.
    call = Call("alerting-lambda", "kms:Decrypt", KEY, VIA_KINESIS)
    assert evaluate_identity(call, ALERTING_POLICIES).allowed
    assert not evaluate_identity(
        Call("alerting-lambda", "kms:Decrypt", KEY, SECURE), ALERTING_POLICIES
    ).allowed


def test_a_role_of_another_account_gets_nothing_from_our_root_statement() -> None:
    decision = key_decision(f"arn:aws:iam::{OTHER_ACCOUNT}:role/intruder", "kms:Decrypt")
    assert not decision.allowed
    assert not decision.delegated_to_iam


def test_a_role_named_in_the_key_policy_is_allowed_directly() -> None:
    policy = copy.deepcopy(KEY_POLICY)
    policy["Statement"].append(
        {
            "Sid": "Lambda",
            "Effect": "Allow",
            "Principal": {"AWS": [ROLE]},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    decision = evaluate_resource_policy(ROLE, Call("c", "kms:Decrypt", KEY), policy)
    assert decision.allowed
    assert not decision.delegated_to_iam
    assert ("resource policy", "Lambda") in decision.statements


def test_a_cross_account_grant_still_needs_the_callers_iam() -> None:
    policy = copy.deepcopy(KEY_POLICY)
    policy["Statement"].append(
        {
            "Sid": "Partner",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    partner = f"arn:aws:iam::{OTHER_ACCOUNT}:role/reader"
    decision = evaluate_resource_policy(partner, Call("c", "kms:Decrypt", KEY), policy)
    assert (decision.allowed, decision.delegated_to_iam) == (False, True)


def test_service_statement_with_source_account() -> None:
    decision = key_decision(
        "events.amazonaws.com", "kms:GenerateDataKey", {"aws:SourceAccount": ACCOUNT}
    )
    assert decision.allowed
    assert decision.statements == (("key policy", "EventBridgeFromThisAccount"),)


@pytest.mark.parametrize(
    "context",
    [{}, {"aws:SourceAccount": OTHER_ACCOUNT}, {"aws:SourceArn": RULE}],
    ids=["no-context", "other-account", "source-arn-only"],
)
def test_service_statement_conditioned_on_source_account_needs_the_key(
    context: dict[str, str],
) -> None:
    decision = key_decision("events.amazonaws.com", "kms:GenerateDataKey", context)
    assert not decision.allowed
    assert not decision.delegated_to_iam
    assert "implicit deny" in decision.reason


def test_service_statement_without_condition_needs_no_context() -> None:
    policy = copy.deepcopy(KEY_POLICY)
    del policy["Statement"][1]["Condition"]
    call = Call("c", "kms:GenerateDataKey", KEY)
    assert evaluate_resource_policy("events.amazonaws.com", call, policy).allowed


def test_a_service_gets_nothing_from_the_root_statement() -> None:
    decision = key_decision("events.amazonaws.com", "kms:Encrypt", {"aws:SourceAccount": ACCOUNT})
    assert not decision.allowed
    assert not decision.delegated_to_iam


@pytest.mark.parametrize(
    ("principal", "log_group", "allowed"),
    [
        (f"logs.{REGION}.amazonaws.com", LOG_GROUP, True),
        (f"logs.{REGION}.amazonaws.com", LOG_GROUP.replace("ecomm-", "other-"), False),
        ("logs.amazonaws.com", LOG_GROUP, False),  # the statement names the regional principal
    ],
)
def test_logs_statement(principal: str, log_group: str, allowed: bool) -> None:
    context = {"kms:EncryptionContext:aws:logs:arn": log_group}
    assert key_decision(principal, "kms:GenerateDataKey", context).allowed is allowed


def test_explicit_deny_in_a_resource_policy_wins() -> None:
    policy = copy.deepcopy(KEY_POLICY)
    del policy["Statement"][1]["Condition"]
    policy["Statement"].append(
        {
            "Sid": "DenyOtherAccounts",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},  # everyone, services included
            "Action": "kms:*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    )
    call = Call("c", "kms:Decrypt", KEY, {"aws:SourceAccount": OTHER_ACCOUNT})
    decision = evaluate_resource_policy("events.amazonaws.com", call, policy)
    assert not decision.allowed
    assert decision.statements == (("resource policy", "DenyOtherAccounts"),)
    same = Call("c", "kms:Decrypt", KEY, {"aws:SourceAccount": ACCOUNT})
    assert evaluate_resource_policy("events.amazonaws.com", same, policy).allowed


def test_principalmapper_aws_star_does_not_match_a_service() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "sns:Publish",
        "Resource": "*",
    }
    matches = evaluator._pm.resource_policy_matching_statements(
        "events.amazonaws.com", {"Statement": [statement]}, "sns:Publish", TOPIC, cid({})
    )
    assert matches == []
    call = Call("c", "sns:Publish", TOPIC)
    assert evaluate_resource_policy(
        "events.amazonaws.com", call, {"Statement": [statement]}
    ).allowed


@pytest.mark.parametrize("principal", [ROLE, "events.amazonaws.com"])
def test_star_principal_matches_anyone(principal: str) -> None:
    policy = {
        "Statement": {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": TOPIC,
        }
    }
    decision = evaluate_resource_policy(principal, Call("c", "sns:Publish", TOPIC), policy)
    assert decision.allowed
    assert not decision.delegated_to_iam


TOPIC_POLICY: dict[str, Any] = {
    "Version": "2008-10-17",
    "Statement": [
        {
            "Sid": "OwnerManages",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:Subscribe", "SNS:GetTopicAttributes"],
            "Resource": TOPIC,
            "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}},
        },
        {
            "Sid": "CloudWatchAlarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "SNS:Publish",
            "Resource": TOPIC,
        },
    ],
}


@pytest.mark.parametrize(
    ("principal", "action", "allowed"),
    [
        ("cloudwatch.amazonaws.com", "sns:Publish", True),
        ("events.amazonaws.com", "sns:Publish", False),
        ("cloudwatch.amazonaws.com", "sns:DeleteTopic", False),
        ("cloudwatch.amazonaws.com", "kms:Decrypt", False),
    ],
)
def test_topic_policy(principal: str, action: str, allowed: bool) -> None:
    decision = evaluate_resource_policy(principal, Call("c", action, TOPIC), TOPIC_POLICY)
    assert decision.allowed is allowed


def test_principalmapper_sns_actions_match_anything_in_resource_policies() -> None:
    # Its resource-policy mode compares the requested action with itself for "SNS:" items.
    matches = evaluator._pm.resource_policy_matching_statements(
        "cloudwatch.amazonaws.com", TOPIC_POLICY, "sns:DeleteTopic", TOPIC, cid({})
    )
    assert [m["Sid"] for m in matches] == ["CloudWatchAlarms"]


def test_same_account_role_without_a_topic_statement_is_left_to_iam() -> None:
    # Same account, not KMS: an identity policy alone is enough for SNS.
    decision = evaluate_resource_policy(ROLE, Call("c", "sns:Publish", TOPIC), TOPIC_POLICY)
    assert (decision.allowed, decision.delegated_to_iam) == (False, True)


def test_same_account_role_without_a_key_statement_is_denied() -> None:
    # KMS: the key policy must allow or delegate, an identity policy alone is not enough.
    policy = {"Statement": KEY_POLICY["Statement"][1:]}
    decision = evaluate_resource_policy(ROLE, Call("c", "kms:Decrypt", KEY), policy)
    assert (decision.allowed, decision.delegated_to_iam) == (False, False)


@pytest.mark.parametrize(
    "principal",
    ["events", f"arn:aws:s3:::{BUCKET}", f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s"],
)
def test_unknown_principal_kinds_are_refused(principal: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        evaluate_resource_policy(principal, Call("c", "kms:Decrypt", KEY), KEY_POLICY)


def test_not_principal_is_refused() -> None:
    policy = {
        "Statement": {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": ROOT},
            "Action": "kms:*",
            "Resource": "*",
        }
    }
    with pytest.raises(ValueError, match="NotPrincipal"):
        evaluate_resource_policy(ROLE, Call("c", "kms:Decrypt", KEY), policy)


def test_resource_without_an_account_needs_resource_account() -> None:
    policy = {
        "Statement": {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "*",
        }
    }
    call = Call("c", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/k")
    with pytest.raises(ValueError, match="resource_account"):
        evaluate_resource_policy(ROLE, call, policy)
    assert evaluate_resource_policy(ROLE, call, policy, resource_account=ACCOUNT).allowed


# ---------------------------------------------------------------------------------------------
# Grants


def test_granted_actions_lists_every_allowed_pattern() -> None:
    grants = granted_actions(ALERTING_POLICIES)
    assert [(g.sid, g.action) for g in grants] == [
        ("AlertsTable", "dynamodb:GetItem"),
        ("AlertsTable", "dynamodb:PutItem"),
        ("AlertsTable", "dynamodb:UpdateItem"),
        ("ReadClickstream", "kinesis:Get*"),
        ("ReadClickstream", "kinesis:DescribeStream"),
        ("Metrics", "cloudwatch:PutMetricData"),
        ("RawEvents", "s3:GetObject"),
        ("StreamKey", "kms:Decrypt"),
        ("StreamKey", "kms:GenerateDataKey*"),
    ]
    assert grants[3] == Grant("alerting-lambda", "ReadClickstream", "kinesis:Get*", (STREAM,))


def test_granted_actions_refuses_an_allow_with_not_action() -> None:
    with pytest.raises(ValueError, match="NotAction"):
        granted_actions(one_statement({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))


def test_every_grant_is_used_by_the_calls() -> None:
    assert unused_grants(ALERTING_POLICIES, ALERTING_CALLS) == []


def test_unused_grants_reports_each_unused_action_and_resource() -> None:
    archive = f"{TABLE}-archive"
    policies = one_statement(
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
            "Resource": [TABLE, archive],
        }
    )
    calls = [
        Call("c", "dynamodb:GetItem", TABLE),
        Call("c", "dynamodb:PutItem", archive),
        Call("c", "dynamodb:DeleteItem", TABLE),  # denied: uses nothing
    ]
    assert unused_grants(policies, calls) == [
        Grant("p", "S", "dynamodb:GetItem", (archive,)),
        Grant("p", "S", "dynamodb:PutItem", (TABLE,)),
    ]


def test_a_call_that_is_denied_uses_no_grant() -> None:
    insecure = Call("alerting-lambda", "dynamodb:GetItem", TABLE, {"aws:SecureTransport": "false"})
    denied_by_condition = Call("alerting-lambda", "cloudwatch:PutMetricData", "*", SECURE)
    unused = unused_grants(ALERTING_POLICIES, [insecure, denied_by_condition])
    assert Grant("alerting-lambda", "AlertsTable", "dynamodb:GetItem", (TABLE,)) in unused
    assert Grant("alerting-lambda", "Metrics", "cloudwatch:PutMetricData", ("*",)) in unused


def test_a_not_resource_grant_is_one_unit() -> None:
    excluded = ["arn:aws:s3:::b/secret/*", "arn:aws:s3:::b/keys/*"]
    policies = one_statement({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": excluded})
    grant = Grant("p", "S", "s3:GetObject", tuple(excluded), not_resource=True)
    assert unused_grants(policies, []) == [grant]
    assert unused_grants(policies, [Call("c", "s3:GetObject", "arn:aws:s3:::b/raw/k")]) == []


def test_without_action_removes_one_pattern_from_one_statement() -> None:
    grant = Grant("alerting-lambda", "ReadClickstream", "kinesis:Get*", (STREAM,))
    reduced = without_action(ALERTING_POLICIES, grant)
    statement = reduced["alerting-lambda"]["Statement"][1]
    assert statement["Action"] == ["kinesis:DescribeStream"]
    assert not evaluate_identity(ALERTING_CALLS[3], reduced).allowed  # GetRecords
    assert evaluate_identity(ALERTING_CALLS[4], reduced).allowed  # DescribeStream
    # A deep copy: the original policies still grant it.
    assert ALERTING_POLICIES["alerting-lambda"]["Statement"][1]["Action"] == [
        "kinesis:Get*",
        "kinesis:DescribeStream",
    ]
    assert evaluate_identity(ALERTING_CALLS[3], ALERTING_POLICIES).allowed
    # Statements the removal left alone are copies too: editing them leaves the original intact.
    reduced["alerting-lambda"]["Statement"][0]["Resource"] = "*"
    assert ALERTING_POLICIES["alerting-lambda"]["Statement"][0]["Resource"] == TABLE


def test_without_action_drops_a_statement_left_without_actions() -> None:
    grant = Grant("alerting-lambda", "Metrics", "cloudwatch:PutMetricData", ("*",))
    reduced = without_action(ALERTING_POLICIES, grant)
    sids = [s["Sid"] for s in reduced["alerting-lambda"]["Statement"]]
    assert "Metrics" not in sids
    assert len(sids) == 4


def test_without_action_on_a_dict_statement() -> None:
    policies = {
        "p": {
            "Statement": {"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
        }
    }
    assert without_action(policies, Grant("p", "S", "s3:GetObject", ("*",))) == {
        "p": {"Statement": []}
    }


@pytest.mark.parametrize(
    "grant",
    [
        Grant("alerting-lambda", "AlertsTable", "dynamodb:DeleteItem", (TABLE,)),
        Grant("alerting-lambda", "NoSuchSid", "dynamodb:GetItem", (TABLE,)),
    ],
    ids=["action", "sid"],
)
def test_without_action_refuses_a_grant_that_is_not_there(grant: Grant) -> None:
    with pytest.raises(ValueError, match="does not grant"):
        without_action(ALERTING_POLICIES, grant)


@pytest.mark.parametrize(
    "grant", granted_actions(ALERTING_POLICIES), ids=lambda g: f"{g.sid}:{g.action}"
)
def test_every_grant_is_needed_by_some_call(grant: Grant) -> None:
    # The pattern the platform-wide permission test follows: drop a grant, a call must break.
    reduced = without_action(ALERTING_POLICIES, grant)
    broken = [c for c in ALERTING_CALLS if not evaluate_identity(c, reduced).allowed]
    assert broken, f"no call needs {grant}"

"""Local IAM evaluation: would AWS allow this call under these policies?

A test-only helper. It checks the AWS calls the platform's runtime code makes against the IAM
policies Terraform gives each component, and against resource policies (KMS key policies, SNS
topic policies) for service principals. moto's IAM does not evaluate policies, so the matching
comes from principalmapper's local policy simulation. principalmapper is AGPL-3.0: it is a dev
extra, imported here and never by the `ecomm_cli` package.

principalmapper 1.1.5 is used where it is right and worked around where it is not:

* Importing it fails on Python >= 3.10 (`from collections import Mapping`); the import below adds
  the two aliases for the duration of the import only.
* Action matching (`_statement_matches_action`, `_matches_after_expansion`) is used as is: `*` and
  `?` wildcards, case-insensitive, `Action` and `NotAction`. Its resource-policy mode is not used:
  for an "SNS:..."/"SQS:..." action it compares the requested action with itself, so any
  statement naming e.g. "SNS:Subscribe" matched every action.
* Resource patterns (`Resource`, `NotResource`) are matched here: principalmapper matches them
  case-insensitively (ARNs and S3 keys are case-sensitive), does not escape regex characters other
  than `.`, `$`, `^` (so `a+b` matched "aab" and `(` raised `re.error`), and substitutes `${...}`
  policy variables from the request context. Here `${...}` is literal text: our policies use no
  policy variables, and a literal match can only deny more, never allow more.
* Conditions: a missing key, `...IfExists` and the `ForAnyValue:`/`ForAllValues:` prefixes are
  handled here, one condition key at a time; principalmapper then compares the values for
  String(Not)Equals(IgnoreCase), Numeric*, Bool and Null. String(Not)Like and Arn* are compared
  here (principalmapper: regex escaping, case-insensitive ARNs); Arn* match each of the six ARN
  components on its own, as IAM documents. Fixed that way: Numeric*IfExists never matched,
  StringNotLike failed on a missing key, ForAnyValue: OR-ed several keys,
  ForAnyValue:StringNotEquals tested "no value equals" instead of "some value differs", JSON
  booleans in Bool/Null never matched, an unknown operator matched everything. Operators not
  listed here (Date*, IpAddress, Binary*) raise ValueError rather than guess.
* Principals of resource policies go through `resource_policy_matching_statements` and
  `resource_policy_authorization`, fed with the statements whose action, resource and condition
  already matched here, reduced to Effect and Principal. `{"AWS": "*"}` is rewritten to `"*"`
  first: principalmapper does not let it match a service principal, IAM treats them alike.
  NotPrincipal is refused (ValueError): principalmapper mishandles `{"AWS": "*"}` there too.
"""

from __future__ import annotations

import collections
import collections.abc
import contextlib
import copy
import functools
import importlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

__all__ = [
    "Call",
    "Decision",
    "Grant",
    "evaluate_identity",
    "evaluate_resource_policy",
    "granted_actions",
    "unused_grants",
    "without_action",
]

Policy = Mapping[str, Any]
Statement = Mapping[str, Any]


@contextlib.contextmanager
def _collections_aliases() -> Iterator[None]:
    """Lend `collections.Mapping`/`MutableMapping` (removed in 3.10) to principalmapper's import.

    Its case_insensitive_dict binds them at import time, so they are removed right after: the
    rest of the test run sees the standard library unchanged.
    """
    added = [name for name in ("Mapping", "MutableMapping") if not hasattr(collections, name)]
    for name in added:
        setattr(collections, name, getattr(collections.abc, name))
    try:
        yield
    finally:
        for name in added:
            delattr(collections, name)


def _import_principalmapper() -> tuple[ModuleType, ModuleType, ModuleType]:
    with _collections_aliases():
        return (
            importlib.import_module("principalmapper.querying.local_policy_simulation"),
            importlib.import_module("principalmapper.util.case_insensitive_dict"),
            importlib.import_module("principalmapper.common"),
        )


_pm, _cid, _common = _import_principalmapper()


# ---------------------------------------------------------------------------------------------
# Public types


@dataclass(frozen=True)
class Call:
    """One AWS API call a component makes, as IAM authorises it.

    `resource` is the full ARN the action is authorised against, or "*" for actions without
    resource-level permissions. `context` holds the request's condition keys (names are
    case-insensitive, values case-sensitive), e.g. {"aws:SecureTransport": "true"}.
    """

    component: str
    action: str
    resource: str
    context: Mapping[str, str | list[str]] = field(default_factory=dict, hash=False)
    why: str = ""


@dataclass(frozen=True)
class Decision:
    """The outcome of one evaluation.

    `statements` are the (policy name, Sid) pairs that decided: the matching Deny statements when
    denied explicitly, the matching Allow statements otherwise (empty for an implicit deny).
    `delegated_to_iam` (resource policies only): the resource policy lets the caller's identity
    policies decide, so `evaluate_identity` must allow the call too.
    """

    allowed: bool
    reason: str
    statements: tuple[tuple[str, str], ...] = ()
    delegated_to_iam: bool = False


@dataclass(frozen=True)
class Grant:
    """One action pattern an Allow statement grants, on the statement's resource patterns.

    `sid` is the statement's Sid, or "#<index>" for a statement without one. With `not_resource`
    the patterns are the statement's NotResource (granted everywhere except there).
    """

    policy: str
    sid: str
    action: str
    resources: tuple[str, ...]
    not_resource: bool = False


# ---------------------------------------------------------------------------------------------
# Identity policies


def evaluate_identity(call: Call, policies: Mapping[str, Policy]) -> Decision:
    """Evaluate `call` against one principal's identity policies (name -> policy document).

    An explicit Deny that matches wins; otherwise the call is allowed iff an Allow matches.
    """
    context = _context(call.context)
    denies: list[tuple[str, str]] = []
    allows: list[tuple[str, str]] = []
    for name, policy in policies.items():
        for sid, statement in _labelled_statements(policy):
            if _statement_applies(statement, call.action, call.resource, context):
                (denies if statement["Effect"] == "Deny" else allows).append((name, sid))
    subject = f"{call.action} on {call.resource}"
    if denies:
        return Decision(False, f"{subject}: explicitly denied by {_names(denies)}", tuple(denies))
    if allows:
        return Decision(True, f"{subject}: allowed by {_names(allows)}", tuple(allows))
    return Decision(False, f"{subject}: implicit deny, no Allow statement matches")


# ---------------------------------------------------------------------------------------------
# Resource policies

# Services whose resource policy must allow (or delegate to IAM) even for a caller in the same
# account: an identity policy alone does not reach a KMS key or a role's trust policy.
_RESOURCE_POLICY_REQUIRED = ("kms", "sts")


def evaluate_resource_policy(
    principal: str,
    call: Call,
    policy: Policy,
    *,
    policy_name: str = "resource policy",
    resource_account: str | None = None,
) -> Decision:
    """Evaluate `call` by `principal` against a resource policy (KMS key policy, SNS topic policy).

    `principal` is a service principal ("events.amazonaws.com", "logs.eu-west-1.amazonaws.com")
    or an IAM role/user ARN. `resource_account` defaults to the account in `call.resource`.
    For a role, `delegated_to_iam` says that its identity policies decide (statement naming the
    account root, a cross-account grant, or a same-account non-KMS resource with no statement).
    """
    caller = _pmapper_principal(principal)
    owner = resource_account or _arn_account(call.resource)
    if not owner:
        raise ValueError(f"no account in {call.resource!r}: pass resource_account")
    context = _context(call.context)
    reduced = [
        _principal_only(sid, statement)
        for sid, statement in _labelled_statements(policy)
        if _statement_applies(statement, call.action, call.resource, context)
    ]
    document = {"Statement": reduced}
    # Conditions were judged above and the reduced statements have none left.
    pm_context = _cid.CaseInsensitiveDict()
    matching = _pm.resource_policy_matching_statements(
        caller, document, call.action, call.resource, pm_context
    )
    outcome = _pm.resource_policy_authorization(
        caller, owner, document, call.action, call.resource, pm_context
    )
    return _resource_decision(outcome.name, principal, call, policy_name, matching, owner)


def _resource_decision(
    outcome: str,
    principal: str,
    call: Call,
    policy_name: str,
    matching: Sequence[Statement],
    owner: str,
) -> Decision:
    """Turn principalmapper's ResourcePolicyEvalResult name into a Decision."""
    subject = f"{principal} {call.action} on {call.resource}"
    denies = tuple((policy_name, s["Sid"]) for s in matching if s["Effect"] == "Deny")
    allows = tuple((policy_name, s["Sid"]) for s in matching if s["Effect"] == "Allow")
    if outcome == "DENY_MATCH":
        return Decision(False, f"{subject}: explicitly denied by {_names(denies)}", denies)
    if outcome in ("SERVICE_MATCH", "NODE_MATCH"):
        return Decision(True, f"{subject}: allowed by {_names(allows)}", allows)
    if outcome == "ROOT_MATCH":
        reason = f"{subject}: {_names(allows)} delegates to IAM (account principal)"
        return Decision(False, reason, allows, delegated_to_iam=True)
    if outcome == "DIFF_ACCOUNT_MATCH":
        reason = f"{subject}: cross-account grant by {_names(allows)}, identity policies decide"
        return Decision(False, reason, allows, delegated_to_iam=True)
    same_account = principal.startswith("arn:") and _arn_account(principal) == owner
    if same_account and call.action.split(":")[0].lower() not in _RESOURCE_POLICY_REQUIRED:
        reason = f"{subject}: no statement matches, same-account identity policies decide"
        return Decision(False, reason, delegated_to_iam=True)
    return Decision(False, f"{subject}: implicit deny, no statement of {policy_name} matches")


def _pmapper_principal(principal: str) -> Any:
    """A principalmapper Node for an IAM role/user ARN, the string itself for a service."""
    if principal.startswith("arn:"):
        parts = principal.split(":", 5)
        kind = parts[5].split("/")[0] if len(parts) == 6 else ""
        if parts[2:3] != ["iam"] or kind not in ("role", "user"):
            raise ValueError(f"not an IAM role or user ARN: {principal!r}")
        trust_policy: dict[str, Any] | None = {} if kind == "role" else None
        # Only the ARN matters for resource policies; the id must just never equal a principal.
        return _common.Node(
            arn=principal,
            id_value="AIDAEVALUATOR",
            attached_policies=None,
            group_memberships=None,
            trust_policy=trust_policy,
            instance_profile=None,
            num_access_keys=0,
            active_password=False,
            is_admin=False,
            permissions_boundary=None,
            has_mfa=False,
            tags=None,
        )
    if not re.fullmatch(r"[a-z0-9.-]+\.amazonaws\.com", principal):
        raise ValueError(f"not a service principal or IAM ARN: {principal!r}")
    return principal


def _principal_only(sid: str, statement: Statement) -> dict[str, Any]:
    """The statement reduced to what principalmapper still has to judge: Effect and Principal."""
    if "Principal" not in statement:
        # NotPrincipal: principalmapper lets NotPrincipal {"AWS": "*"} match a service; our
        # policies do not use NotPrincipal (AWS advises against it), so refuse it loudly.
        raise ValueError(f"statement {sid!r}: only Principal is supported, not NotPrincipal")
    principal = _wildcard_principal(statement["Principal"])
    return {"Sid": sid, "Effect": statement["Effect"], "Principal": principal}


def _wildcard_principal(principal: Any) -> Any:
    """`{"AWS": "*"}` means everyone, like `"*"`; principalmapper only knows the latter."""
    if isinstance(principal, Mapping) and "*" in _as_list(principal.get("AWS", [])):
        return "*"
    return principal


def _arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else ""


# ---------------------------------------------------------------------------------------------
# Grants


def granted_actions(policies: Mapping[str, Policy]) -> list[Grant]:
    """Every action pattern of every Allow statement, with the statement's resource patterns."""
    grants: list[Grant] = []
    for name, policy in policies.items():
        for sid, statement in _labelled_statements(policy):
            if statement["Effect"] != "Allow":
                continue
            if "Action" not in statement:
                # An Allow with NotAction grants an open-ended set: no pattern to list or remove.
                raise ValueError(f"{name}/{sid}: Allow with NotAction cannot be listed as grants")
            resources, negated = _resource_patterns(statement)
            for action in _as_list(statement["Action"]):
                grants.append(Grant(name, sid, action, resources, negated))
    return grants


def unused_grants(policies: Mapping[str, Policy], calls: Iterable[Call]) -> list[Grant]:
    """The (statement, action pattern, resource pattern) combinations no allowed call uses.

    `calls` are the calls of the principal that holds `policies`. Each returned Grant carries a
    single resource pattern (or the statement's whole NotResource list).
    """
    used: set[Grant] = set()
    for call in calls:
        if evaluate_identity(call, policies).allowed:
            used.update(_grants_used_by(call, policies))
    units = [unit for grant in granted_actions(policies) for unit in _units(grant)]
    return [unit for unit in units if unit not in used]


def without_action(policies: Mapping[str, Policy], grant: Grant) -> dict[str, dict[str, Any]]:
    """A deep copy of `policies` with `grant.action` removed from the statement `grant.sid`.

    The statement is dropped when no action is left. Raises KeyError/ValueError when the grant
    is not in the policies.
    """
    result: dict[str, dict[str, Any]] = copy.deepcopy({k: dict(v) for k, v in policies.items()})
    policy = result[grant.policy]
    labelled = _labelled_statements(policy)
    kept: list[Statement] = []
    found = False
    for sid, statement in labelled:
        if sid == grant.sid and grant.action in _as_list(statement.get("Action", [])):
            found = True
            actions = [a for a in _as_list(statement["Action"]) if a != grant.action]
            if not actions:
                continue
            statement = {**statement, "Action": actions}
        kept.append(statement)
    if not found:
        raise ValueError(f"{grant.policy}/{grant.sid} does not grant {grant.action!r}")
    policy["Statement"] = kept
    return result


def _grants_used_by(call: Call, policies: Mapping[str, Policy]) -> Iterator[Grant]:
    """The grant units of the Allow statements that match `call`."""
    context = _context(call.context)
    for name, policy in policies.items():
        for sid, statement in _labelled_statements(policy):
            if statement["Effect"] != "Allow" or "Action" not in statement:
                continue
            if not _statement_applies(statement, call.action, call.resource, context):
                continue
            resources, negated = _resource_patterns(statement)
            if not negated:
                resources = tuple(r for r in resources if _glob_match(r, call.resource))
            for action in _as_list(statement["Action"]):
                if _pm._matches_after_expansion(call.action, action):
                    yield from _units(Grant(name, sid, action, resources, negated))


def _units(grant: Grant) -> list[Grant]:
    """One grant per resource pattern; a NotResource list stays one unit."""
    if grant.not_resource:
        return [grant]
    return [replace(grant, resources=(resource,)) for resource in grant.resources]


def _resource_patterns(statement: Statement) -> tuple[tuple[str, ...], bool]:
    if "NotResource" in statement:
        return tuple(_as_list(statement["NotResource"])), True
    return tuple(_as_list(statement.get("Resource", "*"))), False


# ---------------------------------------------------------------------------------------------
# Statements


def _labelled_statements(policy: Policy) -> list[tuple[str, Statement]]:
    """(Sid or "#index", statement) for each statement; Statement may be a dict or a list."""
    if "Statement" not in policy:
        raise ValueError("policy document has no Statement")
    labelled = []
    for index, statement in enumerate(_as_list(policy["Statement"])):
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise ValueError(f"statement #{index}: Effect must be Allow or Deny")
        if ("Action" in statement) == ("NotAction" in statement):
            raise ValueError(f"statement #{index}: needs exactly one of Action/NotAction")
        labelled.append((statement.get("Sid") or f"#{index}", statement))
    sids = [sid for sid, _ in labelled]
    duplicates = sorted({sid for sid in sids if sids.count(sid) > 1})
    if duplicates:
        # Grants and decisions name statements by Sid, so a Sid must say which statement.
        raise ValueError(f"duplicate Sid(s) {duplicates}")
    return labelled


def _statement_applies(
    statement: Statement, action: str, resource: str, context: Mapping[str, list[str]]
) -> bool:
    """Action, resource and condition all match (the principal is checked elsewhere)."""
    # principalmapper's action matching (identity mode: its resource-policy mode is broken).
    return (
        _pm._statement_matches_action(dict(statement), action)
        and _resource_matches(statement, resource)
        and _conditions_match(statement.get("Condition", {}), context)
    )


def _resource_matches(statement: Statement, resource: str) -> bool:
    if "NotResource" in statement:
        return not any(_glob_match(p, resource) for p in _as_list(statement["NotResource"]))
    if "Resource" in statement:
        return any(_glob_match(p, resource) for p in _as_list(statement["Resource"]))
    return True  # trust and key policies may leave Resource implicit


@functools.cache
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` exactly one, everything else literal."""
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL)


def _glob_match(pattern: str, value: str) -> bool:
    """Case-sensitive wildcard match; `${...}` policy variables are literal text."""
    return _glob_regex(pattern).fullmatch(value) is not None


def _arn_match(pattern: str, arn: str) -> bool:
    """ArnEquals/ArnLike: each of the six colon-separated ARN components matched on its own."""
    expected, actual = pattern.split(":", 5), arn.split(":", 5)
    if len(expected) != 6 or len(actual) != 6:
        return False
    return all(_glob_match(p, a) for p, a in zip(expected, actual, strict=True))


# ---------------------------------------------------------------------------------------------
# Conditions

_SET_PREFIXES = ("ForAnyValue:", "ForAllValues:")
# Compared by principalmapper once a missing key and the set prefixes are handled here.
_PMAPPER_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "Bool",
    }
)
_LIKE_OPERATORS = frozenset({"StringLike", "StringNotLike"})
_ARN_OPERATORS = frozenset({"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"})
_OPERATORS = _PMAPPER_OPERATORS | _LIKE_OPERATORS | _ARN_OPERATORS | {"Null"}
# IAM: with these, a key missing from the request satisfies the condition.
_NEGATED = frozenset(
    {
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "NumericNotEquals",
        "ArnNotEquals",
        "ArnNotLike",
    }
)


def _context(context: Mapping[str, str | list[str]]) -> dict[str, list[str]]:
    """Condition keys lower-cased (IAM keys are case-insensitive), values as lists; [] = absent."""
    result: dict[str, list[str]] = {}
    for key, value in context.items():
        values = _as_list(value)
        if not all(isinstance(v, str) for v in values):
            raise TypeError(f"context value of {key!r} must be str or list[str]: {value!r}")
        if values:
            result[key.lower()] = values
    return result


def _conditions_match(condition: Mapping[str, Any], context: Mapping[str, list[str]]) -> bool:
    """Every operator block and every key in it must match (logical AND)."""
    return all(
        _key_matches(operator, key, expected, context)
        for operator, keys in condition.items()
        for key, expected in keys.items()
    )


def _key_matches(operator: str, key: str, expected: Any, context: Mapping[str, list[str]]) -> bool:
    """One condition key under one operator, with IAM's missing-key and set-prefix rules."""
    prefix, base, if_exists = _parse_operator(operator)
    wanted = _policy_values(expected)
    actual = context.get(key.lower())
    if base == "Null":
        present = _cid.CaseInsensitiveDict({} if actual is None else {key: actual})
        return bool(_pm._get_condition_match({"Null": {key: wanted}}, present))
    if actual is None:
        # Missing key: ForAllValues holds vacuously, ForAnyValue fails; single-valued operators
        # fail unless ...IfExists or a negated operator.
        return if_exists or prefix == "ForAllValues:" or (not prefix and base in _NEGATED)
    if prefix == "ForAnyValue:":
        return any(_values_match(base, key, wanted, [value]) for value in actual)
    if prefix == "ForAllValues:":
        return all(_values_match(base, key, wanted, [value]) for value in actual)
    return _values_match(base, key, wanted, actual)


def _parse_operator(operator: str) -> tuple[str, str, bool]:
    """Split "ForAnyValue:StringLikeIfExists" into ("ForAnyValue:", "StringLike", True)."""
    prefix = next((p for p in _SET_PREFIXES if operator.startswith(p)), "")
    base = operator[len(prefix) :]
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base not in _OPERATORS or (base == "Null" and (prefix or if_exists)):
        # principalmapper would ignore an unknown operator, i.e. treat the condition as met.
        raise ValueError(f"unsupported condition operator {operator!r}")
    return prefix, base, if_exists


def _values_match(base: str, key: str, wanted: list[str], actual: list[str]) -> bool:
    """Whether the request values satisfy a single-valued operator."""
    if base in _LIKE_OPERATORS:
        hit = any(_glob_match(w, a) for w in wanted for a in actual)
        return hit if base == "StringLike" else not hit
    if base in _ARN_OPERATORS:
        hit = any(_arn_match(w, a) for w in wanted for a in actual)
        return not hit if "Not" in base else hit
    present = _cid.CaseInsensitiveDict({key: actual})
    return bool(_pm._get_condition_match({base: {key: wanted}}, present))


def _policy_values(expected: Any) -> list[str]:
    """Condition values as strings: jsonencode may write `false` or `3600` where IAM has text."""
    return [_policy_value(v) for v in _as_list(expected)]


def _policy_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------------------------------------
# Small helpers


def _as_list(value: Any) -> list[Any]:
    """IAM allows a single value where a list is expected."""
    return list(value) if isinstance(value, list | tuple) else [value]


def _names(pairs: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{policy}/{sid}" for policy, sid in pairs)

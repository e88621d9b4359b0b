"""Security policy over every .tf file under terraform/, read with python-hcl2.

The rules the platform promises and checkov alone does not state the way we mean them:
- every aws_s3_bucket has SSE-KMS by default, a public access block with all four flags on and a
  bucket policy that denies requests made without TLS;
- no IAM statement allows every action ("*" or "<service>:*"), in aws_iam_policy_document data
  sources as in jsonencode(...) policies;
- every variable has a description and a type.

The checks are pure functions of parsed files, so the negative tests feed them a small bad
configuration written to tmp_path and expect each violation to be reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import pytest

from ecomm_cli.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit

TERRAFORM_ROOT = PROJECT_ROOT / "terraform"

# python-hcl2 8.x keeps string quotes and __is_block__ markers by default; plain values are
# what the checks compare against.
_OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True,
    explicit_blocks=False,
    with_comments=False,
    preserve_heredocs=False,
)

_KMS_ALGORITHMS = {"aws:kms", "aws:kms:dsse"}
_PUBLIC_ACCESS_FLAGS = (
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
)
# An action that grants everything, or everything of one service.
_WILDCARD_ACTION = re.compile(r"^(\*|[A-Za-z0-9-]+:\*)$")


@dataclass
class Stack:
    """The parsed .tf files of one directory (one Terraform module or root)."""

    directory: Path
    resources: list[tuple[str, str, dict[str, Any], Path]] = field(default_factory=list)
    data: list[tuple[str, str, dict[str, Any], Path]] = field(default_factory=list)
    variables: list[tuple[str, dict[str, Any], Path]] = field(default_factory=list)
    locals: list[tuple[dict[str, Any], Path]] = field(default_factory=list)

    def resources_of(self, kind: str) -> list[tuple[str, dict[str, Any], Path]]:
        return [(name, body, path) for k, name, body, path in self.resources if k == kind]

    def data_of(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: body for k, name, body, _ in self.data if k == kind}


def tf_files(root: Path) -> list[Path]:
    """Every .tf file under root, outside Terraform's own .terraform caches."""
    return sorted(p for p in root.rglob("*.tf") if ".terraform" not in p.parts)


def _typed_blocks(blocks: list[dict[str, Any]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for block in blocks:
        for kind, named in block.items():
            for name, body in named.items():
                yield kind, name, body


def load_stacks(root: Path) -> list[Stack]:
    """Parse every .tf file under root and group them by directory."""
    stacks: dict[Path, Stack] = {}
    for path in tf_files(root):
        with path.open(encoding="utf-8") as handle:
            parsed = hcl2.load(handle, serialization_options=_OPTIONS)
        stack = stacks.setdefault(path.parent, Stack(path.parent))
        for kind, name, body in _typed_blocks(parsed.get("resource", [])):
            stack.resources.append((kind, name, body, path))
        for kind, name, body in _typed_blocks(parsed.get("data", [])):
            stack.data.append((kind, name, body, path))
        for block in parsed.get("variable", []):
            for name, body in block.items():
                stack.variables.append((name, body, path))
        for block in parsed.get("locals", []):
            stack.locals.append((block, path))
    return list(stacks.values())


def _single(value: Any) -> dict[str, Any]:
    """A nested block comes as a list of one dict; a missing one as nothing."""
    if isinstance(value, list):
        return value[0] if value and isinstance(value[0], dict) else {}
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _references(expression: Any, address: str) -> bool:
    """True when an expression refers to address (e.g. aws_s3_bucket.this), indexed or not."""
    return (
        isinstance(expression, str)
        and re.search(rf"\b{re.escape(address)}\b", expression) is not None
    )


# --- jsonencode(...) policies -----------------------------------------------------------------


def _call_arguments(text: str, function: str) -> Iterator[str]:
    """The argument text of every call of function in an expression (balanced brackets)."""
    for match in re.finditer(rf"\b{function}\(", text):
        depth, start = 1, match.end()
        index = start
        in_string = False
        while index < len(text) and depth:
            char = text[index]
            if in_string:
                if char == "\\":
                    index += 1
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char in "({[":
                depth += 1
            elif char in ")}]":
                depth -= 1
            index += 1
        yield text[start : index - 1]


# A jsonencode argument that is only a reference (local.block_seconds, var.x[0]): no literal.
_REFERENCE = re.compile(r"[A-Za-z_][\w\-]*(\.[\w\-]+|\[[^\[\]]*\])*")


def jsonencoded_documents(value: Any) -> Iterator[dict[str, Any]]:
    """Every jsonencode({...}) object literal found in a (nested) attribute value."""
    if isinstance(value, dict):
        for item in value.values():
            yield from jsonencoded_documents(item)
    elif isinstance(value, list):
        for item in value:
            yield from jsonencoded_documents(item)
    elif isinstance(value, str) and "jsonencode(" in value:
        for argument in _call_arguments(value, "jsonencode"):
            if _REFERENCE.fullmatch(argument.strip()):
                # A reference holds no literal (today only local.block_seconds, a map of
                # durations); a policy document is always written inline.
                continue
            try:
                parsed = hcl2.loads(f"document = {argument}\n", serialization_options=_OPTIONS)
            except Exception as exc:
                # A literal this check cannot read might hold a statement: fail, never skip.
                raise AssertionError(
                    f"cannot parse jsonencode({argument[:80]}...) to check its statements: {exc}"
                ) from exc
            document = parsed.get("document")
            if isinstance(document, dict):
                yield document


def _json_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


# --- the checks -------------------------------------------------------------------------------


@dataclass
class Statement:
    """An IAM statement, from either syntax, with where it was found."""

    where: str
    effect: str
    actions: list[str]
    not_actions: list[str]
    conditions: list[tuple[str, str, list[str]]]  # (test, variable, values)


def iam_statements(stack: Stack) -> list[Statement]:
    """Every IAM statement of a stack: policy document data sources and jsonencode policies."""
    found: list[Statement] = []
    for name, body in stack.data_of("aws_iam_policy_document").items():
        for statement in _as_list(body.get("statement")):
            found.append(
                Statement(
                    where=f"{stack.directory}: data.aws_iam_policy_document.{name}",
                    effect=str(statement.get("effect", "Allow")),
                    actions=[str(a) for a in _as_list(statement.get("actions"))],
                    not_actions=[str(a) for a in _as_list(statement.get("not_actions"))],
                    conditions=[
                        (
                            str(c.get("test")),
                            str(c.get("variable")),
                            [str(v) for v in _as_list(c.get("values"))],
                        )
                        for c in _as_list(statement.get("condition"))
                    ],
                )
            )
    sources = [(f"{kind}.{name}", body) for kind, name, body, _ in stack.resources + stack.data]
    sources += [(f"locals in {path.name}", body) for body, path in stack.locals]
    for where, body in sources:
        for document in jsonencoded_documents(body):
            for statement in _json_statements(document):
                conditions = []
                for test, by_variable in _single(statement.get("Condition")).items():
                    for variable, values in _single(by_variable).items():
                        conditions.append((test, variable, [str(v) for v in _as_list(values)]))
                found.append(
                    Statement(
                        where=f"{stack.directory}: {where}",
                        effect=str(statement.get("Effect", "Allow")),
                        actions=[str(a) for a in _as_list(statement.get("Action"))],
                        not_actions=[str(a) for a in _as_list(statement.get("NotAction"))],
                        conditions=conditions,
                    )
                )
    return found


def wildcard_action_findings(stack: Stack) -> list[str]:
    """Allow statements granting every action (or every action of a service), or NotAction."""
    findings = []
    for statement in iam_statements(stack):
        if statement.effect != "Allow":
            continue  # a Deny on s3:* (the TLS-only policy) takes rights away
        for action in statement.actions:
            if _WILDCARD_ACTION.match(action):
                findings.append(f"{statement.where}: Allow statement with action {action!r}")
        if statement.not_actions:
            findings.append(
                f"{statement.where}: Allow statement with NotAction (allows everything else)"
            )
    return findings


def _denies_insecure_transport(statements: list[Statement]) -> bool:
    return any(
        s.effect == "Deny"
        and any(
            test == "Bool" and variable == "aws:SecureTransport" and values == ["false"]
            for test, variable, values in s.conditions
        )
        for s in statements
    )


def bucket_findings(stack: Stack) -> list[str]:
    """Buckets without SSE-KMS, a full public access block, or a TLS-only bucket policy."""
    findings = []
    documents = stack.data_of("aws_iam_policy_document")
    all_statements = iam_statements(stack)
    for bucket, _, path in stack.resources_of("aws_s3_bucket"):
        address = f"aws_s3_bucket.{bucket}"
        where = f"{path}: {address}"

        encrypted = False
        for _, body, _ in stack.resources_of("aws_s3_bucket_server_side_encryption_configuration"):
            if not _references(body.get("bucket"), address):
                continue
            for rule in _as_list(body.get("rule")):
                default = _single(rule.get("apply_server_side_encryption_by_default"))
                if default.get("sse_algorithm") in _KMS_ALGORITHMS:
                    encrypted = True
        if not encrypted:
            findings.append(f"{where}: no SSE-KMS default encryption")

        blocked = any(
            _references(body.get("bucket"), address)
            and all(body.get(flag) is True for flag in _PUBLIC_ACCESS_FLAGS)
            for _, body, _ in stack.resources_of("aws_s3_bucket_public_access_block")
        )
        if not blocked:
            findings.append(f"{where}: no public access block with all four flags true")

        tls_only = False
        for name, body, _ in stack.resources_of("aws_s3_bucket_policy"):
            if not _references(body.get("bucket"), address):
                continue
            policy = body.get("policy")
            referenced = [
                n for n in documents if _references(policy, f"data.aws_iam_policy_document.{n}")
            ]
            statements = [
                s
                for s in all_statements
                if any(s.where.endswith(f"data.aws_iam_policy_document.{n}") for n in referenced)
                or s.where.endswith(f"aws_s3_bucket_policy.{name}")
            ]
            tls_only = tls_only or _denies_insecure_transport(statements)
        if not tls_only:
            findings.append(f"{where}: no bucket policy denying aws:SecureTransport = false")
    return findings


def variable_findings(stack: Stack) -> list[str]:
    """Variables without a non-empty description or without a type."""
    findings = []
    for name, body, path in stack.variables:
        if not str(body.get("description") or "").strip():
            findings.append(f"{path}: variable {name} has no description")
        if not str(body.get("type") or "").strip():
            findings.append(f"{path}: variable {name} has no type")
    return findings


def log_group_findings(stack: Stack) -> list[str]:
    """Log groups without a retention or without the platform key: every group the platform
    writes is declared, so none grows forever or lies unencrypted."""
    findings = []
    for name, body, path in stack.resources_of("aws_cloudwatch_log_group"):
        where = f"{path}: aws_cloudwatch_log_group.{name}"
        if not body.get("retention_in_days"):
            findings.append(f"{where}: no retention_in_days")
        if not body.get("kms_key_id"):
            findings.append(f"{where}: no kms_key_id")
    return findings


# --- tests over the real tree ----------------------------------------------------------------


@pytest.fixture(scope="module")
def stacks() -> list[Stack]:
    return load_stacks(TERRAFORM_ROOT)


def test_every_tf_file_is_parsed(stacks: list[Stack]) -> None:
    parsed_dirs = {s.directory for s in stacks}
    assert tf_files(TERRAFORM_ROOT), "no .tf file found under terraform/"
    assert {p.parent for p in tf_files(TERRAFORM_ROOT)} == parsed_dirs


def test_every_bucket_is_kms_encrypted_private_and_tls_only(stacks: list[Stack]) -> None:
    buckets = [b for s in stacks for b in s.resources_of("aws_s3_bucket")]
    # The lake's buckets and the state bucket at least: the check must have something to check.
    assert len(buckets) >= 2
    findings = [f for s in stacks for f in bucket_findings(s)]
    assert findings == []


def test_no_iam_statement_allows_every_action(stacks: list[Stack]) -> None:
    statements = [st for s in stacks for st in iam_statements(s)]
    assert len(statements) >= 10, "the policy documents were not found"
    findings = [f for s in stacks for f in wildcard_action_findings(s)]
    assert findings == []


def test_every_log_group_has_retention_and_the_key(stacks: list[Stack]) -> None:
    groups = {
        (s.directory.name, n)
        for s in stacks
        for n, _, _ in s.resources_of("aws_cloudwatch_log_group")
    }
    # Firehose's, the Lambda's, Flink's and the Glue job's (which had none before).
    assert {
        ("ingest", "this"),
        ("realtime", "lambda"),
        ("realtime", "flink"),
        ("catalog", "job"),
    } <= groups
    findings = [f for s in stacks for f in log_group_findings(s)]
    assert findings == []


def test_a_log_group_without_retention_is_reported(tmp_path: Path) -> None:
    stack = _stack_from(
        tmp_path,
        'resource "aws_cloudwatch_log_group" "forever" {\n  name = "/x"\n}\n',
    )
    assert sorted(f.split(": ", 1)[1] for f in log_group_findings(stack)) == [
        "aws_cloudwatch_log_group.forever: no kms_key_id",
        "aws_cloudwatch_log_group.forever: no retention_in_days",
    ]


def test_every_variable_has_description_and_type(stacks: list[Stack]) -> None:
    assert sum(len(s.variables) for s in stacks) >= 20
    findings = [f for s in stacks for f in variable_findings(s)]
    assert findings == []


# --- the checks find real violations ---------------------------------------------------------

_BAD_SNIPPET = """
variable "untyped" {
  description = "has no type"
}

variable "undocumented" {
  type = string
}

resource "aws_s3_bucket" "open" {
  bucket = "open-bucket"
}

resource "aws_s3_bucket" "half" {
  bucket = "half-bucket"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "half" {
  bucket = aws_s3_bucket.half.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "half" {
  bucket                  = aws_s3_bucket.half.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = false
  restrict_public_buckets = true
}

resource "aws_s3_bucket_policy" "half" {
  bucket = aws_s3_bucket.half.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = "*"
      Condition = { Bool = { "aws:SecureTransport" = "true" } }
    }]
  })
}

data "aws_iam_policy_document" "admin" {
  statement {
    actions   = ["*"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "inline" {
  name = "inline"
  role = "some-role"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = ["s3:GetObject", "dynamodb:*"], Resource = "*" },
      { Effect = "Allow", NotAction = "iam:*", Resource = "*" },
    ]
  })
}
"""

_GOOD_SNIPPET = """
variable "name" {
  description = "a name"
  type        = string
}

resource "aws_s3_bucket" "this" {
  bucket = var.name
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

data "aws_iam_policy_document" "reader" {
  statement {
    actions   = ["s3:GetObject", "kms:Describe*"]
    resources = ["${aws_s3_bucket.this.arn}/*"]
  }
}
"""


def _stack_from(tmp_path: Path, text: str) -> Stack:
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    [stack] = load_stacks(tmp_path)
    return stack


def test_bad_configuration_is_reported(tmp_path: Path) -> None:
    stack = _stack_from(tmp_path, _BAD_SNIPPET)

    buckets = bucket_findings(stack)
    assert sorted(f.split(": ", 1)[1] for f in buckets) == sorted(
        [
            "aws_s3_bucket.open: no SSE-KMS default encryption",
            "aws_s3_bucket.open: no public access block with all four flags true",
            "aws_s3_bucket.open: no bucket policy denying aws:SecureTransport = false",
            # AES256 is not KMS, one flag is off, and the policy denies the wrong value.
            "aws_s3_bucket.half: no SSE-KMS default encryption",
            "aws_s3_bucket.half: no public access block with all four flags true",
            "aws_s3_bucket.half: no bucket policy denying aws:SecureTransport = false",
        ]
    )

    wildcards = wildcard_action_findings(stack)
    assert len(wildcards) == 3
    assert any("data.aws_iam_policy_document.admin" in f and "'*'" in f for f in wildcards)
    assert any("aws_iam_role_policy.inline" in f and "'dynamodb:*'" in f for f in wildcards)
    assert any("aws_iam_role_policy.inline" in f and "NotAction" in f for f in wildcards)

    variables = variable_findings(stack)
    assert len(variables) == 2
    assert any("untyped has no type" in f for f in variables)
    assert any("undocumented has no description" in f for f in variables)


def test_compliant_configuration_passes(tmp_path: Path) -> None:
    stack = _stack_from(tmp_path, _GOOD_SNIPPET)
    assert bucket_findings(stack) == []
    assert wildcard_action_findings(stack) == []
    assert variable_findings(stack) == []
    # The jsonencode policy and the data source were both read, not skipped.
    assert len(iam_statements(stack)) == 2


def test_a_policy_literal_that_cannot_be_parsed_fails_instead_of_being_skipped() -> None:
    unreadable = '${jsonencode({Statement = [{Effect = "Allow", Action = "*" Resource = }]})}'
    with pytest.raises(AssertionError, match="cannot parse jsonencode"):
        list(jsonencoded_documents({"policy": unreadable}))
    assert list(jsonencoded_documents({"policy": "${jsonencode(local.block_seconds)}"})) == []

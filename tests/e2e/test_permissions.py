"""Every call the platform's runtime code makes, checked against what AWS would allow.

The shared local stack's emulator logs every call (ECOMM_EMULATOR_CALL_LOG, set by
tests/conftest.py). This module runs each component's stand-in once more, fault paths included
(a poison record that ends in the DLQ; an SNS failure that makes the handler roll back), then
checks each recorded call, the calls only AWS makes and the service principals' uses of the
key, topic and trust policies against the policies read back from the applied stack, with a
real IAM evaluator (tests/permissions). It also proves that the check bites: removing any one
granted action must make some call fail.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials
from typer.testing import CliRunner

from ecomm_cli import aws_clients, environments
from ecomm_cli.alerts.lookup import BlocksLookup
from ecomm_cli.alerts.mitigation import allow_update, unblock_update
from ecomm_cli.alerts.sources import update_mitigation
from ecomm_cli.app import app
from ecomm_cli.local import call_log, lookup_server
from ecomm_cli.settings import Settings
from tests.permissions import calls as iam
from tests.permissions.evaluator import Call, evaluate_resource_policy, unused_grants

pytestmark = pytest.mark.e2e
COMPONENTS = ("firehose", "flink", "lambda", "glue", "blocks")


@dataclass
class Checked:
    stack: iam.Stack
    calls: dict[str, list[Call]]
    recorded: dict[str, list[Call]]


def _cli(settings: Settings, *args: str) -> None:
    result = CliRunner().invoke(app, list(args), env={"ECOMM_STATE_DIR": str(settings.state_dir)})
    assert result.exit_code == 0, f"{args}: {result.output}"


def _rollback_run(settings: Settings, outputs: dict[str, Any]) -> None:
    """The handler's rollback: the SNS send fails after the offender item was written, so the
    handler deletes the item and releases the cooldown (signed as the Lambda's role)."""
    from alerting import handler
    from alerting.notify import AlertPublisher
    from alerting.offenders import parse_anomaly
    from alerting.store import OffenderStore
    from aws_lambda_powertools import Metrics

    session = boto3.session.Session(
        region_name=settings.region, **aws_clients.emulator_credentials("lambda")
    )
    endpoint = settings.resolved_endpoint()
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    sns = session.client("sns", endpoint_url=endpoint)

    def refuse(**_: Any) -> None:  # the Publish reached SNS, and its answer is an error
        raise RuntimeError("injected: SNS refused the message")

    sns.meta.events.register("after-call.sns.Publish", refuse)
    user = int(uuid.uuid4().int % 10**9)
    anomaly = parse_anomaly(
        json.dumps(
            {
                "user_id": user,
                "rule": "flood",
                "window_start": "2019-10-03T00:00:00Z",
                "window_end": "2019-10-03T00:00:10Z",
                "count": 77,
                "samples": [],
            }
        ).encode()
    )
    deps = handler.Dependencies(
        store=OffenderStore(dynamodb, str(outputs["offenders_table"])),
        publisher=AlertPublisher(sns, str(outputs["alerts_topic_arn"])),
        metrics=Metrics(namespace=str(outputs["metric_namespace"]), service=handler.SERVICE),
        metric_namespace=str(outputs["metric_namespace"]),
        cooldown_seconds=900,
        ttl_days=7,
        clock=lambda: datetime.now(UTC),
    )
    with pytest.raises(RuntimeError, match="injected"):
        handler.handle_anomaly(anomaly, deps)
    # Looked at with the CLI's own key: the check is about what the handler does.
    left = aws_clients.client("dynamodb", settings).query(
        TableName=str(outputs["offenders_table"]),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"user#{user}"}},
    )["Items"]
    assert [i for i in left if i["sk"]["S"].startswith("rule#")] == [], "the rollback ran"


def _lookup_run(settings: Settings, outputs: dict[str, Any]) -> None:
    """The block lookup as the storefront calls it (`ecomm local lookup` in this process): a
    blocked bot, a user never flagged, and an unsigned request refused before the handler."""
    with lookup_server.running(lookup_server.serve(settings, 0)) as server:
        client = BlocksLookup(
            server.url, Credentials("AKIASTOREFRONT000001", "testing"), settings.region
        )
        table = str(outputs["mitigation_table"])
        items = aws_clients.client("dynamodb", settings).scan(TableName=table)["Items"]
        blocked = [i for i in items if "until" in i and "allowed_at" not in i]
        assert blocked, "the lambda run blocked the flood and cart_stuffer bots"
        user = int(blocked[0]["user_id"]["N"])
        assert client.check(user).blocked
        assert not client.check(7_777_777_777).blocked
        assert client.request(f"/blocks/{user}", sign=False)[0] == 403


@pytest.fixture(scope="module")
def checked(local_stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Checked:
    settings = local_stack
    log = Path(os.environ[call_log.ENV_VAR])
    outputs = environments.outputs(settings)
    work = tmp_path_factory.mktemp("permissions")
    events = work / "events.csv"
    _cli(
        settings,
        "sample",
        "generate",
        "--rows",
        "3000",
        "--days",
        "1",
        "--seed",
        "23",
        "--out",
        str(events),
        "--bots",
        "flood=1,cart_stuffer=1",
    )
    _cli(settings, "replay", str(events), "--no-progress")
    _cli(settings, "local", "deliver")
    _cli(settings, "local", "detector")
    _cli(settings, "local", "lambda")
    # The DLQ path: a record the handler cannot read fails every retry and goes to the DLQ.
    kinesis = aws_clients.client("kinesis", settings)
    kinesis.put_record(
        StreamName=str(outputs["anomalies_stream_name"]), Data=b"{not json", PartitionKey="p"
    )
    _cli(settings, "local", "lambda")
    _rollback_run(settings, outputs)
    _lookup_run(settings, outputs)

    stack = iam.read_stack(lambda service: aws_clients.client(service, settings), outputs)
    recorded = iam.recorded_calls(call_log.read(log), stack)
    aws_only = iam.aws_only_calls(stack)
    all_calls = {
        c: iam.as_on_aws(c, recorded.get(c, []), stack) + aws_only.get(c, []) for c in COMPONENTS
    }
    return Checked(stack=stack, calls=all_calls, recorded=recorded)


def test_every_component_was_recorded_with_its_fault_paths(checked: Checked) -> None:
    actions = {c: {call.action for call in calls} for c, calls in checked.recorded.items()}
    assert {"kinesis:GetRecords", "kinesis:ListShards"} <= actions["firehose"]
    assert {"kinesis:GetRecords", "kinesis:PutRecords"} <= actions["flink"]
    # The handler's own calls, its rollback (DeleteItem) and the mapping's DLQ send.
    assert {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "sns:Publish",
        "sqs:SendMessage",
        "kinesis:GetRecords",
    } <= actions["lambda"]
    # The allowlist check and the block write on the mitigation table.
    mitigation = checked.stack.arn("dynamodb", f"table/{checked.stack.outputs['mitigation_table']}")
    assert {c.action for c in checked.recorded["lambda"] if c.resource == mitigation} == {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
    }
    # The lookup reads single items, as its role.
    assert {c.action for c in checked.recorded["blocks"]} == {"dynamodb:GetItem", "kms:Decrypt"}


@pytest.mark.parametrize("component", COMPONENTS)
def test_every_call_is_allowed_by_the_components_role(checked: Checked, component: str) -> None:
    policies = checked.stack.role_policies[component]
    refused = iam.denied(checked.calls[component], policies, checked.stack)
    assert refused == [], "\n".join(f"{f.call.why}: {f.decision.reason}" for f in refused)


def test_every_service_uses_the_key_topic_and_roles_as_it_must(checked: Checked) -> None:
    checks = iam.service_principal_checks(checked.stack)
    assert {principal for principal, *_ in checks} >= {
        f"logs.{checked.stack.region}.amazonaws.com",
        "cloudwatch.amazonaws.com",
        "events.amazonaws.com",
        "lambda.amazonaws.com",
        "firehose.amazonaws.com",
        "glue.amazonaws.com",
    }
    refused = []
    for principal, call, name, policy in checks:
        decision = evaluate_resource_policy(
            principal, call, policy, policy_name=name, resource_account=checked.stack.account
        )
        if not decision.allowed:
            refused.append(f"{principal} ({call.why}): {decision.reason}")
    assert refused == [], "\n".join(refused)


def test_grants_no_call_uses_are_reported(checked: Checked) -> None:
    """Resource patterns of a grant that no call touched: printed for the reader (over-broad
    resources); every granted action itself is proven needed by the test below."""
    report = {
        component: [
            f"{g.policy}/{g.sid}: {g.action} on {', '.join(g.resources)}"
            for g in unused_grants(checked.stack.role_policies[component], checked.calls[component])
        ]
        for component in COMPONENTS
    }
    print(json.dumps(report, indent=2))
    assert all(isinstance(lines, list) for lines in report.values())


@pytest.mark.parametrize("component", COMPONENTS)
def test_removing_any_granted_action_makes_a_call_fail(checked: Checked, component: str) -> None:
    toothless = iam.bites(
        checked.stack.role_policies[component], checked.calls[component], checked.stack
    )
    assert toothless == [], (
        "granted but needed by no call (remove it, or declare the call that needs it): "
        + ", ".join(f"{g.sid}: {g.action}" for g in toothless)
    )


# --- the managed policies of the storefront and of whoever runs `ecomm alerts allow | unblock` --

ALLOWLIST_ADMIN_KEY = "AKIAALLOWLISTADMIN01"


def test_the_storefront_policy_allows_the_lookup_through_its_iam_url_only(
    checked: Checked, local_stack: Settings
) -> None:
    stack = checked.stack
    arn = str(stack.outputs["storefront_policy_arn"])
    policies = {"storefront": iam.managed_policy(aws_clients.client("iam", local_stack), arn)}
    function = str(stack.outputs["lookup_function_arn"])
    lookup = Call(
        "storefront",
        "lambda:InvokeFunctionUrl",
        function,
        {**iam.SECURE, "lambda:FunctionUrlAuthType": "AWS_IAM"},
        "the storefront's signed GET /blocks/{user_id}",
    )
    assert iam.denied([lookup], policies, stack) == []
    assert iam.bites(policies, [lookup], stack) == []
    # Nothing else: not a URL without IAM auth, not a direct invoke, not another function.
    others = [
        Call("storefront", lookup.action, function, {"lambda:FunctionUrlAuthType": "NONE"}, "x"),
        Call("storefront", "lambda:InvokeFunction", function, iam.SECURE, "x"),
        Call("storefront", lookup.action, function.replace("-blocks", "-alerting"), {}, "x"),
    ]
    assert len(iam.denied(others, policies, stack)) == len(others)


def test_allow_and_unblock_need_exactly_the_allowlist_admin_policy(
    checked: Checked, local_stack: Settings
) -> None:
    """`ecomm alerts allow | unblock`'s own writes, signed with an admin's key: recorded by the
    emulator and checked against the allowlist admin policy read back from the stack."""
    stack = checked.stack
    session = boto3.session.Session(
        region_name=local_stack.region,
        aws_access_key_id=ALLOWLIST_ADMIN_KEY,
        aws_secret_access_key="testing",
    )
    dynamodb = session.client("dynamodb", endpoint_url=local_stack.resolved_endpoint())
    table = str(stack.outputs["mitigation_table"])
    now = datetime.now(UTC)
    update_mitigation(dynamodb, table, allow_update(8_888_888_888, "admin", "wholesale", now, None))
    update_mitigation(dynamodb, table, unblock_update(8_888_888_889))

    records = [
        r
        for r in call_log.read(Path(os.environ[call_log.ENV_VAR]))
        if r["key"] == ALLOWLIST_ADMIN_KEY
    ]
    calls = [c for r in records for c in iam.to_calls("allowlist-admin", r, stack)]
    assert {c.action for c in calls} == {"dynamodb:UpdateItem", "kms:Decrypt"}
    arn = str(stack.outputs["allowlist_admin_policy_arn"])
    policies = {"admin": iam.managed_policy(aws_clients.client("iam", local_stack), arn)}
    refused = iam.denied(calls, policies, stack)
    assert refused == [], "\n".join(f"{f.call.why}: {f.decision.reason}" for f in refused)
    assert iam.bites(policies, calls, stack) == []

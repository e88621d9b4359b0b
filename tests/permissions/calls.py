"""Every AWS call a component of the platform makes, as IAM sees it, and the check of those
calls against the policies Terraform gave the component (read back from an applied stack).

Three sources of calls, per component:
- recorded: what the local runners and the CLI sent to the emulator, attributed by the access
  key each signs with (`ecomm_cli.aws_clients.COMPONENT_KEYS`, the operator's key in the
  rehearsal) and logged by the emulator (`ecomm_cli.local.call_log`);
- implied: what AWS does for a call with the caller's permissions and the emulator does not
  (KMS behind an encrypted stream, table, topic, queue or bucket);
- declared (`aws_only_calls`): what a component does on AWS that its local stand-in cannot,
  each with the reason (the Glue job reads S3, the local one reads the local lake).
Service principals (CloudWatch Logs, CloudWatch alarms, EventBridge, and the services that
assume each role) are checked against the key, topic and trust policies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from ecomm_cli.aws_clients import COMPONENT_KEYS
from tests.permissions.evaluator import (
    Call,
    Decision,
    Grant,
    evaluate_identity,
    evaluate_resource_policy,
    granted_actions,
    unused_grants,
    without_action,
)

Policies = Mapping[str, dict[str, Any]]
SECURE = {"aws:SecureTransport": "true"}
# The operator's access key in the rehearsal (tests/e2e/test_deploy_rehearsal.py).
OPERATOR_KEY = "AKIAOPERATOR0000001"
COMPONENT_OF_KEY = {key: component for component, key in COMPONENT_KEYS.items()}
COMPONENT_OF_KEY[OPERATOR_KEY] = "operator"
# Signing service name -> IAM action prefix, where they differ.
_IAM_PREFIX = {"monitoring": "cloudwatch"}
# Calls every principal may make whatever its policies say.
_ALWAYS_ALLOWED = {"sts:GetCallerIdentity"}


@dataclass(frozen=True)
class Stack:
    """What the check knows of an applied stack: its outputs, and the policies read back."""

    account: str
    region: str
    outputs: Mapping[str, Any]
    role_arns: Mapping[str, str]
    role_policies: Mapping[str, Policies]
    trust_policies: Mapping[str, dict[str, Any]]
    key_policy: dict[str, Any]
    topic_policy: dict[str, Any]
    log_group_arns: tuple[str, ...]
    alarm_arns: tuple[str, ...]
    event_rule_arns: tuple[str, ...]
    partition: str = "aws"
    # The state bucket and its key (the rehearsal's operator reads the state).
    state: Mapping[str, str] = field(default_factory=dict)

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        where = self.region if region else ""
        return f"arn:{self.partition}:{service}:{where}:{self.account}:{resource}"

    def s3(self, bucket: str, key: str | None = None) -> str:
        return f"arn:{self.partition}:s3:::{bucket}" + (f"/{key}" if key is not None else "")

    @property
    def kms_key_arn(self) -> str:
        return str(self.outputs["kms_key_arn"])

    def stream_arn(self, name: str) -> str:
        return self.arn("kinesis", f"stream/{name}")

    def via(self, service: str) -> dict[str, str]:
        return {**SECURE, "kms:ViaService": f"{service}.{self.region}.amazonaws.com"}


def read_stack(client: Callable[[str], Any], outputs: Mapping[str, Any]) -> Stack:
    """Read the policies of an applied stack back from the (emulated) account."""
    iam, region = client("iam"), str(outputs["region"])
    account = client("sts").get_caller_identity()["Account"]
    role_arns = {c: str(a) for c, a in dict(outputs["iam_role_arns"]).items() if a}
    role_policies: dict[str, dict[str, dict[str, Any]]] = {}
    trust: dict[str, dict[str, Any]] = {}
    for component, arn in role_arns.items():
        name = arn.rsplit("/", 1)[-1]
        role = iam.get_role(RoleName=name)["Role"]
        trust[component] = _document(role["AssumeRolePolicyDocument"])
        policies = {
            p: _document(iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"])
            for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
        }
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            policies[attached["PolicyName"]] = managed_policy(iam, attached["PolicyArn"])
        role_policies[component] = policies
    prefix = str(outputs["name_prefix"])
    logs = client("logs")
    groups = [
        g["arn"].removesuffix(":*")
        for page in logs.get_paginator("describe_log_groups").paginate()
        for g in page["logGroups"]
        if prefix in g["logGroupName"]
    ]
    alarms = [
        a["AlarmArn"]
        for a in client("cloudwatch").describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]
    ]
    rules = [r["Arn"] for r in client("events").list_rules(NamePrefix=prefix)["Rules"]]
    key_id = str(outputs["kms_key_arn"])
    topic = str(outputs["alerts_topic_arn"])
    return Stack(
        account=account,
        region=region,
        outputs=outputs,
        role_arns=role_arns,
        role_policies=role_policies,
        trust_policies=trust,
        key_policy=json.loads(
            client("kms").get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
        ),
        topic_policy=json.loads(
            client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]
        ),
        log_group_arns=tuple(sorted(groups)),
        alarm_arns=tuple(sorted(alarms)),
        event_rule_arns=tuple(sorted(rules)),
    )


def managed_policy(iam: Any, arn: str) -> dict[str, Any]:
    """The default version's document of a managed policy."""
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return _document(
        iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    )


def _document(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        from urllib.parse import unquote

        return dict(json.loads(unquote(value)))
    return dict(value)


# --- recorded calls -------------------------------------------------------------------------


class Unmapped(Exception):
    """A recorded request this module cannot express as an IAM call (the check must say so)."""


def recorded_calls(records: Iterable[Mapping[str, Any]], stack: Stack) -> dict[str, list[Call]]:
    """The IAM calls of every recorded request signed by a component's key, by component."""
    calls: dict[str, list[Call]] = {}
    for record in records:
        component = COMPONENT_OF_KEY.get(str(record["key"]))
        if component is None:
            continue  # the CLI's own set-up calls, the test's inspections, Terraform
        calls.setdefault(component, []).extend(to_calls(component, record, stack))
    return calls


def to_calls(component: str, record: Mapping[str, Any], stack: Stack) -> list[Call]:
    """One recorded request as the IAM call(s) AWS would evaluate, with the KMS it implies."""
    service = str(record["service"])
    operation = str(record["operation"])
    params: Mapping[str, str] = record["params"]
    prefix = _IAM_PREFIX.get(service, service)
    action = f"{prefix}:{operation}"
    why = f"recorded {service} {operation}"
    if action in _ALWAYS_ALLOWED:
        return []
    if service == "kinesis":
        stream = params.get("StreamARN") or (
            stack.stream_arn(params["StreamName"]) if "StreamName" in params else None
        )
        if stream is None:
            raise Unmapped(f"{component}: kinesis {operation} without a stream: {params}")
        call = Call(component, action, stream, SECURE, why)
        return [call, *_kinesis_kms(component, operation, stack, why)]
    if service == "dynamodb":
        table = stack.arn("dynamodb", f"table/{params['TableName']}")
        kms = Call(component, "kms:Decrypt", stack.kms_key_arn, stack.via("dynamodb"), why)
        return [Call(component, action, table, SECURE, why), kms]
    if service == "sns":
        topic = params.get("TopicArn") or params.get("TargetArn")
        if not topic:
            raise Unmapped(f"{component}: sns {operation} without a topic: {params}")
        return [
            Call(component, action, topic, SECURE, why),
            *_encrypts_with_platform_key(component, "sns", stack, why),
        ]
    if service == "sqs":
        path = urlparse(params["QueueUrl"]).path.strip("/").split("/")
        queue = stack.arn("sqs", path[-1])
        return [
            Call(component, action, queue, SECURE, why),
            *_encrypts_with_platform_key(component, "sqs", stack, why),
        ]
    if prefix == "cloudwatch" and operation == "PutMetricData":
        context = {**SECURE, "cloudwatch:namespace": params.get("Namespace", "")}
        return [Call(component, action, "*", context, why)]
    if prefix == "cloudwatch" and operation == "DescribeAlarms":
        # A list call: IAM authorises it against every alarm, whatever the name prefix.
        return [Call(component, action, stack.arn("cloudwatch", "alarm:*"), SECURE, why)]
    if service == "glue":
        return [Call(component, action, stack.arn("glue", f"job/{params['JobName']}"), SECURE, why)]
    if service == "athena":
        # Get/Stop name a query, which belongs to the workgroup the CLI always runs in.
        workgroup = params.get("WorkGroup") or str(stack.outputs["athena_workgroup"])
        return [Call(component, action, stack.arn("athena", f"workgroup/{workgroup}"), SECURE, why)]
    if service == "s3":
        return _s3_calls(component, operation, params, stack, why)
    raise Unmapped(f"{component}: no IAM mapping for {service} {operation} {params}")


def _kinesis_kms(component: str, operation: str, stack: Stack, why: str) -> list[Call]:
    # Every stream is encrypted with the platform key: writers make data keys, readers decrypt.
    if operation in ("PutRecord", "PutRecords"):
        return [
            Call(component, "kms:GenerateDataKey", stack.kms_key_arn, stack.via("kinesis"), why)
        ]
    if operation in ("GetRecords", "SubscribeToShard"):
        return [Call(component, "kms:Decrypt", stack.kms_key_arn, stack.via("kinesis"), why)]
    return []


def _encrypts_with_platform_key(component: str, service: str, stack: Stack, why: str) -> list[Call]:
    # SNS and SQS with a customer key: the sender needs a data key and its decryption.
    return [
        Call(component, "kms:GenerateDataKey", stack.kms_key_arn, stack.via(service), why),
        Call(component, "kms:Decrypt", stack.kms_key_arn, stack.via(service), why),
    ]


_S3_ACTIONS = {
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
}


def _s3_calls(
    component: str, operation: str, params: Mapping[str, str], stack: Stack, why: str
) -> list[Call]:
    action = _S3_ACTIONS.get(operation)
    if action is None:
        raise Unmapped(f"{component}: no IAM mapping for s3 {operation} {params}")
    bucket, key = params["Bucket"], params.get("Key")
    if action == "s3:ListBucket":
        context = {**SECURE, **({"s3:prefix": params["Prefix"]} if "Prefix" in params else {})}
        return [Call(component, action, stack.s3(bucket), context, why)]
    calls = [Call(component, action, stack.s3(bucket, key), SECURE, why)]
    encryption_key = (
        stack.state.get("kms_key_arn") if bucket == stack.state.get("bucket") else stack.kms_key_arn
    )
    if operation == "GetObject" and encryption_key:
        calls.append(Call(component, "kms:Decrypt", encryption_key, stack.via("s3"), why))
    if operation == "PutObject" and encryption_key:
        calls.append(Call(component, "kms:GenerateDataKey", encryption_key, stack.via("s3"), why))
    return calls


def as_on_aws(component: str, calls: list[Call], stack: Stack) -> list[Call]:
    """The calls a stand-in made, as the real component makes them.

    The local detector polls the events stream; the Flink job reads it through its enhanced
    fan-out consumer instead (flink/main.py), so its shard reads are SubscribeToShard and
    DescribeStreamConsumer on that consumer.
    """
    if component != "flink":
        return calls
    events = stack.stream_arn(str(stack.outputs["events_stream_name"]))
    consumer = str(stack.outputs["events_consumer_arn"])
    translated: list[Call] = []
    for call in calls:
        if call.resource == events and call.action in (
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
        ):
            why = f"{call.why}, which Flink does through its consumer"
            translated += [
                Call(component, "kinesis:SubscribeToShard", consumer, SECURE, why),
                Call(component, "kinesis:DescribeStreamConsumer", consumer, SECURE, why),
            ]
        else:
            translated.append(call)
    return translated


# --- calls only AWS makes --------------------------------------------------------------------


def aws_only_calls(stack: Stack) -> dict[str, list[Call]]:
    """What each component does on AWS that its local stand-in cannot, one reason each."""
    o = stack.outputs
    prefix = str(o["name_prefix"])
    key = stack.kms_key_arn
    events = stack.stream_arn(str(o["events_stream_name"]))
    anomalies = stack.stream_arn(str(o["anomalies_stream_name"]))
    raw, curated = str(o["raw_bucket"]), str(o["curated_bucket"])
    quarantine, artifacts = str(o["quarantine_bucket"]), str(o["artifacts_bucket"])
    raw_object = "raw/events/ingest_date=2019-10-01/hour=00/ecomm-events-to-raw-1.gz"
    firehose_log = stack.arn(
        "logs",
        f"log-group:/aws/kinesisfirehose/{o['firehose_name']}:log-stream:DestinationDelivery",
    )
    flink_app = str(o["flink_application_name"]) if o.get("flink_application_name") else None
    lambda_log = stack.arn("logs", f"log-group:/aws/lambda/{o['lambda_function_name']}")
    lookup_log = stack.arn("logs", f"log-group:/aws/lambda/{o['lookup_function_name']}")
    glue_logs = [stack.arn("logs", f"log-group:{g}") for g in o.get("glue_log_groups", [])]
    s3_via, kinesis_via = stack.via("s3"), stack.via("kinesis")

    def call(
        component: str, action: str, resource: str, why: str, context: Mapping[str, str] = SECURE
    ) -> Call:
        return Call(component, action, resource, context, why)

    firehose = [
        # The delivery runner writes the lake on disk; Firehose writes the raw bucket.
        *(
            call("firehose", a, stack.s3(raw, raw_object), "Firehose writes each delivery object")
            for a in ("s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload")
        ),
        call(
            "firehose",
            "s3:PutObject",
            stack.s3(raw, "raw/errors/processing-failed/ingest_date=2019-10-01/x.gz"),
            "failed records go under raw/errors/",
        ),
        *(
            call("firehose", a, stack.s3(raw), "Firehose checks the destination bucket")
            for a in ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads")
        ),
        call(
            "firehose",
            "kms:GenerateDataKey",
            key,
            "objects are SSE-KMS with the platform key",
            s3_via,
        ),
        call("firehose", "kms:Decrypt", key, "multipart uploads of SSE-KMS objects", s3_via),
        call("firehose", "kinesis:DescribeStream", events, "Firehose validates its Kinesis source"),
        call(
            "firehose",
            "kinesis:DescribeStreamSummary",
            events,
            "Firehose reads the source's shard count",
        ),
        call("firehose", "logs:PutLogEvents", firehose_log, "delivery errors go to its log stream"),
    ]
    flink = []
    if flink_app:
        code = str(o.get("flink_code_s3_key") or f"flink/{flink_app}.zip")
        flink_group = stack.arn("logs", f"log-group:/aws/kinesis-analytics/{flink_app}")
        flink = [
            call(
                "flink",
                "s3:GetObject",
                stack.s3(artifacts, code),
                "Managed Flink loads the application zip",
            ),
            call(
                "flink",
                "s3:GetObjectVersion",
                stack.s3(artifacts, code),
                "the application names a code object version",
            ),
            call("flink", "kms:Decrypt", key, "the code object is SSE-KMS", s3_via),
            call("flink", "kinesis:ListShards", events, "the source discovers shards every 10 s"),
            call(
                "flink",
                "kinesis:DescribeStreamSummary",
                events,
                "the source reads the stream's state",
            ),
            call(
                "flink",
                "kinesis:DescribeStreamConsumer",
                str(o["events_consumer_arn"]),
                "SELF_MANAGED: the source looks up its consumer",
            ),
            call(
                "flink",
                "kinesis:SubscribeToShard",
                str(o["events_consumer_arn"]),
                "enhanced fan-out reads",
            ),
            call("flink", "kms:Decrypt", key, "the events stream is KMS-encrypted", kinesis_via),
            call(
                "flink", "kinesis:DescribeStream", anomalies, "the sink checks the stream it writes"
            ),
            call(
                "flink",
                "kinesis:DescribeStreamSummary",
                anomalies,
                "the sink checks the stream it writes",
            ),
            call("flink", "kinesis:ListShards", anomalies, "the sink maps records to shards"),
            call(
                "flink", "kinesis:PutRecord", anomalies, "the sink writes single records on retry"
            ),
            call(
                "flink",
                "logs:PutLogEvents",
                f"{flink_group}:log-stream:application",
                "cloudwatch_logging_options",
            ),
            call(
                "flink",
                "logs:DescribeLogStreams",
                f"{flink_group}:log-stream:application",
                "the logger finds its stream",
            ),
            call(
                "flink",
                "logs:DescribeLogGroups",
                stack.arn("logs", "log-group:*"),
                "the logger finds its group",
            ),
            # Checkpoints and snapshots are managed by the service: no call with this role.
        ]
    lambda_ = [
        call(
            "lambda",
            "logs:CreateLogStream",
            f"{lambda_log}:log-stream:2026/11/30/[$LATEST]x",
            "each execution environment opens its stream",
        ),
        call(
            "lambda",
            "logs:PutLogEvents",
            f"{lambda_log}:log-stream:2026/11/30/[$LATEST]x",
            "the function's logs and EMF metrics",
        ),
        call("lambda", "xray:PutTraceSegments", "*", "tracing is Active"),
        call("lambda", "xray:PutTelemetryRecords", "*", "tracing is Active"),
        call(
            "lambda",
            "kinesis:DescribeStream",
            anomalies,
            "the event source mapping validates its stream",
        ),
        call(
            "lambda",
            "kinesis:DescribeStreamSummary",
            anomalies,
            "the event source mapping reads the shard count",
        ),
    ]
    # The block lookup: `ecomm local lookup` plays its function URL and reads its table as its
    # role; the runtime's own writes are these.
    blocks = [
        call(
            "blocks",
            "logs:CreateLogStream",
            f"{lookup_log}:log-stream:2026/11/30/[$LATEST]x",
            "each execution environment opens its stream",
        ),
        call(
            "blocks",
            "logs:PutLogEvents",
            f"{lookup_log}:log-stream:2026/11/30/[$LATEST]x",
            "the function's logs (a failed read is logged)",
        ),
        call("blocks", "xray:PutTraceSegments", "*", "tracing is Active"),
        call("blocks", "xray:PutTelemetryRecords", "*", "tracing is Active"),
    ]
    glue_keys = (
        "raw/events",
        "raw/events_$folder$",
        "raw/events/ingest_date=2019-10-01/hour=00/x.gz",
    )
    zone_keys = ("events", "events_$folder$", "events/event_date=2019-10-01/part-0.parquet")
    glue = [
        call(
            "glue",
            "s3:GetObject",
            stack.s3(artifacts, "glue/curate_events.py"),
            "Glue loads the script",
        ),
        *(
            call("glue", "s3:ListBucket", stack.s3(b), "Spark lists the zones")
            for b in (raw, curated, quarantine, artifacts)
        ),
        *(
            call(
                "glue", "s3:GetBucketLocation", stack.s3(b), "S3 clients find each bucket's region"
            )
            for b in (raw, curated, quarantine, artifacts)
        ),
        *(
            call(
                "glue",
                "s3:GetObject",
                stack.s3(raw, k),
                "Spark reads raw events and checks the folder keys",
            )
            for k in glue_keys
        ),
        *(
            call(
                "glue",
                a,
                stack.s3(bucket, k),
                "the job rewrites the touched days and their folder markers",
            )
            for bucket in (curated, quarantine)
            for k in zone_keys
            for a in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
        ),
        *(
            call("glue", a, stack.s3(artifacts, k), "Spark's temporary directory")
            for k in ("glue/tmp", "glue/tmp_$folder$", "glue/tmp/spark-1/part-0")
            for a in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
        ),
        # The job switches each rewritten day's catalog partition to its run's folder and
        # tags the folder it replaced for the curated bucket's lifecycle (glue/curate_events.py).
        *(
            call("glue", a, arn, "the job switches the events table's partitions")
            for a in (
                "glue:GetTable",
                "glue:GetPartitions",
                "glue:BatchCreatePartition",
                "glue:BatchUpdatePartition",
            )
            for arn in (
                stack.arn("glue", "catalog"),
                stack.arn("glue", f"database/{o['glue_database']}"),
                stack.arn("glue", f"table/{o['glue_database']}/{o['glue_events_table']}"),
            )
        ),
        # An appended day's held files are carried into the new run's folder by CopyObject:
        # GetObject on the source, PutObject on the copy (no tagging: TaggingDirective REPLACE).
        *(
            call(
                "glue",
                a,
                stack.s3(curated, f"events/runs/{run}/event_date=2019-10-01/p.parquet"),
                "the job copies an appended day's held files into its run's folder",
            )
            for a, run in (
                ("s3:GetObject", "20191001T000000Z-0a1b2c3d"),
                ("s3:PutObject", "20191002T000000Z-0a1b2c3e"),
            )
        ),
        call(
            "glue",
            "s3:PutObjectTagging",
            stack.s3(
                curated, "events/runs/20191001T000000Z-0a1b2c3d/event_date=2019-10-01/p.parquet"
            ),
            "the job tags the day folder a newer run replaced",
        ),
        call("glue", "kms:Decrypt", key, "every zone is SSE-KMS", s3_via),
        call("glue", "kms:GenerateDataKey", key, "new objects are SSE-KMS", s3_via),
        call("glue", "kms:Encrypt", key, "job bookmarks are CSE-KMS (the security configuration)"),
        call(
            "glue",
            "cloudwatch:PutMetricData",
            "*",
            "--enable-metrics",
            {**SECURE, "cloudwatch:namespace": "Glue"},
        ),
        call(
            "glue",
            "cloudwatch:PutMetricData",
            "*",
            "the CurationSucceeded heartbeat",
            {**SECURE, "cloudwatch:namespace": str(o["metric_namespace"])},
        ),
        *(
            call("glue", a, f"{g}:log-stream:jr_1-driver", "Glue 5 real-time logs")
            for g in glue_logs
            for a in ("logs:CreateLogStream", "logs:PutLogEvents")
        ),
    ]
    del prefix
    return {"firehose": firehose, "flink": flink, "lambda": lambda_, "glue": glue, "blocks": blocks}


def operator_aws_only_calls(stack: Stack) -> list[Call]:
    """What the operator's commands cause on AWS that the rehearsal cannot record: Athena's
    work with the caller's own permissions for `ecomm kpi`/`ecomm report` (the emulator's
    Athena runs no query), and the stop of a query that outlives its wait."""
    o = stack.outputs
    curated, results = str(o["curated_bucket"]), str(o["athena_results_bucket"])
    glue = f"arn:{stack.partition}:glue:{stack.region}:{stack.account}"
    database = str(o["glue_database"])
    s3_via = stack.via("s3")
    result_object = stack.s3(results, "results/00000000-0000-0000-0000-000000000000.csv")

    def call(action: str, resource: str, why: str, context: Mapping[str, str] = SECURE) -> Call:
        return Call("operator", action, resource, context, why)

    workgroup = stack.arn("athena", f"workgroup/{o['athena_workgroup']}")
    return [
        call(
            "athena:StopQueryExecution",
            workgroup,
            "ecomm kpi stops a query still running after its wait",
        ),
        call("glue:GetDatabase", f"{glue}:catalog", "Athena resolves the query's database"),
        call(
            "glue:GetDatabase",
            f"{glue}:database/{database}",
            "Athena resolves the query's database",
        ),
        *(
            call("glue:GetTable", arn, "Athena reads the events table")
            for arn in (
                f"{glue}:catalog",
                f"{glue}:database/{database}",
                f"{glue}:table/{database}/{o['glue_events_table']}",
            )
        ),
        *(
            call("glue:GetPartitions", arn, "Athena reads where each day currently lives")
            for arn in (
                f"{glue}:catalog",
                f"{glue}:database/{database}",
                f"{glue}:table/{database}/{o['glue_events_table']}",
            )
        ),
        call("s3:GetBucketLocation", stack.s3(curated), "Athena finds the curated bucket's region"),
        call(
            "s3:ListBucket",
            stack.s3(curated),
            "Athena lists each projected day",
            {**SECURE, "s3:prefix": "events/event_date=2019-10-01/"},
        ),
        call(
            "s3:GetObject",
            stack.s3(curated, "events/event_date=2019-10-01/part-0.parquet"),
            "Athena reads the Parquet files",
        ),
        call("kms:Decrypt", stack.kms_key_arn, "the curated objects are SSE-KMS", s3_via),
        call("s3:GetBucketLocation", stack.s3(results), "Athena finds the results bucket's region"),
        call(
            "s3:ListBucket",
            stack.s3(results),
            "Athena checks the results location",
            {**SECURE, "s3:prefix": "results/"},
        ),
        call("s3:PutObject", result_object, "Athena writes the result file"),
        call("s3:AbortMultipartUpload", result_object, "a large result is written in parts"),
        call("s3:ListMultipartUploadParts", result_object, "a large result is written in parts"),
        call("s3:GetObject", result_object, "GetQueryResults reads the result file as the caller"),
        call(
            "kms:GenerateDataKey",
            stack.kms_key_arn,
            "results are SSE-KMS (the workgroup enforces it)",
            s3_via,
        ),
    ]


# --- the check --------------------------------------------------------------------------------


@dataclass
class Finding:
    call: Call
    decision: Decision


def decide(call: Call, policies: Policies, stack: Stack) -> Decision:
    """IAM's answer for a component's call: its role's policies and, for the platform key and
    the alerts topic, their resource policy. An explicit deny anywhere wins; a key policy must
    allow the role or delegate to IAM (the account root statement); a topic policy that says
    nothing of the role leaves it to the role's policies (same account)."""
    identity = evaluate_identity(call, policies)
    if call.action.startswith("kms:") and call.resource == stack.kms_key_arn:
        name, document = "key policy", stack.key_policy
    elif call.action == "sns:Publish":
        name, document = "topic policy", stack.topic_policy
    else:
        return identity
    principal = (
        stack.role_arns[call.component]
        if call.component in stack.role_arns
        else (stack.arn("iam", f"role/{call.component}", region=False))
    )
    resource = evaluate_resource_policy(principal, call, document, policy_name=name)
    explicit_deny = [d for d in (identity, resource) if "explicitly denied" in d.reason]
    if explicit_deny:
        return explicit_deny[0]
    if resource.allowed:
        return resource
    return identity if resource.delegated_to_iam else resource


def denied(calls: Iterable[Call], policies: Policies, stack: Stack) -> list[Finding]:
    """The calls the policies would refuse."""
    findings = []
    for call in calls:
        decision = decide(call, policies, stack)
        if not decision.allowed:
            findings.append(Finding(call, decision))
    return findings


def service_principal_checks(stack: Stack) -> list[tuple[str, Call, str, dict[str, Any]]]:
    """(service principal, call, policy name, policy) for every use a service makes of the
    platform key, the alerts topic and the roles' trust."""
    key = stack.kms_key_arn
    topic = str(stack.outputs["alerts_topic_arn"])
    checks: list[tuple[str, Call, str, dict[str, Any]]] = []
    logs = f"logs.{stack.region}.amazonaws.com"
    for group in stack.log_group_arns:
        context = {"kms:EncryptionContext:aws:logs:arn": group}
        for action in (
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "kms:ReEncryptFrom",
            "kms:DescribeKey",
        ):
            checks.append(
                (
                    logs,
                    Call("logs", action, key, context, f"the encrypted log group {group}"),
                    "key policy",
                    stack.key_policy,
                )
            )
    for alarm in stack.alarm_arns:
        context = {"aws:SourceAccount": stack.account, "aws:SourceArn": alarm}
        why = f"alarm {alarm} notifies the encrypted topic"
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            checks.append(
                (
                    "cloudwatch.amazonaws.com",
                    Call("cloudwatch", action, key, context, why),
                    "key policy",
                    stack.key_policy,
                )
            )
        checks.append(
            (
                "cloudwatch.amazonaws.com",
                Call("cloudwatch", "sns:Publish", topic, {**SECURE, **context}, why),
                "topic policy",
                stack.topic_policy,
            )
        )
    for rule in stack.event_rule_arns:
        why = f"rule {rule} notifies the encrypted topic"
        # EventBridge's KMS requests carry no source account or ARN (SNS developer guide).
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            checks.append(
                (
                    "events.amazonaws.com",
                    Call("events", action, key, {}, why),
                    "key policy",
                    stack.key_policy,
                )
            )
        context = {**SECURE, "aws:SourceAccount": stack.account, "aws:SourceArn": rule}
        checks.append(
            (
                "events.amazonaws.com",
                Call("events", "sns:Publish", topic, context, why),
                "topic policy",
                stack.topic_policy,
            )
        )
    services = {
        "firehose": "firehose.amazonaws.com",
        "flink": "kinesisanalytics.amazonaws.com",
        "lambda": "lambda.amazonaws.com",
        "glue": "glue.amazonaws.com",
        "blocks": "lambda.amazonaws.com",
    }
    for component, arn in stack.role_arns.items():
        context = {"aws:SourceAccount": stack.account}
        call = Call(
            component, "sts:AssumeRole", arn, context, f"{services[component]} assumes the role"
        )
        checks.append(
            (
                services[component],
                call,
                f"trust policy of {component}",
                stack.trust_policies[component],
            )
        )
    return checks


def unused(policies: Policies, calls: Iterable[Call]) -> list[Grant]:
    """Grants no call uses (reported; the bite test proves each used one matters)."""
    return unused_grants(policies, calls)


def bites(policies: Policies, calls: list[Call], stack: Stack) -> list[Grant]:
    """The granted actions whose removal leaves every call allowed: none, if every grant is
    needed by some call."""
    toothless = []
    for grant in granted_actions(policies):
        if not denied(calls, without_action(policies, grant), stack):
            toothless.append(grant)
    return toothless

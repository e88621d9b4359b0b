"""The README's "Deploying to AWS", run as written against a fresh emulated AWS account.

The account is a second, fresh instance of the project's patched emulator (stock moto refuses
the state writes and needs Docker for Kinesis puts), reached only the ways a user reaches AWS:
`AWS_ENDPOINT_URL` (an IP-literal endpoint, so S3 is path-style by itself), credentials in the
environment and `AWS_MAX_ATTEMPTS`. Everything runs in a throwaway copy of the repository with
its own ECOMM_STATE_DIR, because the bootstrap's state and backend.hcl are files a maintainer
owns. The copy is changed only where the README tells a user to: the Powertools layer in
dev.tfvars (a stand-in layer published to the emulated account) and the connector jar (a
stand-in file, the Maven download being offline). Managed Flink cannot start on the emulator,
so `TF_VAR_start_flink_application=false` is set, as the local root does.

Each step of the README block must have an expectation here: a new or changed step fails the
test until this file says what it must do.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ecomm_cli.local import call_log, emulator
from ecomm_cli.settings import PROJECT_ROOT
from tests.permissions import calls as iam
from tests.support.athena_results import queue_result

pytestmark = pytest.mark.e2e

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # the emulator's account
STATE_BUCKET = f"ecomm-tfstate-{ACCOUNT}"
PREFIX = "ecomm-dev"
ROWS = 3000
# Who runs which step: a deployer applies Terraform, an operator runs the data commands (whose
# calls the emulator logs and the operator policy must allow).
DEPLOYER_KEY = "AKIADEPLOYER0000001"
OPERATOR_KEY = iam.OPERATOR_KEY
_COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv*",
    ".ecomm",
    ".terraform",
    "__pycache__",
    "*.tfstate",
    "*.tfstate.*",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "*.egg-info",
    "build",
    "report.html",
)


def deployment_steps(readme: Path = PROJECT_ROOT / "README.md") -> list[str]:
    """The command lines of the README's "Deploying to AWS" block, comments cut."""
    text = readme.read_text()
    section = re.search(r"## Deploying to AWS\n(.*?)\n## ", text, re.S)
    assert section, "the README has no 'Deploying to AWS' section"
    block = re.search(r"```bash\n(.*?)\n```", section.group(1), re.S)
    assert block, "the deployment section has no bash block"
    steps = []
    for line in block.group(1).replace("\\\n", " ").splitlines():
        command = line.split("  #", 1)[0].strip()
        if command and not command.startswith("#"):
            steps.append(" ".join(command.split()))
    return steps


@dataclass
class Account:
    """The emulated AWS account: clients with an inspector's credentials, and its call log."""

    endpoint: str
    call_log: Path

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="AKIATESTINSPECTOR001",
            aws_secret_access_key="inspector",
        )


@dataclass
class Rehearsal:
    copy: Path
    account: Account
    env: dict[str, str]
    ran: list[str] = field(default_factory=list)

    def run(self, command: str, *, key: str, extra: dict[str, str] | None = None) -> Any:
        env = {
            **self.env,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": "secret-" + key,
            **(extra or {}),
        }
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )


@pytest.fixture
def account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    """A fresh emulator process: an empty AWS account, stopped at the end."""
    log = tmp_path / "account" / "calls.jsonl"
    monkeypatch.setenv(call_log.ENV_VAR, str(log))
    proc = emulator.start(tmp_path / "account")
    try:
        yield Account(proc.endpoint_url, log)
    finally:
        emulator.stop(proc.pid)


@pytest.fixture
def rehearsal(tmp_path: Path, account: Account) -> Rehearsal:
    copy = tmp_path / "repo"
    shutil.copytree(PROJECT_ROOT, copy, ignore=_COPY_IGNORE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECOMM_", "AWS_", "TF_VAR_"))}
    env.update(
        {
            # The copy's code and Terraform, with this environment's installed packages.
            "PYTHONPATH": str(copy),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "AWS_ENDPOINT_URL": account.endpoint,
            "AWS_MAX_ATTEMPTS": "2",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
            "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
            "ECOMM_STATE_DIR": str(tmp_path / "state"),
            "TF_VAR_start_flink_application": "false",
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
    )
    return Rehearsal(copy=copy, account=account, env=env)


# --- stand-ins for what a user provides ----------------------------------------------------


def publish_stand_in_layer(account: Account) -> str:
    """A Powertools layer in the emulated account (AWS's public one is not there)."""
    table = json.loads((PROJECT_ROOT / "lambdas" / "powertools_layer.json").read_text())
    runtime = table["python_runtime"]
    name = f"AWSLambdaPowertoolsPythonV3-{runtime.replace('.', '')}-{table['architecture']}"
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        archive.writestr("python/README.txt", "stand-in for AWS's Powertools layer\n")
    published = account.client("lambda").publish_layer_version(
        LayerName=name, Content={"ZipFile": content.getvalue()}, CompatibleRuntimes=[runtime]
    )
    return str(published["LayerVersionArn"])


def point_tfvars_at_layer(copy: Path, layer_arn: str) -> None:
    """The README's tfvars edit: `powertools_layer_arn` for a layer AWS does not publish here."""
    tfvars = copy / "terraform" / "environments" / "dev" / "dev.tfvars"
    text, count = re.subn(
        r"(?m)^powertools_layer_arn\s*=.*$",
        f'powertools_layer_arn = "{layer_arn}"',
        tfvars.read_text(),
    )
    assert count == 1, "dev.tfvars no longer has the powertools_layer_arn line the README names"
    tfvars.write_text(text)


def write_replay_file(rehearsal: Rehearsal) -> None:
    """`2019-Oct.csv.zip` as the Kaggle download is shaped: a CSV inside a zip."""
    made = rehearsal.run(
        f"ecomm sample generate --rows {ROWS} --days 1 --seed 11 --out events.csv",
        key=OPERATOR_KEY,
    )
    assert made.returncode == 0, made.stderr
    with zipfile.ZipFile(rehearsal.copy / "2019-Oct.csv.zip", "w") as archive:
        archive.write(rehearsal.copy / "events.csv", "2019-Oct.csv")


# --- what each step must do ----------------------------------------------------------------


def one_line_error(proc: Any) -> str:
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout + proc.stderr
    assert "Traceback" not in lines[0]
    return lines[0]


def check_bootstrap(r: Rehearsal, proc: Any) -> None:
    for env in ("dev", "prod"):
        text = (r.copy / "terraform" / "environments" / env / "backend.hcl").read_text()
        assert f'bucket       = "{STATE_BUCKET}"' in text
        assert f'key          = "ecomm/{env}/terraform.tfstate"' in text
        assert re.search(r'kms_key_id\s+= "arn:aws:kms:eu-west-1:\d{12}:key/', text)
    assert (r.copy / "terraform" / "bootstrap" / "terraform.tfstate").is_file()
    # The maintainer's own files are untouched.
    assert (
        "replace-with-your-account-id"
        in (PROJECT_ROOT / "terraform" / "environments" / "dev" / "backend.hcl").read_text()
    )
    r.account.client("s3").head_bucket(Bucket=STATE_BUCKET)
    check_no_local_names_reach_dev(r)


def check_no_local_names_reach_dev(r: Rehearsal) -> None:
    """A local stack is up (its record names ecomm-local-*) and dev has no state yet: the
    data commands stop with one line naming `ecomm apply --env dev`, and use no local name."""
    local_dir = Path(r.env["ECOMM_STATE_DIR"]) / "local"
    local_dir.mkdir(parents=True, exist_ok=True)
    local_outputs = {
        "athena_workgroup": "ecomm-local-analytics",
        "glue_database": "ecomm_local",
        "glue_job_name": "ecomm-local-curate-events",
        "events_stream_name": "ecomm-local-events",
        "offenders_table": "ecomm-local-offenders",
        "name_prefix": "ecomm-local",
        "region": REGION,
    }
    record = {"endpoint_url": r.account.endpoint, "pid": 1, "applied_at": "2026-11-30T00:00:00Z"}
    (local_dir / "stack.json").write_text(json.dumps({**record, "outputs": local_outputs}))
    try:
        for command in (
            "ecomm kpi unique-visitors --engine athena",
            "ecomm etl run --glue",
            "ecomm replay events.csv",
            "ecomm alerts check",
        ):
            proc = r.run(command, key=OPERATOR_KEY, extra={"ECOMM_ENV": "dev"})
            assert proc.returncode == 2, f"{command}: {proc.stdout}{proc.stderr}"
            line = one_line_error(proc)
            assert "no Terraform state" in line and "ecomm apply --env dev" in line, line
            assert "ecomm-local" not in line and "ecomm_local" not in line
    finally:
        (local_dir / "stack.json").unlink()
    athena = r.account.client("athena")
    assert not athena.list_query_executions()["QueryExecutionIds"]


def check_plan(r: Rehearsal, proc: Any) -> None:
    applied = any(s.startswith("ecomm apply --env dev") for s in r.ran)
    expected = "no changes" if applied else "changes planned"
    assert proc.stdout.strip().splitlines()[-1] == expected, proc.stdout[-2000:]


def check_apply(r: Rehearsal, proc: Any) -> None:
    s3 = r.account.client("s3")
    head = s3.head_object(Bucket=STATE_BUCKET, Key="ecomm/dev/terraform.tfstate")
    # The state is encrypted with the bootstrap's key, not SSE-S3.
    assert head["ServerSideEncryption"] == "aws:kms"
    assert ":key/" in head["SSEKMSKeyId"]
    with pytest.raises(ClientError):  # the lock file is gone once the apply ended
        s3.head_object(Bucket=STATE_BUCKET, Key="ecomm/dev/terraform.tfstate.tflock")
    # The storefront's block lookup (issue 14) is deployed, so the destroy check covers it.
    assert mitigation_resources(r.account) == MITIGATION_DEPLOYED


# The block lookup's function, its IAM-authenticated URL, its role, its table and the policies
# of the storefront and of the allowlist admins.
MITIGATION_DEPLOYED = {
    "function": f"{PREFIX}-blocks",
    "url_auth": "AWS_IAM",
    "role": f"{PREFIX}-blocks-lambda",
    "table": f"{PREFIX}-mitigation",
    "policies": sorted([f"{PREFIX}-blocks-storefront", f"{PREFIX}-allowlist-admin"]),
}


def mitigation_resources(account: Account) -> dict[str, Any]:
    """Which of MITIGATION_DEPLOYED's resources the account holds now."""
    c = account.client
    found: dict[str, Any] = {}
    functions = {f["FunctionName"] for f in c("lambda").list_functions()["Functions"]}
    if MITIGATION_DEPLOYED["function"] in functions:
        found["function"] = MITIGATION_DEPLOYED["function"]
        try:
            config = c("lambda").get_function_url_config(FunctionName=found["function"])
            found["url_auth"] = config["AuthType"]
        except ClientError:
            pass
    roles = {role["RoleName"] for role in c("iam").list_roles()["Roles"]}
    if MITIGATION_DEPLOYED["role"] in roles:
        found["role"] = MITIGATION_DEPLOYED["role"]
    if MITIGATION_DEPLOYED["table"] in c("dynamodb").list_tables()["TableNames"]:
        found["table"] = MITIGATION_DEPLOYED["table"]
    policies = {p["PolicyName"] for p in c("iam").list_policies(Scope="Local")["Policies"]}
    held = sorted(set(MITIGATION_DEPLOYED["policies"]) & policies)
    if held:
        found["policies"] = held
    return found


def write_as_the_managed_service(r: Rehearsal, zone: str, key: str) -> None:
    """An object where a managed service writes on AWS and the emulator does not (Firehose
    from a Kinesis source, the Glue job on Spark, Athena's results), in a versioned bucket: so
    the destroy must empty it, as on AWS (force_destroy)."""
    bucket = f"{PREFIX}-{zone}-{ACCOUNT}"
    r.account.client("s3").put_object(Bucket=bucket, Key=key, Body=b"written on AWS by a service")


def check_replay(r: Rehearsal, proc: Any) -> None:
    kinesis = r.account.client("kinesis")
    stream = f"{PREFIX}-events"
    events = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            # Plain records (the AWS default): one JSON event per record, no KPL aggregate.
            events += [json.loads(record["Data"]) for record in page["Records"]]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    assert len(events) == ROWS
    assert all(e["event_time"].endswith("Z") for e in events)
    write_as_the_managed_service(r, "raw", "raw/events/ingest_date=2026-11-30/hour=06/part-1.gz")


def check_etl(r: Rehearsal, proc: Any) -> None:
    runs = r.account.client("glue").get_job_runs(JobName=f"{PREFIX}-curate-events")["JobRuns"]
    assert [run["JobRunState"] for run in runs] == ["SUCCEEDED"]
    assert "SUCCEEDED" in proc.stdout
    write_as_the_managed_service(r, "curated", "events/event_date=2019-10-01/part-0.parquet")


def before_kpi(r: Rehearsal) -> None:
    # Athena on the emulator runs no SQL: queue the result set it will return, as text.
    columns = [("event_date", "varchar"), ("unique_visitors", "bigint"), ("sessions", "bigint")]
    rows = [["2019-10-01", "4504", "5066"], ["all", "4504", "5066"]]
    queue_result(r.account.endpoint, REGION, columns, rows, account_id=ACCOUNT)


def check_kpi(r: Rehearsal, proc: Any) -> None:
    assert "4,504" in proc.stdout and "5,066" in proc.stdout, proc.stdout
    assert "scanned" in proc.stderr and "$" in proc.stderr, proc.stderr
    athena = r.account.client("athena")
    ids = athena.list_query_executions(WorkGroup=f"{PREFIX}-analytics")["QueryExecutionIds"]
    assert len(ids) == 1
    sent = athena.get_query_execution(QueryExecutionId=ids[0])["QueryExecution"]
    assert sent["Query"] == (PROJECT_ROOT / "sql" / "kpi" / "unique-visitors.sql").read_text()
    assert sent["QueryExecutionContext"] == {"Database": "ecomm_dev"}
    write_as_the_managed_service(r, "athena-results", f"results/{ids[0]}.csv")


def check_alerts(r: Rehearsal, proc: Any) -> None:
    assert "quiet" in proc.stdout, proc.stdout
    # The blocks in force, read from dev's mitigation table named by its Terraform outputs, as
    # the operator (whose policy the check before destroy then holds to these calls too).
    active = r.run("ecomm alerts list --active --env dev --format json", key=OPERATOR_KEY)
    assert active.returncode == 0, active.stdout + active.stderr
    assert json.loads(active.stdout) == []


def check_operator_permissions(r: Rehearsal) -> None:
    """Before tearing down: every call the operator's commands made (recorded by the emulator,
    Athena's work on their behalf declared) is allowed by the platform's operator policy plus
    the bootstrap's state reader policy, and each action they grant is needed by some call."""
    state_dir = Path(r.env["ECOMM_STATE_DIR"])
    outputs = json.loads((state_dir / "outputs" / "dev.json").read_text())["outputs"]
    bootstrap = json.loads((r.copy / "terraform" / "bootstrap" / "terraform.tfstate").read_text())
    bootstrap_outputs = {k: v["value"] for k, v in bootstrap["outputs"].items()}
    stack = dataclasses.replace(
        iam.read_stack(r.account.client, outputs),
        state={
            "bucket": bootstrap_outputs["state_bucket"],
            "kms_key_arn": bootstrap_outputs["state_kms_key_arn"],
        },
    )
    policies = {
        "operator": iam.managed_policy(r.account.client("iam"), outputs["operator_policy_arn"]),
        "state-reader": json.loads(bootstrap_outputs["state_reader_policy_json"]["dev"]),
    }
    recorded = iam.recorded_calls(call_log.read(r.account.call_log), stack).get("operator", [])
    actions = {call.action for call in recorded}
    assert {
        "kinesis:PutRecords",
        "glue:StartJobRun",
        "athena:StartQueryExecution",
        "dynamodb:Scan",
        "s3:GetObject",
    } <= actions, actions
    calls = recorded + iam.operator_aws_only_calls(stack)
    refused = iam.denied(calls, policies, stack)
    assert refused == [], "\n".join(f"{f.call.why}: {f.decision.reason}" for f in refused)
    toothless = iam.bites(policies, calls, stack)
    assert toothless == [], ", ".join(f"{g.policy}/{g.sid}: {g.action}" for g in toothless)


def check_destroy(r: Rehearsal, proc: Any) -> None:
    leftovers = platform_resources_left(r.account)
    assert leftovers == {}, leftovers
    assert mitigation_resources(r.account) == {}
    # The bootstrap's bucket and key stay: they hold every environment's state.
    r.account.client("s3").head_bucket(Bucket=STATE_BUCKET)


def platform_resources_left(account: Account) -> dict[str, list[str]]:
    """Every resource of the account, per service, that the bootstrap did not make."""
    c = account.client
    found: dict[str, list[str]] = {
        "s3": [b["Name"] for b in c("s3").list_buckets()["Buckets"] if b["Name"] != STATE_BUCKET],
        "kinesis": c("kinesis").list_streams()["StreamNames"],
        "firehose": c("firehose").list_delivery_streams()["DeliveryStreamNames"],
        "kinesisanalyticsv2": [
            a["ApplicationName"]
            for a in c("kinesisanalyticsv2").list_applications()["ApplicationSummaries"]
        ],
        "lambda": [f["FunctionName"] for f in c("lambda").list_functions()["Functions"]]
        + [m["UUID"] for m in c("lambda").list_event_source_mappings()["EventSourceMappings"]],
        "dynamodb": c("dynamodb").list_tables()["TableNames"],
        "sns": [t["TopicArn"] for t in c("sns").list_topics()["Topics"]],
        "sqs": c("sqs").list_queues().get("QueueUrls", []),
        "glue": [d["Name"] for d in c("glue").get_databases()["DatabaseList"]]
        + [j["Name"] for j in c("glue").get_jobs()["Jobs"]]
        + [t["Name"] for t in c("glue").get_triggers()["Triggers"]]
        + [s["Name"] for s in c("glue").get_security_configurations()["SecurityConfigurations"]]
        + [r["Name"] for r in c("glue").list_data_quality_rulesets()["Rulesets"]],
        "athena": [
            w["Name"]
            for w in c("athena").list_work_groups()["WorkGroups"]
            if w["Name"] != "primary"
        ],
        "iam": [r["RoleName"] for r in c("iam").list_roles()["Roles"]]
        + [p["PolicyName"] for p in c("iam").list_policies(Scope="Local")["Policies"]],
        "logs": [g["logGroupName"] for g in c("logs").describe_log_groups()["logGroups"]],
        "cloudwatch": [a["AlarmName"] for a in c("cloudwatch").describe_alarms()["MetricAlarms"]]
        + [d["DashboardName"] for d in c("cloudwatch").list_dashboards()["DashboardEntries"]],
        "events": [rule["Name"] for rule in c("events").list_rules()["Rules"]],
        # Keys pending deletion count as gone (AWS keeps them for the deletion window).
        "kms": [
            key["KeyId"]
            for key in c("kms").list_keys()["Keys"]
            if _platform_key_still_usable(c("kms"), key["KeyId"])
        ],
    }
    return {service: names for service, names in found.items() if names}


def _platform_key_still_usable(kms: Any, key_id: str) -> bool:
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    ours = meta["Description"].startswith(f"{PREFIX} ")
    return bool(ours and meta["KeyState"] != "PendingDeletion")


@dataclass(frozen=True)
class Step:
    prefix: str
    key: str
    check: Callable[[Rehearsal, Any], None]
    before: Callable[[Rehearsal], None] | None = None
    exit_codes: tuple[int, ...] = (0,)


STEPS = [
    Step("ecomm doctor", OPERATOR_KEY, lambda r, p: None),
    Step("ecomm bootstrap", DEPLOYER_KEY, check_bootstrap),
    Step("ecomm plan --env dev", DEPLOYER_KEY, check_plan),
    Step("ecomm apply --env dev", DEPLOYER_KEY, check_apply),
    Step("ecomm replay ", OPERATOR_KEY, check_replay),
    Step("ecomm etl run --glue --env dev", OPERATOR_KEY, check_etl),
    Step("ecomm kpi unique-visitors", OPERATOR_KEY, check_kpi, before=before_kpi),
    Step("ecomm alerts check --env dev", OPERATOR_KEY, check_alerts),
    Step("ecomm destroy --env dev", DEPLOYER_KEY, check_destroy, before=check_operator_permissions),
]


def step_for(command: str) -> Step:
    for step in STEPS:
        if command.startswith(step.prefix):
            return step
    pytest.fail(f"the README's deployment step {command!r} has no expectation in this test")


def test_the_deployment_block_is_what_this_test_expects() -> None:
    steps = [s for s in deployment_steps() if not s.startswith("export ")]
    assert [step_for(s).prefix for s in steps] == [
        "ecomm doctor",
        "ecomm bootstrap",
        "ecomm plan --env dev",
        "ecomm apply --env dev",
        "ecomm plan --env dev",
        "ecomm replay ",
        "ecomm etl run --glue --env dev",
        "ecomm kpi unique-visitors",
        "ecomm alerts check --env dev",
        "ecomm destroy --env dev",
    ]


def test_the_readme_deployment_runs_as_written(rehearsal: Rehearsal) -> None:
    point_tfvars_at_layer(rehearsal.copy, publish_stand_in_layer(rehearsal.account))
    write_replay_file(rehearsal)
    for command in deployment_steps():
        if command.startswith("export "):
            name, _, value = command.removeprefix("export ").partition("=")
            value = value.replace("$PWD", str(rehearsal.copy))
            rehearsal.env[name] = shlex.split(value)[0]
            if name == "ECOMM_FLINK_CONNECTOR_JAR":
                # The Maven download, offline: a stand-in jar at the path the README names.
                Path(rehearsal.env[name]).write_bytes(b"PK\x05\x06" + b"\x00" * 18)
            continue
        step = step_for(command)
        if step.before is not None:
            step.before(rehearsal)
        proc = rehearsal.run(command, key=step.key)
        assert proc.returncode in step.exit_codes, (
            f"{command} exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
        step.check(rehearsal, proc)
        rehearsal.ran.append(command)
    assert len(rehearsal.ran) == len([s for s in deployment_steps() if not s.startswith("export")])

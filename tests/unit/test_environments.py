"""One environment per command, and where its names come from: the local stack's record for
local, the Terraform state in S3 for dev and prod. Every way that can fail is one line, exit 2.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecomm_cli.app import app
from ecomm_cli.commands.infra import backend_files
from ecomm_cli.errors import EcommError
from ecomm_cli.infra import remote_state, terraform
from ecomm_cli.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.unit
runner = CliRunner()

# Every command that touches AWS, with arguments that get it as far as choosing names.
AWS_COMMANDS = [
    ["kpi", "unique-visitors", "--engine", "athena"],
    ["kpi", "all", "--engine", "athena"],
    ["report", "--engine", "athena"],
    ["etl", "run", "--glue"],
    ["replay", "events.csv"],
    ["alerts", "check"],
    ["alerts", "list"],
    ["plan"],
    ["apply"],
    ["destroy"],
]


def one_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


@pytest.mark.parametrize("command", AWS_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_aws_command_takes_the_environment_flag(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--env", "staging"])
    assert result.exit_code == 2, result.output
    assert "unknown environment 'staging'" in one_line(result.output)


@pytest.mark.parametrize("command", AWS_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_aws_command_reads_ecomm_env(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOMM_ENV", "staging")
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert "unknown environment 'staging'" in one_line(result.output)


@pytest.mark.parametrize(
    "command",
    [c for c in AWS_COMMANDS if c[0] not in ("plan", "apply", "destroy")],
    ids=lambda c: " ".join(c[:2]),
)
def test_dev_before_bootstrap_names_the_fix_and_no_local_name(
    command: list[str], isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A local stack is up (its record names local resources); dev has never been set up.
    record = {"endpoint_url": "http://127.0.0.1:9", "pid": 1, "applied_at": "now"}
    outputs = {
        "athena_workgroup": "ecomm-local-analytics",
        "glue_database": "ecomm_local",
        "glue_job_name": "ecomm-local-curate-events",
        "events_stream_name": "ecomm-local-events",
        "offenders_table": "ecomm-local-offenders",
        "name_prefix": "ecomm-local",
    }
    (isolated_environment / "local").mkdir(parents=True)
    (isolated_environment / "local" / "stack.json").write_text(
        json.dumps({**record, "outputs": outputs})
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    result = runner.invoke(app, [*command, "--env", "dev"])
    assert result.exit_code == 2, result.output
    line = one_line(result.output)
    assert "state bucket of dev is not configured" in line and "ecomm bootstrap" in line
    assert "ecomm-local" not in result.output and "ecomm_local" not in result.output


def test_prod_destroy_needs_confirm_prod_even_with_auto_approve() -> None:
    result = runner.invoke(app, ["destroy", "--env", "prod", "--auto-approve"])
    assert result.exit_code == 2
    assert "--confirm-prod" in one_line(result.output)


def test_local_outputs_without_a_stack_name_the_command() -> None:
    from ecomm_cli import environments

    with pytest.raises(EcommError, match="local stack is not running") as raised:
        environments.outputs(Settings.load(env="local"))
    assert "ecomm local up" in str(raised.value.hint)


def test_a_missing_output_names_it_and_the_apply(isolated_environment: Path) -> None:
    from ecomm_cli import environments

    (isolated_environment / "local").mkdir(parents=True)
    (isolated_environment / "local" / "stack.json").write_text(
        json.dumps({"endpoint_url": "http://127.0.0.1:9", "outputs": {"region": "eu-west-1"}})
    )
    with pytest.raises(EcommError, match="has no output glue_job_name"):
        environments.outputs(Settings.load(env="local"), require=["glue_job_name"])


# --- backend.hcl -----------------------------------------------------------------------------


def test_backend_hcl_is_read_with_its_types(tmp_path: Path) -> None:
    text = (
        "# comment\n"
        'bucket       = "ecomm-tfstate-123456789012"\n'
        'key          = "ecomm/dev/terraform.tfstate"  # trailing\n'
        "encrypt      = true\n"
        "retries      = 3\n"
    )
    values = remote_state.parse_backend_hcl(text, tmp_path / "backend.hcl")
    assert values == {
        "bucket": "ecomm-tfstate-123456789012",
        "key": "ecomm/dev/terraform.tfstate",
        "encrypt": True,
        "retries": 3,
    }


def test_a_backend_line_it_cannot_read_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(EcommError, match=r"backend.hcl:2 is not a `name = value` line"):
        remote_state.parse_backend_hcl('bucket = "b"\nbucket b\n', tmp_path / "backend.hcl")


def test_the_committed_backend_files_are_placeholders_that_bootstrap_replaces() -> None:
    for env in ("dev", "prod"):
        settings = Settings.load(env=env)
        with pytest.raises(EcommError, match=f"state bucket of {env} is not configured"):
            remote_state.backend(settings)


def test_bootstrap_writes_a_complete_backend_per_environment() -> None:
    # The shape `terraform output -json` gives the bootstrap's backend_hcl map.
    outputs = {
        "backend_hcl": {
            env: f'bucket = "b"\nkey = "ecomm/{env}/terraform.tfstate"\nregion = "eu-west-1"\n'
            'encrypt = true\nkms_key_id = "arn:aws:kms:eu-west-1:123456789012:key/k"\n'
            "use_lockfile = true\n"
            for env in ("dev", "prod")
        }
    }
    files = backend_files(outputs)
    assert set(files) == {"dev", "prod"}
    for env, text in files.items():
        values = remote_state.parse_backend_hcl(text, Path(f"{env}/backend.hcl"))
        assert values["key"] == f"ecomm/{env}/terraform.tfstate"
        assert values["kms_key_id"].startswith("arn:aws:kms:")
        assert "<env>" not in text
    with pytest.raises(EcommError, match="no backend_hcl output"):
        backend_files({"backend_hcl": "old single text with <env>"})


# --- Terraform version -----------------------------------------------------------------------


def test_every_root_and_module_requires_the_same_terraform_as_the_readme() -> None:
    required = {
        path.relative_to(PROJECT_ROOT): re.search(
            r'required_version\s*=\s*"([^"]+)"', path.read_text()
        )
        for path in (PROJECT_ROOT / "terraform").rglob("versions.tf")
        if ".terraform" not in path.parts
    }
    assert len(required) >= 11  # 3 environments, the bootstrap, 7 modules
    assert {str(p): m.group(1) if m else None for p, m in required.items()} == {
        str(p): f">= {terraform.MINIMUM_VERSION}" for p in required
    }
    # use_lockfile is GA in 1.11; the module tests' override_during needs 1.11 too.
    assert terraform.MINIMUM_VERSION == "1.11"
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert f"Terraform >= {terraform.MINIMUM_VERSION}" in readme
    assert not re.search(r"Terraform >= 1\.(?!11\b)\d+", readme)


@pytest.mark.parametrize(
    ("version", "minimum", "ok"),
    [("1.11.4", "1.11", True), ("1.12.0-beta1", "1.11", True), ("1.10.5", "1.11", False)],
)
def test_version_comparison(version: str, minimum: str, ok: bool) -> None:
    assert terraform.at_least(version, minimum) is ok


def test_doctor_fails_an_old_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "terraform"
    fake.write_text('#!/bin/sh\necho \'{"terraform_version": "1.9.8"}\'\n')
    fake.chmod(0o755)
    monkeypatch.setenv("ECOMM_TERRAFORM", str(fake))
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "1.9.8" in result.output and ">= 1.11" in result.output


def test_known_terraform_failures_are_named() -> None:
    lock = terraform._classify("Error: Error acquiring the state lock\n\nLock Info:\n  ID: abc")
    assert lock is not None and "locked" in lock[0] and "force-unlock" in lock[1]
    old = terraform._classify("Error: Unsupported Terraform Core version")
    assert old is not None and ">= 1.11" in old[0]

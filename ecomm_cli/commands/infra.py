"""`ecomm bootstrap` (once per account) and `ecomm plan | apply | destroy --env ENV`:
Terraform with backend, variables and zips ready."""

from __future__ import annotations

from typing import Annotated

import typer

from ecomm_cli import aws_clients
from ecomm_cli.console import console
from ecomm_cli.environments import settings_for
from ecomm_cli.errors import EXIT_FINDINGS, EcommError
from ecomm_cli.infra import artifacts, remote_state, terraform
from ecomm_cli.options import EnvOption
from ecomm_cli.settings import BOOTSTRAP, ENVIRONMENTS, Settings

AutoApprove = Annotated[
    bool, typer.Option("--auto-approve", "-y", help="Do not ask before changing anything.")
]
ConfirmProd = Annotated[
    bool,
    typer.Option("--confirm-prod", help="Required to destroy prod, even with --auto-approve."),
]


def _require_credentials(settings: Settings) -> None:
    if aws_clients.session(settings).get_credentials() is None:
        where = "ecomm bootstrap" if settings.env == BOOTSTRAP else f"--env {settings.env}"
        raise EcommError(
            f"no AWS credentials found for {where}",
            hint="configure a profile (aws configure / AWS_PROFILE) or try --env local",
        )


def _prepare(env: str) -> Settings:
    """Checks that fail fast with one line, then the zips and `terraform init`."""
    settings = settings_for(env)
    terraform.terraform_binary()
    if env != "local":
        _require_credentials(settings)
        remote_state.backend(settings)  # one line when `ecomm bootstrap` has not run
    elif not settings.resolved_endpoint():
        raise EcommError("the local stack is not running", hint="run `ecomm local up` first")
    built = artifacts.build_all(settings)
    if env != "local" and not built.flink_has_connector:
        console.print(
            "[yellow]warning:[/] the Flink zip has no Kinesis SQL connector jar "
            "(set ECOMM_FLINK_CONNECTOR_JAR); `ecomm apply` will refuse to deploy it"
        )
    terraform.init(settings)
    return settings


def _require_connector(settings: Settings) -> None:
    if settings.env != "local" and settings.flink_connector_jar is None:
        raise EcommError(
            "the Managed Flink application needs the Kinesis SQL connector jar",
            hint="download the jar named in flink/connector.properties and set "
            "ECOMM_FLINK_CONNECTOR_JAR to its path",
        )


def plan(env: EnvOption = "local") -> None:
    """Show what Terraform would change in the environment."""
    settings = _prepare(env)
    result = terraform.run(
        settings,
        ["plan", "-input=false", "-detailed-exitcode", *terraform.var_args(settings)],
        ok_codes=(0, 2),
    )
    console.print(
        "[green]no changes[/]" if result.returncode == 0 else "[yellow]changes planned[/]"
    )


def _plan_then_apply(
    settings: Settings, *, destroy: bool, auto_approve: bool, extra_vars: list[str] | None = None
) -> bool:
    """Plan to a file, ask (unless --auto-approve), then apply exactly that plan.

    False when there was nothing to change."""
    plan_file = settings.state_dir / "terraform" / f"{settings.env}.tfplan"
    plan_file.parent.mkdir(parents=True, exist_ok=True)
    args = [
        "plan",
        "-input=false",
        "-detailed-exitcode",
        f"-out={plan_file}",
        *terraform.var_args(settings),
        *(extra_vars or []),
    ]
    if destroy:
        args.insert(1, "-destroy")
    result = terraform.run(settings, args, ok_codes=(0, 2))
    if result.returncode == 0:
        console.print("[green]no changes[/]")
        return False
    verb = "destroy these resources" if destroy else "apply these changes"
    if not auto_approve and not typer.confirm(f"{verb.capitalize()} in {settings.env}?"):
        raise EcommError("cancelled, nothing changed", code=EXIT_FINDINGS)
    try:
        terraform.run(settings, ["apply", "-input=false", str(plan_file)])
    finally:
        # Outputs changed (or half changed, if it failed): read them again next time.
        remote_state.forget(settings)
    return True


def apply(env: EnvOption = "local", auto_approve: AutoApprove = False) -> None:
    """Create or update every resource of the environment (plans first, then asks)."""
    _require_connector(settings_for(env))
    _plan_then_apply(_prepare(env), destroy=False, auto_approve=auto_approve)


def destroy(
    env: EnvOption = "local", auto_approve: AutoApprove = False, confirm_prod: ConfirmProd = False
) -> None:
    """Delete every resource of the environment (plans first, then asks)."""
    if env == "prod" and not confirm_prod:
        raise EcommError(
            "destroying prod needs --confirm-prod (even with --auto-approve)",
            hint="README, 'Tearing down prod': empty its buckets first (force_destroy is off)",
        )
    _plan_then_apply(_prepare(env), destroy=True, auto_approve=auto_approve)


RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region", envvar="ECOMM_REGION", help="Region of the state bucket [default: eu-west-1]."
    ),
]
BucketOption = Annotated[
    str | None,
    typer.Option(
        "--state-bucket", help="Name of the state bucket [default: ecomm-tfstate-<account id>]."
    ),
]


def bootstrap(
    region: RegionOption = None,
    state_bucket: BucketOption = None,
    auto_approve: AutoApprove = False,
) -> None:
    """Once per AWS account: the state bucket of dev and prod, and their backend.hcl files.

    Applies terraform/bootstrap (its state stays in terraform/bootstrap/terraform.tfstate: keep
    it), then writes terraform/environments/<env>/backend.hcl from its `backend_hcl` output.
    """
    settings = Settings.load(env=BOOTSTRAP, region=region)
    terraform.terraform_binary()
    _require_credentials(settings)
    terraform.init(settings, stream=False)
    extra = [f"-var=state_bucket_name={state_bucket}"] if state_bucket else []
    _plan_then_apply(settings, destroy=False, auto_approve=auto_approve, extra_vars=extra)
    files = backend_files(terraform.outputs(settings))
    for env, text in files.items():
        path = settings.with_(env=env).environment_dir / "backend.hcl"
        path.write_text(text)
        console.print(f"wrote {path.relative_to(settings.terraform_dir.parent)}", highlight=False)


def backend_files(bootstrap_outputs: dict[str, object]) -> dict[str, str]:
    """The backend.hcl text of each AWS environment, from the bootstrap's outputs."""
    texts = bootstrap_outputs.get("backend_hcl")
    if not isinstance(texts, dict) or set(texts) != set(ENVIRONMENTS) - {"local"}:
        raise EcommError(
            "terraform/bootstrap has no backend_hcl output for dev and prod",
            hint="run `ecomm bootstrap` again",
        )
    header = (
        "# Written by `ecomm bootstrap` from terraform/bootstrap's backend_hcl output.\n"
        "# Partial S3 backend settings: `terraform init -backend-config=backend.hcl`.\n"
    )
    return {env: header + str(text) for env, text in sorted(texts.items())}


def register(app: typer.Typer) -> None:
    app.command()(bootstrap)
    app.command()(plan)
    app.command()(apply)
    app.command()(destroy)
